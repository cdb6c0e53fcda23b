"""X (Twitter) through tweepy: poll the brand's mentions and keyword searches, post replies.

Rate limits are honoured from ``x-rate-limit-remaining``/``x-rate-limit-reset``: once a window is
spent, or on a 429, the source does not call X again before the reset. Other failures back off
exponentially, and a circuit breaker stops all calls to X while it keeps failing (5xx, timeouts),
then tries once. Refusals only a person can fix (401, 402 credits, 403 access) are put in words.
Nothing here ever loops tightly, and nothing past this module sees a tweepy object.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy

from bot.clock import Clock
from bot.decide import voice
from bot.decide.voice import Medium
from bot.models import Author, Mention, MentionKind, Posted
from bot.sources import Fetch, Outgoing, PublishError
from bot.sources.breaker import Breaker, Change
from bot.sources.fields import count, mapping, moment, storable

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
    """Normalise one v2 tweet (with its expanded author) into a ``Mention`` that can be stored
    whatever it holds (``storable``: a lone surrogate becomes U+FFFD, the raw tweet is escaped)."""
    user = mapping(users.get(str(tweet.get("author_id"))))
    metrics = mapping(user.get("public_metrics"))
    author = Author(
        id=str(tweet.get("author_id") or ""),
        handle=str(user.get("username") or ""),
        name=str(user.get("name") or ""),
        followers=count(metrics.get("followers_count")),
        verified=user.get("verified") is True,
    )
    listed = tweet.get("referenced_tweets")
    refs = {
        r.get("type"): str(r.get("id"))
        for r in (listed if isinstance(listed, list) else [])
        if isinstance(r, Mapping)
    }
    kind = next((k for t, k in _KINDS.items() if t in refs), None)
    if kind is None:
        kind = MentionKind.REPLY if "replied_to" in refs else MentionKind.MENTION
    created = moment(tweet.get("created_at"))
    lang = tweet.get("lang") if isinstance(tweet.get("lang"), str) else None
    mention = Mention(
        id=f"x:{tweet['id']}",
        network="x",
        text=html.unescape(str(tweet.get("text") or "")),  # X sends &amp; &lt; &gt;
        author=author,
        created_at=created,
        brand=brand,
        lang=lang if lang and lang not in {"und", "zxx", "qme", "qht"} else None,
        conversation_id=str(tweet["conversation_id"]) if tweet.get("conversation_id") else None,
        in_reply_to=f"x:{refs['replied_to']}" if "replied_to" in refs else None,
        kind=kind,
        url=post_url(author.handle, str(tweet["id"])),
        raw={"tweet": dict(tweet), "author": dict(user)},
    )
    return storable(mention)


@dataclass(frozen=True, slots=True)
class _Page:
    tweets: list[dict[str, Any]]
    users: dict[str, dict[str, Any]]
    newest_id: str | None
    next_token: str | None
    spent_until: datetime | None  # the rate-limit window is used up until then


@dataclass(frozen=True, slots=True)
class _Run:
    """One read of a stream (or of a gap in it): what came, and whether it reached the end."""

    mentions: list[Mention]
    newest: str | None
    oldest: str | None
    complete: bool
    error: Exception | None = None


@dataclass
class _Stream:
    """Per-stream state: each query and the mentions timeline back off on their own."""

    key: str
    not_before: datetime | None = None
    failures: int = 0
    disabled: str = ""  # why it is switched off (a query X rejects)
    transient: bool = False  # the last read failed in a way that may pass (5xx, timeout)
    blocked: str = ""  # the last read was refused in a way only a person can fix

    def waiting(self, now: datetime) -> bool:
        return bool(self.disabled) or (self.not_before is not None and now < self.not_before)


Call = Callable[..., requests.Response]  # (since_id, until_id, token) -> one page


class XSource:
    """Polls ``GET /2/users/:id/mentions`` and optional recent-search queries with ``since_id``.

    A read that stops early (X's page limit or an error after some pages) still advances the
    cursor to the newest post, and records the range it skipped as a gap that the next polls fill
    from the oldest post fetched backwards, so nothing in between is lost.
    """

    network = "x"

    def __init__(
        self,
        *,
        client: tweepy.Client,
        user_id: str,
        brand: str,
        clock: Clock,
        brand_handle: str = "",
        queries: tuple[str, ...] = (),
        page_size: int = 100,
        interval: timedelta = timedelta(seconds=60),
        user_auth: bool = False,
    ) -> None:
        self._client = client
        self._user_auth = user_auth  # read with the brand's user token when there is no bearer
        self._user_id = user_id
        self._brand = brand
        self.brand_handle = brand_handle
        self._clock = clock
        self._queries = queries
        self._page_size = page_size
        self._interval = interval
        self.poll_seconds = interval.total_seconds()
        keys = [f"x:mentions:{user_id}", *(f"x:search:{q}" for q in queries)]
        self._streams = [_Stream(key) for key in keys]
        self.breaker = Breaker(base=interval * 4, cap=MAX_BACKOFF)

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def brand(self) -> str:
        return self._brand

    @property
    def not_before(self) -> datetime | None:
        """When the earliest waiting stream may be read again (None: all may be read now); while
        the breaker is open, not before its cool-down ends."""
        times = [s.not_before for s in self._streams if s.not_before and not s.disabled]
        earliest = min(times) if times else None
        pause = self.breaker.open_until
        return max(earliest, pause) if earliest and pause else earliest or pause

    def stream_keys(self) -> list[str]:
        return [stream.key for stream in self._streams]

    def fetch(self, cursors: Mapping[str, str]) -> Fetch:
        """Read every stream that is due. After a transient failure the other streams are
        spared this round (X is likely down for all), so a trial call is one request."""
        now = self._clock.now()
        mentions: list[Mention] = []
        updates: dict[str, str] = {}
        errors: list[str] = []
        lost: list[str] = []
        due = self.breaker.allows(now)
        active = [s for s in self._streams if due and not s.waiting(now)]
        polled: list[_Stream] = []
        for stream in active:
            found, changed, error = self._poll_stream(stream, cursors, lost=lost)
            polled.append(stream)
            mentions += found
            updates |= changed
            if error:
                errors.append(error)
            if stream.transient:
                break
        change = self._trip(polled, now=now, errors=errors)
        return Fetch(
            _oldest_first(mentions),
            updates,
            not_before=self.not_before,
            error="; ".join(errors) or None,
            skipped=not active,
            lost=tuple(lost),
            circuit=change.value,
            blocked=next((s.blocked for s in polled if s.blocked), ""),
        )

    def _trip(self, polled: list[_Stream], *, now: datetime, errors: list[str]) -> Change:
        """Feed this round to the breaker; while it is open, the error says so."""
        if not polled:
            return Change.NONE
        if not any(s.transient for s in polled):
            return self.breaker.succeeded()
        change = self.breaker.failed(now)
        if self.breaker.open_until is not None:
            failures = self.breaker.failures
            errors.append(
                f"circuit open after {failures} failed calls in a row: no calls to X until "
                f"{self.breaker.open_until:%H:%M:%S} UTC, then one trial call"
            )
            log.warning("X %s: %s", self._brand, errors[-1])
        return change

    def _poll_stream(
        self, stream: _Stream, cursors: Mapping[str, str], *, lost: list[str]
    ) -> tuple[list[Mention], dict[str, str], str | None]:
        """Fill recorded gaps first (oldest data first), then read what is new since the cursor."""
        stream.transient, stream.blocked = False, ""
        call, since = self._call_for(stream.key), cursors.get(stream.key)
        pending = _gaps(cursors.get(_gap_key(stream.key), ""))
        found: list[Mention] = []
        left: list[tuple[str, str]] = []
        for index, (gap_since, gap_until) in enumerate(pending):
            run = self._read(stream, call, since_id=gap_since, until_id=gap_until)
            found += run.mentions
            if _window_passed(stream, run.error):
                lost.append(self._lost_window(stream, "gap"))
                return found, {_gap_key(stream.key): ""}, lost[-1]
            if run.complete and not run.mentions and run.error is None:
                lost.append(self._unreachable(stream, gap_since, gap_until))
            if not run.complete:
                left.append((gap_since, run.oldest or gap_until))
            if run.error or not run.complete:
                left += pending[index + 1 :]
                return found, _gap_update(stream.key, left, pending), self._problem(stream, run)
        run = self._read(stream, call, since_id=since, until_id=None, latest_only=since is None)
        found += run.mentions
        if _window_passed(stream, run.error):
            reset = {stream.key: "", _gap_key(stream.key): ""}
            lost.append(self._lost_window(stream, "cursor"))
            return found, reset, lost[-1]
        updates: dict[str, str] = {}
        if run.newest:
            updates[stream.key] = run.newest
            if not run.complete and since is not None:
                left.append((since, run.oldest or run.newest))
        return found, updates | _gap_update(stream.key, left, pending), self._problem(stream, run)

    def _lost_window(self, stream: _Stream, what: str) -> str:
        """Recent search reaches back 7 days only: start again from now, and say what is lost."""
        message = (
            f"{stream.key}: the stored {what} is older than recent search's 7-day window; "
            "starting again from the latest posts (posts in between could not be fetched)"
        )
        log.error(message)
        return message

    def _unreachable(self, stream: _Stream, since: str, until: str) -> str:
        """A gap X returned nothing for: on the mentions timeline it lies deeper than the about
        800 posts the endpoint reaches back, so whatever was posted there cannot be fetched."""
        message = (
            f"{stream.key}: nothing could be fetched between post {since} and post {until} "
            "(X's mentions timeline reaches back only about 800 posts); posts in between may "
            "be missing"
        )
        log.error(message)
        return message

    def _problem(self, stream: _Stream, run: _Run) -> str | None:
        if run.error is None:
            stream.failures = 0
            return None
        return self._failed(stream, run.error)

    def _read(
        self,
        stream: _Stream,
        call: Call,
        *,
        since_id: str | None,
        until_id: str | None,
        latest_only: bool = False,
    ) -> _Run:
        """Page backwards from the newest; stop at the end, the page cap, an error or a spent
        rate-limit window (then the stream waits for the reset instead of earning a 429)."""
        mentions: list[Mention] = []
        newest: str | None = None
        oldest: str | None = None
        token: str | None = None
        for _ in range(1 if latest_only else MAX_PAGES):
            try:
                page = self._page(call, since_id=since_id, until_id=until_id, token=token)
            except (tweepy.TweepyException, requests.RequestException) as exc:
                return _Run(mentions, newest, oldest, complete=False, error=exc)
            newest = newest or page.newest_id
            batch = [to_mention(t, page.users, brand=self._brand) for t in page.tweets]
            mentions += batch
            oldest = min((m.native_id for m in batch), key=int, default=oldest)
            token = page.next_token
            if page.spent_until is not None:
                stream.not_before = page.spent_until
            if not token:
                return _Run(mentions, newest, oldest, complete=True)
            if page.spent_until is not None:
                break
        return _Run(mentions, newest, oldest, complete=latest_only)

    def _call_for(self, key: str) -> Call:
        common = {
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "user_auth": self._user_auth,
        }
        if key.startswith("x:search:"):
            query = key.removeprefix("x:search:")

            def search(
                *, since_id: str | None, until_id: str | None, token: str | None
            ) -> requests.Response:
                return self._client.search_recent_tweets(  # type: ignore[no-any-return]
                    query,
                    since_id=since_id,
                    until_id=until_id,
                    next_token=token,
                    max_results=max(10, self._page_size),
                    **common,
                )

            return search

        def mentions(
            *, since_id: str | None, until_id: str | None, token: str | None
        ) -> requests.Response:
            return self._client.get_users_mentions(  # type: ignore[no-any-return]
                self._user_id,
                since_id=since_id,
                until_id=until_id,
                pagination_token=token,
                max_results=self._page_size,
                **common,
            )

        return mentions

    def _page(
        self, call: Call, *, since_id: str | None, until_id: str | None, token: str | None
    ) -> _Page:
        response = call(since_id=since_id, until_id=until_id, token=token)
        body = response.json()
        meta = body.get("meta") or {}
        users = {str(u["id"]): u for u in (body.get("includes") or {}).get("users") or []}
        return _Page(
            body.get("data") or [],
            users,
            meta.get("newest_id"),
            meta.get("next_token"),
            _spent_until(response.headers),
        )

    def _failed(self, stream: _Stream, exc: Exception) -> str:
        """Set the stream's wait from what went wrong; return the error in words."""
        now, message = self._clock.now(), _describe(exc)
        status = exc.response.status_code if isinstance(exc, tweepy.HTTPException) else None
        if isinstance(exc, tweepy.TooManyRequests):
            reset = exc.reset_time
            until = datetime.fromtimestamp(reset, UTC) if reset else now + self._interval
            stream.not_before = max(until, now + timedelta(seconds=1))
            message = f"rate limited until {stream.not_before:%H:%M:%S} UTC"
        elif status == 400 and stream.key.startswith("x:search:"):
            stream.disabled = f"X rejected the query ({message}); fix x.search_queries"
            log.error("search %r switched off: %s", stream.key.removeprefix("x:search:"), message)
            return stream.disabled
        else:
            stream.failures += 1
            stream.transient = status is None or status >= 500
            stream.blocked = _needs_a_person(exc)
            base = MAX_BACKOFF if status in (401, 403) else self._interval
            delay = min(base * (2 ** (stream.failures - 1)), MAX_BACKOFF)
            stream.not_before = now + delay
        log.warning("X %s: %s", stream.key, message)
        return f"{stream.key}: {message}"


def _window_passed(stream: _Stream, error: Exception | None) -> bool:
    """X answers 400 when a search's since_id/until_id is older than its 7-day window."""
    if not stream.key.startswith("x:search:") or not isinstance(error, tweepy.BadRequest):
        return False
    detail = " ".join(error.api_messages).lower()
    return "since_id" in detail or "until_id" in detail


def _spent_until(headers: Mapping[str, str]) -> datetime | None:
    if headers.get("x-rate-limit-remaining") == "0" and headers.get("x-rate-limit-reset"):
        return datetime.fromtimestamp(int(headers["x-rate-limit-reset"]), UTC)
    return None


def _gap_key(key: str) -> str:
    return f"{key}#gaps"


def _gaps(value: str) -> list[tuple[str, str]]:
    pairs = [item.split(":", 1) for item in value.split(",") if ":" in item]
    return [(a, b) for a, b in pairs]


def _gap_update(
    key: str, left: list[tuple[str, str]], before: list[tuple[str, str]]
) -> dict[str, str]:
    """The gaps still to fill, if they changed (an empty value deletes the cursor row)."""
    if left == before:
        return {}
    return {_gap_key(key): ",".join(f"{a}:{b}" for a, b in left)}


def _oldest_first(mentions: list[Mention]) -> tuple[Mention, ...]:
    """X pages come newest first; cases should open in the order customers wrote."""
    return tuple(sorted(mentions, key=lambda m: int(m.native_id)))


def _needs_a_person(exc: Exception) -> str:
    """A refusal that no waiting will fix, in words for the leads with the fix; else ""."""
    if not isinstance(exc, tweepy.HTTPException):
        return ""
    status = exc.response.status_code
    detail = "; ".join(exc.api_messages) or exc.response.reason or ""
    if status == 402:
        return (
            "X says the account's API credits are used up (HTTP 402), so no new mentions can be "
            "read. Top up the credits in the X developer portal; polling resumes by itself"
        )
    if status == 403:
        return (
            f"X refused access (HTTP 403: {detail}). Check that the X app is in a Project with "
            "read access and that its tokens belong to the brand's account"
        )
    if status == 401:
        return (
            "X did not accept the credentials (HTTP 401). Check the tokens in the environment "
            "variables the config names, then restart Earshot"
        )
    return ""


def _describe(exc: Exception) -> str:
    if isinstance(exc, tweepy.HTTPException):
        status = exc.response.status_code
        detail = "; ".join(exc.api_messages) or exc.response.reason or ""
        return f"HTTP {status} {detail}".strip()
    return f"{type(exc).__name__}: {exc}"


RECONCILE_PAGES = 10  # the brand's last 1,000 posts since the mention


class XPublisher:
    """Posts replies as the brand with ``create_tweet(in_reply_to_tweet_id=...)`` (user context)."""

    network = "x"

    def __init__(
        self,
        *,
        client: tweepy.Client,
        user_id: str,
        handle: str,
        settle: timedelta = timedelta(seconds=30),
    ) -> None:
        self._client = client
        self._user_id = user_id
        self._handle = handle
        self.settle = settle

    def publish(self, post: Outgoing) -> Posted:
        """X takes no idempotency key; after a doubtful send, ``find_reply`` decides."""
        try:
            response = self._client.create_tweet(
                text=post.text, in_reply_to_tweet_id=post.in_reply_to, user_auth=True
            )
        except tweepy.HTTPException as exc:
            raise _publish_error(exc) from exc
        except requests.ConnectTimeout as exc:  # never connected: certainly not posted
            raise PublishError(f"could not reach X ({type(exc).__name__})", retryable=True) from exc
        except requests.RequestException as exc:  # the post may have reached X
            message = f"no answer from X ({type(exc).__name__}); checking whether it went out"
            raise PublishError(message, retryable=True, uncertain=True) from exc
        post_id = str(response.json()["data"]["id"])
        return Posted(post_id=post_id, url=post_url(self._handle, post_id))

    def medium(self, mention: Mention) -> Medium:
        return voice.X

    def find_reply(self, post: Outgoing) -> Posted | None:
        """The brand's reply to that post, looking through all its posts since the mention.

        None means X certainly has no such reply; ``PublishError(uncertain=True)`` means Earshot
        could not look far enough to be sure.
        """
        in_reply_to = post.in_reply_to
        token: str | None = None
        for _ in range(RECONCILE_PAGES):
            body = self._brand_posts(since_id=in_reply_to, token=token)
            for tweet in body.get("data") or []:
                if _replies_to(tweet, in_reply_to):
                    post_id = str(tweet["id"])
                    return Posted(post_id=post_id, url=post_url(self._handle, post_id))
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return None
        raise PublishError(
            f"could not confirm within the brand's last {RECONCILE_PAGES * 100} posts",
            retryable=False,
            uncertain=True,
        )

    def _brand_posts(self, *, since_id: str, token: str | None) -> dict[str, Any]:
        try:
            response = self._client.get_users_tweets(
                self._user_id,
                since_id=since_id,
                max_results=100,
                pagination_token=token,
                tweet_fields=["referenced_tweets", "created_at"],
                user_auth=True,
            )
        except (tweepy.TweepyException, requests.RequestException) as exc:
            message = f"could not read the brand's posts ({_describe(exc)})"
            raise PublishError(message, retryable=True, uncertain=True) from exc
        return dict(response.json())


def _replies_to(tweet: Mapping[str, Any], post_id: str) -> bool:
    refs = tweet.get("referenced_tweets") or []
    return any(r.get("type") == "replied_to" and str(r.get("id")) == post_id for r in refs)


def _publish_error(exc: tweepy.HTTPException) -> PublishError:
    """What a failed post means: retry now, retry after a reset, check first, or give up."""
    status = exc.response.status_code
    message = _explain_refusal(exc)
    if isinstance(exc, tweepy.TooManyRequests):
        reset = datetime.fromtimestamp(exc.reset_time, UTC) if exc.reset_time else None
        return PublishError(message, retryable=True, retry_at=reset)
    if status >= 500:  # X may have posted it before failing
        return PublishError(message, retryable=True, uncertain=True)
    if status == 403 and "duplicate" in message.lower():  # maybe already public: look, once
        return PublishError(message, retryable=False, uncertain=True)
    return PublishError(message, retryable=False)


# What X's 403 details mean for a care agent: (words in X's detail, what to tell the agent).
_REFUSALS_403 = (
    (
        ("reply to this conversation is not allowed", "not been mentioned or otherwise engaged"),
        "X would not take it by API (HTTP 403): X takes a reply from an app only where the "
        "customer @mentioned the brand, and the customer may also limit who can reply. Answer "
        "with *Reply on X* (or a DM) from the brand's X session, then *Mark answered*.",
    ),
    (
        ("duplicate content",),
        "X would not take it as a duplicate of a recent post by the brand (HTTP 403). If that "
        "post is this reply, Earshot finds it and the card says so; if not, reword the reply "
        "(say the customer's name) and Retry.",
    ),
    (
        ("deleted or not visible",),
        "X would not take it: the customer's post was deleted or is no longer visible to the "
        "brand (HTTP 403). There is nothing to reply to; dismiss the case or DM the customer.",
    ),
)


def _explain_refusal(exc: tweepy.HTTPException) -> str:
    """Why X refused a reply, in words a care agent understands, with what to do next."""
    status = exc.response.status_code
    detail = "; ".join(exc.api_messages) or exc.response.reason or ""
    if status == 402:
        return (
            "X refused it: the brand's X API credits are used up (HTTP 402). Ask a lead to top "
            "up the credits in the X developer portal, then Retry."
        )
    if status == 403:
        lowered = detail.lower()
        for markers, words in _REFUSALS_403:
            if any(marker in lowered for marker in markers):
                return words
        return (
            f"X refused the post (HTTP 403): {detail}. If it is not a duplicate, ask a lead to "
            "check that the X app has write access."
        )
    if status == 429:
        return "X rate limit reached; the reply will be retried after the reset."
    return f"X answered HTTP {status}: {detail}".strip()


def resolve_user_id(client: tweepy.Client, handle: str) -> str:
    """The numeric id of ``handle`` (used when the config gives only the brand's handle)."""
    response = client.get_user(username=handle)
    return str(response.json()["data"]["id"])
