"""Security, proven over real HTTP: Slack's signature is checked (forged, stale and replayed
requests are refused before any listener runs), every action passes the one permission gate,
customer text can never ping or smuggle a link into Slack, secrets never reach a log, and the
database is readable by its owner only."""

from __future__ import annotations

import io
import json
import logging
import re
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from factories import make_mention
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier
from support import card_for, post

from bot.models import (
    Agent,
    Approval,
    ApprovalState,
    Author,
    Case,
    CaseState,
    Priority,
    Sentiment,
    StormPlan,
)
from bot.sandbox.driver import Answer
from bot.sandbox.harness import APP_TOKEN, JANE, ROSA, SAM, SANDBOX_ENV, SIGNING_SECRET, Sandbox
from bot.slack.views import approvals, cards, ids, modals, queue, storms
from bot.slack.views import rules as rb
from bot.storage.operations import PastCase
from handlers import commands

# ---- signatures: bolt's request verification in HTTP mode -------------------------------------


def _command_form(sandbox: Sandbox, user: str, text: str) -> bytes:
    form = {
        "team_id": "T0SANDBOX",
        "channel_id": sandbox.slack.channel_id("#care-general"),
        "user_id": user,
        "command": "/mentions",
        "text": text,
        "api_app_id": "A0EARSHOT",
        "response_url": f"{sandbox.slack.url}_sandbox/respond",
        "trigger_id": sandbox.slack.new_trigger_id(),
    }
    return urlencode(form).encode()


def _headers(body: bytes, *, stamp: int, secret: str = SIGNING_SECRET) -> dict[str, str]:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(stamp), body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": signature or "",
    }


def _claimed(sandbox: Sandbox) -> list[int]:
    """The open cases someone has claimed (a claim holds only an open case)."""
    assert sandbox.runtime is not None
    return [c.id for c in sandbox.runtime.services.store.open_cases() if c.claimed_by]


def _forgeries(body: bytes) -> dict[str, dict[str, str]]:
    now = int(time.time())
    signed = _headers(body, stamp=now)
    return {
        "forged signature": _headers(body, stamp=now, secret="not-the-signing-secret"),
        "stale timestamp": _headers(body, stamp=now - 6 * 60),
        "no signature": {k: v for k, v in signed.items() if k != "X-Slack-Signature"},
        "no timestamp": {k: v for k, v in signed.items() if k != "X-Slack-Request-Timestamp"},
        "no headers": {"Content-Type": signed["Content-Type"]},
        "replayed with a new timestamp": {**signed, "X-Slack-Request-Timestamp": str(now + 1)},
        "signature of another body": _headers(body + b"&x=1", stamp=now),
    }


def test_forged_stale_and_replayed_requests_get_401_and_change_nothing(bot: Sandbox) -> None:
    assert bot.driver is not None
    post(bot, "@SkylarkAir my bag never arrived in Denver", handle="dana")
    card = card_for(bot, "dana")
    case_id = card["metadata"]["event_payload"]["case_id"]
    body = _command_form(bot, "U0JANEKIM1", f"claim {case_id}")
    for name, headers in _forgeries(body).items():
        answer = bot.driver.post_raw(body, headers=headers)
        assert answer.status == 401, name
    assert _claimed(bot) == []
    assert bot.driver.post_raw(body, headers=_headers(body, stamp=int(time.time()))).status == 200
    assert _claimed(bot) == [case_id]  # the very same body, signed: it works


