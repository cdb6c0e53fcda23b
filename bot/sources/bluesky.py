"""Bluesky through the ``atproto`` SDK: mentions, replies and quotes from the brand account's
notifications (and optional post searches) in; thread replies out.

Reading is free. Bluesky lists posts by ``sortAt`` (shown as ``indexedAt``), the earlier of the
author's ``createdAt`` and the time the AppView indexed the post, so a new post can sort below
ones already read; each poll re-reads an overlap before the newest post read and skips what it
read before (``Mark``). Logins are rate-limited (30 per five minutes, 300 a day), so the session
is stored and reused across restarts; the SDK refreshes the access token itself, and a password
login happens again only when the refresh token is dead. A reply carries proper ``root`` and
``parent`` references, clickable links (link facets) and its language, as the Bluesky app writes
them, under a record key derived from its outbox row, so it is posted once. Nothing past this
module sees an SDK object.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import httpx
from atproto import Client, SessionEvent, models
from atproto.exceptions import (
    AtProtocolError,
    BadRequestError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.utils import get_model_as_dict
from atproto_client.utils.facet_detection import detect_facets

from bot.clock import Clock
from bot.decide import voice
from bot.decide.triage import detect_language
from bot.decide.voice import Medium
from bot.models import Author, Mention, MentionKind, Posted
from bot.sources import Fetch, Outgoing, PublishError
from bot.sources.fields import count, mapping, moment, storable
from bot.sources.poller import Failure, Poller, Read, Trouble

log = logging.getLogger(__name__)
T = TypeVar("T")
Page = tuple[list[dict[str, Any]], str | None]  # items and the cursor to the next (older) page

PAGE = 50
MAX_PAGES = 10
REASONS = ["mention", "reply", "quote"]
_KINDS = {"reply": MentionKind.REPLY, "quote": MentionKind.QUOTE}
LOGIN_PAUSE = timedelta(minutes=15)
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
        self._refused: tuple[float, UnauthorizedError] | None = None  # until, and what it said
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
        """Log in with the password. A refused password (revoked, changed) is not tried again
        for ``LOGIN_PAUSE``: every stream would otherwise ask on every poll, against a login
        limit of 30 per five minutes, and only a person can fix it anyway."""
        if self._refused is not None and time.monotonic() < self._refused[0]:
            raise self._refused[1]
        self.logins += 1
        try:
            self.client.login(self._handle, self._password, fetch_bsky_profile=False)
        except UnauthorizedError as exc:
            self._refused = (time.monotonic() + LOGIN_PAUSE.total_seconds(), exc)
            raise
        self._refused = None
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
    """A notification or a post view as a ``Mention`` (``storable``); None when it is not a post."""
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
    return storable(
        Mention(
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
        mark = Mark.parse(since)
        if key.startswith("bluesky:search:"):
            query = key.removeprefix("bluesky:search:")
            return self._pages(mark, self._search(query, mark.floor() if mark else None))
        return self._pages(mark, self._notifications)

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

    def _pages(self, mark: Mark | None, page: Callable[[str | None], Page]) -> Read:
        """Newest first, back past the overlap window before the newest post already read (the
        first poll reads one page). Posts read before are skipped by their URI."""
        read: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        reached = False  # got back to posts as old as the newest one read before
        for _ in range(1 if mark is None else MAX_PAGES):
            batch, cursor = page(cursor)
            read |= {str(i.get("uri") or ""): i for i in batch if _sort_at(i) is not None}
            oldest = min((t for i in batch if (t := _sort_at(i))), default=None)
            reached = reached or mark is None or (oldest is not None and oldest <= mark.at)
            if not cursor or oldest is None or (mark is not None and oldest < mark.floor_time):
                reached = True
                break
        fresh = [i for uri, i in read.items() if mark is None or uri not in mark.seen]
        fresh = [i for i in fresh if mark is None or cast(datetime, _sort_at(i)) >= mark.floor_time]
        mentions = [
            m
            for i in fresh
            if (m := to_mention(i, brand=self._brand, reason=str(i.get("reason") or "")))
        ]
        lost = "" if reached or mark is None else _too_many(mark.at)
        after = Mark.after(mark, read.values())
        return Read(mentions, cursor=after.dump() if after else None, lost=lost)


OVERLAP = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Mark:
    """A stream's cursor: the newest ``sortAt`` read, and the posts read within ``OVERLAP``
    before it. Bluesky orders by ``sortAt``, the earlier of a post's ``createdAt`` (the
    author's device clock) and when the AppView indexed it, so a post can appear below ones
    already read: from a phone whose clock is behind, or indexed late. Each poll re-reads the
    overlap and skips what it read before; a post backdated by more than ``OVERLAP`` is missed.
    Stored as JSON; a plain timestamp (an older Earshot's cursor) reads as a mark with none
    seen."""

    at: datetime
    seen: Mapping[str, datetime]

    @property
    def floor_time(self) -> datetime:
        return self.at - OVERLAP

    def floor(self) -> str:
        return _iso(self.floor_time)

    @classmethod
    def parse(cls, stored: str | None) -> Mark | None:
        if not stored:
            return None
        try:
            data = json.loads(stored) if stored.startswith("{") else {"at": stored}
        except ValueError:
            data = {}
        at = moment(mapping(data).get("at"))
        if at is None:
            return None
        seen = mapping(mapping(data).get("seen"))
        return cls(at, {uri: t for uri, value in seen.items() if (t := moment(value))})

    @classmethod
    def after(cls, mark: Mark | None, items: Iterable[Mapping[str, Any]]) -> Mark | None:
        """The mark once ``items`` are read: the newest time, and what lies in its overlap
        (None while nothing was ever read)."""
        times = {str(i.get("uri") or ""): t for i in items if (t := _sort_at(i)) is not None}
        seen = {**(mark.seen if mark else {}), **times}
        moments = [*seen.values(), *([mark.at] if mark else [])]
        if not moments:
            return None
        at = max(moments)
        return cls(at, {uri: t for uri, t in seen.items() if t >= at - OVERLAP})

    def dump(self) -> str:
        seen = {uri: _iso(t) for uri, t in sorted(self.seen.items(), key=lambda kv: kv[1])}
        return json.dumps({"at": _iso(self.at), "seen": seen}, separators=(",", ":"))


def _sort_at(item: Mapping[str, Any]) -> datetime | None:
    """The AppView's ``indexedAt``: its ``sortAt``, what it orders by."""
    return moment(item.get("indexedAt"))


def _iso(moment_: datetime) -> str:
    return moment_.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _too_many(since: datetime) -> str:
    return (
        f"more than {PAGE * MAX_PAGES} posts since {_iso(since)}; the oldest of them were not "
        "read (poll more often: bluesky.poll_interval_seconds)"
    )


# ---- the publisher ------------------------------------------------------------------------------


class BlueskyPublisher:
    """Replies as the brand: ``com.atproto.repo.createRecord`` with the thread's root and the
    parent it answers (both looked up, so a reply deep in a thread stays in that thread).

    Exactly once: each reply's record key is derived from its outbox row (``record_key``), so
    sending the same row twice cannot make two posts (the PDS refuses a second record under a
    key, with HTTP 500). A doubtful send is settled by reading that key back from the brand's
    own repo on its PDS, which shows a write at once, not through the AppView, which lags.
    """

    network = "bluesky"
    settle = timedelta(0)  # a resend uses the same record key: never a second post

    def __init__(self, *, session: BlueskySession, handle: str) -> None:
        self._session = session
        self._handle = handle

    def medium(self, mention: Mention) -> Medium:
        return replace(voice.BLUESKY, account=self._handle)

    def publish(self, post: Outgoing) -> Posted:
        try:
            record = self._record(post)
        except (AtProtocolError, httpx.TransportError) as exc:  # nothing was sent yet
            raise _publish_error(exc, maybe_sent=False) from exc
        create = {"repo": self._session.did, "collection": POST, "record": record}
        create["rkey"] = record_key(post)
        try:
            created = self._session.call(lambda c: c.com.atproto.repo.create_record(create))
        except (AtProtocolError, httpx.TransportError) as exc:
            raise _publish_error(exc, maybe_sent=True) from exc
        return Posted(post_id=created.uri, url=post_url(self._handle, created.uri))

    def _record(self, post: Outgoing) -> dict[str, Any]:
        """The post record as the Bluesky app writes it: text, clickable links, the thread it
        answers, and the language it is written in (Korean replies say ``ko``)."""
        record: dict[str, Any] = {
            "$type": POST,
            "text": post.text,
            "createdAt": _iso(datetime.now(UTC)),
            "reply": get_model_as_dict(self._reply_ref(post.in_reply_to)),
        }
        if facets := detect_facets(post.text):
            record["facets"] = [get_model_as_dict(facet) for facet in facets]
        if (lang := detect_language(post.text)) != "und":
            record["langs"] = [lang]
        return record

    def _reply_ref(self, uri: str) -> models.AppBskyFeedPost.ReplyRef:
        view = self._own_post(uri) if _repo_of(uri) == self._session.did else self._post(uri)
        if view is None:
            raise PublishError(
                "Bluesky would not take it: the customer's post was deleted or is no longer "
                "visible. There is nothing to reply to; dismiss the case.",
                retryable=False,
            )
        uri, cid, record = view
        parent = models.ComAtprotoRepoStrongRef.Main(uri=uri, cid=cid)
        root = mapping(mapping(record.get("reply")).get("root"))
        top = (
            models.ComAtprotoRepoStrongRef.Main(uri=str(root["uri"]), cid=str(root["cid"]))
            if root.get("uri") and root.get("cid")
            else parent
        )
        return models.AppBskyFeedPost.ReplyRef(parent=parent, root=top)

    def _post(self, uri: str) -> tuple[str, str, Mapping[str, Any]] | None:
        """A customer's post, through the AppView."""
        posts = self._session.call(lambda c: c.app.bsky.feed.get_posts({"uris": [uri]})).posts
        if not posts:
            return None
        record = get_model_as_dict(posts[0].record) if posts[0].record else {}
        return posts[0].uri, posts[0].cid, record

    def _own_post(self, uri: str) -> tuple[str, str, Mapping[str, Any]] | None:
        """One of the brand's own posts (the part before, in a thread), from its repo on the
        PDS: the AppView may not show a post made a moment ago."""
        found = self._own_record(uri.rsplit("/", 1)[-1])
        if found is None:
            return None
        return found.uri, str(found.cid), mapping(get_model_as_dict(found.value))

    def _own_record(self, rkey: str) -> Any:
        """The brand's post under ``rkey`` in its repo, or None when there is none."""
        params = {"repo": self._session.did, "collection": POST, "rkey": rkey}
        try:
            return self._session.call(lambda c: c.com.atproto.repo.get_record(params))
        except BadRequestError as exc:
            if _error_name(exc) == "RecordNotFound":
                return None
            raise

    def find_reply(self, post: Outgoing) -> Posted | None:
        """The reply if the PDS holds it under its record key: the brand's repo answers at once
        after a write. It must be this reply (same text, same post answered); anything else
        under the key is a problem for a person, never a reason to post again."""
        try:
            found = self._own_record(record_key(post))
        except (AtProtocolError, httpx.TransportError) as exc:
            message = f"could not read the brand's posts ({_error_text(exc)})"
            raise PublishError(message, retryable=True, uncertain=True) from exc
        if found is None:
            return None
        value = mapping(get_model_as_dict(found.value))
        parent = mapping(mapping(value.get("reply")).get("parent")).get("uri")
        if value.get("text") != post.text or parent != post.in_reply_to:
            raise PublishError(
                f"Bluesky holds a different post under this reply's record key ({found.uri}); "
                "Earshot will not post over it. Check the brand's posts on Bluesky, then Retry "
                "or dismiss.",
                retryable=False,
                uncertain=True,
            )
        return Posted(post_id=found.uri, url=post_url(self._handle, found.uri))


POST = "app.bsky.feed.post"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def record_key(post: Outgoing) -> str:
    """The reply's record key, the same every time its outbox row is sent: a TID (atproto's
    timestamp id, which the PDS requires for posts) whose time is when the row was written,
    moved by up to a second and given a clock id, both taken from the row's key, so the parts
    of a thread (written together) get keys of their own. A post with no row gets a fresh one."""
    if not post.key or post.written_at is None:
        return tid(int(datetime.now(UTC).timestamp() * 1_000_000), clock_id=0)
    digest = int.from_bytes(hashlib.sha256(post.key.encode()).digest()[:8], "big")
    written = post.written_at
    micros = int(written.timestamp()) * 1_000_000 + written.microsecond
    return tid(micros + (digest >> 10) % 1_000_000, clock_id=digest % 1024)


def tid(micros: int, *, clock_id: int) -> str:
    """A TID: 53 bits of microseconds since the epoch and a 10-bit clock id, as 13 characters
    of sortable base32 (https://atproto.com/specs/tid)."""
    value = ((micros << 10) | clock_id) & ((1 << 63) - 1)
    return "".join(TID_ALPHABET[(value >> (5 * (12 - i))) & 31] for i in range(13))


def _repo_of(uri: str) -> str:
    """The DID of the repo an at-uri lives in."""
    return uri.removeprefix("at://").split("/", 1)[0]


def _publish_error(exc: Exception, *, maybe_sent: bool) -> PublishError:
    """What a failed post means. Anything after the post was sent that may have reached the PDS
    (a 5xx, a dropped connection, a timeout) is doubtful: the reply is not public yet as far as
    anyone knows, and the PDS is asked before any retry."""
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
    if not maybe_sent:
        message = f"Bluesky could not be read before posting ({_error_text(exc)})"
        return PublishError(message, retryable=True)
    message = f"Bluesky failed ({_error_text(exc)}); checking whether it went out"
    return PublishError(message, retryable=True, uncertain=True)
