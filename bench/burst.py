"""Burst: 1,000 different mentions in 60 s, all routed to one channel, against the sandbox's
Slack emulator enforcing one chat.postMessage per second per channel.

    python bench/burst.py [--mentions 1000] [--seconds 60] [--jsonl FILE]

Goal: every mention visible in Slack (its own card, a storm card or a burst message) within 15 s
of arriving on X; none lost, none posted twice, no 429 that ends in a failed call. Arrival is
when the X emulator holds the post; visible is the first Slack message (posted or updated)
whose metadata names its case. Texts are generated here (varied airline complaints); ``--jsonl``
reads the texts of a mentions file instead, at run time (third-party data stays outside the
repo).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config.settings import load_config
from bot.sandbox.harness import Sandbox, open_sandbox

ONE_CHANNEL = '[[routing.rules]]\nname = "burst"\nchannel = "#care-burst"\nnetworks = ["x"]\n\n'

_ISSUES = (
    "my flight {f} is delayed {h} hours and nobody tells us why",
    "you cancelled {f} overnight and the rebooking puts me on {d}",
    "still waiting for my refund for {f}, it has been {w} weeks",
    "my bag did not arrive in {c}, the desk has no idea where it is",
    "the app logs me out every time I try to check in for {f}",
    "missed my connection in {c} because {f} was late, who pays the hotel?",
    "charged twice for seat selection on {f}, please fix",
    "crew on {f} to {c} were lovely but the wifi never worked",
    "stuck on the tarmac in {c} for {h} hours with no water",
    "changed my booking online and now the reservation is gone",
    "your hold music has been playing for {h} hours, is anyone there",
    "wheelchair assistance never showed up at {c} for {f}",
)
_CITIES = ("Lisbon", "Porto", "Madrid", "Paris", "Berlin", "Rome", "Oslo", "Vienna", "Dublin")
_TAILS = ("", " Really disappointed.", " Third time this year.", " Please help.", " #fail", "!!")


def generated(count: int, seed: int = 7) -> list[str]:
    """Different customers with different complaints (few look-alikes: not a storm)."""
    rng = random.Random(seed)
    texts = []
    for n in range(count):
        issue = rng.choice(_ISSUES).format(
            f=f"SK{rng.randint(100, 999)}",
            h=rng.randint(2, 9),
            d=rng.choice(("Friday", "Sunday", "next week")),
            w=rng.randint(3, 12),
            c=rng.choice(_CITIES),
        )
        texts.append(f"@SkylarkAir {issue}{rng.choice(_TAILS)} (#{n})")
    return texts


def from_file(path: Path, count: int) -> list[str]:
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    texts = [str(row["text"]) for row in lines if row.get("text")]
    return [f"@SkylarkAir {texts[n % len(texts)]}" for n in range(count)]


@dataclass
class Watch:
    """What the emulators saw: arrivals on X, first sight of each case in Slack."""

    arrived: dict[str, float] = field(default_factory=dict)  # tweet id -> time
    seen: dict[int, float] = field(default_factory=dict)  # case id -> time
    own_cards: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_slack(self, kind: str, message: dict[str, Any]) -> None:
        if kind not in {"message.posted", "message.updated"}:
            return
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        cases = payload.get("cases") or [payload.get("case_id")]
        now = time.monotonic()
        with self.lock:
            for case in (int(c) for c in cases if c is not None):
                self.seen.setdefault(case, now)
            if kind == "message.posted" and meta.get("event_type") == "earshot_case":
                self.own_cards[int(payload["case_id"])] += 1

    def on_x(self, kind: str, tweet: dict[str, Any]) -> None:
        if kind == "post.added":
            with self.lock:
                self.arrived.setdefault(str(tweet["id"]), time.monotonic())


class Failures(logging.Handler):
    """Slack calls that failed after the client's retries (logged by the bot as warnings)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.ratelimited = 0
        self.other = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "Slack did not" in record.getMessage():
            if "ratelimited" in record.getMessage():
                self.ratelimited += 1
            else:
                self.other += 1


