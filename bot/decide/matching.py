"""How the suggester reads text and finds candidates fast: a mention's words (stemmed, typos
aside), its terms (words and letter pairs, so Korean and CJK match without a tokenizer), the
inverted index of every template and past mention by term, and the estimate of a document's
score from the terms it shares, which lets ``Suggester`` re-score only the few that could win.
Pure (no I/O).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain

from rapidfuzz import fuzz, utils

from bot.decide.playbooks import Template
from bot.decide.text import matchable

CHANCE = 0.4  # share of the letters of two unrelated words that rapidfuzz finds in common
_NOISE = re.compile(r"@\w+|https?://\S+|#")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_SUFFIXES = ("ing", "es", "ed", "s")
_STOPWORDS = frozenset(
    (
        "a an the and or but if to of in on at for from by with is are was were be been am i me "
        "my we our you your it its this that these those so do does did have has had can could "
        "will would just get got im i'm there their they them he she his her as up out about "
        "what when where why how who which all any some than then too very"
    ).split()
)


class Via(StrEnum):
    """The kind of document a suggestion matched."""

    TRIGGER = "trigger"
    EXAMPLE = "example"
    HISTORY = "history"
    POPULAR = "popular"  # matched nothing: among the brand's most used templates (padding)


def clean(text: str) -> str:
    """Text as the matcher sees it: content words, lowercase, no handles, links or punctuation,
    nothing invisible inside a word (``matchable``)."""
    words = utils.default_process(_NOISE.sub(" ", matchable(text))).split()
    return " ".join(w for w in words if w not in _STOPWORDS)


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def word_list(text: str) -> list[str]:
    """Content words of ``text``, without one-letter leftovers such as the "s" of "it's"."""
    return [w for w in clean(text).split() if len(w) > 1 or CJK.match(w)]


def stem_word(word: str) -> str:
    """A light English stem, so that "delays", "delayed" and "delay" meet in the index."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                break
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def _bigrams(word: str) -> list[str]:
    """Character pairs of a CJK word: Korean posts often run words together without spaces."""
    return [word[i : i + 2] for i in range(len(word) - 1)] or [word]


def term_set(words: Iterable[str]) -> frozenset[str]:
    """Index terms: stems of words, bigrams of CJK words."""
    terms: set[str] = set()
    for word in words:
        if CJK.search(word):
            terms.update(_bigrams(word))
        else:
            terms.add(stem_word(word))
    return frozenset(terms)


def letter_grams(words: Sequence[str]) -> str:
    """The bigram form of CJK text for rapidfuzz ("" without CJK): a trigger whose bigrams all
    occur in the mention then scores as contained, whether the words are spaced or not."""
    if not any(CJK.search(w) for w in words):
        return ""
    return " ".join(g for w in words for g in (_bigrams(w) if CJK.search(w) else [w]))


def plain_text(text: str) -> str:
    """Reply or template text for near-duplicate checks: no placeholders, handles, links or
    punctuation; every word kept."""
    stripped = _NOISE.sub(" ", PLACEHOLDER.sub(" ", matchable(text)))
    return " ".join(utils.default_process(stripped).split())


def _post_similarity(query: str, post: str) -> float:
    """Two whole posts: contained words count only as far as the posts are alike overall."""
    return (fuzz.token_set_ratio(query, post) + fuzz.token_sort_ratio(query, post)) / 2


def _estimate(shared: int, size: int, post: bool, query_size: int) -> float:
    """The rapidfuzz score (0..1) a document would get, from term counts alone, as if all words
    were the same length and a fixed share of the letters of unshared words matched by chance.

    ``token_set_ratio`` is the best of the shared words against the shared words plus the rest
    of either side, and of both sides whole; ``token_sort_ratio`` compares both sides whole.
    """
    chance = CHANCE * min(size, query_size) - CHANCE * shared
    whole = (2 * shared + 2 * chance) / (size + query_size)
    token_set = max(2 * shared / (shared + min(size, query_size)), whole)
    return (token_set + whole) / 2 if post else token_set


@dataclass(frozen=True, slots=True)
class Doc:
    group: int  # index of the template id
    slot: int  # eligibility slot: the template's index, or len(templates) + group for history
    via: Via
    text: str  # as written, for the why
    form: str  # content words, for rapidfuzz
    grams: str  # CJK bigram form, "" without CJK
    terms: frozenset[str]

    @property
    def bucket(self) -> int:
        """Documents of one size and kind share an estimate for a given count of shared terms."""
        return 2 * len(self.terms) + (self.via is not Via.TRIGGER)


@dataclass(frozen=True, slots=True)
class Scored:
    doc_id: int
    score: float


@dataclass(frozen=True, slots=True)
class Popularity:
    """Past replies per template id (group) for one brand: template uses plus sends."""

    counts: dict[int, int]
    most: int  # the largest count (0 when none)
    ranked: list[int]  # groups, most used first, ties to the lower template id


@dataclass(frozen=True, slots=True)
class Prior:
    """Popularity for one brand and channel: the brand's, plus the channel's sends once more
    for the usage bonus, log-scaled so that the most used template here gets ``USAGE_BONUS``."""

    brand: Popularity
    team: dict[int, int]  # sends in the case's channel
    scale: float

    def lift(self, group: int) -> float:
        """The usage bonus of a template id."""
        if not self.scale:
            return 0.0
        used = self.brand.counts.get(group, 0) + self.team.get(group, 0)
        return self.scale * math.log1p(used) if used else 0.0


