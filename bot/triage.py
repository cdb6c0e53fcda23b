"""Triage a mention: language, sentiment, priority. Pure and fast; first version.

Language comes from the network when it says, else from the script and common words. Sentiment is
a small lexicon tuned for customer-care talk (delays, refunds, "still waiting") in English and
Korean, with negation. Priority combines sentiment, urgency terms and the author's reach.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from bot.models import Mention, Priority, Sentiment, Triage

_WORD = re.compile(r"[\w']+|[^\w\s]", re.UNICODE)
_SCRIPTS = (
    ("ko", ((0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x3130, 0x318F))),
    ("ja", ((0x3040, 0x30FF),)),
    ("zh", ((0x4E00, 0x9FFF),)),
    ("ru", ((0x0400, 0x04FF),)),
    ("ar", ((0x0600, 0x06FF),)),
    ("th", ((0x0E00, 0x0E7F),)),
)
_STOPWORDS = {
    "en": "the and is to my for of it you not your this was have with on are i me",
    "es": "el la de que y en los por no mi para es una con las del se",
    "fr": "le la les de et est pas je mon pour une des que vous un avec",
    "de": "der die und ist nicht ich mein das ein mit für sie auf zu den",
    "pt": "o a de que e não meu para uma com os do da é por",
}
_STOPS = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}

_NEGATIVE = {
    # English, weights in points; care-specific phrases first
    "still waiting": 2.0,
    "no response": 2.0,
    "no reply": 1.5,
    "on hold": 1.5,
    "never again": 2.5,
    "not happy": 2.0,
    "waste of": 2.0,
    "ridiculous": 2.0,
    "worst": 2.5,
    "terrible": 2.5,
    "awful": 2.5,
    "horrible": 2.5,
    "disgusting": 2.5,
    "useless": 2.0,
    "unacceptable": 2.5,
    "angry": 2.0,
    "furious": 2.5,
    "disappointed": 2.0,
    "frustrated": 2.0,
    "frustrating": 2.0,
    "annoyed": 1.5,
    "delayed": 1.5,
    "delay": 1.0,
    "cancelled": 1.5,
    "canceled": 1.5,
    "late": 1.0,
    "lost": 1.5,
    "broken": 1.5,
    "refund": 1.0,
    "charged": 1.0,
    "scam": 2.5,
    "rude": 2.0,
    "fail": 1.5,
    "failed": 1.5,
    "fails": 1.5,
    "wrong": 1.0,
    "missing": 1.0,
    "stuck": 1.5,
    "hours": 0.5,
    "again": 0.5,
    "why": 0.5,
    "bad": 1.5,
    "hate": 2.5,
    "sucks": 2.5,
    "down": 0.5,
    "outage": 2.0,
    "can't": 0.5,
    "cannot": 0.5,
    "won't": 0.5,
    "doesn't": 0.5,
    "nobody": 1.0,
    "ignored": 2.0,
    "wtf": 2.0,
    "seriously": 1.0,
    "joke": 1.5,
    "ugh": 1.5,
    # Korean
    "최악": 2.5,
    "환불": 1.0,
    "지연": 1.5,
    "취소": 1.0,
    "불만": 2.0,
    "화나": 2.0,
    "짜증": 2.0,
    "실망": 2.0,
    "언제": 0.5,
    "아직": 1.0,
    "연락": 0.5,
    "답변": 0.5,
    "안되": 1.5,
    "안 되": 1.5,
    "못": 0.5,
    "분실": 1.5,
    "고장": 1.5,
    "엉망": 2.0,
    "황당": 2.0,
    "어이없": 2.0,
    "ㅡㅡ": 1.5,
}
_POSITIVE = {
    "thank": 2.0,
    "thanks": 2.0,
    "thx": 1.5,
    "love": 2.0,
    "great": 2.0,
    "awesome": 2.5,
    "amazing": 2.5,
    "excellent": 2.5,
    "best": 1.5,
    "happy": 1.5,
    "appreciate": 2.0,
    "helpful": 2.0,
    "perfect": 2.0,
    "wonderful": 2.5,
    "fantastic": 2.5,
    "kudos": 2.0,
    "good": 1.0,
    "nice": 1.0,
    "smooth": 1.5,
    "friendly": 1.5,
    "quick": 1.0,
    "glad": 1.5,
    "감사": 2.0,
    "고마": 2.0,
    "좋아": 1.5,
    "최고": 2.5,
    "친절": 2.0,
    "만족": 2.0,
    "덕분": 1.5,
}
_EMOJI = {
    "😡": -2.5,
    "🤬": -3.0,
    "😤": -2.0,
    "😠": -2.0,
    "👎": -2.0,
    "😞": -1.5,
    "😢": -1.0,
    "🙄": -1.5,
    "❤": 2.0,
    "😍": 2.5,
    "🙏": 1.0,
    "👍": 1.5,
    "😊": 1.5,
    "🎉": 1.5,
    "💯": 1.0,
}
_NEGATORS = {"not", "no", "never", "isn't", "wasn't", "don't", "didn't", "안", "못"}
_URGENT = (
    "outage",
    "down for",
    "hacked",
    "fraud",
    "stolen",
    "lawyer",
    "legal",
    "lawsuit",
    "sue",
    "injured",
    "injury",
    "safety",
    "unsafe",
    "emergency",
    "police",
    "danger",
    "먹통",
    "장애",
    "해킹",
    "사기",
    "소송",
    "위험",
    "사고",
)
_ACTION = ("refund", "cancel", "charged twice", "double charged", "chargeback", "환불", "취소")
_SENTIMENT_POINTS = {Sentiment.NEGATIVE: 0.5, Sentiment.NEUTRAL: 0.0, Sentiment.POSITIVE: -1.0}
VERY_NEGATIVE = -0.6
HIGH_REACH = 10_000
HUGE_REACH = 250_000


def detect_language(text: str) -> str:
    """ISO 639-1 code from script and common words; "und" when there is nothing to go on."""
    counts = {lang: 0 for lang, _ in _SCRIPTS}
    latin = 0
    for char in text:
        code = ord(char)
        if char.isascii() and char.isalpha():
            latin += 1
            continue
        for lang, ranges in _SCRIPTS:
            if any(low <= code <= high for low, high in ranges):
                counts[lang] += 1
                break
    if counts["ja"]:
        counts["ja"] += counts["zh"]  # kana appear only in Japanese; its kanji count for it too
    script, count = max(counts.items(), key=lambda kv: kv[1])
    if count and count * 2 >= latin * 0.5:
        return script
    return _latin_language(text) if latin else "und"


def _latin_language(text: str) -> str:
    words = [w for w in _WORD.findall(text.lower()) if not w.startswith("@")]
    votes = {lang: sum(w in stops for w in words) for lang, stops in _STOPS.items()}
    best = max(votes.items(), key=lambda kv: (kv[1], kv[0] == "en"))
    return best[0] if best[1] else "en"


def score_sentiment(text: str) -> tuple[Sentiment, float]:
    """(label, score in -1..1) from the care lexicon, with simple negation."""
    lowered = re.sub(r"@\w+|https?://\S+", " ", text.lower())
    points = _phrase_points(lowered) + sum(v for e, v in _EMOJI.items() if e in text)
    points -= 0.5 * lowered.count("!!")
    score = math.tanh(points / 4.0)
    if score <= -0.15:
        return Sentiment.NEGATIVE, round(score, 3)
    if score >= 0.25:
        return Sentiment.POSITIVE, round(score, 3)
    return Sentiment.NEUTRAL, round(score, 3)


def _lexicon_pattern(terms: Iterable[str]) -> re.Pattern[str]:
    """One alternation for all terms, longest first; Latin terms must start at a word boundary."""
    ordered = sorted(terms, key=len, reverse=True)
    parts = [
        rf"\b{re.escape(t)}(?:s|es|ed|d|ing)?\b" if t.isascii() else re.escape(t) for t in ordered
    ]
    return re.compile("|".join(parts))


_LEXICON = {**{t: -w for t, w in _NEGATIVE.items()}, **_POSITIVE}
_LEXICON_PATTERN = _lexicon_pattern(_LEXICON)
_URGENT_PATTERN = _lexicon_pattern(_URGENT)
_ACTION_PATTERN = _lexicon_pattern(_ACTION)


def _phrase_points(lowered: str) -> float:
    points = 0.0
    for found in _LEXICON_PATTERN.finditer(lowered):
        flip = -1.0 if _negated(lowered, found.start()) else 1.0
        points += _lexicon_weight(found.group(0)) * flip
    return points


def _lexicon_weight(word: str) -> float:
    """Weight of a matched term, allowing the simple endings the pattern accepts."""
    if word in _LEXICON:
        return _LEXICON[word]
    for ending in ("ing", "ed", "es", "s", "d"):
        if word.endswith(ending) and word[: -len(ending)] in _LEXICON:
            return _LEXICON[word[: -len(ending)]]
    return 0.0


def _negated(text: str, position: int) -> bool:
    before = _WORD.findall(text[max(0, position - 20) : position])[-3:]
    return any(word in _NEGATORS for word in before)


def prioritise(
    mention: Mention,
    sentiment: Sentiment,
    *,
    score: float = 0.0,
    vip_handles: frozenset[str] = frozenset(),
) -> tuple[Priority, tuple[str, ...]]:
    """Priority and the reasons for it, so the card can say why."""
    text = mention.text.lower()
    reasons: list[str] = []
    points = 1.0 + _SENTIMENT_POINTS[sentiment]
    if score <= VERY_NEGATIVE:
        points += 0.5
        reasons.append("very negative")
    if urgent := _URGENT_PATTERN.search(text):
        points += 2
        reasons.append(f"urgent term “{urgent.group(0)}”")
    if action := _ACTION_PATTERN.search(text):
        points += 0.5
        reasons.append(f"asks for “{action.group(0)}”")
    reach = mention.author.followers
    if reach >= HUGE_REACH or (mention.author.verified and reach >= HIGH_REACH):
        points += 2
        reasons.append(f"high reach ({reach:,} followers)")
    elif reach >= HIGH_REACH or mention.author.verified:
        points += 1
        reasons.append("verified" if mention.author.verified else f"{reach:,} followers")
    if mention.author.handle.lower() in vip_handles:
        points += 2
        reasons.append("VIP")
    levels = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
    return levels[max(0, min(3, math.floor(points)))], tuple(reasons)


def triage(mention: Mention, *, vip_handles: frozenset[str] = frozenset()) -> Triage:
    lang = mention.lang if mention.lang and mention.lang != "und" else detect_language(mention.text)
    sentiment, score = score_sentiment(mention.text)
    priority, reasons = prioritise(mention, sentiment, score=score, vip_handles=vip_handles)
    return Triage(lang, sentiment, score, priority, reasons)
