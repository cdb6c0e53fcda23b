"""What agents do with cases: claim, dismiss, reopen, draft, preview, confirm and send a reply.

Every action checks who is asking. Only configured agents act; a case claimed by one agent is
locked for the others. A reply goes public only through ``confirm`` (after a preview) and the
outbox. Refusals raise ``Refused`` with a message meant for the person, and are audited.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.decide import voice
from bot.decide.playbooks import placeholder_values, render
from bot.desk.access import Access, Refused
from bot.desk.approvals import Approvals
from bot.desk.outbox import Outbox
from bot.live.directory import Directory
from bot.live.library import Library
from bot.live.rulebook import RuleBook
from bot.models import (
    Agent,
    Approval,
    Case,
    CaseState,
    Mention,
    OutboxState,
    Reply,
    StormAnswer,
    StormPlan,
)
from bot.slack.board import SlackBoard
from bot.storage.mentions import Found
from bot.storage.outbox_rows import ReplyInFlightError
from bot.storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Draft:
    case: Case
    mention: Mention
    agent: Agent
    body: str
    template: str | None
    slots: tuple[str, ...] = ()  # fields the agent fills in ({order_id?} -> "order_id")
    approval: str = ""  # why a lead must approve the reply first, or ""
    medium: voice.Medium = voice.X  # the network's rules for this reply


@dataclass(frozen=True, slots=True)
class Preview:
    public_text: str
    length: int  # of the longest part
    problems: tuple[str, ...]  # each stops the reply
    answering: Mention | None = None  # the customer post the reply will answer
    medium: voice.Medium = voice.X  # where and how it goes out: network, limit, audience
    parts: tuple[str, ...] = ()  # one post, or a numbered thread
    warnings: tuple[str, ...] = ()  # shown; the agent decides
    approval: str = ""  # why a lead must approve it first, or ""

    @property
    def by_hand(self) -> bool:
        """Ready to go, but the network takes it only from the brand's own session (X's reply
        restriction): the agent posts it there, then marks the case answered."""
        blocked = self.medium.blocked
        return bool(blocked) and self.answering is not None and self.problems == (blocked,)


class Desk:
    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        outbox: Outbox,
        board: SlackBoard,
        clock: Clock,
        access: Access,
        rulebook: RuleBook,
        sender: Executor,
        approvals: Approvals,
        pacing: timedelta = timedelta(seconds=10),
    ) -> None:
        self._approvals = approvals
        self._store = store
        self._directory = directory
        self._outbox = outbox
        self._board = board
        self._clock = clock
        self._access = access
        self._rulebook = rulebook
        self._sender = sender
        self._pacing = pacing

    # ---- who ---------------------------------------------------------------------------------

    def agent(self, user_id: str, *, action: str) -> Agent:
        agent = self._access.agent(user_id)
        if agent is None:
            self._audit(user_id, "refused", None, attempted=action, reason="not an agent")
            raise Refused(
                f"Only agents configured for {self._directory.brand.name} can {action}. "
                f"Ask a lead to add your Slack ID {user_id} under [[agents]] in the Earshot config."
            )
        return agent

    def _agent_or_lead(self, user_id: str, *, action: str) -> None:
        """Leads may act on cases without being agents; anyone else must be one."""
        if not self._access.is_lead(user_id):
            self.agent(user_id, action=action)

    # ---- case actions ------------------------------------------------------------------------

    def claim(self, case_id: int, user_id: str) -> Case:
        agent = self.agent(user_id, action="claim cases")
        self._claim(self._open_case(case_id), agent)
        self._audit(user_id, "case.claimed", case_id)
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    def dismiss(self, case_id: int, user_id: str) -> Case:
        """Not for us (spam, nothing to answer): closed without a reply."""
        self.agent(user_id, action="dismiss cases")
        return self._close(case_id, user_id, state=CaseState.DISMISSED)

    def resolve(self, case_id: int, user_id: str) -> Case:
        """Handled without a public reply (by DM, phone, or nothing left to say): closed, the
        SLA clock stops, nothing is posted."""
        self._agent_or_lead(user_id, action="resolve cases")
        self._ensure_no_approval_pending(self._open_case(case_id))
        return self._close(case_id, user_id, state=CaseState.RESOLVED)

    def mark_answered(self, case_id: int, user_id: str) -> Case:
        """The agent answered on the network by hand (X takes no reply by API to this post, or
        refused the rest of a thread): the case records who answered, for its SLA and the
        stats, as if Earshot had posted it; replies still waiting are not sent. Audited."""
        agent = self.agent(user_id, action="mark cases answered")
        case = self._open_case(case_id)
        self._ensure_not_locked(case, user_id)
        self._ensure_no_approval_pending(case)
        latest = self._store.latest_reply(case_id)
        if latest is not None and latest.state is OutboxState.SENDING:
            raise Refused(f"A reply to case #{case_id} is on its way right now; look again soon.")
        refused_part = latest is not None and latest.state is OutboxState.FAILED and latest.part > 1
        if not (refused_part or self._medium(self._store.latest_from_customer(case_id)).blocked):
            raise Refused(
                f"Earshot can post the reply to case #{case_id} itself: use Write reply (or "
                "Resolve, if it needs no public answer)."
            )
        now = self._now()
        reason = f"{agent.name} answered on the network by hand"
        self._store.cancel_pending(case_id, reason=reason, now=now)  # first: none starts now
        self._store.record_reply(case_id, agent_id=agent.slack_id, url="", now=now)
        self._audit(user_id, "reply.marked", case_id, how="answered on the network by hand")
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    def _close(self, case_id: int, user_id: str, *, state: CaseState) -> Case:
        """Close an open case (a lead may close one another agent holds); waiting replies
        are not sent."""
        case = self._open_case(case_id)
        self._ensure_not_locked(case, user_id)
        lead = self._access.is_lead(user_id)
        if not self._store.close_case(
            case_id, state=state, by=user_id, now=self._now(), take_over=lead
        ):
            raise Refused(f"Case #{case_id} changed meanwhile; look at its card again.")
        reason = f"the case was {state.value} by {self._directory.name(user_id)}"
        self._store.cancel_pending(case_id, reason=reason, now=self._now())
        self._audit(user_id, f"case.{state.value}", case_id)
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    def take_over(self, case_id: int, user_id: str) -> Case:
        """A lead takes a claimed case over (the agent who had it is told in its thread)."""
        if not self._access.is_lead(user_id):
            self._audit(user_id, "refused", case_id, attempted="take over", reason="not a lead")
            raise Refused("Only leads can take a case over. Ask the agent to release it.")
        case = self._open_case(case_id)
        before = case.claimed_by
        if before == user_id:
            raise Refused(f"Case #{case_id} is already yours.")
        if not self._store.claim(case_id, user_id, now=self._now(), take_over=True):
            raise Refused(f"Case #{case_id} changed meanwhile; look at its card again.")
        self._audit(user_id, "case.taken_over", case_id, **{"from": before})
        if before:
            who = self._directory.name(user_id)
            self._board.case_note(case_id, text=f"🔁 {who} took this case over from <@{before}>.")
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    def snooze(self, case_id: int, user_id: str, *, until: datetime) -> Case:
        """Put a case aside until ``until`` (waiting on the customer, say): it leaves the queue
        and gets no reminders meanwhile; its SLA target does not move."""
        self._agent_or_lead(user_id, action="snooze cases")
        case = self._open_case(case_id)
        self._ensure_not_locked(case, user_id)
        if not self._store.snooze(case_id, until=until, now=self._now()):
            raise Refused(f"Case #{case_id} changed meanwhile; look at its card again.")
        self._audit(user_id, "case.snoozed", case_id, until=until.isoformat())
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    def wake_snoozed(self) -> list[int]:
        """Snoozes that are over: the case is back in the queue, with a note in its thread."""
        woken: list[int] = []
        for case in self._store.snoozes_over(self._now()):
            if case.snoozed_until is None or not self._store.wake(
                case.id, expect=case.snoozed_until
            ):
                continue
            who = f"<@{case.claimed_by}> " if case.claimed_by else ""
            self._board.case_note(case.id, text=f"⏰ {who}Snooze over: case #{case.id} is back.")
            self._board.refresh_card(case.id)
            woken.append(case.id)
        return woken

    def duty(self, user_id: str, *, on: bool) -> str:
        """An agent comes on or goes off duty (automatic assignment gives cases only to those
        on duty)."""
        agent = self.agent(user_id, action="go on duty")
        self._store.set_duty(agent.slack_id, on=on)
        self._audit(user_id, "agent.duty", None, on=on)
        load = len(self._store.mine(agent.slack_id))
        state = "on duty: new cases can be assigned to you" if on else "off duty"
        return f"{agent.name}, you are {state}. You hold {load} open case(s)."

    def mine(self, user_id: str) -> list[tuple[Case, Mention]]:
        return [(c, self._store.mention(c.mention_id)) for c in self._store.mine(user_id)]

    def on_duty(self, user_id: str) -> bool:
        """Whether this person is an agent on duty (automatic assignment may give them cases)."""
        return any(d.on_duty for d in self._store.roster() if d.slack_id == user_id)

    def search(self, query: str, *, limit: int) -> list[Found]:
        """Posts matching ``query`` (full-text), newest first, with their cases; a query that
        cannot be searched raises ``SearchQueryError`` with what to type instead."""
        return self._store.search(query, limit=limit)

    def release(self, case_id: int, user_id: str) -> Case:
        """Let go of a claimed case (its claimer, or a lead), so anyone can pick it up."""
        self._agent_or_lead(user_id, action="release cases")
        case = self._open_case(case_id)
        self._ensure_not_locked(case, user_id)
        self._store.release(case_id, now=self._now())
        self._audit(user_id, "case.released", case_id)
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    def reopen(self, case_id: int, user_id: str) -> Case:
        self.agent(user_id, action="reopen cases")
        if not self._store.reopen_case(case_id, now=self._now()):
            raise Refused(f"Case #{case_id} is not dismissed, so there is nothing to reopen.")
        self._audit(user_id, "case.reopened", case_id)
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    # ---- replying ----------------------------------------------------------------------------

    def draft(self, case_id: int, user_id: str, *, template_id: str | None) -> Draft:
        """Start a reply: lock the case to this agent and fill in the chosen template."""
        agent = self.agent(user_id, action="reply to customers")
        case = self._open_case(case_id)
        self._ensure_no_approval_pending(case)
        if self._claim(case, agent):
            self._board.refresh_card(case_id)
        mention = self._store.latest_from_customer(case_id)
        agent = replace(agent, signature=self._directory.signature(agent, mention.brand))
        template = self._directory.library.get(template_id, case.lang)
        body = self._body(template.id, mention, agent) if template else ""
        return Draft(
            case=case,
            mention=mention,
            agent=agent,
            body=body,
            template=template.id if template else None,
            slots=template.slots if template else (),
            approval=self._approval_reason(case, user_id),
            medium=self._medium(mention),
        )

    def _body(self, template_id: str, mention: Mention, agent: Agent) -> str:
        """A template in the mention's language, filled in for this customer and agent."""
        template = self._directory.library.get(template_id, mention.lang or "")
        if template is None:
            return ""
        values = placeholder_values(
            mention,
            brand=self._directory.brand_of(mention.brand).name,
            agent=agent.first_name,
            link=template.link,
        )
        return render(template.text, values)

    def signature(self, user_id: str, *, case_id: int) -> str:
        """How this agent signs a reply on this case: the case's brand sets the format."""
        agent = self.agent(user_id, action="reply to customers")
        mention = self._store.latest_from_customer(case_id)
        return self._directory.signature(agent, mention.brand)

    def preview(self, user_id: str, body: str, *, case_id: int | None = None) -> Preview:
        """Exactly what would go public (signed, split into a thread if long), its X length,
        what stops it, what to look at again, and whether a lead must approve it first."""
        agent = self.agent(user_id, action="reply to customers")
        mention = self._store.latest_from_customer(case_id) if case_id is not None else None
        check = self._check(body, agent=agent, mention=mention)
        case = self._store.find_case(case_id) if case_id is not None else None
        medium = self._medium(mention)
        return Preview(
            public_text="\n\n".join(check.parts),
            length=max((medium.length(p) for p in check.parts), default=0),
            medium=medium,
            problems=check.blocks,
            answering=mention,
            parts=check.parts,
            warnings=check.warnings,
            approval=self._approval_reason(case, user_id) if case else "",
        )

    def _check(self, body: str, *, agent: Agent, mention: Mention | None) -> voice.Check:
        brand = mention.brand if mention else None
        return voice.check_answer(
            body,
            signature=self._directory.signature(agent, brand),
            voice=self._directory.brand_of(brand).voice,
            mention=mention,
            medium=self._medium(mention),
        )

    def _medium(self, mention: Mention | None) -> voice.Medium:
        """The network's rules for a reply to ``mention`` (X's when there is none), and whether
        it takes one by API at all (X's reply restriction)."""
        if mention is None:
            return voice.X
        medium = self._outbox.medium(mention)
        blocked = self._directory.api_reply_blocked(mention)
        return replace(medium, blocked=blocked) if blocked else medium

    def medium(self, case_id: int) -> voice.Medium:
        """The rules a reply on this case must fit, for the reply form's meter."""
        return self._medium(self._store.latest_from_customer(case_id))

    def confirm(
        self,
        *,
        key: str,
        case_id: int,
        user_id: str,
        body: str,
        template: str | None,
        answering: str | None = None,
    ) -> Reply | Approval:
        """The agent confirmed the preview: write the reply to the outbox (not yet sent), or,
        when a lead must approve it first, ask the leads.

        The same confirmation arriving twice (a double click, a retried delivery) returns the
        same reply; a second reply while one is still on its way is refused.
        """
        agent = self.agent(user_id, action="reply to customers")  # first: refusals tell nothing
        if (existing := self._store.reply_by_key(key)) is not None:
            return existing
        case = self._open_case(case_id)
        self._ensure_not_locked(case, user_id)
        mention = self._store.latest_from_customer(case_id)
        if answering is not None and mention.id != answering:
            raise Refused(
                f"@{mention.author.handle} wrote again after you opened this preview "
                f"(“{_mrkdwn_safe(mention.text[:80])}”). Look at the card, then start the reply "
                "again."
            )
        check = self._check(body, agent=agent, mention=mention)
        if check.blocks:
            self._audit(user_id, "reply.blocked", case_id, reasons=list(check.blocks))
            raise Refused(" ".join(check.blocks))
        if reason := self._approval_reason(case, user_id):
            return self._approvals.request(
                key=key,
                case=case,
                mention=mention,
                agent_id=user_id,
                body=body,
                template=template,
                parts=check.parts,
                reason=reason,
            )
        return self._queue(
            key=key, draft=Draft(case, mention, agent, body, template), parts=check.parts
        )

    def _queue(self, *, key: str, draft: Draft, parts: Sequence[str]) -> Reply:
        case, agent = draft.case, draft.agent
        try:
            reply, created = self._store.add_reply(
                key=key,
                case=case,
                mention=draft.mention,
                agent_id=agent.slack_id,
                text=parts,
                template=draft.template,
                now=self._now(),
            )
        except ReplyInFlightError as exc:
            raise Refused(f"A reply to case #{case.id} is already on its way ({exc}).") from None
        if created:
            detail = {"reply_id": reply.id, "template": draft.template, "parts": len(parts)}
            self._audit(agent.slack_id, "reply.confirmed", case.id, **detail)
            self._board.refresh_card(case.id)  # "Sending…": nobody starts a second reply
        return reply

    def send(self, reply_id: int) -> Reply:
        """Send now, in this thread; tell the agent if it did not go out."""
        reply = self._outbox.deliver(reply_id)
        self._tell_if_stuck(reply)
        return reply

    def send_soon(self, reply_id: int) -> None:
        """Send on the outbox worker, so a Slack listener is never held up by X."""
        self._sender.submit(self._send_logged, reply_id)

    def _send_logged(self, reply_id: int) -> None:
        try:
            self.send(reply_id)
        except Exception:  # a worker thread: nobody else would ever see this
            log.exception("sending reply %s failed; the outbox sweep will pick it up", reply_id)

    def _tell_if_stuck(self, reply: Reply) -> None:
        if reply.state is OutboxState.CANCELLED:
            hint = "Look at the case again before answering."
        elif reply.state is OutboxState.FAILED:
            hint = "Use Retry on the card once the cause is fixed."
        elif reply.state is OutboxState.PENDING and reply.error:
            hint = "Earshot will try again shortly."
        elif reply.state is OutboxState.SENDING and reply.error:  # it may be public already
            hint = "Earshot is checking whether it went out, and will not post it twice."
        else:
            return
        case = self._store.case(reply.case_id)
        note = f"Your reply to case #{case.id} is not public yet: {reply.error}. {hint}"
        self._board.tell(user=reply.agent_id, channel=case.channel_id, text=note)

    def retry(self, reply_id: int, user_id: str) -> Reply:
        """Try a failed reply again: only the case's latest reply, on an open case."""
        self.agent(user_id, action="retry replies")
        reply = self._store.find_reply(reply_id)
        if reply is None:
            raise Refused(f"There is no reply #{reply_id} to retry.")
        case = self._open_case(reply.case_id)
        self._ensure_not_locked(case, user_id)
        latest = self._store.latest_reply(case.id)
        if latest is None or latest.id != reply.id or reply.state is not OutboxState.FAILED:
            raise Refused(f"That reply to case #{case.id} is not the one to retry any more.")
        self._audit(user_id, "reply.retry", case.id, reply_id=reply_id)
        return self.send(self._outbox.requeue(reply_id).id)

    def move(self, case_id: int, user_id: str, *, channel: str) -> Case:
        """Re-route an open case: its card moves, the old one points to it, routing learns."""
        self.agent(user_id, action="move cases")
        case = self._open_case(case_id)
        self._ensure_not_locked(case, user_id)
        if case.channel == channel:
            raise Refused(f"Case #{case_id} is already in {channel}.")
        who = self._directory.name(user_id)
        self._store.move_case(
            case_id, channel=channel, why=f"moved from {case.channel} by {who}", now=self._now()
        )
        opener = self._store.mention(case.mention_id)
        self._store.add_examples(
            [(opener.text, channel)],
            source="move",
            actor=user_id,
            now=self._now(),
            mention_id=opener.id,
        )
        self._audit(user_id, "case.moved", case_id, to=channel, **{"from": case.channel})
        self._rulebook.relearn()  # before Slack: a Slack failure must not lose the lesson
        if case.card_ts and case.channel_id:
            self._board.move_card(
                case_id, old_channel_id=case.channel_id, old_ts=case.card_ts, by=who
            )
        else:
            self._board.post_card(case_id)
        if case.storm_id is not None:  # it left the storm: its card no longer counts it
            self._board.refresh_storm(case.storm_id)
        return self._store.case(case_id)

    def plan_storm_answer(
        self, storm_id: int, user_id: str, *, template_id: str | None = None
    ) -> StormPlan:
        """What answering a storm with one template would post: shown before anything goes out."""
        agent = self.agent(user_id, action="reply to customers")
        members = self._store.storm_members(storm_id)
        todo = [case for case, _ in members if not self._storm_skip(case, user_id)]
        library = self._directory.library
        options = tuple((i, label) for i, label in library.choices() if not _has_slots(library, i))
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

    def tag_customer(
        self, user_id: str, *, network: str, handle: str, changes: Sequence[str]
    ) -> frozenset[str]:
        """Add (+tag) or remove (-tag) a customer's tags; agents and leads may."""
        if not (self._access.is_agent(user_id) or self._access.is_lead(user_id)):
            self.agent(user_id, action="tag customers")  # refuses, with the reason, audited
        tags = set(self._store.customer_tags(network, handle))
        for change in changes:
            name = change.lstrip("+-").strip().lower()
            if name:
                (tags.discard if change.startswith("-") else tags.add)(name)
        self._store.set_customer_tags(network, handle, tags, actor=user_id, now=self._now())
        self._audit(user_id, "customer.tagged", None, handle=handle, tags=sorted(tags))
        return frozenset(tags)

    def add_note(self, *, channel_id: str, thread_ts: str, ts: str, author: str, text: str) -> bool:
        """A message in a card's thread: kept with the case as an internal note. Nothing in a
        thread is ever posted publicly; only a confirmed reply goes through the outbox."""
        case = self._store.case_by_card(channel_id=channel_id, ts=thread_ts)
        if case is None or not text.strip():
            return False
        if not self._store.add_note(
            case_id=case.id, author=author, text=text, ts=ts, now=self._now()
        ):
            return False  # Slack delivered the same event again
        self._audit(author, "note.added", case.id)
        self._board.refresh_card(case.id)
        return True

    def queue(self) -> list[tuple[Case, Mention]]:
        """Open cases that are not snoozed."""
        now = self._now()
        cases = [c for c in self._store.open_cases() if not _asleep(c, now)]
        mentions = self._store.mentions([c.mention_id for c in cases])
        return [(c, mentions[c.mention_id]) for c in cases]

    # ---- helpers -----------------------------------------------------------------------------

    def _open_case(self, case_id: int) -> Case:
        case = self._store.find_case(case_id)
        if case is None:
            raise Refused(f"There is no case #{case_id}.")
        if case.state is CaseState.REPLIED:
            who = self._directory.name(case.replied_by)
            raise Refused(f"Case #{case_id} was already answered by {who}.")
        if case.state is CaseState.DISMISSED:
            who = self._directory.name(case.closed_by)
            raise Refused(f"Case #{case_id} was dismissed by {who}. Reopen it first.")
        if case.state is CaseState.RESOLVED:
            who = self._directory.name(case.closed_by)
            raise Refused(f"Case #{case_id} was resolved by {who}. Reopen it first.")
        return case

    def _approval_reason(self, case: Case, user_id: str) -> str:
        """Why this person's reply must wait for a lead ("" if it need not): a trainee, or a
        routing rule that asks for approval. A lead's own reply needs nobody's approval."""
        if self._access.is_lead(user_id):
            return ""
        agent = self._access.agent(user_id)
        if agent is not None and agent.trainee:
            return f"{agent.name} is a trainee"
        if case.require_approval:
            return (
                f"rule “{case.rule}” asks for a lead's approval"
                if case.rule
                else ("this case needs a lead's approval")
            )
        return ""

    def _ensure_no_approval_pending(self, case: Case) -> None:
        if (waiting := self._store.pending_approval(case.id)) is not None:
            who = self._directory.name(waiting.agent_id)
            raise Refused(
                f"{who}'s reply to case #{case.id} is waiting for a lead's approval. "
                "A lead approves, edits or rejects it from the leads' channel."
            )

    def _ensure_not_locked(self, case: Case, user_id: str) -> None:
        """Another agent's claim locks the case; a lead may still step in (audited)."""
        if case.claimed_by and case.claimed_by != user_id:
            if self._access.is_lead(user_id):
                self._audit(user_id, "case.stepped_in", case.id, claimed_by=case.claimed_by)
                return
            who = self._directory.name(case.claimed_by)
            self._audit(user_id, "refused", case.id, reason=f"claimed by {case.claimed_by}")
            raise Refused(f"{who} is already on case #{case.id}. Ask them before stepping in.")

    def _claim(self, case: Case, agent: Agent) -> bool:
        """Lock the case to ``agent``; True if it was not theirs before."""
        self._ensure_not_locked(case, agent.slack_id)
        if case.claimed_by == agent.slack_id:
            return False
        take_over = case.claimed_by is not None  # a lead stepping in
        if not self._store.claim(case.id, agent.slack_id, now=self._now(), take_over=take_over):
            fresh = self._store.case(case.id)
            self._ensure_not_locked(fresh, agent.slack_id)
            raise Refused(f"Case #{case.id} changed meanwhile; look at its card again.")
        return True

    def _audit(self, actor: str, action: str, case_id: int | None, **detail: object) -> None:
        self._store.audit(actor=actor, action=action, now=self._now(), case_id=case_id, **detail)

    def _now(self) -> datetime:
        return self._clock.now()


def _mrkdwn_safe(text: str) -> str:
    """Customer text inside a refusal (shown as Slack mrkdwn): no pings, no hidden links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _asleep(case: Case, now: datetime) -> bool:
    return case.snoozed_until is not None and case.snoozed_until > now


_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """ "30m", "2h", "1d", "1w" or "1h30m"; ``Refused`` with an example otherwise."""

    parts = re.findall(r"(\d+)\s*(min|m|h|d|w)", text.strip().lower())
    rebuilt = "".join(n + u for n, u in parts)
    if not parts or rebuilt != re.sub(r"\s+", "", text.strip().lower()):
        raise Refused(f"“{text}” is not a duration; write it like 30m, 2h, 1d or 1h30m.")
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if not 60 <= seconds <= 30 * 86400:
        raise Refused("Snooze for at least a minute and at most 30 days.")
    return timedelta(seconds=seconds)


def _has_slots(library: Library, template_id: str) -> bool:
    template = library.get(template_id)
    return template is None or bool(template.slots)
