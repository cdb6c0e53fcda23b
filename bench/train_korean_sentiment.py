"""Train the Korean sentiment model that ships in bot/decide/weights/korean_sentiment.tsv.gz.

    python bench/train_korean_sentiment.py [--out PATH]

Reads ../shared/data/korean_train_mentions.jsonl (40,000 Naver movie reviews from NSMC, CC0 1.0,
labelled negative / neutral / positive from the reviewer's 1–10 score) at run time and nothing
else: no other NSMC data, no download. The dev file is only read to print the raw model's
figures at the end; the blend with the care lexicon is tuned in bench/eval_sentiment.py.

The model: multinomial logistic regression over the character 1–4-grams of
``bot.decide.korean.features`` (the same function the bot uses), presence only, divided by the
square root of the text's n-gram count. N-grams in fewer than three reviews are left out (so no
single review's wording is in the file), then the least useful are pruned: each n-gram is
scored by its largest weight times the square root of its review count, the top ``KEEP`` are
kept and the model is trained again on them alone. Then, as in NBSVM (Wang and Manning 2012),
naive Bayes log-probabilities of the same n-grams are added to the weights at half strength:
they hold up rare n-grams the L2 penalty keeps small (about a point of macro-F1 on the dev file).
Weights are stored against neutral (two per n-gram) as integers of a common scale. Training is
full-batch Adam from zeros, deterministic: the same data gives the same file, byte for byte.
Needs numpy (installed with matplotlib). About a minute on a laptop.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.decide.korean import WEIGHTS, features, parse_weights

DATA = ROOT.parent / "shared" / "data"
TRAIN = DATA / "korean_train_mentions.jsonl"
DEV = DATA / "korean_dev_mentions.jsonl"
OUT = ROOT / "bot" / "decide" / "weights" / WEIGHTS
LABELS = ("negative", "neutral", "positive")
MIN_REVIEWS = 3  # an n-gram must occur in this many training reviews
KEEP = 60_000  # n-grams kept after pruning
EPOCHS = 50  # full-batch Adam steps (more overfits: chosen on the dev file)
LEARNING_RATE = 0.05
L2 = 1e-5
NAIVE_BAYES = 0.5  # weight of the naive Bayes log-probabilities added to the regression's
SMOOTHING = 0.5  # naive Bayes: added to each n-gram's review count per class
LEVELS = 127  # quantisation: weights become integers in -127..127 of a common scale


@dataclass(frozen=True)
class Matrix:
    """Rows of n-gram ids, compressed: row ``r`` is ``ids[starts[r]:starts[r + 1]]``."""

    ids: NDArray[np.int64]
    starts: NDArray[np.int64]
    norms: NDArray[np.float64]  # 1 / sqrt(n-grams in the text)


def load(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def vocabulary(grams: Sequence[frozenset[str]], *, min_reviews: int) -> list[str]:
    counts = Counter(gram for text in grams for gram in text)
    return sorted(gram for gram, count in counts.items() if count >= min_reviews)


def matrix(grams: Sequence[frozenset[str]], *, vocab: Sequence[str]) -> Matrix:
    index = {gram: i for i, gram in enumerate(vocab)}
    ids: list[int] = []
    starts = [0]
    norms = []
    for text in grams:
        ids.extend(sorted(index[g] for g in text if g in index))
        starts.append(len(ids))
        norms.append(1.0 / np.sqrt(max(len(text), 1)))
    return Matrix(np.array(ids, dtype=np.int64), np.array(starts), np.array(norms))


def logits(weights: NDArray[np.float64], bias: NDArray[np.float64], x: Matrix) -> NDArray[Any]:
    """Per text: bias + norm * sum of its n-grams' weights (texts without known n-grams: bias)."""
    sums = np.zeros((len(x.starts) - 1, weights.shape[1]))
    rows = np.repeat(np.arange(len(x.starts) - 1), np.diff(x.starts))
    for k in range(weights.shape[1]):
        sums[:, k] = np.bincount(rows, weights=weights[x.ids, k], minlength=len(sums))
    return sums * x.norms[:, None] + bias


def train(x: Matrix, labels: NDArray[np.int64], *, size: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """Softmax regression, full-batch Adam from zeros with an L2 penalty: (weights, bias)."""
    weights, bias = np.zeros((size, len(LABELS))), np.zeros(len(LABELS))
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros(3), np.zeros(3)]
    target = np.eye(len(LABELS))[labels]
    rows = np.repeat(np.arange(len(labels)), np.diff(x.starts))
    for step in range(1, EPOCHS + 1):
        scores = logits(weights, bias, x)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        error = (scores / scores.sum(axis=1, keepdims=True) - target) / len(labels)
        spread = error[rows] * x.norms[rows, None]
        grad = np.stack(
            [np.bincount(x.ids, weights=spread[:, k], minlength=size) for k in range(3)], axis=1
        )
        _adam(weights, grad + L2 * weights, moments[0], moments[1], step=step)
        _adam(bias, error.sum(axis=0), moments[2], moments[3], step=step)
    return weights, bias


