"""bot/routing.py: ordered rules, first match wins, a fallback, and a "why" for every decision."""

from __future__ import annotations

import pytest

from bot.decide.routing import Facts, Router
from bot.decide.rules import RuleSpec
from bot.models import Priority, Sentiment


def facts(text: str, *, lang: str = "en") -> Facts:
    return Facts(text=text, lang=lang, sentiment=Sentiment.NEUTRAL, priority=Priority.NORMAL)


RULES = (
    RuleSpec("legal", "#care-escalations", regex=r"(?i)\b(lawyer|lawsuit)\b"),
    RuleSpec("korean", "#care-korea", languages=("ko",)),
    RuleSpec("baggage", "#care-baggage", keywords=("bag", "luggage", "lost suitcase")),
    RuleSpec("booking", "#care-booking", keywords=("change my flight", "refund")),
)


@pytest.fixture
def router() -> Router:
    return Router.from_specs(RULES, fallback="#care-general")


def test_first_matching_rule_wins_in_order(router: Router) -> None:
    # Matches "legal", "baggage" and "booking"; legal comes first.
    decision = router.route(facts("My lawyer says my bag and refund are overdue", lang="en"))
    assert (decision.channel, decision.rule) == ("#care-escalations", "legal")


def test_rule_order_decides_not_specificity() -> None:
    specs = (
        RuleSpec("first", "#a", keywords=("bag",)),
        RuleSpec("second", "#b", keywords=("bag",)),
    )
    decision = Router.from_specs(specs, fallback="#f").route(facts("my bag", lang="en"))
    assert decision.rule == "first"


def test_fallback_when_no_rule_matches_says_so(router: Router) -> None:
    decision = router.route(facts("Lovely flight today", lang="en"))
    assert decision.channel == "#care-general"
    assert decision.rule is None
    assert "no rule matched" in decision.why
    assert "4 checked" in decision.why


def test_fallback_with_no_rules_at_all() -> None:
    decision = Router.from_specs((), fallback="#care-general").route(facts("hi", lang="en"))
    assert (decision.channel, decision.rule) == ("#care-general", None)


@pytest.mark.parametrize(
    "text",
    [
        "my bag is gone",
        "My BAG is gone",
        "where is my bag?",
        "bag!",
        "(bag)",
        "I LOST SUITCASE again",
        "lost\tsuitcase",
    ],
)
def test_keywords_match_whole_words_any_case(router: Router, text: str) -> None:
    assert router.route(facts(text, lang="en")).rule == "baggage"


@pytest.mark.parametrize(
    "text",
    [
        "garbage everywhere on the plane",
        "baggy seats",
        "airbags",
    ],
)
def test_keywords_do_not_match_inside_other_words(router: Router, text: str) -> None:
    assert router.route(facts(text, lang="en")).rule is None


@pytest.mark.parametrize(
    "text",
    ["I need to change my flight", "please CHANGE   my   flight", "change my\nflight now"],
)
def test_keyword_phrases_match_across_extra_spaces(router: Router, text: str) -> None:
    assert router.route(facts(text, lang="en")).rule == "booking"


def test_keyword_phrase_needs_all_its_words_in_order(router: Router) -> None:
    assert router.route(facts("my flight change", lang="en")).rule is None


@pytest.mark.parametrize(
    ("text", "rule"),
    [("Talking to my Lawyer now", "legal"), ("a lawsuit is coming", "legal"), ("lawyers", None)],
)
def test_regex_rules_match_with_their_own_flags(
    router: Router, text: str, rule: str | None
) -> None:
    assert router.route(facts(text, lang="en")).rule == rule


def test_regex_is_case_sensitive_unless_it_asks_otherwise() -> None:
    router = Router.from_specs((RuleSpec("code", "#a", regex=r"\bPNR\b"),), fallback="#f")
    assert router.route(facts("my PNR is lost", lang="en")).rule == "code"
    assert router.route(facts("my pnr is lost", lang="en")).rule is None


@pytest.mark.parametrize(("lang", "rule"), [("ko", "korean"), ("en", None), ("und", None)])
def test_language_rules_match_the_mention_language(
    router: Router, lang: str, rule: str | None
) -> None:
    assert router.route(facts("환불 언제 돼요", lang=lang)).rule == rule


@pytest.mark.parametrize(
    ("text", "lang", "matches"),
    [
        ("my bag is lost", "ko", True),
        ("my bag is lost", "en", False),  # keyword yes, language no
        ("환불 언제", "ko", False),  # language yes, keyword no
    ],
)
def test_conditions_in_one_rule_combine_with_and(text: str, lang: str, matches: bool) -> None:
    spec = RuleSpec("ko-bags", "#ko-bags", keywords=("bag",), languages=("ko",))
    decision = Router.from_specs((spec,), fallback="#f").route(facts(text, lang=lang))
    assert (decision.rule == "ko-bags") is matches


def test_keyword_and_regex_must_both_hold() -> None:
    spec = RuleSpec("urgent-bags", "#u", keywords=("bag",), regex=r"(?i)\burgent\b")
    router = Router.from_specs((spec,), fallback="#f")
    assert router.route(facts("URGENT: my bag", lang="en")).rule == "urgent-bags"
    assert router.route(facts("my bag", lang="en")).rule is None
    assert router.route(facts("urgent help", lang="en")).rule is None


