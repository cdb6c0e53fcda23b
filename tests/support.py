"""Small steps the end-to-end tests share: post on X, find a card, reply through Slack."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from bot.sandbox.harness import Sandbox
from bot.slack.views import ids

T = TypeVar("T")


def post(
    sandbox: Sandbox, text: str, *, handle: str = "casey", followers: int = 10, **kw: Any
) -> str:
    """A customer posts on X; returns the tweet id."""
    author = {"handle": handle, "name": handle.title(), "followers": followers}
    return sandbox.x.add_post(text=text, author=author, **kw)


def eventually(check: Callable[[], T | None], *, timeout: float = 15.0) -> T:
    """Poll ``check`` until it returns something truthy: for the bot's own state, which no
    emulator event announces (the emulators' ``wait_for`` serves everything they see)."""
    deadline = time.monotonic() + timeout
    while True:
        if value := check():
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{getattr(check, '__qualname__', check)} still false after {timeout}s"
            )
        time.sleep(0.01)


def card_for(sandbox: Sandbox, handle: str, *, timeout: float = 15) -> dict[str, Any]:
    """The card for ``handle``'s mention, once it is in Slack and the bot has recorded it."""

    def find() -> dict[str, Any] | None:
        cards = cards_for(sandbox, handle)
        return cards[-1] if cards and _recorded(sandbox, cards[-1]) else None

    return eventually(find, timeout=timeout)


def _recorded(sandbox: Sandbox, card: dict[str, Any]) -> bool:
    """The bot has recorded this card on its case, permalink and all."""
    if sandbox.runtime is None:
        return True
    store = sandbox.runtime.services.store
    case = store.case_by_card(channel_id=card["channel"], ts=card["ts"])
    return bool(case and case.permalink)


def cards_for(sandbox: Sandbox, handle: str) -> list[dict[str, Any]]:
    """Case cards (not thread notes) about ``handle``'s mentions."""
    return [
        m
        for m in sandbox.slack.messages()
        if f"@{handle}:" in m.get("text", "")
        and (m.get("metadata") or {}).get("event_type") == "earshot_case"
    ]


def fresh(sandbox: Sandbox, card: dict[str, Any]) -> dict[str, Any]:
    message = sandbox.slack.message(card["channel"], card["ts"])
    assert message is not None
    return message


def open_modal(
    sandbox: Sandbox, *, user: str, card: dict[str, Any], action_id: str
) -> dict[str, Any]:
    """Click a card button that opens the reply modal; return the modal as Slack shows it."""
    assert sandbox.driver is not None
    before = {v["id"] for v in sandbox.slack.views()}
    answer = sandbox.driver.click(user=user, message=card, action_id=action_id)
    assert answer.status == 200

    def opened() -> dict[str, Any] | None:
        return next((v for v in sandbox.slack.views() if v["id"] not in before), None)

    return sandbox.slack.wait_for(opened, timeout=10)


def card_text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks"), ensure_ascii=False)


def reply_through_slack(
    sandbox: Sandbox,
    *,
    user: str,
    card: dict[str, Any],
    body: str | None = None,
    action_id: str = f"{ids.SUGGEST_ACTION}_1",
) -> dict[str, Any]:
    """Pick a suggestion (or write), preview, confirm. Returns the preview view."""
    assert sandbox.driver is not None
    modal = open_modal(sandbox, user=user, card=card, action_id=action_id)
    values = {ids.REPLY_BLOCK: {ids.REPLY_INPUT: body}} if body is not None else None
    answer, preview = sandbox.driver.submit(user=user, view_id=modal["id"], values=values)
    assert answer.status == 200, answer
    assert preview is not None and preview["callback_id"] == ids.CONFIRM_VIEW, answer.body
    answer, after = sandbox.driver.submit(user=user, view_id=modal["id"])
    closed = after is None or after["title"]["text"] == "Sent for approval"
    assert answer.status == 200 and closed, answer.body
    return preview


def _meter(sandbox: Sandbox, view_id: str) -> str:
    view = sandbox.slack.view(view_id)
    block = next(b for b in view["blocks"] if b.get("block_id") == ids.METER_BLOCK)
    return str(block["elements"][0]["text"])


def type_and_read_meter(sandbox: Sandbox, *, user: str, view_id: str, text: str) -> str:
    """Type ``text`` into the reply modal; the meter line once the bot has updated it."""
    assert sandbox.driver is not None
    before = _meter(sandbox, view_id)
    sandbox.driver.type_in_view(
        user=user,
        view_id=view_id,
        block_id=ids.REPLY_BLOCK,
        action_id=ids.REPLY_INPUT,
        text=text,
    )
    return sandbox.slack.wait_for(
        lambda: (m := _meter(sandbox, view_id)) != before and m, timeout=10
    )
