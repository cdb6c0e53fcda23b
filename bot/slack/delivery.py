"""New cards reach Slack at Slack's pace: one worker per channel; a burst rolls into one message.

chat.postMessage allows about one message per second per channel. Each new case's card is
queued for its channel's worker. When more cards wait than the pace can post within ``budget``
seconds, the waiting mentions are listed in one *burst message* instead (kept current with
chat.update, at most once per ``update_every`` seconds), and each card follows in that message's
thread as the channel's pace allows (urgent ones first); *Card* on a row brings one up at once.
Storm cards are refreshed the same throttled way. A case has no card (``card_ts`` null in
SQLite) until its card is posted, so a crash loses nothing: the card sweep queues it again.
A card whose channel Slack refuses waits in the fallback channel (``bot.slack.refusals``); a
scheduler job (``parked``) lets the parked cards look for their channel again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.models import Case, Priority
from bot.slack.port import BoardError, ChannelRefused
from bot.slack.views.cards import BURST_ROWS, BurstView
from bot.storage.store import Store

log = logging.getLogger(__name__)

Step = Callable[[], None]
RETRY_SECONDS = 5.0  # Slack refused a burst message: try again after this pause


class Poster(Protocol):
    """What delivery needs of the Slack board (``bot.slack.board.SlackBoard``)."""

    def post_card(self, case_id: int, *, thread: str | None = None) -> None: ...

    def notify(self, case_id: int) -> None: ...

    def refresh_storm(self, storm_id: int) -> None: ...

    def post_burst(self, view: BurstView) -> tuple[str, str]: ...

    def update_burst(self, view: BurstView, *, channel_id: str, ts: str) -> None: ...


@dataclass
class _Burst:
    number: int
    started: datetime
    members: list[int] = field(default_factory=list)
    channel_id: str = ""
    ts: str = ""


@dataclass
class _Channel:
    """One channel's work. ``queue`` and ``storms`` are shared (under the lock); the rest
    belongs to the channel's worker thread."""

    queue: deque[int] = field(default_factory=deque)
    storms: set[int] = field(default_factory=set)
    new_storms: set[int] = field(default_factory=set)  # no card yet: posted before anything else
    later: deque[tuple[int, _Burst | None]] = field(default_factory=deque)
    burst: _Burst | None = None  # the one new mentions are added to
    unshown: list[_Burst] = field(default_factory=list)  # changed since last shown
    overflow_at: float = float("-inf")  # when new cards last overflowed into a burst
    updated_at: float = float("-inf")  # the last throttled chat.update in this channel
    retry_at: float = float("-inf")  # Slack refused a burst message: not before then


