"""User-facing problems with input files: where, what is wrong, how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process


@dataclass(frozen=True, slots=True)
class Problem:
    source: str  # file name (or "environment", "<command>")
    where: str  # key path such as "routing.rules[2].regex", or "" for the whole file
    message: str
    fix: str = ""
    line: int | None = None

    def __str__(self) -> str:
        place = self.source + (f":{self.line}" if self.line else "")
        key = f" {self.where}:" if self.where else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{place}:{key} {self.message}.{fix}"


class ProblemsError(Exception):
    """Raised with every problem found, so the user can fix them all in one go."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{len(self.problems)} problem(s)")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' — did you mean "x"?' hint when a close spelling exists, else ''."""
    best = process.extractOne(word, list(choices), score_cutoff=70)
    return f'did you mean "{best[0]}"?' if best else ""


def line_index(text: str) -> dict[str, int]:
    """Map TOML key paths ("x.poll_interval_seconds", "agents[1].name") to 1-based line numbers.

    tomllib keeps no positions, so this scans table headers and ``key =`` lines. Good enough to
    point a user at the right line; paths it cannot place simply get no line number.
    """
    index: dict[str, int] = {}
    table = ""
    counts: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("["):
            line = line.split("#", 1)[0].strip()  # [table]  # a comment
        if line.startswith("[["):
            name = line.strip("[]").strip()
            counts[name] = counts.get(name, 0) + 1
            table = f"{name}[{counts[name]}]"
            index.setdefault(table, number)
        elif line.startswith("["):
            table = line.strip("[]").strip()
            index.setdefault(table, number)
        elif "=" in line and not line.startswith("#"):
            key = line.split("=", 1)[0].strip().strip('"')
            index.setdefault(f"{table}.{key}" if table else key, number)
    return index
