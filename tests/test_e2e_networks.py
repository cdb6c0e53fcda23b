"""Bluesky and Mastodon end to end, each through its real SDK against its emulator on loopback:
a mention becomes a card that names the network, an agent's reply goes out on that network (a
proper thread reply on Bluesky; addressed, and never more visible than the post, on Mastodon),
the customer's follow-up joins the case, and a restart resumes from the stored cursor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support import (
    card_for,
    card_text,
    cards_for,
    eventually,
    open_modal,
    reply_through_slack,
)

from bot.models import Approval, OutboxState
from bot.sandbox import Fault
from bot.sandbox.bluesky import CREATE_RECORD
from bot.sandbox.harness import BLUESKY_HANDLE, JANE, ROSA, Sandbox, open_sandbox
from bot.sandbox.mastodon import POST_STATUS
from bot.slack.views import ids

ANA = "ana.bsky.social"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with open_sandbox(tmp_path, open_networks=True) as box:
        box.start_bot()
        yield box


def _case_of(sandbox: Sandbox, card: dict[str, Any]) -> int:
    assert sandbox.runtime is not None
    case = sandbox.runtime.services.store.case_by_card(channel_id=card["channel"], ts=card["ts"])
    assert case is not None
    return case.id


def _follow_ups(sandbox: Sandbox, case_id: int) -> int:
    assert sandbox.runtime is not None
    return sandbox.runtime.services.store.case(case_id).follow_ups


# ---- Bluesky ------------------------------------------------------------------------------------


def test_bluesky_mention_card_thread_reply_follow_up_and_restart(sandbox: Sandbox) -> None:
    bsky = sandbox.bluesky
    first = bsky.add_post(ANA, f"@{BLUESKY_HANDLE} my bag never arrived in Lisbon, 3 days now")
    card = card_for(sandbox, ANA)
    assert "Bluesky" in card_text(card)
    case_id = _case_of(sandbox, card)

    preview = reply_through_slack(
        sandbox, user=JANE, card=card, body="So sorry Ana, DM us your file reference please."
    )
    assert "on Bluesky as *@skylarkair.bsky.social*" in card_text(preview)
    reply = bsky.wait_for(lambda: (bsky.replies() or [None])[0], timeout=10)
    record = reply["record"]
    assert record["text"] == "So sorry Ana, DM us your file reference please. ^JK"
    assert record["reply"]["root"]["uri"] == first and record["reply"]["parent"]["uri"] == first
    eventually(
        lambda: "Replied by" in card_text(sandbox.slack.message(card["channel"], card["ts"]))
    )

    # Ana answers the brand's reply: her post joins the same case, no new card
    bsky.add_post(ANA, "Sent you a DM just now", reply_to=reply["uri"])
    eventually(lambda: _follow_ups(sandbox, case_id) == 1)

    # a restart resumes from the stored cursor: nothing read twice, the new post read once
    sandbox.stop_bot()
    bsky.add_post(ANA, f"@{BLUESKY_HANDLE} and my stroller is missing too")
    sandbox.start_bot()
    eventually(lambda: _mentions(sandbox, "bluesky") == 3)
    assert bsky.logins(BLUESKY_HANDLE) == 1  # the stored session was reused, no new login
    eventually(lambda: len(cards_for(sandbox, ANA)) == 2)  # the new post, once


def test_bluesky_counts_graphemes_in_the_preview(sandbox: Sandbox) -> None:
    sandbox.bluesky.add_post("kim.bsky.social", f"@{BLUESKY_HANDLE} 환불 언제 되나요?")
    card = card_for(sandbox, "kim.bsky.social")
    modal = open_modal(sandbox, user=JANE, card=card, action_id=ids.WRITE_ACTION)
    assert modal["title"]["text"] == "Reply on Bluesky"
    assert sandbox.driver is not None
    body = "확인해 보겠습니다 " * 40  # 360 characters: too long for one post on Bluesky
    answer, preview = sandbox.driver.submit(
        user=JANE, view_id=modal["id"], values={ids.REPLY_BLOCK: {ids.REPLY_INPUT: body}}
    )
    assert preview is not None, answer.body
    assert "thread of 2" in card_text(preview)


# ---- Mastodon -----------------------------------------------------------------------------------


def test_mastodon_mention_card_reply_follow_up_and_restart(sandbox: Sandbox) -> None:
    masto = sandbox.mastodon
    masto.add_user("ana@other.example", name="Ana")
    first = masto.add_status("ana@other.example", "@skylarkair my refund is 3 weeks late")
    card = card_for(sandbox, "ana@other.example")
    assert "Mastodon" in card_text(card)
    case_id = _case_of(sandbox, card)

    preview = reply_through_slack(sandbox, user=JANE, card=card, body="Sorry Ana, checking now.")
    assert "posted *publicly* on Mastodon" in card_text(preview)
    reply = masto.wait_for(lambda: (masto.replies() or [None])[0], timeout=10)
    assert reply["in_reply_to_id"] == first
    assert reply["visibility"] == "public"
    assert "@ana@other.example Sorry Ana, checking now. ^JK" in reply["requested"]["status"]
    assert reply["idempotency_key"]

    masto.add_status("ana@other.example", "@skylarkair thanks!", in_reply_to=reply["id"])
    eventually(lambda: _follow_ups(sandbox, case_id) == 1)

    sandbox.stop_bot()
    masto.add_status("ana@other.example", "@skylarkair one more thing: my receipt?")
    sandbox.start_bot()
    eventually(lambda: _mentions(sandbox, "mastodon") == 3)
    assert _mentions(sandbox, "mastodon") == 3  # nothing read twice after the restart


def _mentions(sandbox: Sandbox, network: str) -> int:
    """How many mentions from ``network`` the bot has stored."""
    assert sandbox.runtime is not None
    store = sandbox.runtime.services.store
    return store.count("mentions", where="network = ?", params=[network])


def test_a_mastodon_direct_message_is_answered_privately(sandbox: Sandbox) -> None:
    masto = sandbox.mastodon
    masto.add_user("bo@other.example", name="Bo")
    masto.add_status("bo@other.example", "@skylarkair my booking ref is QX7", visibility="direct")
    card = card_for(sandbox, "bo@other.example")
    assert "direct message" in card_text(card)
    preview = reply_through_slack(sandbox, user=JANE, card=card, body="Thanks Bo, on it.")
    assert "sent *privately*" in card_text(preview)
    assert preview["submit"]["text"] == "Send privately"
    reply = masto.wait_for(lambda: (masto.replies() or [None])[0], timeout=10)
    assert reply["visibility"] == "direct"


def test_status_shows_each_network_and_what_it_costs(sandbox: Sandbox) -> None:
    sandbox.bluesky.add_post("cy.bsky.social", f"@{BLUESKY_HANDLE} hello")
    card_for(sandbox, "cy.bsky.social")
    assert sandbox.driver is not None

    def status() -> str | None:
        text = str(sandbox.driver.command(user=ROSA, text="status").json()["text"])  # type: ignore[union-attr]
        return text if "Mastodon" in text and "Bluesky" in text else None

    text = eventually(status)
    assert "free (reading and replying cost nothing on Bluesky)" in text
    assert "1 posts read" in text


# ---- exactly once -------------------------------------------------------------------------------


def _confirm(sandbox: Sandbox, handle: str) -> int:
    """Jane confirms a reply on the case of ``handle``'s post and it is sent once; its id."""
    assert sandbox.runtime is not None
    card = card_for(sandbox, handle)
    services = sandbox.runtime.services
    case_id = _case_of(sandbox, card)
    reply = services.desk.confirm(
        key=f"k-{handle}", case_id=case_id, user_id=JANE, body="On it, sorry!", template=None
    )
    assert not isinstance(reply, Approval)
    services.outbox.deliver(reply.id)
    return reply.id


