"""Hostile input never crashes Earshot: odd X payloads, broken config and playbook files, and
random (but correctly signed) Slack requests. Each ends in a result or a clear, named problem."""

from __future__ import annotations

import html
import itertools
import json
import sqlite3
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import card_for, card_text, eventually

from bot.config.settings import load_config, parse_config
from bot.decide.noise import noise_reason
from bot.decide.playbooks import parse_playbook
from bot.decide.sentiment import score_sentiment
from bot.decide.triage import detect_language
from bot.models import Author, Case, CaseState, Mention, Priority, Sentiment
from bot.problems import ProblemsError
from bot.sandbox.harness import BRAND_USER_ID, JANE, SAM, Sandbox
from bot.sandbox.slack import validate_message_blocks
from bot.slack.views import cards, ids
from bot.slack.views.kit import Block
from bot.sources import bluesky, mastodon
from bot.sources.jsonl import read_mentions
from bot.sources.x import to_mention
from bot.storage.store import Store

WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ODD = "\u200b\u200d\u200e\u200f\u202e\u2066\ufeff\x00\x07\x1b\r\t"
texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=ODD + "가나다라 ✈️🧳😡👍🏽 abc<>&!@#", max_size=300),
    st.sampled_from(["", " ", "\n\n", "🧳" * 5000, "가" * 100_000, "a" * 100_000]),
)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@st.composite
def tweets(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An X API v2 tweet and its expanded author, with odd and missing fields."""
    tweet: dict[str, Any] = {"id": draw(st.integers(1, 10**19).map(str)), "text": draw(texts)}
    for key, values in {
        "author_id": st.sampled_from(["42", 42, None, ""]),
        "created_at": st.sampled_from(["2026-11-23T09:00:00.000Z", "not a date", 7, None]),
        "lang": st.sampled_from(["en", "ko", "und", "", None, 3]),
        "conversation_id": st.one_of(st.none(), st.text(max_size=5), st.integers()),
        "referenced_tweets": st.one_of(anything, st.just([{"type": "replied_to", "id": "1"}])),
    }.items():
        if draw(st.booleans()):
            tweet[key] = draw(values)
    user = {
        "username": draw(st.one_of(texts, anything)),
        "name": draw(st.one_of(texts, anything)),
        "public_metrics": draw(st.one_of(anything, st.just({"followers_count": "many"}))),
        "verified": draw(anything),
    }
    return tweet, user


def _card(mention: Any) -> tuple[str, list[Block]]:
    sentiment, _ = score_sentiment(mention.text)
    case = Case(
        id=1,
        mention_id=mention.id,
        channel="#care-general",
        rule=None,
        why="fallback",
        state=CaseState.OPEN,
        priority=Priority.NORMAL,
        sentiment=Sentiment(sentiment),
        created_at=WHEN,
        noise=noise_reason(mention),
        lang=detect_language(mention.text) or "",
    )
    return cards.case_card(cards.CardView(case, mention, "Skylark", now=WHEN))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=tweets())
def test_any_tweet_becomes_a_mention_and_a_valid_card(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    tweet, user = pair
    mention = to_mention(tweet, {str(tweet.get("author_id")): user}, brand="skylark")
    assert mention.id == f"x:{tweet['id']}"
    text, card = _card(mention)
    assert validate_message_blocks(card) == []
    assert len(text) <= 4000


# ---- no single mention may stop ingestion (issue 15) -----------------------------------------

# What a network's JSON can carry: lone surrogates ("\\ud800" escapes, passed through by every
# SDK's decoder), NUL and control characters, invisible and bidi characters, RTL scripts, emoji,
# mrkdwn and Slack tokens, and sheer size.
PIECES = (
    "\x00", "\x01", "\x07", "\x1b", "\x7f", "\r\n", "\u200b", "\u200d", "\u00ad", "\ufeff",
    "\u202e", "\u2066", "\u2069", "مرحبا", "שלום", "👩\u200d💻", "🧳", "😡", "가나다", "ㅠㅠ",
    "*bold*", "<!channel>", "&amp;", "\\ud800",
)  # fmt: skip
surrogates = st.integers(0xD800, 0xDFFF).map(chr)
hostile_text = st.one_of(
    st.lists(st.one_of(surrogates, st.sampled_from(PIECES), st.text(max_size=8)), max_size=12).map(
        "".join
    ),
    st.sampled_from(["\ud800" * 3000, "a" * 100_000, "🧳" * 20_000, "\u202e" + "x" * 5000]),
)
follower_counts = st.one_of(st.integers(0, 10**7), st.sampled_from([2**63 - 1, 2**63, 2**64]))
posts = st.fixed_dictionaries(
    {
        "text": hostile_text,
        "name": hostile_text,
        "handle": hostile_text,
        "followers": follower_counts,
    }
)
NETWORKS = ("x", "bluesky", "mastodon", "jsonl")
_NUMBERS = itertools.count(1_870_000_000_000_000_000)  # one id per example


@pytest.fixture(scope="module")
def page_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A real SQLite file, shared by the examples of this module (every example its own ids)."""
    store = Store(tmp_path_factory.mktemp("hostile") / "earshot.db")
    yield store
    store.close()


def _over_json(value: Any) -> Any:
    """What an SDK's JSON decoder hands the adapter (a surrogate travels as a ``\\udXXX``)."""
    return json.loads(json.dumps(value))


def _through_the_edge(
    network: str, n: int, *, text: str, name: str, handle: str, followers: int
) -> list[Mention]:
    """One post as ``network`` sends it, through that network's real adapter."""
    if network == "x":
        tweet = {"id": str(n), "text": text, "author_id": "42", "lang": "en"}
        metrics = {"followers_count": followers}
        user = {"id": "42", "username": handle, "name": name, "public_metrics": metrics}
        body = _over_json({"data": [tweet], "includes": {"users": [user]}})
        users = {str(u["id"]): u for u in body["includes"]["users"]}
        return [to_mention(t, users, brand="skylark") for t in body["data"]]
    if network == "bluesky":
        author = {"did": f"did:plc:{handle}", "handle": handle, "displayName": name}
        record = {"text": text, "createdAt": "2026-11-23T09:00:00Z", "langs": [name]}
        item: dict[str, Any] = {"uri": f"at://did:plc:a/app.bsky.feed.post/{n}{handle}"}
        item |= {"record": record, "author": {**author, "followersCount": followers}, "cid": name}
        found = bluesky.to_mention(_over_json(item), brand="skylark", reason="mention")
        return [found] if found else []
    if network == "mastodon":
        account = {"id": "7", "acct": handle, "display_name": name, "followers_count": followers}
        status: dict[str, Any] = {"id": str(n), "content": f"<p>{html.escape(text)}</p>"}
        status["spoiler_text"] = name
        status |= {"account": account, "url": f"https://social.example/@{handle}/{n}"}
        note = {"id": str(n), "type": "mention", "status": status}
        found = mastodon.to_mention(_over_json(note), brand="skylark", host="social.example")
        return [found] if found else []
    writer = {"id": handle, "handle": handle, "name": name, "followers": followers}
    line = json.dumps({"id": f"x:{n}", "text": text, "author": writer, "lang": name})
    return [m for m in read_mentions([line]) if isinstance(m, Mention)]  # else a named BadLine


@pytest.mark.parametrize("network", NETWORKS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(post=posts)
def test_any_post_from_any_network_is_stored_or_quarantined_and_the_cursor_moves(
    page_store: Store, network: str, post: dict[str, Any]
) -> None:
    n, followers = next(_NUMBERS), post["followers"]
    mentions = _through_the_edge(network, n, **post)
    key = f"{network}:hostile"
    saved = page_store.save_page(mentions, received_at=WHEN, cursors={key: str(n)})
    assert page_store.cursor(key) == str(n)
    assert len(saved.new) + len(saved.quarantined) == len(mentions)
    # Text is repaired at the edge: only a number the database cannot hold is quarantined.
    assert len(saved.quarantined) == (len(mentions) if followers >= 2**63 else 0)
    for mention_id in saved.new:
        stored = page_store.mention(mention_id)
        [mention] = [m for m in mentions if m.id == mention_id]
        assert (stored.text, stored.author, stored.raw) == (
            mention.text,
            mention.author,
            mention.raw,
        )
        fallback, card = _card(stored)
        assert validate_message_blocks(card) == []
        json.dumps([fallback, card], ensure_ascii=False).encode("utf-8")  # Slack gets UTF-8


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.tuples(hostile_text, hostile_text, follower_counts), min_size=1, max_size=4)
)
def test_a_page_of_unrepaired_mentions_is_stored_or_quarantined_never_a_crash(
    page_store: Store, texts: list[tuple[str, str, int]]
) -> None:
    """Past the edge, the store is the last line: whatever a mention holds, its page is saved."""
    n = next(_NUMBERS)
    mentions = [
        Mention(
            id=f"x:{n}:{i}{name[:3]}",
            network="x",
            text=text,
            author=Author(id=name[:5], handle=name, name=text[:50], followers=followers),
            raw={"text": text, name: [followers]},
        )
        for i, (text, name, followers) in enumerate(texts)
    ]
    saved = page_store.save_page(mentions, received_at=WHEN, cursors={"x:unrepaired": str(n)})
    assert page_store.cursor("x:unrepaired") == str(n)
    assert len(saved.new) + len(saved.quarantined) == len(mentions)
    quarantined = {row["mention_id"] for row in page_store.quarantined()}
    assert {q.mention_id for q in saved.quarantined} <= quarantined


