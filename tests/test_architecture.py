"""The folders are the architecture map, and these rules keep them so. Read from the source with
``ast`` (no extra tools): every import of every module in ``bot/`` and ``handlers/``.

- ``handlers`` (Slack listeners) may use the bot; the bot never imports ``handlers``, except the
  composition root that registers the listeners (``bot/app.py``).
- No import cycles between modules (a type-only import counts too: it is still a dependency).
- ``bot/decide`` is pure: it imports only the kernel (models, clock, problems, schema), other
  decisions and no I/O library.
- The two paths never call into each other: inbound (``bot/inbound``) and outbound
  (``bot/desk``) share the kernel, storage, the live state and Slack, not each other.
- Listeners never reach into the store: they call the desk, steering or operations.
- The emulators import no bot code: ``tests/sandbox/test_no_bot_code.py``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOT = "bot.app"
KERNEL = {"bot.models", "bot.clock", "bot.problems", "bot.schema"}
IO_LIBRARIES = {
    "sqlite3",
    "sqlite_utils",
    "socket",
    "subprocess",
    "requests",
    "httpx",
    "urllib.request",
    "http.client",
    "http.server",
    "slack_sdk",
    "slack_bolt",
    "tweepy",
    "atproto",
    "atproto_client",
    "mastodon",
    "apscheduler",
    "matplotlib",
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _name(path): path for path in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py")])
}


def _imports(module: str) -> Iterator[str]:
    """Every module this one imports, anywhere in it: ``from a import b`` names ``a.b`` when
    that is a module, else ``a``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield full if full in MODULES else node.module


GRAPH = {m: {i for i in _imports(m) if i in MODULES and i != m} for m in MODULES}


def test_the_bot_never_imports_the_listeners() -> None:
    back = sorted(
        f"{m} imports {i}"
        for m, found in GRAPH.items()
        for i in found
        if m.startswith("bot") and m != COMPOSITION_ROOT and i.startswith("handlers")
    )
    assert back == []


def test_no_import_cycles() -> None:
    cycles = _cycles(GRAPH)
    assert cycles == [], " | ".join(" → ".join(c) for c in cycles)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("bot.decide")))
def test_decisions_are_pure(module: str) -> None:
    wrong = sorted(
        i
        for i in set(_imports(module))
        if (i.startswith("bot") and i not in KERNEL and not i.startswith("bot.decide"))
        or i.split(".")[0] in IO_LIBRARIES
        or ".".join(i.split(".")[:2]) in IO_LIBRARIES
    )
    assert wrong == [], f"{module} imports {wrong}"


@pytest.mark.parametrize(
    ("one", "other"), [("bot.inbound", "bot.desk"), ("bot.desk", "bot.inbound")]
)
def test_the_two_paths_never_call_into_each_other(one: str, other: str) -> None:
    crossing = sorted(
        f"{m} imports {i}"
        for m, found in GRAPH.items()
        if m.startswith(one)
        for i in found
        if i.startswith(other)
    )
    assert crossing == []


def test_listeners_never_reach_into_the_store() -> None:
    reaching = sorted(
        f"{m}:{node.lineno}"
        for m in MODULES
        if m.startswith("handlers")
        for node in ast.walk(ast.parse(MODULES[m].read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "store"
    )
    storage = sorted(
        f"{m} imports {i}"
        for m, found in GRAPH.items()
        if m.startswith("handlers")
        for i in found
        if i.startswith("bot.storage") and i != "bot.storage.mentions"
    )
    assert reaching == [] and storage == []


MAX_LINES = 650  # "no module over ~600 lines"; the emulators are exempt (one platform each)


def test_modules_stay_small_enough_to_read() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    large = {m: n for m, n in sizes.items() if n > MAX_LINES and not m.startswith("bot.sandbox")}
    assert large == {}, f"split these by what they do: {large}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
