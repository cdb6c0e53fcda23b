"""Does a suggestion carry the help link the agent really sent? Real care history, time order.

    python bench/eval_links.py [--history N] [--split F] [--brands-min K]

Reads ../shared/data/twcs_pairs.jsonl and tweetsumm_pairs.jsonl at run time (third-party data stays
outside the repo). Per brand, pairs in time order (twcs by mention time; TweetSumm in file order):
the first ``--split`` (70%) is the brand's history, and every later pair whose real reply carries
a link is a query. ``--history N`` keeps only the last N pairs of each history (a brand with little
past, as a new team has; 22 is the size of the held-out brands' histories).

Earshot runs the product path: ``learn`` on the history (what `earshot playbooks learn` does),
the templates written as a playbook and parsed back, ``Suggester.build`` with the product's
defaults, ``suggest`` for the mention, and each suggestion rendered as `earshot triage` shows it.
A hit is a rendered suggestion containing the real reply's link (t.co links compared as they
are, trailing punctuation left out). hits@1 and hits@3 are over every query; coverage is the
share of queries that got any suggestion.

Baselines on the same queries: the brand's most frequent links in its history (1 to 3 of them),
and the nearest past mentions (TF-IDF cosine over words; the links their replies carried, nearest
first, each link once).
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli.learn import read_pairs
from bot.decide.distill import Pair, learn
from bot.decide.playbooks import Template, parse_playbook, placeholder_values, playbook_toml, render
from bot.decide.reply_text import links
from bot.decide.suggest import Suggester
from bot.decide.triage import detect_language

DATA = ROOT.parent / "shared" / "data"
FILES = ("twcs_pairs.jsonl", "tweetsumm_pairs.jsonl")
TOP = 3
_WORD = re.compile(r"[^\W_]+")


@dataclass(slots=True)
class Score:
    """hits@1, hits@3 and coverage of one method over the queries."""

    queries: int = 0
    at1: int = 0
    at3: int = 0
    covered: int = 0

    def add(self, found: Sequence[str], real: str) -> None:
        self.queries += 1
        self.covered += bool(found)
        self.at1 += real in found[:1]
        self.at3 += real in found[:TOP]

    def row(self, name: str) -> str:
        n = max(self.queries, 1)
        return f"  {name:<34} {self.at1 / n:6.3f} {self.at3 / n:6.3f} {self.covered / n:9.3f}"

    def figures(self) -> dict[str, float]:
        n = max(self.queries, 1)
        return {
            "hits@1": round(self.at1 / n, 3),
            "hits@3": round(self.at3 / n, 3),
            "coverage": round(self.covered / n, 3),
        }


@dataclass(slots=True)
class Result:
    methods: dict[str, Score] = field(default_factory=dict)
    brands: int = 0
    learned: int = 0

    def add(self, method: str, found: Sequence[str], real: str) -> None:
        self.methods.setdefault(method, Score()).add(found, real)


def load(path: Path) -> list[Pair]:
    pairs, _ = read_pairs(path.read_text(encoding="utf-8").splitlines(), source=path.name)
    if all(p.mention.created_at is not None for p in pairs):
        pairs.sort(key=lambda p: p.mention.created_at or 0)  # stable: ties keep file order
    return pairs


def link_of(text: str) -> str:
    found = links(text)
    return found[0] if found else ""


# ---- baselines --------------------------------------------------------------------------------


def most_frequent(history: Sequence[Pair]) -> list[str]:
    """The brand's links, most sent first (ties: the most recently sent)."""
    count: Counter[str] = Counter()
    last: dict[str, int] = {}
    for i, pair in enumerate(history):
        if url := link_of(pair.reply_text):
            count[url] += 1
            last[url] = i
    return sorted(count, key=lambda u: (-count[u], -last[u]))[:TOP]


