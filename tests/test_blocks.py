"""bot/slack/views: pure Block Kit builders. Customer text is escaped everywhere it appears."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.models import (
    Agent,
    Author,
    Case,
    CaseState,
    Mention,
    OutboxState,
    Priority,
    Reply,
    Sentiment,
)
from bot.slack.views import cards, ids, kit, modals, storms
from bot.slack.views.cards import CardView, SuggestionButton, case_card
from bot.slack.views.modals import (
    ComposeView,
    PreviewView,
    compose_modal,
    preview_modal,
    with_meter,
)
from bot.slack.views.queue import QueueItem, queue_blocks

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
JANE = Agent("U0JANEKIM1", "Jane Kim", "^JK")
AGENTS = {JANE.slack_id: JANE}
HOSTILE = "<!channel> hey <@U123> see <https://evil.example|click here> & <!here> > done"
MENTION = Mention(
    id="x:1001",
    network="x",
    text=HOSTILE,
    author=Author(id="9", handle="traveller", name="Ann <!everyone> Lee", followers=1500),
    url="https://x.com/traveller/status/1001",
)
CASE = Case(
    id=7,
    mention_id="x:1001",
    channel="#care-baggage",
    rule="baggage",
    why="rule 1 “baggage”: pattern matched “<!channel>”",
    state=CaseState.OPEN,
    priority=Priority.HIGH,
    sentiment=Sentiment.NEGATIVE,
    created_at=NOW,
)
REPLY = Reply(
    id=3,
    key="k-1",
    case_id=7,
    mention_id="x:1001",
    agent_id=JANE.slack_id,
    text="Sorry Ann, please DM us & we'll sort it <3 ^JK",
    state=OutboxState.SENT,
)
SUGGESTIONS = (
    SuggestionButton("baggage-missing", "Missing bag", 91.0),
    SuggestionButton("sorry-escalate", "Apologise and escalate", 74.0),
    SuggestionButton("dm-details", "Ask for a DM", 65.0),
)
BOT_LINK = re.compile(r"<https://x\.com/[^|>\s]+\|[^<>]+>")


def _view(**changes: Any) -> CardView:
    return replace(CardView(CASE, MENTION, "Skylark & Co", SUGGESTIONS, AGENTS), **changes)


CARD_STATES = {
    "open": _view(),
    "claimed": _view(case=replace(CASE, claimed_by=JANE.slack_id)),
    "replied": _view(
        case=replace(
            CASE,
            state=CaseState.REPLIED,
            replied_by=JANE.slack_id,
            reply_url="https://x.com/SkylarkAir/status/2002",
        ),
        reply=REPLY,
    ),
    "dismissed": _view(case=replace(CASE, state=CaseState.DISMISSED, closed_by=JANE.slack_id)),
    "sending": _view(reply=replace(REPLY, state=OutboxState.SENDING)),
    "failed": _view(
        reply=replace(REPLY, state=OutboxState.FAILED, error="403 <Forbidden> & duplicate")
    ),
}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _mrkdwn(node: Any) -> list[str]:
    return [d["text"] for d in _walk(node) if d.get("type") == "mrkdwn"]


def _rich(node: Any) -> list[dict[str, Any]]:
    """Every element inside rich text blocks (shown literally by Slack)."""
    blocks = [b for b in _walk(node) if b.get("type") == "rich_text"]
    return [e for b in blocks for e in _walk(b["elements"]) if "type" in e]


def _literal(node: Any) -> list[str]:
    """Text Slack shows as written: rich text ``text`` elements and plain_text objects."""
    rich = [e["text"] for e in _rich(node) if e.get("type") == "text"]
    return rich + [d["text"] for d in _walk(node) if d.get("type") == "plain_text"]


def _buttons(node: Any) -> list[dict[str, Any]]:
    return [d for d in _walk(node) if d.get("type") == "button"]


def _actions(node: Any) -> list[str]:
    return [b["action_id"] for b in _buttons(node)]


def _assert_escaped(text: str) -> None:
    without_bot_links = BOT_LINK.sub("", text)
    assert "<" not in without_bot_links, text
    assert ">" not in re.sub(r"^> |\n> |\n>$", "", without_bot_links), text
    assert not re.search(r"&(?!amp;|lt;|gt;)", text), text


# ---- escaping -------------------------------------------------------------------------------


@pytest.mark.parametrize("view", CARD_STATES.values(), ids=CARD_STATES.keys())
def test_customer_text_is_escaped_in_every_block(view: CardView) -> None:
    """Customer text is either literal (rich text, plain_text) or escaped mrkdwn; rich text
    holds only text elements, so nothing in it can ping, mention or link."""
    fallback, card = case_card(view)
    texts = _mrkdwn(card)
    assert texts
    for text in [fallback, *texts]:
        _assert_escaped(text)
    assert {e["type"] for e in _rich(card)} <= {"text", "rich_text_section", "rich_text_quote"}
    for raw in ("<!channel>", "<@U123>", "<https://evil.example", "<!here>", "<!everyone>"):
        assert not any(raw in text for text in texts)
        assert raw not in fallback


def test_customer_text_is_shown_literally_not_escaped_twice() -> None:
    _, card = case_card(_view())
    assert HOSTILE in _literal(card)
    assert "Ann <!everyone> Lee" in _literal(card)


def test_a_card_shows_mrkdwn_in_customer_text_literally() -> None:
    """Regression (issue 15): `*x*`, `_x_`, `~x~`, code and `>` quotes in a post or a name were
    rendered as formatting on the card."""
    text = "*refund* _now_ ~please~ `code`\n> not a quote"
    author = Author(id="9", handle="_jane_", name="*VIP* ~Ann~")
    _, card = case_card(_view(mention=replace(MENTION, text=text, author=author)))
    [name] = [e for e in _rich(card) if e.get("text") == "*VIP* ~Ann~"]
    assert name["style"] == {"bold": True}  # Earshot's bold, the customer's asterisks
    assert text in _literal(card)
    assert "(@_jane_) · 0 followers" in _literal(card)[1]
    for mrkdwn in _mrkdwn(card):
        assert not any(mark in mrkdwn for mark in ("*refund*", "_now_", "*VIP*", "_jane_"))


def test_a_name_with_a_bidi_override_is_neutralised_on_the_card() -> None:
    """A name like "\u202eevil" would reverse the card's text after it: every bidi embedding,
    override and isolate is shown as a visible marker instead."""
    author = Author(id="9", handle="ann", name="\u202eevil\u2066x\u2069")
    mention = replace(MENTION, text="hi \u202dthere", author=author)
    fallback, card = case_card(_view(mention=mention))
    assert "[U+202E]evil[U+2066]x[U+2069]" in _literal(card)
    assert "hi [U+202D]there" in _literal(card)
    dumped = json.dumps([fallback, card], ensure_ascii=False)
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", dumped)


def test_storms_bursts_and_moved_cards_show_customer_text_literally() -> None:
    mention = replace(MENTION, text="*x* _y_ `z`", author=Author(id="9", handle="a_b_", name="*V*"))
    built = {
        "storm": storms.storm_card(storms.StormView(3, "#care", ((CASE, mention),), NOW, NOW)),
        "burst": cards.burst_message(cards.BurstView(1, "#care", [(CASE, mention)], NOW)),
        "moved": cards.moved_card(by="Jane", channel="#b", permalink=None, text=mention.text),
    }
    for where, (_, card) in built.items():
        assert "*x* _y_ `z`" in _literal(card), where
        assert not any("*x*" in text for text in _mrkdwn(card)), where
    assert "@a_b_" in _literal(built["burst"][1])


@pytest.mark.parametrize(
    ("raw", "seen"),
    [("\u202eevil", "[U+202E]evil"), ("a\u2067b\u2069", "a[U+2067]b[U+2069]"), ("ok", "ok")],
)
def test_shown_marks_every_bidi_control_and_nothing_else(raw: str, seen: str) -> None:
    assert kit.shown(raw) == seen
    assert kit.escape(raw) == seen


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("a & b", "a &amp; b"), ("<!channel>", "&lt;!channel&gt;"), ("&lt;", "&amp;lt;")],
)
def test_escape_turns_specials_into_entities(raw: str, escaped: str) -> None:
    assert kit.escape(raw) == escaped


# ---- the open card --------------------------------------------------------------------------


def test_open_card_has_numbered_suggestion_buttons_with_case_and_template() -> None:
    buttons = [b for b in _buttons(case_card(_view())[1]) if "suggest" in b["action_id"]]
    assert [b["action_id"] for b in buttons] == [
        "earshot_suggest_1",
        "earshot_suggest_2",
        "earshot_suggest_3",
    ]
    assert [b["value"] for b in buttons] == [
        "7|baggage-missing",
        "7|sorry-escalate",
        "7|dm-details",
    ]
    assert buttons[0]["text"]["text"] == "💬 Missing bag"


def test_open_card_offers_write_claim_and_dismiss() -> None:
    actions = _actions(case_card(_view())[1])
    assert actions[-3:] == [ids.WRITE_ACTION, ids.CLAIM_ACTION, ids.DISMISS_ACTION]
    assert len(actions) == len(set(actions))


def test_open_card_without_suggestions_has_no_suggestion_buttons() -> None:
    actions = _actions(case_card(_view(suggestions=()))[1])
    assert actions == [ids.WRITE_ACTION, ids.CLAIM_ACTION, ids.DISMISS_ACTION]


def test_card_shows_priority_sentiment_brand_and_author() -> None:
    texts = _mrkdwn(case_card(_view())[1])
    assert texts[0] == "🟠 *High* · 😠 negative · X · *Skylark &amp; Co* · case #7"
    name, rest, text = _literal(case_card(_view())[1])[:3]
    assert (name, rest, text) == ("Ann <!everyone> Lee", " (@traveller) · 1.5k followers", HOSTILE)
    assert texts[1].startswith("<https://x.com/traveller/status/1001|Open on X> · ")


def test_claimed_card_has_no_claim_button_and_says_who_is_on_it() -> None:
    _, card = case_card(CARD_STATES["claimed"])
    assert ids.CLAIM_ACTION not in _actions(card)
    assert ids.WRITE_ACTION in _actions(card)
    assert "🔒 Jane Kim is replying" in _mrkdwn(card)


# Regression (fixed): CardView.name() returned '<@U…>' for people not in agents (e.g. an agent
# since removed from config); call sites escaped it, so Slack showed the literal text '<@U…>'.
@pytest.mark.parametrize("state", ["claimed", "dismissed", "replied"])
def test_someone_not_in_agents_is_shown_as_a_slack_mention(state: str) -> None:
    view = CARD_STATES[state]
    view = replace(view, agents={})
    _, card = case_card(view)
    assert any(f"<@{JANE.slack_id}>" in text for text in _mrkdwn(card))


def test_replied_card_says_who_replied_links_the_reply_and_has_no_buttons() -> None:
    _, card = case_card(CARD_STATES["replied"])
    assert _buttons(card) == []
    last = _mrkdwn(card)[-1]
    assert last.startswith("✅ *Replied by Jane Kim ^JK*")
    assert "<https://x.com/SkylarkAir/status/2002|View public reply>" in last
    assert "&gt; Sorry Ann" not in last  # quoted with "> ", not escaped twice
    assert "> Sorry Ann, please DM us &amp; we'll sort it &lt;3 ^JK" in last


def test_dismissed_card_offers_reopen_only() -> None:
    _, card = case_card(CARD_STATES["dismissed"])
    assert _actions(card) == [ids.REOPEN_ACTION]
    assert _buttons(card)[0]["value"] == "7"
    assert "🗂 Dismissed by Jane Kim" in _mrkdwn(card)


def test_a_reply_being_sent_shows_progress_and_no_buttons() -> None:
    _, card = case_card(CARD_STATES["sending"])
    assert _buttons(card) == []
    assert "⏳ Sending Jane Kim's reply…" in _mrkdwn(card)


def test_failed_reply_shows_the_error_and_a_retry_button() -> None:
    _, card = case_card(CARD_STATES["failed"])
    assert "⚠️ Reply by Jane Kim was not sent: 403 &lt;Forbidden&gt; &amp; duplicate" in (
        _mrkdwn(card)
    )
    retry = [b for b in _buttons(card) if b["action_id"] == ids.RETRY_ACTION]
    assert [(b["value"], b["style"]) for b in retry] == [("3", "danger")]
    assert ids.WRITE_ACTION in _actions(card)


def test_limits_hold_for_a_huge_mention_and_long_labels() -> None:
    huge = replace(MENTION, text=("<&> " * 2500), author=replace(MENTION.author, name="N" * 500))
    long_label = SuggestionButton("long", "L" * 200, 80.0)
    failed = replace(REPLY, state=OutboxState.FAILED, error="E" * 5000)
    view = _view(mention=huge, suggestions=(long_label,), reply=failed)
    fallback, card = case_card(view)
    assert len(huge.text) == 10_000
    for button in _buttons(card):
        assert len(button["text"]["text"]) <= 75
    for block in card:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert len(fallback) < 3000


# ---- reply modals ---------------------------------------------------------------------------


def _compose(**changes: Any) -> dict[str, Any]:
    view = ComposeView(
        case_id=7,
        template="baggage-missing",
        mention=MENTION,
        agent=JANE,
        body="Hi Ann, sorry about your bag.",
        meter="Signed *^JK* · 247 characters left",
    )
    return compose_modal(replace(view, **changes))


def test_compose_modal_has_callback_title_and_prefilled_input() -> None:
    modal = _compose()
    assert modal["callback_id"] == ids.COMPOSE_VIEW == "earshot_compose"
    assert len(modal["title"]["text"]) <= 24
    [input_block] = [b for b in modal["blocks"] if b["type"] == "input"]
    assert input_block["block_id"] == ids.REPLY_BLOCK
    assert input_block["element"]["action_id"] == ids.REPLY_INPUT
    assert input_block["element"]["initial_value"] == "Hi Ann, sorry about your bag."


def test_compose_modal_has_a_meter_context_block() -> None:
    [meter] = [b for b in _compose()["blocks"] if b.get("block_id") == "meter"]
    assert meter["type"] == "context"
    assert meter["elements"][0]["text"] == "Signed *^JK* · 247 characters left"


def test_compose_modal_carries_the_case_in_json_private_metadata() -> None:
    assert json.loads(_compose()["private_metadata"]) == {
        "case": 7,
        "template": "baggage-missing",
    }
    assert json.loads(_compose(template=None)["private_metadata"])["template"] == ""


def test_compose_modal_title_fits_for_a_long_network_label() -> None:
    assert len(_compose(network_label="A very long network name")["title"]["text"]) <= 24


def test_compose_modal_escapes_the_mention_it_answers() -> None:
    for text in _mrkdwn(_compose()):
        _assert_escaped(text)


def test_with_meter_replaces_only_the_meter_and_drops_read_only_keys() -> None:
    modal = _compose()
    from_slack = {
        **modal,
        "id": "V123",
        "hash": "1712345.abc",
        "state": {"values": {}},
        "team_id": "T1",
        "app_id": "A1",
    }
    updated = with_meter(from_slack, "Signed *^JK* · ⚠️ *3 characters over* the limit")
    assert not {"id", "hash", "state", "team_id", "app_id"} & updated.keys()
    assert updated["callback_id"] == modal["callback_id"]
    assert updated["private_metadata"] == modal["private_metadata"]
    at = next(i for i, b in enumerate(modal["blocks"]) if b.get("block_id") == "meter")
    others = [b for i, b in enumerate(updated["blocks"]) if i != at]
    assert others == [b for i, b in enumerate(modal["blocks"]) if i != at]
    assert updated["blocks"][at] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Signed *^JK* · ⚠️ *3 characters over* the limit"}],
        "block_id": "meter",
    }
    assert modal["blocks"][at]["elements"][0]["text"].endswith("247 characters left")


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (12, "Signed *^JK* · 12 characters left"),
        (0, "Signed *^JK* · 0 characters left"),
        (-5, "Signed *^JK* · ⚠️ *5 characters over* the limit"),
    ],
)
def test_meter_says_characters_left_or_over(left: int, text: str) -> None:
    assert modals.meter(signature="^JK", left=left) == text


def test_preview_modal_shows_the_exact_public_text_and_carries_the_key() -> None:
    public = "Sorry Ann, DM us & we'll fix it ^JK"
    modal = preview_modal(
        PreviewView(
            case_id=7,
            template="dm-details",
            body="Sorry Ann, DM us & we'll fix it",
            public_text=public,
            key="reply-7-abc",
            mention=MENTION,
            brand_handle="SkylarkAir",
            length=35,
            limit=280,
        )
    )
    assert modal["callback_id"] == ids.CONFIRM_VIEW
    assert len(modal["title"]["text"]) <= 24
    texts = _mrkdwn(modal)
    assert "> " + kit.escape(public) in texts
    assert "*publicly*" in texts[0] and "@SkylarkAir" in texts[0] and "@traveller" in texts[0]
    assert "35/280 characters" in texts[2]
    assert json.loads(modal["private_metadata"]) == {
        "case": 7,
        "template": "dm-details",
        "body": "Sorry Ann, DM us & we'll fix it",
        "key": "reply-7-abc",
        "answering": "x:1001",  # the post the preview showed: confirm refuses if it changed
    }
    assert _actions(modal) == [ids.EDIT_ACTION]


# ---- /mentions queue ------------------------------------------------------------------------


def _item(case_id: int, channel: str, minutes_ago: int, **case: Any) -> QueueItem:
    mention = replace(MENTION, id=f"x:{case_id}", text=f"mention number {case_id} & more")
    opened = replace(
        CASE, id=case_id, channel=channel, created_at=NOW - timedelta(minutes=minutes_ago), **case
    )
    return QueueItem(opened, mention, None)


def test_queue_says_when_it_is_empty() -> None:
    [block] = queue_blocks([], now=NOW)
    assert "queue is empty" in block["text"]["text"]


def test_queue_groups_by_channel_oldest_first_with_permalinks() -> None:
    items = [  # as the store returns them: oldest first across channels
        _item(1, "#care-delays", 200, permalink="https://slack.example/p1"),
        _item(2, "#care-baggage", 90),
        _item(3, "#care-delays", 30, permalink="https://slack.example/p3"),
        _item(4, "#care-baggage", 5),
    ]
    result = queue_blocks(items, now=NOW)
    texts = [b["text"]["text"] for b in result]
    assert texts[0] == "*4 open case(s)*, oldest first"
    baggage, delays = texts[1], texts[2]
    assert baggage.startswith("*#care-baggage* (2)")
    assert baggage.index("#2") < baggage.index("#4")
    assert delays.startswith("*#care-delays* (2)")
    assert "<https://slack.example/p1|#1> 3h 20m" in delays
    assert delays.index("|#1>") < delays.index("|#3>")
    assert "@traveller: mention number 1 &amp; more" in delays


def test_queue_shows_who_claimed_a_case() -> None:
    item = replace(_item(1, "#care", 1), claimed_by="Jane <Kim>")
    text = queue_blocks([item], now=NOW)[1]["text"]["text"]
    assert text.endswith("🔒 Jane &lt;Kim&gt;")


def test_queue_cuts_long_channels_and_says_how_many_more() -> None:
    items = [_item(i, "#care", 100 - i) for i in range(1, 21)]
    text = queue_blocks(items, now=NOW, per_channel=15)[1]["text"]["text"]
    assert text.count("\n• ") == 15
    assert text.endswith("…and 5 more")


def test_queue_never_exceeds_50_blocks() -> None:
    items = [_item(i, f"#care-{i:03d}", i) for i in range(1, 80)]
    result = queue_blocks(items, now=NOW)
    assert len(result) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in result)


@pytest.mark.parametrize(
    ("followers", "text"),
    [
        (0, "0 followers"),
        (999, "999 followers"),
        (1500, "1.5k followers"),
        (2_300_000, "2.3M followers"),
    ],
)
def test_reach_is_short_and_readable(followers: int, text: str) -> None:
    assert kit.reach(followers) == text


def test_the_card_says_why_the_priority_and_shows_each_suggestion_as_it_would_go_out() -> None:
    reasons = ("very negative", "urgent term “stranded”")
    suggestions = (
        SuggestionButton(
            "claim",
            "Start a claim",
            88.0,
            "Sorry, Dana! Start a claim here: https://help.skylark.example/claim",
            "close to “bag damaged” (88)",
        ),
        SuggestionButton(
            "dm-us", "DM us", 0.0, "Please DM us: <https://x|*bold*>", "often sent (9 times)"
        ),
    )
    view = _view(case=replace(CASE, priority_reasons=reasons), suggestions=suggestions)
    _, blocks = cards.case_card(view)
    text = json.dumps(blocks, ensure_ascii=False)
    assert "⚑ High because very negative; urgent term “stranded”" in text
    assert "1. Sorry, Dana! Start a claim here: https://help.skylark.example/claim" in text
    assert "_often sent (9 times)_" in text and "(0)" not in text  # popular: no score shown
    assert "&lt;https://x|*bold*&gt;" in text  # rendered text is escaped in mrkdwn
