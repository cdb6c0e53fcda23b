"""Sandbox emulators: loopback HTTP servers that play Slack and X for tests, demo and benchmarks.

``SlackEmulator`` serves the Slack Web API subset (and Socket Mode over a WebSocket) the bot uses;
``XEmulator`` serves the X API v2 subset. Both record every request, can inject a ``Fault``, publish
state-changing events and let callers ``wait_for`` a condition without sleeping.
"""

from __future__ import annotations

from bot.sandbox.http import Call, Fault, Gate
from bot.sandbox.slack import SlackEmulator
from bot.sandbox.x import XEmulator

__all__ = ["Call", "Fault", "Gate", "SlackEmulator", "XEmulator"]
