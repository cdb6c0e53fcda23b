"""A reply waiting for a lead: the message with Approve, Edit… and Reject…, and their modals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.models import (
    Approval,
    ApprovalState,
    Mention,
)
from bot.slack.views.ids import (
    APPROVE_ACTION,
    APPROVE_EDIT_ACTION,
    APPROVE_EDIT_VIEW,
    NOTE_BLOCK,
    NOTE_INPUT,
    REJECT_ACTION,
    REJECT_VIEW,
    REPLY_BLOCK,
    REPLY_INPUT,
)
from bot.slack.views.kit import Block, button, context, escape, plain, quote, said, section, words


@dataclass(frozen=True, slots=True)
class ApprovalView:
    approval: Approval
    mention: Mention
    agent: str  # display name
    decided_by: str = ""  # display name
    card: str | None = None  # the case card's permalink


def approval_message(view: ApprovalView) -> tuple[str, list[Block]]:
    """The request a lead sees: who wants to say what to whom, and why it needs approval."""
    a, m = view.approval, view.mention
    case = f"<{view.card}|case #{a.case_id}>" if view.card else f"case #{a.case_id}"
    head = f"🛡 *Approval needed* · {case} · {escape(a.reason)}"
    asks = [
        words(view.agent, bold=True),
        words(f" wants to reply publicly to @{m.author.handle}:"),
    ]
    reply = "\n".join(quote(p, 2800 // max(1, len(a.parts))) for p in a.parts)
    blocks: list[Block] = [section(head), said(m.text, limit=600, head=asks)]
    blocks.append(section(f"*Their reply*{' (a thread)' if len(a.parts) > 1 else ''}:\n{reply}"))
    blocks.append(_approval_outcome(view))
    text = f"Approval needed: {view.agent}'s reply to case #{a.case_id}"
    return escape(text), blocks


def _approval_outcome(view: ApprovalView) -> Block:
    a, who = view.approval, escape(view.decided_by)
    if a.state is ApprovalState.APPROVED:
        return context(f"✅ Approved by {who}; sent through the outbox")
    if a.state is ApprovalState.REJECTED:
        return context(f"↩ Sent back by {who}: “{escape(a.note)}”")
    value = str(a.id)
    return {
        "type": "actions",
        "elements": [
            button("Approve", APPROVE_ACTION, value, style="primary"),
            button("Edit…", APPROVE_EDIT_ACTION, value),
            button("Reject…", REJECT_ACTION, value, style="danger"),
        ],
    }


def approve_edit_modal(approval: Approval) -> dict[str, Any]:
    """A lead changes the reply's text, then approves it in one step (it is checked again)."""
    element = {
        "type": "plain_text_input",
        "action_id": REPLY_INPUT,
        "multiline": True,
        "initial_value": approval.body,
    }
    return {
        "type": "modal",
        "callback_id": APPROVE_EDIT_VIEW,
        "private_metadata": json.dumps({"approval": approval.id}),
        "title": plain("Edit and approve", 24),
        "submit": plain("Approve and post", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            context("The agent's signature is added as before. Approving posts it publicly."),
            {
                "type": "input",
                "block_id": REPLY_BLOCK,
                "label": plain("Reply", 2000),
                "element": element,
            },
        ],
    }


def reject_modal(approval: Approval) -> dict[str, Any]:
    """Send the reply back with a note the agent will see."""
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "private_metadata": json.dumps({"approval": approval.id}),
        "title": plain("Send back", 24),
        "submit": plain("Send back", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "label": plain("What should change?", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_INPUT,
                    "multiline": True,
                },
            },
        ],
    }
