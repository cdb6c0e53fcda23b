"""Triage at scale: mentions per second through store + triage + routing + top-3 suggestions with
1,000 playbook templates and 100 routing rules, beside bare rapidfuzz matching in the same run.

    python bench/triage_bench.py [--mentions 5000] [--templates 1000] [--rules 100]
                                 [--batch 100] [--profile] [--dump FILE]

The playbooks and rules are generated here from our own care vocabulary (seeded: every run sees
the same ones) and go through our own parsers: the playbooks are written as TOML files and loaded
by ``Library`` (``parse_playbook`` and every check ``earshot check`` runs), the rules through the
config's rule schema (``parse_rules``) and then seeded into the database as version 1, as at a
first start. Mention texts are read at run time from ../shared/data/airline_dev_mentions.jsonl and
twcs_mentions.jsonl when they are there (third-party text stays outside the repo), else generated
from the same vocabulary; each gets its own id, author and time.

The measured path is the bot's own: ``Inbound.poll`` with a source that hands over ``--batch``
mentions per poll (X's page size), so each poll stores its mentions with the cursor in one
transaction, then for every stored mention: skip check, conversation lookup, customer tags,
triage, routing (``RuleBook``'s compiled router), top-3 suggestions (``Library``'s suggester), the
case and its suggestions stored (``Store.open_case``), and the case read back for its card. The
board is a no-op (no Slack posting); SLA clocks, storms and assignment are off. The database is a
real SQLite file in a temp dir, with the bot's own settings (WAL, ``synchronous = FULL``).

The baseline, timed on the same mention texts in the same run: rapidfuzz alone,
``process.extract(query, choices, scorer=fuzz.token_set_ratio, processor=None, limit=3)`` where
each of the 1,000 choices is one template's triggers and examples joined, and every string
(choices once, at start; the query per mention) went through ``rapidfuzz.utils.default_process``.
``token_set_ratio`` is the scorer the suggester itself uses on triggers (and half of the score of
an example), and the triggers and examples are the text it matches on, so this is the smallest
job that can still rank every template for a mention: no triage, no routing, no storage, no
eligibility or bonuses. Printed: both rates, and Earshot's time per mention over the baseline's.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import words
from rapidfuzz import fuzz, process, utils

import bot.app  # noqa: F401 (imports the modules in the order the bot does)
from bot.clock import ManualClock
from bot.decide.assess import triage_with
from bot.decide.routing import Clock as RoutingClock
from bot.decide.rules import RuleSpec, parse_rules
from bot.inbound.pipeline import Brand, Inbound
from bot.live.library import Library
from bot.live.rulebook import RuleBook
from bot.models import Author, Mention
from bot.sources import Fetch
from bot.sources.jsonl import BadLine, read_mentions
from bot.storage.store import Store

DATA = ROOT.parent / "shared" / "data"
TEXTS = (DATA / "airline_dev_mentions.jsonl", DATA / "twcs_mentions.jsonl")
SEED = 20260611
BRAND = "Skylark Air"
HANDLE = "SkylarkAir"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

TOPICS = {
    "delay": "flight delayed delay late gate departure hours stuck waiting tarmac pilot",
    "cancel": "cancelled cancellation flight rebook stranded alternative connection missed",
    "baggage": "bag luggage suitcase lost damaged claim carousel belt broken missing",
    "refund": "refund money back charged twice card credit payment reimbursement voucher",
    "booking": "booking reservation change ticket date name rebook confirmation itinerary",
    "seat": "seat legroom window aisle upgrade assigned row exit middle recline",
    "app": "app crash update bug login screen notification website error checkin",
    "wifi": "wifi internet connection onboard streaming slow signal portal paid",
    "food": "food meal snack drink vegetarian allergy coffee cold menu catering",
    "crew": "crew attendant staff rude friendly captain service helpful agent desk",
    "loyalty": "miles points status member elite tier lounge account program card",
    "checkin": "checkin boarding pass queue counter kiosk security line document passport",
    "pets": "pet dog cat carrier cabin hold animal crate travel policy",
    "access": "wheelchair assistance mobility disabled support ramp blind escort special",
    "praise": "thank thanks great awesome love amazing best smooth comfortable wonderful",
    "complaint": "worst terrible unacceptable ridiculous disappointed angry complaint never",
}
GENERIC = (
    "please help need still again today now since yesterday week nothing anyone customer "
    "service support someone issue problem fix"
).split()
GLUE = "my the is was for with and to on at your our".split()
KOREAN = (
    "환불 결제 취소 카드 돈",
    "지연 결항 출발 탑승 게이트",
    "수하물 가방 분실 파손 짐",
    "예약 변경 좌석 항공권 일정",
)
KOREAN_ENDINGS = ("언제 되나요", "안 돼요", "아직 안 왔어요", "확인 부탁드려요", "너무 느려요")
CHANNELS = tuple(f"#care-{topic}" for topic in TOPICS)


# ---- generated playbooks and rules --------------------------------------------------------------


def _phrase(rng: random.Random, topic: str, length: int) -> str:
    return words.phrase(rng, TOPICS[topic], length=length, generic=GENERIC, glue=GLUE)


def _korean(rng: random.Random) -> str:
    return words.korean(rng, KOREAN, KOREAN_ENDINGS)


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(i, ensure_ascii=False) for i in items) + "]"


def _template_toml(rng: random.Random, number: int) -> str:
    topic = rng.choice(sorted(TOPICS))
    lang = rng.choices(("en", "ko", ""), weights=(88, 7, 5))[0]
    make = (lambda: _korean(rng)) if lang == "ko" else (lambda: _phrase(rng, topic, 3))
    triggers = [make() for _ in range(rng.randint(3, 6))]
    examples = [
        _korean(rng) if lang == "ko" else _phrase(rng, topic, rng.randint(5, 8))
        for _ in range(rng.randint(0, 3))
    ]
    lines = [
        "[[template]]",
        f'id = "{topic}-{number:04d}"',
        f'title = "{topic.title()} {number}"',
        f'lang = "{lang}"',
        f"triggers = {_toml_list(triggers)}",
        f'text = "Hi {{customer}}, sorry about the {topic} trouble. {_phrase(rng, topic, 5)}."',
    ]
    if examples:
        lines.append(f"examples = {_toml_list(examples)}")
    if rng.random() < 0.2:
        lines.append(f'teams = ["#care-{topic}"]')
    return "\n".join(lines) + "\n"


def write_playbooks(folder: Path, count: int) -> None:
    """``count`` templates in files of 100, the same on every run."""
    rng = random.Random(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, count, 100):
        body = "\n".join(_template_toml(rng, n) for n in range(start, min(count, start + 100)))
        (folder / f"generated_{start // 100:02d}.toml").write_text(body, encoding="utf-8")


def _rule(rng: random.Random, number: int) -> dict[str, Any]:
    """One rule as a config table would give it: mostly keywords, some other conditions."""
    topic = rng.choice(sorted(TOPICS))
    words = TOPICS[topic].split()
    rule: dict[str, Any] = {"name": f"rule-{number:03d}", "channel": f"#care-{topic}"}
    kind = rng.random()
    if kind < 0.55:  # a product word of its own (rarely in a post) plus a topic word or two
        rule["keywords"] = [f"{rng.choice(words)}{number}", *rng.sample(words, k=rng.randint(1, 2))]
    elif kind < 0.75:
        rule["all_keywords"] = rng.sample(words, k=2)
    elif kind < 0.85:
        rule["keywords"] = [" ".join(rng.sample(words, k=2)), f"{topic} {rng.choice(GENERIC)}"]
    elif kind < 0.92:
        rule["regex"] = rf"\b(?:SK|sk){number:03d}\d\b"
    else:
        rule["keywords"] = rng.sample(words, k=2)
        rule["min_followers"] = rng.choice((10_000, 50_000, 100_000))
    if rng.random() < 0.3:
        rule["sentiments"] = [rng.choice(("negative", "neutral", "positive"))]
    if rng.random() < 0.1:
        rule["languages"] = [rng.choice(("en", "ko"))]
    if rng.random() < 0.15:
        rule["tags"] = [topic]
    if rng.random() < 0.1:
        rule["priority_bump"] = 1
    return rule


def generate_rules(count: int) -> list[RuleSpec]:
    """``count`` rules, validated by the config's rule schema (an invalid one stops the run)."""
    rng = random.Random(SEED + 1)
    specs, problems = parse_rules([_rule(rng, n) for n in range(count)], where="bench.rules")
    if problems:
        raise SystemExit("generated rules are invalid:\n" + "\n".join(map(str, problems)))
    return specs