@pytest.mark.parametrize("network", NETWORKS)
def test_regression_a_lone_surrogate_is_repaired_at_every_edge(network: str) -> None:
    """A lone surrogate in a post made its whole page fail to store, on every poll."""
    [mention] = _through_the_edge(
        network, 7, text="re\ud800fund", name="Ann \udfff", handle="ann", followers=3
    )
    assert "re\ufffdfund" in mention.text
    assert mention.author.name == "Ann \ufffd"
    assert "\\ud800" in json.dumps(mention.raw, ensure_ascii=False) or network == "bluesky"


def test_a_bad_post_among_good_ones_never_stops_x_polling(sandbox: Sandbox) -> None:
    """End to end: X serves a page with a post whose name and text hold lone surrogates (shown
    with U+FFFD) and one whose follower count no database holds (quarantined), among good ones.
    The good ones become cards, the cursor moves past them all, the leads hear once, and a
    restart does not fail on them again."""
    x = sandbox.x
    x.add_post(text="@SkylarkAir my bag is lost", author={"handle": "good_one"})
    x.add_post(
        text="@SkylarkAir re\ud800fund \udfff", author={"handle": "mended", "name": "A\udc00"}
    )
    bad = x.add_post(text="@SkylarkAir hello", author={"handle": "huge", "followers": 2**64})
    newest = x.add_post(text="@SkylarkAir flight delayed again", author={"handle": "good_two"})
    sandbox.start_bot()
    card_for(sandbox, "good_one")
    card_for(sandbox, "good_two")
    assert "re\ufffdfund \ufffd" in card_text(card_for(sandbox, "mended"))

    def told() -> list[str]:
        texts = [str(m.get("text")) for m in sandbox.slack.messages("#care-leads")]
        return [t for t in texts if "could not be stored" in t]

    [alert] = eventually(told)
    assert f"x:{bad}" in alert and "OverflowError" in alert
    database = sandbox.workdir / "earshot.db"
    with sqlite3.connect(database) as db:
        cursor = db.execute(
            "select value from cursors where key = ?", [f"x:mentions:{BRAND_USER_ID}"]
        )
        assert cursor.fetchone() == (newest,)
        assert db.execute("select mention_id, times from quarantine").fetchall() == [
            (f"x:{bad}", 1)
        ]
    sandbox.start_bot()  # a restart reads on from the cursor: nothing fails again
    x.add_post(text="@SkylarkAir and my coat", author={"handle": "after_restart"})
    card_for(sandbox, "after_restart")
    assert len(told()) == 1
    with sqlite3.connect(database) as db:
        assert db.execute("select times from quarantine").fetchall() == [(1,)]
        assert db.execute("select count(*) from cases").fetchone() == (4,)


