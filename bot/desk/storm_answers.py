"""Answering a storm with one template: the plan (who gets it, who is skipped and why), then a
reply per case, each through the outbox like any other, paced so the network sees no burst.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.desk.access import Refused
from bot.desk.replying import Replying, has_slots
from bot.models import (
    Agent,
    Case,
    CaseState,
    Reply,
    StormAnswer,
    StormPlan,
)
from bot.storage.outbox_rows import ReplyInFlightError

log = logging.getLogger(__name__)


class StormAnswering(Replying):
    def plan_storm_answer(
        self, storm_id: int, user_id: str, *, template_id: str | None = None
    ) -> StormPlan:
        """What answering a storm with one template would post: shown before anything goes out."""
        agent = self.agent(user_id, action="reply to customers")
        members = self._store.storm_members(storm_id)
        if not members:
            raise Refused(f"Storm #{storm_id} has no cases to answer.")
        todo = [case for case, _ in members if not self._storm_skip(case, user_id)]
        library = self._directory.library
        options = tuple((i, label) for i, label in library.choices() if not has_slots(library, i))
        allowed = {i for i, _ in options}
        suggested = [s["template"] for c, _ in members for s in self._store.case_suggestions(c.id)]
        suggested = [i for i in suggested if i in allowed]
        chosen = template_id or next(iter(suggested), None) or (options[0][0] if options else "")
        sample = ""
        if todo and chosen in allowed:
            mention = self._store.latest_from_customer(todo[0].id)
            signature = self._directory.signature(agent, mention.brand)
            sample = self._medium(mention).public(self._body(chosen, mention, agent), signature)
        return StormPlan(
            storm_id=storm_id,
            total=len(members),
            to_answer=len(todo),
            template=chosen,
            templates=options,
            sample=sample,
            pacing_seconds=self._pacing.total_seconds(),
        )

    def answer_storm(self, storm_id: int, user_id: str, *, template_id: str) -> StormAnswer:
        """One template for every open case of a storm: each customer gets their own signed
        reply, written to the outbox now and sent one at a time, paced within X's limits."""
        agent = self.agent(user_id, action="reply to customers")
        template = self._directory.library.get(template_id)
        if template is None:
            raise Refused(f"There is no template “{template_id}”.")
        if template.slots:
            raise Refused(
                f"“{template.label}” has fields to fill in for each customer "
                f"({', '.join(template.slots)}); pick a template without them for a storm."
            )
        queued: list[Reply] = []
        skipped: list[tuple[int, str]] = []
        start = self._now()
        for case, _ in self._store.storm_members(storm_id):
            send_after = start + self._pacing * len(queued)
            reason = self._storm_skip(case, user_id)
            reply = (
                None
                if reason
                else self._queue_storm_reply(case, agent, template.id, send_after, storm_id)
            )
            if reply is None:
                skipped.append((case.id, reason or "a reply is already on its way"))
            else:
                queued.append(reply)
        self._audit(
            user_id,
            "storm.answered",
            None,
            storm=storm_id,
            template=template_id,
            queued=len(queued),
            skipped=len(skipped),
        )
        return StormAnswer(tuple(queued), tuple(skipped))

    def _storm_skip(self, case: Case, user_id: str) -> str:
        if case.state is not CaseState.OPEN:
            return f"already {case.state.value}"
        if case.claimed_by and case.claimed_by != user_id:
            return f"{self._directory.name(case.claimed_by)} is on it"
        if self._approval_reason(case, user_id):
            return "needs a lead's approval"
        if self._store.pending_approval(case.id) is not None:
            return "a reply to it is waiting for a lead's approval"
        if self._medium(self._store.latest_from_customer(case.id)).blocked:
            return "X takes no reply by API to it: use Reply on X on its card"
        return ""

    def _queue_storm_reply(
        self, case: Case, agent: Agent, template_id: str, send_after: datetime, storm_id: int
    ) -> Reply | None:
        mention = self._store.latest_from_customer(case.id)
        body = self._body(template_id, mention, agent)
        if not self._store.claim(case.id, agent.slack_id, now=self._now()):
            return None  # someone else claimed it a moment ago
        try:
            reply, created = self._store.add_reply(
                key=f"storm:{storm_id}:{mention.id}:{template_id}",
                case=case,
                mention=mention,
                agent_id=agent.slack_id,
                text=self._medium(mention).public(
                    body, self._directory.signature(agent, mention.brand)
                ),
                template=template_id,
                now=self._now(),
                send_after=send_after,
            )
        except ReplyInFlightError:
            return None
        if not created:  # this very post was answered already
            return None
        self._board.refresh_card(case.id)
        return reply
