"""Generated wording for the benchmarks: short care phrases from a topic's words (our own
vocabulary, never third-party data), in English and Korean."""

from __future__ import annotations

import random
from collections.abc import Sequence

PARTICLES = ("이", "가", "은", "")


def phrase(
    rng: random.Random, words: str, *, length: int, generic: Sequence[str], glue: Sequence[str]
) -> str:
    """Up to six of a topic's ``words``, sometimes with a generic word and a glue word."""
    chosen = rng.sample(words.split(), k=min(length, 6))
    if rng.random() < 0.5:
        chosen.insert(rng.randrange(len(chosen) + 1), rng.choice(generic))
    if rng.random() < 0.6:
        chosen.insert(rng.randrange(len(chosen) + 1), rng.choice(glue))
    return " ".join(chosen)


def korean(rng: random.Random, topics: Sequence[str], endings: Sequence[str]) -> str:
    """Two nouns of one topic, a particle, an ending: 환불 요청이 언제 되나요."""
    nouns = rng.sample(rng.choice(topics).split(), k=2)
    return f"{nouns[0]} {nouns[1]}{rng.choice(PARTICLES)} {rng.choice(endings)}"
