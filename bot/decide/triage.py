"""Triage a mention: language, sentiment, noise, priority. Pure (no I/O) and fast.

Language comes from the network when it says, else from the script (Hangul, kana, Han... decide
by themselves) and, for Latin-script text, from py3langid restricted to the care languages.
Sentiment is scored in ``bot.decide.sentiment`` and noise flagged in ``bot.decide.noise``.
Priority combines sentiment, urgency terms, the author's reach and a VIP list, with reasons.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from typing import Any

from bot.decide.noise import Terms, noise_reason
from bot.decide.sentiment import (
    score_sentiment,
)
from bot.decide.text import matchable
from bot.models import Mention, Priority, Sentiment, Triage

# ---- language ---------------------------------------------------------------------------------

_SCRIPTS = (
    ("ko", ((0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x3130, 0x318F))),
    ("ja", ((0x3040, 0x30FF),)),
    ("zh", ((0x4E00, 0x9FFF),)),
    ("ru", ((0x0400, 0x04FF),)),
    ("ar", ((0x0600, 0x06FF),)),
    ("th", ((0x0E00, 0x0E7F),)),
)
_HANDLES_LINKS = re.compile(r"@\w+|https?://\S+|&\w+;")
_LATIN_LETTERS = re.compile(r"[^\W\d_\u0370-\uffff]")
_SCRIPT_PATTERNS = tuple(
    (lang, re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges) + "]"))
    for lang, ranges in _SCRIPTS
)
# Latin-script languages py3langid chooses among; other scripts are decided by script_language.
CARE_LANGUAGES = ("en", "es", "fr", "de", "pt", "it")
MIN_LANGUAGE_CONFIDENCE = 0.5  # below this py3langid is guessing (one-word replies)


def detect_language(
    text: str, *, languages: Iterable[str] = CARE_LANGUAGES, fallback: str = "en"
) -> str:
    """ISO 639-1 code; "und" when there is nothing to go on.

    Non-Latin scripts decide by themselves (Hangul, kana, Han...). Latin-script text goes to
    py3langid restricted to ``languages``; when it is unsure (one-word replies such as "Sent",
    "Done", "Hello"), the answer is ``fallback``, the brand's main language.
    """
    cleaned = _HANDLES_LINKS.sub(" ", text).replace("#", " ")
    if script := script_language(cleaned):
        return script
    lang, confidence = _identifier(frozenset(languages)).classify(cleaned)
    return str(lang) if confidence >= MIN_LANGUAGE_CONFIDENCE else fallback


def script_language(text: str) -> str | None:
    """The language a non-Latin script gives away, "und" for no letters, None for Latin text."""
    text = _HANDLES_LINKS.sub(" ", text)
    if text.isascii():
        return None if any(c.isalpha() for c in text) else "und"
    latin = len(_LATIN_LETTERS.findall(text))
    counts = {lang: len(pattern.findall(text)) for lang, pattern in _SCRIPT_PATTERNS}
    if counts["ja"]:
        counts["ja"] += counts["zh"]  # kana appear only in Japanese; its kanji count for it too
    script, count = max(counts.items(), key=lambda kv: kv[1])
    if count and count * 4 >= latin:
        return script
    return None if latin else "und"


@functools.cache
def _identifier(languages: frozenset[str]) -> Any:
    """py3langid's model restricted to ``languages``; loaded on first use (about 0.5 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(languages))
    return identifier


# ---- sentiment: lexicons ----------------------------------------------------------------------
# "weight: term, term, ...". A trailing * adds -s/-es/-ed/-ing forms; phrases are matched token by
# token (punctuation is a token: "really ?"). Written by hand for care talk: no word or weight
# here was extracted from a data set.


# ---- sentiment: scoring -----------------------------------------------------------------------


# ---- whole-word term lists (urgency, promotion) -------------------------------------------------


# ---- noise ------------------------------------------------------------------------------------


# ---- priority ---------------------------------------------------------------------------------

