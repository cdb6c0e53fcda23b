"""Socket Mode end to end: a real Bolt app with the builtin SocketModeHandler against the emulator.

One connected app serves the module (slack-sdk's builtin client needs about a second to close);
each test registers its own listener under its own command or callback id.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackEmulator
from bot.sandbox.websocket import (
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    SocketReader,
    accept_key,
    encode_frame,
    read_frame,
)

BOT_TOKEN = "xoxb-sandbox"
APP_TOKEN = "xapp-sandbox"

MODAL = {
    "type": "modal",
    "callback_id": "reply_modal",
    "title": {"type": "plain_text", "text": "Reply"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reply",
            "label": {"type": "plain_text", "text": "Reply"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


@dataclass(frozen=True)
class Bolt:
    slack: SlackEmulator
    app: App


def _command(name: str, trigger_id: str = "t-cmd") -> dict[str, Any]:
    return {
        "command": name,
        "text": "",
        "team_id": "T0SANDBOX",
        "channel_id": "C0CASES01",
        "user_id": "U0AGENT01",
        "trigger_id": trigger_id,
        "response_url": "http://127.0.0.1:9/commands",
        "api_app_id": "A0EARSHOT",
    }


def _app(slack: SlackEmulator) -> App:
    return App(client=WebClient(base_url=slack.url, token=BOT_TOKEN), signing_secret="unused")


@pytest.fixture(scope="module")
def bolt() -> Iterator[Bolt]:
    with SlackEmulator(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as slack:
        app = _app(slack)
        handler = SocketModeHandler(app, APP_TOKEN)
        handler.connect()
        try:
            slack.socket_mode_connected(timeout=10)
            yield Bolt(slack, app)
        finally:
            handler.close()


def test_slash_command_ack_comes_back(bolt: Bolt) -> None:
    @bolt.app.command("/mentions")
    def mentions(ack: Ack) -> None:
        ack("hi")

    ack = bolt.slack.socket_mode_send("slash_commands", _command("/mentions"))

    assert ack["payload"] == {"text": "hi"}


def test_hello_is_the_first_socket_mode_message(bolt: Bolt) -> None:
    first = bolt.slack.calls("socket_mode")[0]

    assert (first.method, first.params["type"]) == ("SEND", "hello")


def test_acks_are_recorded_as_received(bolt: Bolt) -> None:
    @bolt.app.command("/ping")
    def ping(ack: Ack) -> None:
        ack()

    ack = bolt.slack.socket_mode_send("slash_commands", _command("/ping"))

    received = [c for c in bolt.slack.calls("socket_mode") if c.method == "RECV"]
    assert received[-1].params == ack == {"envelope_id": ack["envelope_id"]}


def test_listener_can_open_a_modal_then_answer_submission(bolt: Bolt) -> None:
    @bolt.app.command("/reply")
    def reply(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        ack()

    @bolt.app.view("reply_modal")
    def submitted(ack: Ack) -> None:
        ack(response_action="errors", errors={"reply": "Say more"})

    trigger_id = bolt.slack.new_trigger_id()
    bolt.slack.socket_mode_send("slash_commands", _command("/reply", trigger_id))
    [view] = [v for v in bolt.slack.views() if v["trigger_id"] == trigger_id]
    submission = {"type": "view_submission", "user": {"id": "U0AGENT01"}, "view": view}
    ack = bolt.slack.socket_mode_send("interactive", submission)
    bolt.slack.apply_view_response(view["id"], ack["payload"])

    assert bolt.slack.view(view["id"])["errors"] == {"reply": "Say more"}


def test_unacked_envelope_times_out_clearly(bolt: Bolt) -> None:
    with pytest.raises(TimeoutError, match="did a listener match"):
        bolt.slack.socket_mode_send("slash_commands", _command("/nobody"), timeout=0.3)


def test_wrong_app_token_cannot_open_a_connection(bolt: Bolt) -> None:
    client = WebClient(base_url=bolt.slack.url)

    with pytest.raises(SlackApiError) as error:
        client.apps_connections_open(app_token="xapp-wrong")

    assert error.value.response["error"] == "invalid_auth"


def test_handshake_with_unknown_ticket_is_refused(bolt: Bolt) -> None:
    opened = WebClient(base_url=bolt.slack.url).apps_connections_open(app_token=APP_TOKEN)
    port = int(opened["url"].split(":")[2].split("/")[0])
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        "GET /link/?ticket=bogus HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(handshake.encode())
        status_line = sock.recv(1024).split(b"\r\n")[0]

    assert status_line == b"HTTP/1.1 401 Unauthorized"


def test_accept_key_matches_rfc_6455_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_no_threads_survive_close_and_stop() -> None:
    before = set(threading.enumerate())
    slack = SlackEmulator(app_token=APP_TOKEN).start()
    handler = SocketModeHandler(_app(slack), APP_TOKEN)
    handler.connect()
    slack.socket_mode_connected(timeout=10)

    handler.close()
    slack.stop()

    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []


def test_masked_frames_round_trip_with_64_bit_length() -> None:
    payload = bytes(range(256)) * 300  # 76,800 bytes: needs the 127 (64-bit) length form
    left, right = socket.socketpair()
    with left, right:
        writer = threading.Thread(
            target=left.sendall, args=(encode_frame(OP_TEXT, payload, mask=b"\x01\x02\x03\x04"),)
        )
        writer.start()
        frame = read_frame(SocketReader(right))
        writer.join()

    assert frame == Frame(fin=True, opcode=OP_TEXT, payload=payload)


def _read_non_ping(reader: SocketReader) -> Frame | None:
    while (frame := read_frame(reader)) is not None and frame.opcode == OP_PING:
        pass
    return frame


def test_raw_client_gets_hello_pong_and_close() -> None:
    with SlackEmulator(app_token=APP_TOKEN) as slack:
        url = WebClient(base_url=slack.url).apps_connections_open(app_token=APP_TOKEN)["url"]
        port, target = int(url.split(":")[2].split("/")[0]), "/" + url.split("/", 3)[3]
        key = base64.b64encode(os.urandom(16)).decode()
        handshake = (
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(handshake.encode())
            reader = SocketReader(sock)
            response = reader.read_until(b"\r\n\r\n", limit=4096) or b""
            hello = _read_non_ping(reader)
            sock.sendall(encode_frame(OP_PING, b"are you there", mask=b"abcd"))
            pong = _read_non_ping(reader)
            sock.sendall(encode_frame(OP_CLOSE, b"\x03\xe8", mask=b"wxyz"))
            close = _read_non_ping(reader)

    assert f"Sec-WebSocket-Accept: {accept_key(key)}".encode() in response
    assert hello is not None and json.loads(hello.payload)["type"] == "hello"
    assert pong == Frame(fin=True, opcode=OP_PONG, payload=b"are you there")
    assert close is not None and close.opcode == OP_CLOSE
