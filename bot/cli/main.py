"""The ``earshot`` command. The only place that prints problems and picks exit codes.

Exit codes: 0 fine, 1 failed while running (or, for ``check --online``, problems found), 2 bad
input (config, playbooks, arguments, a token Slack refuses at start-up).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.app import Runtime
from bot.cli import playbooks as cli_playbooks
from bot.cli import reports as cli_reports
from bot.cli.offline import Triager, export_rules, teach
from bot.config.settings import (
    BUNDLED_PLAYBOOKS,
    Config,
    load_config,
    load_playbooks,
    resolve_secrets,
)
from bot.decide.rules import Ruleset
from bot.live.library import check_playbooks
from bot.problems import Problem, ProblemsError
from bot.sandbox.demo.tour import run_demo
from bot.slack.check import SlackRefused, SlackUnreachable, check_online
from bot.slack.client import make_web_client
from bot.storage.store import Store

EXIT_FAILED = 1
EXIT_PROBLEMS = 2
DEFAULT_CONFIG = Path("config.toml")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args))
    except ProblemsError as exc:
        _print_problems(exc.problems, sys.stderr)
        return EXIT_PROBLEMS
    except SlackRefused as exc:  # one line with the fix, no traceback
        print(f"earshot: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, SlackUnreachable) else EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="earshot",
        description="Social customer care from Slack: listen on X, triage, route, reply signed.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    check = sub.add_parser("check", help="validate the config and playbooks, list every problem")
    check.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.toml)"
    )
    check.add_argument(
        "--online",
        action="store_true",
        help="also ask Slack: the bot token, its scopes, every channel the config names "
        "(exit 1 if Slack shows a problem)",
    )
    check.set_defaults(handler=_check)
    run = sub.add_parser("run", help="run Earshot against Slack and X (production)")
    run.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.toml)"
    )
    run.set_defaults(handler=_run)
    demo = sub.add_parser("demo", help="run the whole loop against local Slack and X emulators")
    demo.add_argument(
        "--once", action="store_true", help="one pass, then exit 0 (for scripts and CI)"
    )
    demo.set_defaults(handler=_demo)
    triage = sub.add_parser(
        "triage", help="triage, route and suggest for mention JSONL offline; one JSON per line"
    )
    triage.add_argument(
        "--jsonl", type=Path, required=True, help="mention JSONL file ('-' for stdin)"
    )
    triage.add_argument(
        "--config", type=Path, help="config with routing rules (default: none, fallback only)"
    )
    triage.add_argument(
        "--db",
        type=Path,
        help="an Earshot database: its current rules and learned routing examples are used",
    )
    triage.add_argument(
        "--playbooks", type=Path, help="playbook folder (default: config's, else bundled)"
    )
    triage.add_argument(
        "--top", type=int, default=None, help="suggestions per mention (default: config's, else 3)"
    )
    triage.set_defaults(handler=_triage)
    _routing_parser(sub)
    cli_playbooks.add_parser(sub)
    cli_reports.add_parsers(sub, store_for=_store_for)
    return parser


def _routing_parser(sub: Any) -> None:
    routing = sub.add_parser("routing", help="teach learned routing; export the live rules")
    verbs = routing.add_subparsers(title="routing commands", metavar="VERB")
    teach = verbs.add_parser(
        "teach", help='import labelled examples ({"mention": {...}, "channel": "#name"})'
    )
    teach.add_argument("--jsonl", type=Path, required=True, help="labelled JSONL ('-' for stdin)")
    teach.add_argument("--db", type=Path, help="database (default: the config's)")
    teach.add_argument("--config", type=Path, default=None, help="config (for its database)")
    teach.set_defaults(handler=_teach)
    export = verbs.add_parser("export", help="write the live routing rules as TOML")
    export.add_argument("--db", type=Path, help="database (default: the config's)")
    export.add_argument("--config", type=Path, default=None, help="config (for its database)")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.set_defaults(handler=_export)
    routing.set_defaults(handler=lambda _args: routing.print_help() or 0)


def _print_problems(problems: Sequence[Problem], out: TextIO) -> None:
    out.write(f"Found {len(problems)} problem(s):\n")
    for problem in problems:
        out.write(f"  {problem}\n")


# ---- check ------------------------------------------------------------------------------------


def validate(path: Path) -> tuple[Config, int]:
    """Config and playbooks together, every problem at once; returns the config and #templates."""
    problems: list[Problem] = []
    config: Config | None = None
    try:
        config = load_config(path)
    except ProblemsError as exc:
        problems += exc.problems
    if config is not None:
        templates, trouble = check_playbooks(
            config.playbooks_dir, brand=config.brand.name, languages=config.brand.languages
        )
        problems += trouble
    if problems or config is None:
        raise ProblemsError(problems)
    return config, len(templates)


