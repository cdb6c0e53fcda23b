"""Reply-suggestion quality in time order: learn playbooks from the past, suggest for the future.

    python bench/eval_suggestions.py [--similarity S] [--min-cluster N] [--tune]

Reads ../shared/data/twcs_pairs.jsonl and tweetsumm_pairs.jsonl at run time (third-party data stays
outside the repo). For each file: pairs in time order (twcs by mention time; TweetSumm has no
dates, so file order), playbooks learned from the earliest 70% (bot.learn.learn), then for every
later pair the brand's Suggester proposes 3 templates, rendered for that pair.

The headline row is the product as shipped: ``Suggester.build(templates, top=3)`` with the
product's cutoff (the ``min_score`` default of ``Suggester.build``, 60), so matches at or above
the cutoff come first and the free places go to the brand's most used templates (learned
``uses``: cluster sizes). Below it, for comparison: cutoff 0 (every template scored by text, the
popularity only a bonus), the matches alone (padding left out), the learning pairs given as
history instead of ``uses``, and the online variant (taught each real reply after its pair).

A suggestion is a hit when it is a near-duplicate of the reply the brand really sent (both
normalised as learning does; slots, placeholders, handles and links removed; rapidfuzz ``ratio``
>= 80) or when it carries the same help link (same URL; t.co shortlinks compared as they are).
Baseline: each brand's most frequent reply clusters of the learning part, whatever the mention.

``--tune`` is the selection run, on twcs inside its first 70% only: three rolling-origin folds
(learn on the first 40%, 50%, 60%; evaluate on the next 10% each), hits pooled, over a grid of
similarity and min_cluster. The final 70/30 figures were not used to choose anything; nothing in
bot/suggest.py was tuned on them either.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, utils

from bot.cli.learn import read_pairs
from bot.decide import matching, suggest
from bot.decide.distill import DEFAULT_MIN_CLUSTER, DEFAULT_SIMILARITY, Learned, Pair, learn
from bot.decide.playbooks import Template, placeholder_values, render
from bot.decide.reply_text import links, normalise_reply
from bot.decide.suggest import Suggester
from bot.decide.triage import detect_language

DATA = ROOT.parent / "shared" / "data"
FILES = ("twcs_pairs.jsonl", "tweetsumm_pairs.jsonl")
HIT_SIMILARITY = 80.0  # rapidfuzz ratio between suggestion and real reply, both normalised
TOP = 3
SPLIT = 0.7
TUNE_FOLDS = ((0.4, 0.5), (0.5, 0.6), (0.6, 0.7))  # learn on [0, a), evaluate on [a, b)
GRID_SIMILARITY = (70.0, 75.0, 80.0, 85.0, 90.0)
GRID_MIN_CLUSTER = (2, 3)
PRODUCT = "learned + Suggester (as shipped)"
CUTOFF_0 = "  min_score 0"
MATCHES = "  matches only, no padding"
HISTORY = "  pairs as history, not uses"
ONLINE = "  online: taught each reply"


def product_min_score() -> float:
    """The cutoff the product ships with: ``Suggester.build``'s default."""
    return float(inspect.signature(Suggester.build).parameters["min_score"].default)


@dataclass(slots=True)
class Tally:
    """Hits at 1 and 3 (text or link, and text alone) over a number of pairs."""

    pairs: int = 0
    at1: int = 0
    at3: int = 0
    text1: int = 0
    text3: int = 0

    def add(self, hits: Sequence[tuple[bool, bool]]) -> None:
        self.pairs += 1
        self.at1 += any(t or k for t, k in hits[:1])
        self.at3 += any(t or k for t, k in hits[:TOP])
        self.text1 += any(t for t, _ in hits[:1])
        self.text3 += any(t for t, _ in hits[:TOP])


@dataclass(slots=True)
class Run:
    """Tallies per method over (a) all later pairs and (b) those whose brand has templates."""

    methods: dict[str, tuple[Tally, Tally]] = field(default_factory=dict)

    def add(self, method: str, hits: Sequence[tuple[bool, bool]], *, covered: bool) -> None:
        every, known = self.methods.setdefault(method, (Tally(), Tally()))
        every.add(hits)
        if covered:
            known.add(hits)


# ---- data ---------------------------------------------------------------------------------------


