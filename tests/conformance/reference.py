"""Asking the reference implementations: one node process for a whole batch of requests.

``scripts/conformance-lane.sh`` installs npm twitter-text 3.1.0 (pinned by package-lock.json here)
and names its ``node_modules`` in ``EARSHOT_CONFORMANCE_NODE_MODULES``. Nothing here skips: a
missing install or a failing node is an error, so the lane fails loudly.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ENV = "EARSHOT_CONFORMANCE_NODE_MODULES"


def node_modules() -> Path:
    """Where the lane installed the pinned packages."""
    value = os.environ.get(ENV)
    if not value:
        raise RuntimeError(f"{ENV} is not set: run scripts/conformance-lane.sh")
    path = Path(value)
    if not (path / "twitter-text" / "package.json").is_file():
        raise RuntimeError(f"no twitter-text under {path}: run scripts/conformance-lane.sh")
    return path


def ask(requests: list[dict[str, Any]], modules: Path) -> list[Any]:
    """The oracle's answers to ``requests``, in order, from a single node process."""
    stdin = "".join(json.dumps(request) + "\n" for request in requests)
    done = subprocess.run(
        ["node", str(HERE / "oracle.js")],
        input=stdin.encode("utf-8", "surrogatepass"),
        capture_output=True,
        env={**os.environ, "NODE_PATH": str(modules)},
        timeout=600,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"node oracle.js failed ({done.returncode}):\n{done.stderr.decode()}")
    answers = [json.loads(line) for line in done.stdout.decode().splitlines()]
    if len(answers) != len(requests):
        raise RuntimeError(f"asked {len(requests)} questions, got {len(answers)} answers")
    return answers


def parse_tweets(texts: list[str], modules: Path) -> list[tuple[int, bool]]:
    """twitter-text's ``parseTweet`` (v3) for each text: (weightedLength, valid)."""
    answers = ask([{"text": text} for text in texts], modules)
    return [(answer["weightedLength"], answer["valid"]) for answer in answers]
