"""bot/voice.py: X's weighted length, signatures, and the checks before a reply goes public."""

from __future__ import annotations

import unicodedata

import pytest

from bot import voice

# ---- weighted_length ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        ("Hi there, sorry!", 16),
        ("café", 4),
        ("—“quotes”", 9),  # dashes and curly quotes (U+2010..U+201F) are light too
    ],
)
def test_latin_text_weighs_one_per_character(text: str, expected: int) -> None:
    assert voice.weighted_length(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("환불", 4),
        ("안녕하세요", 10),
        ("日本", 4),
        ("ありがとう", 10),
        ("ok 환불", 3 + 4),
    ],
)
def test_korean_and_cjk_weigh_two_per_character(text: str, expected: int) -> None:
    assert voice.weighted_length(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://t.co/a",
        "http://example.com/" + "a" * 200,
        "https://skylark.example/booking?ref=ABC123&lang=ko",
        "www.example.com/help",
    ],
)
def test_any_url_counts_23_however_long(url: str) -> None:
    assert voice.weighted_length(url) == voice.URL_WEIGHT
    assert voice.weighted_length(f"see {url} now") == 4 + voice.URL_WEIGHT + 4


def test_two_urls_count_23_each() -> None:
    assert voice.weighted_length("https://a.example/x https://b.example/y") == 23 + 1 + 23


@pytest.mark.parametrize(
    "emoji",
    [
        pytest.param("😀", id="grinning"),
        pytest.param("❤️", id="heart-with-variation-selector"),
        pytest.param("👍🏽", id="skin-tone"),
        pytest.param("👨‍👩‍👧‍👦", id="zwj-family"),
        pytest.param("👩🏽‍💻", id="zwj-with-skin-tone"),
        pytest.param(
            "🇰🇷",
            id="flag",
        ),
        pytest.param(
            "⭐️",
            id="star-with-variation-selector",
        ),
        pytest.param(
            "1️⃣",
            id="keycap",
        ),
    ],
)
def test_an_emoji_counts_two_once_whatever_its_sequence(emoji: str) -> None:
    assert voice.weighted_length(emoji) == 2
    assert voice.weighted_length(f"a{emoji}b") == 4


def test_an_ellipsis_character_weighs_two_as_on_x() -> None:
    # U+2026 is outside twitter-text's light ranges, so X counts it 2; "..." counts 3.
    assert voice.weighted_length("…") == 2
    assert voice.weighted_length("...") == 3


def test_consecutive_emoji_each_count_two() -> None:
    assert voice.weighted_length("😀😀😀") == 6
    assert voice.weighted_length("👨‍👩‍👧👍🏽") == 4


@pytest.mark.parametrize(
    ("decomposed", "expected"),
    [
        (unicodedata.normalize("NFD", "café"), 4),  # e + combining acute -> é
        (unicodedata.normalize("NFD", "한국"), 4),  # conjoining jamo -> two syllables
    ],
)
def test_text_is_nfc_normalised_before_counting(decomposed: str, expected: int) -> None:
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    assert voice.weighted_length(decomposed) == expected


# ---- sign / chars_left --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "signature", "expected"),
    [
        ("Thanks for waiting!", "^JK", "Thanks for waiting! ^JK"),
        ("  Thanks for waiting!\n", "^JK", "Thanks for waiting! ^JK"),
        ("  Thanks for waiting!  ", "", "Thanks for waiting!"),
    ],
)
def test_sign_strips_the_body_and_appends_the_signature_after_one_space(
    body: str, signature: str, expected: str
) -> None:
    assert voice.sign(body, signature) == expected


@pytest.mark.parametrize(
    ("body", "signature", "expected"),
    [
        ("hello", "^JK", 280 - len("hello ^JK")),
        ("환불", "^JK", 280 - (4 + 4)),
        ("", "", 280),
        ("x" * 300, "", -20),
    ],
)
def test_chars_left_counts_the_signed_text(body: str, signature: str, expected: int) -> None:
    assert voice.chars_left(body, signature) == expected


# ---- reply_problems -----------------------------------------------------------------------------


def test_a_fine_reply_has_no_problems() -> None:
    assert voice.reply_problems("Sorry about the wait, Ann. Please DM us.", "^JK") == []


@pytest.mark.parametrize("body", ["", "   ", "\n\t"])
def test_an_empty_reply_is_a_problem(body: str) -> None:
    problems = voice.reply_problems(body, "^JK")
    assert len(problems) == 1
    assert "empty" in problems[0]


def test_a_reply_over_the_limit_says_by_how_much_and_the_limit() -> None:
    body = "x" * 280  # + " ^JK" = 284
    problems = voice.reply_problems(body, "^JK")
    assert len(problems) == 1
    assert "4 characters over" in problems[0]
    assert "280" in problems[0]
    assert "^JK" in problems[0]


def test_a_reply_exactly_at_the_limit_is_fine() -> None:
    assert voice.reply_problems("x" * 276, "^JK") == []


def test_korean_reply_over_the_limit_counts_double() -> None:
    problems = voice.reply_problems("가" * 140, "^JK")  # 280 + 4
    assert len(problems) == 1
    assert "4 characters over" in problems[0]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("Your order {order_id?} is on its way", ["{order_id?}"]),
        ("Hi {customer}, thanks", ["{customer}"]),
        ("Hi {customer}, ref {booking_ref?} and {customer}", ["{booking_ref?}", "{customer}"]),
    ],
)
def test_unfilled_placeholders_are_named(body: str, named: list[str]) -> None:
    problems = voice.reply_problems(body, "^JK")
    assert len(problems) == 1
    assert problems[0].startswith("Fill in or remove")
    for placeholder in named:
        assert problems[0].count(placeholder) == 1


def test_every_problem_is_reported_at_once() -> None:
    problems = voice.reply_problems("{order_id?} " + "x" * 300, "^JK")
    assert len(problems) == 2
