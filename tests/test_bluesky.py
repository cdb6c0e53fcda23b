"""Bluesky as the reference stack showed it (tests/real runs the same against the real PDS and
AppView; these run against the emulator, which now behaves the same way): notifications sorted
by sortAt (a phone whose clock is behind posts "in the past"), an AppView that shows a post a
moment after the PDS stored it, connections that drop after the PDS saved a post, the 3,000-byte
cap, reply languages, and notifications for every ancestor of a reply."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from atproto import Client
from support import card_for, cards_for, eventually, reply_through_slack

from bot.clock import ManualClock
from bot.decide import voice
from bot.models import Approval, OutboxState
from bot.sandbox import BlueskyEmulator, Fault
from bot.sandbox.bluesky import CREATE_RECORD, CREATE_SESSION
from bot.sandbox.harness import BLUESKY_HANDLE, JANE, ROSA, Sandbox, open_sandbox
from bot.slack.views.ids import WRITE_ACTION
from bot.sources import Outgoing, PublishError
from bot.sources.bluesky import (
    OVERLAP,
    BlueskyPublisher,
    BlueskySession,
    BlueskySource,
    Mark,
    record_key,
)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
TID = r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$"


class Clocks:
    """One time for the emulator and the bot, moved by hand."""

    def __init__(self) -> None:
        self.bot = ManualClock(NOW)

    def emulator(self) -> float:
        return self.bot.now().timestamp()

    def advance(self, seconds: float) -> None:
        self.bot.advance(seconds=seconds)


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def bsky(clocks: Clocks) -> Iterator[BlueskyEmulator]:
    with BlueskyEmulator(clock=clocks.emulator, appview_lag=1.0) as emulator:
        yield emulator


def _session(emulator: BlueskyEmulator) -> BlueskySession:
    saved: list[str] = []
    session = BlueskySession(
        client=Client(base_url=emulator.xrpc_url),
        handle=emulator.brand_handle,
        password="sandbox-app-password",
        saved=lambda: saved[-1] if saved else None,
        save=saved.append,
    )
    session.start()
    return session


def _source(emulator: BlueskyEmulator, clocks: Clocks) -> BlueskySource:
    return BlueskySource(
        session=_session(emulator),
        brand="Skylark Air",
        brand_handle=emulator.brand_handle,
        clock=clocks.bot,
    )


# ---- reading: the cursor and the overlap ---------------------------------------------------------


def test_a_post_from_a_clock_behind_is_read_once(bsky: BlueskyEmulator, clocks: Clocks) -> None:
    """Regression: the cursor kept only notifications newer than the newest read, so a post
    whose author's clock was 90 s behind (it sorts below) was skipped for good."""
    source = _source(bsky, clocks)
    bsky.add_post("ana.bsky.social", f"@{BLUESKY_HANDLE} first")
    clocks.advance(2)
    first = source.fetch({})
    assert [m.text for m in first.mentions] == [f"@{BLUESKY_HANDLE} first"]
    cursors = first.cursors
    bsky.add_post(
        "bo.bsky.social",
        f"@{BLUESKY_HANDLE} late",
        created_at=clocks.bot.now() - timedelta(seconds=90),
    )
    clocks.advance(2)
    read: list[str] = []
    for _ in range(5):  # later polls: read once, then never again
        fetch = source.fetch(cursors)
        read += [m.text for m in fetch.mentions]
        cursors = {**cursors, **fetch.cursors}
        clocks.advance(31)
    assert read == [f"@{BLUESKY_HANDLE} late"]


def test_a_post_indexed_after_a_newer_one_is_read(bsky: BlueskyEmulator, clocks: Clocks) -> None:
    """Regression: a post written first but indexed after a newer one (the AppView's lag) sorts
    below the cursor when it shows up."""
    source = _source(bsky, clocks)
    bsky.appview_lag = 5.0
    bsky.add_post("cy.bsky.social", f"@{BLUESKY_HANDLE} written first, indexed late")
    bsky.appview_lag = 0.5
    clocks.advance(1)
    bsky.add_post("dee.bsky.social", f"@{BLUESKY_HANDLE} written second, indexed at once")
    clocks.advance(1)
    early = source.fetch({})
    assert [m.author.handle for m in early.mentions] == ["dee.bsky.social"]
    clocks.advance(10)
    late = source.fetch(early.cursors)
    assert [m.author.handle for m in late.mentions] == ["cy.bsky.social"]