@pytest.mark.parametrize("network", ["bluesky", "mastodon"])
def test_a_post_made_but_unanswered_is_found_not_sent_again(sandbox: Sandbox, network: str) -> None:
    """The network took the post and then failed (500 after the work): the outbox asks the
    network, finds the reply, and never posts it twice."""
    assert sandbox.runtime is not None
    if network == "bluesky":
        sandbox.bluesky.add_post("dee.bsky.social", f"@{BLUESKY_HANDLE} lost my bag")
        sandbox.bluesky.inject(Fault(endpoint=CREATE_RECORD, status=500, applied=True))
        handle, posted = "dee.bsky.social", sandbox.bluesky.replies
    else:
        sandbox.mastodon.add_status("dee@other.example", "@skylarkair lost my bag")
        sandbox.mastodon.inject(Fault(endpoint=POST_STATUS, status=503, applied=True))
        handle, posted = "dee@other.example", sandbox.mastodon.replies
    reply_id = _confirm(sandbox, handle)
    store = sandbox.runtime.services.store
    assert store.reply(reply_id).state is OutboxState.SENDING  # fate unknown: not retried blind
    assert len(posted()) == 1
    sandbox.runtime.services.outbox.recover(older_than=timedelta(0))
    done = store.reply(reply_id)
    assert done.state is OutboxState.SENT and done.post_id
    assert len(posted()) == 1


def test_a_dead_bluesky_session_logs_in_again_once(sandbox: Sandbox) -> None:
    """The server says the token expired (clocks differ, or it was revoked) and the refresh
    token is dead too: one password login, and reading goes on."""
    sandbox.bluesky.expire_tokens(refresh=True)
    sandbox.bluesky.add_post("eve.bsky.social", f"@{BLUESKY_HANDLE} is the lounge open?")
    card_for(sandbox, "eve.bsky.social")
    assert sandbox.bluesky.logins(BLUESKY_HANDLE) == 2
