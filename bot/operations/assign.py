"""Automatic assignment: round-robin among on-duty agents, each up to their capacity.

Off unless ``[assignment] auto = true``. New cases are offered as they open; a sweep job gives
waiting cases to whoever comes on duty or frees up room. Trainees take cases like anyone else
(their replies still wait for a lead's approval).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.clock import Clock
from bot.config.operations import Assignment
from bot.live.directory import Directory
from bot.models import Case
from bot.slack.port import Board, BoardError
from bot.storage.operations import Duty
from bot.storage.store import Store

log = logging.getLogger(__name__)
_NEVER = datetime.min.replace(tzinfo=UTC)


def next_agent(roster: Sequence[Duty], *, capacity: dict[str, int]) -> str | None:
    """Who gets the next case: on duty, below capacity, assigned longest ago (then by id)."""
    free = [d for d in roster if d.on_duty and d.open_cases < capacity.get(d.slack_id, 0)]
    free.sort(key=lambda d: (d.last_assigned_at or _NEVER, d.slack_id))
    return free[0].slack_id if free else None


class Assigner:
    def __init__(
        self,
        *,
        store: Store,
        board: Board,
        directory: Directory,
        clock: Clock,
        settings: Assignment,
    ) -> None:
        self._store = store
        self._board = board
        self._directory = directory
        self._clock = clock
        self._settings = settings

    @property
    def enabled(self) -> bool:
        return self._settings.auto

    def _capacity(self) -> dict[str, int]:
        return {
            a.slack_id: a.capacity or self._settings.capacity
            for a in self._directory.agents.values()
        }

    def offer(self, case: Case) -> str | None:
        """Give a new, unclaimed case to the next free agent; returns who, if anyone."""
        if not self.enabled or case.claimed_by:
            return None
        agent = next_agent(self._store.roster(), capacity=self._capacity())
        if agent is None:
            return None
        if not self._store.assign(case.id, agent, by="auto", now=self._clock.now()):
            return None
        self._store.audit(
            actor="earshot",
            action="case.assigned",
            now=self._clock.now(),
            case_id=case.id,
            to=agent,
        )
        return agent

    def sweep(self) -> list[tuple[int, str]]:
        """Waiting cases (oldest first, not snoozed) for agents with room; cards updated."""
        if not self.enabled:
            return []
        given: list[tuple[int, str]] = []
        now = self._clock.now()
        for case in self._store.open_cases():
            if case.claimed_by or (case.snoozed_until and case.snoozed_until > now):
                continue
            agent = self.offer(case)
            if agent is None:
                break  # nobody has room: the rest wait too
            given.append((case.id, agent))
            try:
                self._board.refresh_card(case.id)
            except BoardError as exc:
                log.warning("card of case %s not refreshed: %s", case.id, exc)
        return given
