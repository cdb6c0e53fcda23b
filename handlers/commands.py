"""``/mentions``: help and the open-case queue."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.problems import did_you_mean
from bot.services import Services
from handlers import blocks

SUBCOMMANDS = ("help", "queue")


def register(app: App, services: Services) -> None:
    @app.command("/mentions")
    def mentions(ack: Ack, command: dict[str, Any]) -> None:
        words = str(command.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        if sub == "help":
            ack(text=blocks.HELP)
        elif sub == "queue":
            items = [
                blocks.QueueItem(
                    case,
                    mention,
                    services.directory.name(case.claimed_by) if case.claimed_by else None,
                )
                for case, mention in services.desk.queue()
            ]
            now = services.clock.now()
            ack(text="Open cases", blocks=blocks.queue_blocks(items, now=now))
        else:
            hint = did_you_mean(sub, SUBCOMMANDS)
            ack(text=f"I don't know `/mentions {sub}`. {hint}\n\n{blocks.HELP}")
