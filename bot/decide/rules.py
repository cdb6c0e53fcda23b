"""Routing rules as data: what a rule tests, what it does, how it is validated, stored and shown.

A rule is a ``RuleSpec`` (a frozen value). The same schema checks rules from the config file, from
the Slack rule editor and from the database, so a rule is valid everywhere or nowhere. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, time
from typing import Any

from bot.models import Priority, Sentiment
from bot.problems import Problem
from bot.schema import Key, between, each, not_blank, one_of, pattern, valid_regex, validate

_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9_\-]{0,79}|[CG][A-Z0-9]{6,})$")
_LANG = re.compile(r"^[a-z]{2,3}$")
_NOTIFY = re.compile(r"^(S[A-Z0-9]{2,}|[UW][A-Z0-9]{2,})?$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUSINESS_HOURS = "business_hours"
OUTSIDE_BUSINESS_HOURS = "outside_business_hours"
PRIORITIES = tuple(p.value for p in Priority)
SENTIMENTS = tuple(s.value for s in Sentiment)
CONDITIONS = (
    "keywords",
    "all_keywords",
    "regex",
    "languages",
    "sentiments",
    "min_priority",
    "min_followers",
    "verified_only",
    "networks",
    "brands",
    "handles",
    "customer_tags",
    "when",
)


@dataclass(frozen=True, slots=True)
class Window:
    """Days and a time range in the brand's time zone; the range may wrap past midnight."""

    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    def contains(self, moment: datetime) -> bool:
        now = moment.timetz().replace(tzinfo=None)
        if self.start == self.end:  # days only (or 00:00-24:00): the whole day
            return moment.weekday() in self.days
        if self.start < self.end:
            return moment.weekday() in self.days and self.start <= now < self.end
        if now >= self.start:
            return moment.weekday() in self.days
        return (moment.weekday() - 1) % 7 in self.days and now < self.end


def parse_window(text: str) -> Window:
    """Parse "Mon-Fri 09:00-17:30", "Sat,Sun" or "22:00-06:00"; ``ValueError`` says what's wrong."""
    parts = text.strip().split()
    if not parts or len(parts) > 2:
        raise ValueError(f'{text!r} is not a time window like "Mon-Fri 09:00-17:30"')
    days = [p for p in parts if not p[0].isdigit()]
    hours = [p for p in parts if p[0].isdigit()]
    if len(days) > 1 or len(hours) > 1:
        raise ValueError(f'{text!r} has two day or two time parts; write days as "Mon,Tue"')
    found_days = _parse_days(days[0]) if days else frozenset(range(7))
    start, end = _parse_hours(hours[0]) if hours else (time(0), time(0))
    return Window(found_days, start, end)


def _parse_days(text: str) -> frozenset[int]:
    found: set[int] = set()
    for chunk in text.split(","):
        first, _, last = chunk.lower().partition("-")
        if first[:3] not in _DAYS or (last and last[:3] not in _DAYS):
            raise ValueError(f"{chunk!r} is not a day or day range (Mon..Sun)")
        a, b = _DAYS.index(first[:3]), _DAYS.index((last or first)[:3])
        found.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    return frozenset(found)


def _parse_hours(text: str) -> tuple[time, time]:
    start, _, end = text.partition("-")
    try:
        return _clock(start), _clock(end or "24:00")
    except ValueError:
        raise ValueError(f"{text!r} is not a time range like 09:00-17:30") from None


def _clock(text: str) -> time:
    hour, _, minute = text.partition(":")
    h, m = int(hour), int(minute or 0)
    return time(0) if (h, m) == (24, 0) else time(h, m)


def _window(value: Any) -> tuple[str, str] | None:
    if value in ("", BUSINESS_HOURS, OUTSIDE_BUSINESS_HOURS):
        return None
    try:
        parse_window(value)
    except ValueError as exc:
        fix = f'write "{BUSINESS_HOURS}", "{OUTSIDE_BUSINESS_HOURS}" or e.g. "Mon-Fri 09:00-17:30"'
        return str(exc), fix
    return None


RULE_SCHEMA: dict[str, Key] = {
    "name": Key("str", check=not_blank),
    "channel": Key("str", check=pattern(_CHANNEL, "a Slack channel", 'write "#name" or an id')),
    "enabled": Key("bool", True),
    "keywords": Key("str_list", (), check=each(not_blank)),
    "all_keywords": Key("str_list", (), check=each(not_blank)),
    "fuzzy": Key("bool", True),
    "regex": Key("str", "", check=valid_regex),
    "languages": Key("str_list", (), check=each(pattern(_LANG, "a language code", 'e.g. "en"'))),
    "sentiments": Key("str_list", (), check=each(one_of(*SENTIMENTS))),
    "min_priority": Key("str", "", check=one_of("", *PRIORITIES)),
    "min_followers": Key("int", 0, check=between(0, 10**10)),
    "verified_only": Key("bool", False),
    "networks": Key("str_list", (), check=each(one_of("x", "bluesky", "mastodon"))),
    "brands": Key("str_list", (), check=each(not_blank)),
    "handles": Key("str_list", (), check=each(not_blank)),
    "customer_tags": Key("str_list", (), check=each(not_blank)),
    "when": Key("str", "", check=_window),
    "tags": Key("str_list", (), check=each(not_blank)),
    "priority_bump": Key("int", 0, check=between(-3, 3)),
    "notify": Key(
        "str", "", check=pattern(_NOTIFY, "a Slack user group or user id", "e.g. S0123ABCD")
    ),
    "require_approval": Key("bool", False),
}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One routing rule. Conditions all have to hold; ``keywords`` needs any one of its words."""

    name: str
    channel: str
    enabled: bool = True
    keywords: tuple[str, ...] = ()
    all_keywords: tuple[str, ...] = ()
    fuzzy: bool = True
    regex: str = ""
    languages: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    min_priority: str = ""
    min_followers: int = 0
    verified_only: bool = False
    networks: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    customer_tags: tuple[str, ...] = ()
    when: str = ""
    tags: tuple[str, ...] = ()
    priority_bump: int = 0
    notify: str = ""
    require_approval: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Only what differs from the defaults, lists as lists: for JSON, TOML and diffs."""
        defaults = RuleSpec(self.name, self.channel)
        out: dict[str, Any] = {"name": self.name, "channel": self.channel}
        for key, value in asdict(self).items():
            if key not in out and value != getattr(defaults, key):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @property
    def has_condition(self) -> bool:
        defaults = RuleSpec(self.name, self.channel)
        return any(getattr(self, c) != getattr(defaults, c) for c in CONDITIONS)