class Deliveries:
    def __init__(
        self,
        *,
        board: Poster,
        store: Store,
        clock: Clock,
        interval: float = 1.1,
        budget: float = 5.0,
        update_every: float = 1.5,
        calm: float = 10.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._board, self._store, self._clock = board, store, clock
        self._interval, self._budget = interval, budget
        self._update_every, self._calm = update_every, calm
        self._now = now
        self._cond = threading.Condition()
        self._channels: dict[str, _Channel] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._known: set[int] = set()
        self._bursts = 0
        self._stopping = False

    # ---- called by the inbound path and the card sweep ---------------------------------------

    def submit(self, case_id: int, channel: str) -> None:
        """Queue a case's card for its channel (a case already on its way is not queued twice)."""
        with self._cond:
            if case_id in self._known or self._stopping:
                return
            self._known.add(case_id)
            self._channel(channel).queue.append(case_id)
            self._cond.notify_all()

    def storm(self, storm_id: int, channel: str, *, new: bool = False) -> None:
        """A storm changed: its card is updated soon (updates coalesce). A ``new`` storm's card
        is posted next, ahead of its members' cards, which go in its thread."""
        with self._cond:
            ch = self._channel(channel)
            (ch.new_storms if new else ch.storms).add(storm_id)
            self._cond.notify_all()

    def pending(self) -> int:
        """Cases queued or waiting for their card (0: everything known is in Slack)."""
        with self._cond:
            return len(self._known)

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout=timeout)

    def _channel(self, name: str) -> _Channel:
        if name not in self._channels:
            self._channels[name] = _Channel()
            thread = threading.Thread(
                target=self._run, args=(name,), name=f"earshot-cards-{name}", daemon=True
            )
            self._threads[name] = thread
            thread.start()
        return self._channels[name]

    # ---- the channel's worker ----------------------------------------------------------------

    def _run(self, name: str) -> None:
        while (step := self._next_step(name)) is not None:
            try:
                step()
            except BoardError as exc:
                log.warning("%s; the card sweep tries again", exc)
            except sqlite3.OperationalError as exc:  # e.g. a full disk: told once by health
                log.error("cards in %s wait: the database refused a write (%s)", name, exc)
            except Exception:  # a worker thread: nobody else would see it; the sweep retries
                log.exception("card delivery in %s failed; the card sweep tries again", name)

    def _next_step(self, name: str) -> Step | None:
        """What the worker does next, most urgent first; waits while there is nothing to do."""
        with self._cond:
            ch = self._channels[name]
            while not self._stopping:
                now = self._now()
                if ch.new_storms:
                    storms = sorted(ch.new_storms)
                    ch.new_storms.clear()
                    return lambda: self._refresh_storms(ch, storms)
                if ch.storms and self._may_update(ch, now):
                    storms = sorted(ch.storms)
                    ch.storms.clear()
                    return lambda: self._refresh_storms(ch, storms)
                if ch.queue:
                    return self._take_queue(ch, now)
                if ch.unshown and now >= ch.retry_at and self._due(ch, now):
                    return lambda: self._show_bursts(ch, name)
                if ch.later and (ch.later[0][1] is None or ch.later[0][1].ts):
                    case_id, burst = ch.later.popleft()
                    return lambda: self._post(case_id, thread=burst.ts if burst else None)
                self._cond.wait(self._pause(ch, now))
            return None

    def _due(self, ch: _Channel, now: float) -> bool:
        return self._may_update(ch, now) or not ch.unshown[0].ts  # a new one is posted at once

    def _may_update(self, ch: _Channel, now: float) -> bool:
        return now - ch.updated_at >= self._update_every

    def _pause(self, ch: _Channel, now: float) -> float | None:
        dirty = ch.storms or ch.unshown
        at = max(ch.updated_at + self._update_every, ch.retry_at)
        return max(0.01, at - now) if dirty else None

    def _take_queue(self, ch: _Channel, now: float) -> Step:
        """The next own card, or (more waiting than the pace can post in time) a burst."""
        bursting = now - ch.overflow_at < self._calm
        if bursting or len(ch.queue) * self._interval > self._budget:
            if not bursting:
                ch.burst = None  # a new burst gets a new message
            ch.overflow_at = now
            ids = list(ch.queue)
            ch.queue.clear()
            return lambda: self._into_burst(ch, ids)
        case_id = ch.queue.popleft()
        return lambda: self._post(case_id, thread=None, notify=True)

    # ---- steps (outside the lock) ------------------------------------------------------------

    def _post(self, case_id: int, *, thread: str | None, notify: bool = False) -> None:
        try:
            self._board.post_card(case_id, thread=thread)
            if notify:  # the board pings only if the case's rule names someone
                self._board.notify(case_id)
        finally:
            with self._cond:
                self._known.discard(case_id)

    def _refresh_storms(self, ch: _Channel, storms: list[int]) -> None:
        ch.updated_at = self._now()
        for storm_id in storms:
            self._board.refresh_storm(storm_id)

    def _into_burst(self, ch: _Channel, ids: list[int]) -> None:
        """List the cases in the channel's burst message; their cards follow in its thread.
        Storm members are shown by their storm card already: only their cards follow."""
        for case_id in ids:
            case = self._store.case(case_id)
            if case.card_ts:
                self._done(case_id)
            elif case.storm_id is not None:
                ch.later.append((case_id, None))
            else:
                burst = self._burst_for(ch)
                burst.members.append(case_id)
                if burst not in ch.unshown:
                    ch.unshown.append(burst)
                urgent = case.priority is Priority.URGENT  # its card comes first
                (ch.later.appendleft if urgent else ch.later.append)((case_id, burst))

    def _burst_for(self, ch: _Channel) -> _Burst:
        if ch.burst is None or len(ch.burst.members) >= BURST_ROWS:
            with self._cond:
                self._bursts += 1
                number = self._bursts
            ch.burst = _Burst(number, self._clock.now())
        return ch.burst

    def _show_bursts(self, ch: _Channel, name: str) -> None:
        """Post new burst messages, update changed ones (chat.update, throttled)."""
        ch.retry_at = self._now() + RETRY_SECONDS  # cleared once shown
        while ch.unshown:
            burst = ch.unshown[0]
            members = tuple((c, self._store.mention(c.mention_id)) for c in self._cases(burst))
            view = BurstView(burst.number, name, members, burst.started)
            if burst.ts:
                ch.updated_at = self._now()
                self._board.update_burst(view, channel_id=burst.channel_id, ts=burst.ts)
            else:
                try:
                    burst.channel_id, burst.ts = self._board.post_burst(view)
                except ChannelRefused:  # each card goes its own way: to the fallback channel
                    self._unburst(ch, burst)
                    continue
            ch.unshown.pop(0)  # on a Slack error it stays, and is shown again after a pause
        ch.retry_at = float("-inf")

    def _unburst(self, ch: _Channel, burst: _Burst) -> None:
        """Slack refuses the channel: no burst message; its cards are posted one by one."""
        ch.unshown.remove(burst)
        if ch.burst is burst:
            ch.burst = None
        ch.later = deque((case_id, None if b is burst else b) for case_id, b in ch.later)

    def _cases(self, burst: _Burst) -> list[Case]:
        return [self._store.case(case_id) for case_id in burst.members]

    def _done(self, case_id: int) -> None:
        with self._cond:
            self._known.discard(case_id)
