"""Sandbox emulators: loopback HTTP servers that play Slack, X, Bluesky and Mastodon for tests,
demo and benchmarks.

``SlackEmulator`` serves the Slack Web API subset (and Socket Mode over a WebSocket) the bot uses;
``XEmulator`` the X API v2 subset; ``BlueskyEmulator`` the XRPC methods the ``atproto`` SDK calls;
``MastodonEmulator`` the Mastodon REST API subset. Each records every request, can inject a
``Fault``, publishes state-changing events and lets callers ``wait_for`` a condition without
sleeping.
"""

from __future__ import annotations

from bot.sandbox.bluesky import BlueskyEmulator
from bot.sandbox.http import Call, Fault, Gate
from bot.sandbox.mastodon import MastodonEmulator
from bot.sandbox.slack import SlackEmulator
from bot.sandbox.x import XEmulator

__all__ = [
    "BlueskyEmulator",
    "Call",
    "Fault",
    "Gate",
    "MastodonEmulator",
    "SlackEmulator",
    "XEmulator",
]
