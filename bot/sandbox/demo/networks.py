"""The demo's visit to the open networks: a Bluesky mention and a Mastodon direct message reach
the same Slack inbox and are answered on their own networks, and a follow-up on Bluesky joins its
case. Split from ``bot.sandbox.demo.tour`` to keep each file readable; the scripted agent's
steps are passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.sandbox.demo.transcript import Transcript, short
from bot.sandbox.harness import BLUESKY_HANDLE, JANE, MINJUN, Sandbox

RUI = "rui.bsky.social"
MEI = "mei@fosstodon.example"
Reply = Callable[..., None]  # demo._reply(sandbox, say, user=..., handle=...)


def watch(sandbox: Sandbox, say: Transcript) -> None:
    """Narrate arrivals and replies on Bluesky and Mastodon as the emulators see them."""

    def on_bluesky(kind: str, post: dict[str, Any]) -> None:
        text = short(str(post["record"].get("text", "")), 400)
        if kind == "reply.created":
            say.say("📤", f"Bluesky  @{post['handle']} replied in the thread: “{text}”")
        elif kind == "post.added" and post["handle"] != BLUESKY_HANDLE:
            say.say("📥", f"Bluesky  @{post['handle']}: “{text}”")

    def on_mastodon(kind: str, status: dict[str, Any]) -> None:
        who, text = status["account"]["acct"], short(str(status.get("text", "")), 400)
        private = " (a direct message)" if status.get("visibility") == "direct" else ""
        if kind == "reply.created":
            say.say("📤", f"Mastodon  @{who}{private} answered: “{text}”")
        elif kind == "post.added" and status["account"]["id"] != sandbox.mastodon.brand_id:
            say.say("📥", f"Mastodon  @{who}{private}: “{text}”")

    sandbox.bluesky.subscribe(on_bluesky)
    sandbox.mastodon.subscribe(on_mastodon)


def visit(sandbox: Sandbox, say: Transcript, *, reply: Reply) -> None:
    """One mention on each open network, answered there from the same Slack cards."""
    say.say("──", "The same inbox listens on Bluesky and Mastodon (reading both is free):")
    sandbox.bluesky.add_user(RUI, name="Rui Costa", followers=310)
    first = sandbox.bluesky.add_post(
        RUI, f"@{BLUESKY_HANDLE} my suitcase missed the connection in Lisbon on SK212. Where is it?"
    )
    sandbox.mastodon.add_user(MEI, name="Mei Lin", followers=85)
    sandbox.mastodon.add_status(
        MEI,
        "@skylarkair how do I change my booking to the Friday flight? Ref KX42P",
        visibility="direct",
    )
    say.wait_for_cards(2, more=True)
    reply(sandbox, say, user=JANE, handle=RUI)
    reply(sandbox, say, user=MINJUN, handle=MEI)
    posted = sandbox.bluesky.wait_for(lambda: sandbox.bluesky.replies() or None, timeout=10)
    sandbox.mastodon.wait_for(lambda: sandbox.mastodon.replies() or None, timeout=10)
    record = posted[0]["record"]
    root = record["reply"]["root"]["uri"] == first
    say.say(
        "🧵",
        "On Bluesky the reply is a proper thread reply (root and parent point at Rui's post: "
        f"{'yes' if root else 'no'}); on Mastodon Mei's direct message was answered by direct "
        "message, addressed to her, never in public.",
    )
    _follow_up(sandbox, say, answer=posted[0]["uri"])


def _follow_up(sandbox: Sandbox, say: Transcript, *, answer: str) -> None:
    """Rui answers the brand's reply: his post joins his case, no second card."""
    assert sandbox.runtime is not None
    store = sandbox.runtime.services.store
    sandbox.bluesky.add_post(
        RUI, "Got it, DM sent with my file reference. Thanks!", reply_to=answer
    )

    def joined() -> int | None:
        row = store.db.execute(
            "select case_id from case_members where role = 'follow_up' and mention_id in "
            "(select id from mentions where author_handle = ?)",
            [RUI],
        ).fetchone()
        return int(row[0]) if row else None

    deadline = time.monotonic() + 10
    while (case_id := joined()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("Rui's follow-up did not join his case")
        time.sleep(0.05)
    say.say("↩️ ", f"Rui's answer joins case #{case_id} as a follow-up (same account, same network)")
