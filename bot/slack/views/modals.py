"""The reply modals: compose (with the meter and fill-in slots), the preview of exactly what goes
public, a notice, and the answer-on-X modal where X takes no reply by API."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.decide.x_rules import reply_intent
from bot.models import (
    Agent,
    Mention,
)
from bot.slack.views.ids import (
    COMPOSE_VIEW,
    CONFIRM_VIEW,
    EDIT_ACTION,
    MARK_ANSWERED_ACTION,
    METER_BLOCK,
    REPLY_BLOCK,
    REPLY_INPUT,
    REPLY_ON_X_ACTION,
    SLOT_BLOCK,
    SLOT_INPUT,
)
from bot.slack.views.kit import (
    Block,
    button,
    context,
    escape,
    link_button,
    plain,
    quote,
    said,
    section,
    words,
)


def answer_on_x_modal(*, case_id: int, mention: Mention, parts: Sequence[str]) -> dict[str, Any]:
    """The reply is ready but X takes it only from the brand's own X session: open it there
    with the text filled in (each part of a thread answers the one before), then mark the case
    answered."""
    post = link_button(
        "↩️ Reply on X with this text",
        REPLY_ON_X_ACTION,
        reply_intent(mention.native_id, parts[0]),
        style="primary",
    )
    mark = button("✅ Mark answered", MARK_ANSWERED_ACTION, str(case_id))
    later = [section(f"*Then, answering it:*\n{quote(part)}") for part in parts[1:]]
    why = (
        f"X lets us answer @{escape(mention.author.handle)} by API only if they @mention the "
        "brand. Post this from the brand's X session, then mark the case answered:"
    )
    return {
        "type": "modal",
        "title": plain("Answer on X", 24),
        "close": plain("Done", 24),
        "blocks": [
            section(why),
            section(quote(parts[0])),
            *later,
            {"type": "actions", "elements": [post, mark]},
        ],
    }


@dataclass(frozen=True, slots=True)
class ComposeView:
    case_id: int
    template: str | None
    mention: Mention
    agent: Agent
    body: str
    meter: str  # "Signed ^JK · 212 characters left"
    network_label: str = "X"
    slots: tuple[str, ...] = ()  # fields to fill in, one input each
    approval: str = ""  # why a lead approves it first, or ""


def slot_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _slot_input(name: str) -> Block:
    return {
        "type": "input",
        "block_id": f"{SLOT_BLOCK}{name}",
        "optional": True,
        "label": plain(f"{slot_label(name)} — fills {{{name}?}}", 2000),
        "element": {"type": "plain_text_input", "action_id": f"{SLOT_INPUT}_{name}"},
    }


def _values(view: Mapping[str, Any]) -> Mapping[str, Any]:
    """A submitted modal's input state, block by block ({} when absent or malformed)."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def state_of(view: Mapping[str, Any], block: str, action: str) -> Mapping[str, Any]:
    """One input's state in a submitted modal ({} when absent or malformed)."""
    fields = _values(view).get(block)
    state = fields.get(action) if isinstance(fields, Mapping) else None
    return state if isinstance(state, Mapping) else {}


def input_value(view: Mapping[str, Any], block: str, action: str) -> str:
    """What was typed into one input of a submitted modal ("" if nothing)."""
    return str(state_of(view, block, action).get("value") or "")


def slot_values(view: Mapping[str, Any]) -> dict[str, str]:
    """What the agent typed into each slot field of a submitted compose modal."""
    return {
        name: input_value(view, block, f"{SLOT_INPUT}_{name}")
        for block in _values(view)
        if str(block).startswith(SLOT_BLOCK) and (name := str(block)[len(SLOT_BLOCK) :])
    }


def compose_modal(view: ComposeView) -> dict[str, Any]:
    """Step 1: edit the reply. Shows what it answers, the signature and the characters left;
    one field per slot the template leaves for the agent to fill in."""
    m = view.mention
    meta = {"case": view.case_id, "template": view.template or ""}
    element = {
        "type": "plain_text_input",
        "action_id": REPLY_INPUT,
        "multiline": True,
        "initial_value": view.body,
        "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]},
    }
    return {
        "type": "modal",
        "callback_id": COMPOSE_VIEW,
        "private_metadata": json.dumps(meta, ensure_ascii=False),
        "title": plain(f"Reply on {view.network_label}", 24),
        "submit": plain("Preview", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            said(
                m.text,
                limit=1500,
                head=[words("Replying to "), words(f"@{m.author.handle}", bold=True), words(":")],
            ),
            {
                "type": "input",
                "block_id": REPLY_BLOCK,
                "dispatch_action": True,
                "label": plain("Your reply", 2000),
                "element": element,
            },
            {**context(view.meter), "block_id": METER_BLOCK},
            *(_slot_input(name) for name in view.slots),
            *_approval_note(view.approval),
            context(INTERNAL_NOTE),
        ],
    }


