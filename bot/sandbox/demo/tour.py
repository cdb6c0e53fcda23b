"""`earshot demo`: the whole loop on this machine, no credentials, with a live transcript.

Starts the Slack, X, Bluesky and Mastodon emulators and the real bot (HTTP mode) on loopback,
feeds our own demo mentions through X -> triage -> routing -> Slack cards, then scripted agents
answer them through the real Slack interaction path (signed clicks and modal submissions), on X
and on the open networks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.clock import RunningClock
from bot.models import NETWORK_NAMES
from bot.sandbox.demo import later as demo_later
from bot.sandbox.demo import networks as demo_networks
from bot.sandbox.demo.transcript import Transcript, short
from bot.sandbox.driver import find_element
from bot.sandbox.harness import (
    JANE,
    MINJUN,
    ROSA,
    SAM,
    THEO,
    Sandbox,
    demo_mentions,
    open_sandbox,
)
from bot.slack.views import ids, kit

_NAMES = {
    JANE: "Jane Kim",
    MINJUN: "Min-jun Park",
    THEO: "Theo Lane (trainee)",
    ROSA: "Rosa Diaz (lead)",
    SAM: "Sam Guest (not an agent)",
}


def _watch(sandbox: Sandbox, say: Transcript) -> None:
    """Narrate what the emulators see: arrivals on X, cards in Slack, public replies."""

    def on_x(kind: str, tweet: dict[str, Any]) -> None:
        user = sandbox.x.user(str(tweet["author_id"])) or {}
        handle = user.get("username", "?")
        if kind == "post.added" and handle != "SkylarkAir":
            followers = (user.get("public_metrics") or {}).get("followers_count", 0)
            say.say(
                "📥",
                f"X  @{handle} ({kit.reach(followers)}): “{short(tweet['text'])}”",
            )
        elif kind == "reply.created":
            say.say("📤", f"X  @SkylarkAir posted publicly: “{short(tweet['text'], 400)}”")

    shown: dict[str, str] = {}  # card ts -> the claim line last narrated

    def on_slack(kind: str, message: dict[str, Any]) -> None:
        if kind == "message.posted":
            if not demo_later.narrate_alert(sandbox, say, message):
                _narrate_card(sandbox, say, message)
        elif kind == "message.updated" and sandbox.runtime is not None:
            _narrate_update(sandbox, say, message, shown)
        elif kind == "ephemeral.posted":
            say.say(
                "🔒",
                f"Slack (only {_NAMES.get(message['user'], message['user'])} sees): "
                f"{short(message.get('text', ''), 160)}",
            )

    sandbox.x.subscribe(on_x)
    sandbox.slack.subscribe(on_slack)
    demo_networks.watch(sandbox, say)


def _narrate_card(sandbox: Sandbox, say: Transcript, message: dict[str, Any]) -> None:
    case_id = ((message.get("metadata") or {}).get("event_payload") or {}).get("case_id")
    if "Storm #" in json.dumps(message.get("blocks"), ensure_ascii=False):
        channel = "#" + sandbox.slack.channel_name(message["channel"])
        say.say(
            "🌩 ",
            f"Slack {channel}  storm card: {message['text']}; new look-alikes go in its thread",
        )
        return
    if case_id is None or sandbox.runtime is None:
        return
    store = sandbox.runtime.services.store
    case = store.case(int(case_id))
    mention = store.mention(case.mention_id)
    picks = ", ".join(
        f"{s['template']} ({'popular' if s.get('via') == 'popular' else round(s['score'])})"
        for s in store.case_suggestions(case.id)
    )
    where = " (in the storm's thread)" if message.get("thread_ts") else ""
    network = "" if mention.network == "x" else f" on {NETWORK_NAMES[mention.network]}"
    say.say(
        "🗂 ",
        f"Slack {case.channel}  card for case #{case.id} (@{mention.author.handle}{network})"
        f"{where} · "
        f"{case.priority.value} priority · {case.sentiment.value}",
        f"why: {case.why}",
        f"suggested: {picks or 'none above the cutoff'}",
        card=True,
    )


def _narrate_update(
    sandbox: Sandbox, say: Transcript, message: dict[str, Any], shown: dict[str, str]
) -> None:
    texts = " ".join(str(b.get("text", {}).get("text", "")) for b in message.get("blocks") or [])
    lines = [
        c["text"]
        for b in message.get("blocks") or []
        for c in b.get("elements") or []
        if isinstance(c, dict) and c.get("type") == "mrkdwn"
    ]
    channel = "#" + sandbox.slack.channel_name(message["channel"])
    if "Replied by" in texts:
        who = texts.split("Replied by", 1)[1].split("*", 1)[0].strip()
        say.say(
            "✅", f"Slack {channel}  card updated in place: “Replied by {who}” + link to the reply"
        )
        return
    claimed = next((t for t in lines if "is replying" in t), None)
    if claimed and shown.get(message["ts"]) != claimed:  # once, not on every later refresh
        shown[message["ts"]] = claimed
        say.say("🔒", f"Slack {channel}  card updated: {claimed.lstrip('🔒 ')}")


def _card_for(sandbox: Sandbox, handle: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next(
            (m for m in sandbox.slack.messages() if f"@{handle}" in m.get("text", "")), None
        )

    return sandbox.slack.wait_for(find, timeout=20)


def _new_view(sandbox: Sandbox, before: set[str]) -> dict[str, Any]:
    """The modal the bot opened after a click (one that was not there before it)."""

    def find() -> dict[str, Any] | None:
        fresh = [v for v in sandbox.slack.views() if not v["closed"] and v["id"] not in before]
        return fresh[-1] if fresh else None

    return sandbox.slack.wait_for(find, timeout=10)


def _reply(sandbox: Sandbox, say: Transcript, *, user: str, handle: str, edit: str = "") -> None:
    """One agent answers one card: pick the top suggestion, maybe edit, preview, confirm."""
    driver, name = sandbox.driver, _NAMES[user]
    assert driver is not None
    card, action = _card_for(sandbox, handle), f"{ids.SUGGEST_ACTION}_1"
    label = find_element(card["blocks"], action)[1]["text"]["text"]
    say.say("👤", f"{name} clicks the suggestion “{label}” on @{handle}'s card")
    before = {v["id"] for v in sandbox.slack.views()}
    driver.click(user=user, message=card, action_id=action)
    view = _new_view(sandbox, before)
    text = view["blocks"][1]["element"]["initial_value"]
    meter = view["blocks"][2]["elements"][0]["text"]
    say.say("📝", f"Reply modal opens, prefilled: “{short(text, 120)}”", f"meter: {meter}")
    if edit:
        text = f"{text} {edit}"
        driver.type_in_view(
            user=user,
            view_id=view["id"],
            block_id=ids.REPLY_BLOCK,
            action_id=ids.REPLY_INPUT,
            text=text,
        )
        say.say("⌨️ ", f"{name} adds a line of their own: “{edit}”")
    _, preview = driver.submit(user=user, view_id=view["id"])
    assert preview is not None, "the bot did not show a preview"
    public = preview["blocks"][1]["text"]["text"].removeprefix("> ")
    private = "privately" in preview["blocks"][0]["text"]["text"]
    goes = "is sent, as a direct message only the customer sees" if private else "goes public"
    say.say("👀", f"Preview shows exactly what {goes}: “{short(public, 400)}”")
    say.say("👍", f"{name} clicks “{preview['submit']['text']}”")
    driver.submit(user=user, view_id=view["id"])


def _script(sandbox: Sandbox, say: Transcript, cards: int, clock: RunningClock) -> None:
    driver = sandbox.driver
    assert driver is not None
    say.wait_for_cards(cards)
    zone = ZoneInfo(sandbox.config.brand.timezone)
    demo_later.later(say, clock, zone=zone, at=dt.time(9, 12), why="all cards are in Slack")
    say.say("──", "Agents at work:")
    say.say(
        "👤", "Sam Guest, who is not a configured agent, clicks Claim on @marcusreidtech's card"
    )
    driver.click(user=SAM, message=_card_for(sandbox, "marcusreidtech"), action_id=ids.CLAIM_ACTION)
    _reply(
        sandbox,
        say,
        user=JANE,
        handle="dana_travels",
        edit="Your SK212 feedback is going to our ops team today.",
    )
    _reply(sandbox, say, user=MINJUN, handle="minji_k")
    say.say("👤", "Jane Kim claims @marcusreidtech's card")
    driver.click(
        user=JANE, message=_card_for(sandbox, "marcusreidtech"), action_id=ids.CLAIM_ACTION
    )
    _wait_for_replied_cards(sandbox, 2)
    answer = driver.command(user=JANE, text="queue", channel="#care-general")
    zone = ZoneInfo(sandbox.config.brand.timezone)
    lines = [
        demo_later.plain(b["text"]["text"], sandbox, zone)
        for b in answer.json().get("blocks", [])
        if b.get("text")
    ]
    say.say(
        "💬",
        "Jane types /mentions queue and sees (only she sees it):",
        *(line for chunk in lines for line in chunk.splitlines()),
    )
    _note(sandbox, say)
    _trainee(sandbox, say)
    demo_networks.visit(sandbox, say, reply=_reply)
    _storm(sandbox, say)
    _lead_tests_a_rule(sandbox, say)
    demo_later.sla_day(sandbox, say, clock)
    demo_later.stats(sandbox, say)
    demo_later.digest(sandbox, say, clock)


def _note(sandbox: Sandbox, say: Transcript) -> None:
    """Thread replies on a card are internal: kept with the case, never posted."""
    assert sandbox.driver is not None and sandbox.runtime is not None
    card = _card_for(sandbox, "marcusreidtech")
    text = "He's on SK330 again on Friday; the desk in Lisbon has the bag report."
    say.say("💬", f"Jane Kim writes in the card's thread (internal): “{text}”")
    sandbox.driver.say_in_thread(
        user=JANE, channel=card["channel"], thread_ts=card["ts"], text=text
    )
    store = sandbox.runtime.services.store
    case = store.case_by_card(channel_id=card["channel"], ts=card["ts"])
    assert case is not None
    sandbox.slack.wait_for(lambda: store.notes(case.id), timeout=10)
    say.say("🔒", f"Kept as an internal note on case #{case.id}; nothing is posted on X")


def _trainee(sandbox: Sandbox, say: Transcript) -> None:
    """A trainee's reply waits for a lead; it goes public once she approves it."""
    assert sandbox.driver is not None
    _reply(sandbox, say, user=THEO, handle="lucia_m")

    def request() -> dict[str, Any] | None:
        found = [m for m in sandbox.slack.messages("#care-leads") if "Approval" in m["text"]]
        return found[-1] if found else None

    message = sandbox.slack.wait_for(request, timeout=10)
    say.say("🛡 ", "Slack #care-leads  the reply waits for a lead: Approve · Edit… · Reject…")
    say.say("👤", "Rosa Diaz (a lead) clicks Approve")
    sandbox.driver.click(user=ROSA, message=message, action_id=ids.APPROVE_ACTION)
    sandbox.x.wait_for(lambda: len(sandbox.x.replies()) >= 3, timeout=10)