# ---- config and playbook files --------------------------------------------------------------

MINIMAL = """
[brand]
name = "Skylark Air"
handle = "SkylarkAir"
"""
KEYS = {
    "earshot": ["database", "log_level", "playbooks"],
    "x": ["poll_interval_seconds", "api_url"],
    "slack": ["http_port", "http_host", "api_url"],
    "triage": ["urgent_followers", "storm_threshold"],
    "leads": ["users", "usergroup", "channel"],
}
toml_values = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.floats(allow_nan=True).map(lambda f: repr(f).replace("inf", "inf").replace("nan", "nan")),
    st.text(max_size=20).map(json.dumps),
    st.sampled_from(["true", "[]", "[1, 'a']", "{}", "{ a = 1 }", "1979-05-27", '"~/nowhere"']),
)


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    lines = [MINIMAL]
    for table, keys in KEYS.items():
        chosen = draw(st.lists(st.sampled_from([*keys, "unknown_key"]), unique=True, max_size=3))
        if chosen:
            lines.append(f"[{table}]")
            lines += [f"{key} = {draw(toml_values)}" for key in chosen]
    if draw(st.booleans()):
        lines.append(draw(st.text(alphabet=string.printable + "가✈️", max_size=60)))
    return "\n".join(lines)


@settings(max_examples=80, deadline=None)
@given(text=config_texts())
def test_any_config_text_is_a_config_or_named_problems(text: str, tmp_path_factory: Any) -> None:
    base = tmp_path_factory.getbasetemp()
    try:
        parse_config(text, source="earshot.toml", base_dir=base)
    except ProblemsError as exc:
        assert exc.problems
        assert all(p.message and p.source == "earshot.toml" for p in exc.problems)


