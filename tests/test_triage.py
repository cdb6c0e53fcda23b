"""bot/triage.py: language, sentiment and priority of a mention, with reasons."""

from __future__ import annotations

import pytest

from bot.models import Author, Mention, Priority, Sentiment
from bot.triage import HIGH_REACH, HUGE_REACH, detect_language, score_sentiment, triage


def _mention(
    text: str, *, followers: int = 0, verified: bool = False, lang: str | None = None
) -> Mention:
    author = Author(id="42", handle="traveller", followers=followers, verified=verified)
    return Mention(id="x:1", network="x", text=text, author=author, lang=lang)


# ---- language -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("환불 언제 돼요?", "ko"),
        ("@SkylarkAir 수하물이 안 왔어요 https://t.co/abc", "ko"),
        ("Where is my refund? Still waiting", "en"),
        ("ありがとうございます", "ja"),
        ("予約の変更をお願いします", "ja"),
        pytest.param(
            "成田空港で荷物を紛失しました",
            "ja",
            id="japanese-with-more-kanji-than-kana",
        ),
        ("我的行李丢了", "zh"),
        ("Mi vuelo fue cancelado y no tengo respuesta", "es"),
    ],
)
def test_detect_language_from_script_and_common_words(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡", "12345 !!", "👍 🙏"])
def test_nothing_to_go_on_is_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


def test_the_network_language_wins_when_given() -> None:
    assert triage(_mention("Where is my refund?", lang="ja")).lang == "ja"


@pytest.mark.parametrize("network_lang", ["und", None, ""])
def test_undetermined_or_missing_network_language_is_ignored(network_lang: str | None) -> None:
    assert triage(_mention("환불 언제 돼요?", lang=network_lang)).lang == "ko"


# ---- sentiment ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("still waiting for my refund, worst service", Sentiment.NEGATIVE),
        ("Flight delayed AGAIN, no response from anyone. Ridiculous!!", Sentiment.NEGATIVE),
        ("thank you so much, great crew", Sentiment.POSITIVE),
        ("Smooth boarding and a friendly crew, thanks!", Sentiment.POSITIVE),
        ("What time does boarding open for SK12?", Sentiment.NEUTRAL),
        ("최악이에요 환불 언제 돼요", Sentiment.NEGATIVE),
        ("감사합니다 정말 친절했어요", Sentiment.POSITIVE),
        ("탑승구가 어디예요?", Sentiment.NEUTRAL),
    ],
)
def test_care_sentiment(text: str, sentiment: Sentiment) -> None:
    assert score_sentiment(text)[0] is sentiment


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("not happy", Sentiment.NEGATIVE),
        ("I am not happy with this", Sentiment.NEGATIVE),
        ("the crew was not helpful", Sentiment.NEGATIVE),
        ("honestly not bad at all", Sentiment.POSITIVE),
        ("안 좋아요", Sentiment.NEGATIVE),
    ],
)
def test_negation_flips_sentiment(text: str, sentiment: Sentiment) -> None:
    assert score_sentiment(text)[0] is sentiment


@pytest.mark.parametrize("text", ["😡", "👎"])
def test_angry_emoji_are_negative(text: str) -> None:
    assert score_sentiment(f"my flight {text}")[0] is Sentiment.NEGATIVE


def test_sentiment_score_stays_within_minus_one_and_one() -> None:
    furious = score_sentiment("worst terrible awful horrible scam 🤬 " * 5)[1]
    delighted = score_sentiment("amazing wonderful fantastic excellent 😍 " * 5)[1]
    assert -1.0 <= furious < -0.9
    assert 0.9 < delighted <= 1.0


def test_handles_and_links_do_not_carry_sentiment() -> None:
    assert score_sentiment("@worst_airline https://example.com/terrible")[0] is Sentiment.NEUTRAL


# ---- priority -------------------------------------------------------------------------------


def test_a_plain_question_is_normal_priority_with_no_reasons() -> None:
    result = triage(_mention("What time does boarding open?"))
    assert (result.priority, result.reasons) == (Priority.NORMAL, ())


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("the app is down, total outage", "outage"),
        ("my account was hacked", "hacked"),
        ("I will call my lawyer about this", "lawyer"),
        ("결제 사기 같아요", "사기"),
    ],
)
def test_urgent_terms_make_it_urgent_and_say_which(text: str, term: str) -> None:
    result = triage(_mention(text))
    assert result.priority is Priority.URGENT
    assert f"urgent term “{term}”" in result.reasons


# Regression (fixed): urgent terms match inside words: 'issue ' contains 'sue '
def test_an_issue_is_not_a_lawsuit() -> None:
    result = triage(_mention("There is an issue with my seat selection"))
    assert result.priority is Priority.NORMAL
    assert result.reasons == ()


# Regression (fixed): 'sue ' needs a trailing space, so 'sue' at the end of a post is missed
def test_sue_at_the_end_of_a_post_is_urgent() -> None:
    assert triage(_mention("Fix this or I will sue")).priority is Priority.URGENT


def test_asking_for_a_refund_is_a_reason() -> None:
    result = triage(_mention("I want a refund"))
    assert "asks for “refund”" in result.reasons
    assert result.priority is Priority.HIGH


@pytest.mark.parametrize(
    ("followers", "verified", "priority", "reason"),
    [
        (HUGE_REACH, False, Priority.URGENT, "high reach (250,000 followers)"),
        (HIGH_REACH, True, Priority.URGENT, "high reach (10,000 followers)"),
        (HIGH_REACH, False, Priority.HIGH, "10,000 followers"),
        (50, True, Priority.HIGH, "verified"),
        (HIGH_REACH - 1, False, Priority.NORMAL, None),
    ],
)
def test_reach_raises_priority_and_says_why(
    followers: int, verified: bool, priority: Priority, reason: str | None
) -> None:
    result = triage(_mention("What time is boarding?", followers=followers, verified=verified))
    assert result.priority is priority
    assert result.reasons == ((reason,) if reason else ())


def test_positive_mentions_are_low_priority() -> None:
    result = triage(_mention("thank you so much, great crew"))
    assert result.sentiment is Sentiment.POSITIVE
    assert result.priority is Priority.LOW


def test_positive_lowers_priority_even_with_reach() -> None:
    neutral = triage(_mention("Boarding now", followers=HIGH_REACH)).priority
    positive = triage(_mention("Great crew, thanks!", followers=HIGH_REACH)).priority
    assert (neutral, positive) == (Priority.HIGH, Priority.NORMAL)


def test_vip_handles_raise_priority() -> None:
    result = triage(_mention("What time is boarding?"), vip_handles=frozenset({"traveller"}))
    assert result.priority is Priority.URGENT
    assert "VIP" in result.reasons


def test_triage_returns_language_sentiment_score_and_priority() -> None:
    result = triage(_mention("최악이에요 환불 언제 돼요"))
    assert result.lang == "ko"
    assert result.sentiment is Sentiment.NEGATIVE
    assert result.sentiment_score < 0
    assert "asks for “환불”" in result.reasons