STORM = (
    "@SkylarkAir is the app down? it keeps crashing when I check in",
    "@SkylarkAir app keeps crashing at check in, is it down for everyone?",
    "@SkylarkAir your app is down again, crashing every time I check in",
)


def _storm(sandbox: Sandbox, say: Transcript) -> None:
    """More look-alikes of Priya's post: a storm card instead of a flood of cards."""
    say.say("──", "An outage: more customers post about the app within minutes.")
    for i, text in enumerate(STORM):
        sandbox.x.add_post(text=text, author={"handle": f"traveller_{i + 1}", "followers": 40})
    say.wait_for_cards(len(STORM), more=True)


def _lead_tests_a_rule(sandbox: Sandbox, say: Transcript) -> None:
    assert sandbox.driver is not None
    text = "my refnud never arrived"
    answer = sandbox.driver.command(user=ROSA, text=f"route test {text}").json()["text"]
    say.say("💬", f"Rosa (a lead) types /mentions route test {text}:", *answer.splitlines())


def _feed(sandbox: Sandbox) -> int:
    """Our demo mentions, plus a pure retweet, which must never become a case."""
    ids = sandbox.x.load_jsonl(demo_mentions())
    sandbox.x.add_post(
        text="RT", author={"handle": "echo_bot_77", "name": "Echo"}, retweet_of=ids[2]
    )
    return len(ids)


