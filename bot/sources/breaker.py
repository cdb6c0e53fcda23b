"""A per-source circuit breaker: when a network keeps failing, stop calling it for a while.

After ``threshold`` transient failures in a row (5xx, timeouts, connection errors) the breaker
opens: no calls until a cool-down has passed, then one trial call. A failed trial opens it again
for twice as long (capped); a good one closes it. Pure: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Change(StrEnum):
    NONE = ""
    OPENED = "opened"
    CLOSED = "closed"


@dataclass
class Breaker:
    base: timedelta  # the first cool-down
    cap: timedelta  # no cool-down is longer
    threshold: int = 3
    failures: int = 0  # transient failures in a row
    trips: int = 0  # cool-downs in a row, each twice as long as the one before
    open_until: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.open_until is not None

    def allows(self, now: datetime) -> bool:
        """Closed, or open with the cool-down over (then one trial call is due)."""
        return self.open_until is None or now >= self.open_until

    def failed(self, now: datetime) -> Change:
        self.failures += 1
        if self.open_until is None and self.failures < self.threshold:
            return Change.NONE
        opened = self.open_until is None
        self.trips += 1
        self.open_until = now + min(self.base * 2 ** (self.trips - 1), self.cap)
        return Change.OPENED if opened else Change.NONE

    def succeeded(self) -> Change:
        closed = self.open_until is not None
        self.failures, self.trips, self.open_until = 0, 0, None
        return Change.CLOSED if closed else Change.NONE
