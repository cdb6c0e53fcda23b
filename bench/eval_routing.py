"""Learned routing accuracy: Earshot's LearnedRouter against simple baselines on labelled tweets.

    python bench/eval_routing.py [--jsonl FILE] [--folds-only]

Reads ../shared/data/airline_dev_routing.jsonl at run time (third-party data stays outside the
repo). Each example goes to fold sha1(mention id) % 5. Fold 0 is held back: no feature, parameter
or threshold was chosen on it. Model selection used cross-validation over folds 1-4 only; the
threshold table printed first is that evidence. Then, on the held-back fold (trained on folds 1-4):
majority class, a plain multinomial naive Bayes on word unigrams, Earshot always answering, and
Earshot at its default min_confidence, with per-channel recall, confusions, training time and
prediction latency. Last, 5-fold cross-validated accuracy for the baseline and Earshot.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.decide.learned import DEFAULT_MIN_CONFIDENCE, Example, LearnedRouter

DEV = ROOT.parent / "shared" / "data" / "airline_dev_routing.jsonl"
FOLDS = 5
HELD_BACK = 0
THRESHOLDS = (0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)
_PLAIN_WORD = re.compile(r"[a-z0-9']+")

Classifier = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    channel: str
    fold: int


def fold_of(mention_id: str) -> int:
    """Deterministic fold from the mention id, independent of file order."""
    return int(hashlib.sha1(mention_id.encode("utf-8")).hexdigest(), 16) % FOLDS


def load(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            mention = item["mention"]
            rows.append(Row(mention["text"], item["channel"], fold_of(mention["id"])))
    return rows


def examples(rows: Sequence[Row]) -> list[Example]:
    return [Example(r.text, r.channel) for r in rows]


# ---- baselines ----------------------------------------------------------------------------------


def majority(train: Sequence[Row]) -> Classifier:
    top = min(Counter(r.channel for r in train).items(), key=lambda p: (-p[1], p[0]))[0]
    return lambda _text: top


def plain_naive_bayes(train: Sequence[Row], *, alpha: float = 1.0) -> Classifier:
    """Multinomial naive Bayes on lowercase word unigrams (counts), Laplace smoothing, priors."""
    counts: dict[str, Counter[str]] = {}
    for r in train:
        counts.setdefault(r.channel, Counter()).update(_PLAIN_WORD.findall(r.text.lower()))
    vocabulary = set().union(*counts.values())
    sizes = Counter(r.channel for r in train)
    prior = {c: math.log(sizes[c] / len(train)) for c in counts}
    log_p: dict[str, dict[str, float]] = {}
    for c, words in counts.items():
        total = sum(words.values()) + alpha * len(vocabulary)
        log_p[c] = {w: math.log((words[w] + alpha) / total) for w in vocabulary}

    def classify(text: str) -> str:
        words = [w for w in _PLAIN_WORD.findall(text.lower()) if w in vocabulary]
        score = {c: prior[c] + sum(log_p[c][w] for w in words) for c in counts}
        return min(score, key=lambda c: (-score[c], c))

    return classify


def earshot(train: Sequence[Row], *, min_confidence: float = 0.0) -> Classifier:
    router = LearnedRouter.train(examples(train), min_confidence=min_confidence)

    def classify(text: str) -> str | None:
        found = router.predict(text)
        return found.channel if found else None

    return classify


# ---- measures -----------------------------------------------------------------------------------


def accuracy(classify: Classifier, test: Sequence[Row]) -> float:
    return sum(classify(r.text) == r.channel for r in test) / len(test)


def cross_validate(
    make: Callable[[Sequence[Row]], Classifier], rows: Sequence[Row], folds: Sequence[int]
) -> list[float]:
    """Accuracy on each fold, training on the other folds listed."""
    scores = []
    for k in folds:
        train = [r for r in rows if r.fold in folds and r.fold != k]
        scores.append(accuracy(make(train), [r for r in rows if r.fold == k]))
    return scores


def mean_sd(values: Sequence[float]) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def threshold_table(rows: Sequence[Row], folds: Sequence[int]) -> None:
    """Coverage and answered accuracy per min_confidence, pooled over cross-validation folds."""
    pooled: list[tuple[float, bool]] = []
    always: list[bool] = []
    for k in folds:
        train = [r for r in rows if r.fold in folds and r.fold != k]
        router = LearnedRouter.train(examples(train), min_confidence=0.0)
        for r in (r for r in rows if r.fold == k):
            found = router.predict(r.text)
            pooled.append((found.confidence, found.channel == r.channel) if found else (0.0, False))
            always.append(_best(router, r.text) == r.channel)
    print(f"selection: CV over folds {list(folds)}, {len(always)} predictions pooled")
    print(f"Earshot always answering: accuracy {sum(always) / len(always):.3f}")
    print("min_confidence  coverage  accuracy when answered")
    for t in THRESHOLDS:
        answered = [ok for conf, ok in pooled if conf >= t and conf > 0]
        cover = len(answered) / len(pooled)
        acc = sum(answered) / len(answered) if answered else float("nan")
        mark = "  <- default" if t == DEFAULT_MIN_CONFIDENCE else ""
        print(f"{t:>14.2f}  {cover:>8.3f}  {acc:>8.3f}{mark}")


def report_channels(router: LearnedRouter, test: Sequence[Row]) -> None:
    """Per-channel recall and the most common confusions (always answering)."""
    pairs = [(r.channel, _best(router, r.text)) for r in test]
    gold = Counter(g for g, _ in pairs)
    print("per-channel recall (Earshot, always answering):")
    for channel in sorted(gold):
        hit = sum(1 for g, p in pairs if g == channel == p)
        print(f"  {channel:<10} {hit / gold[channel]:.3f}  ({hit}/{gold[channel]})")
    confusions = Counter((g, p) for g, p in pairs if g != p)
    print("most common confusions (gold -> predicted):")
    for (g, p), n in confusions.most_common(8):
        print(f"  {g:<10} -> {p:<10} {n}")
    _print_matrix(pairs, sorted(gold))


def _best(router: LearnedRouter, text: str) -> str:
    ranked = router.scores(text)
    return ranked[0][0]


def _print_matrix(pairs: Sequence[tuple[str, str]], channels: Sequence[str]) -> None:
    counts = Counter(pairs)
    print("confusion matrix (rows gold, columns predicted):")
    print(" " * 11 + "".join(f"{c[:9]:>10}" for c in channels))
    for g in channels:
        print(f"  {g:<9}" + "".join(f"{counts[(g, p)]:>10}" for p in channels))


def latency(router: LearnedRouter, test: Sequence[Row]) -> tuple[float, float]:
    """Median and p95 of predict() in milliseconds, after a warm-up."""
    for r in test[:100]:
        router.predict(r.text)
    timings = []
    for r in test:
        began = time.perf_counter()
        router.predict(r.text)
        timings.append((time.perf_counter() - began) * 1e3)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


# ---- the report ---------------------------------------------------------------------------------


def held_back(rows: Sequence[Row]) -> None:
    train = [r for r in rows if r.fold != HELD_BACK]
    test = [r for r in rows if r.fold == HELD_BACK]
    print(f"\nheld-back fold {HELD_BACK}: {len(test)} mentions; trained on {len(train)}")
    print(f"(a) majority class              accuracy {accuracy(majority(train), test):.3f}")
    print(
        f"(b) naive Bayes, word unigrams  accuracy {accuracy(plain_naive_bayes(train), test):.3f}"
    )
    began = time.perf_counter()
    router = LearnedRouter.train(examples(train), min_confidence=DEFAULT_MIN_CONFIDENCE)
    trained_in = time.perf_counter() - began
    always = sum(_best(router, r.text) == r.channel for r in test) / len(test)
    print(f"(c) Earshot, always answering   accuracy {always:.3f}")
    found = [(router.predict(r.text), r.channel) for r in test]
    answered = [(p.channel == g) for p, g in found if p is not None]
    print(
        f"(d) Earshot, min_confidence {DEFAULT_MIN_CONFIDENCE:.2f}: coverage "
        f"{len(answered) / len(test):.3f}, accuracy when answered "
        f"{sum(answered) / max(len(answered), 1):.3f}  ({len(answered)}/{len(test)} answered)"
    )
    report_channels(router, test)
    median, p95 = latency(router, test)
    print(f"training: {trained_in:.2f} s for {router.size} examples ({len(router.table)} features)")
    print(f"predict latency: median {median:.3f} ms, p95 {p95:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl", type=Path, default=DEV)
    parser.add_argument(
        "--folds-only", action="store_true", help="only the selection table over folds 1-4"
    )
    args = parser.parse_args()
    if not args.jsonl.exists():
        sys.exit(f"no labelled data at {args.jsonl}; pass --jsonl FILE")
    rows = load(args.jsonl)
    print(f"input: {args.jsonl.name}, {len(rows)} labelled mentions")
    print(f"channels: {dict(sorted(Counter(r.channel for r in rows).items()))}\n")
    selection = [f for f in range(FOLDS) if f != HELD_BACK]
    threshold_table(rows, selection)
    if args.folds_only:
        return
    held_back(rows)
    every = list(range(FOLDS))
    print("\n5-fold cross-validated accuracy (mean ± sd over folds 0-4):")
    print(
        f"(b) naive Bayes, word unigrams  {mean_sd(cross_validate(plain_naive_bayes, rows, every))}"
    )
    print(f"(c) Earshot, always answering   {mean_sd(cross_validate(earshot, rows, every))}")


if __name__ == "__main__":
    main()
