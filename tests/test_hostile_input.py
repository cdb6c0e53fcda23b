"""Hostile input never crashes Earshot: odd X payloads, broken config and playbook files, and
random (but correctly signed) Slack requests. Each ends in a result or a clear, named problem."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import load_config, parse_config
from bot.models import Case, CaseState, Priority, Sentiment
from bot.playbooks import parse_playbook
from bot.problems import ProblemsError
from bot.sandbox.harness import JANE, SAM, Sandbox
from bot.sandbox.slack import validate_message_blocks
from bot.sources.x import to_mention
from bot.triage import detect_language, noise_reason, score_sentiment
from handlers import blocks

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


def _card(mention: Any) -> tuple[str, list[blocks.Block]]:
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
    return blocks.case_card(blocks.CardView(case, mention, "Skylark", now=WHEN))


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
    f"{blocks.SUGGEST_ACTION}_1",
    blocks.WRITE_ACTION,
    blocks.CLAIM_ACTION,
    blocks.MOVE_ACTION,
    blocks.RETRY_ACTION,
    blocks.STORM_ANSWER_ACTION,
    blocks.STORM_TEMPLATE_INPUT,
    blocks.REPLY_INPUT,
    blocks.EDIT_ACTION,
    blocks.APPROVE_ACTION,
    "earshot_rule_menu_1",
    "earshot_rule_undo",
]
VIEW_IDS = [
    blocks.COMPOSE_VIEW,
    blocks.CONFIRM_VIEW,
    blocks.STORM_ANSWER_VIEW,
    blocks.APPROVE_EDIT_VIEW,
    blocks.REJECT_VIEW,
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
    from bot.rules import rule_problems
    from handlers import rule_blocks as rb

    state = {
        "name": {"name": {"value": "vip"}},
        "channel": {"channel": {"value": "#care-vip"}},
        "keywords": {"keywords": {"value": "lounge"}},
        "min_followers": {"min_followers": {"value": "lots"}},
    }
    spec, problems = rule_problems(rb.rule_data(state), where="")
    assert spec is None and any("min_followers" in p.where for p in problems)
