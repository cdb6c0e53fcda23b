"""A lead's answer to a reply waiting for approval: Approve, Edit… (then approve), Reject…."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Refused
from bot.services import Services
from handlers import blocks


def register(app: App, services: Services) -> None:
    approvals, desk = services.approvals, services.desk

    @app.action(blocks.APPROVE_ACTION)
    def approve_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        reply = approvals.approve(int(action["value"]), body["user"]["id"])
        desk.send_soon(reply.id)

    @app.action(blocks.APPROVE_EDIT_ACTION)
    def edit_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        approval = approvals.pending(int(action["value"]), body["user"]["id"])
        client.views_open(trigger_id=body["trigger_id"], view=blocks.approve_edit_modal(approval))

    @app.action(blocks.REJECT_ACTION)
    def reject_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        approval = approvals.pending(int(action["value"]), body["user"]["id"])
        client.views_open(trigger_id=body["trigger_id"], view=blocks.reject_modal(approval))

    @app.view(blocks.APPROVE_EDIT_VIEW)
    def edited(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        approval_id = json.loads(view["private_metadata"])["approval"]
        text = blocks.input_value(view, blocks.REPLY_BLOCK, blocks.REPLY_INPUT)
        try:
            reply = approvals.approve(approval_id, body["user"]["id"], body=text)
        except Refused as exc:
            ack(response_action="errors", errors={blocks.REPLY_BLOCK: str(exc)})
            return
        ack()
        desk.send_soon(reply.id)

    @app.view(blocks.REJECT_VIEW)
    def rejected(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        approval_id = json.loads(view["private_metadata"])["approval"]
        note = blocks.input_value(view, blocks.NOTE_BLOCK, blocks.NOTE_INPUT)
        try:
            approvals.reject(approval_id, body["user"]["id"], note=note)
        except Refused as exc:
            ack(response_action="errors", errors={blocks.NOTE_BLOCK: str(exc)})
            return
        ack()
