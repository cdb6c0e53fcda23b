"""Sentiment of a post about a brand, pure and deterministic.

Sentiment is a lexicon written for customer-care talk in English and Korean: weighted words and
phrases (delays, refunds, "still waiting", "no one answers"), negation, intensifiers and shouting,
contrast ("but", "-지만"), questions, sarcasm ("thanks for nothing", "great, another delay",
"love being stuck", 🙄, "/s", "퍽이나"), emoji and emoticons, and a prior that leans negative,
because people rarely mention a brand's care account to say nothing is wrong. A question that
asks for information ("will my flight be delayed?") weighs its care topics less, and thanks in
a post that asks for something ("Can you help? Thanks!") are manners more than praise.

Korean text also goes to ``bot.decide.korean``, a character n-gram model trained on CC0 Naver
reviews (NSMC): word lists miss most of what Korean reviewers write. The model's reading and the
lexicon's evidence are blended (``blend``); the lexicon alone decides clear care complaints and
care talk (questions, requests, paperwork) that film reviews never contain.
"""

from __future__ import annotations

import functools
import html
import math
import re

from bot.decide.korean import Reading, is_korean, read_korean
from bot.decide.text import matchable
from bot.models import Sentiment

# ---- language ---------------------------------------------------------------------------------


_ENGLISH = """
-3.0: fuck, fucking, fucked, worst, horrible, horrendous, terrible, awful, atrocious, appalling,
      abysmal, disgusting, disgraceful, disgrace, pathetic, unacceptable, inexcusable, outrageous,
      nightmare, sucks, hate*, furious, livid, incompetent, incompetence, scam*, never again,
      neveragain, fml, wtf, thanks for nothing, thank you for nothing, worst experience,
      shame on you, vile, never book, never fly, never flying
-2.5: ridiculous, absurd, useless, clueless, rude, rudest, rudely, shameful, crap, crappy, shit,
      shitty, bullshit, bs, lousy, liar*, lied, lying, screwed, ruined, miserable, horrid,
      disappointed, disappointing, disappointment, frustrated, frustrating, frustration, angry,
      pissed, upset, annoyed, annoying, infuriating, unprofessional, unhelpful, inconsiderate,
      nonsense, garbage, trash, embarrassing, insulting, disgusted, ugh, smh, fed up, sick of,
      tired of, had enough, rip off, ripoff, ripped off, are you kidding, you're kidding,
      kidding me, what the hell, what gives, no excuse, joke, a joke, suck, sucked, hell,
      don't care, doesn't care, give a damn, no clue, makes no sense, doesn't make sense,
      dissatisfied, substandard, screw*, screwing, condescending, condescension, reek*,
      false advertising, what good is, learned my lesson, lie, lies, boycott, aggravating,
      aggravated, irritated, irritating, debacle, hypocrisy, hypocrite, idiot*, stupid, moron*,
      jerk*, nasty, unbelievable, subpar, sub par, misinformation, misinformed, regret,
      displeased, dropped the ball, good luck with that, ashamed, anger*, dirtiest,
      business elsewhere, bait and switch, baitandswitch, strongly worded, amateur*,
      amateurish
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
      forced, damn, given up, give up, gave up, shocked, shocking, trouble, difficulty,
      difficulties, unreliable, unresponsive, bummed, bummer, short staffed, under staffed,
      nowhere near, no where near, sadly, grumpy, freezing, unwilling, less than willing,
      one thing right, insensitive, inappropriate, reckless, dangerous, troubling, pointless,
      ordeal, hostage, headaches, new airline, scolding, can't believe, insult, copy and paste,
      cut and paste, cutting and pasting
-1.5: delay*, late, diverted, missed, miss, misconnect*, downgraded, rebooked, on hold,
      on the tarmac, tarmac, overpriced, greedy, error*, glitch*, crash*, outage, wrong, mistake*,
      fault, blame, confusing, confused, slow, forever, still, yet again, once again, as usual,
      typical, every time, how hard, how difficult, what's the point, apparently, supposedly,
      no way, lack, lacking, lack of, worried, stressed, cold, why, how is this,
      how is it, how come, really ?, really ?!, please help, nothing, not even, anymore,
      not working, doesn't work, won't work, can't get, can't even, penalty, not possible, sigh,
      harder, pity, misguided, let alone, not enough, unnerving, awkward, no idea, not so much,
      how does that, unreachable, dead air, unfortunately, do better, could be better,
      better not, burden, long day, long night, avoid, elsewhere, reevaluate, freakin, freaking,
      actual person, actual human, real person, generic, canned, as per usual
-1.0: seriously, where is my, hours, hrs, hr, hour, mins, days, weeks, refund*, compensation,
      compensate, charged, fee, problem*, issue*, cancel, hold, wait, waiting, waited,
      rebook, expensive, zero, never, trying, tried, unanswered, excuse, told, kept,
      keeps, line, lines, even, only, any help, anyone, someone, sitting, last minute, minutes,
      fix, hard, expired, supposed to, down, evidently, srsly, half hour, all day, all night,
      apology, used to be
-0.7: again
-0.5: voucher*, min, customer service, standby, fees
+0.0: please, help, need, wish, hope, early, on time, would be great, best way, best number,
      best option, would be nice, would be awesome, would be wonderful, would be perfect
+0.0: kind of, sort of, a bit, bit of
+0.3: thanks in advance, thank you in advance
+0.5: delivered, ok, okay, fine, alright, safe, worked, better, lol, haha, hahaha, wow, resolved,
      sorted, fixed, found, upgrade, free, would love
+1.0: with you again, good, nice, cool, quick, quickly, fast, easy,
      made it, got home, professional, worth, worth it, deal, upgraded, no problem,
      no worries, no issues, no complaints, ty, luv, glad to hear, your help, the help,
      for helping, you're welcome
+1.5: not bad, friendly, smooth, pleasant, comfortable, comfy, courteous, efficient, attentive,
      sweet, fun, beautiful, beautifully, gorgeous, stunning, pleased, glad, happy, enjoy*,
      enjoyed, excited, yay, woohoo, hooray, kind, kindness, safely, helpful, hero, heroes, rock,
      rocks, rocked, favorite, favourite, recommend*, props, congrats, congratulations,
      looking forward, can't wait, cannot wait, impressed, impressive, xoxo, love flying, classy,
      fav, faves, praise, crisis averted, solved, a +, made up for, rad, success, nice touch,
      relieved, yas, yass, woot, so far so good, pleasure, on point, exceeded, seamless, painless,
      hassle free, proud, luckily, mvp, miracle*, personable, magic, fancy
+2.0: thank*, thanks, thx, thnx, thanx, thankyou, tyvm, tks, appreciate*, grateful, thankful,
      great, perfect, perfectly, lovely, delighted, shout out, shoutout, well done, good job,
      great job, nice job, best, love*, loved, fabulous, fab, rockstar, rockstars, brilliant,
      won me over, kicked butt, kicking butt, kicked ass, thrilled, friendliest, good work,
      gold star, speak highly, top marks, mad love, class act, nice work, great work,
      compassionate, blew my mind
+3.0: amazing, awesome, excellent, fantastic, wonderful, outstanding, superb, phenomenal,
      incredible, exceptional, kudos, bravo, above and beyond, lifesaver, life saver, top notch,
      five stars, 5 stars, best airline, best service, can't thank you enough,
      couldn't be happier, thank you so much, thanks so much, made my day, keep up the good work,
      extra mile, nicest, greatest, above & beyond
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
    ("real", "professional"), ("🙄",), ("#", "sarcasm"),
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
QUESTION = 0.6  # weight of complaint words in a question
COURTESY = 0.4  # weight of thanks in a post that asks for something
_COURTESY = ("thank", "thx", "thnx", "thanx", "tks", "ty", "appreciat")
_PLEASE = frozenset(("please", "pls", "plz"))
_ASKERS = frozenset(("can", "could", "would", "will"))  # ... "you"
ASKING = 0.4  # weight of mild complaint words in a question that asks for information
MILD = 2.0  # complaint words at most this heavy are care topics (delay, refund), not anger
_SENTENCE_END = frozenset(". .. ... ! !! !!! ? ?? ??? ?! …".split())
_OPENERS = frozenset("hi hey hello so and also but ok okay well please pls # , -".split())
_INTERROGATIVES = frozenset(
    """is are was were will would can could do does did should may might has have how what
    when where which who whom whose any anyone anybody anything""".split()
)


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
    asking = _asking(tokens)
    tally.request = bool(asking) or _requests(tokens)
    _walk(tokens, shouted, tally, asking=asking)
    points = tally.total(tokens)
    if is_korean(text):
        points = korean_points(text, lexicon=points - NEGATIVE_PRIOR)
    return round(points, 6)


# ---- Korean: the model's reading blended with the care lexicon ---------------------------------

# Chosen on korean_dev_mentions.jsonl together with the invented care posts of the bench.
KOREAN_BIAS = (-0.1, -0.4)  # added to the model's negative and positive logits (vs neutral)
LEXICON_LOGIT = 0.35  # logit per lexicon point: care words still count, on the model's scale
CLEAR_COMPLAINT = -3.0  # lexicon points at or below: negative, whatever the model reads
# Customers asking or doing the paperwork: polite questions and requests (되나요, 있을까요,
# 알려주세요, 싶어요) and logistics (DM, 예약 번호, 보냈습니다, 확인했습니다). Film reviews never
# do either, so the film model has nothing to say about them and the lexicon decides alone.
_CARE_TALK = re.compile(
    r"나요|까요|가요|니까|습니까|요\s*\?|까\s*\?|주세요|주시겠|주실|싶어요|싶습니다|궁금"
    r"|dm|디엠|번호|보냈습니다|보냈어요|확인했습니다|확인했어요",
    re.IGNORECASE,
)


def korean_points(text: str, *, lexicon: float) -> float:
    """Points for Korean text, given the lexicon's evidence (its points without the prior).
    Clear complaints and care talk: the lexicon's points. Otherwise the blend."""
    if lexicon <= CLEAR_COMPLAINT or _CARE_TALK.search(text):
        return lexicon + NEGATIVE_PRIOR
    return blend(read_korean(text), lexicon=lexicon)


