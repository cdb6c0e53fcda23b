"""Storm cards: answer every case of a storm with one template (each customer their own reply)."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.desk.access import Refused
from bot.desk.desk import Desk
from bot.services import Services
from bot.slack.board import SlackBoard
from bot.slack.views import ids, modals, storms
from handlers import payload
from handlers.errors import refusals_told
from handlers.wiring import named


def register(app: App, services: Services) -> None:
    desk, told = services.desk, refusals_told(services.board)
    app.action(ids.STORM_ANSWER_ACTION)(told(partial(storm_answer_clicked, desk=desk)))
    app.action(ids.STORM_TEMPLATE_INPUT)(told(partial(storm_template_changed, desk=desk)))
    app.view(ids.STORM_ANSWER_VIEW)(
        named(partial(storm_answer_submitted, desk=desk, board=services.board))
    )


def storm_answer_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, *, desk: Desk
) -> None:
    ack()
    storm = payload.number(payload.action_value(action), what="storm")
    plan = desk.plan_storm_answer(storm, payload.user(body))
    client.views_open(trigger_id=payload.trigger(body), view=storms.storm_answer_modal(plan))


def storm_template_changed(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, *, desk: Desk
) -> None:
    """Another template picked: show what the first customer would get with it."""
    ack()
    shown = payload.view(body)
    storm = payload.number(payload.meta(shown).get("storm"), what="storm")
    template = payload.option_value(action)
    plan = desk.plan_storm_answer(storm, payload.user(body), template_id=template)
    view = storms.storm_answer_modal(plan)
    try:  # a newer pick or the submit may have changed the view already: then it wins
        client.views_update(view_id=shown["id"], hash=shown.get("hash"), view=view)
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise


def storm_answer_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], *, desk: Desk, board: SlackBoard
) -> None:
    """Answer Slack at once (within its 3 seconds), then queue the replies."""
    meta, user = payload.meta(view), payload.user(body)
    picked = modals.state_of(view, ids.STORM_TEMPLATE_BLOCK, ids.STORM_TEMPLATE_INPUT)
    template = payload.option_value(picked)
    if template != meta.get("template"):
        ack(response_action="errors", errors={ids.STORM_TEMPLATE_BLOCK: storms.STALE_PREVIEW})
        return
    try:
        storm = payload.number(meta.get("storm"), what="storm")
        plan = desk.plan_storm_answer(storm, user, template_id=template)
    except Refused as exc:
        ack(response_action="update", view=modals.notice_modal("Not sent", str(exc)))
        return
    ack(response_action="update", view=storms.storm_queued_modal(plan))
    answer = desk.answer_storm(plan.storm_id, user, template_id=template)
    if answer.skipped:
        board.tell(user=user, channel=None, text=storms.storm_skipped_text(answer))