@pytest.mark.parametrize(
    ("text", "lang", "why"),
    [
        ("my lawyer will call", "en", "rule 1 “legal”: pattern matched “lawyer”"),
        ("환불", "ko", "rule 2 “korean”: language ko"),
        ("my LUGGAGE is late", "en", "rule 3 “baggage”: keyword “luggage”"),
        ("change  my flight", "en", "rule 4 “booking”: keyword “change my flight”"),
    ],
)
def test_why_names_rule_position_name_and_what_matched(
    router: Router, text: str, lang: str, why: str
) -> None:
    assert router.route(facts(text, lang=lang)).why == why


def test_why_joins_every_condition_of_a_rule() -> None:
    spec = RuleSpec("all", "#a", keywords=("bag",), regex="lost", languages=("en",))
    why = Router.from_specs((spec,), fallback="#f").route(facts("lost bag", lang="en")).why
    assert why == "rule 1 “all”: language en and keyword “bag” and pattern matched “lost”"


def test_fuzzy_keywords_forgive_misspellings_of_longer_words() -> None:
    rules = (RuleSpec("refunds", "#billing", keywords=("refund", "lost suitcase")),)
    router = Router.from_specs(rules, fallback="#general")
    decision = router.route(facts("where is my refnud??"))
    assert decision.rule == "refunds"
    assert "keyword “refund” (≈ “refnud”)" in decision.why
    assert router.route(facts("lostsuitcase again")).rule == "refunds"


def test_fuzzy_matching_can_be_switched_off_per_rule() -> None:
    rules = (RuleSpec("refunds", "#billing", keywords=("refund",), fuzzy=False),)
    assert Router.from_specs(rules, fallback="#g").route(facts("my refnud")).rule is None


def test_short_keywords_are_never_fuzzy() -> None:
    rules = (RuleSpec("bags", "#bags", keywords=("bag",)),)
    assert Router.from_specs(rules, fallback="#g").route(facts("a big day")).rule is None


SCREENED = (
    RuleSpec("phrase", "#a", keywords=("lost suitcase", "wi-fi")),
    RuleSpec("all", "#b", all_keywords=("refund", "booking")),
    RuleSpec("exact", "#c", keywords=("delayed",), fuzzy=False),
    RuleSpec("korean", "#d", keywords=("환불 요청",)),
    RuleSpec("accent", "#e", keywords=("café",)),
    RuleSpec("typo", "#f", keywords=("connection", "baggage")),
)


@pytest.mark.parametrize(
    "text",
    [
        "my lost  suitcase",
        "lsot suitcase again",
        "the wifi is down",
        "refund for my booking please",
        "refnud for my boking",
        "DELAYED again",
        "delayd again",
        "환불  요청 했어요",
        "CAFÉ was cold",
        "missed my conection",
        "my baggge",
        "ſlow \u212aelvin baggage",  # letters re.IGNORECASE folds to ASCII
        "nothing to see",
    ],
)
def test_the_keyword_screen_never_changes_a_decision(text: str) -> None:
    """Regression guard for the per-mention keyword screen (a speed-up): the same decision and
    why as testing every rule in turn."""
    screened = Router.from_specs(SCREENED, fallback="#f")
    every_rule = Router(screened.rules, screened.fallback)  # no screen
    assert screened.route(facts(text)) == every_rule.route(facts(text))


# ---- invisible characters (issue 15): matched as the customer reads the text -----------------

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2066"]


@pytest.mark.parametrize("mark", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_a_keyword_matches_through_an_invisible_character(mark: str) -> None:
    """Regression: "re\u200bfund" reads "refund" but slipped past every keyword rule."""
    router = Router.from_specs(
        (RuleSpec("refunds", "#billing", keywords=("refund",)),), fallback="#f"
    )
    decision = router.route(facts(f"where is my re{mark}fund"))
    assert (decision.rule, decision.why) == ("refunds", "rule 1 “refunds”: keyword “refund”")


def test_fullwidth_letters_and_phrases_with_hidden_joiners_match(router: Router) -> None:
    assert router.route(facts("my ｌｕｇｇａｇｅ is gone")).rule == "baggage"
    assert router.route(facts("lost\u2060 suit\u00adcase")).rule == "baggage"


def test_all_keywords_regex_and_fuzzy_match_the_normalised_text() -> None:
    specs = (
        RuleSpec("both", "#a", all_keywords=("refund", "card")),
        RuleSpec("pattern", "#b", regex=r"\bchargeback\b"),
        RuleSpec("typo", "#c", keywords=("cancellation",), fuzzy=True),
    )
    router = Router.from_specs(specs, fallback="#f")
    assert router.route(facts("re\u200bfund to my ca\u200crd")).rule == "both"
    assert router.route(facts("charge\ufeffback filed")).rule == "pattern"
    assert router.route(facts("cance\u200bllaton please")).rule == "typo"


def test_a_keyword_typed_with_an_invisible_character_still_matches() -> None:
    router = Router.from_specs((RuleSpec("r", "#r", keywords=("re\u200bfund",)),), fallback="#f")
    assert router.route(facts("refund please")).rule == "r"


def test_emoji_sequences_keep_their_joiner_and_the_stored_text_is_untouched() -> None:
    from bot.decide.text import matchable

    assert matchable("👩\u200d💻 re\u200dfund") == "👩\u200d💻 refund"
    assert matchable("ㅠㅠ 환불") == "ㅠㅠ 환불"  # compatibility jamo are not folded by NFKC
    text = "re\u200bfund"
    router = Router.from_specs((RuleSpec("r", "#r", keywords=("refund",)),), fallback="#f")
    original = facts(text)
    router.route(original)
    assert original.text == text