def test_a_config_file_that_is_not_text_is_a_named_problem(tmp_path: Path) -> None:
    path = tmp_path / "earshot.toml"
    path.write_bytes(b"\xff\xfe\x00[brand]\x00")
    try:
        load_config(path)
    except ProblemsError as exc:
        assert exc.problems and str(path) in exc.problems[0].source
    else:
        raise AssertionError("a binary config file loaded")


PLAYBOOK = '[[template]]\nid = "t1"\nlabel = "Sorry"\ntext = "Sorry {name}"\n'
template_keys = ["id", "label", "text", "lang", "link", "keywords", "brand", "odd"]


@st.composite
def playbook_texts(draw: st.DrawFn) -> str:
    lines = [PLAYBOOK if draw(st.booleans()) else ""]
    for _ in range(draw(st.integers(0, 3))):
        lines.append("[[template]]")
        for key in draw(st.lists(st.sampled_from(template_keys), unique=True, max_size=5)):
            lines.append(f"{key} = {draw(toml_values)}")
    if draw(st.booleans()):
        lines.append(draw(st.text(alphabet=string.printable + "{}가", max_size=60)))
    return "\n".join(lines)


@settings(max_examples=80, deadline=None)
@given(text=playbook_texts())
def test_any_playbook_text_is_templates_or_named_problems(text: str) -> None:
    templates, problems = parse_playbook(text, source="general.toml")
    assert all(p.message and p.source == "general.toml" for p in problems)
    assert problems or templates or not text.strip() or "[[template]]" not in text


# ---- random Slack requests, signed as Slack signs them --------------------------------------

ACTION_IDS = [
    f"{ids.SUGGEST_ACTION}_1",
    ids.WRITE_ACTION,
    ids.CLAIM_ACTION,
    ids.MOVE_ACTION,
    ids.MOVE_TO_GUESS_ACTION,
    ids.RETRY_ACTION,
    ids.STORM_ANSWER_ACTION,
    ids.STORM_TEMPLATE_INPUT,
    ids.REPLY_INPUT,
    ids.EDIT_ACTION,
    ids.APPROVE_ACTION,
    "earshot_rule_menu_1",
    "earshot_rule_undo",
]
VIEW_IDS = [
    ids.COMPOSE_VIEW,
    ids.CONFIRM_VIEW,
    ids.STORM_ANSWER_VIEW,
    ids.APPROVE_EDIT_VIEW,
    ids.REJECT_VIEW,
    "earshot_rule_editor",
    "earshot_rule_apply",
]
values = st.one_of(st.text(max_size=30), st.sampled_from(["1", "1|x", "|", "-1", "99999999999"]))


