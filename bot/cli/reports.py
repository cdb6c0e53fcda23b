"""`earshot report` (PNG chart or CSV of cases, offline) and `earshot export audit` (CSV)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.config.settings import BUNDLED_PLAYBOOKS, Brand, Config
from bot.live.directory import Directory
from bot.live.library import Library
from bot.operations import reports
from bot.operations.audit import export_csv
from bot.operations.charts import digest_chart
from bot.operations.stats import Stats
from bot.problems import Problem, ProblemsError
from bot.storage.store import Store

StoreFor = Any  # (args, *, create) -> (Store, Config | None); supplied by bot.cli.main


def add_parsers(sub: Any, *, store_for: StoreFor) -> None:
    report = sub.add_parser("report", help="write a report of the cases as a PNG chart or CSV")
    _db_args(report)
    report.add_argument("--out", type=Path, required=True, help="report.png or report.csv")
    report.add_argument("--period", default="7d", help="today, 7d or 30d (default 7d)")
    report.add_argument("--brand", default="", help="only this brand (default: all)")
    report.add_argument(
        "--network",
        default="",
        choices=["", "x", "bluesky", "mastodon"],
        help="only this network (default: all)",
    )
    report.set_defaults(handler=lambda a: _report(a, store_for))
    export = sub.add_parser("export", help="export records: `earshot export audit`")
    verbs = export.add_subparsers(title="what", metavar="WHAT")
    audit = verbs.add_parser("audit", help="the audit trail (public posts, changes) as CSV")
    _db_args(audit)
    audit.add_argument("--since", required=True, help="first day, e.g. 2026-11-01")
    audit.add_argument("--csv", type=Path, default=None, help="file (default: standard output)")
    audit.set_defaults(handler=lambda a: _audit(a, store_for))
    export.set_defaults(handler=lambda _a: export.print_help() or 0)


def _db_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="database (default: the config's)")
    parser.add_argument("--config", type=Path, default=None, help="config (for its database)")


def _stats(store: Store, config: Config | None) -> Stats:
    brand = config.brand if config else Brand(name="", handle="x", timezone="UTC")
    others = config.more_brands if config else ()
    library = Library(folder=BUNDLED_PLAYBOOKS, brand=brand.name, top=1, min_score=100)
    directory = Directory.of(brand, config.agents if config else (), library, others=others)
    return Stats(store=store, directory=directory, clock=SystemClock())


def _report(args: argparse.Namespace, store_for: StoreFor) -> int:
    suffix = args.out.suffix.lower()
    if suffix not in (".png", ".csv"):
        fix = "name the file report.png (a chart) or report.csv (one row per case)"
        raise ProblemsError([Problem(str(args.out), "--out", "unknown report format", fix)])
    store, config = store_for(args, create=False)
    stats = _stats(store, config)
    try:
        report = stats.report(args.period, brand=args.brand, network=args.network)
    except ValueError as exc:
        raise ProblemsError([Problem("<command>", "--period", str(exc), "")]) from None
    if suffix == ".png":
        digest_chart(report, args.out)
        print(f"wrote a chart of {report.volume} case(s), {report.period.label}, to {args.out}")
        return 0
    facts = stats.facts(since=report.period.since, until=report.period.until)
    facts = [
        f
        for f in facts
        if (not args.brand or f.brand == args.brand)
        and (not args.network or f.network == args.network)
    ]
    with args.out.open("w", encoding="utf-8", newline="") as out:
        rows = reports.write_csv(facts, out)
    print(f"wrote {rows} case(s), {report.period.label}, to {args.out}")
    return 0


def _audit(args: argparse.Namespace, store_for: StoreFor) -> int:
    try:
        since = datetime.combine(date.fromisoformat(args.since), datetime.min.time(), UTC)
    except ValueError:
        fix = "write the day as 2026-11-01"
        raise ProblemsError(
            [Problem("<command>", "--since", f"{args.since!r} is not a date", fix)]
        ) from None
    store, config = store_for(args, create=False)
    names = {a.slack_id: a.name for a in config.agents} if config else {}
    entries = store.audit_since(since)
    if args.csv is None:
        count = export_csv(entries, sys.stdout, names=names)
    else:
        with args.csv.open("w", encoding="utf-8", newline="") as out:
            count = export_csv(entries, out, names=names)
        print(f"wrote {count} audit entries since {args.since} to {args.csv}")
    return 0