@dataclass(frozen=True, slots=True)
class Ruleset:
    """One saved version of the whole ordered rule list."""

    version: int
    rules: tuple[RuleSpec, ...]
    fallback: str
    at: datetime
    actor: str
    action: str
    summary: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """A change a lead is looking at (dry-run shown), not saved yet."""

    id: int
    actor: str
    base_version: int
    action: str
    summary: str
    rules: tuple[RuleSpec, ...]


class StaleRulesError(Exception):
    """Someone saved a newer version of the rules since this change was prepared."""

    def __init__(self, latest: int | None) -> None:
        super().__init__(f"the rules changed meanwhile (now version {latest})")
        self.latest = latest


def rule_problems(data: Mapping[str, Any], *, where: str) -> tuple[RuleSpec | None, list[Problem]]:
    """Validate one rule's data; the spec if it is valid, and every problem."""
    values, problems = validate(data, RULE_SCHEMA, path=where)
    if problems:
        return None, problems
    spec = RuleSpec(**values)
    if not spec.has_condition:
        fix = "add keywords, a pattern, languages or another condition, or use the fallback channel"
        return None, [Problem("", where, "the rule has no condition", fix)]
    return spec, []


def parse_rules(
    items: Sequence[Mapping[str, Any]], *, where: str
) -> tuple[list[RuleSpec], list[Problem]]:
    """Validate a whole ordered rule list: each rule, plus unique names."""
    specs: list[RuleSpec] = []
    problems: list[Problem] = []
    for i, item in enumerate(items, start=1):
        spec, trouble = rule_problems(item, where=f"{where}[{i}]")
        problems += trouble
        if spec and any(s.name == spec.name for s in specs):
            msg = f"name {spec.name!r} is used by an earlier rule"
            problems.append(Problem("", f"{where}[{i}].name", msg, "give each rule its own name"))
        elif spec:
            specs.append(spec)
    return specs, problems


def to_toml(rules: Iterable[RuleSpec], *, fallback: str) -> str:
    """The rules as a ``[routing]`` TOML section, ready to paste into the config."""
    lines = ["[routing]", f"fallback_channel = {_toml(fallback)}", ""]
    for rule in rules:
        lines.append("[[routing.rules]]")
        lines += [f"{key} = {_toml(value)}" for key, value in rule.to_dict().items()]
        lines.append("")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML one


def describe(rule: RuleSpec) -> str:
    """One line for people: what the rule tests and what it does."""
    tests = [_condition(key, getattr(rule, key)) for key in CONDITIONS if _is_set(rule, key)]
    does = [f"→ {rule.channel}"]
    if rule.tags:
        does.append("tag " + ", ".join(rule.tags))
    if rule.priority_bump:
        does.append(f"priority {rule.priority_bump:+d}")
    if rule.notify:
        does.append(f"notify {rule.notify}")
    if rule.require_approval:
        does.append("needs approval")
    return "; ".join(tests) + "  " + ", ".join(does)


def _is_set(rule: RuleSpec, key: str) -> bool:
    return bool(getattr(rule, key) != getattr(RuleSpec(rule.name, rule.channel), key))


def _condition(key: str, value: Any) -> str:
    if isinstance(value, tuple):
        joined = " | ".join(value) if key != "all_keywords" else " & ".join(value)
        return f"{key.replace('_', ' ')}: {joined}"
    if isinstance(value, bool):
        return key.replace("_", " ")
    return f"{key.replace('_', ' ')}: {value}"


def diff(before: Sequence[RuleSpec], after: Sequence[RuleSpec]) -> list[str]:
    """Human lines for what changed between two rule lists (added, removed, edited, moved)."""
    old = {r.name: (i, r) for i, r in enumerate(before, start=1)}
    new = {r.name: (i, r) for i, r in enumerate(after, start=1)}
    lines = [f"+ added “{n}” at {i}" for n, (i, _) in new.items() if n not in old]
    lines += [f"− removed “{n}” (was {i})" for n, (i, _) in old.items() if n not in new]
    kept = old.keys() & new.keys()
    for name in sorted(kept):
        (i, a), (j, b) = old[name], new[name]
        changed = [f.name for f in fields(RuleSpec) if getattr(a, f.name) != getattr(b, f.name)]
        if changed:
            lines.append(f"~ edited “{name}”: {', '.join(changed)}")
        if _ahead(before, name, kept) != _ahead(after, name, kept):
            lines.append(f"↕ moved “{name}” {i} → {j}")
    return lines


def _ahead(rules: Sequence[RuleSpec], name: str, kept: set[str]) -> tuple[str, ...]:
    """Surviving rules ahead of ``name``: a move changes who comes first, not just the index."""
    names = [r.name for r in rules if r.name in kept]
    return tuple(names[: names.index(name)])
