"""When learned routing is not sure enough, the case goes to the fallback channel and its card
offers the best guess with a one-click move: the card's blocks, the listener, and end to end
over signed HTTP (the unsure case, the click, the moved card, the lesson learned)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from slack_bolt import Ack
from support import card_for, card_text, eventually, fresh, post

from bot.decide.learned import DEFAULT_MIN_CONFIDENCE
from bot.decide.routing import BestGuess
from bot.desk.access import Refused
from bot.desk.desk import Desk
from bot.models import Author, Case, CaseState, Mention, Priority, Sentiment
from bot.sandbox.harness import JANE, Sandbox
from bot.sandbox.slack import validate_message_blocks
from bot.slack.views import ids
from bot.slack.views.cards import CardView, case_card
from handlers import cards as card_listeners

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
UNSURE = (
    "no rule matched (7 checked); learned routing unsure, best guess #care-inflight (0.21); "
    "fallback channel"
)
CASE = Case(
    id=12,
    mention_id="x:1",
    channel="#care-general",
    rule=None,
    why=UNSURE,
    state=CaseState.OPEN,
    priority=Priority.NORMAL,
    sentiment=Sentiment.NEGATIVE,
    created_at=NOW,
    via="fallback",
)
MENTION = Mention(
    id="x:1", network="x", text="cold meal on board again", author=Author(id="9", handle="ed")
)


def _card(case: Case) -> list[dict[str, Any]]:
    _, blocks = case_card(CardView(case, MENTION, "Skylark", move_to=("#care-inflight",), now=NOW))
    return blocks


def _guess_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        b["accessory"]
        for b in blocks
        if b.get("accessory", {}).get("action_id") == ids.MOVE_TO_GUESS_ACTION
    ]


# ---- the card -----------------------------------------------------------------------------------


def test_the_fallback_card_shows_the_best_guess_with_a_move_button() -> None:
    blocks = _card(CASE)
    assert validate_message_blocks(blocks) == []
    [button] = _guess_buttons(blocks)
    assert button["value"] == "12|#care-inflight"
    assert button["text"]["text"] == "Move to #care-inflight"
    assert "Best guess: #care-inflight* (confidence 0.21" in card_text({"blocks": blocks})


@pytest.mark.parametrize(
    "case",
    [
        replace(CASE, via="learned", channel="#care-inflight"),  # routed there already
        replace(CASE, via="rule", rule="legal"),
        replace(CASE, via="moved", why="moved from #care-general by Jane Kim"),
        replace(CASE, why="no rule matched (7 checked); fallback channel"),  # nothing learned
        replace(CASE, state=CaseState.DISMISSED),  # closed: nothing to move
        replace(CASE, channel="#care-inflight"),  # a brand's fallback that is the guess
    ],
    ids=["learned", "rule", "moved", "no-guess", "dismissed", "same-channel"],
)
def test_no_best_guess_where_there_is_nothing_to_offer(case: Case) -> None:
    blocks = _card(case)
    assert validate_message_blocks(blocks) == []
    assert _guess_buttons(blocks) == []


def test_the_best_guess_round_trips_through_the_why() -> None:
    assert BestGuess.told_in(UNSURE) == BestGuess("#care-inflight", 0.21)


# ---- the listener -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "12", "12|", "|#care-inflight", "twelve|#care-inflight"])
def test_an_altered_best_guess_button_is_refused_after_the_ack(value: str) -> None:
    acked: list[dict[str, Any]] = []
    with pytest.raises(Refused, match="old or altered"):
        card_listeners.guess_clicked(
            cast(Ack, lambda **kw: acked.append(kw)),
            {"user": {"id": JANE}},
            {"action_id": ids.MOVE_TO_GUESS_ACTION, "value": value},
            desk=cast(Desk, object()),  # never reached: the value is refused first
        )
    assert acked == [{}]


# ---- end to end ---------------------------------------------------------------------------------

TAUGHT = [
    ("the meal on board was cold", "#care-inflight"),
    ("cold meal and no drinks on board", "#care-inflight"),
    ("the cabin was freezing and the meal cold", "#care-inflight"),
    ("the agent on the phone was rude", "#care-service"),
    ("rude agent hung up on me", "#care-service"),
    ("the phone agent was unhelpful and rude", "#care-service"),
]


@pytest.fixture
def unsure_bot(sandbox: Sandbox) -> Sandbox:
    """The bot with learned routing taught but asking for near certainty, so a mention no rule
    matches goes to the fallback with a best guess."""
    sandbox.config = replace(sandbox.config, learned_min_confidence=0.99)
    sandbox.start_bot()
    assert sandbox.runtime is not None
    services = sandbox.runtime.services
    for team in ("#care-inflight", "#care-service"):  # the taught channels exist in Slack
        sandbox.slack.create_channel(team)
    services.store.add_examples(TAUGHT, source="teach", actor="test", now=services.clock.now())
    services.rulebook.relearn()
    return sandbox


def test_one_click_moves_an_unsure_case_to_the_best_guess(unsure_bot: Sandbox) -> None:
    bot = unsure_bot
    assert bot.driver is not None and bot.runtime is not None
    post(bot, "@SkylarkAir cold meal on board again", handle="ed")
    card = card_for(bot, "ed")
    assert bot.slack.channel_name(card["channel"]) == "care-general"
    assert validate_message_blocks(card["blocks"]) == []
    assert "Best guess: #care-inflight" in card_text(card)

    answer = bot.driver.click(user=JANE, message=card, action_id=ids.MOVE_TO_GUESS_ACTION)
    assert answer.status == 200, answer.body
    old = eventually(lambda: "Moved to" in card_text(m := fresh(bot, card)) and m)
    assert "by Jane Kim" in card_text(old)
    moved = eventually(
        lambda: [m for m in bot.slack.messages("#care-inflight") if "@ed" in m["text"]]
    )
    assert len(moved) == 1
    assert "Best guess" not in card_text(moved[0])  # it is there now
    store = bot.runtime.services.store
    [case] = store.open_cases()
    assert (case.channel, case.via) == ("#care-inflight", "moved")
    assert store.examples()[-1] == ("@SkylarkAir cold meal on board again", "#care-inflight")


def test_the_default_threshold_routes_the_same_mention_without_asking(sandbox: Sandbox) -> None:
    """At the default threshold the taught model is sure enough: no fallback, no button."""
    sandbox.config = replace(sandbox.config, learned_min_confidence=DEFAULT_MIN_CONFIDENCE)
    sandbox.start_bot()
    assert sandbox.runtime is not None
    services = sandbox.runtime.services
    for team in ("#care-inflight", "#care-service"):
        sandbox.slack.create_channel(team)
    services.store.add_examples(TAUGHT, source="teach", actor="test", now=services.clock.now())
    services.rulebook.relearn()
    post(sandbox, "@SkylarkAir cold meal on board again", handle="ed")
    card = card_for(sandbox, "ed")
    assert sandbox.slack.channel_name(card["channel"]) == "care-inflight"
    assert "Best guess" not in card_text(card)
