"""Bluesky through the ``atproto`` SDK: mentions, replies and quotes from the brand account's
notifications (and optional post searches) in; thread replies out.

Reading is free. Each stream's cursor is the ``indexedAt`` of the newest item read; a poll pages
back through the newest-first list until it reaches it. Logins are rate-limited (30 per five
minutes, 300 a day), so the session is stored and reused across restarts; the SDK refreshes the
access token itself, and a password login happens again only when the refresh token is dead. A
reply carries proper ``root`` and ``parent`` references, and its links are made clickable (link
facets), as the Bluesky app does. Nothing past this module sees an SDK object.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from atproto import Client, SessionEvent, models
from atproto.exceptions import (
    AtProtocolError,
    BadRequestError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.utils import get_model_as_dict
from atproto_client.utils.facet_detection import detect_facets

from bot import voice
from bot.clock import Clock
from bot.models import Author, Mention, MentionKind, Posted
from bot.sources import Fetch, PublishError
from bot.sources.fields import count, mapping, moment
from bot.sources.poller import Failure, Poller, Read, Trouble
from bot.voice import Medium

log = logging.getLogger(__name__)
T = TypeVar("T")
Page = tuple[list[dict[str, Any]], str | None]  # items and the cursor to the next (older) page

PAGE = 50
MAX_PAGES = 10
REASONS = ["mention", "reply", "quote"]
_KINDS = {"reply": MentionKind.REPLY, "quote": MentionKind.QUOTE}
_DEAD_SESSION = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})


def post_url(handle: str, uri: str) -> str:
    """The post on bsky.app: ``at://<did>/app.bsky.feed.post/<rkey>`` → its web address."""
    rkey = uri.rsplit("/", 1)[-1]
    return f"https://bsky.app/profile/{handle or uri.split('/')[2]}/post/{rkey}"


# ---- the session --------------------------------------------------------------------------------


class BlueskySession:
    """One brand account's logged-in client. ``saved``/``save`` read and write the session
    string (the database keeps it), so a restart logs in without a password."""

    def __init__(
        self,
        *,
        client: Client,
        handle: str,
        password: str,
        saved: Callable[[], str | None],
        save: Callable[[str], None],
    ) -> None:
        self.client = client
        self._handle = handle
        self._password = password
        self._saved = saved
        self._save = save
        self._lock = threading.Lock()
        self.did = ""
        self.logins = 0
        client.on_session_change(self._changed)

    def start(self) -> str:
        """Resume the stored session, else log in; the account's DID."""
        stored = self._saved()
        if stored:
            try:
                self.client.login(session_string=stored, fetch_bsky_profile=False)
            except (AtProtocolError, ValueError):
                log.warning("the stored Bluesky session for %s is unusable", self._handle)
            else:
                self.did = self._session_did()
                return self.did
        return self._login()

    def call(self, action: Callable[[Client], T]) -> T:
        """Run one SDK call. The SDK refreshes the access token before it expires by its own
        clock; when the server still says the token expired (clocks differ), refresh now, and
        when the refresh token is dead too (expired or revoked), log in again. Then retry once."""
        try:
            return action(self.client)
        except (BadRequestError, UnauthorizedError) as exc:
            if _error_name(exc) not in _DEAD_SESSION:
                raise
            log.warning("Bluesky session for %s: %s; renewing it", self._handle, exc)
            with self._lock:
                self._renew()
            return action(self.client)

    def _renew(self) -> None:
        try:
            self.client._refresh_and_set_session()  # the SDK's own refresh, on demand
        except AtProtocolError:
            self._login()

    def _login(self) -> str:
        self.logins += 1
        self.client.login(self._handle, self._password, fetch_bsky_profile=False)
        self.did = self._session_did()
        return self.did

    def _session_did(self) -> str:
        session = self.client._session
        return str(session.did) if session is not None else ""

    def _changed(self, event: SessionEvent, session: Any) -> None:
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
            self._save(self.client.export_session_string())


