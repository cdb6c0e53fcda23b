"""Slack retries an event it thinks we missed (``X-Slack-Retry-Num``, the same ``event_id``):
a global middleware acks such a retry and skips it, remembering ids in SQLite across restarts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.clock import Clock
from bot.storage.store import Store

log = logging.getLogger("earshot.slack")

KEEP_EVENT_IDS = timedelta(days=1)  # Slack retries within minutes (three times)


class OncePerEvent(Middleware):
    """Lets each Events API ``event_id`` through once; a retried delivery is acked and dropped."""

    def __init__(self, *, store: Store, clock: Clock) -> None:
        self._store, self._clock = store, clock

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        event_id = req.body.get("event_id") if req.body.get("type") == "event_callback" else None
        if not event_id:
            return next()
        if self._store.first_delivery(str(event_id), now=self._clock.now(), keep=KEEP_EVENT_IDS):
            return next()
        retry = (req.headers.get("x-slack-retry-num") or ["?"])[0]
        reason = (req.headers.get("x-slack-retry-reason") or ["?"])[0]
        log.info("event %s delivered again (retry %s, %s): skipped", event_id, retry, reason)
        return req.context.ack()
