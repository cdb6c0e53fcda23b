"""Reply-suggestion speed: top-3 suggestions over 5,000 templates, per mention, no I/O.

    python bench/suggest_speed.py [--templates 5000] [--history 2000] [--sample 300]

Templates and past sends are synthetic (seeded, so every run sees the same ones). Queries are the
mentions in ../shared/data/twcs_mentions.jsonl when it is there (read at run time; third-party
text stays outside the repo), else the bundled demo mentions; each gets a team channel in turn
and its own brand. Prints build time, then per-mention latency percentiles and mentions per
second (one core) for ``Suggester.suggest(top=3)`` after a short warm-up, and for synthetic
Korean mentions (half without spaces). Then, on a sample: the same for the old way (bare
rapidfuzz ``process.extract`` over every trigger phrase), for re-scoring every document that
shares a term, and how often the candidate cut changes the top 3 compared with that.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import words
from rapidfuzz import fuzz, process

from bot.decide.matching import clean
from bot.decide.playbooks import Template
from bot.decide.suggest import Sent, Suggester
from bot.models import Author, Mention
from bot.sources.jsonl import BadLine, read_mentions

TWCS = ROOT.parent / "shared" / "data" / "twcs_mentions.jsonl"
SEED = 20240611
WARM_UP = 200

TOPICS = {
    "refund": "refund money back charged twice card credit payment returned reimbursement",
    "delivery": "package parcel delivery delivered courier tracking arrived driver doorstep",
    "order": "order cancelled confirmation item wrong size return exchange stock shipped",
    "account": "account login password locked reset email verification code hacked sign",
    "billing": "bill invoice charge fee overcharged subscription plan renewal discount statement",
    "app": "app crash update bug freezes screen notification version install error",
    "internet": "internet wifi router outage slow connection speed signal modem down",
    "phone": "phone battery screen charger sim network coverage upgrade contract carrier",
    "flight": "flight delayed cancelled gate boarding connection seat crew pilot departure",
    "baggage": "bag luggage suitcase lost damaged claim carousel tag belt broken",
    "booking": "booking reservation change ticket date name hotel rebook upgrade confirmation",
    "store": "store staff rude manager queue checkout cashier receipt opening hours",
    "praise": "thank thanks great awesome love amazing helpful friendly best service",
    "complaint": "worst terrible unacceptable ridiculous disappointed angry complaint escalate",
    "wait": "waiting hours days weeks response reply hold nobody answer still",
    "streaming": "stream buffering playlist song offline download premium episode subtitles audio",
    "food": "food cold meal menu allergy burger coffee restaurant order missing",
    "game": "game console controller server lag update download account ban achievement",
}
GENERIC = (
    "please help need still again today now since yesterday week nothing anyone customer "
    "service support someone issue problem fix working"
).split()
GLUE = "my the is was for with and to on at your".split()
KOREAN_TOPICS = (
    "환불 결제 취소 카드 돈",
    "배송 택배 주문 도착 상품",
    "계정 비밀번호 로그인 인증 이메일",
    "앱 오류 업데이트 화면 알림",
    "인터넷 연결 속도 와이파이 장애",
    "비행기 지연 결항 수하물 좌석",
)
KOREAN_ENDINGS = ("언제 되나요", "안 돼요", "아직 안 왔어요", "확인 부탁드려요", "너무 느려요")
BRANDS = tuple(f"Brand{n:02d}" for n in range(20))
TEAMS = ("#billing", "#delivery", "#tech", "#social", "#vip", "#retention")


def _phrase(rng: random.Random, topic: str, length: int) -> str:
    return words.phrase(rng, TOPICS[topic], length=length, generic=GENERIC, glue=GLUE)


def _korean(rng: random.Random) -> str:
    return words.korean(rng, KOREAN_TOPICS, KOREAN_ENDINGS)


def _template(rng: random.Random, number: int) -> Template:
    topic = rng.choice(sorted(TOPICS))
    lang = rng.choices(("en", "ko", ""), weights=(87, 8, 5))[0]
    make = _korean if lang == "ko" else (lambda r: _phrase(r, topic, r.randint(2, 4)))
    triggers = tuple(make(rng) for _ in range(rng.randint(3, 6)))
    examples = tuple(
        _korean(rng) if lang == "ko" else _phrase(rng, topic, rng.randint(5, 8))
        for _ in range(rng.randint(0, 3))
    )
    return Template(
        id=f"{topic}-{number:04d}",
        title=f"{topic.title()} {number}",
        text=f"Hi {{customer}}, sorry about the {topic} trouble. {_phrase(rng, topic, 6)}.",
        triggers=triggers,
        lang=lang,
        examples=examples,
        brands=tuple(rng.sample(BRANDS, k=rng.randint(1, 2))) if rng.random() < 0.1 else (),
        teams=(rng.choice(TEAMS),) if rng.random() < 0.2 else (),
    )


def synthetic(count: int, sends: int) -> tuple[list[Template], list[Sent]]:
    """``count`` templates and ``sends`` past sends, the same on every run."""
    rng = random.Random(SEED)
    templates = [_template(rng, n) for n in range(count)]
    history = []
    for _ in range(sends):
        template = rng.choice(templates)
        words = rng.choice(template.triggers).split() + rng.sample(GENERIC, k=3)
        rng.shuffle(words)
        brand = rng.choice((*template.brands, "")) if template.brands else rng.choice(BRANDS)
        team = rng.choice((*template.teams, *TEAMS))
        history.append(Sent(" ".join(words), template.id, brand, team, template.lang))
    return templates, history


def queries() -> tuple[str, list[Mention]]:
    """The twcs mentions when they are there, else the bundled demo mentions."""
    path = TWCS
    if not path.exists():
        from bot.sandbox.harness import demo_mentions  # noqa: PLC0415 (imports the whole app)

        path = demo_mentions()
    lines = path.read_text(encoding="utf-8").splitlines()
    return path.name, [m for m in read_mentions(lines) if not isinstance(m, BadLine)]


def korean_mentions(count: int) -> list[Mention]:
    """Korean mentions like the Korean templates' triggers, half of them without spaces."""
    rng = random.Random(SEED + 1)
    texts = [_korean(rng) for _ in range(count)]
    texts = [t.replace(" ", "") if n % 2 else t for n, t in enumerate(texts)]
    return [
        Mention(f"ko:{n}", "x", t, Author("0", "someone"), lang="ko") for n, t in enumerate(texts)
    ]