def blend(reading: Reading, *, lexicon: float) -> float:
    """The model's logits plus the lexicon's evidence, decided by the largest logit (neutral's is
    zero), placed on the lexicon's scale: ``NEGATIVE_AT`` and ``POSITIVE_AT`` give that label."""
    negative = reading.negative + KOREAN_BIAS[0] + LEXICON_LOGIT * max(0.0, -lexicon)
    positive = reading.positive + KOREAN_BIAS[1] + LEXICON_LOGIT * max(0.0, lexicon)
    if negative > max(positive, 0.0):
        return NEGATIVE_AT - (negative - max(positive, 0.0))
    if positive > max(negative, 0.0):
        return POSITIVE_AT + (positive - max(negative, 0.0))
    return min(max((positive - negative) / 2, NEGATIVE_AT + 0.1), POSITIVE_AT - 0.1)


class _Tally:
    """Positive and negative evidence, kept apart so contrast and sarcasm can reweigh them."""

    __slots__ = (
        "courtesy",
        "ends_negative",
        "negative",
        "positive",
        "request",
        "sarcasm",
        "sarcastic_positive",
    )

    def __init__(self) -> None:
        self.positive = 0.0
        self.negative = 0.0
        self.sarcastic_positive = 0.0  # positive words in a sarcastic frame
        self.sarcasm = False  # an explicit marker: "yeah right", "/s", 🙄
        self.ends_negative = False  # the last weighty word was a complaint
        self.courtesy = 0.0  # thanks and appreciation
        self.request = False  # the post asks for something: "can you ...?", "please DM me"

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
        elif self.request:
            positive -= self.courtesy * (1 - COURTESY)  # "Can you help? Thanks!": manners
        if "?" in tokens or "??" in tokens:
            negative *= QUESTION  # a question asks; it complains less than a statement
        if "?!" in tokens or "???" in tokens:
            negative += 1.0  # exasperation
        elif negative > positive and "!!!" in tokens:
            negative += 1.0
        return positive - negative + NEGATIVE_PRIOR


