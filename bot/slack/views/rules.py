"""Pure Block Kit builders for steering routing from Slack: the rule list, the rule editor, the
dry-run of a change, the history. Data in, Slack JSON out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.decide.rules import (
    BUSINESS_HOURS,
    OUTSIDE_BUSINESS_HOURS,
    PRIORITIES,
    SENTIMENTS,
    Ruleset,
    RuleSpec,
    describe,
)
from bot.models import RouteDecision
from bot.slack.views.kit import Block, button, context, escape, plain, quote, section

RULE_MENU = "earshot_rule_menu"  # suffixed _<n>: one overflow menu per rule
RULE_ADD = "earshot_rule_add"
RULE_HISTORY = "earshot_rule_history"
RULE_UNDO = "earshot_rule_undo"
RULE_EDITOR = "earshot_rule_editor"
RULE_APPLY = "earshot_rule_apply"
# In the editor each input's action id is its block id (action ids are unique in a view).
MAX_LISTED = 40
_LISTS = ("keywords", "all_keywords", "languages", "handles", "brands", "customer_tags", "tags")
_FLAGS = ("enabled", "fuzzy", "verified_only", "require_approval")
_FLAG_LABELS = {
    "enabled": "Enabled",
    "fuzzy": "Keywords match misspellings too",
    "verified_only": "Only verified authors",
    "require_approval": "Replies need a lead's approval",
}


# ---- the list -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RulesView:
    ruleset: Ruleset
    fallback: str
    learned_examples: int
    can_edit: bool
    changed_by: str


def rules_list(view: RulesView) -> list[Block]:
    rules = view.ruleset.rules
    when = view.ruleset.at.strftime("%Y-%m-%d %H:%M UTC")
    blocks: list[Block] = [
        section(
            f"*Routing rules* · version {view.ruleset.version} · changed by "
            f"{escape(view.changed_by)} on {when}. First match wins."
        )
    ]
    for index, rule in enumerate(rules[:MAX_LISTED], start=1):
        blocks.append(_rule_line(index, rule, editable=view.can_edit))
    if len(rules) > MAX_LISTED:
        blocks.append(context(f"…and {len(rules) - MAX_LISTED} more (`earshot routing export`)"))
    learned = (
        f"learned routing ({view.learned_examples} examples), then "
        if view.learned_examples
        else ""
    )
    blocks.append(context(f"No rule matched → {learned}fallback {escape(view.fallback)}"))
    if view.can_edit:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button("➕ Add rule", RULE_ADD, "add", style="primary"),
                    button("History", RULE_HISTORY, "history"),
                    button("Undo last change", RULE_UNDO, str(view.ruleset.version)),
                ],
            }
        )
    else:
        blocks.append(context("Only leads can change rules. Try `/mentions route test <text>`."))
    return blocks


def _rule_line(index: int, rule: RuleSpec, *, editable: bool) -> Block:
    state = "" if rule.enabled else " _(disabled)_"
    block = section(f"*{index}. {escape(rule.name)}*{state}\n{escape(describe(rule))}")
    if editable:
        options = [
            ("✏️ Edit", "edit"),
            ("⬆️ Move up", "up"),
            ("⬇️ Move down", "down"),
            ("⏸ Disable" if rule.enabled else "▶️ Enable", "toggle"),
            ("🗑 Remove", "remove"),
        ]
        block["accessory"] = {
            "type": "overflow",
            "action_id": f"{RULE_MENU}_{index}",
            "options": [
                {"text": plain(t, 75), "value": f"{v}|{rule.name}"[:150]} for t, v in options
            ],
        }
    return block


def test_result(text: str, decision: RouteDecision) -> str:
    via = {"rule": "", "learned": " (learned)", "fallback": " (fallback)"}.get(decision.via, "")
    extras = []
    if decision.tags:
        extras.append("tags " + ", ".join(decision.tags))
    if decision.priority:
        extras.append(f"priority {decision.priority.value}")
    if decision.require_approval:
        extras.append("needs approval")
    more = f" · {escape('; '.join(extras))}" if extras else ""
    return (
        f"{quote(text, 500)}\n→ *{escape(decision.channel)}*{via}{more}\n"
        f"Why: {escape(decision.why)}"
    )


@dataclass(frozen=True, slots=True)
class HistoryLine:
    version: int
    at: datetime
    actor: str
    summary: str
    changes: tuple[str, ...]


def history_blocks(lines: Sequence[HistoryLine]) -> list[Block]:
    if not lines:
        return [section("No routing changes yet.")]
    blocks: list[Block] = [section("*Routing history*, newest first")]
    for line in lines[:40]:
        details = "\n".join(f"   {escape(c)}" for c in line.changes[:8])
        when = f"{line.at:%Y-%m-%d %H:%M}"
        head = f"*v{line.version}* · {escape(line.actor)} · {when} · {escape(line.summary)}"
        blocks.append(section(f"{head}\n{details}" if details else head))
    return blocks


# ---- the editor ---------------------------------------------------------------------------------


def rule_editor(rule: RuleSpec | None, *, channels: Sequence[str]) -> dict[str, Any]:
    """The add/edit modal; submitting it shows the dry-run before anything is saved."""
    r = rule or RuleSpec("", "")
    meta = {"editing": rule.name if rule else ""}
    inputs = _rule_inputs(r, channels=channels, adding=rule is None)
    return {
        "type": "modal",
        "callback_id": RULE_EDITOR,
        "private_metadata": json.dumps(meta, ensure_ascii=False),
        "title": plain("Edit rule" if rule else "Add rule", 24),
        "submit": plain("Dry-run", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            context("Conditions all have to hold. Nothing changes until you apply the dry-run."),
            *inputs,
        ],
    }


def _rule_inputs(r: RuleSpec, *, channels: Sequence[str], adding: bool) -> list[Block]:
    inputs = [
        _text("name", "Name", r.name, optional=False, hint="Unique, e.g. refunds"),
        _text(
            "channel",
            "Channel",
            r.channel,
            optional=False,
            hint="#name or a channel id"
            + (f"; in use: {', '.join(channels[:8])}" if channels else ""),
        ),
        *([_number("position", "Position (1 = first)", None)] if adding else []),
        _text(
            "keywords",
            "Any of these keywords",
            ", ".join(r.keywords),
            hint="comma-separated words or phrases",
        ),
        _text("all_keywords", "All of these keywords", ", ".join(r.all_keywords)),
        _text("regex", "Pattern (Python regular expression)", r.regex, hint="(?i) for any case"),
        _text("languages", "Languages", ", ".join(r.languages), hint="e.g. en, ko"),
        _checks("sentiments", "Sentiment", SENTIMENTS, r.sentiments),
        _select("min_priority", "At least this priority", PRIORITIES, r.min_priority),
        _number("min_followers", "At least this many followers", r.min_followers or None),
        _text("handles", "Author handles", ", ".join(r.handles), hint="without @"),
        _text("brands", "Brands", ", ".join(r.brands), hint="for installs with several brands"),
        _text("customer_tags", "Customer tagged", ", ".join(r.customer_tags)),
        _checks("networks", "Networks", ("x", "bluesky", "mastodon"), r.networks),
        _select(
            "when",
            "When",
            (BUSINESS_HOURS, OUTSIDE_BUSINESS_HOURS),
            r.when if r.when in (BUSINESS_HOURS, OUTSIDE_BUSINESS_HOURS) else "",
        ),
        _text(
            "when_custom",
            "…or this time window",
            "" if r.when in ("", BUSINESS_HOURS, OUTSIDE_BUSINESS_HOURS) else r.when,
            hint="e.g. Sat-Sun or Mon-Fri 18:00-08:00",
        ),
        _text("tags", "Then tag the case", ", ".join(r.tags)),
        _select(
            "priority_bump",
            "Then change priority by",
            ("-3", "-2", "-1", "+1", "+2", "+3"),
            f"{r.priority_bump:+d}" if r.priority_bump else "",
        ),
        _text("notify", "Then notify a user group or person", r.notify, hint="S… or U… id"),
        _checks(
            "flags",
            "Options",
            _FLAGS,
            tuple(f for f in _FLAGS if getattr(r, f)),
            labels=_FLAG_LABELS,
        ),
    ]
    return inputs


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label, 2000),
        "element": {**element, "action_id": block_id},
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _text(block_id: str, label: str, value: str, *, optional: bool = True, hint: str = "") -> Block:
    element: dict[str, Any] = {"type": "plain_text_input"}
    if value:
        element["initial_value"] = value
    return _input(block_id, label, element, optional=optional, hint=hint)


def _number(block_id: str, label: str, value: int | None) -> Block:
    element: dict[str, Any] = {
        "type": "number_input",
        "is_decimal_allowed": False,
        "min_value": "0",
    }
    if value is not None:
        element["initial_value"] = str(value)
    return _input(block_id, label, element, optional=True)


def _option(value: str, label: str | None = None) -> dict[str, Any]:
    return {"text": plain(label or value.replace("_", " "), 75), "value": value}


def _select(block_id: str, label: str, values: Sequence[str], current: str) -> Block:
    element: dict[str, Any] = {"type": "static_select", "options": [_option(v) for v in values]}
    if current:
        element["initial_option"] = _option(current)
    return _input(block_id, label, element, optional=True)


def _checks(
    block_id: str,
    label: str,
    values: Sequence[str],
    current: Sequence[str],
    *,
    labels: Mapping[str, str] | None = None,
) -> Block:
    options = [_option(v, (labels or {}).get(v)) for v in values]
    element: dict[str, Any] = {"type": "checkboxes", "options": options}
    chosen = [o for o in options if o["value"] in current]
    if chosen:
        element["initial_options"] = chosen
    return _input(block_id, label, element, optional=True)


def rule_data(state: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The editor's submitted state as rule data (validated afterwards by the rule schema)."""
    value = {block: (fields.get(block) or {}) for block, fields in state.items()}
    data: dict[str, Any] = {
        "name": _plain(value, "name"),
        "channel": _plain(value, "channel"),
        "regex": _plain(value, "regex"),
        "notify": _plain(value, "notify"),
        "sentiments": _chosen(value, "sentiments"),
        "networks": _chosen(value, "networks"),
        "min_priority": _selected(value, "min_priority"),
        "when": _plain(value, "when_custom") or _selected(value, "when"),
        "min_followers": _whole(_plain(value, "min_followers")),
        "priority_bump": _whole(_selected(value, "priority_bump")),
    }
    for key in _LISTS:
        data[key] = [part.strip() for part in _plain(value, key).split(",") if part.strip()]
    flags = set(_chosen(value, "flags"))
    data.update({flag: flag in flags for flag in _FLAGS})
    return data


