"""The file side of ``earshot playbooks learn``: read past mention → reply pairs (JSON lines,
every bad line named at once) and write the learned templates as one playbook file per brand.
The learning itself is pure and lives in ``bot.decide.distill``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.decide.distill import Pair, unique_id
from bot.decide.playbooks import Template, file_slug, playbook_toml
from bot.problems import Problem
from bot.sources.jsonl import BadLine, json_lines, mention_from_dict

# ---- reading --------------------------------------------------------------------------------


def read_pairs(
    lines: Iterable[str], *, source: str = "<pairs>"
) -> tuple[list[Pair], list[Problem]]:
    """``{"mention": {...}, "reply": {"text", "created_at", "agent"}}`` per line.

    Bad lines become problems with their line number and a fix; the good ones are kept.
    """
    pairs: list[Pair] = []
    problems: list[Problem] = []
    for item in json_lines(lines):
        if isinstance(item, BadLine):
            fix = "write one JSON object per line"
            problems.append(Problem(source, "", item.message, fix, item.number))
            continue
        number, data = item
        try:
            pairs.append(_pair(data))
        except _BadPair as exc:
            problems.append(Problem(source, exc.where, exc.message, _PAIR_FIX, number))
    return pairs, problems


_PAIR_FIX = 'write {"mention": {"id": "…", "text": "…", …}, "reply": {"text": "…"}}'


class _BadPair(ValueError):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where, self.message = where, message


def _pair(data: Any) -> Pair:
    if not isinstance(data, dict):
        raise _BadPair("", f"expected a JSON object, got {type(data).__name__}")
    try:
        mention = mention_from_dict(data.get("mention"))
    except ValueError as exc:
        raise _BadPair("mention", str(exc)) from None
    reply = data.get("reply")
    if not isinstance(reply, dict):
        raise _BadPair("reply", '"reply" must be an object with a "text"')
    text = reply.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _BadPair("reply.text", '"reply.text" is missing or empty')
    agent = reply.get("agent")
    if agent is not None and not isinstance(agent, str):
        raise _BadPair("reply.agent", f'"agent" must be a string, got {type(agent).__name__}')
    return Pair(mention, text, _moment(reply.get("created_at")), agent or None)


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _BadPair("reply.created_at", f"not an ISO-8601 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---- normalising ----------------------------------------------------------------------------


# ---- learning -------------------------------------------------------------------------------


# ---- slots ----------------------------------------------------------------------------------


# ---- examples, triggers, language, names ------------------------------------------------------


# ---- checking ---------------------------------------------------------------------------------


# ---- writing ----------------------------------------------------------------------------------


def write_playbooks(
    by_brand: Mapping[str, Sequence[Template]],
    out: Path,
    *,
    pairs: int | None = None,
    learned_on: datetime | None = None,
) -> list[Path]:
    """One ``<brand>.toml`` per brand in ``out``; the paths written, in brand order.

    The header says the file was learned, from how many pairs (``pairs``: all brands together)
    and on which day (``learned_on``, default today; the same pairs on the same day give the
    same bytes).
    """
    out.mkdir(parents=True, exist_ok=True)
    day = (learned_on or datetime.now(UTC)).date().isoformat()
    source = f"{pairs:,} mention → reply pairs" if pairs is not None else "past replies"
    written: list[Path] = []
    names: set[str] = set()
    for brand in sorted(by_brand):
        templates = by_brand[brand]
        if not templates:
            continue
        name = unique_id(file_slug(brand), names)
        header = (
            f"Reply templates for {brand}, learned by earshot from {source} on {day}.\n"
            f"{len(templates)} template(s), most used first. Review them before use:\n"
            "fill-in slots such as {reference?} mark what varied between the replies."
        )
        path = out / f"{name}.toml"
        path.write_text(playbook_toml(templates, header=header), encoding="utf-8")
        written.append(path)
    return written