# ---- the database is readable by its owner only -----------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_the_database_and_its_wal_files_are_owner_only(bot: Sandbox) -> None:
    assert bot.runtime is not None
    post(bot, "@SkylarkAir where is my refund", handle="olu")
    card_for(bot, "olu")
    database = Path(bot.runtime.services.config.database)
    files = [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
    assert all(f.exists() for f in files)
    assert {f.name: oct(_mode(f)) for f in files} == {f.name: "0o600" for f in files}
    chart = bot.runtime.services.digest.post(day="2026-01-05")  # now, whatever the hour
    assert chart.parent == database.parent / "digests"
    assert oct(_mode(chart.parent)) == "0o700"
    assert oct(_mode(chart)) == "0o600"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_private_files_stay_private_under_any_umask_and_an_old_open_folder(tmp_path: Path) -> None:
    """Under umask 0, and in a folder an older Earshot left 0755 with a 0644 chart in it."""
    folder = tmp_path / "earshot-demo"
    folder.mkdir(mode=0o755)
    (folder / "old.png").write_bytes(b"x")
    (folder / "old.png").chmod(0o644)
    script = (
        "import os, sys; from pathlib import Path\n"
        "from bot.operations.charts import write_private\n"
        "os.umask(0)\n"
        "for name in ('new.png', 'old.png'):\n"
        "    with write_private(Path(sys.argv[1]) / name) as out: out.write(b'png')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(folder)], check=True)
    assert oct(_mode(folder)) == "0o700"
    assert {f.name: oct(_mode(f)) for f in folder.iterdir()} == {
        "new.png": "0o600",
        "old.png": "0o600",
    }


# ---- secrets never logged -------------------------------------------------------------------


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture
def every_log_record() -> Iterator[_Keep]:
    """Root logging at DEBUG into a list, for the length of the test (then as it was)."""
    keep, root = _Keep(), logging.getLogger()
    level = root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    try:
        yield keep
    finally:
        root.removeHandler(keep)
        root.setLevel(level)


def test_a_full_demo_run_logs_no_secret(
    every_log_record: _Keep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.sandbox.demo.tour import run_demo

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the demo's chart lands here
    out = io.StringIO()
    assert run_demo(once=True, out=out) == 0
    secrets = [*SANDBOX_ENV.values(), APP_TOKEN]
    lines = every_log_record.lines
    assert len(lines) > 100  # DEBUG really was on: slack_sdk, tweepy, urllib3 all spoke
    leaks = [(s, line[:300]) for line in lines for s in secrets if s in line]
    assert leaks == []
    assert [s for s in secrets if s in out.getvalue()] == []


def _dump(values: Any) -> str:
    return json.dumps(values, ensure_ascii=False)


# ---- one permission gate: every entry point, by someone who may not use it --------------------


class _Recorder:
    """Stands in for the bolt App while handlers register: records what they listen to."""

    def __init__(self) -> None:
        self.actions: set[str] = set()
        self.views: set[str] = set()
        self.events: set[str] = set()
        self.commands: set[str] = set()

    def _keep(self, into: set[str], key: str | re.Pattern[str]) -> Callable[[Any], Any]:
        into.add(key if isinstance(key, str) else key.pattern)
        return lambda listener: listener

    def action(self, key: str | re.Pattern[str]) -> Callable[[Any], Any]:
        return self._keep(self.actions, key)

    def view(self, key: str | re.Pattern[str]) -> Callable[[Any], Any]:
        return self._keep(self.views, key)

    def event(self, key: str) -> Callable[[Any], Any]:
        return self._keep(self.events, key)

    def command(self, key: str) -> Callable[[Any], Any]:
        return self._keep(self.commands, key)

    def error(self, listener: Any) -> Any:
        return listener


AGENT, LEAD, ANYONE = "agent", "lead", "anyone (reads only)"
RULE = "baggage"  # a rule of the sandbox config
TEMPLATE = "delay-apology"


@dataclass(frozen=True)
class Entry:
    """One way into Earshot from Slack: who may use it, and a payload that would use it."""

    who: str
    action: str = ""  # the action id clicked
    value: str = ""
    option: str = ""  # the menu option picked
    meta: dict[str, Any] = field(default_factory=dict)  # the modal's private_metadata
    state: dict[str, Any] = field(default_factory=dict)  # the modal's input state


def _typed(text: str) -> dict[str, str]:
    return {"type": "plain_text_input", "value": text}


def _picked(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": _plain(value)}}


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


CASE = 1  # the first mention of each test is case #1
ACTIONS: dict[str, Entry] = {
    f"^{ids.SUGGEST_ACTION}_\\d+$": Entry(AGENT, f"{ids.SUGGEST_ACTION}_1", f"{CASE}|{TEMPLATE}"),
    ids.WRITE_ACTION: Entry(AGENT, value=str(CASE)),
    ids.CLAIM_ACTION: Entry(AGENT, value=str(CASE)),
    ids.DISMISS_ACTION: Entry(AGENT, value=str(CASE)),
    ids.REOPEN_ACTION: Entry(AGENT, value=str(CASE)),
    ids.RETRY_ACTION: Entry(AGENT, value="1"),
    ids.RELEASE_ACTION: Entry(AGENT, value=str(CASE)),
    ids.TAKE_OVER_ACTION: Entry(LEAD, value=str(CASE)),
    ids.MOVE_ACTION: Entry(AGENT, option=f"{CASE}|#care-baggage"),
    ids.MOVE_TO_GUESS_ACTION: Entry(AGENT, value=f"{CASE}|#care-baggage"),  # a best guess
    ids.STORM_ANSWER_ACTION: Entry(AGENT, value="1"),
    ids.EDIT_ACTION: Entry(AGENT, meta={"case": CASE, "body": "Hello", "template": ""}),
    ids.MARK_ANSWERED_ACTION: Entry(AGENT, value=str(CASE)),
    ids.REPLY_ON_X_ACTION: Entry(ANYONE),  # a link: it opens X; the click only needs an ack
    ids.DM_ON_X_ACTION: Entry(ANYONE),
    ids.REPLY_INPUT: Entry(AGENT, value="Hello", meta={"case": CASE}),
    ids.STORM_TEMPLATE_INPUT: Entry(AGENT, option=TEMPLATE, meta={"storm": 1}),
    ids.APPROVE_ACTION: Entry(LEAD, value="1"),
    ids.APPROVE_EDIT_ACTION: Entry(LEAD, value="1"),
    ids.REJECT_ACTION: Entry(LEAD, value="1"),
    f"^{rb.RULE_MENU}_\\d+$": Entry(LEAD, f"{rb.RULE_MENU}_1", option=f"toggle|{RULE}"),
    rb.RULE_ADD: Entry(LEAD),
    rb.RULE_HISTORY: Entry(ANYONE),
    "^earshot_open_card_\\d+$": Entry(ANYONE, "earshot_open_card_1", str(CASE)),  # burst row
    rb.RULE_UNDO: Entry(LEAD),
}
VIEWS: dict[str, Entry] = {
    ids.COMPOSE_VIEW: Entry(
        AGENT,
        meta={"case": CASE, "template": ""},
        state={ids.REPLY_BLOCK: {ids.REPLY_INPUT: _typed("Sorry about that, we're on it.")}},
    ),
    ids.CONFIRM_VIEW: Entry(
        AGENT, meta={"key": "k1", "case": CASE, "body": "Sorry, we're on it.", "template": ""}
    ),
    ids.STORM_ANSWER_VIEW: Entry(
        AGENT,
        meta={"storm": 1, "template": TEMPLATE},
        state={ids.STORM_TEMPLATE_BLOCK: {ids.STORM_TEMPLATE_INPUT: _picked(TEMPLATE)}},
    ),
    ids.APPROVE_EDIT_VIEW: Entry(
        LEAD, meta={"approval": 1}, state={ids.REPLY_BLOCK: {ids.REPLY_INPUT: _typed("Approved.")}}
    ),
    ids.REJECT_VIEW: Entry(
        LEAD, meta={"approval": 1}, state={ids.NOTE_BLOCK: {ids.NOTE_INPUT: _typed("Too curt.")}}
    ),
    rb.RULE_EDITOR: Entry(
        LEAD,
        meta={"editing": ""},
        state={
            "name": {"name": _typed("vip")},
            "channel": {"channel": _typed("#care-vip")},
            "keywords": {"keywords": _typed("lounge")},
        },
    ),
    rb.RULE_APPLY: Entry(LEAD, meta={"proposal": 1}),
}
# `/mentions <sub> …`: what each subcommand needs. Reads are open to every workspace member.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "help": (ANYONE, ""),
    "queue": (ANYONE, ""),
    "route": (ANYONE, ""),
    "route test": (ANYONE, "my bag is lost"),
    "route history": (ANYONE, ""),
    "route undo": (LEAD, ""),
    "tag": (AGENT, "@dana +vip"),
    "playbooks": (ANYONE, ""),
    "playbooks reload": (LEAD, ""),
    "mine": (ANYONE, ""),
    "claim": (AGENT, str(CASE)),
    "take": (LEAD, str(CASE)),
    "release": (AGENT, str(CASE)),
    "resolve": (AGENT, str(CASE)),
    "snooze": (AGENT, f"{CASE} 2h"),
    "duty": (AGENT, "on"),
    "status": (ANYONE, ""),
    "stats": (ANYONE, ""),
    "search": (ANYONE, "bag"),  # being added: a read
}
# Events: a thread message is an internal note (anyone in the channel can write in a thread
# anyway; nothing in a thread is ever public); App Home shows each person their own view.
EVENTS = {"message", "app_home_opened"}


def test_every_registered_listener_is_in_the_permission_table(sandbox: Sandbox) -> None:
    """A new button, modal or subcommand without an entry here fails: decide who may use it."""
    import handlers

    services = sandbox.start_bot().services
    recorder = _Recorder()
    handlers.register(recorder, services)  # type: ignore[arg-type]
    assert recorder.actions == set(ACTIONS)
    assert recorder.views == set(VIEWS)
    assert recorder.events == EVENTS
    assert recorder.commands == {"/mentions"}
    assert set(commands.SUBCOMMANDS) <= {s.split()[0] for s in SUBCOMMANDS}


def _state(bot: Sandbox) -> dict[str, list[Any]]:
    """Everything Earshot keeps, but the audit log (a refusal is audited)."""
    assert bot.runtime is not None
    db = bot.runtime.services.store.db
    names = [t for t in db.table_names() if t != "audit"]
    return {t: db.execute(f"select * from [{t}]").fetchall() for t in names}


def _told(bot: Sandbox, user: str) -> str:
    private = [e.get("text", "") for e in bot.slack.ephemerals(user)]
    direct = [m.get("text", "") for m in bot.slack.messages(bot.slack.dm_channel(user))]
    return "\n".join(private + direct)


REFUSAL = re.compile(r"Only (agents|leads)\b")


def _action_payload(bot: Sandbox, key: str, entry: Entry, *, user: str) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "static_select" if entry.option else "button",
        "action_id": entry.action or key,
        "block_id": "b1",
        "action_ts": f"{time.time():.6f}",
    }
    if entry.value:
        action["value"] = entry.value
    if entry.option:
        action["selected_option"] = {"value": entry.option, "text": _plain(entry.option)}
    channel = bot.slack.channel_id("#care-general")
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0SANDBOX"},
        "user": {"id": user, "name": user.lower(), "team_id": "T0SANDBOX"},
        "api_app_id": "A0EARSHOT",
        "trigger_id": bot.slack.new_trigger_id(),
        "actions": [action],
        "channel": {"id": channel, "name": "care-general"},
        "response_url": f"{bot.slack.url}_sandbox/respond",
    }
    if entry.meta:
        payload["container"] = {"type": "view", "view_id": "V0FAKE"}
        payload["view"] = _view(key, entry)
    else:
        payload["container"] = {"type": "message", "channel_id": channel, "message_ts": "1.0"}
    return payload


def _view(callback_id: str, entry: Entry) -> dict[str, Any]:
    return {
        "id": "V0FAKE",
        "hash": "1.abc",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(entry.meta),
        "state": {"values": entry.state},
        "blocks": [],
    }


def _submission(key: str, entry: Entry, *, user: str) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T0SANDBOX"},
        "user": {"id": user, "name": user.lower(), "team_id": "T0SANDBOX"},
        "api_app_id": "A0EARSHOT",
        "view": _view(key, entry),
        "response_urls": [],
    }


