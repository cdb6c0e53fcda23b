"""Burst messages: *Card* on a row brings that mention's full card up now, in the thread."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.desk.access import Refused
from bot.services import Services
from bot.slack.board import SlackBoard
from bot.slack.views import ids
from handlers import payload
from handlers.errors import refusals_told


def register(app: App, services: Services) -> None:
    told = refusals_told(services.board)
    app.action(re.compile(rf"^{ids.OPEN_CARD_ACTION}_\d+$"))(
        told(partial(open_card_clicked, board=services.board))
    )


def open_card_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], *, board: SlackBoard
) -> None:
    ack()
    case_id, user = payload.number(payload.action_value(action)), payload.user(body)
    container = body.get("container") or {}
    thread, channel = container.get("message_ts"), container.get("channel_id")
    if not thread or not channel:
        raise Refused(f"This button is not on a burst message. {payload.STALE}")
    link = board.open_card(case_id, thread=str(thread))
    where = f"<{link}|in the thread>" if link else "in the thread"
    board.tell(user=user, channel=str(channel), text=f"Case #{case_id}: its card is {where}.")
