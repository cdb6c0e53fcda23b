"""Learned routing: a small invented desk (no real customer text), trained in memory."""

from __future__ import annotations

import dataclasses
import random

import pytest

from bot.decide import learned
from bot.decide.learned import DEFAULT_MIN_CONFIDENCE, Example, LearnedRouter, Prediction

DESK = {
    "#baggage": [
        "my suitcase never showed up on the carousel",
        "lost luggage again, the suitcase had my laptop",
        "the carousel stopped and my luggage is missing",
        "a wheel broke off my suitcase, luggage handlers were rough",
        "still no sign of my luggage after two days",
        "who pays for a damaged suitcase",
    ],
    "#delays": [
        "the departure got delayed three hours with no update",
        "delayed again, we are stuck at the gate",
        "our connection was missed because the departure was delayed",
        "why is the departure board showing another delay",
        "stuck on the tarmac for ages, delayed and tired",
        "the gate changed twice and now we are delayed",
    ],
    "#refunds": [
        "I want a refund for the ticket I never used",
        "the refund still has not reached my card",
        "how long does a refund take for a cancelled ticket",
        "please refund the seat upgrade charge on my card",
        "charged twice for one ticket, I need a refund",
        "my card shows the charge but no refund",
    ],
}


def _examples() -> list[Example]:
    return [Example(text, channel) for channel, texts in DESK.items() for text in texts]


@pytest.fixture(scope="module")
def router() -> LearnedRouter:
    return LearnedRouter.train(_examples(), min_confidence=0.0)


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("@AcmeAir my luggage never came off the carousel", "#baggage"),
        ("delayed at the gate for hours, any update?", "#delays"),
        ("where is my refund? it is not on my card", "#refunds"),
    ],
)
def test_it_routes_the_obvious_channel(router: LearnedRouter, text: str, channel: str) -> None:
    found = router.predict(text)
    assert found is not None and found.channel == channel


def test_size_and_channels_describe_what_was_taught(router: LearnedRouter) -> None:
    assert router.size == 18
    assert router.channels == ("#baggage", "#delays", "#refunds")
    assert router.trained


def test_confidence_is_a_probability_and_scores_cover_every_channel(
    router: LearnedRouter,
) -> None:
    for text in ["my suitcase is lost", "refund please", "delayed", "hello there"]:
        ranked = router.scores(text)
        assert [c for c, _ in ranked] == sorted(
            router.channels, key=lambda c: (-dict(ranked)[c], c)
        )
        assert all(0.0 <= p <= 1.0 for _, p in ranked)
        assert sum(p for _, p in ranked) == pytest.approx(1.0)
        found = router.predict(text)
        assert found is not None and 0.0 <= found.confidence <= 1.0
        assert found.confidence == pytest.approx(ranked[0][1])


def test_below_the_threshold_there_is_no_prediction() -> None:
    text = "my luggage was delayed"  # half baggage, half delays
    relaxed = LearnedRouter.train(_examples(), min_confidence=0.0).predict(text)
    assert relaxed is not None and relaxed.confidence < 0.99
    strict = LearnedRouter.train(_examples(), min_confidence=0.99)
    assert strict.predict(text) is None


def test_the_threshold_can_change_without_retraining(router: LearnedRouter) -> None:
    strict = dataclasses.replace(router, min_confidence=1.0)
    assert strict.predict("my luggage was delayed") is None
    assert strict.scores("my luggage was delayed") == router.scores("my luggage was delayed")


def test_the_default_threshold_is_a_probability() -> None:
    assert 0.0 < DEFAULT_MIN_CONFIDENCE < 1.0
    assert LearnedRouter.train(_examples()).min_confidence == DEFAULT_MIN_CONFIDENCE


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_a_threshold_outside_0_1_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="min_confidence"):
        LearnedRouter.train(_examples(), min_confidence=bad)


def test_untrained_predicts_nothing() -> None:
    empty = LearnedRouter.train([])
    assert empty.predict("my suitcase is lost") is None
    assert empty.scores("my suitcase is lost") == []
    assert (empty.size, empty.channels, empty.trained) == (0, (), False)


def test_one_channel_is_not_enough_to_route() -> None:
    only = LearnedRouter.train([Example(t, "#baggage") for t in DESK["#baggage"]], min_confidence=0)
    assert only.predict("my suitcase is lost") is None


@pytest.mark.parametrize("text", ["", "   ", "@AcmeAir", "https://example.com/x", "ありがとう"])
def test_empty_or_unknown_text_predicts_nothing(router: LearnedRouter, text: str) -> None:
    assert router.predict(text) is None


def test_examples_without_channel_or_words_are_skipped() -> None:
    junk = [Example("", "#baggage"), Example("lost suitcase", ""), Example("@x", "#a")]
    taught = [*_examples(), *junk]
    assert LearnedRouter.train(taught).size == 18


def test_handles_urls_and_html_entities_are_ignored(router: LearnedRouter) -> None:
    plain = router.scores("my luggage is missing & the carousel is empty")
    noisy = router.scores(
        "@refundteam my luggage is missing &amp; the carousel is empty https://delayed.example/refund"
    )
    assert noisy == plain


