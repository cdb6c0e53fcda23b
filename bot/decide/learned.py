"""Learned routing: route a mention by likeness to labelled examples, with a calibrated confidence.

The model is a small ensemble chosen by cross-validation on labelled airline complaints (see
bench/eval_routing.py): a softmax logistic regression on word unigrams, bigrams and near pairs
(two content words close together, in either order; lightly stemmed), trained with a few epochs
of SGD, averaged with a complement naive Bayes that also sees character 4-grams so typos and
variants ("lugage", "cancelation") still count. The confidence is the averaged probability of the
best channel, so a threshold means "how sure".

Small teams: taught examples are usually lopsided (one busy team, a few quiet ones), and a plain
model learns to say "the busy team" whenever in doubt. So the logistic regression weighs each
example by how rare its channel is (the square root of "balanced" class weights), and naive
Bayes has no priors. Cross-validation: the recall of quiet teams goes up at no cost in accuracy
(fully balanced weights lift it further but cost accuracy).

Unsure: below ``min_confidence`` ``predict`` says nothing (the mention goes to the fallback), but
``best_guess`` still names the most likely channel, so the fallback card can offer it.

Pure: no I/O. Train in memory from examples (agents' "Move to…" and `earshot routing teach`), then
predict many times; training is deterministic and does not depend on the order of the examples.
"""

from __future__ import annotations