def position(state: Mapping[str, Mapping[str, Any]]) -> int | None:
    raw = str(_field(_field(state, "position"), "position").get("value") or "")
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _whole(text: str) -> int | str:
    """A typed number as a number; anything else as typed, for the rule schema to name."""
    try:
        return int(text or 0)
    except ValueError:
        return text


def _field(value: Mapping[str, Any], block: str) -> Mapping[str, Any]:
    found = value.get(block)
    return found if isinstance(found, Mapping) else {}


def _plain(value: Mapping[str, Any], block: str) -> str:
    return str(_field(value, block).get("value") or "").strip()


def _chosen(value: Mapping[str, Any], block: str) -> list[str]:
    chosen = _field(value, block).get("selected_options")
    options = chosen if isinstance(chosen, list) else []
    return [str(o.get("value") or "") for o in options if isinstance(o, Mapping)]


def _selected(value: Mapping[str, Any], block: str) -> str:
    return str(_field(_field(value, block), "selected_option").get("value") or "")


# ---- the dry-run --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoveLine:
    case_id: int | None
    handle: str
    text: str
    before: str
    after: str
    why: str


def dry_run_modal(
    *,
    proposal_id: int,
    summary: str,
    changes: Sequence[str],
    moves: Sequence[MoveLine],
    checked: int,
) -> dict[str, Any]:
    """What the change would do to the latest stored mentions, before it is saved."""
    moved = (
        f"{len(moves)} of the last {checked} mentions would be routed differently"
        if moves
        else f"None of the last {checked} mentions would be routed differently."
    )
    lines = [
        f"• {f'case #{m.case_id} ' if m.case_id else ''}@{escape(m.handle)}: "
        f"{escape(m.before)} → *{escape(m.after)}* — “{escape(m.text[:60])}” "
        f"({escape(m.why[:120])})"
        for m in moves[:25]
    ]
    if len(moves) > 25:
        lines.append(f"…and {len(moves) - 25} more")
    blocks = [
        section(f"*Proposed:* {escape(summary)}\n" + "\n".join(escape(c) for c in changes)),
        section(f"*Dry-run:* {moved}"),
    ]
    if lines:
        blocks.append(section("\n".join(lines)[:2900]))
    blocks.append(
        context("Apply saves a new version of the rules; `/mentions route undo` puts it back.")
    )
    return {
        "type": "modal",
        "callback_id": RULE_APPLY,
        "private_metadata": json.dumps({"proposal": proposal_id}),
        "title": plain("Dry-run", 24),
        "submit": plain("Apply change", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }
