"""Triage a mention: language, sentiment, noise, priority. Pure (no I/O) and fast.

Language comes from the network when it says, else from the script (Hangul, kana, Han... decide
by themselves) and, for Latin-script text, from py3langid restricted to the care languages.

Sentiment is a lexicon written for customer-care talk in English and Korean: weighted words and
phrases (delays, refunds, "still waiting", "no one answers"), negation, intensifiers and shouting,
contrast ("but", "-지만"), questions, sarcasm ("thanks for nothing", "great, another delay",
"love being stuck", 🙄, "/s", "퍽이나"), emoji and emoticons, and a prior that leans negative,
because people rarely mention a brand's care account to say nothing is wrong.

Noise flags spam and bot-like posts with a short reason; they stay visible, never dropped.
Priority combines sentiment, urgency terms, the author's reach and a VIP list, with reasons.
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Iterable
from typing import Any

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

_ENGLISH = """
-3.0: fuck, fucking, fucked, worst, horrible, horrendous, terrible, awful, atrocious, appalling,
      abysmal, disgusting, disgraceful, disgrace, pathetic, unacceptable, inexcusable, outrageous,
      nightmare, sucks, hate*, furious, livid, incompetent, incompetence, scam*, never again,
      neveragain, fml, wtf, thanks for nothing, thank you for nothing, worst experience,
      shame on you
-2.5: ridiculous, absurd, useless, clueless, rude, rudest, rudely, shameful, crap, crappy, shit,
      shitty, bullshit, bs, lousy, liar*, lied, lying, screwed, ruined, miserable, horrid,
      disappointed, disappointing, disappointment, frustrated, frustrating, frustration, angry,
      pissed, upset, annoyed, annoying, infuriating, unprofessional, unhelpful, inconsiderate,
      nonsense, garbage, trash, embarrassing, insulting, disgusted, ugh, smh, fed up, sick of,
      tired of, had enough, rip off, ripoff, ripped off, are you kidding, you're kidding,
      kidding me, what the hell, what gives, no excuse, joke, a joke, suck, sucked, hell,
      don't care, doesn't care, give a damn, no clue, makes no sense, doesn't make sense,
      dissatisfied, substandard, screw*, screwing, condescending, condescension, reek*,
      false advertising, what good is, learned my lesson
-2.0: fail*, failure, bad, poor, poorly, worse, broken, broke, damaged, destroyed, dirty, filthy,
      lose*, smashed, ripped, torn, cracked, dented, smelly, stuck, stranded, lost, missing,
      stolen, overbooked, oversold, bumped, overcharged, double charged, charged twice, ignored,
      ignoring, ignore, hung up, hang up, hangs up, disconnected, no response, no reply,
      no answer, no help, no one, nobody, no callback, no communication, no information, no info,
      no update, no updates, no explanation, no apology, unable, impossible, refuse*, refusing,
      denied, excuses, mess, chaos, disaster, waste, wasted, wasting, complain*, complaint*,
      misleading, unfair, unhappy, stressful, hassle, headache, uncomfortable, cramped, mad, sad,
      cancelled, canceled, cancellation*, come on, not happy, not impressed, not acceptable,
      not ok, not okay, stink*, greed, impolite, understaffed, inconvenience*, inconvenient,
      forced, damn, given up, give up
-1.5: delay*, late, diverted, missed, miss, misconnect*, downgraded, rebooked, on hold,
      on the tarmac, tarmac, overpriced, greedy, error*, glitch*, crash*, outage, wrong, mistake*,
      fault, blame, confusing, confused, slow, forever, still, yet again, once again, as usual,
      typical, every time, how hard, how difficult, what's the point, apparently, supposedly,
      supposed to, no way, lack, lacking, lack of, worried, stressed, cold, why, how is this,
      how is it, how come, really ?, really ?!, please help, nothing, not even, anymore,
      not working, doesn't work, won't work, can't get, can't even, penalty, not possible, sigh,
      harder, pity, misguided, let alone, not enough, unnerving, awkward, no idea, not so much,
      how does that, unreachable, dead air, down
-1.0: seriously, where is my, hours, hrs, hr, hour, mins, days, weeks, refund*, compensation,
      compensate, charged, fee, fees, problem*, issue*, cancel, hold, wait, waiting, waited,
      rebook, standby, expensive, zero, never, trying, tried, unanswered, excuse, told, kept,
      keeps, line, lines, even, only, any help, anyone, someone, sitting, last minute, minutes,
      fix, wish, hard
