"""The outbox: a confirmed public reply is stored first, then sent, then reconciled after a crash.

States: pending -> sending -> sent | failed | cancelled. Only the caller that moves a row from
pending to sending may send it, so two threads (or a sweep and a click) never post the same reply
twice. A row whose fate is unknown (a crash, a timeout, a 5xx) stays ``sending`` until the network
has been asked; a row this process is sending right now is never reconciled under its feet.
Just before a reply goes out, the case is checked again: a dismissed case, or a customer who wrote
again since the reply was prepared, cancels it rather than answering the wrong post.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.decide.voice import Medium
from bot.models import NETWORK_NAMES, CaseState, Mention, OutboxState, Reply
from bot.slack.port import Board, BoardError
from bot.sources import Outgoing, Publisher, PublishError
from bot.storage.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(seconds=30)


def _nothing(reply: Reply) -> None:
    """No one listening (tests, tools)."""


@dataclass(frozen=True, slots=True)
class AfterSent:
    """What follows a public reply once all of it is out, named here where sending happens:
    the suggestions learn what agents send for posts like that one (``teach``), the post audit
    records it and how it changed the template (``record``), and the health counters count
    what it cost (``count``). Each gets the reply's first part."""

    teach: Callable[[Reply], None] = _nothing
    record: Callable[[Reply], None] = _nothing
    count: Callable[[Reply], None] = _nothing

    def __call__(self, first: Reply) -> None:
        self.teach(first)
        self.record(first)
        self.count(first)


