"""X (Twitter) through tweepy: poll the brand's mentions and keyword searches, post replies.

Rate limits are honoured from ``x-rate-limit-remaining``/``x-rate-limit-reset``: once a window is
spent, or on a 429, the source does not call X again before the reset. Other failures back off
exponentially. Nothing here ever loops tightly, and nothing past this module sees a tweepy object.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy

from bot.clock import Clock
from bot.models import Author, Mention, MentionKind, Posted
from bot.sources import Fetch, PublishError

log = logging.getLogger(__name__)

TWEET_FIELDS = [
    "created_at",
    "lang",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "author_id",
    "entities",
]
USER_FIELDS = ["username", "name", "public_metrics", "verified"]
EXPANSIONS = ["author_id", "referenced_tweets.id"]
MAX_PAGES = 8  # the mentions timeline reaches back about 800 posts
MAX_BACKOFF = timedelta(minutes=15)
_KINDS = {"retweeted": MentionKind.RETWEET, "quoted": MentionKind.QUOTE}


def post_url(username: str, post_id: str) -> str:
    return f"https://x.com/{username or 'i'}/status/{post_id}"


def to_mention(
    tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], *, brand: str
) -> Mention:
    """Normalise one v2 tweet (with its expanded author) into a ``Mention``."""
    user = users.get(str(tweet.get("author_id")), {})
    metrics = user.get("public_metrics") or {}
    author = Author(
        id=str(tweet.get("author_id") or ""),
        handle=str(user.get("username") or ""),
        name=str(user.get("name") or ""),
        followers=int(metrics.get("followers_count") or 0),
        verified=bool(user.get("verified")),
    )
    refs = {r.get("type"): str(r.get("id")) for r in tweet.get("referenced_tweets") or []}
    kind = next((k for t, k in _KINDS.items() if t in refs), None)
    if kind is None:
        kind = MentionKind.REPLY if "replied_to" in refs else MentionKind.MENTION
    created = tweet.get("created_at")
    lang = tweet.get("lang")
    return Mention(
        id=f"x:{tweet['id']}",
        network="x",
        text=str(tweet.get("text") or ""),
        author=author,
        created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None,
        brand=brand,
        lang=lang if lang and lang not in {"und", "zxx", "qme", "qht"} else None,
        conversation_id=str(tweet["conversation_id"]) if tweet.get("conversation_id") else None,
        in_reply_to=f"x:{refs['replied_to']}" if "replied_to" in refs else None,
        kind=kind,
        url=post_url(author.handle, str(tweet["id"])),
        raw={"tweet": dict(tweet), "author": dict(user)},
    )


@dataclass(frozen=True, slots=True)
class _Page:
    tweets: list[dict[str, Any]]
    users: dict[str, dict[str, Any]]
    newest_id: str | None
    next_token: str | None


class XSource:
    """Polls ``GET /2/users/:id/mentions`` and optional recent-search queries with ``since_id``."""

    network = "x"

    def __init__(
        self,
        *,
        client: tweepy.Client,
        user_id: str,
        brand: str,
        clock: Clock,
        queries: tuple[str, ...] = (),
        page_size: int = 100,
        interval: timedelta = timedelta(seconds=60),
        user_auth: bool = False,
    ) -> None:
        self._client = client
        self._user_auth = user_auth  # read with the brand's user token when there is no bearer
        self._user_id = user_id
        self._brand = brand
        self._clock = clock
        self._queries = queries
        self._page_size = page_size
        self._interval = interval
        self._failures = 0
        self.not_before: datetime | None = None

    def stream_keys(self) -> list[str]:
        return [f"x:mentions:{self._user_id}", *(f"x:search:{q}" for q in self._queries)]

    def fetch(self, cursors: Mapping[str, str]) -> Fetch:
        now = self._clock.now()
        if self.not_before and now < self.not_before:
            return Fetch(not_before=self.not_before, skipped=True)
        mentions: list[Mention] = []
        advanced: dict[str, str] = {}
        try:
            for key in self.stream_keys():
                found, newest = self._read_stream(key, cursors.get(key))
                mentions += found
                if newest:
                    advanced[key] = newest
        except tweepy.TooManyRequests as exc:
            return self._limited(exc, mentions, advanced)
        except (tweepy.TweepyException, requests.RequestException) as exc:
            return self._failed(exc, mentions, advanced)
        self._failures = 0
        return Fetch(_oldest_first(mentions), advanced, not_before=self.not_before)

    def _read_stream(self, key: str, since_id: str | None) -> tuple[list[Mention], str | None]:
        call = self._call_for(key)
        found: list[Mention] = []
        newest: str | None = None
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = self._page(call, since_id=since_id, token=token)
            newest = newest or page.newest_id
            found += [to_mention(t, page.users, brand=self._brand) for t in page.tweets]
            token = page.next_token
            if not token or since_id is None:  # first run: latest page only, no deep backfill
                break
        return found, newest

    def _call_for(self, key: str) -> Callable[..., requests.Response]:
        common = {
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "max_results": max(10, self._page_size),
            "user_auth": self._user_auth,
        }
        if key.startswith("x:search:"):
            query = key.removeprefix("x:search:")

            def search(*, since_id: str | None, token: str | None) -> requests.Response:
                params = {**common, "since_id": since_id, "next_token": token}
                return self._client.search_recent_tweets(query, **params)  # type: ignore[no-any-return]

            return search

        def mentions(*, since_id: str | None, token: str | None) -> requests.Response:
            params = {**common, "max_results": self._page_size, "since_id": since_id}
            return self._client.get_users_mentions(  # type: ignore[no-any-return]
                self._user_id, pagination_token=token, **params
            )

        return mentions

    def _page(
        self, call: Callable[..., requests.Response], *, since_id: str | None, token: str | None
    ) -> _Page:
        response = call(since_id=since_id, token=token)
        self._note_limits(response.headers)
        body = response.json()
        meta = body.get("meta") or {}
        users = {str(u["id"]): u for u in (body.get("includes") or {}).get("users") or []}
        return _Page(body.get("data") or [], users, meta.get("newest_id"), meta.get("next_token"))

    def _note_limits(self, headers: Mapping[str, str]) -> None:
        """Spent window: wait for its reset before the next call (no 429 needed to learn it)."""
        if headers.get("x-rate-limit-remaining") == "0" and headers.get("x-rate-limit-reset"):
            self.not_before = datetime.fromtimestamp(int(headers["x-rate-limit-reset"]), UTC)

    def _limited(
        self, exc: tweepy.TooManyRequests, found: list[Mention], advanced: dict[str, str]
    ) -> Fetch:
        reset = exc.reset_time
        now = self._clock.now()
        until = datetime.fromtimestamp(reset, UTC) if reset else now + self._interval
        self.not_before = max(until, now + timedelta(seconds=1))
        log.warning("X rate limit reached; next poll after %s", self.not_before.isoformat())
        error = "rate limited"
        return Fetch(_oldest_first(found), advanced, not_before=self.not_before, error=error)

    def _failed(self, exc: Exception, found: list[Mention], advanced: dict[str, str]) -> Fetch:
        self._failures += 1
        delay = min(self._interval * (2 ** (self._failures - 1)), MAX_BACKOFF)
        self.not_before = self._clock.now() + delay
        message = _describe(exc)
        log.warning("X poll failed (%s); retrying in %ss", message, int(delay.total_seconds()))
        return Fetch(_oldest_first(found), advanced, not_before=self.not_before, error=message)


def _oldest_first(mentions: list[Mention]) -> tuple[Mention, ...]:
    """X pages come newest first; cases should open in the order customers wrote."""
    return tuple(sorted(mentions, key=lambda m: int(m.native_id)))


def _describe(exc: Exception) -> str:
    if isinstance(exc, tweepy.HTTPException):
        status = exc.response.status_code
        detail = "; ".join(exc.api_messages) or exc.response.reason or ""
        return f"HTTP {status} {detail}".strip()
    return f"{type(exc).__name__}: {exc}"


class XPublisher:
    """Posts replies as the brand with ``create_tweet(in_reply_to_tweet_id=...)`` (user context)."""

    network = "x"

    def __init__(self, *, client: tweepy.Client, user_id: str, handle: str) -> None:
        self._client = client
        self._user_id = user_id
        self._handle = handle

    def publish(self, *, text: str, in_reply_to: str) -> Posted:
        try:
            response = self._client.create_tweet(
                text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True
            )
        except tweepy.HTTPException as exc:
            status = exc.response.status_code
            retryable = status == 429 or status >= 500
            raise PublishError(_explain_refusal(exc), retryable=retryable) from exc
        except requests.RequestException as exc:
            raise PublishError(f"could not reach X ({type(exc).__name__})", retryable=True) from exc
        post_id = str(response.json()["data"]["id"])
        return Posted(post_id=post_id, url=post_url(self._handle, post_id))

    def find_reply(self, *, in_reply_to: str) -> Posted | None:
        """Look through the brand's posts newer than the mention for a reply to it."""
        try:
            response = self._client.get_users_tweets(
                self._user_id,
                since_id=in_reply_to,
                max_results=100,
                tweet_fields=["referenced_tweets", "created_at"],
                user_auth=True,
            )
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise PublishError(f"could not read the brand's posts ({exc})", retryable=True) from exc
        for tweet in response.json().get("data") or []:
            refs = tweet.get("referenced_tweets") or []
            if any(r.get("type") == "replied_to" and str(r.get("id")) == in_reply_to for r in refs):
                return Posted(
                    post_id=str(tweet["id"]), url=post_url(self._handle, str(tweet["id"]))
                )
        return None


def _explain_refusal(exc: tweepy.HTTPException) -> str:
    status = exc.response.status_code
    detail = "; ".join(exc.api_messages) or exc.response.reason or ""
    if status == 402:
        return "X refused: the account's API credits are exhausted (HTTP 402). A lead must top up."
    if status == 403:
        return f"X refused the post (HTTP 403): {detail}"
    if status == 429:
        return "X rate limit reached; the reply will be retried after the reset."
    return f"X answered HTTP {status}: {detail}".strip()


def resolve_user_id(client: tweepy.Client, handle: str) -> str:
    """The numeric id of ``handle`` (used when the config gives only the brand's handle)."""
    response = client.get_user(username=handle)
    return str(response.json()["data"]["id"])