def _error_name(exc: RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    if isinstance(content, Mapping):
        return str(content.get("error") or "")
    return str(getattr(content, "error", "") or "")


def _error_text(exc: Exception) -> str:
    if isinstance(exc, RequestErrorBase) and exc.response is not None:
        content = exc.response.content
        message = content.get("message") if isinstance(content, Mapping) else None
        message = message or getattr(content, "message", None) or _error_name(exc)
        return f"HTTP {exc.response.status_code} {message or ''}".strip()
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


# ---- mentions -----------------------------------------------------------------------------------


def to_mention(item: Mapping[str, Any], *, brand: str, reason: str = "") -> Mention | None:
    """A notification or a post view as a ``Mention``; None when it is not a post."""
    uri = str(item.get("uri") or "")
    record = mapping(item.get("record"))
    if not uri.startswith("at://") or "/app.bsky.feed.post/" not in uri:
        return None
    author = mapping(item.get("author"))
    reply = mapping(record.get("reply"))
    root = str(mapping(reply.get("root")).get("uri") or "") or uri
    parent = str(mapping(reply.get("parent")).get("uri") or "")
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    handle = str(author.get("handle") or "")
    return Mention(
        id=f"bluesky:{uri}",
        network="bluesky",
        text=str(record.get("text") or ""),
        author=Author(
            id=str(author.get("did") or ""),
            handle=handle,
            name=str(author.get("displayName") or ""),
            followers=count(author.get("followersCount")),
        ),
        created_at=moment(record.get("createdAt")) or moment(item.get("indexedAt")),
        brand=brand,
        lang=lang,
        conversation_id=root,
        in_reply_to=f"bluesky:{parent}" if parent else None,
        kind=_kind(reason, record),
        url=post_url(handle, uri),
        raw={"uri": uri, "cid": str(item.get("cid") or ""), "reason": reason},
    )


def _kind(reason: str, record: Mapping[str, Any]) -> MentionKind:
    if reason in _KINDS:
        return _KINDS[reason]
    if record.get("reply"):
        return MentionKind.REPLY
    embed = mapping(record.get("embed"))
    quoting = str(embed.get("$type") or "").startswith("app.bsky.embed.record")
    return MentionKind.QUOTE if quoting else MentionKind.MENTION


def _as_dicts(items: list[Any]) -> list[dict[str, Any]]:
    return [get_model_as_dict(item) for item in items]


# ---- errors -------------------------------------------------------------------------------------


def judge(exc: Exception) -> Failure:
    """What a failed Bluesky call means for polling."""
    if isinstance(exc, RateLimitExceededError):
        until = exc.reset_at or datetime.now(UTC) + timedelta(minutes=5)
        return Failure(Trouble.RATE, f"rate limited until {until:%H:%M:%S} UTC", until)
    if isinstance(exc, UnauthorizedError):
        return Failure(
            Trouble.PERSON,
            f"Bluesky did not accept the login ({_error_text(exc)}). Check the handle and the "
            "app password in the environment variable the config names, then restart Earshot",
        )
    if isinstance(exc, BadRequestError):
        return Failure(Trouble.REFUSED, f"Bluesky refused the request ({_error_text(exc)})")
    return Failure(Trouble.TRANSIENT, _error_text(exc))


# ---- the source ---------------------------------------------------------------------------------


class BlueskySource:
    """Reads ``app.bsky.notification.listNotifications`` (mentions, replies, quotes) and, for
    each configured keyword, ``app.bsky.feed.searchPosts`` (latest first)."""

    network = "bluesky"

    def __init__(
        self,
        *,
        session: BlueskySession,
        brand: str,
        brand_handle: str,
        clock: Clock,
        queries: tuple[str, ...] = (),
        interval: float = 30.0,
    ) -> None:
        self._session = session
        self._brand = brand
        self.brand_handle = brand_handle
        self.poll_seconds = interval
        keys = [f"bluesky:notifications:{brand_handle}", *(f"bluesky:search:{q}" for q in queries)]
        self._poller = Poller(
            name="Bluesky",
            keys=keys,
            clock=clock,
            interval=timedelta(seconds=interval),
            judge=judge,
        )

    @property
    def brand(self) -> str:
        return self._brand

    @property
    def user_id(self) -> str:
        return self._session.did

    def fetch(self, cursors: Mapping[str, str]) -> Fetch:
        return self._poller.poll(cursors, self._read)

    def _read(self, key: str, since: str | None) -> Read:
        if key.startswith("bluesky:search:"):
            return self._pages(since, self._search(key.removeprefix("bluesky:search:"), since))
        return self._pages(since, self._notifications)

    def _notifications(self, cursor: str | None) -> Page:
        params = {"limit": PAGE, "reasons": REASONS, "cursor": cursor}
        page = self._session.call(lambda c: c.app.bsky.notification.list_notifications(params))
        items = [n for n in _as_dicts(page.notifications) if n.get("reason") in REASONS]
        return items, page.cursor

    def _search(self, query: str, since: str | None) -> Callable[[str | None], Page]:
        def search(cursor: str | None) -> Page:
            params = {"q": query, "sort": "latest", "limit": PAGE, "cursor": cursor, "since": since}
            page = self._session.call(lambda c: c.app.bsky.feed.search_posts(params))
            return _as_dicts(page.posts), page.cursor

        return search

    def _pages(
        self,
        since: str | None,
        page: Callable[[str | None], Page],
    ) -> Read:
        """Newest first, back to the stored ``indexedAt`` (the first poll reads one page)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        complete = False
        for _ in range(1 if since is None else MAX_PAGES):
            batch, cursor = page(cursor)
            fresh = [i for i in batch if since is None or str(i.get("indexedAt") or "") > since]
            items += fresh
            if len(fresh) < len(batch) or not cursor:
                complete = True
                break
        newest = max((str(i.get("indexedAt") or "") for i in items), default="") or None
        mentions = [
            m
            for i in items
            if (m := to_mention(i, brand=self._brand, reason=str(i.get("reason") or "")))
        ]
        lost = "" if complete or since is None else _too_many(since)
        return Read(mentions, cursor=newest, lost=lost)


def _too_many(since: str) -> str:
    return (
        f"more than {PAGE * MAX_PAGES} posts since {since}; the oldest of them were not read "
        "(poll more often: bluesky.poll_interval_seconds)"
    )


# ---- the publisher ------------------------------------------------------------------------------


class BlueskyPublisher:
    """Replies as the brand: ``com.atproto.repo.createRecord`` with the thread's root and the
    parent it answers (both looked up, so a reply deep in a thread stays in that thread)."""

    network = "bluesky"

    def __init__(self, *, session: BlueskySession, handle: str) -> None:
        self._session = session
        self._handle = handle

    def medium(self, mention: Mention) -> Medium:
        return replace(voice.BLUESKY, account=self._handle)

    def publish(self, *, text: str, in_reply_to: str, key: str = "") -> Posted:
        """Bluesky takes no idempotency key; after a doubtful send, ``find_reply`` decides."""
        try:
            reply_to = self._reply_ref(in_reply_to)
            created = self._session.call(
                lambda c: c.send_post(
                    text,
                    profile_identify=self._session.did,
                    reply_to=reply_to,
                    facets=detect_facets(text) or None,
                )
            )
        except AtProtocolError as exc:
            raise _publish_error(exc) from exc
        return Posted(post_id=created.uri, url=post_url(self._handle, created.uri))

    def _reply_ref(self, uri: str) -> models.AppBskyFeedPost.ReplyRef:
        posts = self._session.call(lambda c: c.app.bsky.feed.get_posts({"uris": [uri]})).posts
        if not posts:
            raise PublishError(
                "Bluesky would not take it: the customer's post was deleted or is no longer "
                "visible. There is nothing to reply to; dismiss the case.",
                retryable=False,
            )
        parent = models.ComAtprotoRepoStrongRef.Main(uri=posts[0].uri, cid=posts[0].cid)
        record = get_model_as_dict(posts[0].record) if posts[0].record else {}
        root = mapping(mapping(record.get("reply")).get("root"))
        top = (
            models.ComAtprotoRepoStrongRef.Main(uri=str(root["uri"]), cid=str(root["cid"]))
            if root.get("uri") and root.get("cid")
            else parent
        )
        return models.AppBskyFeedPost.ReplyRef(parent=parent, root=top)

    def find_reply(self, *, in_reply_to: str) -> Posted | None:
        """The brand's reply among the post's direct replies, if any."""
        try:
            thread = self._session.call(
                lambda c: c.app.bsky.feed.get_post_thread({"uri": in_reply_to, "depth": 1})
            ).thread
        except BadRequestError:  # the post is gone: nothing can answer it
            return None
        except AtProtocolError as exc:
            message = f"could not read the post's replies ({_error_text(exc)})"
            raise PublishError(message, retryable=True, uncertain=True) from exc
        for reply in mapping(get_model_as_dict(thread)).get("replies") or []:
            post = mapping(mapping(reply).get("post"))
            if mapping(post.get("author")).get("did") == self._session.did:
                return Posted(post_id=str(post["uri"]), url=post_url(self._handle, post["uri"]))
        return None


def _publish_error(exc: AtProtocolError) -> PublishError:
    if isinstance(exc, RateLimitExceededError):
        message = "Bluesky rate limit reached; the reply will be retried after the reset."
        return PublishError(message, retryable=True, retry_at=exc.reset_at)
    if isinstance(exc, BadRequestError):
        return PublishError(f"Bluesky refused the post: {_error_text(exc)}", retryable=False)
    if isinstance(exc, UnauthorizedError):
        return PublishError(
            "Bluesky did not accept the brand's login. Ask a lead to check the app password, "
            "then Retry.",
            retryable=False,
        )
    if isinstance(exc, NetworkError | RequestErrorBase):
        message = f"Bluesky failed ({_error_text(exc)}); checking whether it went out"
        return PublishError(message, retryable=True, uncertain=True)
    return PublishError(f"Bluesky failed: {exc}", retryable=True, uncertain=True)