def _lang(mention: Mention) -> str:
    if mention.lang:
        return mention.lang
    return "ko" if any("\uac00" <= c <= "\ud7af" for c in mention.text) else "en"


def _team(number: int) -> str:
    return ("", *TEAMS)[number % (len(TEAMS) + 1)]


def timed(run: Callable[[Mention, int], object], mentions: Sequence[Mention]) -> list[float]:
    timings = []
    for number, mention in enumerate(mentions):
        began = time.perf_counter()
        run(mention, number)
        timings.append(time.perf_counter() - began)
    return sorted(timings)


def report(label: str, timings: list[float]) -> None:
    def at(q: float) -> float:
        return timings[min(len(timings) - 1, int(len(timings) * q))] * 1e3

    median = statistics.median(timings) * 1e3
    print(
        f"{label}: {len(timings)} mentions, median {median:.3f} ms, p90 {at(0.90):.3f} ms, "
        f"p99 {at(0.99):.3f} ms, {len(timings) / sum(timings):,.0f} mentions/s"
    )


def old_way(templates: Sequence[Template]) -> Callable[[Mention, int], object]:
    """What bot/suggest.py did before: rapidfuzz over every trigger phrase, then filter."""
    choices = [clean(trigger) for t in templates for trigger in t.triggers]

    def run(mention: Mention, _number: int) -> object:
        query = clean(mention.text)
        if not query:
            return []
        return process.extract(
            query, choices, scorer=fuzz.token_set_ratio, processor=None, limit=None, score_cutoff=60
        )

    return run


def top3(suggester: Suggester, mention: Mention, number: int) -> list[str]:
    brand = mention.brand or ""
    found = suggester.suggest(mention.text, lang=_lang(mention), brand=brand, team=_team(number))
    return [r.template.id for r in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=5000)
    parser.add_argument("--history", type=int, default=2000)
    parser.add_argument(
        "--sample", type=int, default=300, help="mentions for the comparisons and the Korean line"
    )
    args = parser.parse_args()
    templates, history = synthetic(args.templates, args.history)
    source, mentions = queries()
    while len(mentions) < 2000:
        mentions += mentions
    triggers = sum(len(t.triggers) for t in templates)
    examples = sum(len(t.examples) for t in templates)
    print(
        f"templates: {len(templates)} ({triggers} triggers, {examples} examples), "
        f"history: {len(history)} sends, queries: {source}, {len(mentions)} mentions"
    )
    began = time.perf_counter()
    suggester = Suggester.build(templates, top=3, history=history)
    print(f"build: {(time.perf_counter() - began) * 1e3:,.0f} ms")
    for number, mention in enumerate(mentions[:WARM_UP]):
        top3(suggester, mention, number)
    report("suggest(top=3)", timed(lambda m, n: top3(suggester, m, n), mentions))
    korean = korean_mentions(args.sample)
    report("suggest(top=3), synthetic Korean", timed(lambda m, n: top3(suggester, m, n), korean))

    sample = mentions[: args.sample]
    report("old: rapidfuzz over every trigger (sample)", timed(old_way(templates), sample))
    every = Suggester.build(templates, top=3, history=history, candidates=1_000_000)
    report(
        "no candidate cut: re-score every document sharing a term (sample)",
        timed(lambda m, n: top3(every, m, n), sample),
    )
    pairs = [(top3(suggester, m, n), top3(every, m, n)) for n, m in enumerate(sample)]
    same = sum(a == b for a, b in pairs)
    first = sum(a[:1] == b[:1] for a, b in pairs)
    print(
        f"candidate cut vs none (sample of {len(pairs)}): same top 3 for {same / len(pairs):.1%}, "
        f"same first for {first / len(pairs):.1%}; "
        f"{sum(bool(b) for _, b in pairs)} mentions with a suggestion"
    )


if __name__ == "__main__":
    main()
