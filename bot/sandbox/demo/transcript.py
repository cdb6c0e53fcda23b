"""The demo's transcript: timestamped lines, written as events arrive from emulator threads, and
the one-line form of a post. Shared by the tour, the day that follows and the open networks'
visit, so none of them imports another for it."""

from __future__ import annotations

import threading
import time
from typing import TextIO


def short(text: str, limit: int = 90) -> str:
    """One line of the transcript: whitespace flattened, cut with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Transcript:
    """Thread-safe, timestamped lines: events arrive from emulator threads as they happen."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._cond = threading.Condition()
        self._start = time.monotonic()
        self.cards = 0  # cards narrated so far

    def say(self, icon: str, text: str, *details: str, card: bool = False) -> None:
        with self._cond:
            self._out.write(f"[{time.monotonic() - self._start:5.1f}s] {icon} {text}\n")
            for line in details:
                self._out.write(f"          {line}\n")
            self._out.flush()
            self.cards += card
            self._cond.notify_all()

    def wait_for_cards(self, count: int, *, more: bool = False, timeout: float = 30.0) -> None:
        """Until ``count`` cards (or ``count`` more than now) have been narrated."""
        with self._cond:
            target = count + (self.cards if more else 0)
            if not self._cond.wait_for(lambda: self.cards >= target, timeout=timeout):
                raise TimeoutError(f"only {self.cards} of {target} cards reached Slack")