# ---- mentions ------------------------------------------------------------------------------------


def _generated_texts(count: int) -> list[str]:
    rng = random.Random(SEED + 2)
    texts = []
    for _ in range(count):
        if rng.random() < 0.05:
            texts.append(f"@{HANDLE} {_korean(rng)}")
            continue
        topic = rng.choice(sorted(TOPICS))
        texts.append(f"@{HANDLE} {_phrase(rng, topic, rng.randint(3, 7))} {rng.choice(GENERIC)}")
    return texts


def mention_texts() -> tuple[str, list[str]]:
    """Texts from the shared data files when present (read now, never copied), else generated."""
    found = [path for path in TEXTS if path.exists()]
    texts: list[str] = []
    for path in found:
        lines = path.read_text(encoding="utf-8").splitlines()
        texts += [m.text for m in read_mentions(lines) if not isinstance(m, BadLine)]
    if not texts:
        return "generated", _generated_texts(5000)
    return " + ".join(path.name for path in found), texts


def make_mentions(texts: Sequence[str], count: int) -> list[Mention]:
    """``count`` mentions with their own ids, authors and times, texts taken in turn."""
    rng = random.Random(SEED + 3)
    mentions = []
    for n in range(count):
        followers = int(rng.paretovariate(1.2) * 50)
        author = Author(str(10_000 + n % 3000), f"customer{n % 3000}", "Sam Doe", followers)
        at = START + timedelta(seconds=n)
        mentions.append(
            Mention(f"x:{10**15 + n}", "x", texts[n % len(texts)], author, at, BRAND, "en")
        )
    return mentions


