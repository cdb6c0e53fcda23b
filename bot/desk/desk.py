"""What agents do with cases: claim, dismiss, snooze, move, reopen, and (through ``Replying`` and
``StormAnswering``) draft, preview, confirm and send a reply. ``Desk`` is the one object the
listeners call; ``DeskBase`` holds what every action shares.

Every action checks who is asking. Only configured agents act; a case claimed by one agent is
locked for the others. A reply goes public only through ``confirm`` (after a preview) and the
outbox. Refusals raise ``Refused`` with a message meant for the person, and are audited.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.desk.access import Refused
from bot.desk.storm_answers import StormAnswering
from bot.models import (
    Case,
    CaseState,
    Mention,
    OutboxState,
)
from bot.storage.mentions import Found

log = logging.getLogger(__name__)


class Desk(StormAnswering):
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


log = logging.getLogger(__name__)


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