_URGENT = (
    "outage", "down for", "hacked", "fraud", "stolen", "lawyer", "attorney", "legal", "lawsuit",
    "sue", "injured", "injury", "safety", "unsafe", "emergency", "police", "danger", "dangerous",
    "harassed", "harassment", "assaulted", "discrimination", "unauthorized", "data breach",
    "먹통", "장애", "해킹", "사기", "소송", "위험", "사고", "부상", "경찰",
)  # fmt: skip
_ACTION = ("refund", "cancel", "charged twice", "double charged", "chargeback", "환불", "취소")
_SENTIMENT_POINTS = {Sentiment.NEGATIVE: 0.5, Sentiment.NEUTRAL: 0.0, Sentiment.POSITIVE: -1.0}
VERY_NEGATIVE = -0.8  # sentiment score at or below which a post is "very negative"
HIGH_REACH = 10_000  # followers from which an author counts as high reach
HUGE_REACH = 250_000  # ... and as huge reach
_URGENT_TERMS = Terms(_URGENT)
_ACTION_TERMS = Terms(_ACTION)


def prioritise(
    mention: Mention,
    sentiment: Sentiment,
    *,
    score: float = 0.0,
    vip_handles: Iterable[str] = frozenset(),
    high_reach: int = HIGH_REACH,
    huge_reach: int = HUGE_REACH,
) -> tuple[Priority, tuple[str, ...]]:
    """Priority and the reasons for it, so the card can say why.

    Points: 1 to start; negative +0.5 (very negative +0.5 more), positive -1; an urgent term +2;
    asking for a refund or cancellation +0.5; reach +1 (``high_reach`` followers, or verified) or
    +2 (``huge_reach``, or verified with ``high_reach``); a VIP +2. 0 low, 1 normal, 2 high,
    3 or more urgent.
    """
    text = matchable(mention.text).lower()
    reasons: list[str] = []
    points = 1.0 + _SENTIMENT_POINTS[sentiment]
    if score <= VERY_NEGATIVE:
        points += 0.5
        reasons.append("very negative")
    if urgent := _URGENT_TERMS.find(text):
        points += 2
        reasons.append(f"urgent term “{urgent}”")
    if action := _ACTION_TERMS.find(text):
        points += 0.5
        reasons.append(f"asks for “{action}”")
    points += _reach(mention, reasons, high_reach=high_reach, huge_reach=huge_reach)
    if _is_vip(mention.author.handle, vip_handles):
        points += 2
        reasons.append("VIP")
    levels = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
    return levels[max(0, min(3, math.floor(points)))], tuple(reasons)


def _reach(mention: Mention, reasons: list[str], *, high_reach: int, huge_reach: int) -> int:
    followers, verified = mention.author.followers, mention.author.verified
    said = f"{followers_text(followers)} followers"
    if followers >= huge_reach or (verified and followers >= high_reach):
        reasons.append(f"verified, {said}" if verified else said)
        return 2
    if followers >= high_reach or verified:
        reasons.append("verified" if verified else said)
        return 1
    return 0


def _is_vip(handle: str, vip_handles: Iterable[str]) -> bool:
    handle = handle.lstrip("@").lower()
    return bool(handle) and any(handle == vip.lstrip("@").lower() for vip in vip_handles)


def followers_text(followers: int) -> str:
    """1,800,000 -> "1.8M"; 250,000 -> "250k"; 12,500 -> "12.5k"; 950 -> "950"."""
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if followers >= size:
            return f"{followers / size:.1f}".removesuffix(".0") + unit
    return str(followers)


def triage(
    mention: Mention,
    *,
    vip_handles: Iterable[str] = frozenset(),
    high_reach: int = HIGH_REACH,
    huge_reach: int = HUGE_REACH,
) -> Triage:
    """Language (the network's when it says), sentiment, and priority with its reasons."""
    lang = mention.lang if mention.lang and mention.lang != "und" else detect_language(mention.text)
    sentiment, score = score_sentiment(mention.text)
    priority, reasons = prioritise(
        mention,
        sentiment,
        score=score,
        vip_handles=vip_handles,
        high_reach=high_reach,
        huge_reach=huge_reach,
    )
    return Triage(lang, sentiment, score, priority, reasons)


def triage_with_noise(
    mention: Mention,
    *,
    vip_handles: Iterable[str] = frozenset(),
    high_reach: int = HIGH_REACH,
    huge_reach: int = HUGE_REACH,
) -> tuple[Triage, str | None]:
    """triage() and noise_reason() together: the card's facts, and why it may be spam (or None)."""
    result = triage(mention, vip_handles=vip_handles, high_reach=high_reach, huge_reach=huge_reach)
    return result, noise_reason(mention)
