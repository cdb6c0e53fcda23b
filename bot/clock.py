"""Time as a port, so tests and the sandbox can move it instead of sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


class RunningClock:
    """Real time running on from a chosen start, and able to jump ahead: the demo's "later that
    morning" without waiting for it."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._began = time.monotonic()
        self._jumped = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._start + self._jumped + timedelta(seconds=time.monotonic() - self._began)

    def jump_to(self, moment: datetime) -> datetime:
        """Move ahead to ``moment`` (never back: time on cases and replies only moves forward)."""
        with self._lock:
            ran = timedelta(seconds=time.monotonic() - self._began)
            self._jumped = max(self._jumped, moment - self._start - ran)
            return self._start + self._jumped + ran
