"""A small declarative validator for TOML data: types, defaults, checks, unknown keys.

Shared by the config and the playbooks so both report problems the same way: every problem at
once, each with the key path, what is wrong and how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.problems import Problem, did_you_mean

REQUIRED: Any = object()
Check = Callable[[Any], tuple[str, str] | None]  # -> (what is wrong, how to fix) or None


@dataclass(frozen=True, slots=True)
class Key:
    """One key of the schema: its kind, default (or required) and an optional extra check."""

    kind: str  # str | int | float | bool | str_list | table | tables
    default: Any = REQUIRED  # None for a table: optional, and None when absent
    check: Check | None = None
    schema: Mapping[str, Key] | None = None


# ---- checks -----------------------------------------------------------------------------------


def pattern(regex: re.Pattern[str], what: str, fix: str) -> Check:
    def check(value: Any) -> tuple[str, str] | None:
        return None if regex.match(value) else (f"{value!r} is not {what}", fix)

    return check


def each(inner: Check) -> Check:
    def check(values: Any) -> tuple[str, str] | None:
        return next((p for v in values if (p := inner(v))), None)

    return check


def between(low: float, high: float) -> Check:
    def check(value: Any) -> tuple[str, str] | None:
        ok = low <= value <= high
        return None if ok else (f"{value} is out of range", f"use a value from {low} to {high}")

    return check


def one_of(*choices: str) -> Check:
    def check(value: Any) -> tuple[str, str] | None:
        return None if value in choices else (f"{value!r} is not allowed", f"use one of {choices}")

    return check


def http_url(value: Any) -> tuple[str, str] | None:
    if re.match(r"^https?://[^\s/]+", value):
        return None
    return (f"{value!r} is not an http(s) URL", 'write a full URL such as "https://slack.com/api/"')


def valid_regex(value: Any) -> tuple[str, str] | None:
    try:
        re.compile(value)
    except re.error as exc:
        return (f"{value!r} is not a valid regular expression ({exc})", "correct the pattern")
    return None


def not_blank(value: Any) -> tuple[str, str] | None:
    return ("must not be empty", "write a value") if not str(value).strip() else None


def validate(
    data: Mapping[str, Any], schema: Mapping[str, Key], *, path: str = ""
) -> tuple[dict[str, Any], list[Problem]]:
    """Check ``data`` against ``schema``; return values with defaults filled in, and problems."""
    problems: list[Problem] = []
    return _table(data, schema, path=path, problems=problems), problems


def _table(
    data: Mapping[str, Any], schema: Mapping[str, Key], *, path: str, problems: list[Problem]
) -> dict[str, Any]:
    for key in data:
        if key not in schema:
            hint = did_you_mean(key, schema)
            fix = hint or f"remove it; known keys here: {', '.join(schema)}"
            problems.append(Problem("", _join(path, key), "unknown key", fix))
    out: dict[str, Any] = {}
    for key, spec in schema.items():
        where = _join(path, key)
        if key in data:
            out[key] = _value(data[key], spec, where=where, problems=problems)
        elif spec.default is REQUIRED:
            kind = "section" if spec.kind == "table" else "key"
            problems.append(Problem("", where, f"required {kind} is missing", f"add {where}"))
        elif spec.kind == "table" and spec.schema is not None and spec.default is not None:
            out[key] = _table({}, spec.schema, path=where, problems=problems)
        else:
            out[key] = spec.default
    return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "str_list": (list,),
    "table": (dict,),
    "tables": (list,),
}
_TYPE_WORDS = {
    "str": ("a string", 'a value in quotes, e.g. "text"'),
    "int": ("a whole number", "a whole number without quotes, e.g. 3000"),
    "float": ("a number", "a number without quotes, e.g. 60"),
    "bool": ("true or false", "true or false, without quotes"),
    "str_list": ("a list of strings", 'a list such as ["a", "b"]'),
    "table": ("a section", "a [section] with keys under it"),
    "tables": ("a list of tables", "one [[table]] block per item"),
}


def _is_kind(value: Any, kind: str) -> bool:
    return isinstance(value, _TYPES[kind])


def _value(value: Any, spec: Key, *, where: str, problems: list[Problem]) -> Any:
    bad_bool = isinstance(value, bool) and spec.kind != "bool"
    items = value if isinstance(value, list) else []  # not a list at all: _is_kind says so
    bad_items = spec.kind == "str_list" and not all(isinstance(v, str) for v in items)
    if bad_bool or not _is_kind(value, spec.kind) or bad_items:
        got = type(value).__name__
        noun, example = _TYPE_WORDS[spec.kind]
        problems.append(Problem("", where, f"expected {noun}, got {got}", f"write {example}"))
        return spec.default if spec.default is not REQUIRED else None
    if spec.kind == "table" and spec.schema is not None:
        return _table(value, spec.schema, path=where, problems=problems)
    if spec.kind == "tables" and spec.schema is not None:
        return [_tables_item(item, spec.schema, where, i, problems) for i, item in enumerate(value)]
    if spec.kind == "str_list":
        value = tuple(value)
    if spec.check and (found := spec.check(value)):
        problems.append(Problem("", where, found[0], found[1]))
    return float(value) if spec.kind == "float" else value


def _tables_item(
    item: Any, schema: Mapping[str, Key], where: str, i: int, problems: list[Problem]
) -> dict[str, Any]:
    path = f"{where}[{i + 1}]"
    if not isinstance(item, dict):
        problems.append(Problem("", path, "expected a table", f"write it as [[{where}]]"))
        return {}
    return _table(item, schema, path=path, problems=problems)