@dataclass(frozen=True, slots=True)
class Query:
    form: str
    grams: str
    terms: frozenset[str]


def similarity(query: Query, doc: Doc) -> float:
    """0..100: a trigger contained in the mention scores 100; whole posts must be alike."""
    scorer = fuzz.token_set_ratio if doc.via is Via.TRIGGER else _post_similarity
    score = float(scorer(query.form, doc.form))
    if query.grams and doc.grams:
        score = max(score, float(scorer(query.grams, doc.grams)))
    return score


def make_doc(text: str, words: list[str], *, group: int, slot: int, via: Via) -> Doc:
    return Doc(group, slot, via, text, " ".join(words), letter_grams(words), term_set(words))


def template_fits(template: Template, *, lang: str, brand: str, any_lang: bool = False) -> bool:
    """In the mention's language (or language-neutral), and for its brand (or every brand)."""
    language = any_lang or not template.lang or template.lang == lang
    return language and (not brand or template.for_brand(brand))


GONE = Doc(-1, 0, Via.HISTORY, "", "", "", frozenset())  # an evicted past mention


class TermIndex:
    """term -> bucket -> ids of the documents holding the term. Documents can be added and
    removed at any time; ``count`` gives, per bucket, each document's number of shared terms."""

    __slots__ = ("postings",)

    def __init__(self) -> None:
        self.postings: dict[str, dict[int, list[int]]] = {}

    def add(self, doc_id: int, terms: Iterable[str], bucket: int) -> None:
        for term in terms:
            self.postings.setdefault(term, {}).setdefault(bucket, []).append(doc_id)

    def remove(self, doc_id: int, terms: Iterable[str], bucket: int) -> None:
        for term in terms:
            self.postings[term][bucket].remove(doc_id)

    def weight(self, term: str, *, documents: int) -> float:
        """The term's inverse document frequency among ``documents`` live documents: a word
        every post uses tells nothing, one only a few posts use tells a lot."""
        held = sum(len(docs) for docs in self.postings.get(term, {}).values())
        return math.log1p(documents / (1 + held))

    def overlap(self, terms: Iterable[str], *, documents: int) -> dict[int, float]:
        """Per document holding any of ``terms``: the summed squared weights of those it holds
        (the numerator of a TF-IDF cosine over term sets)."""
        found: dict[int, float] = {}
        for term in terms:
            weight = self.weight(term, documents=documents) ** 2
            for docs in self.postings.get(term, {}).values():
                for doc_id in docs:
                    found[doc_id] = found.get(doc_id, 0.0) + weight
        return found

    def count(self, terms: Iterable[str]) -> dict[int, _Found]:
        """Per bucket, the documents holding any of ``terms``."""
        found: dict[int, _Found] = {}
        for term in sorted(terms):  # not set order, which changes between runs
            for bucket, docs in self.postings.get(term, {}).items():
                if docs:
                    found.setdefault(bucket, _Found()).by_term.append((term, docs))
        for each in found.values():
            if len(each.by_term) > 1:
                each.counts = Counter(chain.from_iterable(docs for _, docs in each.by_term))
        return found


@dataclass(slots=True)
class _Found:
    """The documents of one bucket holding query terms: per term, and how many terms each
    holds (counted in C; None when only one term occurs, so each holds one)."""

    by_term: list[tuple[str, list[int]]] = field(default_factory=list)
    counts: Counter[int] | None = None

    @property
    def most(self) -> int:
        return max(self.counts.values()) if self.counts is not None else 1

    def holding(self, shared: int) -> list[int]:
        """Documents holding exactly ``shared`` query terms (shared > 1)."""
        return [d for d, k in self.counts.items() if k == shared] if self.counts else []

    def holding_one(self) -> Iterator[tuple[str, list[int]]]:
        """(term, documents holding that query term and no other)."""
        for term, docs in self.by_term:
            counts = self.counts
            yield term, docs if counts is None else [d for d in docs if counts[d] == 1]


def tiers(found: dict[int, _Found], query_size: int) -> list[tuple[float, list[tuple[int, int]]]]:
    """(estimate, [(bucket, shared terms), ...]) from the best estimate down, for the counts
    of shared terms that occur."""
    cells: dict[float, list[tuple[int, int]]] = {}
    for bucket, each in found.items():
        size, post = divmod(bucket, 2)
        for shared in range(1, each.most + 1):
            estimate = _estimate(shared, size, bool(post), query_size)
            cells.setdefault(estimate, []).append((bucket, shared))
    return sorted(cells.items(), reverse=True)


def tier_of(cells: list[tuple[int, int]], found: dict[int, _Found], order: list[int]) -> list[int]:
    """The documents of one tier (an equal estimate) in the order to take them: those sharing
    several terms, then those sharing one term, longer terms first (rapidfuzz compares
    characters, so a shared "refund" counts for more than a shared "bag"); ties by template id.
    """
    several: list[int] = []
    by_length: dict[int, list[int]] = {}
    for bucket, shared in cells:
        if shared > 1:
            several += found[bucket].holding(shared)
            continue
        for term, docs in found[bucket].holding_one():
            by_length.setdefault(len(term), []).extend(docs)
    ordered = sorted(several, key=order.__getitem__)
    for length in sorted(by_length, reverse=True):
        ordered += sorted(by_length[length], key=order.__getitem__)
    return ordered