def load(path: Path) -> tuple[list[Pair], bool]:
    """Pairs in time order; False when the file has no dates (file order kept)."""
    pairs, problems = read_pairs(path.read_text(encoding="utf-8").splitlines(), source=path.name)
    for problem in problems:
        print(f"  skipped {problem}", file=sys.stderr)
    dated = all(p.mention.created_at is not None for p in pairs)
    if dated:
        pairs.sort(key=lambda p: p.mention.created_at or 0)  # stable: ties keep file order
    return pairs, dated


# ---- hits ---------------------------------------------------------------------------------------


def plain_text(text: str) -> str:
    """Normalised text for comparison: no slots, placeholders, handles or links; lowercase."""
    words = [w for w in text.split() if "{" not in w and "@" not in w and not w.startswith("http")]
    return utils.default_process(" ".join(words))


def real_reply(pair: Pair) -> tuple[str, set[str]]:
    text = normalise_reply(pair.reply_text, agent=pair.agent)
    return plain_text(text), set(links(text))


def judge(template: Template, pair: Pair, real: tuple[str, set[str]]) -> tuple[bool, bool]:
    """(same text, same link) for one suggestion rendered for this pair."""
    brand = pair.mention.brand or ""
    values = placeholder_values(pair.mention, brand=brand, agent=pair.agent, link=template.link)
    rendered = normalise_reply(render(template.text, values))
    same_text = fuzz.ratio(plain_text(rendered), real[0]) >= HIT_SIMILARITY
    return same_text, bool(set(links(rendered)) & real[1])


def attribute(templates: Sequence[Template], pair: Pair, real: tuple[str, set[str]]) -> str:
    """The template the real reply is a near-duplicate of (best text match), or ""."""
    best = ("", 0.0)
    for template in templates:
        rendered = normalise_reply(render(template.text, {"link": template.link}))
        score = fuzz.ratio(plain_text(rendered), real[0])
        if score >= HIT_SIMILARITY and score > best[1]:
            best = (template.id, score)
    return best[0]


# ---- suggesters ---------------------------------------------------------------------------------


