"""Offline triage throughput: triage + routing + top-3 suggestions per mention, no I/O.

    python bench/triage_throughput.py [--jsonl FILE] [--config config.example.toml]

Reads ../shared/data/airline_dev_mentions.jsonl when it is there (third-party data stays outside
the repo), else repeats the bundled demo mentions. Prints mentions per second and per-mention
latency percentiles.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli.offline import Triager
from bot.config.settings import load_config, load_playbooks
from bot.sandbox.harness import demo_mentions
from bot.sources.jsonl import BadLine, read_mentions

DEV = ROOT.parent / "shared" / "data" / "airline_dev_mentions.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl", type=Path, default=DEV if DEV.exists() else demo_mentions())
    parser.add_argument("--config", type=Path, default=ROOT / "config.example.toml")
    args = parser.parse_args()
    config = load_config(args.config)
    templates, _ = load_playbooks(config.playbooks_dir, brand=config.brand.name)
    triager = Triager.create(config=config, templates=templates, top=3)
    lines = args.jsonl.read_text(encoding="utf-8").splitlines()
    mentions = [m for m in read_mentions(lines) if not isinstance(m, BadLine)]
    while len(mentions) < 2000:
        mentions += mentions
    for mention in mentions[:200]:  # warm up
        triager.record(mention)
    timings = []
    start = time.perf_counter()
    for mention in mentions:
        began = time.perf_counter()
        triager.record(mention)
        timings.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - start
    timings.sort()
    print(
        f"input: {args.jsonl.name}, {len(mentions)} mentions, {len(templates)} templates, "
        f"{len(config.rules)} rules"
    )
    print(f"throughput: {len(mentions) / elapsed:,.0f} mentions/s (one core)")
    print(
        f"per mention: median {statistics.median(timings) * 1e3:.3f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)] * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main()