def test_hashtags_count_as_their_words(router: LearnedRouter) -> None:
    assert router.scores("#LostLuggage") == router.scores("lost luggage")
    found = router.predict("so much for #refund")
    assert found is not None and found.channel == "#refunds"


@pytest.mark.parametrize(
    ("typo", "channel"), [("lugage", "#baggage"), ("delaayed", "#delays"), ("refnd", "#refunds")]
)
def test_a_typo_still_routes(router: LearnedRouter, typo: str, channel: str) -> None:
    found = router.predict(f"the {typo}")
    assert found is not None and found.channel == channel


def test_why_names_the_telling_words(router: LearnedRouter) -> None:
    found = router.predict("@AcmeAir the carousel lost my luggage")
    assert isinstance(found, Prediction)
    assert found.why.startswith(f"learned from 18 examples: {found.confidence:.2f} like #baggage")
    named = found.why[found.why.index("(") :]
    assert "“luggage”" in named or "“carousel”" in named
    assert "“my”" not in named and "“the”" not in named  # function words are never the reason


def test_why_uses_thousands_separators() -> None:
    many = [Example(f"{text} {n}", c) for n in range(60) for c, ts in DESK.items() for text in ts]
    found = LearnedRouter.train(many).predict("my suitcase and luggage are lost")
    assert found is not None and "learned from 1,080 examples" in found.why


def test_ties_break_by_channel_name() -> None:
    flat = LearnedRouter(("#b", "#a"), 2, 0.0, {"same": (0.0,) * 4}, (0.0,) * 4)
    assert flat.scores("same") == [("#a", 0.5), ("#b", 0.5)]
    found = flat.predict("same")
    assert found is not None and (found.channel, found.confidence) == ("#a", 0.5)


def test_training_is_deterministic_and_ignores_example_order(router: LearnedRouter) -> None:
    shuffled = _examples()
    random.Random(7).shuffle(shuffled)
    again = LearnedRouter.train(shuffled, min_confidence=0.0)
    for text in ["my luggage was delayed", "refund the upgrade", "stuck at the carousel"]:
        assert again.scores(text) == router.scores(text)
        assert again.predict(text) == router.predict(text)


def test_regression_one_example_in_one_channel_trains_an_empty_router() -> None:
    """Bug: the first "Move to…" (one example, one channel) crashed training (log of 0)."""
    router = LearnedRouter.train([Example("the crew uniform smelled of smoke", "#service")])
    assert not router.trained
    assert router.predict("crew uniform smoke") is None


# ---- the best guess, for the fallback card ------------------------------------------------------


def test_below_the_threshold_the_best_guess_is_still_told() -> None:
    text = "my luggage was delayed"  # half baggage, half delays
    strict = LearnedRouter.train(_examples(), min_confidence=0.99)
    guess = strict.best_guess(text)
    assert strict.predict(text) is None
    assert guess is not None and guess.confidence < 0.99
    assert (guess.channel, guess.confidence) == strict.scores(text)[0]
    assert guess.why.startswith(f"learned from 18 examples: {guess.confidence:.2f} like")


def test_when_sure_the_prediction_is_the_best_guess(router: LearnedRouter) -> None:
    for text in ["my suitcase is lost", "refund please", "delayed at the gate"]:
        assert router.predict(text) == router.best_guess(text)


@pytest.mark.parametrize("text", ["", "@AcmeAir", "ありがとう"])
def test_nothing_known_means_no_best_guess_either(router: LearnedRouter, text: str) -> None:
    assert router.best_guess(text) is None
    assert LearnedRouter.train([]).best_guess("my suitcase is lost") is None


# ---- small teams and near words -----------------------------------------------------------------


def test_a_quiet_team_still_gets_its_own_mentions() -> None:
    """Lopsided teaching (a busy team, a quiet one): the quiet team's clear case still goes there,
    not to the busy team because it is busy."""
    busy = [Example(f"{text} {n}", "#delays") for n in range(8) for text in DESK["#delays"]]
    quiet = [Example(text, "#baggage") for text in DESK["#baggage"][:3]]
    lopsided = LearnedRouter.train([*busy, *quiet], min_confidence=0.0)
    found = lopsided.predict("the carousel lost my suitcase")
    assert found is not None and found.channel == "#baggage"


def test_two_words_near_each_other_count_in_either_order() -> None:
    """ "lost … bag" is one clue however it is phrased; function words do not count as distance."""
    one = learned._word_features(learned._tokens("they lost my bag"))
    other = learned._word_features(learned._tokens("the bag got lost"))
    assert "bag~lost" in one and "bag~lost" in other
    far = learned._word_features(learned._tokens("lost the plot, then a seat, a meal, a bag"))
    assert "bag~lost" not in far  # more than NEAR content words apart


def test_class_weights_even_out_the_teams() -> None:
    weights = learned._class_weights([0, 0, 0, 1], 2)
    assert weights[1] > 1.0 > weights[0]
    assert learned._class_weights([0, 1, 0, 1], 2) == [1.0, 1.0]