def _accepts(func: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def suggest_for(suggester: Suggester | None, pair: Pair, *, padded: bool = True) -> list[Template]:
    """The suggester's top templates for the pair's mention (none without a suggester);
    ``padded=False`` leaves out the popular templates that matched nothing."""
    if suggester is None:
        return []
    text = pair.mention.text
    kwargs: dict[str, Any] = {"lang": detect_language(text)}
    if _accepts(suggester.suggest, "brand"):
        kwargs["brand"] = pair.mention.brand
    found = suggester.suggest(text, **kwargs)[:TOP]
    return [r.template for r in found if padded or r.via is not matching.Via.POPULAR]


def online_support() -> str:
    """Why the online variant cannot run, or "" when the Suggester can learn from sent replies."""
    if not hasattr(Suggester, "learn"):
        return "Suggester has no learn()"
    if not hasattr(suggest, "Sent"):
        return "bot.decide.suggest has no Sent"
    return ""


def teach(suggester: Suggester, pair: Pair, template_id: str) -> None:
    """Teach the suggester what the agent really sent for this mention."""
    text, brand = pair.mention.text, pair.mention.brand or ""
    sent = suggest.Sent(text=text, template_id=template_id, brand=brand, lang=detect_language(text))
    suggester.learn(sent)


def _teach_what_was_sent(suggester: Suggester, pair: Pair, fallback: str) -> None:
    if chosen := attribute_online(suggester, pair, fallback):
        teach(suggester, pair, chosen)


def attribute_online(suggester: Suggester, pair: Pair, fallback: str) -> str:
    """The template the real reply is a near-duplicate of, by the Suggester when it can tell."""
    if not hasattr(suggester, "attribute"):
        return fallback
    brand = pair.mention.brand or ""
    reply = normalise_reply(pair.reply_text, agent=pair.agent)
    found = suggester.attribute(reply, brand=brand, lang=detect_language(reply))
    return found.id if found is not None else ""


# ---- one evaluation -----------------------------------------------------------------------------


def evaluate(learned: Learned, later: Sequence[Pair], *, online: bool) -> Run:
    """Every later pair, judged for each method; the online suggesters learn as they go."""
    run = Run()
    cutoff = product_min_score()
    static = _suggesters(learned, min_score=cutoff)
    loose = _suggesters(learned, min_score=0.0)
    taught = _suggesters(learned, min_score=cutoff, history=True)
    live = _suggesters(learned, min_score=cutoff) if online else {}  # taught after each pair
    for pair in later:
        brand = pair.mention.brand or ""
        templates = learned.by_brand.get(brand, [])
        covered = bool(templates)
        real = real_reply(pair)
        every = [judge(t, pair, real) for t in templates]
        ceiling = [(any(t for t, _ in every), any(k for _, k in every))] if covered else []
        run.add("ceiling: any template of brand", ceiling, covered=covered)
        run.add("baseline: most frequent", every[:TOP], covered=covered)
        ranked = {
            PRODUCT: suggest_for(static.get(brand), pair),
            CUTOFF_0: suggest_for(loose.get(brand), pair),
            MATCHES: suggest_for(static.get(brand), pair, padded=False),
            HISTORY: suggest_for(taught.get(brand), pair),
        }
        if online:
            ranked[ONLINE] = suggest_for(live.get(brand), pair)
        for method, found in ranked.items():
            run.add(method, [judge(t, pair, real) for t in found], covered=covered)
        if online and covered:
            _teach_what_was_sent(live[brand], pair, attribute(templates, pair, real))
    return run


def _suggesters(
    learned: Learned, *, min_score: float, history: bool = False
) -> dict[str, Suggester]:
    """One Suggester per brand. ``history``: taught each learning pair its cluster answered,
    with the templates' ``uses`` set to 0 (the sends count them again)."""
    built = {}
    for brand, found in learned.by_brand.items():
        templates, sent = list(found), list[suggest.Sent]()
        if history:
            templates = [replace(t, uses=0) for t in found]
            sent = [
                suggest.Sent(text=text, template_id=i, brand=brand, lang=detect_language(text))
                for i, text in learned.answered[brand]
            ]
        built[brand] = Suggester.build(templates, top=TOP, min_score=min_score, history=sent)
    return built


def learn_timed(
    pairs: Sequence[Pair], *, similarity: float, min_cluster: int
) -> tuple[Learned, float]:
    began = time.perf_counter()
    learned = learn(pairs, similarity=similarity, min_cluster=min_cluster, progress=_progress)
    return learned, time.perf_counter() - began


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        print(f"\r  learning: {done:,}/{total:,} pairs", end=end, file=sys.stderr, flush=True)


# ---- the report ---------------------------------------------------------------------------------


def _rate(hits: int, of: int) -> str:
    return f"{hits / of:6.3f}" if of else "     -"


def print_run(run: Run) -> None:
    print(f"  {'method':<32} {'(a) all later pairs':^27}   {'(b) brand has templates':^27}")
    print(
        f"  {'':<32} {'h@1':>6} {'h@3':>6} {'txt@1':>6} {'txt@3':>6}   "
        f"{'h@1':>6} {'h@3':>6} {'txt@1':>6} {'txt@3':>6}"
    )
    for method, (every, known) in run.methods.items():
        cells = []
        for t in (every, known):
            cells.append(" ".join(_rate(n, t.pairs) for n in (t.at1, t.at3, t.text1, t.text3)))
        print(f"  {method:<32} {cells[0]}   {cells[1]}")
    every, known = next(iter(run.methods.values()))
    print(f"  pairs: (a) {every.pairs}, (b) {known.pairs}")


def final(path: Path, *, similarity: float, min_cluster: int, no_online: str) -> None:
    pairs, dated = load(path)
    cut = int(len(pairs) * SPLIT)
    past, later = pairs[:cut], pairs[cut:]
    order = "by mention time" if dated else "file order (no dates in this file)"
    print(f"\n{path.name}: {len(pairs)} pairs, {order}")
    print(f"  learn on the first {cut}, evaluate on the {len(later)} later ones")
    learned, seconds = learn_timed(past, similarity=similarity, min_cluster=min_cluster)
    count = sum(len(ts) for ts in learned.by_brand.values())
    print(
        f"  learned {count} templates for {len(learned.by_brand)} of "
        f"{len({p.mention.brand for p in past})} brands from {learned.pairs} pairs "
        f"({learned.clusters} clusters >= {min_cluster}, {learned.dropped} dropped, "
        f"{learned.trimmed} trimmed) in {seconds:.2f} s = {learned.pairs / seconds:,.0f} pairs/s"
    )
    print_run(evaluate(learned, later, online=not no_online))


def tune(path: Path) -> None:
    """The selection grid: rolling-origin folds inside the first 70%, hits pooled over folds."""
    pairs, _dated = load(path)
    folds = [(int(len(pairs) * a), int(len(pairs) * b)) for a, b in TUNE_FOLDS]
    print(
        f"tuning on {path.name}: learn on [0, a), evaluate on [a, b) for (a, b) in {folds}, "
        f"pooled (the last {1 - SPLIT:.0%} is not looked at)"
    )
    print(
        "hits@k (text or link) over all evaluated pairs; templ: templates learned at last fold; "
        f"ours: as shipped (min_score {product_min_score():.0f}), ours0: min_score 0"
    )
    columns = ("ceiling", "base@1", "base@3", "ours@1", "ours@3", "ours0@1", "ours0@3", "match@3")
    print(f"  {'similarity':>10} {'min':>4} {'templ':>5}  " + " ".join(f"{c:>7}" for c in columns))
    for similarity in GRID_SIMILARITY:
        for min_cluster in GRID_MIN_CLUSTER:
            pooled, count = Run(), 0
            for lo, hi in folds:
                learned, _ = learn_timed(pairs[:lo], similarity=similarity, min_cluster=min_cluster)
                count = sum(len(ts) for ts in learned.by_brand.values())
                _merge(pooled, evaluate(learned, pairs[lo:hi], online=False))
            print(f"  {similarity:>10.0f} {min_cluster:>4} {count:>5}  " + _tune_cells(pooled))


def _merge(into: Run, run: Run) -> None:
    for method, tallies in run.methods.items():
        mine = into.methods.setdefault(method, (Tally(), Tally()))
        for total, part in zip(mine, tallies, strict=True):
            total.pairs += part.pairs
            total.at1 += part.at1
            total.at3 += part.at3
            total.text1 += part.text1
            total.text3 += part.text3


def _tune_cells(run: Run) -> str:
    every = {method: tallies[0] for method, tallies in run.methods.items()}
    ceiling, base = every["ceiling: any template of brand"], every["baseline: most frequent"]
    ours, loose, matches = every[PRODUCT], every[CUTOFF_0], every[MATCHES]
    cells = (
        _rate(ceiling.at1, ceiling.pairs),
        _rate(base.at1, base.pairs),
        _rate(base.at3, base.pairs),
        _rate(ours.at1, ours.pairs),
        _rate(ours.at3, ours.pairs),
        _rate(loose.at1, loose.pairs),
        _rate(loose.at3, loose.pairs),
        _rate(matches.at3, matches.pairs),
    )
    return " ".join(f"{c:>7}" for c in cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--similarity", type=float, default=DEFAULT_SIMILARITY)
    parser.add_argument("--min-cluster", type=int, default=DEFAULT_MIN_CLUSTER)
    parser.add_argument("--tune", action="store_true", help="the selection grid (50%% / 50-70%%)")
    args = parser.parse_args()
    missing = [name for name in FILES if not (DATA / name).exists()]
    if missing:
        sys.exit(f"no data at {DATA}: {', '.join(missing)}")
    if args.tune:
        tune(DATA / FILES[0])
        return
    online = online_support()
    detect_language("warm up")  # loads the language model (about 0.5 s) before any timing
    print(
        f"hit: rendered suggestion vs real reply, both normalised (handles, signature, greeting "
        f"name), slots/placeholders/links removed, rapidfuzz ratio >= {HIT_SIMILARITY:.0f}; "
        "or the same help link"
    )
    print("h@k: text or link hit in the top k; txt@k: text hits only")
    print(f"learning: similarity {args.similarity:.0f}, min_cluster {args.min_cluster}")
    print(
        f"as shipped: Suggester.build(brand's templates, top={TOP}, "
        f"min_score={product_min_score():.0f}), padded with the most used templates"
    )
    print(
        "online variant: "
        + (f"skipped ({online})" if online else "Suggester.learn after each pair")
    )
    for name in FILES:
        final(
            DATA / name, similarity=args.similarity, min_cluster=args.min_cluster, no_online=online
        )


if __name__ == "__main__":
    main()
