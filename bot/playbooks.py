"""Playbooks: reply templates as TOML data, parsed and checked without touching the disk.

A playbook file holds ``[[template]]`` tables::

    [[template]]
    id = "refund-status"
    title = "Refund status"
    lang = "en"
    triggers = ["where is my refund", "still waiting for my money back"]
    text = "Hi {customer}, sorry for the wait on your refund. Could you DM us your booking code?"
    tags = ["billing"]

Placeholders: ``{customer}`` (first name, else @handle), ``{customer_handle}``, ``{agent}`` (first
name), ``{brand}``. The agent's signature is appended at send time, never written in the text.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import voice
from bot.models import Mention
from bot.problems import Problem, did_you_mean, line_index
from bot.schema import Key, each, not_blank, pattern, validate

PLACEHOLDERS = ("customer", "customer_handle", "agent", "brand")
# Longest plausible values, to check a template cannot overflow X's limit once rendered.
_WORST_CASE = {"customer": "x" * 50, "customer_handle": "@" + "x" * 15, "agent": "x" * 20}
_WORST_SIGNATURE = "x" * 12
_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")

TEMPLATE = {
    "id": Key("str", check=pattern(_ID, "a template id", 'use lowercase, digits and "-"')),
    "title": Key("str", ""),
    "lang": Key("str", "", check=pattern(re.compile(r"^([a-z]{2,3})?$"), "a language code", "")),
    "triggers": Key("str_list", check=each(not_blank)),
    "text": Key("str", check=not_blank),
    "tags": Key("str_list", ()),
}
FILE = {"template": Key("tables", (), schema=TEMPLATE)}


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    title: str
    text: str
    triggers: tuple[str, ...]
    lang: str = ""
    tags: tuple[str, ...] = ()
    source: str = ""

    @property
    def label(self) -> str:
        return self.title or self.id.replace("-", " ").replace("_", " ").capitalize()


def parse_playbook(
    text: str, *, source: str, brand: str = ""
) -> tuple[list[Template], list[Problem]]:
    """Parse one playbook file's text; return its templates and every problem in it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [Problem(source, "", f"not valid TOML ({exc})", "fix the syntax")]
    values, problems = validate(data, FILE)
    templates = {i: _template(v, source) for i, v in enumerate(values["template"], start=1)}
    for i, template in templates.items():
        problems += _text_problems(template, where=f"template[{i}]", brand=brand)
    broken = {p.where.split(".")[0] for p in problems}
    valid = [t for i, t in templates.items() if f"template[{i}]" not in broken]
    lines = line_index(text)
    return valid, [_place(p, source, lines) for p in problems]


def _template(values: Mapping[str, Any], source: str) -> Template:
    return Template(
        id=values.get("id") or "",
        title=values.get("title") or "",
        text=values.get("text") or "",
        triggers=tuple(values.get("triggers") or ()),
        lang=values.get("lang") or "",
        tags=tuple(values.get("tags") or ()),
        source=source,
    )


def _place(problem: Problem, source: str, lines: dict[str, int]) -> Problem:
    line = lines.get(problem.where) or lines.get(problem.where.split(".")[0])
    return Problem(source, problem.where, problem.message, problem.fix, line)


def _text_problems(template: Template, *, where: str, brand: str) -> list[Problem]:
    problems: list[Problem] = []
    label = f'template "{template.id}"'
    for name in placeholders(template.text):
        if name not in PLACEHOLDERS:
            fix = did_you_mean(name, PLACEHOLDERS) or f"use one of {{{'}, {'.join(PLACEHOLDERS)}}}"
            problems.append(Problem("", f"{where}.text", f"{label} uses unknown {{{name}}}", fix))
    worst = render(template.text, {**_WORST_CASE, "brand": brand or "x" * 30})
    length = voice.weighted_length(voice.sign(worst, _WORST_SIGNATURE))
    if length > voice.X_LIMIT:
        msg = f"{label} can reach {length} of X's {voice.X_LIMIT} characters once filled in"
        problems.append(Problem("", f"{where}.text", msg, "shorten the text"))
    return problems


def placeholders(text: str) -> list[str]:
    """Names of the ``{placeholders}`` in ``text`` (``{{`` escapes a brace)."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError:
        return ["(unbalanced braces)"]


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill placeholders; unknown ones stay visible so an agent sees what is missing."""
    try:
        return string.Formatter().vformat(text, (), _Keep(values))
    except (ValueError, IndexError, AttributeError):
        return text


def placeholder_values(mention: Mention, *, brand: str, agent: str | None) -> dict[str, str]:
    """Values for a mention; without an agent, ``{agent}`` stays visible for a person to fill."""
    handle = f"@{mention.author.handle}" if mention.author.handle else ""
    first_name = mention.author.name.split()[0] if mention.author.name.strip() else ""
    values = {
        "customer": first_name or handle or "there",
        "customer_handle": handle,
        "brand": brand,
    }
    if agent is not None:
        values["agent"] = agent
    return values


def duplicate_ids(templates: Iterable[Template]) -> list[Problem]:
    """Template ids must be unique across every playbook file."""
    seen: dict[str, Template] = {}
    problems: list[Problem] = []
    for t in templates:
        if t.id in seen:
            first = seen[t.id]
            msg = f'template id "{t.id}" is already used in {first.source}'
            problems.append(Problem(t.source, "template.id", msg, "rename one of them"))
        seen.setdefault(t.id, t)
    return problems
