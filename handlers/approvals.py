"""A lead's answer to a reply waiting for approval: Approve, Edit… (then approve), Reject…."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.desk.access import Refused
from bot.desk.approvals import Approvals
from bot.desk.desk import Desk
from bot.models import Approval
from bot.services import Services
from bot.slack.views import approvals as approval_views
from bot.slack.views import ids, modals
from handlers import payload
from handlers.errors import refusals_told
from handlers.wiring import named


def register(app: App, services: Services) -> None:
    approvals, desk, told = services.approvals, services.desk, refusals_told(services.board)
    app.action(ids.APPROVE_ACTION)(told(partial(approve_clicked, approvals=approvals, desk=desk)))
    app.action(ids.APPROVE_EDIT_ACTION)(told(partial(approve_edit_clicked, approvals=approvals)))
    app.action(ids.REJECT_ACTION)(told(partial(reject_clicked, approvals=approvals)))
    app.view(ids.APPROVE_EDIT_VIEW)(named(partial(edited, approvals=approvals, desk=desk)))
    app.view(ids.REJECT_VIEW)(named(partial(rejected, approvals=approvals)))


def approve_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], *, approvals: Approvals, desk: Desk
) -> None:
    ack()
    reply = approvals.approve(_approval(action), payload.user(body))
    desk.send_soon(reply.id)


def approve_edit_clicked(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    *,
    approvals: Approvals,
) -> None:
    ack()
    _open(approval_views.approve_edit_modal, approvals, body, action, client)


def reject_clicked(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    *,
    approvals: Approvals,
) -> None:
    ack()
    _open(approval_views.reject_modal, approvals, body, action, client)


def edited(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], *, approvals: Approvals, desk: Desk
) -> None:
    text = modals.input_value(view, ids.REPLY_BLOCK, ids.REPLY_INPUT)
    try:
        approval_id = _approval(payload.meta(view))
        reply = approvals.approve(approval_id, payload.user(body), body=text)
    except Refused as exc:
        ack(response_action="errors", errors={ids.REPLY_BLOCK: str(exc)})
        return
    ack()
    desk.send_soon(reply.id)


def rejected(ack: Ack, body: dict[str, Any], view: dict[str, Any], *, approvals: Approvals) -> None:
    note = modals.input_value(view, ids.NOTE_BLOCK, ids.NOTE_INPUT)
    try:
        approvals.reject(_approval(payload.meta(view)), payload.user(body), note=note)
    except Refused as exc:
        ack(response_action="errors", errors={ids.NOTE_BLOCK: str(exc)})
        return
    ack()


def _open(
    modal: Callable[[Approval], dict[str, Any]],
    approvals: Approvals,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
) -> None:
    """Open a lead's form about a pending approval (refused when it is no longer pending)."""
    approval = approvals.pending(_approval(action), payload.user(body))
    client.views_open(trigger_id=payload.trigger(body), view=modal(approval))


def _approval(source: dict[str, Any]) -> int:
    """The approval a button (its value) or a modal (its metadata) is about."""
    return payload.number(source.get("value", source.get("approval")), what="approval request")
