"""bot/triage.py: language, sentiment, noise and priority of a mention, with reasons.

Every text here is invented for these tests.
"""

from __future__ import annotations

import pytest
from factories import make_mention

from bot.decide.noise import noise_reason
from bot.decide.sentiment import score_sentiment
from bot.decide.triage import (
    HIGH_REACH,
    HUGE_REACH,
    detect_language,
    followers_text,
    prioritise,
    script_language,
    triage,
    triage_with_noise,
)
from bot.models import Priority, Sentiment

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
    assert triage(make_mention("Where is my refund?", lang="ja")).lang == "ja"


@pytest.mark.parametrize("network_lang", ["und", None, ""])
def test_undetermined_or_missing_network_language_is_ignored(network_lang: str | None) -> None:
    assert triage(make_mention("환불 언제 돼요?", lang=network_lang)).lang == "ko"


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
    result = triage(make_mention("What time does boarding open?"))
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
    result = triage(make_mention(text))
    assert result.priority is Priority.URGENT
    assert f"urgent term “{term}”" in result.reasons


# Regression (fixed): urgent terms match inside words: 'issue ' contains 'sue '
def test_an_issue_is_not_a_lawsuit() -> None:
    result = triage(make_mention("There is an issue with my seat selection"))
    assert result.priority is Priority.NORMAL
    assert result.reasons == ()


# Regression (fixed): 'sue ' needs a trailing space, so 'sue' at the end of a post is missed
def test_sue_at_the_end_of_a_post_is_urgent() -> None:
    assert triage(make_mention("Fix this or I will sue")).priority is Priority.URGENT


def test_asking_for_a_refund_is_a_reason() -> None:
    result = triage(make_mention("I want a refund"))
    assert "asks for “refund”" in result.reasons
    assert result.priority is Priority.HIGH


@pytest.mark.parametrize(
    ("followers", "verified", "priority", "reason"),
    [
        (HUGE_REACH, False, Priority.URGENT, "250k followers"),
        (HIGH_REACH, True, Priority.URGENT, "verified, 10k followers"),
        (HIGH_REACH, False, Priority.HIGH, "10k followers"),
        (50, True, Priority.HIGH, "verified"),
        (HIGH_REACH - 1, False, Priority.NORMAL, None),
    ],
)
def test_reach_raises_priority_and_says_why(
    followers: int, verified: bool, priority: Priority, reason: str | None
) -> None:
    result = triage(make_mention("What time is boarding?", followers=followers, verified=verified))
    assert result.priority is priority
    assert result.reasons == ((reason,) if reason else ())


def test_positive_mentions_are_low_priority() -> None:
    result = triage(make_mention("thank you so much, great crew"))
    assert result.sentiment is Sentiment.POSITIVE
    assert result.priority is Priority.LOW


def test_positive_lowers_priority_even_with_reach() -> None:
    neutral = triage(make_mention("Boarding now", followers=HIGH_REACH)).priority
    positive = triage(make_mention("Great crew, thanks!", followers=HIGH_REACH)).priority
    assert (neutral, positive) == (Priority.HIGH, Priority.NORMAL)


def test_vip_handles_raise_priority() -> None:
    result = triage(make_mention("What time is boarding?"), vip_handles=frozenset({"traveller"}))
    assert result.priority is Priority.URGENT
    assert "VIP" in result.reasons


def test_triage_returns_language_sentiment_score_and_priority() -> None:
    result = triage(make_mention("최악이에요 환불 언제 돼요"))
    assert result.lang == "ko"
    assert result.sentiment is Sentiment.NEGATIVE
    assert result.sentiment_score < 0
    assert "asks for “환불”" in result.reasons


# ---- language: library for Latin script, script shortcut for the rest ------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Il mio volo è stato cancellato e nessuno risponde", "it"),
        ("Minha mala não chegou e ninguém responde", "pt"),
        ("Der Koffer ist nicht angekommen", "de"),
        ("Toujours pas de remboursement après un mois", "fr"),
        ("@SkylarkAir my bag never showed up at baggage claim https://t.co/x1", "en"),
    ],
)
def test_latin_script_languages_come_from_the_library(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["Sent", "Done.", "@SkylarkAir Hello", "i did"])
def test_a_one_word_reply_the_model_is_unsure_of_falls_back_to_english(text: str) -> None:
    assert detect_language(text) == "en"


