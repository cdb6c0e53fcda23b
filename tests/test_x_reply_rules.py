"""X's reply restriction (since 2026-02-24): an app may reply by API only to a post whose author
@mentions the brand or quotes one of its posts (every tier but Enterprise). A post found by a
keyword search gets *Reply on X* (X's web intent, in the brand's own X session) and *Mark
answered* instead of *Write reply*; the X emulator refuses such API replies as X does; a thread
X refuses after its first part leaves the rest for the agent to post by hand, never lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from factories import make_mention
from support import card_for, card_text, eventually, fresh, open_modal, reply_through_slack

from bot.config.settings import load_config
from bot.decide.x_rules import invited, reply_intent
from bot.desk.access import Refused
from bot.models import Author, CaseState, Mention, MentionKind, OutboxState, Reply
from bot.sandbox import Fault
from bot.sandbox.harness import JANE, Sandbox, open_sandbox
from bot.sandbox.x import REPLY_RESTRICTED
from bot.slack.views import ids

CREATE_TWEET = "POST /2/tweets"


def _sandbox(tmp_path: Path, *, tier: str = "pay-per-use") -> Sandbox:
    """The sandbox, with a keyword search for the brand's name and the given API tier."""
    box = open_sandbox(tmp_path)
    path = tmp_path / "earshot.toml"
    text = path.read_text(encoding="utf-8").replace(
        "page_size = 100\n",
        f'page_size = 100\nsearch_queries = ["skylark"]\napi_tier = "{tier}"\n',
    )
    path.write_text(text, encoding="utf-8")
    box.config = load_config(path)
    return box


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with _sandbox(tmp_path) as box:
        box.start_bot()
        yield box


def _case(sandbox: Sandbox, card: dict[str, Any]) -> int:
    assert sandbox.runtime is not None
    case = sandbox.runtime.services.store.case_by_card(channel_id=card["channel"], ts=card["ts"])
    assert case is not None
    return case.id


def _element(card: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in card.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return dict(element)
    return None


# ---- who invited the brand -----------------------------------------------------------------------


ANA = Author(id="9", handle="ana")


@pytest.mark.parametrize(
    ("post", "allowed"),
    [
        # the text decides where X's parse of the tweet names no one (entities={})
        (make_mention("@SkylarkAir my bag?", author=ANA, entities={}), True),
        # handles are case-insensitive
        (make_mention("@skylarkair my bag?", author=ANA, entities={}), True),
        (make_mention("@SkylarkAirFan my bag?", author=ANA, entities={}), False),
        # found by a keyword search
        (make_mention("skylark air lost my bag", author=ANA, entities={}), False),
        (make_mention("mail me@SkylarkAir.com", author=ANA, entities={}), False),
        # X's own parse wins: a reply in the brand's thread carries the @mention as an entity
        (
            make_mention(
                "thanks!", author=ANA, entities={"mentions": [{"username": "SkylarkAir"}]}
            ),
            True,
        ),
        (
            make_mention("@SkylarkAir", author=ANA, entities={"mentions": [{"username": "other"}]}),
            False,
        ),
        (  # a quote of one of the brand's posts
            make_mention(
                "this! https://t.co/x",
                author=ANA,
                entities={"urls": [{"expanded_url": "https://twitter.com/SkylarkAir/status/7"}]},
                kind=MentionKind.QUOTE,
            ),
            True,
        ),
        (
            make_mention(
                "this! https://t.co/x",
                author=ANA,
                entities={"urls": [{"expanded_url": "https://x.com/someone/status/7"}]},
                kind=MentionKind.QUOTE,
            ),
            False,
        ),
    ],
)
def test_x_takes_an_api_reply_only_where_the_brand_was_invited(
    post: Mention, allowed: bool
) -> None:
    assert invited(post, handle="SkylarkAir") is allowed


def test_the_web_intent_answers_that_post_with_the_text_filled_in() -> None:
    url = reply_intent("186", "Sorry Ana! ^JK & more")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "x.com", "/intent/post")
    assert parse_qs(parts.query) == {"in_reply_to": ["186"], "text": ["Sorry Ana! ^JK & more"]}