# ---- the real path -----------------------------------------------------------------------------


class NullBoard:
    """Slack left out: the bench measures Earshot up to the card, not Slack's API."""

    def post_card(self, case_id: int) -> None: ...

    def refresh_card(self, case_id: int) -> None: ...

    def refresh_storm(self, storm_id: int) -> None: ...

    def follow_up(self, case_id: int, mention: Mention, *, raised: Sequence[str] = ()) -> None: ...

    def notify(self, case_id: int) -> None: ...

    def announce(self, channel: str, text: str) -> None: ...

    def tell(self, *, user: str, channel: str | None, text: str) -> None: ...

    def case_note(self, case_id: int, *, text: str) -> None: ...

    def show_approval(self, approval_id: int) -> None: ...


class PagedSource:
    """Hands the mentions over ``batch`` at a time, with a cursor, like X's mentions endpoint."""

    network = "x"

    def __init__(self, mentions: Sequence[Mention], *, batch: int) -> None:
        self._pages: Iterator[Sequence[Mention]] = iter(
            [mentions[i : i + batch] for i in range(0, len(mentions), batch)]
        )

    @property
    def brand(self) -> str:
        return BRAND

    def fetch(self, cursors: Mapping[str, str]) -> Fetch:
        page = tuple(next(self._pages, ()))
        since = {"x:since_id": page[-1].native_id} if page else {}
        return Fetch(mentions=page, cursors=since)


def pipeline(workdir: Path, *, playbooks: Path, rules: Sequence[RuleSpec]) -> Inbound:
    """The inbound path wired as ``bot.app`` wires it, minus Slack, SLA clocks and storms."""
    store = Store(workdir / "earshot.db")
    clock = ManualClock(START)
    rulebook = RuleBook(
        store=store, clock=clock, fallback="#care-general", routing_clock=RoutingClock()
    )
    rulebook.seed(rules)
    library = Library(folder=playbooks, brand=BRAND)
    return Inbound(
        store=store,
        rulebook=rulebook,
        library=library,
        board=NullBoard(),
        clock=clock,
        brands=(Brand(HANDLE, None, name=BRAND),),
        triage=triage_with(),
    )


