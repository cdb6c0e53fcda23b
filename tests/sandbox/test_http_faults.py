"""The shared sandbox server's faults, seen by real HTTP clients (httpx, requests).

Dropped connections (before or after the work is done) and held answers (the work done, the
answer late), against the Bluesky emulator's ``createRecord``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

from bot.sandbox.bluesky import CREATE_RECORD, POST, BlueskyEmulator
from bot.sandbox.http import Fault, Gate

BRAND = "skylarkair.bsky.social"
PASSWORD = "sandbox-app-password"


@pytest.fixture
def bs() -> Iterator[BlueskyEmulator]:
    with BlueskyEmulator() as emulator:
        yield emulator


@pytest.fixture
def http(bs: BlueskyEmulator) -> Iterator[httpx.Client]:
    """An httpx client logged in as the brand (the token rides on every request)."""
    with httpx.Client(base_url=bs.xrpc_url, timeout=10) as client:
        login = {"identifier": BRAND, "password": PASSWORD}
        session = client.post("/com.atproto.server.createSession", json=login).json()
        client.headers["Authorization"] = f"Bearer {session['accessJwt']}"
        yield client


def _post(text: str, did: str) -> dict[str, Any]:
    record = {"$type": POST, "text": text, "createdAt": "2026-12-07T10:00:00.000Z"}
    return {"repo": did, "collection": POST, "record": record}


def _create(http: httpx.Client, bs: BlueskyEmulator, text: str) -> httpx.Response:
    return http.post("/com.atproto.repo.createRecord", json=_post(text, bs.brand_did))


def test_drop_before_the_work_saves_nothing(http: httpx.Client, bs: BlueskyEmulator) -> None:
    bs.inject(Fault(CREATE_RECORD, drop=True))

    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        _create(http, bs, "never saved")

    assert bs.replies() == []
    assert [c.status for c in bs.calls(CREATE_RECORD)] == [0]  # 0: no answer was sent
    assert _create(http, bs, "next one").status_code == 200  # the fault is spent
    assert [r["record"]["text"] for r in bs.replies()] == ["next one"]


def test_drop_after_the_work_saves_the_post(http: httpx.Client, bs: BlueskyEmulator) -> None:
    bs.inject(Fault(CREATE_RECORD, drop=True, applied=True))

    with pytest.raises(httpx.RemoteProtocolError):
        _create(http, bs, "saved, answer lost")

    assert [r["record"]["text"] for r in bs.replies()] == ["saved, answer lost"]
    assert [c.status for c in bs.calls(CREATE_RECORD)] == [0]


def test_requests_sees_a_dropped_connection_too(bs: BlueskyEmulator) -> None:
    with requests.Session() as session:
        login = {"identifier": BRAND, "password": PASSWORD}
        token = session.post(f"{bs.xrpc_url}/com.atproto.server.createSession", json=login)
        session.headers["Authorization"] = f"Bearer {token.json()['accessJwt']}"
        bs.inject(Fault(CREATE_RECORD, drop=True, applied=True))

        with pytest.raises(requests.ConnectionError):
            session.post(
                f"{bs.xrpc_url}/com.atproto.repo.createRecord", json=_post("hi", bs.brand_did)
            )

    assert len(bs.replies()) == 1


def _in_thread(call: Any) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    thread.start()
    return thread, answers


def test_held_answer_after_the_work_by_gate(http: httpx.Client, bs: BlueskyEmulator) -> None:
    """``applied`` with status 200 and a gate: the post is saved, the answer waits."""
    gate = Gate()
    bs.inject(Fault(CREATE_RECORD, status=200, applied=True, gate=gate))

    thread, answers = _in_thread(lambda: _create(http, bs, "held"))
    gate.wait_held(timeout=5)

    [saved] = bs.replies()
    assert saved["record"]["text"] == "held"
    assert thread.is_alive() and answers == [] and bs.calls(CREATE_RECORD) == []
    gate.open()
    thread.join(timeout=5)
    [answer] = answers
    assert answer.status_code == 200 and answer.json()["uri"] == saved["uri"]
    assert [c.status for c in bs.calls(CREATE_RECORD)] == [200]


def test_held_answer_after_the_work_by_delay(http: httpx.Client, bs: BlueskyEmulator) -> None:
    bs.inject(Fault(CREATE_RECORD, status=200, applied=True, delay=1.0))

    thread, answers = _in_thread(lambda: _create(http, bs, "late"))
    [saved] = bs.wait_for(bs.replies, timeout=5)

    assert thread.is_alive() and answers == []  # saved while the client still waits
    thread.join(timeout=5)
    assert [a.json()["uri"] for a in answers] == [saved["uri"]]


def test_gate_without_applied_still_holds_before_the_work(
    http: httpx.Client, bs: BlueskyEmulator
) -> None:
    """The order for faults that are not ``applied`` is unchanged: nothing happens until the
    gate opens, then the request is carried out (status 200) and answered."""
    gate = Gate()
    bs.inject(Fault(CREATE_RECORD, status=200, gate=gate))

    thread, answers = _in_thread(lambda: _create(http, bs, "after the gate"))
    gate.wait_held(timeout=5)

    assert bs.replies() == []
    gate.open()
    thread.join(timeout=5)
    assert [a.status_code for a in answers] == [200]
    assert len(bs.replies()) == 1


def test_applied_failure_with_a_gate_answers_the_failure_after_the_work(
    http: httpx.Client, bs: BlueskyEmulator
) -> None:
    gate = Gate()
    bs.inject(Fault(CREATE_RECORD, status=503, applied=True, gate=gate))

    thread, answers = _in_thread(lambda: _create(http, bs, "done, then 503"))
    gate.wait_held(timeout=5)

    assert len(bs.replies()) == 1
    gate.open()
    thread.join(timeout=5)
    assert [(a.status_code, a.json()["error"]) for a in answers] == [(503, "NotEnoughResources")]