def test_the_cursor_keeps_only_the_overlap_and_reads_an_older_earshots_cursor() -> None:
    legacy = Mark.parse("2026-12-07T10:00:00.000Z")
    assert legacy is not None and legacy.at == NOW and dict(legacy.seen) == {}
    items = [
        {"uri": "at://a/app.bsky.feed.post/1", "indexedAt": "2026-12-07T10:30:00.000Z"},
        {"uri": "at://a/app.bsky.feed.post/2", "indexedAt": "2026-12-07T10:10:00.000Z"},
    ]
    mark = Mark.after(legacy, items)
    assert mark is not None and mark.at == NOW + timedelta(minutes=30)
    assert list(mark.seen) == ["at://a/app.bsky.feed.post/1"]  # the other is past the overlap
    assert Mark.parse(mark.dump()) == mark
    assert json.loads(mark.dump())["at"] == "2026-12-07T10:30:00.000Z"
    assert timedelta(minutes=15) == OVERLAP
    assert Mark.parse("not a time") is None and Mark.after(None, []) is None


# ---- sending: one record key per outbox row ------------------------------------------------------


def test_record_keys_are_tids_and_the_same_for_the_same_row() -> None:
    written = datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=UTC)
    post = Outgoing("hi ^JK", "at://x/app.bsky.feed.post/1", key="k1", written_at=written)
    again = Outgoing("hi ^JK", "at://x/app.bsky.feed.post/1", key="k1", written_at=written)
    part2 = Outgoing("… 2/2", "at://x/app.bsky.feed.post/1", key="k1#2", written_at=written)
    assert record_key(post) == record_key(again) != record_key(part2)

    assert re.match(TID, record_key(post)) and re.match(TID, record_key(part2))
    keys = {record_key(Outgoing("t", "u", key=f"row-{n}", written_at=written)) for n in range(5000)}
    assert len(keys) == 5000


def test_a_second_send_of_the_same_row_cannot_make_a_second_post(bsky: BlueskyEmulator) -> None:
    """The PDS refuses a second record under a key (HTTP 500); the row's post is found there."""
    session = _session(bsky)
    publisher = BlueskyPublisher(session=session, handle=bsky.brand_handle)
    bsky.appview_lag = 0.0
    customer = bsky.add_post("eve.bsky.social", f"@{BLUESKY_HANDLE} hi")
    post = Outgoing("Hello Eve ^JK", customer, key="row-1", written_at=NOW)
    posted = publisher.publish(post)
    with pytest.raises(PublishError) as refused:
        publisher.publish(post)
    assert refused.value.uncertain  # 500: look before any retry
    assert publisher.find_reply(post) == posted
    assert len(bsky.replies()) == 1
    other = Outgoing("Hello Eve ^JK", customer, key="row-2", written_at=NOW)
    assert publisher.find_reply(other) is None


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with open_sandbox(tmp_path, open_networks=True) as box:
        box.bluesky.appview_lag = 1.5  # the AppView shows new posts 1.5 s after the PDS
        box.start_bot()
        yield box


def _case(sandbox: Sandbox, handle: str) -> int:
    assert sandbox.runtime is not None
    card = card_for(sandbox, handle)
    case = sandbox.runtime.services.store.case_by_card(channel_id=card["channel"], ts=card["ts"])
    assert case is not None
    return case.id


def _confirm(sandbox: Sandbox, handle: str, body: str = "On it, sorry!") -> int:
    assert sandbox.runtime is not None
    reply = sandbox.runtime.services.desk.confirm(
        key=f"k-{handle}", case_id=_case(sandbox, handle), user_id=JANE, body=body, template=None
    )
    assert not isinstance(reply, Approval)
    return reply.id


@pytest.mark.parametrize("fault", ["drop", "hold", "500"])
def test_a_doubtful_send_reconciled_at_once_is_not_sent_twice(sandbox: Sandbox, fault: str) -> None:
    """Regression: reconciling through the AppView (it lags the PDS) found nothing and sent
    again. The PDS's own repo is asked now, and the row's record key rules out a second post."""
    assert sandbox.runtime is not None
    bsky, services = sandbox.bluesky, sandbox.runtime.services
    bsky.add_post("fay.bsky.social", f"@{BLUESKY_HANDLE} lost my bag")
    reply_id = _confirm(sandbox, "fay.bsky.social")
    faults = {
        "drop": Fault(endpoint=CREATE_RECORD, drop=True, applied=True),
        "hold": Fault(endpoint=CREATE_RECORD, status=200, applied=True, delay=6.0),
        "500": Fault(endpoint=CREATE_RECORD, status=500, applied=True),
    }
    bsky.inject(faults[fault])
    services.outbox.deliver(reply_id)
    assert services.store.reply(reply_id).state is OutboxState.SENDING
    services.outbox.recover()  # right away, as at start-up: the AppView has not seen it yet
    done = services.store.reply(reply_id)
    assert len(bsky.replies()) == 1
    assert done.state is OutboxState.SENT and done.post_id == bsky.replies()[0]["uri"]


