"""bot/routing.py: every condition a rule can test, every action it takes, and how it explains."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.decide.routing import BestGuess, Clock, Facts, Router, bump
from bot.decide.rules import RuleSpec, parse_window
from bot.models import Priority, RouteDecision, Sentiment

LISBON = Clock(
    timezone=ZoneInfo("Europe/Lisbon"), business_hours=parse_window("Mon-Fri 09:00-17:00")
)


def facts(text: str = "hello there", **kw: Any) -> Facts:
    values: dict[str, Any] = {
        "lang": "en",
        "sentiment": Sentiment.NEUTRAL,
        "priority": Priority.NORMAL,
    }
    return Facts(text=text, **(values | kw))


def route(spec: RuleSpec, given: Facts, *, clock: Clock | None = None) -> RouteDecision:
    return Router.from_specs([spec], fallback="#care-general", clock=clock).route(given)


def matches(spec: RuleSpec, given: Facts, *, clock: Clock | None = None) -> bool:
    return route(spec, given, clock=clock).rule == spec.name


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# ---- conditions --------------------------------------------------------------------------------

ANGRY = RuleSpec("angry", "#care-angry", sentiments=("negative",))


@pytest.mark.parametrize(
    ("sentiment", "hit"),
    [(Sentiment.NEGATIVE, True), (Sentiment.NEUTRAL, False), (Sentiment.POSITIVE, False)],
)
def test_sentiments_condition(sentiment: Sentiment, hit: bool) -> None:
    assert matches(ANGRY, facts(sentiment=sentiment)) is hit


def test_sentiments_condition_accepts_any_listed_sentiment() -> None:
    spec = RuleSpec("moody", "#m", sentiments=("negative", "positive"))
    assert matches(spec, facts(sentiment=Sentiment.POSITIVE))
    assert not matches(spec, facts(sentiment=Sentiment.NEUTRAL))


@pytest.mark.parametrize(
    ("priority", "hit"),
    [
        (Priority.LOW, False),
        (Priority.NORMAL, False),
        (Priority.HIGH, True),
        (Priority.URGENT, True),
    ],
)
def test_min_priority_condition_is_a_floor(priority: Priority, hit: bool) -> None:
    spec = RuleSpec("important", "#i", min_priority="high")
    assert matches(spec, facts(priority=priority)) is hit


@pytest.mark.parametrize(
    ("followers", "hit"), [(0, False), (9_999, False), (10_000, True), (10**7, True)]
)
def test_min_followers_condition_is_inclusive(followers: int, hit: bool) -> None:
    spec = RuleSpec("reach", "#r", min_followers=10_000)
    assert matches(spec, facts(followers=followers)) is hit


@pytest.mark.parametrize(("verified", "hit"), [(True, True), (False, False)])
def test_verified_only_condition(verified: bool, hit: bool) -> None:
    spec = RuleSpec("blue", "#b", verified_only=True)
    assert matches(spec, facts(verified=verified)) is hit


@pytest.mark.parametrize(("network", "hit"), [("bluesky", True), ("mastodon", True), ("x", False)])
def test_networks_condition(network: str, hit: bool) -> None:
    spec = RuleSpec("fediverse", "#f", networks=("bluesky", "mastodon"))
    assert matches(spec, facts(network=network)) is hit


@pytest.mark.parametrize(
    ("brand", "hit"),
    [("Skylark Cargo", True), ("skylark cargo", True), ("SKYLARK CARGO", True), ("Skylark", False)],
)
def test_brands_condition_ignores_case(brand: str, hit: bool) -> None:
    spec = RuleSpec("cargo", "#cargo", brands=("Skylark Cargo",))
    assert matches(spec, facts(brand=brand)) is hit


@pytest.mark.parametrize(
    "written", ["@PaperPlaneFan", "PaperPlaneFan", "paperplanefan", "@PAPERPLANEFAN"]
)
@pytest.mark.parametrize("handle", ["PaperPlaneFan", "paperplanefan", "PAPERPLANEFAN"])
def test_handles_condition_with_or_without_at_in_any_case(written: str, handle: str) -> None:
    spec = RuleSpec("fan", "#fan", handles=(written,))
    assert matches(spec, facts(handle=handle))


@pytest.mark.parametrize("handle", ["PaperPlaneFan2", "otherperson", ""])
def test_handles_condition_needs_the_same_handle(handle: str) -> None:
    spec = RuleSpec("fan", "#fan", handles=("@PaperPlaneFan",))
    assert not matches(spec, facts(handle=handle))


@pytest.mark.parametrize(
    ("tags", "hit"),
    [
        (frozenset({"vip"}), True),
        (frozenset({"press", "other"}), True),
        (frozenset({"other"}), False),
        (frozenset(), False),
    ],
)
def test_customer_tags_condition_needs_any_one_tag(tags: frozenset[str], hit: bool) -> None:
    spec = RuleSpec("known", "#known", customer_tags=("vip", "press"))
    assert matches(spec, facts(customer_tags=tags)) is hit


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("the app crashed while I was checking in", True),
        ("CHECKING IN made the App crash", True),
        ("the app is lovely", False),
        ("checking in was slow", False),
    ],
)
def test_all_keywords_condition_needs_every_word(text: str, hit: bool) -> None:
    spec = RuleSpec("checkin app", "#app", all_keywords=("app", "checking in"))
    assert matches(spec, facts(text)) is hit


# ---- when: business hours and custom windows in the brand's time zone --------------------------


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (utc(7, 6, 8, 30), True),  # Monday 09:30 in Lisbon (summer, UTC+1); 08:30 in UTC
        (utc(7, 6, 7, 59), False),  # Monday 08:59 in Lisbon
        (utc(7, 6, 15, 59), True),  # 16:59 in Lisbon
        (utc(7, 6, 16, 30), False),  # 17:30 in Lisbon, though 16:30 in UTC
        (utc(7, 11, 10, 0), False),  # Saturday
        (utc(1, 5, 9, 0), True),  # Monday in winter: Lisbon is on UTC
        (utc(1, 5, 17, 0), False),
    ],
)
def test_when_business_hours_uses_the_brand_time_zone(moment: datetime, inside: bool) -> None:
    spec = RuleSpec("office", "#office", when="business_hours")
    assert matches(spec, facts(now=moment), clock=LISBON) is inside


@pytest.mark.parametrize(
    "moment", [utc(7, 6, 8, 30), utc(7, 6, 7, 59), utc(7, 6, 16, 30), utc(7, 11, 10, 0)]
)
def test_when_outside_business_hours_is_the_opposite(moment: datetime) -> None:
    inside = RuleSpec("office", "#office", when="business_hours")
    outside = RuleSpec("night", "#night", when="outside_business_hours")
    given = facts(now=moment)
    assert matches(inside, given, clock=LISBON) is not matches(outside, given, clock=LISBON)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (utc(7, 10, 21, 0), True),  # Friday 22:00 in Lisbon
        (utc(7, 11, 4, 59), True),  # Saturday 05:59 in Lisbon: Friday's night shift
        (utc(7, 11, 5, 0), False),  # Saturday 06:00 in Lisbon
        (utc(7, 11, 21, 0), False),  # Saturday 22:00: not a Mon-Fri night
        (utc(7, 6, 12, 0), False),
    ],
)
def test_when_custom_window_uses_the_brand_time_zone(moment: datetime, inside: bool) -> None:
    spec = RuleSpec("nights", "#nights", when="Mon-Fri 22:00-06:00")
    assert matches(spec, facts(now=moment), clock=LISBON) is inside


@pytest.mark.parametrize(
    "when", ["business_hours", "outside_business_hours", "Mon-Sun 00:00-23:59"]
)
def test_when_condition_never_holds_without_a_time(when: str) -> None:
    assert not matches(RuleSpec("w", "#w", when=when), facts(now=None), clock=LISBON)


def test_without_business_hours_only_outside_business_hours_holds() -> None:
    clock = Clock(timezone=ZoneInfo("Europe/Lisbon"))
    given = facts(now=utc(7, 6, 10, 0))
    assert not matches(RuleSpec("in", "#in", when="business_hours"), given, clock=clock)
    assert matches(RuleSpec("out", "#out", when="outside_business_hours"), given, clock=clock)


def test_when_reason_names_the_window() -> None:
    spec = RuleSpec("night", "#night", when="outside_business_hours")
    decision = route(spec, facts(now=utc(7, 11, 10, 0)), clock=LISBON)
    assert "outside business hours" in decision.why


# ---- rules as a whole --------------------------------------------------------------------------


def test_disabled_rules_are_skipped() -> None:
    specs = [
        RuleSpec("off", "#off", keywords=("refund",), enabled=False),
        RuleSpec("on", "#on", keywords=("refund",)),
    ]
    decision = Router.from_specs(specs, fallback="#f").route(facts("refund please"))
    assert (decision.channel, decision.rule) == ("#on", "on")


def test_a_disabled_rule_alone_leaves_the_fallback() -> None:
    spec = RuleSpec("off", "#off", keywords=("refund",), enabled=False)
    decision = route(spec, facts("refund please"))
    assert (decision.channel, decision.rule, decision.via) == ("#care-general", None, "fallback")


# Regression (fixed): the why numbers rules among enabled ones only, but the rule list shows
# disabled rules with their numbers, so a disabled rule above shifts the number
def test_why_numbers_the_rule_as_in_the_full_rule_list() -> None:
    specs = [
        RuleSpec("off", "#off", keywords=("seat",), enabled=False),
        RuleSpec("refunds", "#refunds", keywords=("refund",)),
    ]
    decision = Router.from_specs(specs, fallback="#f").route(facts("refund please"))
    assert decision.why.startswith("rule 2 “refunds”")


EVERYTHING = RuleSpec(
    "everything",
    "#care-everything",
    networks=("bluesky",),
    languages=("pt",),
    sentiments=("negative",),
    brands=("Skylark",),
    handles=("@ana_voa",),
    min_priority="high",
    min_followers=500,
    verified_only=True,
    customer_tags=("vip",),
    when="business_hours",
    keywords=("mala",),
    all_keywords=("perdida", "aeroporto"),
    regex=r"voo \d+",
)
ALL_HOLD = Facts(
    text="A minha mala ficou perdida no aeroporto, voo 123",
    lang="pt",
    sentiment=Sentiment.NEGATIVE,
    priority=Priority.URGENT,
    followers=1_200,
    verified=True,
    network="bluesky",
    brand="skylark",
    handle="Ana_Voa",
    customer_tags=frozenset({"vip"}),
    now=utc(7, 6, 10, 0),
)


def test_a_rule_with_every_condition_matches_when_all_hold() -> None:
    assert matches(EVERYTHING, ALL_HOLD, clock=LISBON)


def test_the_why_names_each_condition_that_held() -> None:
    why = route(EVERYTHING, ALL_HOLD, clock=LISBON).why
    assert why.startswith("rule 1 “everything”: ")
    for reason in (
        "network bluesky",
        "language pt",
        "sentiment negative",
        "brand skylark",
        "author @ Ana_Voa",
        "priority urgent ≥ high",
        "1,200 followers ≥ 500",
        "verified author",
        "customer tagged vip",
        "business hours",
        "keyword “mala”",
        "keywords “perdida” + “aeroporto”",
        "pattern matched “voo 123”",
    ):
        assert reason in why


@pytest.mark.parametrize(
    "broken",
    [
        {"network": "x"},
        {"lang": "en"},
        {"sentiment": Sentiment.POSITIVE},
        {"brand": "Other"},
        {"handle": "someone_else"},
        {"priority": Priority.NORMAL},
        {"followers": 499},
        {"verified": False},
        {"customer_tags": frozenset({"press"})},
        {"now": utc(7, 11, 10, 0)},
        {"text": "A minha bagagem ficou perdida no aeroporto, voo 123"},
        {"text": "A minha mala ficou perdida, voo 123"},
        {"text": "A minha mala ficou perdida no aeroporto"},
    ],
)
def test_one_condition_that_does_not_hold_means_no_match(broken: dict[str, Any]) -> None:
    decision = route(EVERYTHING, replace(ALL_HOLD, **broken), clock=LISBON)
    assert (decision.rule, decision.via) == (None, "fallback")


# ---- actions -----------------------------------------------------------------------------------


def test_matching_rule_sets_tags_notify_and_approval_on_the_decision() -> None:
    spec = RuleSpec(
        "press",
        "#care-press",
        customer_tags=("press",),
        tags=("press", "careful"),
        notify="S0PRESS1",
        require_approval=True,
    )
    decision = route(spec, facts(customer_tags=frozenset({"press"})))
    assert decision.channel == "#care-press"
    assert decision.tags == ("press", "careful")
    assert decision.notify == "S0PRESS1"
    assert decision.require_approval is True
    assert decision.via == "rule"


def test_a_rule_without_actions_leaves_them_empty() -> None:
    decision = route(ANGRY, facts(sentiment=Sentiment.NEGATIVE))
    assert (decision.tags, decision.notify, decision.require_approval) == ((), "", False)
    assert decision.priority is Priority.NORMAL


@pytest.mark.parametrize(
    ("start", "steps", "end"),
    [
        (Priority.NORMAL, 0, Priority.NORMAL),
        (Priority.NORMAL, 1, Priority.HIGH),
        (Priority.NORMAL, 2, Priority.URGENT),
        (Priority.NORMAL, 3, Priority.URGENT),
        (Priority.URGENT, 1, Priority.URGENT),
        (Priority.HIGH, -1, Priority.NORMAL),
        (Priority.HIGH, -3, Priority.LOW),
        (Priority.LOW, -1, Priority.LOW),
        (Priority.LOW, 3, Priority.URGENT),
    ],
)
def test_bump_moves_priority_and_clamps_between_low_and_urgent(
    start: Priority, steps: int, end: Priority
) -> None:
    assert bump(start, steps) is end


@pytest.mark.parametrize(
    ("start", "steps", "end"),
    [
        (Priority.NORMAL, 1, Priority.HIGH),
        (Priority.HIGH, 3, Priority.URGENT),
        (Priority.NORMAL, -3, Priority.LOW),
    ],
)
def test_priority_bump_of_the_rule_is_applied_to_the_decision(
    start: Priority, steps: int, end: Priority
) -> None:
    spec = RuleSpec("bumped", "#b", keywords=("refund",), priority_bump=steps)
    assert route(spec, facts("refund now", priority=start)).priority is end


# ---- via: rule, learned, fallback --------------------------------------------------------------


@dataclass(frozen=True)
class Guess:
    channel: str
    confidence: float
    why: str


@dataclass
class FakeLearner:
    guess: Guess | None  # what it is sure enough about
    asked: list[str]
    unsure: Guess | None = None  # its best guess when not sure enough

    def predict(self, text: str) -> Guess | None:
        self.asked.append(text)
        return self.guess

    def best_guess(self, text: str) -> Guess | None:
        return self.guess or self.unsure


REFUNDS = RuleSpec("refunds", "#care-refunds", keywords=("refund",))


def test_via_rule_when_a_rule_matches() -> None:
    assert route(REFUNDS, facts("refund please")).via == "rule"


def test_via_fallback_when_nothing_matches_and_nothing_is_learned() -> None:
    decision = route(REFUNDS, facts("nice crew", priority=Priority.HIGH))
    assert (decision.channel, decision.rule, decision.via) == ("#care-general", None, "fallback")
    assert decision.priority is Priority.HIGH
    assert decision.why == "no rule matched (1 checked); fallback channel"


def test_learned_routing_is_used_when_no_rule_matches() -> None:
    learner = FakeLearner(Guess("#care-meals", 0.9, "close to taught examples about meals"), [])
    router = Router.from_specs([REFUNDS], fallback="#care-general", learned=learner)
    decision = router.route(facts("the vegetarian meal never came", priority=Priority.LOW))
    assert (decision.channel, decision.rule, decision.via) == ("#care-meals", None, "learned")
    assert decision.why == "no rule matched; close to taught examples about meals"
    assert decision.priority is Priority.LOW
    assert learner.asked == ["the vegetarian meal never came"]


def test_learned_routing_is_not_asked_when_a_rule_matches() -> None:
    learner = FakeLearner(Guess("#care-meals", 0.99, "sure"), [])
    router = Router.from_specs([REFUNDS], fallback="#care-general", learned=learner)
    decision = router.route(facts("refund my meal"))
    assert (decision.channel, decision.via) == ("#care-refunds", "rule")
    assert learner.asked == []


def test_an_unsure_learner_leaves_the_fallback() -> None:
    learner = FakeLearner(None, [])
    router = Router.from_specs([REFUNDS], fallback="#care-general", learned=learner)
    decision = router.route(facts("the meal never came"))
    assert (decision.channel, decision.via) == ("#care-general", "fallback")
    assert decision.why == "no rule matched (1 checked); fallback channel"
    assert BestGuess.told_in(decision.why) is None


def test_an_unsure_learner_tells_its_best_guess_in_the_why() -> None:
    learner = FakeLearner(None, [], unsure=Guess("#care-meals", 0.3149, "unsure"))
    router = Router.from_specs([REFUNDS], fallback="#care-general", learned=learner)
    decision = router.route(facts("the meal never came"))
    assert (decision.channel, decision.via) == ("#care-general", "fallback")
    assert decision.why == (
        "no rule matched (1 checked); learned routing unsure, best guess #care-meals (0.31); "
        "fallback channel"
    )
    assert BestGuess.told_in(decision.why) == BestGuess("#care-meals", 0.31)


def test_a_best_guess_of_the_fallback_itself_is_not_told() -> None:
    learner = FakeLearner(None, [], unsure=Guess("#care-general", 0.4, "unsure"))
    router = Router.from_specs([REFUNDS], fallback="#care-general", learned=learner)
    assert router.route(facts("the meal never came")).why == (
        "no rule matched (1 checked); fallback channel"
    )


@pytest.mark.parametrize(
    "why",
    [
        "no rule matched (3 checked); fallback channel",
        "rule 2 “refunds”: keyword “refund”",
        "learned routing unsure, best guess  (0.40)",
        "learned routing unsure, best guess #x (2.50)",
    ],
)
def test_a_why_without_a_well_formed_best_guess_tells_none(why: str) -> None:
    assert BestGuess.told_in(why) is None


def test_a_best_guess_reads_back_what_it_wrote() -> None:
    guess = BestGuess("#care-baggage", 1.0)
    assert BestGuess.told_in(f"x; {guess.why}; fallback channel") == guess


def test_with_learned_keeps_the_rules_and_adds_the_learner() -> None:
    router = Router.from_specs([REFUNDS], fallback="#care-general", clock=LISBON)
    learned = router.with_learned(FakeLearner(Guess("#care-meals", 0.8, "meals"), []))
    assert (learned.rules, learned.fallback, learned.clock) == (
        router.rules,
        router.fallback,
        router.clock,
    )
    assert learned.route(facts("meal")).via == "learned"
    assert router.route(facts("meal")).via == "fallback"