-0.7: again
-0.5: please, help, need, voucher*, min, customer service
+0.0: kind of, sort of, a bit, bit of
+0.5: delivered, ok, okay, fine, alright, safe, worked, better, lol, haha, hahaha, wow, resolved,
      sorted, fixed, hope
+1.0: found, with you again, good, nice, cool, quick, quickly, fast, easy, early, on time,
      made it, got home, professional, worth, worth it, deal, free, upgrade, upgraded, no problem,
      no worries, no issues, no complaints, ty, luv, glad to hear, your help, the help,
      for helping
+1.5: not bad, friendly, smooth, pleasant, comfortable, comfy, courteous, efficient, attentive,
      sweet, fun, beautiful, beautifully, gorgeous, stunning, pleased, glad, happy, enjoy*,
      enjoyed, excited, yay, woohoo, hooray, kind, kindness, safely, helpful, hero, heroes, rock,
      rocks, rocked, favorite, favourite, recommend*, props, congrats, congratulations,
      looking forward, can't wait, cannot wait, impressed, impressive, xoxo, love flying, classy,
      fav, faves, praise, crisis averted, solved, a +, made up for
+2.0: thank*, thanks, thx, thnx, thanx, thankyou, tyvm, tks, appreciate*, grateful, thankful,
      great, perfect, perfectly, lovely, delighted, shout out, shoutout, well done, good job,
      great job, nice job, best, love*, loved, fabulous, fab, rockstar, rockstars, brilliant,
      won me over, kicked butt, kicking butt, kicked ass
+3.0: amazing, awesome, excellent, fantastic, wonderful, outstanding, superb, phenomenal,
      incredible, exceptional, kudos, bravo, above and beyond, lifesaver, life saver, top notch,
      five stars, 5 stars, best airline, best service, can't thank you enough,
      couldn't be happier, thank you so much, thanks so much, made my day, keep up the good work,
      extra mile
"""

# Korean matches by stem: a word counts when it starts with one of these (최악이에요 -> 최악).
_KOREAN = """
-3.0: 최악, 형편없, 퍽이나, 어이없, 황당, 개판, 엉망
-2.5: 불친절, 짜증, 화나, 화가, 열받, 실망, 불만, 분노, 어처구니, 기가 막, 말이 되
-2.0: 결항, 분실, 잃어버, 파손, 부서, 깨졌, 망가, 놓쳤, 놓치, 사라졌, 멋대로, 무시, 불편, 피해,
      커녕, 엉터리, 답답, 억울, 하나도, 몇 번을, 날렸, 날려, 고장, 먹통, 나쁘, 나빠, 나빴
-1.5: 지연, 아직도, 연착, 취소, 오류, 에러, 문제, 늦, 안되, 안 되, 안돼, 안 돼, 안됐, 안 됐, 이럴,
      ㅡㅡ, 시간 넘게, 분 넘게
-1.0: 환불, 보상, 아직, 또, 대기, 기다리, 기다렸, 결국, 태도, 왜, 빨리, 제발, 길어, 길었
-0.5: 언제, 계속, 연락, 답변, 확인 좀, ㅠㅠ, ㅜㅜ
+1.0: 문제없, 문제 없, 괜찮, 해결됐, 해결되었, 해결해, 무사히, 빠르, 빨라, 편했, 편하, 챙겨주,
      찾아주, ㅎㅎ, 덕분
