"""Korean sentiment from a small linear model over character n-grams, pure and offline.

Why a model: Korean glues particles and endings to its words and is written with loose spacing
and internet spelling (ㅋㅋ, ㅠㅠ, 별루), so a hand-written word list misses most of what a
Korean reviewer says. A multinomial logistic regression over character 1–4-grams (naive Bayes
log-probabilities mixed in) reads all of it without a tokenizer: kiwipiepy's morphemes added
under a point of F1 on the dev file for a 100 MB model, so no new dependency. Pure Python at
run time: a dict lookup per n-gram.

Where the weights come from: trained on ``korean_train_mentions.jsonl``, 40,000 Naver movie
reviews from the Naver Sentiment Movie Corpus (NSMC, Lucy Park, CC0 1.0), labelled from the
reviewer's 1–10 score (1–4 negative, 5–6 neutral, 7–10 positive). They ship as package data in
``bot/decide/weights/korean_sentiment.tsv.gz``: n-grams of at most four characters that occur in
at least three reviews, with two weights each, quantised to integers. No review text is in it.
They are read with ``importlib.resources`` on first use (no network, no file outside the
package) and rebuilt by ``python bench/train_korean_sentiment.py``.

The model knows film reviews, not customer care, so ``bot.decide.sentiment`` blends what it
says with the care lexicon, which keeps the last word on clear care complaints (환불, 지연).
"""

from __future__ import annotations

import functools
import gzip
import html
import math
import re
from dataclasses import dataclass
from importlib import resources

from bot.decide.text import matchable

WEIGHTS = "korean_sentiment.tsv.gz"  # in the bot.decide.weights package
ORDERS = (1, 2, 3, 4)  # character n-gram lengths
NEGATED = "¬"  # marks the n-grams of a word after a standalone negator
_NEGATORS = frozenset(("안", "못"))

_CLEANUP = re.compile(r"@\w+|https?://\S+|\bwww\.\S+")
_REPEATS = re.compile(r"(.)\1{2,}")  # ㅋㅋㅋㅋㅋ -> ㅋㅋ, !!!! -> !!
_SPACES = re.compile(r"\s+")
_SYLLABLES = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
MIN_SYLLABLES = 2  # fewer Hangul syllables (ㅠㅠ alone, a name): too little for the model


def is_korean(text: str) -> bool:
    """Whether the model should read ``text``: a few Hangul syllables, and at least a quarter as
    many as Latin letters (handles and links aside), the rule language detection uses."""
    if text.isascii() or not _SYLLABLES.search(text):
        return False
    cleaned = _CLEANUP.sub(" ", text)
    syllables = len(_SYLLABLES.findall(cleaned))
    return syllables >= MIN_SYLLABLES and syllables * 4 >= len(_LATIN.findall(cleaned))


def features(text: str) -> frozenset[str]:
    """The character 1–4-grams of the normalised text, spaces included (one space at each end,
    so an n-gram can tell the start or end of a word). A word after a standalone 안 or 못
    (안 좋아요, 못 믿겠다) gives its n-grams marked with ``NEGATED`` instead, so that it does not
    read like the plain word; in its place the text keeps the marker. (The long form, 좋지
    않아요, shows in the n-grams themselves; marking it too did not help.) Training uses this
    function too."""
    cleaned = html.unescape(_CLEANUP.sub(" ", matchable(text))).lower()
    words = _SPACES.sub(" ", _REPEATS.sub(r"\1\1", cleaned)).split()
    negated = {i for i in range(1, len(words)) if words[i - 1] in _NEGATORS}
    grams = _grams(" " + " ".join(NEGATED if i in negated else w for i, w in enumerate(words)))
    for i in negated:
        grams |= {NEGATED + gram for gram in _grams(" " + words[i])}
    grams.discard(" ")
    return frozenset(grams)


def _grams(text: str) -> set[str]:
    padded = text + " "
    return {padded[i : i + n] for n in ORDERS for i in range(len(padded) - n + 1)}


@dataclass(frozen=True)
class Reading:
    """The model's reading of one text: the negative and positive logits against neutral."""

    negative: float
    positive: float

    def probabilities(self) -> tuple[float, float, float]:
        """(negative, neutral, positive), summing to one."""
        top = max(self.negative, self.positive, 0.0)
        odds = (math.exp(self.negative - top), math.exp(-top), math.exp(self.positive - top))
        total = sum(odds)
        return odds[0] / total, odds[1] / total, odds[2] / total


@dataclass(frozen=True)
class KoreanModel:
    """Two weights per n-gram, negative and positive, each against neutral (neutral's own logit is
    zero), summed over the text's known n-grams and divided by the square root of the number of
    n-grams in the text (known or not, so pruning the file does not rescale what is left)."""

    weights: dict[str, tuple[float, float]]
    bias: tuple[float, float]

    def read(self, text: str) -> Reading:
        """The logits for ``text``; the bias alone when no n-gram is known."""
        grams = features(text)
        known = list(filter(None, map(self.weights.get, grams)))
        if not known:
            return Reading(negative=self.bias[0], positive=self.bias[1])
        negatives, positives = zip(*known, strict=True)
        scale = 1.0 / math.sqrt(len(grams))
        # fsum: the same total in any order (a set's order changes with each process's hashing)
        return Reading(
            negative=self.bias[0] + scale * math.fsum(negatives),
            positive=self.bias[1] + scale * math.fsum(positives),
        )


def parse_weights(text: str) -> KoreanModel:
    """The model from the weights file's text: ``#`` header lines first, ``# key: value`` among
    them (``scale``, ``bias``), then one ``n-gram<TAB>negative<TAB>positive`` line per n-gram, in
    integer units of ``scale``. An n-gram may start with "#" or hold a space, so the header ends
    at the first line without "#" and lines are split from the right."""
    lines = text.split("\n")
    body = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    header = dict(
        (key.strip(), value.strip())
        for key, _, value in (line[1:].partition(":") for line in lines[:body])
    )
    scale = float(header.get("scale", "1"))
    shared: dict[tuple[int, int], tuple[float, float]] = {}  # one tuple per distinct pair
    weights: dict[str, tuple[float, float]] = {}
    for line in filter(None, lines[body:]):
        gram, negative, positive = line.rsplit("\t", 2)
        pair = (int(negative), int(positive))
        weights[gram] = shared.setdefault(pair, (pair[0] * scale, pair[1] * scale))
    negative_bias, positive_bias = (float(v) for v in header["bias"].split())
    return KoreanModel(weights=weights, bias=(negative_bias, positive_bias))


@functools.cache
def shipped_model() -> KoreanModel:
    """The model that ships with the package, read once, on the first Korean text."""
    packed = resources.files("bot.decide.weights").joinpath(WEIGHTS).read_bytes()
    return parse_weights(gzip.decompress(packed).decode("utf-8"))


def read_korean(text: str) -> Reading:
    """The shipped model's reading of ``text``."""
    return shipped_model().read(text)