def _approval_note(reason: str) -> list[Block]:
    if not reason:
        return []
    return [context(f"🛡 A lead approves this reply before it goes public: {escape(reason)}.")]


INTERNAL_NOTE = (
    "🔒 Only *Post publicly* reaches the customer. Messages in a card's thread are internal notes."
)


_VIEW_KEYS = ("type", "callback_id", "private_metadata", "title", "submit", "close", "blocks")


def with_meter(view: Mapping[str, Any], text: str) -> dict[str, Any]:
    """The same modal with a new meter line, minus the read-only keys Slack added."""
    updated = {key: view[key] for key in _VIEW_KEYS if key in view}
    updated["blocks"] = [
        {**context(text), "block_id": METER_BLOCK} if b.get("block_id") == METER_BLOCK else b
        for b in view.get("blocks", [])
    ]
    return updated


def meter(*, signature: str, left: int) -> str:
    if left < 0:
        return f"Signed *{escape(signature)}* · ⚠️ *{-left} characters over* the limit"
    return f"Signed *{escape(signature)}* · {left} characters left"


@dataclass(frozen=True, slots=True)
class PreviewView:
    case_id: int
    template: str | None
    body: str
    public_text: str
    key: str
    mention: Mention
    brand_handle: str
    length: int
    limit: int
    network_label: str = "X"
    private: bool = False  # a direct message: only the customer sees it
    parts: tuple[str, ...] = ()  # a thread when more than one
    warnings: tuple[str, ...] = ()
    approval: str = ""  # why a lead approves it first, or ""


def _public_parts(view: PreviewView) -> list[Block]:
    parts = view.parts or (view.public_text,)
    if len(parts) == 1:
        return [
            section(quote(parts[0])),
            context(f"{view.length}/{view.limit} characters · signature included"),
        ]
    blocks: list[Block] = [
        context(
            f"🧵 Too long for one post: it goes out as a thread of {len(parts)} replies, "
            "numbered, your signature on the last."
        )
    ]
    for number, part in enumerate(parts, start=1):
        blocks.append(section(f"*{number}/{len(parts)}*\n{quote(part)}"))
    return blocks


def preview_modal(view: PreviewView) -> dict[str, Any]:
    """Step 2: exactly what goes public, signed (one post or a numbered thread), what to look
    at again; the agent confirms, or goes back to edit."""
    meta = {
        "case": view.case_id,
        "template": view.template or "",
        "body": view.body,
        "key": view.key,
        "answering": view.mention.id,
    }
    how = "posted *publicly*"
    if view.private:
        how = "sent *privately* (a direct message only they see)"
    where = (
        f"This will be {how} on {view.network_label} as *@{escape(view.brand_handle)}*,"
        f" replying to @{escape(view.mention.author.handle)}:"
    )
    if view.approval:
        where = f"🛡 A lead approves it first ({escape(view.approval)}). Then t" + where[1:]
    edit = button("✏️ Edit", EDIT_ACTION, str(view.case_id))
    warnings = (
        [section("\n".join(f"⚠️ {escape(w)}" for w in view.warnings))] if view.warnings else []
    )
    return {
        "type": "modal",
        "callback_id": CONFIRM_VIEW,
        "private_metadata": json.dumps(meta, ensure_ascii=False),
        "title": plain("Confirm public reply", 24),
        "submit": plain(_submit_label(view), 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(where),
            *_public_parts(view),
            *warnings,
            {"type": "actions", "elements": [edit]},
        ],
    }


def _submit_label(view: PreviewView) -> str:
    if view.approval:
        return "Send for approval"
    return "Send privately" if view.private else "Post publicly"


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something. ``text`` is Earshot's own mrkdwn, shown as written."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close", 24),
        "blocks": [section(text)],
    }
