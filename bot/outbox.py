"""The outbox: a confirmed public reply is stored first, then sent, then reconciled after a crash.

States: pending -> sending -> sent | failed. Only the caller that moves a row from pending to
sending may send it, so two threads (or a sweep and a click) never post the same reply twice. A row
left in ``sending`` by a crash is checked against the network before any retry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from bot.clock import Clock
from bot.models import OutboxState, Reply
from bot.slack import Board, BoardError
from bot.sources import Publisher, PublishError
from bot.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(seconds=30)


class Outbox:
    def __init__(
        self, *, store: Store, publishers: Mapping[str, Publisher], board: Board, clock: Clock
    ) -> None:
        self._store = store
        self._publishers = publishers
        self._board = board
        self._clock = clock

    def deliver(self, reply_id: int) -> Reply:
        """Send one pending reply if nobody else is sending it; return its state afterwards."""
        store, now = self._store, self._clock.now()
        if not store.start_sending(reply_id, now=now):
            return store.reply(reply_id)
        reply = store.reply(reply_id)
        mention = store.mention(reply.mention_id)
        try:
            posted = self._publishers[mention.network].publish(
                text=reply.text, in_reply_to=mention.native_id
            )
        except PublishError as exc:
            return self._failed(reply, exc)
        done = store.finish_reply(
            reply.id,
            state=OutboxState.SENT,
            now=self._clock.now(),
            post_id=posted.post_id,
            post_url=posted.url,
        )
        self._after_sent(done)
        return done

    def _failed(self, reply: Reply, exc: PublishError) -> Reply:
        """Unsure whether it went out: stay 'sending' until X is asked. Else retry or give up."""
        now = self._clock.now()
        if exc.uncertain:
            state, retry_at, plan = OutboxState.SENDING, None, "checking X before any retry"
        elif exc.retryable and reply.attempts < MAX_ATTEMPTS:
            retry_at = exc.retry_at or now + RETRY_BACKOFF * reply.attempts
            state, plan = OutboxState.PENDING, f"retrying after {retry_at:%H:%M:%S} UTC"
        else:
            state, retry_at, plan = OutboxState.FAILED, None, "failed"
        log.warning("reply %s not sent (%s); %s", reply.id, exc, plan)
        done = self._store.finish_reply(
            reply.id, state=state, now=now, error=str(exc), send_after=retry_at
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

    def _after_sent(self, reply: Reply) -> None:
        now = self._clock.now()
        self._store.record_reply(
            reply.case_id, agent_id=reply.agent_id, url=reply.post_url or "", now=now
        )
        self._store.audit(
            actor=reply.agent_id,
            action="reply.sent",
            now=now,
            case_id=reply.case_id,
            reply_id=reply.id,
            post_id=reply.post_id,
            text=reply.text,
            template=reply.template,
        )
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
        reply = self._store.reply(reply_id)
        if reply.state is OutboxState.FAILED:
            return self._store.finish_reply(
                reply.id, state=OutboxState.PENDING, now=self._clock.now()
            )
        return reply

    def sweep(self, *, older_than: timedelta = timedelta(seconds=30)) -> list[Reply]:
        """Send what is due: paced replies whose time has come, and replies left pending (a
        crash before sending, or a retryable failure) for longer than ``older_than``."""
        now = self._clock.now()
        due = self._store.due_replies(now=now, stale_before=now - older_than)
        return [self.deliver(reply.id) for reply in due]

    def recover(self, *, older_than: timedelta = timedelta(0)) -> list[Reply]:
        """A reply left 'sending' (by a crash) may or may not be public: ask the network first.

        Runs at start-up for every such row, and later for rows stuck longer than ``older_than``.
        """
        cutoff = self._clock.now() - older_than
        stuck = self._store.replies(OutboxState.SENDING, older_than=cutoff)
        recovered = [self._reconcile(reply) for reply in stuck]
        return recovered + self.sweep(older_than=older_than)

    def _reconcile(self, reply: Reply) -> Reply:
        mention = self._store.mention(reply.mention_id)
        now = self._clock.now()
        try:
            found = self._publishers[mention.network].find_reply(in_reply_to=mention.native_id)
        except PublishError as exc:
            if exc.retryable:  # X could not be read now: ask again on the next round
                log.warning("cannot reconcile reply %s yet (%s); will try again", reply.id, exc)
                return reply
            error = f"Earshot {exc}. Check on X whether the reply is public; if not, Retry"
            done = self._store.finish_reply(
                reply.id, state=OutboxState.FAILED, now=now, error=error
            )
            self._refresh(reply.case_id)
            return done
        if found is not None:
            done = self._store.finish_reply(
                reply.id, state=OutboxState.SENT, now=now, post_id=found.post_id, post_url=found.url
            )
            log.info("reply %s was already public as %s; marked sent", reply.id, found.post_id)
            self._after_sent(done)
            return done
        log.info("reply %s never reached the network; sending it again", reply.id)
        return self._store.finish_reply(reply.id, state=OutboxState.PENDING, now=now)