def test_the_fallback_language_is_a_parameter() -> None:
    assert detect_language("Done.", fallback="de") == "de"


def test_the_candidate_languages_are_a_parameter() -> None:
    text = "Mijn koffer is niet aangekomen en niemand neemt de telefoon op"
    assert detect_language(text) != "nl"
    assert detect_language(text, languages=("en", "nl", "de")) == "nl"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("@SkylarkAir 고객센터 연결이 안 돼요 ㅠㅠ", "ko"),
        ("ありがとう！", "ja"),
        ("谢谢", "zh"),
        ("Где мой багаж?", "ru"),
        ("@SkylarkAir @SkylarkHelp 👀 https://t.co/abc", "und"),
        ("Flight SK204 delayed again", None),
    ],
)
def test_scripts_decide_without_the_model(text: str, lang: str | None) -> None:
    assert script_language(text) == lang


# ---- sentiment: care phrases, sarcasm, contrast, questions, Korean -------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "thanks for nothing, SkylarkAir",
        "Great, another delay. Third one this week.",
        "Oh great, my bag is lost again",
        "I just love being stuck on the tarmac for two hours",
        "I love how nobody at the desk knows anything",
        "thank you for the 4 hour delay",
        "yeah right, 'on time'",
        "so much for priority boarding",
        "Fantastic service as always 🙄",
        "best airline ever /s",
        "wonderful customer service #not",
        "Great job losing my suitcase twice",
    ],
)
def test_sarcasm_reads_as_negative(text: str) -> None:
    assert score_sentiment(text)[0] is Sentiment.NEGATIVE


@pytest.mark.parametrize(
    "text",
    [
        "Great crew today, thanks!",
        "thanks for the quick help with my booking",
        "I love flying with you, the crew is always lovely",
        "Perfect, that's sorted then. Thank you!",
        "Lost my bag yesterday, found and delivered today. Thank you so much!",
        "Thank you guys so much for the help!",
        "The crew was just great, thank you",
        "Way to go team, thanks!",
    ],
)
def test_genuine_praise_is_not_mistaken_for_sarcasm(text: str) -> None:
    assert score_sentiment(text)[0] is Sentiment.POSITIVE


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("The crew was lovely but my bag is still missing", Sentiment.NEGATIVE),
        ("Flight was delayed, but the crew made up for it. Thank you!", Sentiment.POSITIVE),
        ("Despite the delay the gate team was fantastic", Sentiment.POSITIVE),
        ("Thanks for replying, however I am still waiting for my refund", Sentiment.NEGATIVE),
    ],
)
def test_what_follows_but_is_what_counts(text: str, sentiment: Sentiment) -> None:
    assert score_sentiment(text)[0] is sentiment


@pytest.mark.parametrize(
    "text",
    [
        "still waiting for a callback after 3 hours on hold",
        "been on hold for 45 minutes and then they hung up",
        "no one at the desk, been here an hour",
        "my flight got cancelled and nobody told me",
        "charged twice for the same seat, where is my money",
        "the app keeps crashing at checkout",
        "WHERE IS MY BAG",
        "missed my connection because of your delay #neveragain",
        "Why is my flight delayed again?",
        "can't check in online, the site is down",
    ],
)
def test_care_complaints_without_swear_words_are_negative(text: str) -> None:
    assert score_sentiment(text)[0] is Sentiment.NEGATIVE


@pytest.mark.parametrize(
    "text",
    [
        "Can I bring a stroller on board?",
        "Is the lounge in terminal 2 open before 6am?",
        "How many bags can I check on a basic fare?",
        "DM sent with my booking reference",
        "Flying to Lisbon on Friday",
    ],
)
def test_plain_questions_and_statements_stay_neutral(text: str) -> None:
    assert score_sentiment(text)[0] is Sentiment.NEUTRAL


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("the desk agent was not helpful in any way", Sentiment.NEGATIVE),
        ("no problem at all, thanks", Sentiment.POSITIVE),
        ("the seat wasn't comfortable", Sentiment.NEGATIVE),
        ("can't wait to fly with you again", Sentiment.POSITIVE),
    ],
)
def test_more_negation(text: str, sentiment: Sentiment) -> None:
    assert score_sentiment(text)[0] is sentiment