# ---- the card, the modal, Mark answered ----------------------------------------------------------


def test_a_post_found_by_search_offers_reply_on_x_and_mark_answered(sandbox: Sandbox) -> None:
    assert sandbox.runtime is not None and sandbox.driver is not None
    tweet = sandbox.x.add_post(
        text="flying skylark today, my bag is lost", author={"handle": "fin"}
    )
    card = card_for(sandbox, "fin")
    assert "X lets us answer this by API only if they @mention @SkylarkAir" in card_text(card)
    assert _element(card, ids.WRITE_ACTION) is None
    link = _element(card, ids.REPLY_ON_X_ACTION)
    assert link is not None and link["url"] == reply_intent(tweet)
    dm = _element(card, ids.DM_ON_X_ACTION)
    assert dm is not None and "recipient_id=" in dm["url"]
    assert (
        sandbox.driver.click(user=JANE, message=card, action_id=ids.REPLY_ON_X_ACTION).status == 200
    )

    sandbox.driver.click(user=JANE, message=card, action_id=ids.MARK_ANSWERED_ACTION)
    store = sandbox.runtime.services.store
    case_id = _case(sandbox, card)
    case = eventually(lambda: (c := store.case(case_id)).state is CaseState.REPLIED and c)
    assert case.replied_by == JANE
    assert case.first_response_at is not None  # the SLA and the stats count it
    shown = sandbox.slack.wait_for(
        lambda: "Replied by Jane Kim" in card_text(m := fresh(sandbox, card)) and m
    )
    assert _element(shown, ids.MARK_ANSWERED_ACTION) is None
    assert "reply.marked" in [row["action"] for row in store.audit_log(case.id)]
    assert sandbox.x.replies() == []  # nothing was posted by API


def test_a_suggestion_there_opens_its_text_for_x(sandbox: Sandbox) -> None:
    assert sandbox.driver is not None
    tweet = sandbox.x.add_post(
        text="skylark: flight delayed 3 hours again", author={"handle": "gil"}
    )
    card = card_for(sandbox, "gil")
    modal = open_modal(sandbox, user=JANE, card=card, action_id=f"{ids.SUGGEST_ACTION}_1")
    answer, after = sandbox.driver.submit(user=JANE, view_id=modal["id"])
    assert answer.status == 200 and after is not None, answer.body
    assert after["title"]["text"] == "Answer on X"
    post = _element(after, ids.REPLY_ON_X_ACTION)
    assert post is not None
    query = parse_qs(urlsplit(post["url"]).query)
    assert query["in_reply_to"] == [tweet] and query["text"][0].endswith("^JK")
    assert sandbox.x.replies() == []


def test_a_mention_is_answered_by_api_as_before(sandbox: Sandbox) -> None:
    sandbox.x.add_post(text="@SkylarkAir my flight is delayed again", author={"handle": "hal"})
    card = card_for(sandbox, "hal")
    assert _element(card, ids.WRITE_ACTION) is not None
    assert _element(card, ids.REPLY_ON_X_ACTION) is None
    reply_through_slack(sandbox, user=JANE, card=card)
    sandbox.x.wait_for(sandbox.x.replies)


def test_enterprise_apps_reply_by_api_to_any_post(tmp_path: Path) -> None:
    with _sandbox(tmp_path, tier="enterprise") as box:
        box.x.api_tier = "enterprise"  # X knows the app's tier
        box.start_bot()
        box.x.add_post(text="flying skylark, my flight is delayed", author={"handle": "ivy"})
        card = card_for(box, "ivy")
        assert _element(card, ids.REPLY_ON_X_ACTION) is None
        reply_through_slack(box, user=JANE, card=card)
        box.x.wait_for(box.x.replies)


def test_the_x_emulator_refuses_what_x_refuses(sandbox: Sandbox) -> None:
    """Even if a reply reached X by API, X's 403 would come back, explained to the agent."""
    assert sandbox.runtime is not None
    sandbox.x.add_post(text="skylark lost my bag", author={"handle": "jo"})
    card = card_for(sandbox, "jo")
    outbox = sandbox.runtime.services.outbox
    store = sandbox.runtime.services.store
    case = store.case(_case(sandbox, card))
    mention = store.mention(case.mention_id)
    reply, _ = store.add_reply(
        key="by-api",
        case=case,
        mention=mention,
        agent_id=JANE,
        text="Sorry Jo ^JK",
        template=None,
        now=sandbox.runtime.services.clock.now(),
    )
    done = outbox.deliver(reply.id)
    assert done.state is OutboxState.FAILED and "HTTP 403" in (done.error or "")
    assert "Reply on X" in (done.error or "")
    assert sandbox.x.replies() == []


# ---- a thread X refuses after its first part -----------------------------------------------------

LONG = (
    "We're so sorry about the delay, Kim. The aircraft for SK212 is held in Porto by the storm "
    "and the new departure is 18:40. Your connection to Madrid is protected: we have moved you to "
    "the 21:05 flight at no cost. Meal vouchers are at the service desk next to gate 14, and the "
    "lounge is open to you while you wait. DM us if the new times do not work for you."
)


def test_a_thread_refused_after_its_first_part_is_left_to_post_by_hand(sandbox: Sandbox) -> None:
    assert sandbox.runtime is not None and sandbox.driver is not None
    sandbox.x.add_post(text="@SkylarkAir my flight is delayed, stuck", author={"handle": "kim"})
    card = card_for(sandbox, "kim")
    services = sandbox.runtime.services

    def refuse_the_next(kind: str, payload: dict[str, Any]) -> None:
        if kind == "reply.created":
            sandbox.x.inject(Fault(CREATE_TWEET, status=403, body=REPLY_RESTRICTED))

    sandbox.x.subscribe(refuse_the_next)
    first = services.desk.confirm(
        key="thread", case_id=_case(sandbox, card), user_id=JANE, body=LONG, template=None
    )
    assert isinstance(first, Reply) and first.parts == 2
    services.outbox.deliver(first.id)
    one, two = services.store.thread_parts(first)
    assert one.state is OutboxState.SENT and two.state is OutboxState.FAILED
    shown = eventually(lambda: "Still to post" in card_text(m := fresh(sandbox, card)) and m)
    post = _element(shown, ids.REPLY_ON_X_ACTION)
    assert post is not None
    query = parse_qs(urlsplit(post["url"]).query)
    assert query == {"in_reply_to": [one.post_id], "text": [two.text]}  # never lost

    sandbox.driver.click(user=JANE, message=shown, action_id=ids.MARK_ANSWERED_ACTION)
    eventually(lambda: services.store.case(first.case_id).state is CaseState.REPLIED)


# ---- nothing goes out by API where X would refuse it ---------------------------------------------


def test_mark_answered_is_only_for_posts_earshot_cannot_answer(sandbox: Sandbox) -> None:
    """Marking a case answered stops its SLA clock without a post: only where X takes no reply
    by API, or refused part of a thread, never as a shortcut."""
    assert sandbox.runtime is not None
    sandbox.x.add_post(text="@SkylarkAir my flight is delayed again", author={"handle": "lia"})
    case_id = _case(sandbox, card_for(sandbox, "lia"))
    with pytest.raises(Refused) as refused:
        sandbox.runtime.services.desk.mark_answered(case_id, JANE)
    assert "Write reply" in str(refused.value)
    assert sandbox.runtime.services.store.case(case_id).state is CaseState.OPEN


def test_answering_a_storm_of_posts_found_by_search_posts_nothing_by_api(sandbox: Sandbox) -> None:
    assert sandbox.runtime is not None
    services = sandbox.runtime.services
    for handle in ("mo", "ned", "ora"):
        sandbox.x.add_post(text="skylark app is down, cannot log in", author={"handle": handle})
    case_ids = [_case(sandbox, card_for(sandbox, h)) for h in ("mo", "ned", "ora")]
    storm = eventually(lambda: services.store.case(case_ids[-1]).storm_id)
    answer = services.desk.answer_storm(storm, JANE, template_id="app-outage")
    assert answer.queued == () and len(answer.skipped) == 3
    assert all("Reply on X" in why for _, why in answer.skipped)
    assert sandbox.x.replies() == []