@pytest.fixture
def desk_with_a_case(bot: Sandbox) -> Sandbox:
    """Case #1 open, a rule change proposed by a lead (proposal #1)."""
    post(bot, "@SkylarkAir my bag never arrived in Denver", handle="dana")
    card_for(bot, "dana")
    assert bot.runtime is not None
    bot.runtime.services.steering.propose_toggle(ROSA, RULE)
    return bot


def _refused(bot: Sandbox, answer: Answer, user: str) -> str:
    """The refusal the person was shown: in the HTTP answer, or privately in Slack."""

    def told() -> str | None:
        said = answer.body + "\n" + _told(bot, user)
        return said if REFUSAL.search(said) else None

    return bot.slack.wait_for(told, timeout=10)


def _outsiders(who: str) -> list[str]:
    return [SAM, JANE] if who == LEAD else [SAM]


INTERACTIONS = [("action", k, e) for k, e in ACTIONS.items()] + [
    ("view", k, e) for k, e in VIEWS.items()
]


@pytest.mark.parametrize(
    ("kind", "key", "entry"), INTERACTIONS, ids=[k for _, k, _ in INTERACTIONS]
)
def test_buttons_and_modals_refuse_who_may_not_use_them(
    desk_with_a_case: Sandbox, kind: str, key: str, entry: Entry
) -> None:
    bot = desk_with_a_case
    assert bot.driver is not None
    before = _state(bot)
    for user in _outsiders(entry.who) if entry.who != ANYONE else [SAM]:
        payload = (
            _action_payload(bot, key, entry, user=user)
            if kind == "action"
            else _submission(key, entry, user=user)
        )
        answer = bot.driver.interactive(payload)
        assert answer.status == 200, answer
        if entry.who != ANYONE:
            assert "Traceback" not in _refused(bot, answer, user)
    assert _state(bot) == before


