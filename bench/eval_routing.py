"""Learned routing accuracy: Earshot's LearnedRouter beside a naive Bayes baseline, same rows.

    python bench/eval_routing.py [--jsonl FILE] [--folds N]

Reads ../shared/data/airline_dev_routing.jsonl at run time (third-party data stays outside the
repo). Each example goes to fold sha1(mention id) % 5. Every fold is an evaluation fold once,
with a model trained on the other four, and every figure is measured on the same rows:

- the baseline, a plain multinomial naive Bayes on word unigrams (it always answers);
- Earshot at its default settings (``DEFAULT_MIN_CONFIDENCE``): below it the mention goes to the
  fallback channel, which counts as wrong, so this is accuracy × coverage;
- Earshot always answering (the best channel whatever its confidence);
- per-channel recall of each, confusions, training time and prediction latency.

The default threshold is chosen without looking at the evaluation fold: inside each round, a
cross-validation over the four training folds applies the rule (`choose_threshold`: the highest
threshold that costs at most one mention in a thousand against the best accuracy × coverage),
and the bench shows what the rule picked in each round and the accuracy at that pick. The shipped
default is the rule's pick on all rows (a user's whole teach set); the bench says if they differ.
The last line is JSON.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.decide.learned import DEFAULT_MIN_CONFIDENCE, Example, LearnedRouter

DEV = ROOT.parent / "shared" / "data" / "airline_dev_routing.jsonl"
FOLDS = 5
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(20))  # 0.00 .. 0.95
TOLERANCE = 0.001  # a threshold may cost this much accuracy × coverage (1 mention in 1,000)
_PLAIN_WORD = re.compile(r"[a-z0-9']+")

Classifier = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    channel: str
    fold: int


@dataclass(frozen=True, slots=True)
class Answer:
    """What Earshot made of one evaluation row: its best channel, how sure, and whether it would
    route there at the default threshold (else the fallback)."""

    gold: str
    best: str
    confidence: float  # 0 when nothing in the text was seen in training
    routed: bool

    @property
    def at_defaults(self) -> str | None:
        return self.best if self.routed else None


def fold_of(mention_id: str, folds: int = FOLDS) -> int:
    """Deterministic fold from the mention id, independent of file order."""
    return int(hashlib.sha1(mention_id.encode("utf-8")).hexdigest(), 16) % folds


def load(path: Path, folds: int) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            mention = item["mention"]
            rows.append(Row(mention["text"], item["channel"], fold_of(mention["id"], folds)))
    return rows


def examples(rows: Sequence[Row]) -> list[Example]:
    return [Example(r.text, r.channel) for r in rows]


# ---- the baseline -------------------------------------------------------------------------------


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


# ---- Earshot ------------------------------------------------------------------------------------


def answer(router: LearnedRouter, row: Row) -> Answer:
    """The router's answer as the product gives it: ``predict`` (threshold applied) for the
    default settings, the top of ``scores`` for always answering."""
    routed = router.predict(row.text)
    guess = router.best_guess(row.text)
    best = guess.channel if guess else router.scores(row.text)[0][0]
    return Answer(row.channel, best, guess.confidence if guess else 0.0, routed is not None)


def inner_answers(train: Sequence[Row]) -> list[Answer]:
    """Cross-validation inside the training folds only: each of them predicted by a router
    trained on the others."""
    found: list[Answer] = []
    for k in sorted({r.fold for r in train}):
        router = LearnedRouter.train(examples([r for r in train if r.fold != k]))
        found += [answer(router, r) for r in train if r.fold == k]
    return found


def accuracy_at(answers: Sequence[Answer], threshold: float) -> float:
    """Accuracy × coverage at a threshold: a mention below it goes to the fallback (wrong)."""
    hits = sum(a.best == a.gold and a.confidence >= threshold and a.confidence > 0 for a in answers)
    return hits / len(answers)


def choose_threshold(answers: Sequence[Answer]) -> float:
    """The highest threshold whose accuracy × coverage is within TOLERANCE of the best one."""
    scored = {t: accuracy_at(answers, t) for t in THRESHOLDS}
    best = max(scored.values())
    return max(t for t, score in scored.items() if score >= best - TOLERANCE)


# ---- one round: train on all folds but one, measure on it ----------------------------------------


@dataclass(frozen=True, slots=True)
class Round:
    fold: int
    baseline: list[tuple[str, str]]  # (gold, predicted)
    earshot: list[Answer]
    chosen: float  # the threshold the rule picked inside the training folds
    at_chosen: float  # accuracy × coverage on this fold at that pick
    inner: list[Answer]  # the training folds' cross-validated answers (the rule's evidence)
    train_seconds: float
    latency_ms: list[float]
    features: int


def run_round(rows: Sequence[Row], fold: int, *, select: bool) -> Round:
    train = [r for r in rows if r.fold != fold]
    test = [r for r in rows if r.fold == fold]
    naive = plain_naive_bayes(train)
    began = time.perf_counter()
    router = LearnedRouter.train(examples(train), min_confidence=DEFAULT_MIN_CONFIDENCE)
    trained_in = time.perf_counter() - began
    answers = [answer(router, r) for r in test]
    inner = inner_answers(train) if select else []
    chosen = choose_threshold(inner) if select else DEFAULT_MIN_CONFIDENCE
    return Round(
        fold=fold,
        baseline=[(r.channel, naive(r.text)) for r in test],
        earshot=answers,
        chosen=chosen,
        at_chosen=accuracy_at(answers, chosen),
        inner=inner,
        train_seconds=trained_in,
        latency_ms=latency(router, test),
        features=len(router.table),
    )


def latency(router: LearnedRouter, test: Sequence[Row]) -> list[float]:
    """predict() per mention in milliseconds, after a warm-up."""
    for r in test[:100]:
        router.predict(r.text)
    timings = []
    for r in test:
        began = time.perf_counter()
        router.predict(r.text)
        timings.append((time.perf_counter() - began) * 1e3)
    return timings


# ---- measures -----------------------------------------------------------------------------------


def correct(pairs: Sequence[tuple[str, str | None]]) -> float:
    return sum(g == p for g, p in pairs) / len(pairs)


def recall(pairs: Sequence[tuple[str, str | None]], channels: Sequence[str]) -> dict[str, float]:
    gold = Counter(g for g, _ in pairs)
    return {c: sum(g == p == c for g, p in pairs) / gold[c] for c in channels}


def mean_sd(values: Sequence[float]) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


@dataclass(frozen=True, slots=True)
class Figures:
    """Every figure of the report, pooled over the rounds (each row is evaluated once)."""

    channels: list[str]
    baseline: list[tuple[str, str]]
    defaults: list[tuple[str, str | None]]
    always: list[tuple[str, str | None]]
    coverage: float

    @classmethod
    def of(cls, rounds: Sequence[Round]) -> Figures:
        answers = [a for r in rounds for a in r.earshot]
        return cls(
            channels=sorted({a.gold for a in answers}),
            baseline=[p for r in rounds for p in r.baseline],
            defaults=[(a.gold, a.at_defaults) for a in answers],
            always=[(a.gold, a.best) for a in answers],
            coverage=sum(a.routed for a in answers) / len(answers),
        )

    def answered(self) -> float:
        routed = [(g, p) for g, p in self.defaults if p is not None]
        return correct(routed) if routed else float("nan")


# ---- the report ---------------------------------------------------------------------------------


def per_round(rounds: Sequence[Round]) -> None:
    print("round  rows  baseline NB  Earshot at defaults (coverage)  always answering  rule's pick")
    for r in rounds:
        at = correct([(a.gold, a.at_defaults) for a in r.earshot])
        cover = sum(a.routed for a in r.earshot) / len(r.earshot)
        always = correct([(a.gold, a.best) for a in r.earshot])
        pick = f"{r.chosen:.2f} ({r.at_chosen:.3f})" if r.inner else "–"
        print(
            f"{r.fold:>5}  {len(r.earshot):>4}  {correct(r.baseline):>11.3f}  "
            f"{at:>19.3f} ({cover:.3f})  {always:>16.3f}  {pick:>11}"
        )


def summary(rounds: Sequence[Round], figures: Figures) -> None:
    def spread(measure: Callable[[Round], float]) -> str:
        return mean_sd([measure(r) for r in rounds])

    print(f"\n{len(rounds)}-fold figures, pooled (mean ± sd over rounds in brackets):")
    print(f"{'':<36}{'baseline NB':>12}{'Earshot':>10}")
    base, always = correct(figures.baseline), correct(figures.always)
    at = correct(figures.defaults)
    base_sd = spread(lambda r: correct(r.baseline))
    at_sd = spread(lambda r: correct([(a.gold, a.at_defaults) for a in r.earshot]))
    always_sd = spread(lambda r: correct([(a.gold, a.best) for a in r.earshot]))
    label = f"accuracy at defaults ({DEFAULT_MIN_CONFIDENCE:.2f})"
    print(f"{label:<36}{base:>12.3f}{at:>10.3f}   [{base_sd} | {at_sd}]")
    print(f"{'coverage at defaults':<36}{1.0:>12.3f}{figures.coverage:>10.3f}")
    print(f"{'accuracy when answered':<36}{base:>12.3f}{figures.answered():>10.3f}")
    print(f"{'accuracy always answering':<36}{base:>12.3f}{always:>10.3f}   [{always_sd}]")
    gold = Counter(g for g, _ in figures.always)
    rb, rd = recall(figures.baseline, figures.channels), recall(figures.defaults, figures.channels)
    ra = recall(figures.always, figures.channels)
    print(f"per-channel recall{'':<18}{'baseline NB':>12}{'defaults':>10}{'always':>10}")
    for c in figures.channels:
        print(f"  {c:<12}({gold[c]:>5}){'':<13}{rb[c]:>12.3f}{rd[c]:>10.3f}{ra[c]:>10.3f}")
    print(
        f"  {'macro':<33}{statistics.mean(rb.values()):>12.3f}"
        f"{statistics.mean(rd.values()):>10.3f}{statistics.mean(ra.values()):>10.3f}"
    )


def selection(rounds: Sequence[Round]) -> None:
    """The rule's evidence: accuracy × coverage per threshold inside the training folds."""
    picks = [r.chosen for r in rounds]
    print("\nthreshold selection, inside the training folds of each round (no evaluation rows):")
    print("min_confidence  coverage  accuracy×coverage  accuracy when answered  (mean over rounds)")
    for t in THRESHOLDS[:17]:
        cover = statistics.mean(_coverage(r.inner, t) for r in rounds)
        score = statistics.mean(accuracy_at(r.inner, t) for r in rounds)
        mark = "  <- default" if math.isclose(t, DEFAULT_MIN_CONFIDENCE) else ""
        print(f"{t:>14.2f}  {cover:>8.3f}  {score:>17.3f}  {score / cover:>22.3f}{mark}")
    shown = ", ".join(f"{p:.2f}" for p in picks)
    print(f"the rule's pick inside each round's training folds: {shown}")
    at_pick = correct([a for r in rounds for a in _at(r.earshot, r.chosen)])
    print(
        f"accuracy at each round's own pick, pooled (the honest figure for the rule): {at_pick:.3f}"
    )
    overall = choose_threshold([a for r in rounds for a in r.earshot])
    print(
        f"the rule's pick on all {sum(len(r.earshot) for r in rounds):,} rows (as a user's whole "
        f"teach set): {overall:.2f}; the shipped default is {DEFAULT_MIN_CONFIDENCE:.2f}"
    )
    if not math.isclose(overall, DEFAULT_MIN_CONFIDENCE):
        print("NOTE: the shipped default is not the rule's pick: update DEFAULT_MIN_CONFIDENCE")


