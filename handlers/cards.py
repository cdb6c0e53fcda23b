"""Buttons on case cards: suggestions, Write reply, Claim, Dismiss, Reopen, Retry."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.services import Services
from handlers import blocks
from handlers.modals import compose_view


def register(app: App, services: Services) -> None:
    desk = services.desk

    def open_compose(
        body: dict[str, Any], client: WebClient, case_id: int, template: str | None
    ) -> None:
        draft = desk.draft(case_id, body["user"]["id"], template)
        view = blocks.compose_modal(compose_view(draft))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(re.compile(rf"^{blocks.SUGGEST_ACTION}_\d+$"))
    def suggestion_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        case_id, template = action["value"].split("|", 1)
        open_compose(body, client, int(case_id), template)

    @app.action(blocks.WRITE_ACTION)
    def write_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        open_compose(body, client, int(action["value"]), None)

    @app.action(blocks.CLAIM_ACTION)
    def claim_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        desk.claim(int(action["value"]), body["user"]["id"])

    @app.action(blocks.DISMISS_ACTION)
    def dismiss_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        desk.dismiss(int(action["value"]), body["user"]["id"])

    @app.action(blocks.REOPEN_ACTION)
    def reopen_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        desk.reopen(int(action["value"]), body["user"]["id"])

    @app.action(blocks.RETRY_ACTION)
    def retry_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        desk.retry(int(action["value"]), body["user"]["id"])