@pytest.mark.parametrize(("sub", "need"), list(SUBCOMMANDS.items()), ids=list(SUBCOMMANDS))
def test_slash_subcommands_refuse_who_may_not_use_them(
    desk_with_a_case: Sandbox, sub: str, need: tuple[str, str]
) -> None:
    bot = desk_with_a_case
    assert bot.driver is not None
    who, args = need
    before = _state(bot)
    for user in _outsiders(who) if who != ANYONE else [SAM]:
        answer = bot.driver.command(user=user, text=f"{sub} {args}".strip())
        assert answer.status == 200, answer
        if who != ANYONE:
            assert REFUSAL.search(answer.json().get("text", "")), answer.body
    assert _state(bot) == before


# ---- customer text can never ping, mention or link in Slack -----------------------------------

LIVE = ("<!", "<@", "<#", "<http", "<mailto")
TOKENS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S123>",
    "<!subteam^S123|@everyone-team>",
    "<@U123>",
    "<@W999|boss>",
    "<#C123>",
    "<#C123|general>",
    "<http://evil.example|your bank>",
    "<https://evil.example>",
    "<mailto:a@evil.example|support>",
    "&lt;!channel&gt;",
    "&amp;lt;!here&amp;gt;",
    "[your bank](http://evil.example)",
    "<\u200d!channel>",
    "<\u200b@U123>",
    "\u202e<!here>",
    "<",
    "!",
    ">",
    "&",
    "|",
    "\n",
    "*bold* _it_ ~x~ `code`",
)
hostile = st.lists(
    st.one_of(st.sampled_from(TOKENS), st.text(max_size=12)), min_size=1, max_size=8
).map("".join)
AGENT_ID = "U0JANEKIM1"
AGENT = Agent(AGENT_ID, "Jane Kim", "^JK")
WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# What Earshot itself writes as live tokens: an agent by id, local times, links to X and cards.
OURS = re.compile(
    rf"<(@{AGENT_ID}|!date\^\d+\^[^|<>]*\|[^<>]*|https://x\.com/[^|<>\s]*(\|[^<>]*)?"
    r"|https://slack\.example/[^|<>\s]*(\|[^<>]*)?)>"
)