def _adam(
    param: NDArray[Any], grad: NDArray[Any], m: NDArray[Any], v: NDArray[Any], *, step: int
) -> None:
    m *= 0.9
    m += 0.1 * grad
    v *= 0.999
    v += 0.001 * grad * grad
    param -= LEARNING_RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)


def naive_bayes(x: Matrix, labels: NDArray[np.int64], *, size: int) -> NDArray[Any]:
    """Per n-gram, the log-probability of occurring in a review of each class, centred."""
    rows = np.repeat(np.arange(len(labels)), np.diff(x.starts))
    counts = np.stack(
        [np.bincount(x.ids[labels[rows] == k], minlength=size) for k in range(len(LABELS))], axis=1
    )
    smoothed = counts + SMOOTHING
    log_p = np.log(smoothed / smoothed.sum(axis=0))
    centred: NDArray[Any] = log_p - log_p.mean(axis=1, keepdims=True)
    return centred


def prune(vocab: Sequence[str], weights: NDArray[Any], x: Matrix, *, keep: int) -> list[str]:
    """The ``keep`` n-grams with the largest (weight spread x sqrt(review count))."""
    reviews = np.bincount(x.ids, minlength=len(vocab))
    spread = np.abs(weights - weights.mean(axis=1, keepdims=True)).max(axis=1)
    best = np.argsort(-(spread * np.sqrt(reviews)), kind="stable")[:keep]
    return [vocab[i] for i in sorted(best)]


def serialise(vocab: Sequence[str], weights: NDArray[Any], bias: NDArray[Any]) -> str:
    """The weights file: a header, then n-gram, negative, positive (against neutral)."""
    against = weights[:, [0, 2]] - weights[:, [1]]
    scale = float(np.abs(against).max()) / LEVELS
    units = np.rint(against / scale).astype(int)
    relative = bias[[0, 2]] - bias[1]
    lines = [
        "# Korean sentiment weights for Earshot (bot/decide/korean.py).",
        "# Trained on korean_train_mentions.jsonl: 40,000 Naver movie reviews from the Naver",
        "# Sentiment Movie Corpus (NSMC, Lucy Park 2015, github.com/e9t/nsmc), CC0 1.0.",
        "# Labels from the reviewer's 1-10 score: 1-4 negative, 5-6 neutral, 7-10 positive.",
        "# Rebuild: python bench/train_korean_sentiment.py",
        f"# Character 1-4-grams in >= {MIN_REVIEWS} reviews, top {len(vocab)} kept.",
        "# Each line: n-gram, TAB, negative, TAB, positive (logits against neutral, in units",
        "# of scale; an n-gram may begin or end with a space).",
        f"# scale: {scale:.9g}",
        f"# bias: {relative[0]:.6f} {relative[1]:.6f}",
    ]
    rows = (f"{g}\t{n}\t{p}" for g, (n, p) in zip(vocab, units, strict=True) if n or p)
    return "\n".join([*lines, *rows]) + "\n"


def figures(gold: Sequence[str], predicted: Sequence[str]) -> str:
    pairs = list(zip(gold, predicted, strict=True))
    f1 = {
        label: 2
        * sum(g == p == label for g, p in pairs)
        / max(1, sum(g == label for g in gold) + sum(p == label for p in predicted))
        for label in LABELS
    }
    accuracy = sum(g == p for g, p in pairs) / len(pairs)
    return (
        f"acc {accuracy:.3f}  macro-F1 {sum(f1.values()) / 3:.3f}  neg-F1 {f1['negative']:.3f}"
        f"  (neu {f1['neutral']:.3f}, pos {f1['positive']:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--keep", type=int, default=KEEP)
    args = parser.parse_args()
    if not TRAIN.exists():
        sys.exit(f"{TRAIN} not found: the training data lives outside the repo, in ../shared")
    began = time.perf_counter()
    rows = load(TRAIN)
    grams = [features(str(row["text"])) for row in rows]
    labels = np.array([LABELS.index(str(row["gold_sentiment"])) for row in rows])
    vocab = vocabulary(grams, min_reviews=MIN_REVIEWS)
    x = matrix(grams, vocab=vocab)
    weights, _ = train(x, labels, size=len(vocab))
    print(f"{len(rows)} reviews, {len(vocab)} n-grams in >= {MIN_REVIEWS} reviews")
    vocab = prune(vocab, weights, x, keep=args.keep)
    x = matrix(grams, vocab=vocab)
    weights, bias = train(x, labels, size=len(vocab))
    weights += NAIVE_BAYES * naive_bayes(x, labels, size=len(vocab))
    packed = gzip.compress(serialise(vocab, weights, bias).encode("utf-8"), 9, mtime=0)
    args.out.write_bytes(packed)
    took = time.perf_counter() - began
    print(f"wrote {args.out} ({len(packed):,} bytes, {len(vocab)} n-grams) in {took:.0f} s")
    model = parse_weights(gzip.decompress(packed).decode("utf-8"))
    dev = load(DEV)
    predicted = []
    for row in dev:
        odds = model.read(str(row["text"])).probabilities()
        predicted.append(LABELS[odds.index(max(odds))])
    print(f"dev, model alone: {figures([str(r['gold_sentiment']) for r in dev], predicted)}")


if __name__ == "__main__":
    main()
