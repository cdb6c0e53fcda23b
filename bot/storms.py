"""Storms: near-duplicate mentions arriving close together (an outage, a viral complaint).

They are grouped into one storm card that counts them, instead of flooding the channel; every
member stays a case of its own that can be answered. Similarity is rapidfuzz ``token_set_ratio``
on content words, among open cases of the same channel within the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rapidfuzz import fuzz

from bot.clock import Clock
from bot.config import StormSettings
from bot.models import Case
from bot.store import Store
from bot.suggest import clean

MIN_WORDS = 3  # "@brand help" must not start a storm with every other short post


@dataclass(frozen=True, slots=True)
class Storms:
    store: Store
    settings: StormSettings
    clock: Clock

    def place(self, case: Case) -> int | None:
        """The storm this new case belongs to (joining or starting one), or None."""
        if case.noise:
            return None
        text = clean(self.store.mention(case.mention_id).text)
        if len(text.split()) < MIN_WORDS:
            return None
        since = self.clock.now() - timedelta(minutes=self.settings.window_minutes)
        similar = [
            other
            for other, mention in self.store.recent_open_cases(case.channel, since=since)
            if other.id != case.id and not other.noise and self._alike(text, clean(mention.text))
        ]
        existing = sorted({c.storm_id for c in similar if c.storm_id is not None})
        if existing:
            self.store.join_storm(existing[-1], case.id, now=self.clock.now())
            return existing[-1]
        if len(similar) + 1 < self.settings.min_size:
            return None
        members = [c.id for c in similar if c.storm_id is None] + [case.id]
        return self.store.start_storm(case.channel, members, now=self.clock.now())

    def _alike(self, text: str, other: str) -> bool:
        if len(other.split()) < MIN_WORDS:
            return False
        return fuzz.token_set_ratio(text, other) >= self.settings.similarity