def test_shouting_and_intensifiers_make_it_stronger() -> None:
    calm = score_sentiment("the service was bad")[1]
    loud = score_sentiment("the service was SO BAD")[1]
    assert loud < calm < 0


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("thanks :)", Sentiment.POSITIVE),
        ("my bag :(", Sentiment.NEGATIVE),
        ("<3", Sentiment.POSITIVE),
    ],
)
def test_emoticons_count(text: str, sentiment: Sentiment) -> None:
    assert score_sentiment(text)[0] is sentiment


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("비행기가 세 시간째 지연되고 있는데 아무 안내도 없네요", Sentiment.NEGATIVE),
        ("고객센터 전화는 몇 시간째 연결이 안 되네요", Sentiment.NEGATIVE),
        ("답변 준다더니 일주일째 연락이 없어요", Sentiment.NEGATIVE),
        ("또 지연이네요 ㅡㅡ", Sentiment.NEGATIVE),
        ("위탁 수하물 무게 제한이 어떻게 되나요?", Sentiment.NEUTRAL),
        ("예약 번호 DM으로 보냈습니다", Sentiment.NEUTRAL),
        ("빠르게 환불 처리해 주셔서 고맙습니다", Sentiment.POSITIVE),
        ("승무원분들 정말 최고예요 👍", Sentiment.POSITIVE),
    ],
)
def test_korean_care_sentiment(text: str, sentiment: Sentiment) -> None:
    assert score_sentiment(text)[0] is sentiment


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("퍽이나 빨리 처리해 주시겠네요", Sentiment.NEGATIVE),
        ("와 정말 대단하시네요. 세 번 연속 지연 ㅋㅋ", Sentiment.NEGATIVE),
        ("감사합니다 덕분에 하루를 공항에서 날렸네요", Sentiment.NEGATIVE),
        ("친절하긴 했는데 결국 문제는 하나도 해결이 안 됐네요", Sentiment.NEGATIVE),
        ("지연됐지만 직원분들이 너무 친절하게 챙겨주셔서 괜찮았어요", Sentiment.POSITIVE),
        ("나쁘지 않았어요", Sentiment.POSITIVE),
    ],
)
def test_korean_sarcasm_contrast_and_negation(text: str, sentiment: Sentiment) -> None:
    assert score_sentiment(text)[0] is sentiment


# ---- noise: flagged with a reason, never dropped ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("HUGE giveaway!! RT and win https://t.co/abc", "promotional: “giveaway”"),
        ("nice pic, followback? #teamfollow #f4f", "promotional: “followback”"),
        ("Earn passive income with crypto https://t.co/abc", "promotional: “passive income”"),
        ("Best bitcoin signals here https://t.co/abc", "promotional: “bitcoin”"),
        (
            "#travel #deals #flights #cheap #holiday #sun https://t.co/abc",
            "spam: 6 hashtags and a link",
        ),
        ("@a1 @a2 @a3 @a4 @a5 @a6 @a7 look", "spam: tags 7 accounts"),
        ("CHEAP FLIGHTS NOW https://t.co/abc", "spam: all-caps post with a link"),
        ("check this https://t.co/abc", "bot-like: 0 followers and a link"),
        ("Win a trip. Win a trip. Win a trip.", "bot-like: repeats the same text"),
    ],
)
def test_noise_says_why(text: str, reason: str) -> None:
    assert noise_reason(make_mention(text)) == reason


def test_the_same_post_again_is_bot_like() -> None:
    earlier = ["Visit our page for the best travel tips https://t.co/1"]
    mention = make_mention("Visit our page for the best travel tips https://t.co/2", followers=300)
    assert noise_reason(mention, recent_texts=earlier) == "bot-like: repeats the same text"
    assert noise_reason(mention) is None


@pytest.mark.parametrize(
    "text",
    [
        "WORST AIRLINE EVER!!! 3 HOURS ON THE TARMAC #neveragain #skylarkfail",
        "@SkylarkAir @SkylarkHelp @SkylarkCEO @dot_gov @airportnews @consumerwatch cancelled again "
        "and nobody answers",
        "look at my suitcase, completely smashed https://t.co/photo1",
        "I need you to follow back so I can DM my booking reference",
        "STILL NO REFUND https://t.co/screenshot",
        "#delay #skylark #lhr #stuck #angry #hungry nobody tells us anything",
        "Where is my bag? https://t.co/photo2",
        "Loved the new lounge! https://t.co/photo3",
    ],
)
def test_ordinary_customers_are_not_noise(text: str) -> None:
    assert noise_reason(make_mention(text)) is None


