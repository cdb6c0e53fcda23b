"""English sentiment rules added for issue 17 (bot/decide/sentiment.py): questions that ask for
information, thanks in a request, and words the care lexicon lacked.

Every text here is invented for these tests.
"""

from __future__ import annotations

import pytest

from bot.decide.sentiment import score_sentiment
from bot.models import Sentiment


@pytest.mark.parametrize(
    "text",
    [
        "Will my flight to Denver be delayed tomorrow?",
        "Is there a fee to change my flight? Thanks in advance",
        "Can you help me change my seat? Thanks!",
        "Could you DM me the baggage policy please? Thank you",
        "Please DM me",
    ],
)
def test_asking_for_information_or_help_is_neutral(text: str) -> None:
    assert score_sentiment(text)[0] is Sentiment.NEUTRAL


@pytest.mark.parametrize(
    "text",
    [
        "Why is my flight delayed again?",
        "where is my refund? been waiting two weeks",
        "My bag is lost, can someone please help?",
    ],
)
def test_complaints_phrased_as_questions_stay_negative(text: str) -> None:
    assert score_sentiment(text)[0] is Sentiment.NEGATIVE


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("Thanks for the quick reply!", Sentiment.POSITIVE),
        ("Thrilled with the upgrade", Sentiment.POSITIVE),
        ("I am not thrilled", Sentiment.NEGATIVE),
        ("the staff were the friendliest I have met", Sentiment.POSITIVE),
        ("Good luck with that", Sentiment.NEGATIVE),
        ("Thanks for the generic copy and paste response", Sentiment.NEGATIVE),
        ("Three hours on hold, this is awesome #sarcasm", Sentiment.NEGATIVE),
    ],
)
def test_words_the_lexicon_lacked(text: str, sentiment: Sentiment) -> None:
    assert score_sentiment(text)[0] is sentiment
