"""The Slack Web API client as Earshot uses it: slack-sdk's ``WebClient`` with slack-sdk's own
retry handlers (rate limits, and server or connection errors only for calls that are safe to
repeat), a per-channel pacer that keeps posting under Slack's one-message-a-second guidance,
and user-group lookups for the leads group.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

log = logging.getLogger("bot.slack.board")  # one logger for the Slack side, as before the split

# chat.postMessage allows about one message per second per channel (short bursts tolerated); a
# little slack keeps two posts that leave a second apart from arriving closer than that.
POST_INTERVAL = 1.1


class ServerErrors(ServerErrorRetryHandler):
    """Retry Slack's 5xx answers (slack-sdk's own handler knows only 500 and 503), except for
    chat.postMessage: Slack may have posted before failing, so a blind retry could post twice.
    A card is retried by the card sweep instead, which first looks for it in Slack."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        failed = response is not None and response.status_code in {500, 502, 503, 504}
        return failed and _repeatable(request)


class ConnectionErrors(ConnectionErrorRetryHandler):
    """Retry dropped connections (slack-sdk's default), except for chat.postMessage (above)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        dropped = super()._can_retry(state=state, request=request, response=response, error=error)
        return dropped and _repeatable(request)


def _repeatable(request: HttpRequest) -> bool:
    """Safe to send again blindly: everything but posting a new message."""
    return not request.url.rstrip("/").endswith("chat.postMessage")


def make_web_client(*, token: str, base_url: str) -> WebClient:
    """A WebClient that waits out HTTP 429 (Retry-After: Slack did nothing) and retries 5xx and
    dropped connections with backoff where a repeat cannot post twice."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=0.5)
    handlers: list[RetryHandler] = [
        ConnectionErrors(),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrors(max_retry_count=2, interval_calculator=backoff),
    ]
    return WebClient(token=token, base_url=base_url, timeout=15, retry_handlers=handlers)


class ChannelPacer:
    """Spaces chat.postMessage calls per channel (thread replies included): each caller books
    the channel's next free slot and sleeps until it. Thread-safe; the clock is injectable."""

    def __init__(
        self,
        interval: float = POST_INTERVAL,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._now, self._sleep = now, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> float:
        """Book the channel's next slot and sleep until it; the seconds slept."""
        with self._lock:
            now = self._now()
            slot = max(now, self._next.get(channel, now))
            self._next[channel] = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


def usergroup_members(client: WebClient) -> Callable[[str], frozenset[str] | None]:
    """Members of a Slack user group (scope usergroups:read); None when Slack cannot say now."""

    def members(group: str) -> frozenset[str] | None:
        try:
            answer = client.usergroups_users_list(usergroup=group)
        except (SlackApiError, OSError) as exc:
            log.warning("cannot list user group %s: %s", group, exc)
            return None
        return frozenset(str(u) for u in answer.get("users") or [])

    return members
