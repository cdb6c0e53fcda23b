"""A replayed signed request (the same body, timestamp and signature again, within Slack's five
minutes) is answered 200 and ignored. Regression: only Events API ids were de-duplicated, so a
captured click or slash command could be sent again and acted on again."""

from __future__ import annotations

import time
from typing import Any

from slack_sdk.signature import SignatureVerifier

from bot.sandbox.driver import FORM, find_element, interactive_body
from bot.sandbox.harness import JANE, SIGNING_SECRET, Sandbox
from bot.slack.views import ids
from bot.slack.web import SeenRequests
from tests.support import card_for, post


def _write_reply_click(bot: Sandbox, card: dict[str, Any]) -> str:
    """The form Slack posts when Jane clicks Write reply on the card."""
    block_id, button = find_element(card["blocks"], ids.WRITE_ACTION)
    payload = {
        "type": "block_actions",
        "team": {"id": "T0SANDBOX"},
        "user": {"id": JANE, "username": "jane", "name": "jane", "team_id": "T0SANDBOX"},
        "api_app_id": "A0EARSHOT",
        "trigger_id": bot.slack.new_trigger_id(),
        "actions": [{**button, "block_id": block_id, "action_ts": f"{time.time():.6f}"}],
        "container": {"type": "message", "message_ts": card["ts"], "channel_id": card["channel"]},
        "channel": {"id": card["channel"], "name": bot.slack.channel_name(card["channel"])},
        "message": card,
    }
    return interactive_body(payload)


def test_a_replayed_click_is_answered_200_and_does_nothing(bot: Sandbox) -> None:
    assert bot.driver is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    body, stamp = _write_reply_click(bot, card), int(time.time())

    first = bot.driver.send(body, content_type=FORM, timestamp=stamp)
    bot.slack.wait_for(lambda: bot.slack.calls("views.open"))
    again = bot.driver.send(body, content_type=FORM, timestamp=stamp)

    assert (first.status, again.status, again.body) == (200, 200, "")
    time.sleep(0.3)  # a listener that wrongly ran would call views.open (and fail) by now
    assert len(bot.slack.calls("views.open")) == 1
    assert bot.slack.ephemerals(JANE) == []  # no error note about an expired trigger either


def test_a_replayed_slash_command_is_ignored(bot: Sandbox) -> None:
    assert bot.driver is not None
    body, stamp = bot.driver.command_body(user=JANE, text="queue"), int(time.time())

    first = bot.driver.send(body, content_type=FORM, timestamp=stamp)
    again = bot.driver.send(body, content_type=FORM, timestamp=stamp)

    assert first.status == 200 and "Open cases" in first.body
    assert (again.status, again.body) == (200, "")


def test_a_forgery_carrying_a_real_signature_cannot_block_the_real_request(bot: Sandbox) -> None:
    """A signature held by a request Bolt refuses is dropped again: someone who puts it on
    another body first gets 401, and the real request still works."""
    assert bot.driver is not None
    real, stamp = bot.driver.command_body(user=JANE, text="queue"), int(time.time())
    headers = _signed(real, stamp)  # what Slack sends with the real request

    forged = bot.driver.post_raw(f"{real}&text=claim+1".encode(), headers=headers)
    answer = bot.driver.post_raw(real.encode(), headers=headers)

    assert forged.status == 401
    assert answer.status == 200 and "Open cases" in answer.body


def _signed(body: str, stamp: int) -> dict[str, str]:
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(
        timestamp=str(stamp), body=body.encode()
    )
    return {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": signature or "",
    }


def test_signatures_are_forgotten_after_the_window_and_when_bolt_refused_them() -> None:
    clock = [1000.0]
    seen = SeenRequests(window=360, now=lambda: clock[0])

    assert seen.first("v0=abc") and not seen.first("v0=abc")
    seen.forget("v0=def")  # never seen: nothing happens
    assert seen.first("v0=def")
    seen.forget("v0=def")  # Bolt answered 401: the signature is free again
    assert seen.first("v0=def")
    clock[0] += 361
    assert seen.first("v0=abc")  # Bolt refuses it as stale by now anyway
