"""The outbox under races, with fake publishers passed in: never two posts for one reply."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from factories import make_mention

from bot.clock import ManualClock
from bot.desk.outbox import Outbox
from bot.models import (
    Author,
    Case,
    OutboxState,
    Posted,
    Priority,
    RouteDecision,
    Sentiment,
    Triage,
)
from bot.sources import Outgoing, PublishError
from bot.storage.store import Store

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class Board:
    def refresh_card(self, case_id: int) -> None: ...

    def refresh_storm(self, storm_id: int) -> None: ...


class SlowPublisher:
    """Holds every post until released; counts posts and reconcile look-ups."""

    network = "x"
    settle = timedelta(0)

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.posts: list[str] = []
        self.lookups = 0

    def publish(self, post: Outgoing) -> Posted:
        self.started.set()
        self.release.wait(10)
        self.posts.append(post.text)
        return Posted(post_id=str(len(self.posts)), url="https://x.com/b/status/1")

    def find_reply(self, post: Outgoing) -> Posted | None:
        self.lookups += 1
        return None


class LimitedPublisher:
    network = "x"
    settle = timedelta(0)

    def __init__(self, reset: datetime) -> None:
        self.reset = reset
        self.calls = 0

    def publish(self, post: Outgoing) -> Posted:
        self.calls += 1
        raise PublishError("X rate limit reached", retryable=True, retry_at=self.reset)

    def find_reply(self, post: Outgoing) -> Posted | None:
        return None


def _case(store: Store, n: int) -> Case:
    mention = make_mention("help", native_id=n, author=Author(id=str(n)), created=NOW)
    store.save_mentions([mention], received_at=NOW, cursors={})
    triage = Triage("en", Sentiment.NEGATIVE, -0.5, Priority.NORMAL)
    return store.open_case(
        mention,
        triage=triage,
        decision=RouteDecision("#a", None, "fallback"),
        suggestions=[],
        now=NOW,
    )


def _reply(store: Store, case: Case, **kw: object) -> int:
    reply, _ = store.add_reply(
        key=f"k{case.id}",
        case=case,
        mention=store.mention(case.mention_id),
        agent_id="U0A",
        text="Sorry! ^JK",
        template=None,
        now=NOW,
        **kw,
    )  # type: ignore[arg-type]
    return reply.id


def test_reconciling_never_touches_a_reply_being_sent_right_now(store: Store) -> None:
    """Regression: start-up reconcile (or a slow send) reset an in-flight row and it went out
    twice."""
    publisher = SlowPublisher()
    outbox = Outbox(store=store, publishers={"x": publisher}, board=Board(), clock=ManualClock(NOW))
    reply_id = _reply(store, _case(store, 1))
    sender = threading.Thread(target=outbox.deliver, args=(reply_id,))
    sender.start()
    assert publisher.started.wait(10)
    outbox.recover(older_than=timedelta(0))  # while the post is in flight
    assert publisher.lookups == 0 and store.reply(reply_id).state is OutboxState.SENDING
    publisher.release.set()
    sender.join(10)
    assert publisher.posts == ["Sorry! ^JK"]
    assert store.reply(reply_id).state is OutboxState.SENT


def test_a_rate_limit_holds_every_post_until_the_reset(store: Store) -> None:
    clock = ManualClock(NOW)
    publisher = LimitedPublisher(reset=NOW + timedelta(minutes=5))
    outbox = Outbox(store=store, publishers={"x": publisher}, board=Board(), clock=clock)
    first, second = _reply(store, _case(store, 1)), _reply(store, _case(store, 2))
    assert outbox.deliver(first).state is OutboxState.PENDING
    assert outbox.deliver(second).state is OutboxState.PENDING
    assert publisher.calls == 1  # the second waited for the reset without asking X


def test_paced_replies_stay_apart_even_when_all_are_due(store: Store) -> None:
    clock = ManualClock(NOW)
    posted: list[str] = []

    class Fast:
        network = "x"
        settle = timedelta(0)

        def publish(self, post: Outgoing) -> Posted:
            posted.append(post.in_reply_to)
            return Posted(post_id=str(len(posted)), url="u")

        def find_reply(self, post: Outgoing) -> Posted | None:
            return None

    outbox = Outbox(
        store=store,
        publishers={"x": Fast()},
        board=Board(),
        clock=clock,
        pacing=timedelta(seconds=10),
    )
    for n in range(3):
        _reply(store, _case(store, n), send_after=NOW - timedelta(minutes=1))  # all overdue
    outbox.sweep()
    assert len(posted) == 1
    clock.advance(seconds=10)
    outbox.sweep()
    assert len(posted) == 2
