"""SLA clocks on cases: started when a case opens or the customer writes again after a reply,
reminded in the case's thread as the target nears, escalated to the leads when it is breached.

Everything is driven from SQLite state by a scheduler job (``check``), so a restart neither loses
nor repeats a reminder: a case's clock, and what was already told about it, live on its row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.decide import sla
from bot.live.directory import Directory
from bot.models import Case, CaseState
from bot.slack.port import Board, BoardError
from bot.slack.views.kit import slack_time
from bot.slack.views.sla import time_left, timer_of
from bot.storage.store import Store

log = logging.getLogger(__name__)


_Teller = Callable[[Case, "sla.Timer"], None]


@dataclass(frozen=True, slots=True)
class Told:
    case_id: int
    stage: sla.Stage


class SlaWatch:
    def __init__(
        self,
        *,
        store: Store,
        board: Board,
        directory: Directory,
        clock: Clock,
        leads_channel: str = "",
        escalate_to: str = "",
    ) -> None:
        self._store = store
        self._board = board
        self._directory = directory
        self._clock = clock
        self._leads_channel = leads_channel
        self._escalate_to = escalate_to

    # ---- clocks ------------------------------------------------------------------------------

    def opened(self, case: Case) -> None:
        """A new case: the first-response clock starts when the customer posted."""
        self._start(case, sla.Kind.FIRST, case.created_at)

    def wrote_again(self, before: Case, *, at: datetime) -> None:
        """The customer wrote again. After a reply, the next-response clock starts; before any
        reply the first-response clock keeps running (writing twice does not reset it)."""
        if before.first_response_at is None and before.sla_due is not None:
            return
        if before.state is CaseState.OPEN and before.sla_kind == "next" and before.sla_due:
            return  # already waiting for the next response
        self._start(self._store.case(before.id), sla.Kind.NEXT, at)

    def _start(self, case: Case, kind: sla.Kind, started: datetime) -> None:
        brand = self._directory.brand_of(case.brand)
        timer = sla.start_timer(
            brand.sla,
            self._directory.calendar(case.brand),
            kind=kind,
            channel=case.channel,
            priority=case.priority,
            started=started,
        )
        if timer is None:
            self._store.clear_sla(case.id)
            return
        self._store.start_sla(
            case.id, kind=kind.value, started=timer.started, remind=timer.remind, due=timer.due
        )

    def timer(self, case: Case) -> sla.Timer | None:
        return timer_of(case)

    def left(self, case: Case) -> str:
        return time_left(case, self._directory, self._clock.now())

    # ---- the job -----------------------------------------------------------------------------

    def check(self) -> list[Told]:
        """Remind and escalate whatever is due now; each stage is told once per clock."""
        told: list[Told] = []
        now = self._clock.now()
        for case in self._store.sla_attention(now):
            timer = self.timer(case)
            if timer is None:
                continue
            stage = sla.stage(timer, now)
            if stage is sla.Stage.BREACHED and case.sla_notified != "breached":
                done = self._tell(case, timer, stage, self._escalate)
            elif stage is not sla.Stage.OK and case.sla_notified == "":
                done = self._tell(case, timer, sla.Stage.NEAR, self._remind)
            else:
                continue
            if done:
                told.append(Told(case.id, stage))
        return told

    def _tell(self, case: Case, timer: sla.Timer, stage: sla.Stage, how: _Teller) -> bool:
        """Say it in Slack, then record it (a failed post is tried again by the next check)."""
        try:
            how(case, timer)
        except BoardError as exc:
            log.warning("SLA %s for case %s not told yet: %s", stage.value, case.id, exc)
            return False
        marked = "breached" if stage is sla.Stage.BREACHED else "near"
        self._store.mark_sla(case.id, stage=marked, expect=case.sla_notified, due=timer.due)
        self._store.audit(
            actor="earshot", action=f"sla.{marked}", now=self._clock.now(), case_id=case.id
        )
        try:
            self._board.refresh_card(case.id)
        except BoardError as exc:
            log.warning("card of case %s not refreshed: %s", case.id, exc)
        return True

    def _what(self, timer: sla.Timer) -> str:
        return "first response" if timer.kind is sla.Kind.FIRST else "next response"

    def _remind(self, case: Case, timer: sla.Timer) -> None:
        who = f"<@{case.claimed_by}> " if case.claimed_by else ""
        text = (
            f"⏰ {who}Case #{case.id} is nearing its {self._what(timer)} target: "
            f"{self.left(case)} (due {slack_time(timer.due)})."
        )
        self._board.case_note(case.id, text=text)

    def _escalate(self, case: Case, timer: sla.Timer) -> None:
        where = f"<{case.permalink}|case #{case.id}>" if case.permalink else f"case #{case.id}"
        holder = self._directory.name(case.claimed_by) if case.claimed_by else "nobody yet"
        ping = _ping(self._escalate_to)
        text = (
            f"🚨 {ping}SLA breached: {where} in {case.channel} ({case.priority.value}, "
            f"{self._directory.brand_of(case.brand).name}) missed its {self._what(timer)} "
            f"target, due {slack_time(timer.due)}. Claimed by {holder}."
        )
        self._board.case_note(case.id, text=f"🚨 SLA breached: {self.left(case)}.")
        if self._leads_channel:
            self._board.announce(self._leads_channel, text)


def _ping(who: str) -> str:
    if not who:
        return ""
    return f"<!subteam^{who}> " if who.startswith("S") else f"<@{who}> "