def _coverage(answers: Sequence[Answer], threshold: float) -> float:
    return sum(a.confidence >= threshold and a.confidence > 0 for a in answers) / len(answers)


def _at(answers: Sequence[Answer], threshold: float) -> list[tuple[str, str | None]]:
    routed = [a.best if a.confidence >= threshold and a.confidence > 0 else None for a in answers]
    return [(a.gold, p) for a, p in zip(answers, routed, strict=True)]


def confusions(figures: Figures) -> None:
    pairs = [(g, p or "fallback") for g, p in figures.defaults]
    columns = [*figures.channels, "fallback"]
    counts = Counter(pairs)
    print("\nconfusion at defaults (rows gold, columns where Earshot sent it):")
    print(" " * 11 + "".join(f"{c[:9]:>10}" for c in columns))
    for g in figures.channels:
        print(f"  {g:<9}" + "".join(f"{counts[(g, p)]:>10}" for p in columns))


def speed(rounds: Sequence[Round]) -> dict[str, float]:
    timings = sorted(t for r in rounds for t in r.latency_ms)
    figures = {
        "train_seconds": statistics.mean(r.train_seconds for r in rounds),
        "predict_ms_median": statistics.median(timings),
        "predict_ms_p95": timings[int(len(timings) * 0.95)],
    }
    train_rows = sum(len(r.earshot) for r in rounds) * (len(rounds) - 1) // len(rounds)
    print(
        f"\ntraining: {figures['train_seconds']:.2f} s for about {train_rows:,} examples "
        f"({statistics.mean(r.features for r in rounds):,.0f} features); predict latency: "
        f"median {figures['predict_ms_median']:.3f} ms, p95 {figures['predict_ms_p95']:.3f} ms"
    )
    return figures