+1.5: 좋, 맛있, 대박, 추천, 편안, 기뻐, 기쁘, 다행
+2.0: 감사, 고맙, 고마, 친절, 만족, 감동, 사랑, 멋지, 멋있
+2.5: 최고, 훌륭, 완벽
"""

_EMOJI = {
    "😡": -2.5, "🤬": -3.0, "😤": -2.0, "😠": -2.0, "👎": -2.0, "😞": -1.5, "😢": -1.5,
    "😭": -1.5, "😩": -2.0, "😫": -2.0, "😒": -2.0, "😑": -1.5, "😣": -1.5, "😖": -1.5,
    "🙄": -2.5, "🤦": -2.0, "💩": -2.0, "😱": -1.0, "😕": -1.0, "🙁": -1.5, "☹": -1.5,
    "💔": -2.0, "😔": -1.5, "😓": -1.0, "😪": -1.0, "😬": -0.5, "🤔": -0.5,
    "❤": 2.0, "♥": 2.0, "💙": 2.0, "💜": 2.0, "💚": 2.0, "😍": 2.5, "🥰": 2.5, "😘": 2.0,
    "🙏": 1.0, "👍": 1.5, "👏": 2.0, "🙌": 2.0, "😊": 2.0, "☺": 2.0, "🙂": 1.0, "😀": 1.5,
    "😃": 1.5, "😄": 1.5, "😁": 1.5, "😎": 1.5, "🎉": 1.5, "💯": 1.0, "✨": 1.0, "👌": 1.5,
    "emopos": 1.5, "emoneg": -2.0,
}  # fmt: skip
_EMOTICONS = (
    (re.compile(r"(?<![\w/])(?:[:=;]['-]?[)\]dDpP3]|\^\^|\^_\^)(?![\w/])"), " emopos "),
    (re.compile(r"(?<![\w/])(?:[:=]['-]?[(\[/\\|]|:'\()(?![\w/])"), " emoneg "),
    (re.compile(r"<3"), " ❤ "),
)
_NEGATORS = frozenset(
    """not no never none nor neither without hardly barely cannot can't cant don't dont didn't
    didnt doesn't doesnt isn't isnt wasn't wasnt aren't arent weren't werent won't wont wouldn't
    wouldnt couldn't couldnt shouldn't shouldnt haven't havent hasn't hasnt hadn't hadnt ain't
    안 못""".split()
)
_INTENSIFIERS = frozenset(
    """so very really extremely super totally absolutely completely incredibly truly highly
    too such most soo seriously beyond utterly insanely ridiculously 너무 정말 진짜 완전 엄청 매우
    아주 참 넘 훨씬""".split()
)
_CONTRAST = frozenset("but however though except nevertheless 하지만 그런데 근데 그러나".split())
_CLAUSE_END = frozenset(". .. ... , ; ! !! !!! ? ?? ??? ?! … : - ( ) #".split())
LACK = 0.6  # "can't", "didn't", "no": something the customer expected did not happen
# Frames that turn the positive word before them sarcastic when the post is a complaint.
_SARCASTIC_AFTER = frozenset(
    "how that when being waiting sitting spending standing paying getting having hearing".split()
)
_SARCASTIC_BEFORE = frozenset("oh just gotta yeah real".split())
# Praise words that open a sarcastic sentence: "Great, another delay." "Perfect. Just perfect."
_PRAISE = frozenset(
    "great perfect wonderful awesome fantastic nice lovely brilliant excellent amazing".split()
)
_HASHTAG_PARTS = (
    ("nothappy", -2.5), ("notcool", -2.0), ("notimpressed", -2.0), ("fail", -2.0),
    ("suck", -2.5), ("worst", -3.0), ("never", -2.0), ("unacceptable", -3.0), ("disappoint", -2.5),
    ("shame", -2.0), ("ugh", -2.0), ("fml", -2.5), ("smh", -2.0), ("angry", -2.0), ("delay", -1.5),
    ("stuck", -2.0), ("stranded", -2.0), ("awesome", 3.0), ("amazing", 3.0), ("love", 2.0),
    ("best", 2.0), ("thank", 2.0), ("great", 2.0), ("happy", 1.5), ("kudos", 2.5),
)  # fmt: skip
_PRAISE_JOB = frozenset(("great job", "good job", "nice job", "well done", "way to go"))
# Markers that make every bit of praise in the post sarcastic. "so much for" only opening a clause
# ("So much for priority boarding", not "thank you guys so much for the help").
_SARCASM_MARKERS = (
    ("yeah", "right"), ("so", "much", "for"), ("/s",), ("#", "not"), ("surprise", "surprise"),
    ("what", "a", "surprise"), ("big", "surprise"), ("shocker",), ("nice", "try"),
    ("real", "professional"), ("🙄",),
)  # fmt: skip
# Korean praise that is sarcastic inside a complaint: 정말 대단하시네요, 참 잘하시네요.
_KOREAN_SARCASTIC = ("대단하시", "대단하네", "잘하시", "잘하네", "잘한다", "훌륭하시네")
_KOREAN_THANKS = ("덕분", "감사", "고맙")


def _inflections(word: str) -> tuple[str, ...]:
    """-s, -es, -d, -ed and -ing forms: delay -> delays, delayed, delaying."""
    base = word[:-1] if word.endswith("e") else word
    return word + "s", word + "es", word + "d", word + "ed", base + "ing"


def _parse_lexicon(spec: str) -> dict[str, float]:
    """The weight table from the specs above, with inflected forms for starred words."""
    lexicon: dict[str, float] = {}
    for block in re.split(r"\n(?=[+-]\d)", spec.strip()):
        weight, terms = block.split(":", 1)
        for raw in terms.replace("\n", " ").split(","):
            term = " ".join(_tokens(raw.strip().rstrip("*"))[0])
            lexicon[term] = float(weight)
            if raw.strip().endswith("*"):
                for form in _inflections(term):
                    lexicon.setdefault(form, float(weight))
    return lexicon


_TOKEN = re.compile(
    r"(?<![\w/])/s(?![\w/])"  # the sarcasm tag "/s"
    r"|[a-z][a-z'’]*|\d+(?:[.:,]\d+)?"  # words, numbers
    r"|[\uac00-\ud7a3]+|[\u3131-\u318e]+"  # Hangul words; jamo runs (ㅠㅠ, ㅡㅡ)
    r"|[!?]+|\.+|[^\w\s]",  # punctuation runs; any other symbol (emoji) alone
    re.IGNORECASE,
)
_ELONGATED = re.compile(r"(\w)\1{2,}")
_CLEANUP = re.compile(r"@\w+|https?://\S+|\bwww\.\S+")


def _tokens(text: str) -> tuple[list[str], set[int]]:
    """Lower-cased tokens and the positions of shouted (ALL CAPS) words, read from the
    ``matchable`` form (nothing invisible splits a word)."""
    text = html.unescape(_CLEANUP.sub(" ", matchable(text))).replace("’", "'")
    for pattern, replacement in _EMOTICONS:
        text = pattern.sub(replacement, text)
    tokens: list[str] = []
    shouted: set[int] = set()
    for found in _TOKEN.findall(_ELONGATED.sub(r"\1\1", text)):  # soooo -> soo
        if len(found) > 3 and found.isupper() and found.isascii():
            shouted.add(len(tokens))
        word = found.lower()
        if word[0] in "!?" and len(word) > 1:
            word = "?!" if "?" in word and "!" in word else word[0] * min(len(word), 3)
        tokens.append(word)
    return tokens, shouted


_LEXICON = {**_parse_lexicon(_ENGLISH), **_EMOJI}
_KOREAN_STEMS = _parse_lexicon(_KOREAN)
_PHRASE_STARTS = frozenset(term.split()[0] for term in _LEXICON if " " in term)
_PHRASE_SIZES = range(max(term.count(" ") for term in _LEXICON) + 1, 1, -1)
_KOREAN_PHRASES = {term: weight for term, weight in _KOREAN_STEMS.items() if " " in term}
_MARKER_STARTS = frozenset(marker[0] for marker in _SARCASM_MARKERS)
_MARKERS = frozenset(_SARCASM_MARKERS)

# ---- sentiment: scoring -----------------------------------------------------------------------

NEGATIVE_PRIOR = -0.4  # care mentions lean negative: no signal at all is still a little negative
NEGATIVE_AT = -0.9  # points at or below: negative
POSITIVE_AT = 1.0  # points at or above: positive
POLITENESS = 0.6  # weight of praise in a post with a clear complaint
QUESTION = 0.75  # weight of complaint words in a question


def score_sentiment(text: str) -> tuple[Sentiment, float]:
    """(label, score in -1..1): care lexicon with negation, contrast, questions and sarcasm."""
    points = sentiment_points(text)
    score = round(math.tanh(points / 4.0), 3)
    if points <= NEGATIVE_AT:
        return Sentiment.NEGATIVE, score
    if points >= POSITIVE_AT:
        return Sentiment.POSITIVE, score
    return Sentiment.NEUTRAL, score


@functools.lru_cache(maxsize=256)  # triage() and noise_reason() score the same post in a row
def sentiment_points(text: str) -> float:
    """Signed evidence before squashing: below zero leans negative, above leans positive."""
    tokens, shouted = _tokens(text)
    tally = _Tally()
    _walk(tokens, shouted, tally)
    return round(tally.total(tokens), 6)


class _Tally:
    """Positive and negative evidence, kept apart so contrast and sarcasm can reweigh them."""

    __slots__ = ("ends_negative", "negative", "positive", "sarcasm", "sarcastic_positive")

    def __init__(self) -> None:
        self.positive = 0.0
        self.negative = 0.0
        self.sarcastic_positive = 0.0  # positive words in a sarcastic frame
        self.sarcasm = False  # an explicit marker: "yeah right", "/s", 🙄
        self.ends_negative = False  # the last weighty word was a complaint

    def add(self, value: float) -> None:
        if abs(value) >= 1.0:
            self.ends_negative = value < 0
        if value > 0:
            self.positive += value
        else:
            self.negative -= value

    def contrast(self) -> None:
        """Before "but", both sides count for less: what follows is what the customer means."""
        self.positive *= 0.4
        self.negative *= 0.4
        self.sarcastic_positive *= 0.4

    def total(self, tokens: list[str]) -> float:
        positive, negative = self.positive, self.negative
        if self.sarcasm or (self.sarcastic_positive and negative >= 1.0):
            moved = positive if self.sarcasm else min(positive, self.sarcastic_positive)
            positive, negative = positive - moved, negative + moved + 1.0
        elif negative >= 2.0 and positive and self.ends_negative:
            positive *= POLITENESS  # "thanks" before a complaint is manners, not praise
        if "?" in tokens or "??" in tokens:
            negative *= QUESTION  # a question asks; it complains less than a statement
        if "?!" in tokens or "???" in tokens:
            negative += 1.0  # exasperation
        elif negative > positive and "!!!" in tokens:
            negative += 1.0
        return positive - negative + NEGATIVE_PRIOR


def _walk(tokens: list[str], shouted: set[int], tally: _Tally) -> None:
    """One pass over the tokens, phrases first, with negation, intensifiers and contrast."""
    negation = boost = 0  # tokens left in the scope of "not" / "very"
    weight = 1.0  # less for the word after "although", "despite"
    last = 0.0  # the previous token's value, for Korean negation that follows its word
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if token in _MARKER_STARTS and _sarcasm_marker(tokens, position):
            tally.sarcasm = True
        value, size = _lookup(tokens, position)
        if value:
            value *= (1.5 if position in shouted else 1.0) * (1.5 if boost else 1.0)
            boost = 0
            if negation:
                value, negation = -value * (0.8 if value > 0 else 0.5), 0
                tally.negative = max(0.0, tally.negative - LACK)  # not a lack after all
            if value > 0 and _sarcastic_frame(tokens, position, size):
                tally.sarcastic_positive += value * weight
            tally.add(value * weight)
            weight = 1.0  # "despite the delay ...": the discount was for that one word
        elif token in _NEGATORS:
            negation = 4
            tally.add(-LACK)
        elif token in _INTENSIFIERS:
            boost = 3
        elif token[0] in "않없":  # Korean negation after its word: 좋지 않다, 연락이 없다
            tally.add(-last * (1.8 if last > 0 else 1.75) if last else -1.0)
        elif token in _CLAUSE_END:
            negation = boost = 0
            weight = 1.0
        elif token in ("although", "despite", "spite"):
            weight = 0.5
        if token in _CONTRAST or token.endswith("지만"):
            tally.contrast()
            weight = 1.0
        last = value
        position += size
        negation, boost = max(0, negation - size), max(0, boost - size)


def _lookup(tokens: list[str], position: int) -> tuple[float, int]:
    """(weight, tokens used) of the longest lexicon entry starting here, or (0, 1)."""
    token = tokens[position]
    if token in _PHRASE_STARTS:
        for size in _PHRASE_SIZES:
            phrase = " ".join(tokens[position : position + size])
            if phrase in _LEXICON:
                return _LEXICON[phrase], size
    if token in _LEXICON:
        return _LEXICON[token], 1
    if position and tokens[position - 1] == "#":
        return _hashtag(token), 1
    if "\uac00" <= token[0] <= "\ud7a3" or token[0] in "ㅡㅠㅜㅎ":
        return _korean(tokens, position)
    return 0.0, 1


def _hashtag(tag: str) -> float:
    """Run-together hashtags: #neverflyingagain, #customerservicefail, #bestcrewever."""
    for part, weight in _HASHTAG_PARTS:
        if part in tag:
            return weight
    return 0.0


