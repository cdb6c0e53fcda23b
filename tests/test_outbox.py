"""Nothing sent twice: the outbox across crashes, restarts and network failures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from support import card_for, card_text, eventually, fresh, post

from bot.models import OutboxState, Reply
from bot.sandbox import Fault
from bot.sandbox.harness import JANE, SANDBOX_ENV, Sandbox
from bot.slack.views import ids
from bot.sources import Outgoing
from bot.sources.x import XPublisher
from bot.sources.xclient import make_x_client

T = TypeVar("T")
CREATE_TWEET = "POST /2/tweets"


def _confirmed(bot: Sandbox, handle: str = "dana") -> tuple[Reply, str]:
    """A reply Jane confirmed (in the outbox, not sent yet) and the customer's tweet id."""
    assert bot.runtime is not None
    tweet = post(bot, "@SkylarkAir my flight is delayed again", handle=handle)
    card_for(bot, handle)
    desk = bot.runtime.services.desk
    case_id = bot.runtime.services.store.open_cases()[0].id
    draft = desk.draft(case_id, JANE, template_id="delay-apology")
    reply = desk.confirm(key="k1", case_id=case_id, user_id=JANE, body=draft.body, template=None)
    return reply, tweet


def _publish_directly(bot: Sandbox, *, text: str, tweet: str) -> None:
    """What a process that died right after X accepted the post would leave behind."""
    client = make_x_client(
        api_url=bot.x.url,
        consumer_key="k",
        consumer_secret="s",
        access_token=SANDBOX_ENV["EARSHOT_SANDBOX_X_ACCESS_TOKEN"],  # the brand's own account
        access_token_secret="ts",
    )
    XPublisher(client=client, user_id=bot.x.brand_user_id, handle="SkylarkAir").publish(
        Outgoing(text=text, in_reply_to=tweet)
    )


def _settled(bot: Sandbox, check: Callable[[], T]) -> T:
    """Ask X until ``check`` holds: a doubtful send is checked on X only once it has settled
    (X may still publish a post it received before a crash; 2 s in the sandbox, 30 s live)."""

    def asked() -> T:
        assert bot.runtime is not None
        bot.runtime.services.outbox.reconcile()
        return check()

    return eventually(asked, timeout=15)


def test_a_reply_confirmed_before_a_crash_is_sent_once_after_restart(bot: Sandbox) -> None:
    reply, _ = _confirmed(bot)
    bot.stop_bot()  # crash before sending
    assert bot.x.replies() == []
    bot.start_bot()
    assert bot.runtime is not None
    assert bot.runtime.services.store.reply(reply.id).state is OutboxState.SENT
    assert [r["requested_text"] for r in bot.x.replies()] == [reply.text]


def test_a_reply_public_before_a_crash_is_reconciled_not_resent(bot: Sandbox) -> None:
    assert bot.runtime is not None
    reply, tweet = _confirmed(bot)
    store = bot.runtime.services.store
    assert store.start_sending(reply.id, now=bot.runtime.services.clock.now())
    _publish_directly(bot, text=reply.text, tweet=tweet)  # X took it; then the process died
    bot.stop_bot()
    bot.start_bot()
    assert bot.runtime is not None
    done = _settled(bot, lambda: (r := store.reply(reply.id)).state is OutboxState.SENT and r)
    assert done.post_id == bot.x.replies()[0]["id"]
    assert len(bot.x.replies()) == 1
    card = card_for(bot, "dana")
    assert "Replied by Jane Kim ^JK" in card_text(fresh(bot, card))


def test_a_reply_lost_mid_send_is_sent_once_after_restart(bot: Sandbox) -> None:
    assert bot.runtime is not None
    reply, _ = _confirmed(bot)
    assert bot.runtime.services.store.start_sending(reply.id, now=bot.runtime.services.clock.now())
    bot.stop_bot()  # died before X saw it
    bot.start_bot()
    _settled(bot, bot.x.replies)
    assert len(bot.x.replies()) == 1


def test_a_reply_whose_fate_is_unknown_is_checked_on_x_before_any_retry(bot: Sandbox) -> None:
    """Regression: after a 5xx (X may have posted anyway) the sweep re-posted blindly."""
    assert bot.runtime is not None
    bot.x.inject(Fault(endpoint="POST /2/tweets", status=503))
    reply, _ = _confirmed(bot)
    services = bot.runtime.services
    unsure = services.desk.send(reply.id)
    assert unsure.state is OutboxState.SENDING and "503" in (unsure.error or "")
    assert services.outbox.sweep(older_than=timedelta(0)) == []  # never resent blindly
    services.outbox.reconcile()
    assert bot.x.replies() == []  # not before X had time to publish a late post
    _settled(bot, lambda: services.store.reply(reply.id).state is OutboxState.SENT)
    assert len(bot.x.replies()) == 1


