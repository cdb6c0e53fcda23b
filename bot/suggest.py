"""Suggest the best reply templates for a mention: scored, ranked, cut off, ties broken by id.

Every trigger phrase of every template is one rapidfuzz choice; a template scores the best of its
triggers. Matching uses ``token_set_ratio`` on content words (common English function words are
dropped, so "the" and "my" cannot make a match). Templates written for another language are left
out; language-neutral ones stay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bot.playbooks import Template

_NOISE = re.compile(r"@\w+|https?://\S+|#")
_STOPWORDS = frozenset(
    (
        "a an the and or but if to of in on at for from by with is are was were be been am i me "
        "my we our you your it its this that these those so do does did have has had can could "
        "will would just get got im i'm there their they them he she his her as up out about "
        "what when where why how who which all any some than then too very"
    ).split()
)


@dataclass(frozen=True, slots=True)
class Ranked:
    template: Template
    score: float
    trigger: str

    @property
    def why(self) -> str:
        return f"close to “{self.trigger}” ({self.score:.0f})"


def clean(text: str) -> str:
    """Text as the matcher sees it: content words, lowercase, no handles, links or punctuation."""
    words = utils.default_process(_NOISE.sub(" ", text)).split()
    return " ".join(w for w in words if w not in _STOPWORDS)


@dataclass(frozen=True, slots=True)
class Suggester:
    templates: tuple[Template, ...]
    choices: tuple[str, ...]  # cleaned trigger phrases
    owners: tuple[tuple[int, str], ...]  # (template index, trigger as written) for each choice
    top: int = 3
    min_score: float = 60.0

    @classmethod
    def build(
        cls, templates: Sequence[Template], *, top: int = 3, min_score: float = 60.0
    ) -> Suggester:
        choices: list[str] = []
        owners: list[tuple[int, str]] = []
        for index, template in enumerate(templates):
            for trigger in template.triggers:
                choices.append(clean(trigger))
                owners.append((index, trigger))
        return cls(tuple(templates), tuple(choices), tuple(owners), top, min_score)

    def suggest(self, text: str, *, lang: str, top: int | None = None) -> list[Ranked]:
        """The best templates for ``text``, at most ``top``, each at or above the cutoff."""
        query = clean(text)
        if not query:
            return []
        best: dict[int, tuple[float, str]] = {}
        hits = process.extract(
            query,
            self.choices,
            scorer=fuzz.token_set_ratio,
            processor=None,
            limit=None,
            score_cutoff=self.min_score,
        )
        for _choice, score, position in hits:
            owner, trigger = self.owners[position]
            template = self.templates[owner]
            if template.lang and template.lang != lang:
                continue
            if score > best.get(owner, (-1.0, ""))[0]:
                best[owner] = (score, trigger)
        ranked = [Ranked(self.templates[i], s, trig) for i, (s, trig) in best.items()]
        ranked.sort(key=lambda r: (-r.score, r.template.id))
        return ranked[: top or self.top]
