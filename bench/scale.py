"""Scale: a store with 1,000,000 mentions (a case for each, a few hundred still open), then the
open-case queue and full-text search timed as the bot runs them, and the peak memory.

    python bench/scale.py [--mentions 1000000] [--open 300] [--runs 50] [--db FILE] [--keep]

The database is built by ``bot.store.Store`` (every migration, the search index and its triggers)
in a child process, in big transactions (``--mentions 1000000`` takes a few minutes; progress is
printed). ``--keep`` keeps the file (``--db``, default in the temp dir) and reuses it when it is
already there with the same size, so later runs start at once. Mention texts come from
../shared/data/*.jsonl at run time when present (never copied into the repo), else from
``bench/triage_bench.py``'s generated vocabulary; each gets a number, an author and a time.

Timed in a fresh process that only opens the file (median and p95 of ``--runs`` runs after one
warm-up): the queue exactly as ``Desk.queue`` (``/mentions queue``, the App Home) asks the store
for it (``Store.open_cases``, then ``Store.mentions`` for their posts), and ``Store.search``
(``/mentions search`` asks for 11) for a few words, rare and common. Peak memory: ``ru_maxrss``
of that process (``resource.getrusage``), which holds Python, the bot's modules and SQLite's page
cache.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bot.app  # noqa: F401 (imports the modules in the order the bot does)
from bot.models import Author, CaseState, Mention, MentionState
from bot.storage.base import _insert_sql
from bot.storage.mentions import _mention_row
from bot.storage.store import Store

START = datetime(2025, 1, 1, tzinfo=UTC)
CHUNK = 50_000  # rows per transaction while building
CLOSED = (CaseState.REPLIED, CaseState.RESOLVED, CaseState.DISMISSED)
CHANNELS = ("#care-delays", "#care-baggage", "#care-booking", "#care-digital", "#care-general")
WORDS = ("refund", "delayed flight", "bag", "wifi", "환불", "cancelled rebook")


def _texts() -> list[str]:
    from triage_bench import mention_texts  # noqa: PLC0415 (bench helper, imports the app)

    _, texts = mention_texts()
    return texts


def _rows(count: int, open_cases: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(mention row, case row) for ``count`` mentions, one a minute; the last ``open_cases``
    cases are open, the rest closed."""
    rng = random.Random(7)
    texts = _texts()
    received = START + timedelta(minutes=count)
    for n in range(count):
        at = START + timedelta(minutes=n)
        author = Author(str(n % 200_000), f"customer{n % 200_000}", "Sam", rng.randint(0, 5000))
        mention = Mention(f"x:{n}", "x", texts[n % len(texts)], author, at, "Skylark Air", "en")
        row = _mention_row(mention, received)
        row["state"] = MentionState.CASED.value
        state = CaseState.OPEN if n >= count - open_cases else rng.choice(CLOSED)
        case = {
            "mention_id": mention.id,
            "channel": rng.choice(CHANNELS),
            "state": state.value,
            "priority": "normal",
            "sentiment": "negative",
            "lang": "en",
            "suggestions": "[]",
            "tags": "[]",
            "via": "rule",
            "follow_ups": 0,
            "created_at": at.isoformat(),
            "updated_at": at.isoformat(),
            "brand": "Skylark Air",
        }
        yield row, case


def build(path: Path, count: int, open_cases: int) -> None:
    """The database, through the bot's own schema, in transactions of ``CHUNK`` mentions."""
    store = Store(path)
    db = store.db
    db.execute("PRAGMA synchronous = OFF")  # building a throwaway file: no fsync per chunk
    began, batch = time.perf_counter(), list[tuple[dict[str, Any], dict[str, Any]]]()
    for n, pair in enumerate(_rows(count, open_cases), start=1):
        batch.append(pair)
        if len(batch) == CHUNK or n == count:
            _insert(store, batch, first_case=n - len(batch) + 1)
            batch.clear()
            rate = n / (time.perf_counter() - began)
            print(f"  built {n:,} of {count:,} mentions ({rate:,.0f}/s)", flush=True)
    db.execute("analyze")
    store.close()


def _insert(
    store: Store, batch: list[tuple[dict[str, Any], dict[str, Any]]], *, first_case: int
) -> None:
    mentions, cases = [m for m, _ in batch], [c for _, c in batch]
    members = [
        {"case_id": first_case + i, "mention_id": m["id"], "role": "opener", "at": m["received_at"]}
        for i, m in enumerate(mentions)
    ]
    with store.transaction():
        conn = store.db.conn
        for table, rows in (("mentions", mentions), ("cases", cases), ("case_members", members)):
            conn.executemany(_insert_sql(table, rows[0]), [list(r.values()) for r in rows])


def timed(run: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p95 in milliseconds, after one warm-up."""
    run()
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        took.append((time.perf_counter() - began) * 1e3)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.95))]


def measure(path: Path, runs: int) -> None:
    """Open the file as the bot does and time what agents ask of it."""
    store = Store(path)

    def queue() -> object:  # Desk.queue: the open cases, then their mentions
        cases = store.open_cases()
        mentions = store.mentions([case.mention_id for case in cases])
        return [(case, mentions[case.mention_id]) for case in cases]

    size = path.stat().st_size / 1e6
    mentions = store.db.execute("select max(rowid) from mentions").fetchone()[0]
    print(f"database: {path} ({size:,.0f} MB), {mentions:,} mentions")
    median, p95 = timed(queue, runs)
    print(f"open queue ({len(queue())} open cases): median {median:.2f} ms, p95 {p95:.2f} ms")
    for words in WORDS:
        found = len(store.search(words, limit=11))
        median, p95 = timed(lambda w=words: store.search(w, limit=11), runs)
        print(f"search “{words}” ({found} shown): median {median:.2f} ms, p95 {p95:.2f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak memory (ru_maxrss of the querying process): {peak:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=300, help="cases still open")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--db", type=Path, help="database file (default: in the temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the file and reuse it")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"earshot-scale-{args.mentions}.db"
    if args.build_only:
        return build(path, args.mentions, args.open)
    if args.measure_only:
        return measure(path, args.runs)
    _run(args, path)


def _run(args: argparse.Namespace, path: Path) -> None:
    """Build (unless kept from before) and measure, each in its own process."""
    stamp = path.with_suffix(".json")
    wanted = {"mentions": args.mentions, "open": args.open}
    reuse = (
        args.keep and path.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted
    )
    try:
        if not reuse:
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), stamp):
                stale.unlink(missing_ok=True)
            print(f"building {args.mentions:,} mentions ({args.open} cases open) in {path}")
            began = time.perf_counter()
            _child(path, args, "--build-only")
            print(f"built in {time.perf_counter() - began:,.0f} s")
            stamp.write_text(json.dumps(wanted))
        else:
            print(f"reusing {path} (--keep)")
        _child(path, args, "--measure-only")
    finally:
        if not args.keep:
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), stamp):
                stale.unlink(missing_ok=True)


def _child(path: Path, args: argparse.Namespace, step: str) -> None:
    command = [sys.executable, __file__, step, "--db", str(path), "--runs", str(args.runs)]
    command += ["--mentions", str(args.mentions), "--open", str(args.open)]
    subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
