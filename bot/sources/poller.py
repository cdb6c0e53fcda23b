"""The polling loop the open networks share (Bluesky, Mastodon): read each due stream from its
stored cursor, back off on failure, trip a circuit breaker while the network keeps failing, and
put every failure in words. A network adapter supplies only ``read`` (one stream, from a cursor)
and ``judge`` (what an exception means); nothing here knows an SDK.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.models import Mention
from bot.sources import Fetch
from bot.sources.breaker import Breaker, Change

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=15)


class Trouble(StrEnum):
    RATE = "rate"  # rate limited: wait for the reset, no failure counted
    TRANSIENT = "transient"  # 5xx, timeout, connection: back off, and the breaker counts it
    PERSON = "person"  # credentials or access: only a person can fix it
    REFUSED = "refused"  # this stream's request is wrong (a bad query): switch it off


@dataclass(frozen=True, slots=True)
class Failure:
    """What an exception means for polling, in words for the leads."""

    trouble: Trouble
    message: str
    until: datetime | None = None  # rate limits: when the window resets


@dataclass(frozen=True, slots=True)
class Read:
    """One stream read: the mentions found and the cursor to store with them (None: unchanged).
    ``lost`` says, in words, what could not be fetched and never will be."""

    mentions: Sequence[Mention] = ()
    cursor: str | None = None
    lost: str = ""


@dataclass
class _Stream:
    key: str
    not_before: datetime | None = None
    failures: int = 0
    disabled: str = ""

    def waiting(self, now: datetime) -> bool:
        return bool(self.disabled) or (self.not_before is not None and now < self.not_before)


Reader = Callable[[str, str | None], Read]  # (stream key, stored cursor) -> what came
Judge = Callable[[Exception], Failure]


@dataclass
class Poller:
    """Streams (say, notifications and a search per keyword), each with its own back-off; one
    breaker for the account. ``name`` is how the leads know the source ("Bluesky")."""

    name: str
    keys: Sequence[str]
    clock: Clock
    interval: timedelta
    judge: Judge
    _streams: list[_Stream] = field(init=False)
    breaker: Breaker = field(init=False)

    def __post_init__(self) -> None:
        self._streams = [_Stream(key) for key in self.keys]
        self.breaker = Breaker(base=self.interval * 4, cap=MAX_BACKOFF)

    @property
    def not_before(self) -> datetime | None:
        times = [s.not_before for s in self._streams if s.not_before and not s.disabled]
        earliest = min(times) if times else None
        pause = self.breaker.open_until
        return max(earliest, pause) if earliest and pause else earliest or pause

    def poll(self, cursors: Mapping[str, str], read: Reader) -> Fetch:
        """Read every due stream; after a transient failure the rest wait for the next round
        (the network is likely down for all of them), so a trial call is one request."""
        now = self.clock.now()
        due = [s for s in self._streams if self.breaker.allows(now) and not s.waiting(now)]
        found: list[Mention] = []
        updates: dict[str, str] = {}
        errors: list[str] = []
        lost: list[str] = []
        failures: list[Failure] = []
        for stream in due:
            failure = self._read(stream, cursors, read, found=found, updates=updates, lost=lost)
            if failure is None:
                continue
            failures.append(failure)
            errors.append(f"{stream.key}: {failure.message}")
            if failure.trouble is Trouble.TRANSIENT:
                break
        change = self._trip(failures, polled=bool(due), now=now, errors=errors)
        return Fetch(
            tuple(sorted(found, key=_when)),
            updates,
            not_before=self.not_before,
            error="; ".join(errors) or None,
            skipped=not due,
            lost=tuple(lost),
            circuit=change.value,
            blocked=next((f.message for f in failures if f.trouble is Trouble.PERSON), ""),
        )

    def _read(
        self,
        stream: _Stream,
        cursors: Mapping[str, str],
        read: Reader,
        *,
        found: list[Mention],
        updates: dict[str, str],
        lost: list[str],
    ) -> Failure | None:
        try:
            result = read(stream.key, cursors.get(stream.key))
        except Exception as exc:  # judged below: every SDK raises its own kinds
            failure = self.judge(exc)
            self._back_off(stream, failure)
            log.warning("%s %s: %s", self.name, stream.key, failure.message)
            return failure
        stream.failures, stream.not_before = 0, None
        found += result.mentions
        if result.cursor is not None:
            updates[stream.key] = result.cursor
        if result.lost:
            log.error("%s %s: %s", self.name, stream.key, result.lost)
            lost.append(f"{stream.key}: {result.lost}")
        return None

    def _back_off(self, stream: _Stream, failure: Failure) -> None:
        now = self.clock.now()
        if failure.trouble is Trouble.REFUSED:
            stream.disabled = failure.message
            return
        if failure.trouble is Trouble.RATE:
            until = failure.until or now + self.interval
            stream.not_before = max(until, now + timedelta(seconds=1))
            return
        stream.failures += 1
        base = MAX_BACKOFF if failure.trouble is Trouble.PERSON else self.interval
        stream.not_before = now + min(base * (2 ** (stream.failures - 1)), MAX_BACKOFF)

    def _trip(
        self, failures: list[Failure], *, polled: bool, now: datetime, errors: list[str]
    ) -> Change:
        if not polled:
            return Change.NONE
        if not any(f.trouble is Trouble.TRANSIENT for f in failures):
            return self.breaker.succeeded()
        change = self.breaker.failed(now)
        if self.breaker.open_until is not None:
            errors.append(
                f"circuit open after {self.breaker.failures} failed calls in a row: no calls to "
                f"{self.name} until {self.breaker.open_until:%H:%M:%S} UTC, then one trial call"
            )
            log.warning("%s", errors[-1])
        return change


def _when(mention: Mention) -> datetime:
    """Cases open in the order customers wrote (undated posts last)."""
    return mention.created_at or datetime.max.replace(tzinfo=UTC)
