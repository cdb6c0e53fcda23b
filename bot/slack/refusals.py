"""Channels Slack refuses: missing, private without Earshot, archived. An operator's problem,
said once.

When Slack refuses a card's channel, the leads are told once (what is wrong, and the fix), the
card goes to the fallback channel marked with where it was meant to go, and the channel is not
tried again for ``retry_seconds``. Parked cards look for their channel on that slow schedule and
move there once Slack takes them. What was told and what is parked lives in the database
(``cursors``), so a restart neither repeats the leads' message nor forgets a parked card.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.clock import Clock
from bot.slack.views.kit import escape
from bot.storage.store import Store

# What chat.postMessage answers for each (https://api.slack.com/methods/chat.postMessage): Slack
# does not say whether a private channel it will not show exists, so channel_not_found covers
# both a missing channel and a private one nobody invited Earshot to.
REFUSALS = ("channel_not_found", "not_in_channel", "is_archived")
RETRY_SECONDS = 300.0  # a refused channel is tried again after five minutes
PARKED = "meta:parked_card:"  # + case id -> {"channel": meant channel, "code": Slack's error}
TOLD = "meta:refused_channel:"  # + channel -> the refusal the leads were told about
ROUTE = "change the routing rule that names it (`/mentions route`)"


def _what_and_fix(channel: str, code: str) -> tuple[str, str]:
    if code == "not_in_channel":
        return "Earshot is not a member", f"type `/invite @Earshot` in {channel}"
    if code == "is_archived":
        return "the channel is archived", f"unarchive {channel}, or {ROUTE}"
    return (
        "there is no such channel, or it is private and Earshot is not in it",
        f"create {channel} (if it is private, type `/invite @Earshot` in it), or {ROUTE}",
    )


def leads_text(channel: str, code: str, *, fallback: str) -> str:
    """The one message the leads get about a refused channel."""
    shown = escape(channel)
    what, fix = _what_and_fix(shown, code)
    return (
        f"🚫 Slack refuses Earshot's cards in {shown}: {what} ({code}). Fix: {fix}. Until then "
        f"its cards go to {escape(fallback)}, marked for {shown}, and move there within minutes "
        "of Slack taking them."
    )


def working_text(channel: str, moved: int) -> str:
    return f"✅ Slack takes cards in {escape(channel)} again: {moved} card(s) moved there."


def marker(channel: str, code: str) -> dict[str, Any]:
    """The line on top of a parked card: where it belongs, and why it is not there."""
    what, _ = _what_and_fix(escape(channel), code)
    text = (
        f"📍 Meant for *{escape(channel)}*: Slack refused it ({what}). It moves there once "
        "Slack takes it; the leads have the fix."
    )
    return {
        "type": "context",
        "block_id": "earshot_meant_for",
        "elements": [{"type": "mrkdwn", "text": text}],
    }


class Refusals:
    """Which channels Slack refuses (and until when Earshot leaves them alone), which refusals
    the leads were told about, and which cards wait in the fallback channel. Thread-safe."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        retry_seconds: float = RETRY_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self._clock, self._now = store, clock, now
        self.retry_seconds = retry_seconds
        self._until: dict[str, tuple[float, str]] = {}  # channel -> (retry after, Slack's code)
        self._told = {k.removeprefix(TOLD): v for k, v in store.cursors(TOLD).items()}
        self._lock = threading.Lock()

    def blocked(self, channel: str) -> str | None:
        """Slack's refusal if ``channel`` was refused less than ``retry_seconds`` ago."""
        with self._lock:
            until, code = self._until.get(channel, (0.0, ""))
            return code if self._now() < until else None

    def refused(self, channel: str, code: str) -> bool:
        """Slack refused ``channel``: leave it alone for a while. True when the leads have not
        been told about this refusal yet (they are, by the caller, once)."""
        with self._lock:
            self._until[channel] = (self._now() + self.retry_seconds, code)
            first = self._told.get(channel) != code
            self._told[channel] = code
        if first:
            self._store.set_cursor(TOLD + channel, code, now=self._clock.now())
        return first

    def works(self, channel: str) -> bool:
        """Slack took a post in ``channel``; True if it had been refused (and told) before."""
        with self._lock:
            self._until.pop(channel, None)
            was = self._told.pop(channel, None) is not None
        if was:
            self._store.set_cursor(TOLD + channel, "", now=self._clock.now())
        return was

    def park(self, case_id: int, *, channel: str, code: str) -> None:
        value = json.dumps({"channel": channel, "code": code})
        self._store.set_cursor(f"{PARKED}{case_id}", value, now=self._clock.now())

    def unpark(self, case_id: int) -> None:
        self._store.set_cursor(f"{PARKED}{case_id}", "", now=self._clock.now())

    def parked(self) -> dict[int, tuple[str, str]]:
        """Cards in the fallback channel: case id -> (the channel meant, Slack's refusal)."""
        found: dict[int, tuple[str, str]] = {}
        for key, value in self._store.cursors(PARKED).items():
            entry = json.loads(value)
            found[int(key.removeprefix(PARKED))] = (str(entry["channel"]), str(entry["code"]))
        return found

    def parked_for(self, case_id: int) -> tuple[str, str] | None:
        value = self._store.cursor(f"{PARKED}{case_id}")
        if not value:
            return None
        entry = json.loads(value)
        return str(entry["channel"]), str(entry["code"])