def _korean(tokens: list[str], position: int) -> tuple[float, int]:
    """Korean words carry particles and endings, so stems match the start of a word."""
    pair = " ".join(tokens[position : position + 2])
    for phrase, weight in _KOREAN_PHRASES.items():
        if pair.startswith(phrase):
            return weight, 2
    token = tokens[position]
    for size in range(min(len(token), 4), 0, -1):
        if token[:size] in _KOREAN_STEMS:
            return _KOREAN_STEMS[token[:size]], 1
    if token.startswith(_KOREAN_SARCASTIC):
        return 1.5, 1
    return (-1.0 if token.endswith("째") else 0.0), 1  # 세 시간째: for three hours now


def _sarcasm_marker(tokens: list[str], position: int) -> bool:
    if tokens[position] == "so" and position and tokens[position - 1] not in _CLAUSE_END:
        return False
    return any(tuple(tokens[position : position + size]) in _MARKERS for size in (1, 2, 3))


def _sarcastic_frame(tokens: list[str], position: int, size: int) -> bool:
    """Praise in a sarcastic frame: "oh great", "love being stuck", "great, another delay",
    "thanks for the 3 hour delay". Only counts when the post as a whole is a complaint."""
    word = tokens[position]
    end = position + size
    if tokens[end : end + 1] == ["you"]:  # "thank you for ..."
        end += 1
    before = tokens[position - 1] if position else ""
    after = tokens[end] if end < len(tokens) else ""
    if before in _SARCASTIC_BEFORE or word.startswith(_KOREAN_SARCASTIC):
        return True
    if after in _SARCASTIC_AFTER or after == "for":
        return _trouble_follows(tokens, end + 1, 5)
    if word.startswith(_KOREAN_THANKS):  # 덕분에 하루를 날렸네요: thanks to you, a day lost
        return _trouble_follows(tokens, end, 4)
    starts_clause = not position or before in _CLAUSE_END
    if word in _PRAISE and starts_clause and after in (",", ".", "!", "...", ".."):
        return _trouble_follows(tokens, end + 1, 8) or _trouble_follows(tokens, position - 8, 8)
    return " ".join(tokens[position:end]) in _PRAISE_JOB


