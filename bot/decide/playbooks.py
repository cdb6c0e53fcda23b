"""Playbooks: reply templates as TOML data, parsed and checked without touching the disk.

A playbook file holds ``[[template]]`` tables::

    [[template]]
    id = "refund-status"            # translations of a template share its id
    title = "Refund status"
    lang = "en"
    brands = ["Skylark Air"]        # optional: only for these brands (default: every brand)
    teams = ["#billing"]            # optional: ranked higher for cases in these channels
    triggers = ["where is my refund"]
    examples = ["It's been three weeks and still no refund for my cancelled flight"]
    text = "Hi {customer}, your refund for {booking_ref?} is on its way: {link}"
    link = "https://help.example.com/refunds"
    tags = ["billing"]
    uses = 12                       # optional: past replies it stands for (learned playbooks)

Placeholders: ``{customer}`` (first name, else @handle), ``{customer_handle}``, ``{agent}`` (first
name), ``{brand}``, ``{link}`` (the template's help link). A slot such as ``{booking_ref?}`` is a
field the agent must fill in before sending. The agent's signature is appended at send time, never
written in the text.
"""

from __future__ import annotations

import json
import re
import string
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.decide import lengths, voice
from bot.models import Mention
from bot.problems import Problem, did_you_mean, line_index
from bot.schema import Key, between, each, not_blank, pattern, validate

PLACEHOLDERS = ("customer", "customer_handle", "agent", "brand", "link")
SLOT_WORST_CASE = 20  # characters an agent may type into a fill-in slot, for the length check
# Longest plausible values, to check a template cannot overflow X's limit once rendered.
_WORST_CASE = {"customer": "x" * 50, "customer_handle": "@" + "x" * 15, "agent": "x" * 20}
_WORST_SIGNATURE = "x" * 12
_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
_SLOT = re.compile(r"^[a-z][a-z0-9_]{0,31}\?$")
_LANG = re.compile(r"^([a-z]{2,3})?$")
_TEAM = re.compile(r"^#[a-z0-9][a-z0-9_\-]{0,79}$")
_LINK = re.compile(r"^(https?://\S+)?$")

TEMPLATE = {
    "id": Key("str", check=pattern(_ID, "a template id", 'use lowercase, digits and "-"')),
    "title": Key("str", ""),
    "lang": Key("str", "", check=pattern(_LANG, "a language code", 'e.g. "en" or "ko"')),
    "brands": Key("str_list", (), check=each(not_blank)),
    "teams": Key("str_list", (), check=each(pattern(_TEAM, "a channel", 'e.g. "#billing"'))),
    "triggers": Key("str_list", (), check=each(not_blank)),
    "examples": Key("str_list", (), check=each(not_blank)),
    "text": Key("str", check=not_blank),
    "link": Key("str", "", check=pattern(_LINK, "a web address", 'start it with "https://"')),
    "tags": Key("str_list", ()),
    "uses": Key("int", 0, check=between(0, 10**9)),
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
    examples: tuple[str, ...] = ()  # real mentions this template answered well
    brands: tuple[str, ...] = ()  # empty: every brand
    teams: tuple[str, ...] = ()  # channels where it fits best
    link: str = ""
    uses: int = 0  # how many past replies this template stands for (a popularity prior)

    @property
    def label(self) -> str:
        return self.title or self.id.replace("-", " ").replace("_", " ").capitalize()

    @property
    def slots(self) -> tuple[str, ...]:
        """Fill-in fields (``{order_id?}`` gives ``order_id``), in order of first use."""
        names = (n[:-1] for n in placeholders(self.text) if n.endswith("?"))
        return tuple(dict.fromkeys(names))

    def for_brand(self, brand: str) -> bool:
        return not self.brands or brand.casefold() in {b.casefold() for b in self.brands}


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
        examples=tuple(values.get("examples") or ()),
        brands=tuple(values.get("brands") or ()),
        teams=tuple(values.get("teams") or ()),
        link=values.get("link") or "",
        uses=values.get("uses") or 0,
    )


def _place(problem: Problem, source: str, lines: dict[str, int]) -> Problem:
    line = lines.get(problem.where) or lines.get(problem.where.split(".")[0])
    return Problem(source, problem.where, problem.message, problem.fix, line)


def _text_problems(template: Template, *, where: str, brand: str) -> list[Problem]:
    problems: list[Problem] = []
    label = f'template "{template.id}"'
    if not template.triggers and not template.examples:
        fix = "add a few triggers or example mentions so it can be suggested"
        problems.append(Problem("", f"{where}.triggers", f"{label} has no triggers", fix))
    for name in placeholders(template.text):
        if name.endswith("?"):
            if not _SLOT.match(name):
                fix = "name a slot with lowercase letters, digits and _, e.g. {order_id?}"
                problems.append(Problem("", f"{where}.text", f"{label}: bad slot {{{name}}}", fix))
        elif name not in PLACEHOLDERS:
            fix = did_you_mean(name, PLACEHOLDERS) or (
                f"use one of {{{'}, {'.join(PLACEHOLDERS)}}}, or a slot such as {{{name}?}}"
            )
            problems.append(Problem("", f"{where}.text", f"{label} uses unknown {{{name}}}", fix))
    if "link" in placeholders(template.text) and not template.link:
        fix = 'add link = "https://…" to the template, or drop {link}'
        problems.append(Problem("", f"{where}.text", f"{label} uses {{link}} but has no link", fix))
    if (length := worst_case_length(template, brand=brand)) > lengths.X_LIMIT:
        msg = f"{label} can reach {length} of X's {lengths.X_LIMIT} characters once filled in"
        problems.append(Problem("", f"{where}.text", msg, "shorten the text"))
    return problems


