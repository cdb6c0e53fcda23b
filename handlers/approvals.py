"""A lead's answer to a reply waiting for approval: Approve, Edit… (then approve), Reject…."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.desk.access import Refused
from bot.services import Services
from bot.slack.views import blocks
from handlers import payload
from handlers.errors import refusals_told


def register(app: App, services: Services) -> None:
    approvals, desk, told = services.approvals, services.desk, refusals_told(services)

    @app.action(blocks.APPROVE_ACTION)
    @told
    def approve_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        reply = approvals.approve(_approval(action), payload.user(body))
        desk.send_soon(reply.id)

    @app.action(blocks.APPROVE_EDIT_ACTION)
    @told
    def edit_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        approval = approvals.pending(_approval(action), payload.user(body))
        client.views_open(trigger_id=body["trigger_id"], view=blocks.approve_edit_modal(approval))

    @app.action(blocks.REJECT_ACTION)
    @told
    def reject_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        approval = approvals.pending(_approval(action), payload.user(body))
        client.views_open(trigger_id=body["trigger_id"], view=blocks.reject_modal(approval))

    @app.view(blocks.APPROVE_EDIT_VIEW)
    def edited(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = blocks.input_value(view, blocks.REPLY_BLOCK, blocks.REPLY_INPUT)
        try:
            approval_id = _approval(payload.meta(view))
            reply = approvals.approve(approval_id, payload.user(body), body=text)
        except Refused as exc:
            ack(response_action="errors", errors={blocks.REPLY_BLOCK: str(exc)})
            return
        ack()
        desk.send_soon(reply.id)

    @app.view(blocks.REJECT_VIEW)
    def rejected(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        note = blocks.input_value(view, blocks.NOTE_BLOCK, blocks.NOTE_INPUT)
        try:
            approvals.reject(_approval(payload.meta(view)), payload.user(body), note=note)
        except Refused as exc:
            ack(response_action="errors", errors={blocks.NOTE_BLOCK: str(exc)})
            return
        ack()


def _approval(source: dict[str, Any]) -> int:
    """The approval a button (its value) or a modal (its metadata) is about."""
    return payload.number(source.get("value", source.get("approval")), what="approval request")