def _check(args: argparse.Namespace) -> int:
    config, templates = validate(args.config)
    if args.online:
        return _check_online(config)
    print(
        f"{args.config}: OK — brand @{config.brand.handle}, {len(config.rules)} routing rule(s), "
        f"{len(config.agents)} agent(s), {templates} template(s) in {config.playbooks_dir}"
    )
    try:
        resolve_secrets(config)
    except ProblemsError as exc:
        print("Note: `earshot run` will also need these environment variables:")
        for problem in exc.problems:
            print(f"  {problem}")
    return 0


def _check_online(config: Config) -> int:
    """The installed Slack app as Slack sees it: one line per problem with its fix."""
    variable = config.slack.bot_token_env
    token = os.environ.get(variable, "").strip()
    if not token:
        unset = f"variable {variable} is not set"
        fix = f"export {variable}=xoxb-..."
        raise ProblemsError([Problem("environment", "slack.bot_token_env", unset, fix)])
    client = make_web_client(token=token, base_url=config.slack.api_url)
    found = check_online(client, config, variable=variable, live=_live_rules(config))
    for line in found:
        print(line)
    if found:
        print(f"Slack: {len(found)} problem(s).")
        return EXIT_FAILED
    print(f"Slack: OK — the token, its scopes and every channel the config names ({variable})")
    return 0


def _live_rules(config: Config) -> Ruleset | None:
    """The routing rules leads changed in Slack, when the bot's database is here."""
    if not config.database.exists():
        return None
    store = Store(config.database)
    try:
        return store.latest_ruleset()
    finally:
        store.close()


# ---- run --------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    config, _ = validate(args.config)
    secrets = resolve_secrets(config)
    _logging(config.log_level)
    runtime = Runtime(config, secrets)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime.start()
    where = runtime.http_url or "Slack Socket Mode"
    print(f"Earshot is running for @{config.brand.handle} ({where}). Ctrl-C or SIGTERM stops it.")
    sys.stdout.flush()
    stop.wait()
    print("Stopping: finishing in-flight replies…")
    runtime.stop()
    print("Stopped.")
    return 0


def _logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# ---- demo -------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    return run_demo(once=args.once, out=sys.stdout)


# ---- triage -----------------------------------------------------------------------------------


def _triage(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else None
    folder = args.playbooks or (config.playbooks_dir if config else BUNDLED_PLAYBOOKS)
    templates, problems = load_playbooks(folder, brand=config.brand.name if config else "")
    if problems:
        raise ProblemsError(problems)
    if args.top is not None and not 0 <= args.top <= 20:
        fix = "pass a number from 0 to 20"
        raise ProblemsError([Problem("<command>", "--top", f"{args.top} is out of range", fix)])
    store = _existing_store(args.db) if args.db is not None else None
    triager = Triager.create(config=config, templates=templates, top=args.top, store=store)
    source = sys.stdin if str(args.jsonl) == "-" else _open_text(args.jsonl)
    with source:
        counts = triager.run(source, out=sys.stdout, err=sys.stderr)
    print(f"triaged {counts[0]} mention(s), skipped {counts[1]} bad line(s)", file=sys.stderr)
    return 0


def _existing_store(path: Path) -> Store:
    if not path.exists():
        fix = "pass the database written by `earshot run` or `earshot routing teach`"
        raise ProblemsError([Problem(str(path), "--db", "no such database", fix)])
    return Store(path)


def _store_for(args: argparse.Namespace, *, create: bool) -> tuple[Store, Config | None]:
    """The database from --db, else from the config (--config, or config.toml if present)."""
    path = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() and not args.db else None)
    config = load_config(path) if path else None
    db = args.db or (config.database if config else None)
    if db is None:
        fix = "pass --db earshot.db or --config config.toml"
        raise ProblemsError([Problem("<command>", "--db", "no database given", fix)])
    return (Store(db) if create else _existing_store(db)), config


# ---- routing ----------------------------------------------------------------------------------


def _teach(args: argparse.Namespace) -> int:
    store, _ = _store_for(args, create=True)
    source = sys.stdin if str(args.jsonl) == "-" else _open_text(args.jsonl)
    with source:
        taught, bad = teach(store, source, err=sys.stderr, actor="earshot routing teach")
    total = len(store.examples())
    print(f"taught {taught} example(s), skipped {bad} bad line(s); {total} in {store.path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    store, config = _store_for(args, create=False)
    text = export_rules(store, config)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote the routing rules to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _open_text(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        problem = Problem(str(path), "--jsonl", f"cannot read the file ({exc.strerror})", "")
        raise ProblemsError([problem]) from None


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