def _walk(tokens: list[str], shouted: set[int], tally: _Tally, *, asking: set[int]) -> None:
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
            if position in asking and -MILD <= value < 0:
                value *= ASKING  # "will my flight be delayed?" asks about a delay
            if value > 0:
                _note_praise(tokens, position, size, tally, value=value * weight)
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


def _asking(tokens: list[str]) -> set[int]:
    """Positions inside questions that ask for information: a sentence that ends with "?" and
    opens with an auxiliary or a question word ("is my flight delayed?", "any chance of a
    refund?", "how do I rebook?"). "why" is left out: it is how complaints ask."""
    found: set[int] = set()
    start = 0
    for end, token in enumerate([*tokens, "."]):
        if token in _SENTENCE_END or end == len(tokens):
            opening = next((t for t in tokens[start:end] if t not in _OPENERS), "")
            if "?" in token and opening in _INTERROGATIVES:
                found.update(range(start, end))
            start = end + 1
    return found


def _requests(tokens: list[str]) -> bool:
    """Whether the post asks for something ("please", "can you")."""
    if not _PLEASE.isdisjoint(tokens):
        return True
    return any(tokens[i] == "you" and tokens[i - 1] in _ASKERS for i in range(1, len(tokens)))


def _note_praise(
    tokens: list[str], position: int, size: int, tally: _Tally, *, value: float
) -> None:
    """Keep apart the praise that may not be praise: thanks (manners in a request) and praise
    in a sarcastic frame."""
    if tokens[position].startswith(_COURTESY):
        tally.courtesy += value
    if _sarcastic_frame(tokens, position, size):
        tally.sarcastic_positive += value


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