class Outbox:
    def __init__(
        self,
        *,
        store: Store,
        publishers: Mapping[str, Publisher],
        board: Board,
        clock: Clock,
        pacing: timedelta = timedelta(seconds=10),
        after_sent: AfterSent | None = None,
    ) -> None:
        self._store = store
        self._publishers = publishers
        self._board = board
        self._clock = clock
        self._pacing = pacing  # at least this long between paced (storm) replies
        self._lock = threading.Lock()
        self._inflight: set[int] = set()
        self._held: dict[str, datetime] = {}  # network -> no posts before (a rate-limit reset)
        self._after = after_sent or AfterSent()
        self._last_paced: datetime | None = None

    # ---- sending -----------------------------------------------------------------------------

    def deliver(self, reply_id: int) -> Reply:
        """Send one pending reply if nobody else is sending it; return its state afterwards."""
        store, now = self._store, self._clock.now()
        reply = store.reply(reply_id)
        network = store.mention(reply.mention_id).network
        if self._parent_post(reply) is None:  # a later part of a thread waits for the one before
            return reply
        if self._held_until(network, now):
            return store.reply(reply_id)
        with self._sending(reply_id):  # in flight before it is marked: reconcile keeps off it
            if not store.start_sending(reply_id, now=now):
                return store.reply(reply_id)
            reply = store.reply(reply_id)
            if reply.part == 1 and (reason := self._stale(reply)):
                return self._cancel(reply, reason)
            done = self._publish(reply)
        following = store.next_part(done.id) if done.state is OutboxState.SENT else None
        return self.deliver(following.id) if following is not None else done

    def _parent_post(self, reply: Reply) -> str | None:
        """The native post this reply answers: the customer's, or the thread's previous part
        (None while that part is not public yet)."""
        if reply.parent_id is None:
            return self._store.mention(reply.mention_id).native_id
        parent = self._store.reply(reply.parent_id)
        return parent.post_id if parent.state is OutboxState.SENT else None

    @contextmanager
    def _sending(self, reply_id: int) -> Iterator[None]:
        with self._lock:
            self._inflight.add(reply_id)
        try:
            yield
        finally:
            with self._lock:
                self._inflight.discard(reply_id)

    def _publish(self, reply: Reply) -> Reply:
        mention = self._store.mention(reply.mention_id)
        try:
            posted = self._publisher(mention).publish(self._outgoing(reply, mention))
        except PublishError as exc:
            return self._failed(reply, exc, network=mention.network)
        done = self._store.finish_reply(
            reply.id,
            state=OutboxState.SENT,
            now=self._clock.now(),
            post_id=posted.post_id,
            post_url=posted.url,
            expect=OutboxState.SENDING,
        )
        self._after_sent(done)
        return done

    def _outgoing(self, reply: Reply, mention: Mention) -> Outgoing:
        return Outgoing(
            text=reply.text,
            in_reply_to=self._parent_post(reply) or mention.native_id,
            key=reply.key,
            written_at=reply.created_at,
        )

    def medium(self, mention: Mention) -> Medium:
        """The rules a reply to ``mention`` must fit: its network's, as its account sees them."""
        return self._publisher(mention).medium(mention)

    def _publisher(self, mention: Mention) -> Publisher:
        """The brand's own account on the mention's network (several brands, several accounts);
        the network's only publisher otherwise."""
        return (
            self._publishers.get(f"{mention.network}:{mention.brand}")
            or self._publishers[mention.network]
        )

    def _stale(self, reply: Reply) -> str:
        """Why this reply must not go out any more, or ""."""
        case = self._store.case(reply.case_id)
        if case.state is CaseState.DISMISSED:
            return "the case was dismissed before it went out"
        if self._store.latest_from_customer(case.id).id != reply.mention_id:
            return "the customer wrote again after it was prepared; read their new post first"
        return ""

    def _cancel(self, reply: Reply, reason: str) -> Reply:
        done = self._store.finish_reply(
            reply.id,
            state=OutboxState.CANCELLED,
            now=self._clock.now(),
            error=reason,
            expect=OutboxState.SENDING,
        )
        self._store.cancel_pending(reply.case_id, reason=reason, now=self._clock.now())
        log.info("reply %s not sent: %s", reply.id, reason)
        self._store.audit(
            actor=reply.agent_id,
            action="reply.cancelled",
            now=self._clock.now(),
            case_id=reply.case_id,
            reply_id=reply.id,
            reason=reason,
        )
        self._refresh(reply.case_id)
        return done

    def _failed(self, reply: Reply, exc: PublishError, *, network: str) -> Reply:
        """Unsure whether it went out: stay 'sending' until the network is asked (once only, when
        sending the same again is bound to be refused, as a duplicate). Else retry or give up."""
        now = self._clock.now()
        attempts = None
        if exc.uncertain:
            name = NETWORK_NAMES.get(network, network)
            state, retry_at, plan = OutboxState.SENDING, None, f"checking {name} before any retry"
            if not exc.retryable:  # one look; if it is not there, the agent decides, not a loop
                attempts = MAX_ATTEMPTS
        elif exc.retryable and reply.attempts < MAX_ATTEMPTS:
            retry_at = exc.retry_at or now + RETRY_BACKOFF * reply.attempts
            state, plan = OutboxState.PENDING, f"retrying after {retry_at:%H:%M:%S} UTC"
            if exc.retry_at:  # a rate limit: hold every post on this network until the reset
                self._held[network] = exc.retry_at
        else:
            state, retry_at, plan = OutboxState.FAILED, None, "failed"
        log.warning("reply %s not sent (%s); %s", reply.id, exc, plan)
        done = self._store.finish_reply(
            reply.id,
            state=state,
            now=now,
            error=str(exc),
            send_after=retry_at,
            expect=OutboxState.SENDING,
            attempts=attempts,
        )
        self._store.audit(
            actor=reply.agent_id,
            action="reply.failed",
            now=now,
            case_id=reply.case_id,
            reply_id=reply.id,
            error=str(exc),
            plan=plan,
        )
        self._refresh(reply.case_id)
        return done

    def _held_until(self, network: str, now: datetime) -> datetime | None:
        until = self._held.get(network)
        return until if until is not None and now < until else None

    def _after_sent(self, reply: Reply) -> None:
        """Audit the post; once the last part of a reply is public, the case records it."""
        now = self._clock.now()
        self._store.audit(
            actor=reply.agent_id,
            action="reply.sent",
            now=now,
            case_id=reply.case_id,
            reply_id=reply.id,
            post_id=reply.post_id,
            text=reply.text,
            template=reply.template,
            part=f"{reply.part}/{reply.parts}",
            approved_by=reply.approved_by,
        )
        if reply.part == reply.parts:
            first = self._store.thread_parts(reply)[0] if reply.parts > 1 else reply
            latest = self._store.latest_from_customer(reply.case_id).id == reply.mention_id
            self._store.record_reply(
                reply.case_id,
                agent_id=reply.agent_id,
                url=first.post_url or "",
                now=now,
                closes=latest,
            )
            self._after(first)  # teach, record, count: see AfterSent
        self._refresh(reply.case_id)

    def _refresh(self, case_id: int) -> None:
        """Bring the case's card (and its storm's count of answered cases) up to date."""
        try:
            self._board.refresh_card(case_id)
            storm = self._store.case(case_id).storm_id
            if storm is not None:
                self._board.refresh_storm(storm)
        except BoardError as exc:
            log.warning("card not refreshed: %s", exc)

    def requeue(self, reply_id: int) -> Reply:
        """A failed reply goes back to pending (an agent asked to retry it)."""
        return self._store.finish_reply(
            reply_id, state=OutboxState.PENDING, now=self._clock.now(), expect=OutboxState.FAILED
        )

    # ---- sweeping and reconciling ------------------------------------------------------------

    def sweep(self, *, older_than: timedelta = timedelta(seconds=30)) -> list[Reply]:
        """Send what is due: paced replies whose time has come (never closer together than the
        pacing, even after a rate-limit hold or downtime), and replies left pending (a crash
        before sending, a retryable failure) for longer than ``older_than``."""
        now = self._clock.now()
        done: list[Reply] = []
        for reply in self._store.due_replies(now=now, stale_before=now - older_than):
            if reply.send_after is not None:
                if self._last_paced is not None and now - self._last_paced < self._pacing:
                    continue
                self._last_paced = now
            done.append(self.deliver(reply.id))
        return done

    def recover(self, *, older_than: timedelta = timedelta(0)) -> list[Reply]:
        """At start-up: settle what a previous run left, then send what is due. A reply left
        'sending' may or may not be public, so the network is asked first (``reconcile``)."""
        return self.reconcile(older_than=older_than) + self.sweep(older_than=older_than)

    def reconcile(self, *, older_than: timedelta = timedelta(0)) -> list[Reply]:
        """Ask the network about every reply left 'sending' for longer than ``older_than``
        (never one this process is sending right now). A network that may still publish a post
        it received before a crash (X) is asked only once its ``settle`` time has passed since
        the doubtful send, at start-up as on any later round: asking sooner would find nothing
        and send the reply a second time."""
        now = self._clock.now()
        with self._lock:
            busy = set(self._inflight)
        stuck = [
            r
            for r in self._store.replies(OutboxState.SENDING, older_than=now - older_than)
            if r.id not in busy and self._settled(r, now=now)
        ]
        return [self._reconcile(reply) for reply in stuck]

    def _settled(self, reply: Reply, *, now: datetime) -> bool:
        settle = self._publisher(self._store.mention(reply.mention_id)).settle
        return reply.updated_at is None or now - reply.updated_at >= settle

    def _reconcile(self, reply: Reply) -> Reply:
        mention = self._store.mention(reply.mention_id)
        now = self._clock.now()
        try:
            found = self._publisher(mention).find_reply(self._outgoing(reply, mention))
        except PublishError as exc:
            if exc.retryable:  # X could not be read now: ask again on the next round
                log.warning("cannot reconcile reply %s yet (%s); will try again", reply.id, exc)
                return reply
            name = NETWORK_NAMES.get(mention.network, mention.network)
            error = f"Earshot {exc}. Check on {name} whether the reply is public; if not, Retry"
            done = self._store.finish_reply(
                reply.id, state=OutboxState.FAILED, now=now, error=error, expect=OutboxState.SENDING
            )
            self._refresh(reply.case_id)
            return done
        if found is not None:
            done = self._store.finish_reply(
                reply.id,
                state=OutboxState.SENT,
                now=now,
                post_id=found.post_id,
                post_url=found.url,
                expect=OutboxState.SENDING,
            )
            log.info("reply %s was already public as %s; marked sent", reply.id, found.post_id)
            if done.state is not OutboxState.SENT:
                return done
            self._after_sent(done)
            following = self._store.next_part(done.id)  # the rest of its thread goes on now
            return self.deliver(following.id) if following is not None else done
        if reply.attempts >= MAX_ATTEMPTS:  # not there, and another try is bound to fail
            error = reply.error or "not sent"
            done = self._store.finish_reply(
                reply.id, state=OutboxState.FAILED, now=now, error=error, expect=OutboxState.SENDING
            )
            self._refresh(reply.case_id)
            return done
        log.info("reply %s never reached the network; sending it again", reply.id)
        again = self._store.finish_reply(
            reply.id, state=OutboxState.PENDING, now=now, expect=OutboxState.SENDING
        )
        return self.deliver(reply.id) if again.state is OutboxState.PENDING else again