def _trouble_follows(tokens: list[str], start: int, span: int) -> bool:
    """Whether a complaint word is among the ``span`` tokens from ``start``."""
    start = max(0, start)
    return any(_lookup(tokens, i)[0] <= -1.0 for i in range(start, min(len(tokens), start + span)))


# ---- whole-word term lists (urgency, promotion) -------------------------------------------------

_TERM_WORD = re.compile(r"[a-z0-9']+|&")


class _Terms:
    """Whole-word matching for a term list, with -s/-ed/-ing forms of single words; a set lookup
    per word, much faster than one big regular expression. Korean terms match inside words."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.words: set[str] = set()
        self.phrases: dict[str, list[tuple[str, ...]]] = {}
        self.substrings: list[str] = []
        for term in terms:
            if not term.isascii():
                self.substrings.append(term)
            elif " " in term:
                parts = tuple(_TERM_WORD.findall(term))
                self.phrases.setdefault(parts[0], []).append(parts)
            else:
                self.words.update((term, *_inflections(term)))
        for options in self.phrases.values():
            options.sort(key=len, reverse=True)

    def find(self, lowered: str) -> str | None:
        """The first term in the lower-cased text, as it is written there."""
        words: list[str] = _TERM_WORD.findall(lowered)
        for position, word in enumerate(words):
            for phrase in self.phrases.get(word, ()):
                if tuple(words[position : position + len(phrase)]) == phrase:
                    return " ".join(phrase)
            if word in self.words:
                return word
        return next((term for term in self.substrings if term in lowered), None)


# ---- noise ------------------------------------------------------------------------------------

# Phrases that are promotion wherever they appear.
_PROMO = (
    "giveaway", "airdrop", "follow for follow", "f4f", "follow4follow", "followback",
    "dm for promo", "dm for promotion", "dm for collab", "link in bio", "free followers",
    "buy followers", "gain followers", "onlyfans", "investment opportunity", "retweet to win",
    "rt to win", "rt & follow", "rt and follow", "free spins", "sugar daddy", "whatsapp me",
    "telegram me", "make money", "earn money", "work from home", "passive income",
)  # fmt: skip
# Phrases that are promotion when the post also pushes a link or hashtags, and asks for no DM
# ("follow back so I can DM you" is a customer, not a bot).
_PROMO_WITH_LINK = (
    "crypto", "bitcoin", "btc", "nft", "nfts", "forex", "casino", "check out my", "click the link",
    "click here", "follow back", "follow me",
)  # fmt: skip
_LINK = re.compile(r"https?://\S+|\bwww\.\S+")
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_SENTENCE = re.compile(r"[^.!?\n]+")
_TEXT_WORD = re.compile(r"[^\W\d_]{2,}")
_ASKS_FOR_DM = re.compile(r"\b(?:dm|pm|direct message|message)\b", re.IGNORECASE)
SPAM_HASHTAGS = 5  # at least this many hashtags, and as many as half the words
SPAM_HANDLES = 6  # at least this many distinct accounts tagged, with fewer words than tags
LINK_DROP_WORDS = 8  # a link with at most this many words from a 0-follower account


_PROMO_TERMS = _Terms(_PROMO)
_PROMO_WITH_LINK_TERMS = _Terms(_PROMO_WITH_LINK)


def noise_reason(mention: Mention, *, recent_texts: Iterable[str] = ()) -> str | None:
    """Why a post looks like spam or a bot, in a few words ("spam: 6 hashtags and a link"), or None.

    Flagged posts are shown with the reason, never dropped. ``recent_texts`` are the same author's
    earlier posts, when the caller has them. Anger is not noise: a complaint is never flagged for
    shouting, hashtags or tagging many accounts, because that is what upset customers do.
    """
    text = matchable(mention.text)
    if promo := _promotional(text):
        return f"promotional: “{promo}”"
    if _repeats(text, [matchable(t) for t in recent_texts]):
        return "bot-like: repeats the same text"
    points = sentiment_points(mention.text)  # as triage() scored it (cached)
    return None if points <= NEGATIVE_AT else _spam_shape(mention, praise=points >= POSITIVE_AT)


def _promotional(text: str) -> str | None:
    lowered = html.unescape(_LINK.sub(" ", text)).lower()
    if found := _PROMO_TERMS.find(lowered):
        return found
    pushes = _LINK.search(text) or len(_HASHTAG.findall(text)) >= 2
    if pushes and not _ASKS_FOR_DM.search(text):
        return _PROMO_WITH_LINK_TERMS.find(lowered)
    return None


def _spam_shape(mention: Mention, *, praise: bool) -> str | None:
    """Density signals: hashtags, tagged accounts; for plain posts, all-caps links, link drops."""
    text = mention.text
    links = len(_LINK.findall(text))
    hashtags = len(_HASHTAG.findall(text))
    handles = len({h.lower() for h in _HANDLE.findall(text)})
    words = _TEXT_WORD.findall(_HASHTAG.sub(" ", _HANDLE.sub(" ", _LINK.sub(" ", text))))
    and_links = f" and {links} links" if links > 1 else " and a link" if links else ""
    if hashtags >= SPAM_HASHTAGS and hashtags * 2 >= len(words):
        return f"spam: {hashtags} hashtags{and_links}"
    if handles >= SPAM_HANDLES and len(words) < handles:
        return f"spam: tags {handles} accounts{and_links}"
    if not links or praise or "?" in text:
        return None
    if words and len(words) <= 6 and _shouted(words):
        return "spam: all-caps post with a link"
    quiet = not mention.author.followers and not mention.author.verified
    return "bot-like: 0 followers and a link" if quiet and len(words) <= LINK_DROP_WORDS else None


def _shouted(words: list[str]) -> bool:
    letters = "".join(words)
    return sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _repeats(text: str, recent_texts: Iterable[str]) -> bool:
    """The same post again, or one sentence three times over inside it."""
    normal = " ".join(_LINK.sub(" ", text).lower().split())
    if normal and any(normal == " ".join(_LINK.sub(" ", t).lower().split()) for t in recent_texts):
        return True
    sentences = [" ".join(s.lower().split()) for s in _SENTENCE.findall(text)]
    sentences = [s for s in sentences if len(s) > 3]
    return any(sentences.count(s) >= 3 for s in set(sentences))


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


_URGENT_TERMS = _Terms(_URGENT)
_ACTION_TERMS = _Terms(_ACTION)


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