def test_a_reply_x_did_take_despite_a_timeout_is_not_posted_again(bot: Sandbox) -> None:
    assert bot.runtime is not None
    reply, tweet = _confirmed(bot)
    services = bot.runtime.services
    assert services.store.start_sending(reply.id, now=services.clock.now())
    _publish_directly(bot, text=reply.text, tweet=tweet)  # X took it, the answer got lost
    services.store.finish_reply(
        reply.id, state=OutboxState.SENDING, now=services.clock.now(), error="ReadTimeout"
    )
    _settled(bot, lambda: services.store.reply(reply.id).state is OutboxState.SENT)
    assert len(bot.x.replies()) == 1


def test_a_duplicate_of_another_post_is_looked_for_once_then_left_to_the_agent(
    bot: Sandbox,
) -> None:
    """X refuses the text as a duplicate (the brand said the same on another post): after one
    look on X finds no such reply to this post, the agent is told to reword it, without a
    loop of paid look-ups and refused sends."""
    assert bot.runtime is not None
    reply, _ = _confirmed(bot)
    other = post(bot, "@SkylarkAir and my other booking?", handle="dana")
    _publish_directly(bot, text=reply.text, tweet=other)  # the same words, to another post
    services = bot.runtime.services
    assert services.desk.send(reply.id).state is OutboxState.SENDING  # maybe it is public
    failed = _settled(
        bot, lambda: (r := services.store.reply(reply.id)).state is OutboxState.FAILED and r
    )
    assert "duplicate" in (failed.error or "") and "reword" in (failed.error or "")
    assert len(bot.x.replies()) == 1  # only the one to the other post
    assert len(bot.x.calls(CREATE_TWEET)) == 2  # the other post and ours, never again


def test_a_rate_limited_reply_waits_for_the_reset(bot: Sandbox) -> None:
    assert bot.runtime is not None
    bot.x.inject(Fault(endpoint="POST /2/tweets", status=429, retry_after=120))
    reply, _ = _confirmed(bot)
    services = bot.runtime.services
    waiting = services.desk.send(reply.id)
    assert waiting.state is OutboxState.PENDING
    assert services.outbox.sweep(older_than=timedelta(0)) == []  # not before the reset
    assert bot.x.replies() == []


def test_a_refused_reply_shows_on_the_card_and_can_be_retried(bot: Sandbox) -> None:
    assert bot.runtime is not None and bot.driver is not None
    bot.x.inject(Fault(endpoint="POST /2/tweets", status=402))
    reply, _ = _confirmed(bot)
    failed = bot.runtime.services.desk.send(reply.id)
    assert failed.state is OutboxState.FAILED
    card = card_for(bot, "dana")
    shown = bot.slack.wait_for(lambda: "was not sent" in card_text(m := fresh(bot, card)) and m)
    assert "credits" in card_text(shown)
    bot.driver.click(user=JANE, message=shown, action_id=ids.RETRY_ACTION)
    bot.slack.wait_for(lambda: "Replied by Jane Kim" in card_text(fresh(bot, card)))
    assert len(bot.x.replies()) == 1


LONG = (
    "We're so sorry about the delay, Dana. The aircraft for SK212 is held in Porto by the storm "
    "and the new departure is 18:40. Your connection to Madrid is protected: we have moved you to "
    "the 21:05 flight at no cost. Meal vouchers are at the service desk next to gate 14, and the "
    "lounge is open to you while you wait. DM us if the new times do not work for you."
)


def test_a_thread_crashed_after_its_first_part_is_finished_once_after_restart(
    bot: Sandbox,
) -> None:
    """Part 1 went public, then the process died: part 1 is reconciled (not re-posted) and part
    2 goes out once, replying to part 1."""
    assert bot.runtime is not None
    tweet = post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card_for(bot, "dana")
    services = bot.runtime.services
    case_id = services.store.open_cases()[0].id
    services.desk.draft(case_id, JANE, template_id=None)
    first = services.desk.confirm(key="t1", case_id=case_id, user_id=JANE, body=LONG, template=None)
    assert isinstance(first, Reply) and first.parts == 2
    assert services.store.start_sending(first.id, now=services.clock.now())
    _publish_directly(bot, text=first.text, tweet=tweet)  # X took part 1; the process died
    bot.stop_bot()
    bot.start_bot()
    replies = _settled(bot, lambda: len(bot.x.replies()) == 2 and bot.x.replies())
    one, two = sorted(replies, key=lambda r: int(r["id"]))
    assert one["requested_text"] == first.text and "1/2" in one["requested_text"]
    assert two["referenced_tweets"] == [{"type": "replied_to", "id": one["id"]}]
    assert two["requested_text"].endswith("^JK 2/2")
    store = bot.runtime.services.store  # type: ignore[union-attr]
    assert [p.state for p in store.thread_parts(first)] == [OutboxState.SENT] * 2
