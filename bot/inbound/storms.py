"""Storms: near-duplicate mentions arriving close together (an outage, a viral complaint).

They are grouped into one storm card that counts them, instead of flooding the channel; every
member stays a case of its own that can be answered. Similarity is rapidfuzz ``token_set_ratio``
on content words, among open cases of the same channel within the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from rapidfuzz import fuzz, process

from bot.clock import Clock
from bot.config.settings import StormSettings
from bot.decide.matching import clean
from bot.models import Case
from bot.storage.store import Store

MIN_WORDS = 3  # "@brand help" must not start a storm with every other short post
CLEANED = 20_000  # cleaned texts kept (one per recent case), so each is cleaned once


@dataclass(frozen=True, slots=True)
class Storms:
    store: Store
    settings: StormSettings
    clock: Clock
    _cleaned: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def place(self, case: Case) -> int | None:
        """The storm this new case belongs to (joining or starting one), or None."""
        if case.noise:
            return None
        text = self._clean(case.mention_id, self.store.mention(case.mention_id).text)
        if len(text.split()) < MIN_WORDS:
            return None
        similar = self._similar(case, text)
        existing = sorted({storm for _, storm in similar if storm is not None})
        if existing:
            self.store.join_storm(existing[-1], case.id, now=self.clock.now())
            return existing[-1]
        if len(similar) + 1 < self.settings.min_size:
            return None
        members = [case_id for case_id, storm in similar if storm is None] + [case.id]
        return self.store.start_storm(case.channel, members, now=self.clock.now())

    def _similar(self, case: Case, text: str) -> list[tuple[int, int | None]]:
        """(case id, storm id) of the channel's recent open look-alikes: one query, one
        rapidfuzz pass in C over their cleaned texts."""
        since = self.clock.now() - timedelta(minutes=self.settings.window_minutes)
        candidates = [
            (c, cleaned)
            for c in self.store.storm_candidates(case.channel, since=since)
            if c.case_id != case.id
            and len((cleaned := self._clean(c.mention_id, c.text)).split()) >= MIN_WORDS
        ]
        found = process.extract(
            text,
            [cleaned for _, cleaned in candidates],
            scorer=fuzz.token_set_ratio,
            score_cutoff=self.settings.similarity,
            limit=None,
        )
        return [(candidates[i][0].case_id, candidates[i][0].storm_id) for _, _, i in found]

    def _clean(self, mention_id: str, text: str) -> str:
        if (cleaned := self._cleaned.get(mention_id)) is None:
            if len(self._cleaned) >= CLEANED:
                self._cleaned.clear()
            cleaned = self._cleaned[mention_id] = clean(text)
        return cleaned
