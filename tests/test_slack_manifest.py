"""The manifest follows from the code: every Web API method the bot calls and every listener it
registers is looked up in Slack's documented requirements (``bot.slack_scopes``), and the
manifest must grant exactly that. Regression: the digest chart could not upload (files:write
missing) and the App Home never appeared (home tab off, no app_home_opened subscription)."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.models import NETWORK_NAMES
from bot.sandbox.manifest import DEFAULT_MANIFEST, AppManifest, parse_yaml
from bot.slack.scopes import (
    COMMANDS_SCOPE,
    EVENTS,
    LISTENED,
    METHODS,
    POST_PUBLIC_SCOPE,
    needed_scopes,
)
from handlers.commands import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("bot", "handlers")
INTERACTIVE = ("action", "view", "shortcut", "options", "view_submission", "block_action")


def _python_files() -> Iterator[Path]:
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "sandbox" not in path.relative_to(ROOT).parts:  # the emulators play Slack
                yield path


def _calls() -> Iterator[tuple[Path, ast.Call]]:
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                yield path, node


@cache
def web_api() -> dict[str, frozenset[str]]:
    """slack-sdk's WebClient methods → the Web API methods each calls, read from slack-sdk's
    own source (``files_upload_v2`` calls ``files.getUploadURLExternal`` and
    ``files.completeUploadExternal``)."""
    direct: dict[str, tuple[set[str], set[str]]] = {}
    for name, function in inspect.getmembers(WebClient, inspect.isfunction):
        if name.startswith("_") or name == "api_call":
            continue
        source = inspect.getsource(function)
        apis = set(re.findall(r'self\.api_call\(\s*"([\w.]+)"', source))
        direct[name] = (apis, set(re.findall(r"self\.(\w+)\(", source)) - {"api_call", name})

    def resolve(name: str, seen: frozenset[str]) -> set[str]:
        apis, delegates = direct[name]
        found = set(apis)
        for other in delegates & (direct.keys() - seen):
            found |= resolve(other, seen | {other})
        return found

    return {name: frozenset(resolve(name, frozenset({name}))) for name in direct}


def methods_called() -> dict[str, list[str]]:
    """Every Web API method the bot calls → where (file:line)."""
    found: dict[str, list[str]] = {}
    for path, call in _calls():
        attr = call.func.attr  # type: ignore[attr-defined]
        names: frozenset[str] = web_api().get(attr, frozenset())
        if attr == "api_call" and call.args and isinstance(call.args[0], ast.Constant):
            names = frozenset({str(call.args[0].value)})
        for name in names:
            found.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{call.lineno}")
    return found


def listeners() -> dict[str, set[str]]:
    """What the Bolt app listens to: ``app.event("message")`` → {"event": {"message"}}, and the
    same for command, action, view, shortcut… (ids built at run time show as "<dynamic>")."""
    found: dict[str, set[str]] = {}
    for _, call in _calls():
        target = call.func.value  # type: ignore[attr-defined]
        if not (isinstance(target, ast.Name) and target.id == "app"):
            continue
        kind = call.func.attr  # type: ignore[attr-defined]
        arg = call.args[0] if call.args else None
        name = str(arg.value) if isinstance(arg, ast.Constant) else "<dynamic>"
        found.setdefault(kind, set()).add(name)
    return found


@cache
def manifest() -> dict[str, Any]:
    return parse_yaml(DEFAULT_MANIFEST.read_text("utf-8"))


def test_the_scan_finds_what_the_bot_is_known_to_do() -> None:
    """The scan itself works: it sees the card post, the upload's two calls and the listeners."""
    called = methods_called()
    assert {"chat.postMessage", "files.getUploadURLExternal", "files.completeUploadExternal"} <= (
        called.keys()
    )
    found = listeners()
    assert {"message", "app_home_opened"} <= found["event"]
    assert "/mentions" in found["command"]
    assert found["action"] and found["view"]


def test_every_method_the_bot_calls_has_slacks_requirements_in_the_table() -> None:
    unknown = {m: where for m, where in methods_called().items() if m not in METHODS}
    assert not unknown, (
        f"Web API methods with no entry in bot/slack_scopes.METHODS: {unknown}. Add each with "
        "the bot scopes and rate tier its page (https://api.slack.com/methods/<name>) gives."
    )


def test_the_table_lists_no_method_the_bot_no_longer_calls() -> None:
    assert set(METHODS) - set(methods_called()) == set()


def test_every_event_listened_to_has_its_subscriptions_in_the_table() -> None:
    events = listeners().get("event", set())
    assert events <= LISTENED.keys(), f"add {events - LISTENED.keys()} to slack_scopes.LISTENED"
    subscriptions = {s for e in events for s in LISTENED[e]}
    assert subscriptions <= EVENTS.keys()


def test_the_table_links_slacks_own_pages() -> None:
    for name, method in METHODS.items():
        assert method.doc(name) == f"https://api.slack.com/methods/{name}"
    for name, event in EVENTS.items():
        assert event.doc(name) == f"https://api.slack.com/events/{name}"


def test_the_manifest_grants_exactly_the_scopes_the_code_needs() -> None:
    events = tuple(s for e in listeners().get("event", ()) for s in LISTENED[e])
    needed = needed_scopes(tuple(methods_called()), events)
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert {"files:write", COMMANDS_SCOPE, POST_PUBLIC_SCOPE} <= needed
    assert granted - needed == set(), "scopes nothing in the code needs: drop them"
    assert needed - granted == set(), "scopes the code needs: add them to manifest.yaml"


def test_the_manifest_subscribes_to_every_event_listened_to() -> None:
    wanted = {s for e in listeners().get("event", ()) for s in LISTENED[e]}
    bot_events = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert bot_events == wanted


def test_the_manifest_switches_on_the_features_the_code_uses() -> None:
    app = AppManifest.of(manifest())
    found = listeners()
    if "views.publish" in methods_called() or "app_home_opened" in found.get("event", ()):
        assert app.home_tab, "views.publish answers not_enabled without home_tab_enabled"
    # SlackBoard.tell sends a direct message when there is no channel to whisper in: Slack
    # answers messages_tab_disabled without the Messages tab.
    assert app.messages_tab
    if any(found.get(kind) for kind in INTERACTIVE):
        assert app.interactivity
    assert set(found.get("command", ())) == set(app.commands)


def test_the_slash_command_describes_every_subcommand_and_network() -> None:
    [command] = manifest()["features"]["slash_commands"]
    hint = command["usage_hint"]
    missing = [sub for sub in SUBCOMMANDS if not re.search(rf"\b{sub}\b", hint)]
    assert not missing, f"usage_hint lacks {missing}"
    description = manifest()["display_information"]["description"]
    assert all(name in description for name in NETWORK_NAMES.values())


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2]",
        "a: &anchor 1",
        "a: |\n  block",
    ],
)
def test_the_manifest_reader_refuses_yaml_it_does_not_understand(text: str) -> None:
    with pytest.raises(ValueError, match="line 1"):
        parse_yaml(text)