class Nearest:
    """TF-IDF nearest past mentions of one brand, and the links their replies carried."""

    def __init__(self, history: Sequence[Pair]) -> None:
        docs = [Counter(_WORD.findall(p.mention.text.casefold())) for p in history]
        df = Counter(w for d in docs for w in d)
        self.idf = {w: math.log((1 + len(docs)) / (1 + n)) + 1 for w, n in df.items()}
        self.vectors = [self._vector(d) for d in docs]
        self.links = [link_of(p.reply_text) for p in history]

    def _vector(self, words: Counter[str]) -> dict[str, float]:
        v = {w: n * self.idf.get(w, 0.0) for w, n in words.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {w: x / norm for w, x in v.items()}

    def __call__(self, text: str) -> list[str]:
        q = self._vector(Counter(_WORD.findall(text.casefold())))
        sims = [
            (sum(x * v.get(w, 0.0) for w, x in q.items()), -i) for i, v in enumerate(self.vectors)
        ]
        found: list[str] = []
        for _, i in sorted(sims, reverse=True):
            url = self.links[-i]
            if url and url not in found:
                found.append(url)
            if len(found) == TOP:
                break
        return found


# ---- Earshot ----------------------------------------------------------------------------------


def product_defaults() -> dict[str, object]:
    """``Suggester.build``'s own defaults: the product as shipped."""
    params = inspect.signature(Suggester.build).parameters
    return {name: params[name].default for name in ("top", "min_score")}


def earshot(history: Sequence[Pair], brand: str) -> Suggester | None:
    """Learn from the history as `earshot playbooks learn` does, write the playbook and read it
    back, then build the suggester with the product's defaults."""
    templates = learn(history).by_brand.get(brand, [])
    if not templates:
        return None
    parsed, problems = parse_playbook(playbook_toml(templates), source="learned", brand=brand)
    if problems:
        raise SystemExit(f"learned playbook does not parse: {problems[0]}")
    return Suggester.build(parsed, **product_defaults())  # type: ignore[arg-type]


def rendered_links(suggester: Suggester | None, pair: Pair) -> list[str]:
    """The links in each suggestion as `earshot triage` renders it, best first."""
    if suggester is None:
        return []
    text, brand = pair.mention.text, pair.mention.brand or ""
    found = suggester.suggest(text, lang=detect_language(text), brand=brand)[:TOP]
    return [link_of(_render(r.template, pair)) for r in found]


def _render(template: Template, pair: Pair) -> str:
    values = placeholder_values(
        pair.mention, brand=pair.mention.brand or "", agent=None, link=template.link
    )
    return render(template.text, values)


# ---- the run ----------------------------------------------------------------------------------


def evaluate(pairs: Sequence[Pair], *, split: float, history: int, brands_min: int) -> Result:
    by_brand: dict[str, list[Pair]] = {}
    for pair in pairs:
        if pair.mention.brand and pair.reply_text.strip():
            by_brand.setdefault(pair.mention.brand, []).append(pair)
    result = Result()
    for brand, group in sorted(by_brand.items()):
        cut = int(len(group) * split)
        past, later = group[:cut][-history:] if history else group[:cut], group[cut:]
        queries = [p for p in later if link_of(p.reply_text)]
        if not queries or sum(1 for p in past if link_of(p.reply_text)) < brands_min:
            continue
        result.brands += 1
        suggester, nearest, frequent = earshot(past, brand), Nearest(past), most_frequent(past)
        result.learned += len(suggester.templates) if suggester else 0
        for pair in queries:
            real = link_of(pair.reply_text)
            result.add("baseline: most frequent links", frequent, real)
            result.add("baseline: nearest past mentions", nearest(pair.mention.text), real)
            result.add("Earshot (learn + suggest, defaults)", rendered_links(suggester, pair), real)
    return result


def report(name: str, result: Result) -> dict[str, object]:
    print(f"\n{name}: {result.brands} brands, {result.learned} templates learned")
    print(f"  {'method':<34} {'h@1':>6} {'h@3':>6} {'coverage':>9}   ({_queries(result)} queries)")
    for method, score in result.methods.items():
        print(score.row(method))
    return {m: s.figures() for m, s in result.methods.items()}


def _queries(result: Result) -> int:
    return next(iter(result.methods.values())).queries if result.methods else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", type=float, default=0.7)
    parser.add_argument("--history", type=int, default=0, help="last N pairs per brand (0: all)")
    parser.add_argument("--brands-min", type=int, default=3, help="links a history must carry")
    args = parser.parse_args()
    missing = [f for f in FILES if not (DATA / f).exists()]
    if missing:
        raise SystemExit(f"no data at {DATA}: {', '.join(missing)}")
    started = time.perf_counter()
    figures: dict[str, object] = {}
    pooled: list[Pair] = []
    for name in FILES:
        pairs = load(DATA / name)
        pooled += pairs
        for history in (args.history, 22) if args.history == 0 else (args.history,):
            label = f"{name}, history {'all' if history == 0 else f'last {history}'}"
            result = evaluate(pairs, split=args.split, history=history, brands_min=args.brands_min)
            figures[label] = report(label, result)
    print(f"\n{time.perf_counter() - started:.1f} s")
    print(json.dumps({"eval_links": figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