def run_earshot(inbound: Inbound, mentions: Sequence[Mention], *, batch: int) -> tuple[float, int]:
    """Seconds to poll every mention through to its case, and the cases opened."""
    source = PagedSource(mentions, batch=batch)
    cases = 0
    began = time.perf_counter()
    for _ in range(0, len(mentions), batch):
        cases += len(inbound.poll(source).cases)
    return time.perf_counter() - began, cases


def choices_of(library: Library) -> list[str]:
    """One string per template: its triggers and examples, as rapidfuzz preprocesses them."""
    return [utils.default_process(" ".join((*t.triggers, *t.examples))) for t in library.templates]


def run_bare(texts: Sequence[str], choices: Sequence[str]) -> float:
    """Seconds for rapidfuzz alone to rank the templates for every text."""
    began = time.perf_counter()
    for text in texts:
        query = utils.default_process(text)
        process.extract(query, choices, scorer=fuzz.token_set_ratio, processor=None, limit=3)
    return time.perf_counter() - began


def dump(inbound: Inbound, path: Path) -> None:
    """Every case's routing and suggestions, one JSON object per line: to compare two versions."""
    rows = inbound._store.db.execute(
        "select mention_id, channel, rule, why, priority, sentiment, sentiment_score, lang, "
        "suggestions, tags from cases order by id"
    )
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=5000, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="the median round is reported")
    parser.add_argument("--templates", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100, help="mentions per poll")
    parser.add_argument("--profile", action="store_true", help="cProfile one Earshot round")
    parser.add_argument("--dump", type=Path, help="write every case's decisions as JSON lines")
    args = parser.parse_args()
    source, texts = mention_texts()
    with tempfile.TemporaryDirectory(prefix="earshot-bench-") as tmp:
        work = Path(tmp)
        write_playbooks(work / "playbooks", args.templates)
        rules = generate_rules(args.rules)
        began = time.perf_counter()
        inbound = pipeline(work, playbooks=work / "playbooks", rules=rules)
        built = time.perf_counter() - began
        library = inbound._library
        print(
            f"input: {source}, {len(texts)} texts; {len(library.templates)} templates, "
            f"{len(rules)} rules; set-up (parse, index, seed) {built:.2f} s"
        )
        measure(inbound, texts, args)
        if args.dump:
            dump(inbound, args.dump)
            print(f"decisions written to {args.dump}")


def measure(inbound: Inbound, texts: Sequence[str], args: argparse.Namespace) -> None:
    """Warm up, then ``rounds`` of Earshot and of bare rapidfuzz on the same texts, alternating."""
    count = args.mentions
    every = make_mentions(texts, 200 + count * args.rounds)
    run_earshot(inbound, every[:200], batch=args.batch)  # warm up
    choices = choices_of(inbound._library)
    ours, bare, opened = [], [], 0
    for n in range(args.rounds):
        batch = every[200 + n * count : 200 + (n + 1) * count]
        if args.profile and n == 0:
            profile = cProfile.Profile()
            seconds, cases = profile.runcall(run_earshot, inbound, batch, batch=args.batch)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        else:
            seconds, cases = run_earshot(inbound, batch, batch=args.batch)
        ours.append(count / seconds)
        opened += cases
        bare.append(count / run_bare([m.text for m in batch], choices))
    rate, base = sorted(ours)[len(ours) // 2], sorted(bare)[len(bare) // 2]
    print(f"{opened} cases opened from {count * args.rounds} mentions in {args.rounds} rounds")
    print(
        f"Earshot (store + triage + routing + top-3): {rate:,.0f} mentions/s "
        f"({1e3 / rate:.3f} ms each); rounds: {', '.join(f'{r:,.0f}' for r in ours)}"
    )
    print(
        f"bare rapidfuzz (extract, token_set_ratio, limit=3): {base:,.0f} mentions/s "
        f"({1e3 / base:.3f} ms each); rounds: {', '.join(f'{r:,.0f}' for r in bare)}"
    )
    print(f"ratio (Earshot time per mention / bare rapidfuzz's): {base / rate:.2f}x")


if __name__ == "__main__":
    main()
