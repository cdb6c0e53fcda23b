"""Messages in a case card's thread: internal notes, kept with the case, never posted publicly."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import App

from bot.desk.desk import Desk
from bot.services import Services
from handlers.wiring import named


def register(app: App, services: Services) -> None:
    app.event("message")(named(partial(thread_message, desk=services.desk)))


def thread_message(event: dict[str, Any], *, desk: Desk) -> None:
    """Events API listeners are acked by Bolt before they run; this one only records."""
    thread, ts = event.get("thread_ts"), event.get("ts")
    human = not (event.get("subtype") or event.get("bot_id"))
    if not (human and thread and ts and thread != ts):
        return  # a top-level message, an edit, or a bot's (our own) post
    desk.add_note(
        channel_id=str(event.get("channel") or ""),
        thread_ts=str(thread),
        ts=str(ts),
        author=str(event.get("user") or ""),
        text=str(event.get("text") or ""),
    )
