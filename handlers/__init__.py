"""Thin Slack listeners: ack, translate the payload, call the core, render with ``blocks``.

Registered explicitly at start-up by ``register(app, services)``, never at import.
"""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import (
    approvals,
    bursts,
    cards,
    commands,
    errors,
    modals,
    notes,
    operations,
    routing,
    storms,
)


def register(app: App, services: Services) -> None:
    errors.register(app, services)
    cards.register(app, services)
    modals.register(app, services)
    approvals.register(app, services)
    notes.register(app, services)
    routing.register(app, services)
    storms.register(app, services)
    bursts.register(app, services)
    operations.register(app, services)
    commands.register(app, services)
