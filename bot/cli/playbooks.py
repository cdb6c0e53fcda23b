"""``earshot playbooks lint|learn``: check reply templates; learn new ones from past replies."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bot.cli.learn import read_pairs, write_playbooks
from bot.config.settings import BUNDLED_PLAYBOOKS, load_config
from bot.decide.distill import learn_playbooks
from bot.live.library import check_playbooks
from bot.problems import Problem, ProblemsError

DEFAULT_CONFIG = Path("config.toml")


def add_parser(sub: Any) -> None:
    playbooks = sub.add_parser("playbooks", help="lint reply templates; learn them from history")
    verbs = playbooks.add_subparsers(title="playbook commands", metavar="VERB")
    lint = verbs.add_parser(
        "lint", help="check playbooks: placeholders, ids, length, translations (file:line)"
    )
    lint.add_argument(
        "folder", nargs="?", type=Path, help="playbook folder (default: the config's, else bundled)"
    )
    lint.add_argument("--config", type=Path, help="config (brand name and languages)")
    lint.add_argument(
        "--languages", help="comma-separated languages every template needs, e.g. en,ko"
    )
    lint.set_defaults(handler=_lint)
    learn = verbs.add_parser(
        "learn", help="write playbooks per brand from past mention -> reply pairs (JSONL)"
    )
    learn.add_argument("--jsonl", type=Path, required=True, help="history pairs, one per line")
    learn.add_argument("--out", type=Path, required=True, help="folder to write playbooks into")
    learn.add_argument(
        "--min-cluster", type=int, default=2, help="replies needed for a template (default 2)"
    )
    learn.set_defaults(handler=_learn)
    playbooks.set_defaults(handler=lambda _args: playbooks.print_help() or 0)


def _lint(args: argparse.Namespace) -> int:
    path = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
    config = load_config(path) if path else None
    folder = args.folder or (config.playbooks_dir if config else BUNDLED_PLAYBOOKS)
    languages = [s.strip() for s in (args.languages or "").split(",") if s.strip()]
    languages = languages or list(config.brand.languages if config else ())
    brand = config.brand.name if config else ""
    templates, problems = check_playbooks(folder, brand=brand, languages=languages)
    if problems:
        raise ProblemsError(problems)
    ids = {t.id for t in templates}
    langs = sorted({t.lang for t in templates if t.lang}) or ["any"]
    print(
        f"{folder}: OK — {len(templates)} template(s), {len(ids)} id(s), "
        f"languages {', '.join(langs)}"
    )
    return 0


def _learn(args: argparse.Namespace) -> int:
    if args.min_cluster < 2:
        fix = "a template needs at least 2 similar replies; pass --min-cluster 2 or more"
        raise ProblemsError([Problem("<command>", "--min-cluster", "too small", fix)])
    try:
        lines = args.jsonl.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        problem = Problem(str(args.jsonl), "--jsonl", f"cannot read the file ({exc.strerror})", "")
        raise ProblemsError([problem]) from None
    pairs, bad = read_pairs(lines, source=str(args.jsonl))
    for problem in bad[:20]:
        print(f"skipped: {problem}", file=sys.stderr)
    started = time.monotonic()
    by_brand = learn_playbooks(pairs, min_cluster=args.min_cluster, progress=_progress())
    written = write_playbooks(by_brand, args.out, pairs=len(pairs))
    count = sum(len(t) for t in by_brand.values())
    seconds = time.monotonic() - started
    print(
        f"\rlearned {count} template(s) for {len(by_brand)} brand(s) from {len(pairs)} pair(s) "
        f"in {seconds:.1f}s ({len(bad)} bad line(s) skipped); wrote {len(written)} file(s) "
        f"to {args.out}"
    )
    return 0


def _progress() -> Any:
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or done == total:
            last[0] = now
            print(f"\rlearning… {done}/{total} replies", end="", file=sys.stderr, flush=True)

    return show
