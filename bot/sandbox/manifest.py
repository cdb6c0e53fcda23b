"""A Slack app manifest as the Slack emulator reads it: the bot's scopes, the bot events it is
subscribed to, and the features it has switched on (App Home tabs, interactivity, commands).

Slack reads ``manifest.yaml`` when the app is created; the emulator reads the same file so the
workspace it plays grants exactly what a real install of that manifest would. The parser covers
the block-style YAML subset a manifest uses (nested mappings, ``-`` lists of scalars or of
mappings, quoted or plain scalars, comments) and refuses anything else rather than guess.
Imports no bot code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The repository's manifest, when the sandbox runs from a source tree (an installed wheel has none).
DEFAULT_MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yaml"

_KEY = re.compile(r"^([A-Za-z_][\w.-]*):(?:\s+(.*))?$")


@dataclass(frozen=True, slots=True)
class AppManifest:
    """What an install of the app grants: scopes, event subscriptions and features."""

    scopes: frozenset[str]
    bot_events: frozenset[str]
    commands: frozenset[str]
    home_tab: bool
    messages_tab: bool
    interactivity: bool

    @classmethod
    def load(cls, path: Path = DEFAULT_MANIFEST) -> AppManifest:
        return cls.of(parse_yaml(path.read_text("utf-8")))

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> AppManifest:
        features = manifest.get("features") or {}
        home = features.get("app_home") or {}
        settings = manifest.get("settings") or {}
        oauth = manifest.get("oauth_config") or {}
        events = (settings.get("event_subscriptions") or {}).get("bot_events") or ()
        return cls(
            scopes=frozenset((oauth.get("scopes") or {}).get("bot") or ()),
            bot_events=frozenset(events),
            commands=frozenset(c["command"] for c in features.get("slash_commands") or ()),
            home_tab=home.get("home_tab_enabled") is True,
            messages_tab=home.get("messages_tab_enabled") is True,
            interactivity=(settings.get("interactivity") or {}).get("is_enabled") is True,
        )

    @classmethod
    def unrestricted(cls, scopes: frozenset[str]) -> AppManifest:
        """An app with every feature on and the given scopes (no manifest file to read)."""
        events = frozenset({"message.channels", "message.groups", "message.im", "app_home_opened"})
        return cls(scopes, events, frozenset({"/mentions"}), True, True, True)


def parse_yaml(text: str) -> dict[str, Any]:
    """The block-style YAML subset of an app manifest; ``ValueError`` (with the line) otherwise."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if _content(line)]
    value, rest = _block(lines, 0, indent=0)
    if rest < len(lines):
        raise ValueError(f"line {lines[rest][0]}: unexpected indentation")
    if not isinstance(value, dict):
        raise ValueError("a manifest is a mapping at the top level")
    return value


Lines = list[tuple[int, str]]


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#") and stripped != "---"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: Lines, at: int, *, indent: int) -> tuple[Any, int]:
    """The mapping or list starting at ``lines[at]`` (indented ``indent``); the next index."""
    if lines[at][1].lstrip().startswith("- "):
        return _list(lines, at, indent=indent)
    return _mapping(lines, at, indent=indent)


def _mapping(lines: Lines, at: int, *, indent: int) -> tuple[dict[str, Any], int]:
    found: dict[str, Any] = {}
    while at < len(lines) and _indent(lines[at][1]) == indent:
        number, line = lines[at]
        match = _KEY.match(line.strip())
        if match is None or line.lstrip().startswith("- "):
            break
        key, raw = match.group(1), _strip_comment(match.group(2) or "")
        at += 1
        if raw:
            found[key] = _scalar(raw, number)
        elif at < len(lines) and _indent(lines[at][1]) > indent:
            found[key], at = _block(lines, at, indent=_indent(lines[at][1]))
        elif at < len(lines) and lines[at][1].lstrip().startswith("- "):
            found[key], at = _list(lines, at, indent=indent)  # "key:\n- item" at the same indent
        else:
            found[key] = None
    return found, at


def _list(lines: Lines, at: int, *, indent: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    while at < len(lines) and _indent(lines[at][1]) == indent:
        number, line = lines[at]
        stripped = line.strip()
        if not stripped.startswith("- "):
            break
        item = stripped[2:].strip()
        if _KEY.match(item):  # "- key: value" opens a mapping indented past the dash
            inner = indent + 2
            rewritten = [(number, " " * inner + item), *lines[at + 1 :]]
            value, used = _mapping(rewritten, 0, indent=inner)
            items.append(value)
            at += used
        else:
            items.append(_scalar(_strip_comment(item), number))
            at += 1
    return items, at


def _strip_comment(raw: str) -> str:
    if raw.startswith(('"', "'")):
        return raw.strip()
    return raw.split(" #", 1)[0].strip()


def _scalar(raw: str, number: int) -> Any:
    if raw.startswith(("[", "{", "&", "*", "|", ">")):
        raise ValueError(f"line {number}: flow style, anchors and block scalars are not supported")
    if raw.startswith('"'):
        try:
            return str(json.loads(raw))
        except ValueError:
            raise ValueError(f"line {number}: bad double-quoted string {raw}") from None
    if raw.startswith("'"):
        if not raw.endswith("'") or len(raw) < 2:
            raise ValueError(f"line {number}: bad single-quoted string {raw}")
        return raw[1:-1].replace("''", "'")
    words = {"true": True, "false": False, "null": None, "~": None}
    if raw.lower() in words:
        return words[raw.lower()]
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw
