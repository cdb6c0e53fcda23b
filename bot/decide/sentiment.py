"""Sentiment of a post about a brand, pure and deterministic.

Sentiment is a lexicon written for customer-care talk in English and Korean: weighted words and
phrases (delays, refunds, "still waiting", "no one answers"), negation, intensifiers and shouting,
contrast ("but", "-지만"), questions, sarcasm ("thanks for nothing", "great, another delay",
"love being stuck", 🙄, "/s", "퍽이나"), emoji and emoticons, and a prior that leans negative,
because people rarely mention a brand's care account to say nothing is wrong.
"""

from __future__ import annotations

import functools
import html
import math
import re

from bot.decide.text import matchable
from bot.models import Sentiment

# ---- language ---------------------------------------------------------------------------------


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


def inflections(word: str) -> tuple[str, ...]:
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
                for form in inflections(term):
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
