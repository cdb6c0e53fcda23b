"""bot/decide/korean.py and the Korean blend in bot/decide/sentiment.py: the shipped n-gram model
loads from package data, reads clear reviews right, and never outvotes the care lexicon on a clear
complaint or on care talk.

Every text here is invented for these tests; none comes from the review corpus the model learned.
"""

from __future__ import annotations

import gzip
import socket
from importlib import resources

import pytest

from bot.decide.korean import (
    NEGATED,
    WEIGHTS,
    Reading,
    features,
    is_korean,
    parse_weights,
    read_korean,
    shipped_model,
)
from bot.decide.sentiment import (
    CLEAR_COMPLAINT,
    NEGATIVE_AT,
    POSITIVE_AT,
    blend,
    korean_points,
    score_sentiment,
    sentiment_points,
)
from bot.models import Sentiment

# ---- the shipped weights ------------------------------------------------------------------------


def _weights_text() -> str:
    packed = resources.files("bot.decide.weights").joinpath(WEIGHTS).read_bytes()
    return gzip.decompress(packed).decode("utf-8")


def test_weights_ship_as_small_package_data() -> None:
    packed = resources.files("bot.decide.weights").joinpath(WEIGHTS).read_bytes()
    assert 50_000 < len(packed) < 1_000_000


def test_weights_say_where_they_come_from_and_how_to_rebuild_them() -> None:
    header = [line for line in _weights_text().splitlines()[:20] if line.startswith("#")]
    said = " ".join(header)
    assert "NSMC" in said and "CC0" in said and "korean_train_mentions.jsonl" in said
    assert "python bench/train_korean_sentiment.py" in said


def test_weights_hold_short_n_grams_only_never_review_text() -> None:
    model = parse_weights(_weights_text())
    assert len(model.weights) > 10_000
    assert max(len(gram.removeprefix(NEGATED)) for gram in model.weights) <= 4


def test_the_model_loads_with_the_network_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The conftest guard already allows loopback only; here even that is refused."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Korean model must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    shipped_model.cache_clear()
    assert len(shipped_model().weights) > 10_000


def test_parse_weights_reads_the_header_and_integer_units() -> None:
    text = "# a comment\n# scale: 0.5\n# bias: 0.25 -0.75\n 최악\t-4\t6\n#태그\t2\t0\n"
    model = parse_weights(text)
    assert model.bias == (0.25, -0.75)
    assert model.weights == {" 최악": (-2.0, 3.0), "#태그": (1.0, 0.0)}


# ---- features and the model's reading ------------------------------------------------------------


def test_features_are_character_n_grams_with_word_edges() -> None:
    grams = features("정말 좋아요")
    assert {" 정말 ", "좋아요 ", "말 좋"} <= grams
    assert all(1 <= len(gram) <= 4 for gram in grams)


def test_features_normalise_repeats_links_and_handles() -> None:
    assert features("ㅋㅋㅋㅋㅋ 좋다!!!!") == features("ㅋㅋ 좋다!!")
    assert features("@brand 좋다 https://example.com/x") == features("좋다")


def test_a_negated_word_reads_apart_from_the_plain_word() -> None:
    negated = features("안 좋아요")
    assert NEGATED + "좋아요" in negated
    assert "좋아요" not in negated


@pytest.mark.parametrize(
    "text",
    ["진짜 최악이다 시간 아깝고 돈 아깝다", "너무 지루하고 재미없어요", "다시는 안 봅니다 실망"],
)
def test_the_model_reads_clear_negatives(text: str) -> None:
    negative, _, positive = read_korean(text).probabilities()
    assert negative > positive
    assert score_sentiment(text)[0] is Sentiment.NEGATIVE


@pytest.mark.parametrize(
    "text",
    [
        "정말 재밌고 감동적이에요 최고",
        "배우들 연기가 너무 좋았어요 강추",
        "완전 만족합니다 또 보고 싶어요",
    ],
)
def test_the_model_reads_clear_positives(text: str) -> None:
    negative, _, positive = read_korean(text).probabilities()
    assert positive > negative
    assert score_sentiment(text)[0] is Sentiment.POSITIVE


def test_probabilities_sum_to_one_and_follow_the_logits() -> None:
    reading = Reading(negative=2.0, positive=-1.0)
    negative, neutral, positive = reading.probabilities()
    assert negative + neutral + positive == pytest.approx(1.0)
    assert negative > neutral > positive


@pytest.mark.parametrize(
    ("text", "korean"),
    [
        ("환불 언제 돼요?", True),
        ("@KoreanAir 짐이 안 왔어요 flight KE081", True),
        ("ㅠㅠ", False),  # jamo only: too little for the model, the lexicon reads it
        ("Where is my bag? 감사", False),  # mostly English
        ("My flight is late", False),
    ],
)
def test_the_model_reads_korean_text_only(text: str, korean: bool) -> None:
    assert is_korean(text) is korean


# ---- the blend: care words still count -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "환불 신청한 지 한 달이 넘었는데 아직도 처리가 안 됐어요",
        "주문한 지 2주째 배송이 안 와요 ㅠㅠ",
        "비행기가 또 지연됐어요 최악이네요",
        "상담원 연결이 한 시간째 안 돼요. 짜증나네요",
    ],
)
def test_care_complaints_are_negative(text: str) -> None:
    assert score_sentiment(text)[0] is Sentiment.NEGATIVE


@pytest.mark.parametrize(
    "text",
    [
        "배송 언제 되나요?",
        "반품 신청은 어디서 하나요?",
        "주문 번호 DM으로 보냈습니다",
        "영수증 보내주실 수 있나요?",
    ],
)
def test_care_questions_and_paperwork_stay_neutral(text: str) -> None:
    assert score_sentiment(text)[0] is Sentiment.NEUTRAL


@pytest.mark.parametrize(
    "text",
    ["빠르게 환불해 주셔서 감사합니다", "배송이 생각보다 빨라서 좋았어요 ㅎㅎ"],
)
def test_thanks_after_care_are_positive(text: str) -> None:
    assert score_sentiment(text)[0] is Sentiment.POSITIVE


def test_a_clear_complaint_is_negative_whatever_the_model_reads() -> None:
    assert korean_points("아무 말", lexicon=CLEAR_COMPLAINT) <= NEGATIVE_AT


def test_the_lexicon_outweighs_a_lukewarm_model() -> None:
    lukewarm = Reading(negative=0.0, positive=0.5)
    assert blend(lukewarm, lexicon=-2.5) <= NEGATIVE_AT
    assert blend(lukewarm, lexicon=0.0) >= POSITIVE_AT


def test_the_blend_keeps_the_models_labels_on_the_points_scale() -> None:
    assert blend(Reading(negative=3.0, positive=0.0), lexicon=0.0) <= NEGATIVE_AT
    assert blend(Reading(negative=-3.0, positive=3.0), lexicon=0.0) >= POSITIVE_AT
    neutral = blend(Reading(negative=-2.0, positive=-2.0), lexicon=0.0)
    assert NEGATIVE_AT < neutral < POSITIVE_AT


def test_korean_points_agree_with_the_label() -> None:
    for text in ("정말 최고예요", "진짜 별로예요", "탑승구가 어디예요?"):
        label, _ = score_sentiment(text)
        points = sentiment_points(text)
        expected = (
            Sentiment.NEGATIVE
            if points <= NEGATIVE_AT
            else Sentiment.POSITIVE
            if points >= POSITIVE_AT
            else Sentiment.NEUTRAL
        )
        assert label is expected