def _case(number: int = 1, **changes: Any) -> Case:
    case = Case(
        id=number,
        mention_id=f"x:{number}",
        channel="#care-baggage",
        rule="baggage",
        why="rule 1",
        state=CaseState.OPEN,
        priority=Priority.HIGH,
        sentiment=Sentiment.NEGATIVE,
        created_at=WHEN,
        permalink=f"https://slack.example/c/{number}",
    )
    return replace(case, **changes)


def _mrkdwn(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from _mrkdwn(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _mrkdwn(value)


def _rendered(text: str, name: str, handle: str, typed: str) -> Iterator[tuple[str, Any]]:
    """Every builder that shows customer (or agent-typed) text, fed the hostile strings."""
    customer = Author(id="42", handle=handle, name=name, followers=1200)
    m = make_mention(text, author=customer, created=WHEN, url="https://x.com/i/status/1", lang="en")
    later = make_mention(
        typed,
        native_id=2,
        author=customer,
        created=WHEN,
        url="https://x.com/i/status/2",
        lang="en",
    )
    case = _case()
    past = PastCase(9, WHEN, "replied", "negative", -0.5, (text[:20],), 1, None, text)
    card = cards.CardView(
        case,
        m,
        "Skylark",
        agents={AGENT_ID: AGENT},
        latest=later,
        history=(past,),
        customer_tags=(typed[:20],),
        now=WHEN,
        sla="1h left",
    )
    yield "card", cards.case_card(card)
    yield "card fallback", {"type": "mrkdwn", "text": cards.case_card(card)[0]}
    yield "customer context", {"type": "mrkdwn", "text": cards.customer_context(card)}
    members = ((case, m), (_case(2), later))
    yield "storm", storms.storm_card(storms.StormView(3, "#care-baggage", members, WHEN, WHEN))
    yield "queue", queue.queue_blocks([queue.QueueItem(case, m, name)], now=WHEN)
    approval = Approval(
        5, "k", 1, m.id, AGENT_ID, typed, (typed,), None, ApprovalState.PENDING, "trainee", WHEN
    )
    yield "approval", approvals.approval_message(approvals.ApprovalView(approval, m, name))
    yield "approve edit", approvals.approve_edit_modal(approval)
    yield "reject", approvals.reject_modal(approval)
    compose = modals.ComposeView(1, None, m, AGENT, typed, "Signed ^JK", slots=("booking",))
    yield "compose", modals.compose_modal(compose)
    preview = modals.PreviewView(
        1, None, typed, typed, "k", m, "SkylarkAir", 10, 280, parts=(typed, text), warnings=(typed,)
    )
    yield "preview", modals.preview_modal(preview)
    plan = StormPlan(3, 2, 2, "delay-apology", (("delay-apology", name[:30] or "x"),), typed, 10)
    yield "storm answer", storms.storm_answer_modal(plan)


@settings(max_examples=60, deadline=None)
@given(text=hostile, name=hostile, handle=hostile, typed=hostile)
def test_no_live_slack_token_comes_from_customer_or_typed_text(
    text: str, name: str, handle: str, typed: str
) -> None:
    for where, built in _rendered(text, name, handle, typed):
        for field_text in _mrkdwn(built):
            rest = OURS.sub("", field_text)
            assert not any(token in rest for token in LIVE), (where, field_text)


def test_hostile_text_is_shown_escaped_not_dropped() -> None:
    shown = {
        where: "\n".join(_mrkdwn(built))
        for where, built in _rendered("<!channel> hi", "<@U123>", "x", "<!here> ok")
    }
    assert "&lt;!channel&gt; hi" in shown["card"]
    assert "&lt;@U123&gt;" in shown["queue"]
    assert "&lt;!here&gt; ok" in shown["preview"]