def worst_case_length(template: Template, *, brand: str = "") -> int:
    """X length with the longest plausible names, slot values and signature filled in."""
    slots = {f"{name}?": "x" * SLOT_WORST_CASE for name in template.slots}
    values = {**_WORST_CASE, **slots, "brand": brand or "x" * 30, "link": template.link}
    return lengths.weighted_length(voice.sign(render(template.text, values), _WORST_SIGNATURE))


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


def placeholder_values(
    mention: Mention, *, brand: str, agent: str | None, link: str = ""
) -> dict[str, str]:
    """Values for a mention; without an agent, ``{agent}`` stays visible for a person to fill.

    Slots (``{order_id?}``) are never filled here: the agent fills them in the reply modal.
    """
    handle = f"@{mention.author.handle}" if mention.author.handle else ""
    first_name = mention.author.name.split()[0] if mention.author.name.strip() else ""
    values = {
        "customer": first_name or handle or "there",
        "customer_handle": handle,
        "brand": brand,
    }
    if link:
        values["link"] = link
    if agent is not None:
        values["agent"] = agent
    return values


def fill_slots(text: str, filled: Mapping[str, str]) -> str:
    """Put the agent's slot values in; empty ones stay visible so the check can name them."""
    values = {f"{name}?": value.strip() for name, value in filled.items() if value.strip()}
    return render(text, values)


def duplicate_ids(templates: Iterable[Template]) -> list[Problem]:
    """An id names one template; each language may have one translation of it."""
    seen: dict[tuple[str, str], Template] = {}
    problems: list[Problem] = []
    for t in templates:
        if (first := seen.get((t.id, t.lang))) is not None:
            lang = f" in language {t.lang!r}" if t.lang else ""
            msg = f'template id "{t.id}"{lang} is already used in {first.source}'
            fix = "rename one of them, or give the translation its own lang"
            problems.append(Problem(t.source, "template.id", msg, fix))
        seen.setdefault((t.id, t.lang), t)
    return problems


def missing_translations(
    templates: Iterable[Template], *, languages: Iterable[str] = ()
) -> list[Problem]:
    """Ids not translated into every language the brand answers in.

    Without ``languages``, only ids translated at least once are checked, against every language
    some translated id uses.
    """
    by_id: dict[str, dict[str, Template]] = {}
    for t in templates:
        if t.lang:
            by_id.setdefault(t.id, {})[t.lang] = t
    translated = {i: found for i, found in by_id.items() if len(found) > 1}
    wanted = set(languages) or {lang for found in translated.values() for lang in found}
    problems: list[Problem] = []
    for template_id, found in sorted((by_id if languages else translated).items()):
        if missing := sorted(wanted - set(found)):
            first = next(iter(found.values()))
            msg = f'template "{template_id}" has no {", ".join(missing)} translation'
            fix = f'add a [[template]] with id = "{template_id}" and lang = "{missing[0]}"'
            problems.append(Problem(first.source, "template.lang", msg, fix))
    return problems


def file_slug(brand: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", _fold(brand))) or "brand"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def playbook_toml(templates: Iterable[Template], *, header: str = "") -> str:
    """Playbook file text for ``templates`` (what ``parse_playbook`` reads back)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for template in templates:
        lines += ["", "[[template]]"]
        lines += [f"{key} = {value}" for key, value in _fields(template)]
    text = "\n".join(lines).lstrip("\n") + "\n"
    tomllib.loads(text)  # a bug here must never write a file that does not load
    return text


def _fields(template: Template) -> list[tuple[str, str]]:
    values: list[tuple[str, int | str | Sequence[str]]] = [
        ("id", template.id),
        ("title", template.title),
        ("lang", template.lang),
        ("brands", template.brands),
        ("teams", template.teams),
        ("triggers", template.triggers),
        ("examples", template.examples),
        ("text", template.text),
        ("link", template.link),
        ("tags", template.tags),
        ("uses", template.uses),
    ]
    return [(key, _toml(value)) for key, value in values if value]


def _toml(value: int | str | Sequence[str]) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if len(value) <= 1:
        return "[" + ", ".join(_toml_string(v) for v in value) + "]"
    return "[\n" + "".join(f"  {_toml_string(v)},\n" for v in value) + "]"


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, except DEL, which TOML wants escaped)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
