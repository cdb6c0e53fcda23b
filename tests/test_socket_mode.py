"""Socket Mode: with an app-level token the bot opens no HTTP port and takes work over a socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import card_for, card_text, eventually, fresh, post

from bot.sandbox.harness import JANE, Sandbox, open_sandbox
from bot.slack.views import ids


@pytest.fixture
def socket_bot(tmp_path: Path) -> Iterator[Sandbox]:
    with open_sandbox(tmp_path, socket_mode=True) as sandbox:
        sandbox.start_bot()
        sandbox.slack.socket_mode_connected(timeout=10)
        yield sandbox


def test_socket_mode_opens_no_http_port(socket_bot: Sandbox) -> None:
    assert socket_bot.runtime is not None and socket_bot.runtime.http_url is None
    assert socket_bot.secrets.socket_mode


def test_a_slash_command_is_answered_over_the_socket(socket_bot: Sandbox) -> None:
    ack = socket_bot.slack.socket_mode_send(
        "slash_commands",
        {
            "command": "/mentions",
            "text": "help",
            "user_id": JANE,
            "channel_id": "C0000001",
            "team_id": "T0SANDBOX",
            "trigger_id": socket_bot.slack.new_trigger_id(),
        },
    )
    assert "/mentions queue" in ack["payload"]["text"]


def test_a_card_button_works_over_the_socket(socket_bot: Sandbox) -> None:
    post(socket_bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(socket_bot, "dana")
    button = next(
        e
        for b in card["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == ids.CLAIM_ACTION
    )
    socket_bot.slack.socket_mode_send(
        "interactive",
        {
            "type": "block_actions",
            "user": {"id": JANE},
            "team": {"id": "T0SANDBOX"},
            "channel": {"id": card["channel"]},
            "message": card,
            "container": {
                "type": "message",
                "channel_id": card["channel"],
                "message_ts": card["ts"],
            },
            "trigger_id": socket_bot.slack.new_trigger_id(),
            "actions": [{**button, "block_id": ""}],
        },
    )
    eventually(lambda: "Jane Kim is replying" in card_text(fresh(socket_bot, card)))
