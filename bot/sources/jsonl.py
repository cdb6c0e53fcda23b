"""Mentions from JSONL (offline triage, evaluation data, the sandbox), normalised at the edge.

One JSON object per line::

    {"id", "network", "brand", "text", "author": {"id", "handle", "name", "followers",
     "verified"}, "created_at", "lang", "conversation_id", "in_reply_to"}

Only ``id`` and ``text`` are required. A bad line yields a clear message, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.models import Author, Mention, MentionKind
from bot.sources.fields import storable


@dataclass(frozen=True, slots=True)
class BadLine:
    number: int
    message: str

    def __str__(self) -> str:
        return f"line {self.number}: {self.message}"


def json_lines(lines: Iterable[str]) -> Iterator[tuple[int, Any] | BadLine]:
    """(line number, decoded object) for each non-blank line, or a ``BadLine`` for bad JSON."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadLine(number, f"not valid JSON ({exc.msg} at column {exc.colno})")


def read_mentions(lines: Iterable[str]) -> Iterator[Mention | BadLine]:
    """Parse each non-blank line; yield a ``Mention`` or a ``BadLine`` saying what is wrong."""
    for item in json_lines(lines):
        if isinstance(item, BadLine):
            yield item
            continue
        number, data = item
        try:
            yield mention_from_dict(data)
        except ValueError as exc:
            yield BadLine(number, str(exc))


@dataclass(frozen=True, slots=True)
class Labelled:
    """A labelled routing example: a mention and the team channel it belongs in."""

    mention: Mention
    channel: str


def read_labelled(lines: Iterable[str]) -> Iterator[Labelled | BadLine]:
    """`{"mention": {...}, "channel": "#name"}` per line; a bad line says what is wrong."""
    for item in json_lines(lines):
        if isinstance(item, BadLine):
            yield item
            continue
        number, data = item
        channel = data.get("channel") if isinstance(data, dict) else None
        if not isinstance(channel, str) or not channel.strip():
            yield BadLine(number, '"channel" is missing (write e.g. "#billing")')
            continue
        try:
            yield Labelled(mention_from_dict(data.get("mention")), channel.strip())
        except ValueError as exc:
            yield BadLine(number, f"mention: {exc}")


def mention_from_dict(data: Any) -> Mention:
    """Build a ``Mention`` (``storable``) from one decoded object; ``ValueError`` names every
    problem."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    problems: list[str] = []
    mention_id = _text(data, "id", problems, required=True)
    text = _text(data, "text", problems, required=True)
    author = _author(data.get("author"), problems)
    created = _moment(data.get("created_at"), problems)
    for key in ("network", "brand", "lang", "conversation_id", "in_reply_to"):
        _text(data, key, problems)
    if problems:
        raise ValueError("; ".join(problems))
    network = data.get("network") or (mention_id.split(":", 1)[0] if ":" in mention_id else "x")
    mention = Mention(
        id=mention_id if ":" in mention_id else f"{network}:{mention_id}",
        network=network,
        text=text,
        author=author,
        created_at=created,
        brand=data.get("brand"),
        lang=data.get("lang") or None,
        conversation_id=data.get("conversation_id"),
        in_reply_to=data.get("in_reply_to"),
        kind=MentionKind.RETWEET if text.startswith("RT @") else _kind(data),
        raw=data,
    )
    return storable(mention)  # a lone surrogate ("\\ud800" in the JSON) becomes U+FFFD


def _kind(data: dict[str, Any]) -> MentionKind:
    return MentionKind.REPLY if data.get("in_reply_to") else MentionKind.MENTION


def _text(data: dict[str, Any], key: str, problems: list[str], *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            problems.append(f'"{key}" is missing')
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool) and key == "id":
        return str(value)
    if not isinstance(value, str):
        problems.append(f'"{key}" must be a string, got {type(value).__name__}')
        return ""
    if required and not value.strip():
        problems.append(f'"{key}" is empty')
    return value


def _author(value: Any, problems: list[str]) -> Author:
    if value is None:
        return Author(id="")
    if not isinstance(value, dict):
        problems.append(f'"author" must be an object, got {type(value).__name__}')
        return Author(id="")
    followers = value.get("followers") or 0
    if not isinstance(followers, int) or isinstance(followers, bool) or followers < 0:
        problems.append('"author.followers" must be a whole number ≥ 0')
        followers = 0
    return Author(
        id=str(value.get("id") or value.get("handle") or ""),
        handle=str(value.get("handle") or ""),
        name=str(value.get("name") or ""),
        followers=followers,
        verified=bool(value.get("verified")),
    )


def _moment(value: Any, problems: list[str]) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f'"created_at" is not an ISO-8601 time: {value!r}')
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
