"""The one error path: every listener's exception lands here, is logged, and the person is told.

A refusal (``Refused``) is expected and told as it is; anything else is logged with its traceback
and the person gets a short, honest note. Slack always gets an answer it can show: a modal that
failed before it was answered turns into a notice, a command into a text, never a bare 500.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import App, BoltResponse

from bot.desk.access import Refused
from bot.services import Services
from bot.slack.board import SlackBoard
from bot.slack.port import BoardError
from bot.slack.views import modals
from handlers.wiring import Listener, named

log = logging.getLogger("earshot.slack")


def register(app: App, services: Services) -> None:
    app.error(named(partial(on_error, board=services.board)))


def on_error(
    error: Exception, body: dict[str, Any], response: BoltResponse | None, *, board: SlackBoard
) -> None:
    text = _text(error, body)
    if response is not None and _answer(response, body, text):
        return  # Slack shows it where the person is looking; no need to say it twice
    _tell(board, body, text)


def refusals_told(board: SlackBoard) -> Callable[[Listener], Listener]:
    """For listeners that ack() first: a refusal is told to the person right there.

    Bolt forgets a listener's ack() when the listener raises afterwards (Slack may then get a
    404 after 3 s), so an expected refusal is answered in the listener's thread, with the same
    words the error path would use. Every other exception still goes to the error path.
    """

    def wrap(listener: Listener) -> Listener:
        @functools.wraps(named(listener))  # bolt reads the wrapped listener's argument names
        def run(**kwargs: Any) -> None:
            try:
                listener(**kwargs)
            except Refused as exc:
                body = kwargs.get("body") or {}
                _tell(board, body, _text(exc, body))

        return run

    return wrap


def _text(error: Exception, body: dict[str, Any]) -> str:
    user = _user(body)
    if isinstance(error, Refused):
        log.info("refused %s: %s", user, error)
        return f"🚫 {error}"
    log.error("listener failed for %s", body.get("type") or "command", exc_info=error)
    return (
        f"⚠️ Earshot hit an error ({type(error).__name__}) and logged it. Look at the "
        "case card before trying again (it shows whether a reply went out); if this "
        "keeps happening, tell your lead."
    )


def _answer(response: BoltResponse, body: dict[str, Any], text: str) -> bool:
    """Turn bolt's bare 500 (the listener failed before it answered) into an answer Slack
    shows: the modal becomes a notice, a command gets the text. False for anything else."""
    if body.get("type") == "view_submission":
        title = "Not done" if text.startswith("🚫") else "Something went wrong"
        answer: dict[str, Any] = {
            "response_action": "update",
            "view": modals.notice_modal(title, text),
        }
    elif body.get("command"):
        answer = {"response_type": "ephemeral", "text": text}
    else:
        return False
    response.status = 200
    response.body = json.dumps(answer, ensure_ascii=False)
    response.headers = {"content-type": ["application/json;charset=utf-8"]}
    return True


def _user(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else None
    return str(found or body.get("user_id") or "") or None


def _tell(board: SlackBoard, body: dict[str, Any], text: str) -> None:
    user = _user(body)
    channel = body.get("channel")
    where = channel.get("id") if isinstance(channel, dict) else body.get("channel_id")
    if not user:
        return
    try:
        board.tell(user=user, channel=str(where) if where else None, text=text)
    except BoardError:
        log.warning("could not tell %s about the error either", user)
