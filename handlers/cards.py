"""Buttons on case cards: suggestions, Write reply, Claim, Dismiss, Reopen, Retry, Mark
answered, Move to… and the fallback card's best guess, and the links that answer on X from the
brand's own session."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.desk.desk import Desk
from bot.services import Services
from bot.slack.views import ids, modals
from handlers import payload
from handlers.errors import refusals_told
from handlers.modals import compose_view

Action = dict[str, Any]


def register(app: App, services: Services) -> None:
    desk, told = services.desk, refusals_told(services.board)
    app.action(re.compile(rf"^{ids.SUGGEST_ACTION}_\d+$"))(
        told(partial(suggestion_clicked, desk=desk))
    )
    for action_id, listener in (
        (ids.WRITE_ACTION, write_clicked),
        (ids.MOVE_ACTION, move_chosen),
        (ids.MOVE_TO_GUESS_ACTION, guess_clicked),
        (ids.CLAIM_ACTION, claim_clicked),
        (ids.DISMISS_ACTION, dismiss_clicked),
        (ids.REOPEN_ACTION, reopen_clicked),
        (ids.RETRY_ACTION, retry_clicked),
        (ids.RELEASE_ACTION, release_clicked),
        (ids.MARK_ANSWERED_ACTION, mark_answered_clicked),
    ):
        app.action(action_id)(told(partial(listener, desk=desk)))
    for link in (ids.REPLY_ON_X_ACTION, ids.DM_ON_X_ACTION):
        app.action(link)(link_opened)


def suggestion_clicked(
    ack: Ack, body: dict[str, Any], action: Action, client: WebClient, *, desk: Desk
) -> None:
    ack()
    case_id, template = payload.pair(payload.action_value(action), what="suggestion")
    _open_compose(body, client, payload.number(case_id), template, desk=desk)


def write_clicked(
    ack: Ack, body: dict[str, Any], action: Action, client: WebClient, *, desk: Desk
) -> None:
    ack()
    _open_compose(body, client, payload.number(payload.action_value(action)), None, desk=desk)


def _open_compose(
    body: dict[str, Any], client: WebClient, case_id: int, template: str | None, *, desk: Desk
) -> None:
    draft = desk.draft(case_id, payload.user(body), template_id=template)
    view = modals.compose_modal(compose_view(draft))
    client.views_open(trigger_id=payload.trigger(body), view=view)


def move_chosen(ack: Ack, body: dict[str, Any], action: Action, *, desk: Desk) -> None:
    ack()
    case_id, channel = payload.pair(payload.option_value(action), what="team to move to")
    desk.move(payload.number(case_id), payload.user(body), channel=channel)


def guess_clicked(ack: Ack, body: dict[str, Any], action: Action, *, desk: Desk) -> None:
    """The fallback card's best guess: move the case to the team learned routing guessed."""
    ack()
    case, channel = payload.pair(payload.action_value(action), what="team to move to")
    case_id = payload.number(case)  # refused before the desk is asked
    desk.move(case_id, payload.user(body), channel=channel)


# Buttons whose value is an id and whose whole job is one desk action by the clicker.


def claim_clicked(ack: Ack, body: dict[str, Any], action: Action, *, desk: Desk) -> None:
    ack()
    desk.claim(_case(action), payload.user(body))


def dismiss_clicked(ack: Ack, body: dict[str, Any], action: Action, *, desk: Desk) -> None:
    ack()
    desk.dismiss(_case(action), payload.user(body))


def reopen_clicked(ack: Ack, body: dict[str, Any], action: Action, *, desk: Desk) -> None:
    ack()
    desk.reopen(_case(action), payload.user(body))


def retry_clicked(ack: Ack, body: dict[str, Any], action: Action, *, desk: Desk) -> None:
    ack()
    desk.retry(payload.number(payload.action_value(action), what="reply"), payload.user(body))


def release_clicked(ack: Ack, body: dict[str, Any], action: Action, *, desk: Desk) -> None:
    ack()
    desk.release(_case(action), payload.user(body))


def mark_answered_clicked(ack: Ack, body: dict[str, Any], action: Action, *, desk: Desk) -> None:
    ack()
    desk.mark_answered(_case(action), payload.user(body))


def link_opened(ack: Ack) -> None:
    """A link button opened X in the agent's browser; Slack still reports the click, and an
    unanswered one shows the agent a warning."""
    ack()


def _case(action: Action) -> int:
    return payload.number(payload.action_value(action))