@st.composite
def interactions(draw: st.DrawFn) -> dict[str, Any]:
    user = {"id": draw(st.sampled_from([JANE, SAM, ""])), "name": "x"}
    meta = draw(st.one_of(st.text(max_size=30), st.dictionaries(st.text(max_size=8), anything)))
    view = {
        "id": draw(st.sampled_from(["V1", ""])),
        "type": "modal",  # Slack always says (bolt itself reads it)
        "hash": "h",
        "callback_id": draw(st.sampled_from(VIEW_IDS)),
        "private_metadata": meta if isinstance(meta, str) else json.dumps(meta),
        "state": {"values": draw(st.dictionaries(st.text(max_size=8), anything, max_size=3))},
    }
    if draw(st.booleans()):
        return {"type": "view_submission", "user": user, "view": view}
    action = {"action_id": draw(st.sampled_from(ACTION_IDS)), "value": draw(values)}
    if draw(st.booleans()):
        action["selected_option"] = draw(st.one_of(anything, st.just({"value": draw(values)})))
    found: dict[str, Any] = {"type": "block_actions", "user": user, "actions": [action]}
    if draw(st.booleans()):
        found["view"] = view
    return found


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=interactions(), text=st.text(max_size=60))
def test_random_signed_slack_requests_never_crash_the_bot(
    bot: Sandbox, payload: dict[str, Any], text: str
) -> None:
    assert bot.driver is not None
    answer = bot.driver.interactive(payload)
    assert answer.status == 200, (answer, payload)
    said = bot.driver.command(user=payload["user"]["id"] or SAM, text=text)
    assert said.status == 200, (said, text)
    assert "Traceback" not in said.body


def test_answering_a_storm_that_does_not_exist_is_refused_in_words(bot: Sandbox) -> None:
    """An old or altered "Answer all" button: the agent is told, no form opens."""
    assert bot.driver is not None
    action = {"action_id": ids.STORM_ANSWER_ACTION, "value": "999"}
    payload = {"type": "block_actions", "user": {"id": JANE, "name": "x"}, "actions": [action]}
    assert bot.driver.interactive(payload).status == 200
    said = "Storm #999 has no cases to answer."
    told = bot.slack.wait_for(  # no channel in the payload: a direct message
        lambda: [m for m in bot.slack.messages() if said in str(m.get("text"))], timeout=10
    )
    assert told and not bot.slack.views()


def test_a_signed_form_without_a_payload_is_not_a_crash(bot: Sandbox) -> None:
    assert bot.driver is not None
    body = urlencode({"nonsense": "yes"})
    answer = bot.driver.send(body, content_type="application/x-www-form-urlencoded")
    assert answer.status in {200, 404}


# ---- regressions found by the properties above ----------------------------------------------


def test_regression_a_list_key_given_a_number_is_a_named_problem(tmp_path: Path) -> None:
    try:
        parse_config(MINIMAL + "[leads]\nusers = 1\n", source="e.toml", base_dir=tmp_path)
    except ProblemsError as exc:
        assert "leads.users" in [p.where for p in exc.problems]
    else:
        raise AssertionError("users = 1 was accepted")


def test_regression_odd_author_fields_and_references_do_not_break_normalising() -> None:
    tweet = {"id": "7", "text": "hi", "author_id": "42", "referenced_tweets": True}
    user = {"username": "ann", "public_metrics": {"followers_count": "many"}, "verified": "no"}
    mention = to_mention(tweet, {"42": user}, brand="skylark")
    assert (mention.author.followers, mention.author.verified, mention.in_reply_to) == (
        0,
        False,
        None,
    )
    assert to_mention({"id": "8", "created_at": "not a date"}, {}, brand="b").created_at is None


def test_regression_a_huge_display_name_keeps_the_card_within_slack_limits() -> None:
    tweet = {"id": "9", "text": "help", "author_id": "42"}
    mention = to_mention(tweet, {"42": {"username": "u" * 5000, "name": "가" * 5000}}, brand="b")
    text, card = _card(mention)
    assert validate_message_blocks(card) == [] and len(text) <= 4000


def test_regression_a_non_number_typed_in_the_rule_editor_is_a_named_problem() -> None:
    from bot.decide.rules import rule_problems
    from bot.slack.views import rules as rb

    state = {
        "name": {"name": {"value": "vip"}},
        "channel": {"channel": {"value": "#care-vip"}},
        "keywords": {"keywords": {"value": "lounge"}},
        "min_followers": {"min_followers": {"value": "lots"}},
    }
    spec, problems = rule_problems(rb.rule_data(state), where="")
    assert spec is None and any("min_followers" in p.where for p in problems)