def _summary(sandbox: Sandbox, say: Transcript) -> bool:
    store = sandbox.runtime.services.store if sandbox.runtime else None
    assert store is not None
    skipped = store.db.execute(
        "select author_handle, skip_reason from mentions where state = 'skipped'"
    ).fetchall()
    replies = sandbox.x.replies()
    signed = [r for r in replies if r["text"].rstrip().endswith(("^JK", "^MP", "^TL"))]
    elsewhere = [r["record"]["text"] for r in sandbox.bluesky.replies()]
    elsewhere += [r["text"] for r in sandbox.mastodon.replies()]
    signed_elsewhere = [t for t in elsewhere if t.rstrip().endswith(("^JK", "^MP", "^TL"))]
    cases = store.db.execute("select count(*), count(distinct channel) from cases").fetchone()
    arrived = store.db.execute("select count(*) from mentions where state != 'skipped'").fetchone()[
        0
    ]
    say.say(
        "🏁",
        f"Done: {arrived} customer mentions → {cases[0]} cases in {cases[1]} channels; "
        f"{len(skipped)} set aside (" + "; ".join(f"@{h}: {r}" for h, r in skipped) + "); "
        f"{len(signed)} signed public replies on X and {len(signed_elsewhere)} on Bluesky and "
        "Mastodon, each sent once.",
    )
    return len(signed) >= 3 and len(signed_elsewhere) >= 2


