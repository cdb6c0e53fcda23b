"""Buttons on case cards: suggestions, Write reply, Claim, Dismiss, Reopen, Retry, Mark
answered, and the links that answer on X from the brand's own session."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.services import Services
from bot.slack.views import ids, modals
from handlers import payload
from handlers.errors import Listener, refusals_told
from handlers.modals import compose_view


def register(app: App, services: Services) -> None:
    desk, told = services.desk, refusals_told(services)

    def open_compose(
        body: dict[str, Any], client: WebClient, case_id: int, template: str | None
    ) -> None:
        draft = desk.draft(case_id, payload.user(body), template_id=template)
        view = modals.compose_modal(compose_view(draft))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(re.compile(rf"^{ids.SUGGEST_ACTION}_\d+$"))
    @told
    def suggestion_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        case_id, template = payload.pair(payload.action_value(action), what="suggestion")
        open_compose(body, client, payload.number(case_id), template)

    @app.action(ids.WRITE_ACTION)
    @told
    def write_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        open_compose(body, client, payload.number(payload.action_value(action)), None)

    @app.action(ids.MOVE_ACTION)
    @told
    def move_chosen(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        case_id, channel = payload.pair(payload.option_value(action), what="team to move to")
        desk.move(payload.number(case_id), payload.user(body), channel=channel)

    simple = {
        ids.CLAIM_ACTION: desk.claim,
        ids.DISMISS_ACTION: desk.dismiss,
        ids.REOPEN_ACTION: desk.reopen,
        ids.RETRY_ACTION: desk.retry,
        ids.RELEASE_ACTION: desk.release,
        ids.MARK_ANSWERED_ACTION: desk.mark_answered,
    }
    for action_id, act in simple.items():
        app.action(action_id)(told(_one_click(act)))
    for link in (ids.REPLY_ON_X_ACTION, ids.DM_ON_X_ACTION):
        app.action(link)(_link_opened)


def _link_opened(ack: Ack) -> None:
    """A link button opened X in the agent's browser; Slack still reports the click, and an
    unanswered one shows the agent a warning."""
    ack()


def _one_click(act: Callable[[int, str], object]) -> Listener:
    """A button whose value is an id and whose whole job is one desk action by the clicker."""

    def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        what = "reply" if act.__name__ == "retry" else "case"
        act(payload.number(payload.action_value(action), what=what), payload.user(body))

    return listener