def test_a_link_from_an_account_with_followers_is_not_bot_like() -> None:
    assert noise_reason(make_mention("check this https://t.co/abc", followers=120)) is None


def test_triage_with_noise_returns_both() -> None:
    result, noise = triage_with_noise(make_mention("HUGE giveaway!! https://t.co/abc"))
    assert result.priority is Priority.NORMAL
    assert noise == "promotional: “giveaway”"


# ---- priority: VIPs, thresholds, reasons ------------------------------------------------------


@pytest.mark.parametrize("vips", [{"Traveller"}, {"@traveller"}, ["TRAVELLER", "someone"]])
def test_vip_handles_match_with_or_without_at_in_any_case(vips: set[str] | list[str]) -> None:
    result = triage(make_mention("What time is boarding?"), vip_handles=frozenset(vips))
    assert "VIP" in result.reasons


def test_a_handle_that_is_not_listed_is_not_vip() -> None:
    result = triage(
        make_mention("What time is boarding?", handle="someone_else"), vip_handles={"vip"}
    )
    assert "VIP" not in result.reasons
    assert result.priority is Priority.NORMAL


def test_reach_thresholds_are_parameters() -> None:
    mention = make_mention("What time is boarding?", followers=2_000)
    assert triage(mention).reasons == ()
    lowered = triage(mention, high_reach=1_000, huge_reach=5_000)
    assert (lowered.priority, lowered.reasons) == (Priority.HIGH, ("2k followers",))
    huge = triage(mention, high_reach=500, huge_reach=1_500)
    assert (huge.priority, huge.reasons) == (Priority.URGENT, ("2k followers",))


@pytest.mark.parametrize(
    ("followers", "text"),
    [(1_800_000, "1.8M"), (250_000, "250k"), (12_500, "12.5k"), (10_000, "10k"), (950, "950")],
)
def test_follower_counts_read_like_people_write_them(followers: int, text: str) -> None:
    assert followers_text(followers) == text


def test_reasons_read_like_a_sentence_fragment_each() -> None:
    mention = make_mention(
        "Total outage, worst service ever, nobody answers!!", followers=1_800_000, handle="bigname"
    )
    priority, reasons = prioritise(
        mention, Sentiment.NEGATIVE, score=-0.9, vip_handles=frozenset({"bigname"})
    )
    assert priority is Priority.URGENT
    assert reasons == ("very negative", "urgent term “outage”", "1.8M followers", "VIP")


@pytest.mark.parametrize(
    "text", ["Please issue a new boarding pass", "My tissue pack was left on the plane"]
)
def test_urgent_terms_match_whole_words_only(text: str) -> None:
    assert not any(r.startswith("urgent term") for r in triage(make_mention(text)).reasons)


# ---- invisible characters (issue 15) ---------------------------------------------------------


def test_lexicons_read_through_zero_width_characters() -> None:
    """Regression: invisible characters inside words hid them from the triage lexicons."""
    plain = triage(make_mention("I want a refund, my lawyer will sue"))
    hidden = triage(make_mention("I want a re\u200bfund, my law\u00adyer will s\u2060ue"))
    assert (hidden.priority, hidden.reasons) == (plain.priority, plain.reasons)
    assert "asks for “refund”" in hidden.reasons
    assert score_sentiment("terr\u200bible ser\ufeffvice") == score_sentiment("terrible service")


def test_korean_crying_jamo_stay_negative_after_normalising() -> None:
    """NFKC would turn ㅠㅠ into conjoining jamo the lexicon does not know: they are kept."""
    assert score_sentiment("ㅠㅠ")[0] is Sentiment.NEGATIVE
    assert score_sentiment("so an\u200bgry 😡") == score_sentiment("so angry 😡")


def test_noise_reads_promotions_through_hidden_characters() -> None:
    assert (
        noise_reason(make_mention("Fo\u200bllow us for a gi\u200bveaway"))
        == "promotional: “giveaway”"
    )
