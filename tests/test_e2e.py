"""End to end over real HTTP: tweepy and slack-sdk talk to the emulators, the driver signs as Slack.

mention on X -> card in the routed channel -> click -> modal -> preview -> confirm -> reply on X ->
card updated in place.
"""

from __future__ import annotations

import json
import time

from support import (
    card_for,
    card_text,
    cards_for,
    fresh,
    open_modal,
    post,
    reply_through_slack,
    type_and_read_meter,
)

from bot.sandbox import Fault
from bot.sandbox.harness import JANE, MINJUN, SAM, Sandbox
from bot.slack.views import ids


def test_a_mention_becomes_a_card_in_the_routed_channel_with_suggestions(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir my flight is delayed again, stuck at the gate", handle="dana")
    card = card_for(bot, "dana")
    assert bot.slack.channel_name(card["channel"]) == "care-delays"
    text = card_text(card)
    assert "keyword “delayed”" in text and "rule 6 “delays”" in text
    assert "Delay apology" in text  # the top suggestion, as a button
    assert "https://x.com/dana/status/" in text  # link to the post


def test_an_agent_replies_from_slack_and_the_signed_reply_goes_public_once(bot: Sandbox) -> None:
    tweet = post(bot, "@SkylarkAir my flight is delayed again, stuck at the gate", handle="dana")
    card = card_for(bot, "dana")
    preview = reply_through_slack(bot, user=JANE, card=card)
    assert "^JK" in json.dumps(preview["blocks"], ensure_ascii=False)
    replies = bot.x.wait_for(bot.x.replies, timeout=10)
    assert len(replies) == 1
    reply = replies[0]
    assert reply["text"].endswith("^JK")
    assert reply["referenced_tweets"] == [{"type": "replied_to", "id": tweet}]
    assert reply["auth"] == "oauth1"  # posted with the brand's user context


def test_the_card_is_updated_in_place_after_the_reply(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir my flight is delayed again, stuck at the gate", handle="dana")
    card = card_for(bot, "dana")
    reply_through_slack(bot, user=JANE, card=card)
    updated = bot.slack.wait_for(
        lambda: "Replied by Jane Kim ^JK" in card_text(m := fresh(bot, card)) and m, timeout=10
    )
    assert "View public reply" in card_text(updated)
    assert ids.WRITE_ACTION not in card_text(updated)  # no more reply buttons
    assert len(cards_for(bot, "dana")) == 1  # updated, not reposted


def test_an_agent_can_write_their_own_reply(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir quick question about pets in the cabin", handle="pat")
    card = card_for(bot, "pat")
    body = "Hi Pat! Small pets up to 8 kg can fly in the cabin. DM us to add one."
    reply_through_slack(bot, user=MINJUN, card=card, body=body, action_id=ids.WRITE_ACTION)
    replies = bot.x.wait_for(bot.x.replies, timeout=10)
    assert replies[0]["requested_text"] == f"{body} ^MP"


def test_the_modal_shows_signature_and_characters_left(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    modal = open_modal(
        bot, user=JANE, card=card_for(bot, "dana"), action_id=f"{ids.SUGGEST_ACTION}_1"
    )
    meter = next(b for b in modal["blocks"] if b.get("block_id") == ids.METER_BLOCK)
    assert "Signed *^JK*" in meter["elements"][0]["text"]
    assert "characters left" in meter["elements"][0]["text"]
    prefilled = modal["blocks"][1]["element"]["initial_value"]
    assert prefilled.startswith("We're sorry about the delay, Dana.")


def test_typing_updates_the_character_meter(bot: Sandbox) -> None:
    assert bot.driver is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    modal = open_modal(bot, user=JANE, card=card_for(bot, "dana"), action_id=ids.WRITE_ACTION)
    meter = type_and_read_meter(bot, user=JANE, view_id=modal["id"], text="x" * 300)
    assert "24 characters over" in meter  # 300 + space + ^JK = 304


def test_a_reply_too_long_even_for_a_thread_is_refused_in_the_modal(bot: Sandbox) -> None:
    assert bot.driver is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    modal = open_modal(bot, user=JANE, card=card_for(bot, "dana"), action_id=ids.WRITE_ACTION)
    text = "환불 " * 700  # Korean weighs double: far more than 9 posts
    values = {ids.REPLY_BLOCK: {ids.REPLY_INPUT: text}}
    answer, view = bot.driver.submit(user=JANE, view_id=modal["id"], values=values)
    assert answer.json()["response_action"] == "errors"
    assert "thread of 9" in answer.json()["errors"][ids.REPLY_BLOCK]
    assert view is not None and view["callback_id"] == ids.COMPOSE_VIEW
    assert bot.x.replies() == []


def test_a_non_agent_is_refused_and_nothing_is_posted(bot: Sandbox) -> None:
    assert bot.driver is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    views_before = len(bot.slack.views())
    bot.driver.click(user=SAM, message=card, action_id=f"{ids.SUGGEST_ACTION}_1")
    refusal = bot.slack.wait_for(lambda: bot.slack.ephemerals(SAM), timeout=10)[0]
    assert "Only agents configured for Skylark Air" in refusal["text"]
    assert SAM in refusal["text"]  # tells them which id to add
    assert len(bot.slack.views()) == views_before
    assert bot.x.replies() == []
    audit = bot.runtime.services.store.audit_log() if bot.runtime else []
    assert any(row["action"] == "refused" and row["actor"] == SAM for row in audit)


def test_a_case_claimed_by_one_agent_is_locked_for_another(bot: Sandbox) -> None:
    assert bot.driver is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    bot.driver.click(user=JANE, message=card, action_id=ids.CLAIM_ACTION)
    bot.slack.wait_for(lambda: "Jane Kim is replying" in card_text(fresh(bot, card)), timeout=10)
    bot.driver.click(user=MINJUN, message=fresh(bot, card), action_id=ids.WRITE_ACTION)
    refusal = bot.slack.wait_for(lambda: bot.slack.ephemerals(MINJUN), timeout=10)[0]
    assert "Jane Kim is already on case" in refusal["text"]


def test_confirming_the_same_preview_twice_posts_one_reply(bot: Sandbox) -> None:
    assert bot.driver is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    modal = open_modal(bot, user=JANE, card=card, action_id=f"{ids.SUGGEST_ACTION}_1")
    bot.driver.submit(user=JANE, view_id=modal["id"])  # -> preview
    confirm = bot.driver.submission(user=JANE, view_id=modal["id"])
    first = bot.driver.interactive(confirm)
    again = bot.driver.interactive(confirm)  # a double click or a retried delivery
    assert first.status == again.status == 200
    bot.slack.wait_for(lambda: "Replied by" in card_text(fresh(bot, card)), timeout=10)
    assert len(bot.x.replies()) == 1
    assert bot.runtime is not None
    assert bot.runtime.services.store.count("outbox") == 1


def test_regression_a_click_racing_the_first_post_never_duplicates_the_card(
    sandbox: Sandbox,
) -> None:
    """Bug: a click landing between chat.postMessage and the card being recorded posted a
    second card. Cards are now rendered under a per-case lock."""
    sandbox.slack.inject(Fault(endpoint="chat.getPermalink", status=200, delay=1.0))
    sandbox.start_bot()
    assert sandbox.driver is not None
    post(sandbox, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(sandbox, "dana")  # visible in Slack, not yet recorded by the bot
    sandbox.driver.click(user=JANE, message=card, action_id=ids.CLAIM_ACTION)
    sandbox.slack.wait_for(
        lambda: "Jane Kim is replying" in card_text(fresh(sandbox, card)), timeout=10
    )
    assert len(cards_for(sandbox, "dana")) == 1


def test_dismiss_and_reopen(bot: Sandbox) -> None:
    assert bot.driver is not None
    post(bot, "@SkylarkAir lovely flight", handle="kim")
    card = card_for(bot, "kim")
    bot.driver.click(user=JANE, message=card, action_id=ids.DISMISS_ACTION)
    dismissed = bot.slack.wait_for(
        lambda: "Dismissed by Jane Kim" in card_text(m := fresh(bot, card)) and m, timeout=10
    )
    bot.driver.click(user=JANE, message=dismissed, action_id=ids.REOPEN_ACTION)
    bot.slack.wait_for(lambda: ids.WRITE_ACTION in card_text(fresh(bot, card)), timeout=10)


def test_forged_signature_is_rejected_with_401(bot: Sandbox) -> None:
    assert bot.driver is not None
    body = "command=/mentions&text=queue&user_id=U0JANEKIM1"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    assert bot.driver.post_raw(body.encode(), headers=headers).status == 401


def test_stale_signed_request_is_rejected_with_401(bot: Sandbox) -> None:
    assert bot.driver is not None
    answer = bot.driver.send(
        "command=/mentions&text=queue&user_id=U0JANEKIM1",
        content_type="application/x-www-form-urlencoded",
        timestamp=int(time.time()) - 60 * 10,
    )
    assert answer.status == 401


def test_a_mention_polled_twice_yields_one_case(bot: Sandbox) -> None:
    assert bot.runtime is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card_for(bot, "dana")
    services = bot.runtime.services
    cursor_key = next(iter(services.store.cursors("x:")))
    services.store.set_cursor(cursor_key, "1", now=services.clock.now())  # force a re-read
    report = services.inbound.poll(services.sources[0])
    assert len(report.fetch.mentions) == 1  # X returned it again...
    assert report.new_mentions == () and report.cases == ()  # ...but it is stored once
    assert services.store.count("cases") == 1
    assert len(cards_for(bot, "dana")) == 1


def test_after_a_restart_polling_resumes_from_the_stored_since_id(bot: Sandbox) -> None:
    first = post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card_for(bot, "dana")
    bot.stop_bot()
    second = post(bot, "@SkylarkAir where is my bag?", handle="lee")
    calls_before = len(bot.x.calls("GET /2/users/:id/mentions"))
    bot.start_bot()
    card_for(bot, "lee")
    resumed = bot.x.calls("GET /2/users/:id/mentions")[calls_before]
    assert resumed.params["since_id"] == first
    assert int(second) > int(first)
    assert len(cards_for(bot, "dana")) == 1  # nothing reposted after the restart


def test_retweets_and_the_brands_own_posts_never_become_cases(bot: Sandbox) -> None:
    assert bot.runtime is not None
    original = post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card_for(bot, "dana")
    bot.x.add_post(text="RT", author={"handle": "echo"}, retweet_of=original)
    bot.x.add_post(text="@SkylarkAir team: the new lounge opens today", author="SkylarkAir")
    post(bot, "@SkylarkAir thanks for the help!", handle="zed")
    card_for(bot, "zed")
    store = bot.runtime.services.store
    assert store.count("mentions", where="state = 'skipped'") == 1
    assert store.count("mentions", where="skip_reason = 'pure retweet'") == 1
    assert cards_for(bot, "echo") == []
    assert store.count("cases") == 2


def test_slash_mentions_help_and_queue(bot: Sandbox) -> None:
    assert bot.driver is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card_for(bot, "dana")
    help_answer = bot.driver.command(user=SAM, text="")
    assert "/mentions queue" in help_answer.json()["text"]
    queue = bot.driver.command(user=SAM, text="queue").json()
    text = json.dumps(queue["blocks"], ensure_ascii=False)
    assert "1 open case(s)" in text and "#care-delays" in text and "@dana" in text
    assert "/archives/" in text  # links to the card


def test_slash_mentions_unknown_subcommand_suggests_the_right_one(bot: Sandbox) -> None:
    assert bot.driver is not None
    answer = bot.driver.command(user=SAM, text="qeue").json()
    assert 'did you mean "queue"?' in answer["text"]
