"""Volume alerts: tell the leads when a rule or tag suddenly gets far more mentions than usual.

The last hour is compared with the hourly average of the days before; an alert goes out once per
rule or tag per hour, and only above a minimum count, so a quiet brand is not paged for noise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.config.settings import AlertSettings
from bot.models import Case
from bot.slack.port import Board, BoardError
from bot.storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Spike:
    subject: str  # "rule “outage”" or "tag “refunds”"
    last_hour: int
    hourly_baseline: float


class Alerts:
    def __init__(
        self,
        *,
        store: Store,
        board: Board,
        settings: AlertSettings,
        clock: Clock,
        channel: str,
    ) -> None:
        self._store = store
        self._board = board
        self._settings = settings
        self._clock = clock
        self._channel = channel

    def check(self, case: Case) -> list[Spike]:
        """After a new case: alert on each of its rule and tags whose volume spiked."""
        spikes = []
        subjects = [("rule", case.rule)] if case.rule else []
        subjects += [("tag", tag) for tag in case.tags]
        for kind, value in subjects:
            spike = self._spike(kind, value)
            if spike and self._store.record_alert(f"{kind}:{value}", now=self._clock.now()):
                spikes.append(spike)
                self._send(spike, case)
        return spikes

    def _spike(self, kind: str, value: str) -> Spike | None:
        now = self._clock.now()
        hour = now - timedelta(hours=1)
        start = now - timedelta(days=self._settings.baseline_days)
        last = self._store.count_cases(kind, value, since=hour, until=now, inclusive=True)
        before = self._store.count_cases(kind, value, since=start, until=hour)
        baseline = before / max(1.0, (hour - start).total_seconds() / 3600)
        threshold = max(self._settings.min_count, self._settings.volume_factor * baseline)
        label = f"{kind} “{value}”"
        return Spike(label, last, baseline) if last >= threshold else None

    def _send(self, spike: Spike, case: Case) -> None:
        text = (
            f"📈 Volume alert: {spike.subject} has {spike.last_hour} mentions in the last hour "
            f"(usually {spike.hourly_baseline:.1f} an hour). Latest: case #{case.id} in "
            f"{case.channel}."
        )
        log.warning(text)
        if not self._channel:
            return
        try:
            self._board.announce(self._channel, text)
        except BoardError as exc:
            log.warning("volume alert not posted: %s", exc)