def as_json(rounds: Sequence[Round], figures: Figures, timing: dict[str, float]) -> str:
    def three(values: dict[str, float]) -> dict[str, float]:
        return {k: round(v, 3) for k, v in values.items()}

    result: dict[str, Any] = {
        "bench": "eval_routing",
        "rows": len(figures.always),
        "folds": len(rounds),
        "baseline_nb": {
            "accuracy": round(correct(figures.baseline), 3),
            "recall": three(recall(figures.baseline, figures.channels)),
        },
        "earshot": {
            "min_confidence": DEFAULT_MIN_CONFIDENCE,
            "accuracy_at_defaults": round(correct(figures.defaults), 3),
            "coverage_at_defaults": round(figures.coverage, 3),
            "accuracy_when_answered": round(figures.answered(), 3),
            "accuracy_always_answering": round(correct(figures.always), 3),
            "recall_at_defaults": three(recall(figures.defaults, figures.channels)),
            "recall_always_answering": three(recall(figures.always, figures.channels)),
        },
        "threshold_picks": [r.chosen for r in rounds] if rounds[0].inner else None,
        "accuracy_at_own_picks": (
            round(correct([a for r in rounds for a in _at(r.earshot, r.chosen)]), 3)
            if rounds[0].inner
            else None
        ),
        "threshold_pick_all_rows": choose_threshold([a for r in rounds for a in r.earshot]),
        **{k: round(v, 3) for k, v in timing.items()},
    }
    return json.dumps(result, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl", type=Path, default=DEV)
    parser.add_argument("--folds", type=int, default=FOLDS, help="at least 3 (default 5)")
    parser.add_argument(
        "--no-selection", action="store_true", help="skip the threshold selection (faster)"
    )
    args = parser.parse_args()
    if not args.jsonl.exists():
        sys.exit(f"no labelled data at {args.jsonl}; pass --jsonl FILE")
    if args.folds < 3:
        sys.exit(
            f"--folds {args.folds} is too few (the threshold is chosen by cross-validation "
            "inside the training folds); pass --folds 3 or more"
        )
    rows = load(args.jsonl, args.folds)
    print(f"input: {args.jsonl.name}, {len(rows)} labelled mentions")
    print(f"channels: {dict(sorted(Counter(r.channel for r in rows).items()))}\n")
    rounds = [run_round(rows, k, select=not args.no_selection) for k in range(args.folds)]
    figures = Figures.of(rounds)
    per_round(rounds)
    summary(rounds, figures)
    if not args.no_selection:
        selection(rounds)
    confusions(figures)
    timing = speed(rounds)
    print(as_json(rounds, figures, timing))


if __name__ == "__main__":
    main()