def sandbox_one_channel(workdir: Path, *, poll_seconds: float, one_channel: bool) -> Sandbox:
    sb = open_sandbox(workdir, poll_seconds=poll_seconds, slack_rate_limit=1.0)
    if one_channel:  # a first rule that takes every mention
        path = workdir / "earshot.toml"
        text = path.read_text("utf-8").replace(
            "[[routing.rules]]", ONE_CHANNEL + "[[routing.rules]]", 1
        )
        path.write_text(text, "utf-8")
        sb.config = load_config(path)
    return sb


def feed(sb: Sandbox, texts: list[str], seconds: float) -> None:
    start = time.monotonic()
    for n, text in enumerate(texts):
        due = start + seconds * n / len(texts)
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        sb.x.add_post(text=text, author={"handle": f"customer{n}", "followers": 50 + n})


def settle(sb: Sandbox, watch: Watch, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with watch.lock:
            if len(watch.seen) >= count:
                return
        time.sleep(0.2)


def delays(sb: Sandbox, watch: Watch) -> tuple[list[float], int]:
    """Seconds from arrival on X to first sight in Slack, per mention; and how many were lost."""
    assert sb.runtime is not None
    rows = sb.runtime.services.store.db.execute("select id, mention_id from cases").fetchall()
    case_of = {str(m).split(":", 1)[1]: int(c) for c, m in rows}
    out, lost = [], 0
    for tweet, arrived in watch.arrived.items():
        case = case_of.get(tweet)
        if case is None or case not in watch.seen:
            lost += 1
            continue
        out.append(watch.seen[case] - arrived)
    return out, lost


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return (
        ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")
    )


def report(sb: Sandbox, watch: Watch, failures: Failures, *, goal: float) -> list[float]:
    visible, lost = delays(sb, watch)
    posts = sb.slack.calls("chat.postMessage")
    updates = sb.slack.calls("chat.update")
    doubled = sum(n - 1 for n in watch.own_cards.values() if n > 1)
    late = sum(d > goal for d in visible)
    print(f"mentions on X: {len(watch.arrived)} · visible in Slack: {len(visible)} · lost: {lost}")
    print(f"cards posted twice: {doubled} · visible later than {goal:.0f} s: {late}")
    refused = sum(c.status == 429 for c in posts)
    print(
        f"chat.postMessage: {len(posts)} calls, {refused} answered 429; unhandled 429s "
        f"(a call that still failed after retries): {failures.ratelimited}; "
        f"other failed Slack calls: {failures.other}"
    )
    span = (updates[-1].at - updates[0].at) / 60 if len(updates) > 1 else 0
    rate = f" ({len(updates) / span:.0f}/min)" if span else ""
    print(f"chat.update: {len(updates)} calls{rate}")
    if visible:
        print(
            f"visibility delay X -> Slack: p50 {statistics.median(visible):.2f} s · "
            f"p95 {pct(visible, 0.95):.2f} s · max {max(visible):.2f} s"
        )
    return visible


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--poll", type=float, default=1.0, help="x.poll_interval_seconds")
    parser.add_argument("--jsonl", type=Path, help="read mention texts from this file")
    args = parser.parse_args()
    texts = from_file(args.jsonl, args.mentions) if args.jsonl else generated(args.mentions)
    failures = Failures()
    logging.getLogger("bot").addHandler(failures)
    with tempfile.TemporaryDirectory() as tmp:
        sb = sandbox_one_channel(Path(tmp), poll_seconds=args.poll, one_channel=True)
        with sb:
            watch = Watch()
            sb.slack.subscribe(watch.on_slack)
            sb.x.subscribe(watch.on_x)
            sb.start_bot()
            print(
                f"burst: {len(texts)} mentions in {args.seconds:.0f} s to #care-burst; poll every "
                f"{args.poll:g} s; Slack emulator: 1 chat.postMessage per second per channel"
            )
            started = time.monotonic()
            feed(sb, texts, args.seconds)
            settle(sb, watch, len(texts), timeout=60)
            print(f"fed in {time.monotonic() - started:.1f} s")
            report(sb, watch, failures, goal=15.0)
            assert sb.runtime is not None and sb.runtime.services.delivery is not None
            waiting = sb.runtime.services.delivery.pending()
            print(f"cards still to follow in burst threads at the end: {waiting} (~1 per second)")


if __name__ == "__main__":
    main()