import functools
import html
import itertools
import math
import operator
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Chosen by cross-validation inside the training folds (bench/eval_routing.py): the highest
# threshold that costs at most one mention in a thousand against always answering. Lower than
# "more likely right than wrong" on purpose: a case in the fallback is not routed at all, and its
# card still offers the best guess.
DEFAULT_MIN_CONFIDENCE = 0.25
CLASS_WEIGHT_POWER = 0.5  # logistic regression: 0 no class weights, 1 fully balanced
NEAR = 3  # near pairs: content words at most this many content words apart
EPOCHS = 3  # logistic regression: passes of SGD over the examples
LEARNING_RATE = 0.5  # first epoch; divided by the epoch number after that
NB_ALPHA = 0.5  # complement naive Bayes: additive smoothing
NB_TEMPERATURE = 4.0  # softens naive Bayes' over-confident scores before averaging
CHAR_GRAM = 4
MIN_COUNT = 2  # a feature seen in one example only is an anecdote: dropped
WHY_WORDS = 3
_SEED = 20150224

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<!\w)@\w+")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD = re.compile(r"[^\W_]+(?:'[^\W\d_]+)?")
_DIGIT = re.compile(r"\d")
# Function words are kept as features (they help) but never shown on the card as a reason.
_QUIET = frozenset(
    "a about after all am an and any are as at be been but by can could did do does for from get "
    "got had has have he her him his how i i'm if in into is it it's its just me my no not now of "
    "on or our out she so than that the their them then there they this to too up us was we were "
    "what when where which who why will with would you your".split()
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled mention: its text and the channel a person routed it to."""

    text: str
    channel: str


@dataclass(frozen=True, slots=True)
class Prediction:
    """The learned channel for a mention, how sure (0..1), and a short sentence for the card."""

    channel: str
    confidence: float
    why: str


@dataclass(frozen=True, slots=True)
class _Token:
    surface: str  # as written (lowercase), for the card
    stem: str  # what the model sees


# ---- text features ------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Unescape HTML, drop URLs and @handles, split CamelCase hashtags into their words."""
    text = _HANDLE.sub(" ", _URL.sub(" ", html.unescape(text)))
    return _HASHTAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text).lower()


@functools.lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """Light suffix stripping (delayed, delays → delay); digits fold to 0 (flight numbers)."""
    word = _DIGIT.sub("0", word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _tokens(text: str) -> list[_Token]:
    return [_Token(word, _stem(word)) for word in _WORD.findall(_clean(text))]


def _word_features(tokens: Sequence[_Token]) -> list[str]:
    """Stemmed unigrams, bigrams and near pairs, each once."""
    stems = [t.stem for t in tokens]
    bigrams = [f"{a} {b}" for a, b in itertools.pairwise(stems)]
    return list(dict.fromkeys(stems + bigrams + _near_pairs(tokens)))


def _near_pairs(tokens: Sequence[_Token]) -> list[str]:
    """Two content words at most NEAR words apart (function words skipped), in either order:
    "lost … bag" is one clue however it is phrased ("lost my bag", "bag got lost")."""
    content = [t.stem for t in tokens if t.surface not in _QUIET]
    return [
        f"{min(a, b)}~{max(a, b)}"
        for i, a in enumerate(content)
        for b in content[i + 1 : i + 1 + NEAR]
        if a != b
    ]


def _char_features(tokens: Sequence[_Token]) -> list[str]:
    """Character n-grams of each word with boundary marks: robust to typos and variants."""
    return list(dict.fromkeys(itertools.chain.from_iterable(_grams(t.surface) for t in tokens)))


@functools.lru_cache(maxsize=1 << 16)
def _grams(word: str) -> tuple[str, ...]:
    padded = f"<{word}>"
    return tuple("#" + padded[i : i + CHAR_GRAM] for i in range(len(padded) - CHAR_GRAM + 1))


# ---- training -----------------------------------------------------------------------------------


def _softmax(scores: Sequence[float], temperature: float = 1.0) -> list[float]:
    top = max(scores)
    exps = [math.exp((s - top) / temperature) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _centred(row: Sequence[float]) -> list[float]:
    """Subtract the row mean: softmax is unchanged, and the numbers read as "for vs against"."""
    mean = sum(row) / len(row)
    return [x - mean for x in row]


def _prune(docs: Sequence[tuple[list[str], int]]) -> list[tuple[list[str], int]]:
    """Keep features seen in at least MIN_COUNT examples (fewer weights, a little more accurate)."""
    seen = Counter(itertools.chain.from_iterable(feats for feats, _ in docs))
    return [([f for f in feats if seen[f] >= MIN_COUNT], y) for feats, y in docs]


def _train_logistic(
    docs: Sequence[tuple[list[str], int]], k: int
) -> tuple[dict[str, list[float]], list[float]]:
    """Softmax regression by SGD: binary features, step scaled by 1/sqrt(features) and by the
    weight of the example's channel, no penalty."""
    index = {f: i for i, f in enumerate(dict.fromkeys(f for feats, _ in docs for f in feats))}
    weights = _class_weights([y for _, y in docs], k)
    encoded = [_Doc.encode(feats, y, index, weights[y]) for feats, y in docs if feats]
    columns = [[0.0] * (len(index) + 1) for _ in range(k)]  # + an always-zero slot
    bias = [0.0] * k
    order = list(range(len(encoded)))
    rng = random.Random(_SEED)
    for epoch in range(EPOCHS):
        rng.shuffle(order)
        eta = LEARNING_RATE / (1 + epoch)
        for j in order:
            _sgd_step(encoded[j], columns, bias, eta)
    learned = {f: _centred([col[i] for col in columns]) for f, i in index.items()}
    return learned, _centred(bias)


def _class_weights(labels: Sequence[int], k: int) -> list[float]:
    """(N / (K · n_c)) ^ CLASS_WEIGHT_POWER per channel: a rare channel's examples count more, so
    that together each channel weighs about the same (1.0 for all when they are even)."""
    sizes = Counter(labels)
    return [
        (len(labels) / (k * sizes[c])) ** CLASS_WEIGHT_POWER if sizes[c] else 0.0 for c in range(k)
    ]


@dataclass(frozen=True, slots=True)
class _Doc:
    """An example as feature indices; `pick` fetches its weights from a column in one C call."""

    ids: list[int]
    pick: operator.itemgetter[tuple[float, ...]]
    label: int
    scale: float  # 1/sqrt(features), times the weight of its channel
    weight: float  # its channel's class weight (the bias moves by it)

    @classmethod
    def encode(cls, feats: Sequence[str], label: int, index: dict[str, int], weight: float) -> _Doc:
        ids = [index[f] for f in feats]
        # the zero slot makes itemgetter return a tuple even for a one-feature example
        pick = operator.itemgetter(*ids, len(index))
        return cls(ids, pick, label, weight / math.sqrt(len(ids)), weight)


def _sgd_step(doc: _Doc, columns: list[list[float]], bias: list[float], eta: float) -> None:
    """One example: move every channel's weights against its error (skipping tiny errors)."""
    scores = [b + sum(doc.pick(col)) for b, col in zip(bias, columns, strict=True)]
    grads = _softmax(scores)
    grads[doc.label] -= 1.0
    for c, g in enumerate(grads):
        if abs(g) < 1e-3:  # nothing to learn for this channel; skipping makes training fast
            continue
        bias[c] -= eta * doc.weight * g
        col, delta = columns[c], eta * doc.scale * g
        for i in doc.ids:
            col[i] -= delta


def _train_complement_nb(
    docs: Sequence[tuple[list[str], int]], k: int
) -> tuple[dict[str, list[float]], list[float]]:
    """Complement naive Bayes: a feature counts for a class by how rare it is in the others.
    Without priors, so a quiet team is not outvoted for being quiet (cross-validation: as
    accurate, better recall of small teams)."""
    per_class = [Counter[str]() for _ in range(k)]
    for feats, y in docs:
        per_class[y].update(feats)
    features = dict.fromkeys(itertools.chain.from_iterable(per_class))
    counts = {f: [c.get(f, 0) for c in per_class] for f in features}
    totals = [c.total() for c in per_class]
    denominators = [sum(totals) - t + NB_ALPHA * len(counts) for t in totals]
    log_denominators = _centred([math.log(max(d, NB_ALPHA)) for d in denominators])
    log_counts = [math.log(n + NB_ALPHA) for n in range(len(docs) + 1)]
    weights = {f: _nb_row(row, log_denominators, log_counts) for f, row in counts.items()}
    return weights, [0.0] * k  # no priors: the logistic regression's bias carries the shares


def _nb_row(
    row: Sequence[int], log_denominators: Sequence[float], log_counts: Sequence[float]
) -> list[float]:
    """-log P(feature | not class), centred: log(denominator) - log(count elsewhere + alpha)."""
    n = sum(row)
    logs = [log_counts[n - r] for r in row]
    mean = sum(logs) / len(logs)
    return [d - x + mean for d, x in zip(log_denominators, logs, strict=True)]


# ---- the router ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class LearnedRouter:
    """A trained model: channels, weights per feature, and the confidence it needs to answer.

    `table` maps a feature to 2×K weights: logistic regression's for the K channels, then naive
    Bayes'. Character n-grams only carry naive Bayes weights (the first K are zero).
    """

    channels: tuple[str, ...]
    size: int
    min_confidence: float
    table: dict[str, tuple[float, ...]] = field(repr=False)
    bias: tuple[float, ...] = field(repr=False)

    @classmethod
    def train(
        cls, examples: Sequence[Example], *, min_confidence: float = DEFAULT_MIN_CONFIDENCE
    ) -> LearnedRouter:
        """Train from labelled examples; an empty list gives an untrained router (predicts None)."""
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within 0..1, not {min_confidence}")
        ordered = sorted((e.text, e.channel) for e in examples if e.channel)
        usable = [(tokens, channel) for text, channel in ordered if (tokens := _tokens(text))]
        channels = tuple(sorted({channel for _, channel in usable}))
        if len(channels) < 2:  # nothing to choose between (yet): an untrained router
            return cls((), 0, min_confidence, {}, ())
        position = {channel: i for i, channel in enumerate(channels)}
        words = [(_word_features(t), position[c]) for t, c in usable]
        chars = [_char_features(t) for t, _ in usable]
        k = len(channels)
        docs = _prune([(w + ch, y) for (w, y), ch in zip(words, chars, strict=True)])
        lr_weights, lr_bias = _train_logistic(_prune(words), k)
        nb_weights, nb_priors = _train_complement_nb(docs, k)
        table = _merge(lr_weights, nb_weights, k)
        return cls(channels, len(usable), min_confidence, table, tuple(lr_bias + nb_priors))

    @property
    def trained(self) -> bool:
        return bool(self.channels)

    def scores(self, text: str) -> list[tuple[str, float]]:
        """Every channel with its probability, best first (ties by channel name); [] untrained."""
        if not self.trained:
            return []
        tokens = _tokens(text)
        rows = self._rows(_word_features(tokens) + _char_features(tokens))
        probabilities = self._probabilities(rows)
        return sorted(zip(self.channels, probabilities, strict=True), key=lambda p: (-p[1], p[0]))

    def predict(self, text: str) -> Prediction | None:
        """The best channel when confident enough (at least ``min_confidence``); None when
        untrained, when fewer than two channels were taught, when nothing in the text was seen
        in training, or below the threshold."""
        guess = self.best_guess(text)
        return guess if guess is not None and guess.confidence >= self.min_confidence else None

    def best_guess(self, text: str) -> Prediction | None:
        """The most likely channel whatever the threshold (for a fallback card to offer); None
        when untrained, when fewer than two channels were taught, or when nothing in the text
        was seen in training."""
        if len(self.channels) < 2:
            return None
        tokens = _tokens(text)
        rows = self._rows(_word_features(tokens) + _char_features(tokens))
        if not rows:
            return None
        probabilities = self._probabilities(rows)
        best = min(range(len(self.channels)), key=lambda c: (-probabilities[c], self.channels[c]))
        confidence, channel = probabilities[best], self.channels[best]
        telling = self._telling_words(tokens, best)
        return Prediction(channel, confidence, _why(self.size, confidence, channel, telling))

    def _rows(self, feats: Iterable[str]) -> list[tuple[float, ...]]:
        return [row for row in map(self.table.get, feats) if row is not None]

    def _probabilities(self, rows: Sequence[tuple[float, ...]]) -> list[float]:
        """Average of the two models' probabilities (the bias row first, so rows never empty)."""
        k = len(self.channels)
        totals = [sum(column) for column in zip(self.bias, *rows, strict=True)]
        logistic = _softmax(totals[:k])
        bayes = _softmax(totals[k:], NB_TEMPERATURE)
        return [(a + b) / 2 for a, b in zip(logistic, bayes, strict=True)]

    def _telling_words(self, tokens: Sequence[_Token], channel: int) -> list[str]:
        """Words (or pairs) of the text that pull hardest towards the channel, as written."""
        k = len(self.channels)
        candidates = [(t.stem, t.surface) for t in tokens] + [
            (f"{a.stem} {b.stem}", f"{a.surface} {b.surface}")
            for a, b in itertools.pairwise(tokens)
        ]
        pulls: dict[str, float] = {}
        for feature, shown in candidates:
            row = self.table.get(feature)
            if row is not None and shown not in pulls:
                pulls[shown] = row[channel] + row[k + channel] / NB_TEMPERATURE
        ranked = sorted((p for p in pulls.items() if p[1] > 0), key=lambda p: (-p[1], p[0]))
        chosen: list[str] = []
        used: set[str] = set()
        for shown, _ in ranked:
            if used.isdisjoint(shown.split()) and _telling(shown):
                chosen.append(shown)
                used.update(shown.split())
        return chosen[:WHY_WORDS]


def _telling(shown: str) -> bool:
    """Worth naming on a card: at least one word that is not a short or function word."""
    return any(len(word) > 2 and word not in _QUIET for word in shown.split())


def _merge(
    logistic: dict[str, list[float]], bayes: dict[str, list[float]], k: int
) -> dict[str, tuple[float, ...]]:
    """One lookup per feature at prediction time: both models' weights side by side."""
    zeros = [0.0] * k
    return {f: tuple(logistic.get(f, zeros) + row) for f, row in bayes.items()}


def _why(size: int, confidence: float, channel: str, words: Sequence[str]) -> str:
    """E.g. learned from 1,204 examples: 0.82 like #baggage (“bag”, “lost”, “carousel”)."""
    noun = "example" if size == 1 else "examples"
    quoted = ", ".join(f"“{w}”" for w in words)
    tail = f" ({quoted})" if quoted else ""
    return f"learned from {size:,} {noun}: {confidence:.2f} like {channel}{tail}"
