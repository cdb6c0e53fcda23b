"""Buttons on case cards: suggestions, Write reply, Claim, Dismiss, Reopen, Retry."""

from __future__ import annotations

import re
from collections.abc import Callable
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
        draft = desk.draft(case_id, body["user"]["id"], template_id=template)
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

    @app.action(blocks.MOVE_ACTION)
    def move_chosen(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        case_id, channel = action["selected_option"]["value"].split("|", 1)
        desk.move(int(case_id), body["user"]["id"], channel=channel)

    simple = {
        blocks.CLAIM_ACTION: desk.claim,
        blocks.DISMISS_ACTION: desk.dismiss,
        blocks.REOPEN_ACTION: desk.reopen,
        blocks.RETRY_ACTION: desk.retry,
        blocks.RELEASE_ACTION: desk.release,
    }
    for action_id, act in simple.items():
        app.action(action_id)(_one_click(act))


def _one_click(act: Callable[[int, str], object]) -> Callable[..., None]:
    """A button whose value is an id and whose whole job is one desk action by the clicker."""

    def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        act(int(action["value"]), body["user"]["id"])

    return listener
