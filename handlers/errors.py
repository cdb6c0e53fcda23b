"""The one error path: every listener's exception lands here, is logged, and the person is told."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.access import Refused
from bot.services import Services
from bot.slack import BoardError

log = logging.getLogger("earshot.slack")


def register(app: App, services: Services) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        user = (body.get("user") or {}).get("id") or body.get("user_id")
        channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
        if isinstance(error, Refused):
            log.info("refused %s: %s", user, error)
            text = f"🚫 {error}"
        else:
            log.error("listener failed for %s", body.get("type") or "command", exc_info=error)
            text = (
                f"⚠️ Earshot hit an error ({type(error).__name__}) and logged it. Look at the "
                "case card before trying again (it shows whether a reply went out); if this "
                "keeps happening, tell your lead."
            )
        if user:
            try:
                services.board.tell(user=user, channel=channel, text=text)
            except BoardError:
                log.warning("could not tell %s about the error either", user)
