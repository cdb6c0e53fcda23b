"""Slack delivery under load: per-channel pacing, 429/5xx retries, bursts, event retries, acks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.harness import JANE, Sandbox, open_sandbox
from bot.sandbox.http import Fault, Gate
from bot.sandbox.x import CREATE_TWEET
from bot.slack.client import ChannelPacer
from bot.slack.views import ids
from tests.support import card_for, cards_for, eventually, post, reply_through_slack

DELAYS = "#care-delays"


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_spaces_posts_per_channel_and_leaves_other_channels_alone() -> None:
    fake = FakeTime()
    pacer = ChannelPacer(1.0, now=lambda: fake.now, sleep=fake.sleep)
    assert pacer.wait("C1") == 0
    assert pacer.wait("C2") == 0  # another channel has its own pace
    assert pacer.wait("C1") == pytest.approx(1.0)  # a thread reply counts against its channel
    fake.now += 5
    assert pacer.wait("C1") == 0
    assert fake.slept == [pytest.approx(1.0)]


@pytest.fixture
def paced(tmp_path: Path) -> Iterator[Sandbox]:
    """A burst of different mentions to #care-delays waiting on X, then the bot starts (its
    first poll reads them all) against a Slack emulator enforcing one message per second per
    channel."""
    with open_sandbox(tmp_path, slack_rate_limit=1.0) as sb:
        for n in range(BURST):
            post(sb, _delay_text(n), handle=f"flyer{n}")
        sb.start_bot()
        yield sb


_DELAYED = (
    "flight SK101 to Porto delayed and nobody at the gate says why",
    "three hours late out of Madrid, my kids are exhausted",
    "is the Paris connection cancelled? the app shows nothing",
    "delayed again in Berlin. second time this month with you",
    "missed my connection in Rome because of your delay, who pays the hotel?",
    "SK7 Oslo still on the ground, crew missing apparently. late late late",
    "our Vienna departure got canceled overnight, no email, no rebooking",
    "boarding pass says 14:05, screens say 17:40. which one is it?",
)
BURST = len(_DELAYED)


def _delay_text(n: int) -> str:
    """Different customers, different words: no storm, just many mentions at once."""
    return f"@SkylarkAir {_DELAYED[n]}"


def _bursts(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [
        m
        for m in sandbox.slack.messages()
        if (m.get("metadata") or {}).get("event_type") == "earshot_burst"
    ]


def _listed(sandbox: Sandbox) -> set[int]:
    return {c for m in _bursts(sandbox) for c in m["metadata"]["event_payload"]["cases"]}


def _posts_refused(sandbox: Sandbox) -> int:
    return sum(c.status == 429 for c in sandbox.slack.calls("chat.postMessage"))


def test_a_burst_to_one_channel_is_listed_at_once_and_every_card_follows_once(
    paced: Sandbox,
) -> None:
    assert paced.runtime is not None
    store = paced.runtime.services.store
    eventually(lambda: store.count("cases") == BURST)
    cases = {case.id for case in store.open_cases()}  # every case, none handled yet
    first = paced.slack.wait_for(lambda: (b := _bursts(paced)) and b[0])
    own = {
        m["metadata"]["event_payload"]["case_id"]
        for m in paced.slack.messages()
        if (m.get("metadata") or {}).get("event_type") == "earshot_case" and not m.get("thread_ts")
    }
    # every mention is visible at once: its own card, or a row of the burst message
    paced.slack.wait_for(lambda: _listed(paced) | own == cases)
    # only what the pace can post within its budget (5 s at 1.1 s a card) goes out alone
    assert len(own) <= 5 and _listed(paced) and "@flyer" in json.dumps(first["blocks"])
    # then every card follows, once, in the burst's thread; no 429 ended in a failed call
    eventually(lambda: not store.cases_without_card(), timeout=30)
    cards = [m for n in range(BURST) for m in cards_for(paced, f"flyer{n}")]
    assert len(cards) == BURST
    assert {m["thread_ts"] for m in cards if m.get("thread_ts")} == {first["ts"]}
    assert _posts_refused(paced) == 0


def test_card_on_a_burst_row_brings_that_card_up_at_once(paced: Sandbox) -> None:
    assert paced.runtime is not None and paced.driver is not None
    burst = paced.slack.wait_for(lambda: _bursts(paced))
    last = burst[-1]
    latest = paced.slack.message(last["channel"], last["ts"])
    assert latest is not None
    button = next(b["accessory"] for b in latest["blocks"] if "accessory" in b)
    assert button["action_id"].startswith(ids.OPEN_CARD_ACTION)
    answer = paced.driver.click(user=JANE, message=latest, action_id=button["action_id"])
    assert answer.status == 200
    case_id = int(button["value"])
    note = paced.slack.wait_for(
        lambda: next((e for e in paced.slack.ephemerals(JANE) if f"#{case_id}" in e["text"]), None)
    )
    assert "its card is" in note["text"]
    assert paced.runtime.services.store.case(case_id).card_ts


def test_a_429_is_waited_out_and_the_card_is_posted_once(bot: Sandbox) -> None:
    bot.slack.inject(Fault("chat.postMessage", status=429, retry_after=1))
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card_for(bot, "dana")
    assert [c.status for c in bot.slack.calls("chat.postMessage")][:2] == [429, 200]
    assert len(cards_for(bot, "dana")) == 1


def test_a_5xx_is_retried_where_a_repeat_cannot_post_twice(bot: Sandbox) -> None:
    bot.slack.inject(Fault("chat.getPermalink", status=502))
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card_for(bot, "dana")
    assert bot.runtime is not None
    eventually(lambda: bot.runtime.services.store.case(1).permalink)  # type: ignore[union-attr]
    assert [c.status for c in bot.slack.calls("chat.getPermalink")][:2] == [502, 200]


def test_a_card_slack_posted_but_whose_answer_was_lost_is_not_posted_twice(bot: Sandbox) -> None:
    """Slack posts the card, then the answer is lost (a 500, a dropped connection, a crash):
    chat.postMessage is not retried blindly; the next try finds the card in Slack first."""
    assert bot.runtime is not None
    bot.slack.inject(Fault("chat.postMessage", status=500, applied=True))
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    [card] = bot.slack.wait_for(lambda: cards_for(bot, "dana"))
    store = bot.runtime.services.store
    eventually(lambda: [c.id for c in store.cases_without_card()] == [1])
    bot.stop_bot()
    bot.start_bot()  # the start-up sweep tries again: it looks before it posts
    eventually(lambda: store_of(bot).case(1).card_ts == card["ts"])
    assert len(cards_for(bot, "dana")) == 1
    assert bot.slack.calls("conversations.history")


def test_a_card_slack_never_took_stays_pending_and_survives_a_restart(bot: Sandbox) -> None:
    assert bot.runtime is not None
    bot.slack.inject(Fault("chat.postMessage", status=500))
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    bot.slack.wait_for(lambda: bot.slack.calls("chat.postMessage"))
    store = bot.runtime.services.store
    eventually(lambda: [c.id for c in store.cases_without_card()] == [1])
    bot.stop_bot()
    bot.start_bot()  # the start-up sweep queues it again; Slack has nothing, so it is posted
    card_for(bot, "dana")
    assert len(cards_for(bot, "dana")) == 1


def store_of(sandbox: Sandbox) -> Any:
    assert sandbox.runtime is not None
    return sandbox.runtime.services.store


def _home_event(sandbox: Sandbox) -> dict[str, Any]:
    assert sandbox.driver is not None
    return sandbox.driver.app_home_opened_event(JANE)


def test_a_retried_slack_event_is_handled_once_even_after_a_restart(bot: Sandbox) -> None:
    assert bot.driver is not None
    event = _home_event(bot)
    assert bot.driver.event(event, event_id="Ev0RETRY1").status == 200
    bot.slack.wait_for(lambda: bot.slack.home_publishes(JANE) == 1)
    assert bot.driver.event(event, event_id="Ev0RETRY1").status == 200  # Slack's retry
    bot.stop_bot()
    bot.start_bot()
    assert bot.driver is not None
    assert bot.driver.event(event, event_id="Ev0RETRY1").status == 200
    assert bot.driver.event(event, event_id="Ev0FRESH2").status == 200  # a new event
    bot.slack.wait_for(lambda: bot.slack.home_publishes(JANE) == 2)
    assert bot.runtime is not None
    assert bot.runtime.services.store.count("slack_events") == 2


def test_a_thread_message_delivered_twice_makes_one_note(bot: Sandbox) -> None:
    assert bot.driver is not None and bot.runtime is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    event = bot.slack.user_says(
        user=JANE, channel=card["channel"], text="called her back", thread_ts=card["ts"]
    )
    for _ in range(2):
        assert bot.driver.event(event, event_id="Ev0NOTE01").status == 200
    store = bot.runtime.services.store
    eventually(lambda: store.count_notes(1) == 1)
    assert store.count("slack_events") == 1


def test_confirm_is_acked_while_x_has_not_answered_yet(bot: Sandbox) -> None:
    gate = Gate()
    bot.x.inject(Fault(CREATE_TWEET, status=200, gate=gate))
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    reply_through_slack(bot, user=JANE, card=card)  # asserts the confirm got its HTTP 200
    gate.wait_held()  # ...while the reply is still on its way to X
    gate.open()
    bot.x.wait_for(lambda: bot.x.calls(CREATE_TWEET) and bot.x.calls(CREATE_TWEET)[-1].status)