def run_demo(*, once: bool, out: TextIO) -> int:
    say = Transcript(out)
    with (
        tempfile.TemporaryDirectory(prefix="earshot-demo-") as tmp,
        open_sandbox(Path(tmp), extra_config=demo_later.DEMO_CONFIG, open_networks=True) as sandbox,
    ):
        _watch(sandbox, say)
        zone = ZoneInfo(sandbox.config.brand.timezone)
        clock = RunningClock(demo_later.demo_morning(zone))
        runtime = sandbox.start_bot(clock=clock)
        out.write(
            "Earshot demo — Skylark Air (@SkylarkAir), with Slack, X, Bluesky and Mastodon "
            "emulated on this machine.\n"
            f"  Slack emulator: {sandbox.slack.url}   X emulator: {sandbox.x.url}\n"
            f"  Bluesky emulator: {sandbox.bluesky.url}   "
            f"Mastodon emulator: {sandbox.mastodon.url}\n"
            f"  Bot (HTTP mode, signed requests): {runtime.http_url}\n"
            f"  The bot's clock starts at {clock.now().astimezone(zone):%a %d %b %H:%M} "
            f"({zone.key}) and jumps ahead later in the day.\n\n"
        )
        arrived = _feed(sandbox)
        _script(sandbox, say, arrived, clock)
        ok = _summary(sandbox, say)
        if once:
            return 0 if ok else 1
        _keep_running(sandbox, out)
    return 0


def _wait_for_replied_cards(sandbox: Sandbox, count: int) -> None:
    def settled() -> bool:
        replied = sum("Replied by" in json.dumps(m["blocks"]) for m in sandbox.slack.messages())
        return replied >= count

    sandbox.slack.wait_for(settled, timeout=20)


def _keep_running(sandbox: Sandbox, out: TextIO) -> None:
    example = json.dumps(
        {
            "text": "@SkylarkAir my bag never showed up in Denver",
            "author": {"handle": "you", "name": "You", "followers": 120},
        }
    )
    out.write(
        "\nThe demo keeps running. Add a mention and watch it flow into Slack:\n"
        f"  curl -s -X POST {sandbox.x.url}/_sandbox/mentions -H 'Content-Type: application/json' "
        f"-d '{example}'\n"
        "Press Ctrl-C to stop.\n"
    )
    out.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