def test_a_dropped_connection_tells_the_agent_not_public_yet(sandbox: Sandbox) -> None:
    """Regression: atproto raises httpx.RemoteProtocolError unwrapped; the row stayed 'sending'
    with no error, and the agent heard nothing."""
    sandbox.bluesky.add_post("gus.bsky.social", f"@{BLUESKY_HANDLE} seat gone")
    card = card_for(sandbox, "gus.bsky.social")
    sandbox.bluesky.inject(Fault(endpoint=CREATE_RECORD, drop=True, applied=True))
    reply_through_slack(sandbox, user=JANE, card=card, body="Sorry Gus!", action_id=WRITE_ACTION)
    told = eventually(
        lambda: [e for e in sandbox.slack.ephemerals(JANE) if "not public yet" in e["text"]]
    )
    assert "RemoteProtocolError" in told[0]["text"]
    assert "will not post it twice" in told[0]["text"]


# ---- the byte cap and languages ------------------------------------------------------------------


def test_a_reply_over_3000_bytes_is_a_thread_in_the_preview_and_on_bluesky(
    sandbox: Sandbox,
) -> None:
    """Regression: 130 family emoji (130 graphemes, 3,254 bytes with the signature) passed the
    preview as one post, which the PDS refuses."""
    assert sandbox.runtime is not None
    sandbox.bluesky.add_post("hal.bsky.social", f"@{BLUESKY_HANDLE} families?")
    body = "👨‍👩‍👧‍👦" * 130
    preview = sandbox.runtime.services.desk.preview(
        JANE, body, case_id=_case(sandbox, "hal.bsky.social")
    )
    assert len(preview.parts) == 2 and not preview.problems
    assert all(len(part.encode()) <= 3000 for part in preview.parts)
    alone = voice.check_reply(body, signature="^JK", medium=voice.BLUESKY, allow_thread=False)
    assert alone.blocks and "bytes over Bluesky's cap of 3,000 bytes" in alone.blocks[0]
    done = sandbox.runtime.services.outbox.deliver(_confirm(sandbox, "hal.bsky.social", body))
    assert done.state is OutboxState.SENT and len(sandbox.bluesky.replies()) == 2


def test_a_korean_reply_says_ko_and_an_english_one_en(sandbox: Sandbox) -> None:
    """Regression: the SDK wrote ``langs: ['en']`` on every reply."""
    assert sandbox.runtime is not None
    outbox = sandbox.runtime.services.outbox
    sandbox.bluesky.add_post("kim.bsky.social", f"@{BLUESKY_HANDLE} 환불 언제 되나요?")
    sandbox.bluesky.add_post("lee.bsky.social", f"@{BLUESKY_HANDLE} refund please")
    outbox.deliver(_confirm(sandbox, "kim.bsky.social", "확인 후 바로 안내해 드리겠습니다."))
    outbox.deliver(_confirm(sandbox, "lee.bsky.social", "We're checking your refund now."))
    langs = [reply["record"].get("langs") for reply in sandbox.bluesky.replies()]
    assert langs == [["ko"], ["en"]]


# ---- the thread ----------------------------------------------------------------------------------


def test_a_customer_answering_someone_else_under_our_reply_joins_their_case(
    sandbox: Sandbox,
) -> None:
    """The AppView notifies every ancestor of a reply (reason ``reply``); the customer's answer
    to another user under the brand's reply is theirs: it joins their case, not the other's."""
    assert sandbox.runtime is not None
    bsky, services = sandbox.bluesky, sandbox.runtime.services
    bsky.add_post("ida.bsky.social", f"@{BLUESKY_HANDLE} flight cancelled")
    case_id = _case(sandbox, "ida.bsky.social")
    reply = services.outbox.deliver(_confirm(sandbox, "ida.bsky.social"))
    assert reply.post_id
    other = bsky.add_post("jo.bsky.social", "same here!", reply_to=reply.post_id)
    card_for(sandbox, "jo.bsky.social")  # Jo answered the brand: a case of Jo's own
    bsky.add_post("ida.bsky.social", "did they call you?", reply_to=other)
    eventually(lambda: services.store.case(case_id).follow_ups == 1)
    assert len(cards_for(sandbox, "ida.bsky.social")) == 1


# ---- sessions ------------------------------------------------------------------------------------


def test_a_revoked_app_password_is_told_once_and_logins_pause(sandbox: Sandbox) -> None:
    bsky = sandbox.bluesky
    bsky.revoke_password(BLUESKY_HANDLE)
    bsky.expire_tokens()  # two hours later: the access token has expired too
    leads = sandbox.slack.channel_id("care-leads")

    def told() -> list[dict[str, object]]:
        return [m for m in sandbox.slack.messages(leads) if "⛔ Bluesky" in str(m.get("text"))]

    eventually(told)
    logins = len(bsky.calls(CREATE_SESSION))

    time.sleep(3)  # three more polls
    assert len(told()) == 1 and "app password" in str(told()[0]["text"])
    assert len(bsky.calls(CREATE_SESSION)) == logins
    assert sandbox.driver is not None
    status = str(sandbox.driver.command(user=ROSA, text="status").json()["text"])
    assert "Bluesky" in status
