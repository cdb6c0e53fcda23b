"""``BlueskyEmulator``: the subset of Bluesky (a PDS plus the AppView) that Earshot uses.

Point ``atproto.Client(base_url=emulator.xrpc_url)`` at it. It answers XRPC the way the real
services do, as measured against @atproto/dev-env 0.6.7 (a PDS and the bsky AppView): sessions
with JWT-shaped access and refresh tokens the SDK can decode (and refresh 15 minutes before
``exp``), app passwords that can be revoked, ``{"error", "message"}`` bodies, ``ratelimit-*``
headers on every answer; post records with reply refs, quote embeds and mention/link facets,
written through ``createRecord`` with the real PDS's checks (TID record keys, byte, grapheme
and langs limits, in its words; a record key used twice is its bare 500) and read back at once
through ``getRecord`` and ``listRecords``; and AppView reads (notifications for the brand
accounts, with the real reasons and order: mention, quote, reply to any ancestor below height
5, like, follow; search; hydrated posts and threads), dated and sorted by ``sortAt``, paged by
ISO-time cursors, and showing a record only once the AppView has indexed it, ``appview_lag``
seconds after the PDS stored it.

Limits: XRPC writes only ``app.bsky.feed.post`` records (likes and follows come from
:meth:`BlueskyEmulator.add_like` / :meth:`~BlueskyEmulator.add_follow`); no deletes, reposts,
blobs, labels, blocks, thread gates or viewer state; a reply or quote must point at a post the
emulator holds (the real PDS does not look); only the refusals listed above are worded as
measured; like counts do not wait for the lag; reply notifications come from the ancestors held
when the reply is stored (no out-of-order indexing); search is an AND of words and quoted
phrases (plus ``from:``), ``sort=top`` is the same as ``latest`` and its cursor is an opaque
offset; tokens survive :meth:`~bot.sandbox.http.EmulatorServer.reset` and a used refresh token
stays valid; no did:plc directory or handle resolution is served.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import regex

from bot.sandbox.http import EmulatorServer, Fault, Reply, Request, Route

CREATE_SESSION = "POST com.atproto.server.createSession"
REFRESH_SESSION = "POST com.atproto.server.refreshSession"
GET_SESSION = "GET com.atproto.server.getSession"
GET_PROFILE = "GET app.bsky.actor.getProfile"
LIST_NOTIFICATIONS = "GET app.bsky.notification.listNotifications"
UPDATE_SEEN = "POST app.bsky.notification.updateSeen"
SEARCH_POSTS = "GET app.bsky.feed.searchPosts"
GET_POSTS = "GET app.bsky.feed.getPosts"
GET_POST_THREAD = "GET app.bsky.feed.getPostThread"
CREATE_RECORD = "POST com.atproto.repo.createRecord"
GET_RECORD = "GET com.atproto.repo.getRecord"
LIST_RECORDS = "GET com.atproto.repo.listRecords"
CONTROL_POST = "POST /_sandbox/posts"

POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"
FOLLOW = "app.bsky.graph.follow"
MENTION_FEATURE = "app.bsky.richtext.facet#mention"
LINK_FEATURE = "app.bsky.richtext.facet#link"
THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
MAX_LANGS = 3
MAX_URIS = 25
REPLY_NOTIF_DEPTH = 5  # the AppView notifies ancestors of a reply up to this height (exclusive)
DEFAULT_RATE_LIMIT = (3000, 300.0)
LOGIN_WINDOW = 300.0
REFRESH_TTL = 90 * 24 * 3600.0
SERVICE_DID = "did:web:pds.sandbox.invalid"
ACCESS_SCOPE = "com.atproto.appPass"
REFRESH_SCOPE = "com.atproto.refresh"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_FIRST = "234567abcdefghij"  # a TID's top bit is 0, so its first character is one of these

_STATUS_ERRORS = {
    400: ("InvalidRequest", "Invalid Request"),
    401: ("AuthenticationRequired", "Authentication Required"),
    403: ("Forbidden", "Forbidden"),
    404: ("NotFound", "Not Found"),
    413: ("PayloadTooLarge", "Payload Too Large"),
    429: ("RateLimitExceeded", "Rate Limit Exceeded"),
    500: ("InternalServerError", "Internal Server Error"),
    501: ("MethodNotImplemented", "Method Not Implemented"),
    502: ("UpstreamFailure", "Upstream Failure"),
    503: ("NotEnoughResources", "Not Enough Resources"),
    504: ("UpstreamTimeout", "Upstream Timeout"),
}
_HANDLE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_MENTION = re.compile(
    r"(?<![\w@.])@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)
_LINK = re.compile(r"https?://[^\s]+")
_RKEY = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
_TID = re.compile(rf"^[{TID_FIRST}][{TID_ALPHABET}]{{12}}$")
_INVALID_POST = f"Invalid {POST} record"

Scope = Literal["none", "optional", "access", "refresh"]


class _XrpcError(Exception):
    """Raised by a route to answer with an XRPC error body."""

    def __init__(
        self, status: int, error: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status, self.error, self.message = status, error, message
        self.headers = headers or {}

    def reply(self) -> Reply:
        return Reply(self.status, {"error": self.error, "message": self.message}, self.headers)


def _invalid(message: str) -> _XrpcError:
    return _XrpcError(400, "InvalidRequest", message)


@dataclass(frozen=True)
class _Brand:
    """An account the bot logs in as; ``password`` is None once revoked."""

    did: str
    handle: str
    password: str | None
    name: str


@dataclass
class _User:
    did: str
    handle: str
    name: str
    followers: int
    created_ms: int
    follows: int = 0


@dataclass(frozen=True)
class _Token:
    """An issued JWT: whose, which kind and until when (emulator clock)."""

    kind: Literal["access", "refresh"]
    did: str
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class _Record:
    """A record in a repo on the PDS, as ``getRecord`` and ``listRecords`` serve it."""

    uri: str
    cid: str
    value: dict[str, Any]

    @property
    def did(self) -> str:
        return self.uri.split("/")[2]

    @property
    def collection(self) -> str:
        return self.uri.split("/")[3]

    @property
    def rkey(self) -> str:
        return self.uri.split("/")[4]


@dataclass
class _Post:
    """A post: stored by the PDS at ``stored_ms``, indexed by the AppView at ``indexed_ms``
    (``visible_at`` on the emulator clock; -inf when there is no lag)."""

    uri: str
    cid: str
    did: str
    rkey: str
    record: dict[str, Any]
    stored_ms: int
    indexed_ms: int
    visible_at: float
    requested: dict[str, Any] | None = None
    likes: int = 0


@dataclass(frozen=True)
class _Notice:
    """One notification for one brand, dated by the record's sortAt."""

    seq: int
    brand: str
    uri: str
    cid: str
    author: str
    reason: str
    record: dict[str, Any]
    sort_ms: int
    visible_at: float
    subject: str | None = None


@dataclass
class _Ctx:
    """What an XRPC route needs beyond the request: the caller and the events to publish."""

    did: str | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


XrpcRoute = Callable[[Request, _Ctx], Reply]


class BlueskyEmulator(EmulatorServer):
    """An in-memory Bluesky with brand accounts, served as XRPC on loopback.

    Brands (the constructor's is the default; :meth:`add_brand` adds more) log in with
    ``createSession`` and survive :meth:`reset`. Everyone else is a user, created by
    :meth:`add_user` or on first post. Events: ``post.added`` (every new post, when the PDS
    stores it) and ``reply.created`` (posts made through ``createRecord``, with ``requested``).

    ``appview_lag`` (seconds on ``clock``, settable later) is how long after the PDS stores a
    record the AppView indexes it: until then AppView reads (notifications, ``getPosts``,
    ``getPostThread``, ``searchPosts``, reply and quote counts) do not show it, while the PDS's
    repo reads (``getRecord``, ``listRecords``) do at once. The real stack took 0.2–1.8 s
    (measured against @atproto/dev-env 0.6.7); 0 shows everything at once.
    """

    def __init__(
        self,
        *,
        brand_handle: str = "skylarkair.bsky.social",
        brand_password: str = "sandbox-app-password",
        brand_name: str = "Skylark Air",
        access_ttl: float = 7200.0,
        clock: Callable[[], float] = time.time,
        rate_limits: Mapping[str, tuple[int, float]] | None = None,
        login_limit: int | None = None,
        appview_lag: float = 0.0,
    ) -> None:
        super().__init__()
        self._clock = clock
        self._access_ttl = access_ttl
        self._limits = dict(rate_limits or {})
        self._login_limit = login_limit
        self._lag = _lag(appview_lag)
        self._secret = secrets.token_bytes(32)
        self._tokens: dict[str, _Token] = {}
        self._brands: dict[str, _Brand] = {}
        self._last_ms = 0
        self._last_tid = 0
        self._routes = self._route_table()
        self._reset_state()
        self._default = self.add_brand(
            handle=brand_handle, password=brand_password, name=brand_name
        )
        self.brand_handle = self._users[self._default].handle

    def _reset_state(self) -> None:
        self._users: dict[str, _User] = {}
        self._handles: dict[str, str] = {}
        self._repo: dict[str, _Record] = {}
        self._posts: dict[str, _Post] = {}
        self._children: dict[str, list[str]] = {}
        self._quoters: dict[str, list[str]] = {}
        self._notices: list[_Notice] = []
        self._seen: dict[str, int] = {}
        self._logins: Counter[str] = Counter()
        self._refreshes: Counter[str] = Counter()
        self._windows: dict[str, tuple[float, int]] = {}
        for brand in self._brands.values():
            self._add_user(brand.handle, name=brand.name)

    def _route_table(self) -> dict[str, tuple[XrpcRoute, Scope]]:
        return {
            CREATE_SESSION: (self._create_session, "none"),
            REFRESH_SESSION: (self._refresh_session, "refresh"),
            GET_SESSION: (self._get_session, "access"),
            GET_PROFILE: (self._get_profile, "optional"),
            LIST_NOTIFICATIONS: (self._list_notifications, "access"),
            UPDATE_SEEN: (self._update_seen, "access"),
            SEARCH_POSTS: (self._search_posts, "optional"),
            GET_POSTS: (self._get_posts, "optional"),
            GET_POST_THREAD: (self._get_post_thread, "optional"),
            CREATE_RECORD: (self._create_record, "access"),
            GET_RECORD: (self._get_record, "optional"),
            LIST_RECORDS: (self._list_records, "optional"),
        }

    # -- addresses and accounts ---------------------------------------------------------------

    @property
    def xrpc_url(self) -> str:
        """Exactly what to pass as ``atproto.Client(base_url=...)``: ``http://127.0.0.1:PORT/xrpc``."""
        return f"{self.base_url}/xrpc"

    @property
    def url(self) -> str:
        return self.xrpc_url

    @property
    def brand_did(self) -> str:
        """The default brand's DID."""
        return self._default

    @property
    def appview_lag(self) -> float:
        """Seconds (emulator clock) between the PDS storing a record and the AppView showing it.

        Setting it affects records stored from then on.
        """
        return self._lag

    @appview_lag.setter
    def appview_lag(self, seconds: float) -> None:
        with self._changing():
            self._lag = _lag(seconds)

    def add_brand(self, *, handle: str, password: str, name: str = "") -> str:
        """Register an account the bot can log in as (with ``password``) and return its DID."""
        handle = handle.lstrip("@").lower()
        if not _HANDLE.match(handle):
            raise ValueError(f"not a valid handle: {handle!r}")
        if not password:
            raise ValueError("a brand needs a non-empty password")
        with self._changing():
            did = self._add_user(handle, name=name)
            if did in self._brands:
                raise ValueError(f"@{handle} is already a brand")
            self._brands[did] = _Brand(did, handle, password, name)
            return did

    def brands(self) -> list[dict[str, str]]:
        """The brand accounts, default first: ``did``, ``handle`` and ``name``."""
        with self._cond:
            return [
                {"did": b.did, "handle": b.handle, "name": b.name} for b in self._brands.values()
            ]

    def add_user(self, handle: str, *, name: str = "", followers: int = 0) -> str:
        """Create a user (idempotent by handle, case-insensitive) and return its DID."""
        with self._changing():
            return self._add_user(handle, name=name, followers=followers)

    def _add_user(self, handle: str, *, name: str = "", followers: int = 0) -> str:
        handle = handle.lstrip("@").lower()
        if (existing := self._handles.get(handle)) is not None:
            return existing
        if not _HANDLE.match(handle):
            raise ValueError(f"not a valid handle: {handle!r}")
        did = did_for(handle)
        self._users[did] = _User(did, handle, name, followers, self._tick())
        self._handles[handle] = did
        return did

    def _did(self, ref: str) -> str | None:
        """A known account's DID from its DID or handle (``@`` optional)."""
        if ref in self._users:
            return ref
        return self._handles.get(ref.lstrip("@").lower())

    def _author(self, ref: str) -> str:
        return self._did(ref) or self._add_user(ref)

    def _brand(self, handle: str) -> _Brand:
        brand = self._brands.get(self._did(handle) or "")
        if brand is None:
            raise ValueError(f"{handle!r} is not a registered brand")
        return brand

    def logins(self, handle: str) -> int:
        """How many ``createSession`` calls succeeded for this brand (handle or DID)."""
        with self._cond:
            did = self._did(handle)
            return self._logins[did] if did else 0

    def refreshes(self, handle: str) -> int:
        """How many ``refreshSession`` calls succeeded for this brand (handle or DID)."""
        with self._cond:
            did = self._did(handle)
            return self._refreshes[did] if did else 0

    def expire_tokens(self, *, refresh: bool = False) -> None:
        """Make every issued access token (and refresh token too, if asked) expired."""
        with self._changing():
            for token, entry in self._tokens.items():
                if entry.kind == "access" or refresh:
                    self._tokens[token] = replace(entry, expires_at=-math.inf)

    def revoke_password(self, handle: str) -> None:
        """Revoke a brand's app password, as the real PDS does (measured against
        @atproto/dev-env 0.6.7): access tokens already issued keep working until they expire;
        refreshing with a refresh token issued under it answers 400 ``ExpiredToken`` "Token has
        been revoked"; a login with it answers 401 "Invalid identifier or password"."""
        with self._changing():
            brand = self._brand(handle)
            self._brands[brand.did] = replace(brand, password=None)
            for token, entry in self._tokens.items():
                if entry.kind == "refresh" and entry.did == brand.did:
                    self._tokens[token] = replace(entry, revoked=True)

    def change_password(self, handle: str, new: str) -> None:
        """Revoke the brand's app password (see :meth:`revoke_password`) and issue ``new``."""
        if not new:
            raise ValueError("a brand needs a non-empty password")
        with self._changing():
            self.revoke_password(handle)
            brand = self._brand(handle)
            self._brands[brand.did] = replace(brand, password=new)

    # -- posts, likes, follows ---------------------------------------------------------------

    def add_post(
        self,
        author: str,
        text: str,
        *,
        reply_to: str | None = None,
        quote: str | None = None,
        langs: list[str] | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Add a post by anyone (unknown handles become users) and return its at-uri.

        Mentions of known handles and ``https://`` links become facets; ``reply_to`` and
        ``quote`` are at-uris of posts the PDS holds (``ValueError`` otherwise). ``createdAt``
        is ``created_at`` (a backdated post sorts by it) or the moment the PDS stores it.
        """
        with self._changing() as events:
            did = self._author(author)
            stored = self._tick()
            record: dict[str, Any] = {"$type": POST, "text": text}
            record["createdAt"] = _iso(_ms(created_at) if created_at else stored)
            if langs:
                record["langs"] = list(langs)
            if facets := self._facets(text):
                record["facets"] = facets
            if reply_to is not None:
                record["reply"] = self._reply_ref(self._known(reply_to))
            if quote is not None:
                quoted = self._known(quote)
                ref = {"uri": quoted.uri, "cid": quoted.cid}
                record["embed"] = {"$type": "app.bsky.embed.record", "record": ref}
            post = self._store(did, record, stored_ms=stored)
            events.append(("post.added", self._post_dict(post)))
            return post.uri

    def _known(self, uri: str) -> _Post:
        post = self._posts.get(uri)
        if post is None:
            raise ValueError(f"{uri!r} is not a known post")
        return post

    def _reply_ref(self, parent: _Post) -> dict[str, Any]:
        parent_ref = {"uri": parent.uri, "cid": parent.cid}
        root = (parent.record.get("reply") or {}).get("root")
        root_ref = {"uri": root["uri"], "cid": root["cid"]} if root else parent_ref
        return {"root": root_ref, "parent": dict(parent_ref)}

    def _facets(self, text: str) -> list[dict[str, Any]]:
        facets = []
        for match in _MENTION.finditer(text):
            did = self._handles.get(match.group(1).lower())
            if did is not None:
                feature = {"$type": MENTION_FEATURE, "did": did}
                facets.append(_facet(text, match.start(), match.end(), feature))
        for match in _LINK.finditer(text):
            link = match.group(0).rstrip(".,;:!?\"'")
            if link.endswith(")") and "(" not in link:
                link = link[:-1]
            feature = {"$type": LINK_FEATURE, "uri": link}
            facets.append(_facet(text, match.start(), match.start() + len(link), feature))
        return sorted(facets, key=lambda f: int(f["index"]["byteStart"]))

    def _store(
        self,
        did: str,
        record: dict[str, Any],
        *,
        rkey: str | None = None,
        requested: dict[str, Any] | None = None,
        stored_ms: int | None = None,
    ) -> _Post:
        """Write a post to the PDS, index it for the AppView (after the lag) and notify brands."""
        stored = stored_ms if stored_ms is not None else self._tick()
        rkey = rkey or self._next_tid()
        uri = f"at://{did}/{POST}/{rkey}"
        post = _Post(
            uri=uri,
            cid=_cid(uri, record),
            did=did,
            rkey=rkey,
            record=record,
            stored_ms=stored,
            indexed_ms=stored + round(self._lag * 1000),
            visible_at=self._visible_at(),
            requested=requested,
        )
        self._posts[uri] = post
        self._repo[uri] = _Record(uri, post.cid, record)
        if (parent := _parent_uri(record)) is not None and parent in self._posts:
            self._children.setdefault(parent, []).append(uri)
        if (quoted := _quoted_uri(record)) is not None and quoted in self._posts:
            self._quoters.setdefault(quoted, []).append(uri)
        self._notify(post)
        return post

    def _notify(self, post: _Post) -> None:
        """Notify brands of a new post as the real AppView does (``notifsForInsert`` in
        packages/bsky/src/data-plane/server/indexing/plugins/post.ts, measured against
        @atproto/dev-env 0.6.7): every mentioned DID ("mention"), then the quoted post's author
        ("quote"), then every ancestor below ``REPLY_NOTIF_DEPTH`` ("reply", the ancestor as
        subject). Each DID once, first reason first, and never the post's own author."""
        notified = {post.did}
        for did, reason, subject in self._notifs_for(post):
            if did in notified:
                continue
            notified.add(did)
            if did in self._brands:
                self._notice(
                    brand=did,
                    uri=post.uri,
                    author=post.did,
                    reason=reason,
                    record=post.record,
                    sort_ms=_sort_at(post),
                    visible_at=post.visible_at,
                    subject=subject,
                )

    def _notifs_for(self, post: _Post) -> Iterator[tuple[str, str, str | None]]:
        """Whom a post notifies and why, in the AppView's order (with repeats)."""
        for did in _mentions(post.record):
            yield did, "mention", None
        if (quoted := _quoted_post(post.record)) is not None:
            yield quoted[0], "quote", quoted[1]
        for ancestor in self._ancestors(post, REPLY_NOTIF_DEPTH - 1):
            yield ancestor.did, "reply", ancestor.uri

    def _ancestors(self, post: _Post, most: int) -> list[_Post]:
        """The parent, grandparent, … of a reply (at most ``most``), nearest first."""
        found: list[_Post] = []
        uri = _parent_uri(post.record)
        while uri is not None and len(found) < most and (parent := self._posts.get(uri)):
            found.append(parent)
            uri = _parent_uri(parent.record)
        return found

    def _notice(
        self,
        *,
        brand: str,
        uri: str,
        author: str,
        reason: str,
        record: dict[str, Any],
        sort_ms: int,
        visible_at: float,
        subject: str | None = None,
    ) -> None:
        notice = _Notice(
            seq=len(self._notices),
            brand=brand,
            uri=uri,
            cid=_cid(uri, record),
            author=author,
            reason=reason,
            record=record,
            sort_ms=sort_ms,
            visible_at=visible_at,
            subject=subject,
        )
        self._notices.append(notice)

    def add_like(self, author: str, uri: str) -> str:
        """``author`` likes the post at ``uri`` (its brand author gets a "like"); the like's uri."""
        with self._changing():
            post = self._known(uri)
            did = self._author(author)
            stamp = self._tick()
            like_uri = f"at://{did}/{LIKE}/{self._next_tid()}"
            subject = {"uri": post.uri, "cid": post.cid}
            record = {"$type": LIKE, "subject": subject, "createdAt": _iso(stamp)}
            self._repo[like_uri] = _Record(like_uri, _cid(like_uri, record), record)
            post.likes += 1
            if post.did in self._brands and post.did != did:
                self._notice(
                    brand=post.did,
                    uri=like_uri,
                    author=did,
                    reason="like",
                    record=record,
                    sort_ms=stamp,
                    visible_at=self._visible_at(),
                    subject=post.uri,
                )
            return like_uri

    def add_follow(self, author: str, brand: str | None = None) -> str:
        """``author`` follows a brand (default: the default brand), which gets a "follow"."""
        with self._changing():
            target = self._did(brand) if brand is not None else self._default
            if target is None or target not in self._brands:
                raise ValueError(f"brand={brand!r} is not a registered brand")
            did = self._author(author)
            stamp = self._tick()
            follow_uri = f"at://{did}/{FOLLOW}/{self._next_tid()}"
            record = {"$type": FOLLOW, "subject": target, "createdAt": _iso(stamp)}
            self._repo[follow_uri] = _Record(follow_uri, _cid(follow_uri, record), record)
            self._users[target].followers += 1
            self._users[did].follows += 1
            self._notice(
                brand=target,
                uri=follow_uri,
                author=did,
                reason="follow",
                record=record,
                sort_ms=stamp,
                visible_at=self._visible_at(),
            )
            return follow_uri

    # -- inspection ----------------------------------------------------------------------------

    def posts(self, author: str | None = None, *, indexed: bool = False) -> list[dict[str, Any]]:
        """Every post the PDS holds, oldest first, optionally by one author (handle or DID);
        with ``indexed``, only those the AppView shows by now (see ``appview_lag``).

        Each: ``uri``, ``cid``, ``rkey``, ``did``, ``handle``, ``record``, ``indexedAt`` (the
        AppView's: the post's sortAt) and ``requested`` (the JSON body of the ``createRecord``
        that made it, else None).
        """
        with self._cond:
            did = self._did(author) if author is not None else None
            if author is not None and did is None:
                return []
            return [
                self._post_dict(p)
                for p in self._posts.values()
                if did in (None, p.did) and (not indexed or self._shown(p))
            ]

    def replies(self, brand: str | None = None, *, indexed: bool = False) -> list[dict[str, Any]]:
        """Posts made through ``createRecord``, oldest first, optionally one brand's; every one
        the PDS holds, or with ``indexed`` only those the AppView shows by now."""
        with self._cond:
            return [p for p in self.posts(brand, indexed=indexed) if p["requested"] is not None]

    def notifications(
        self, brand: str | None = None, *, indexed: bool = False
    ) -> list[dict[str, Any]]:
        """A brand's notifications (default: the default brand), newest sortAt first, as
        served; every one its posts will raise, or with ``indexed`` only those the AppView
        shows by now."""
        with self._cond:
            did = self._did(brand) if brand is not None else self._default
            return [self._notice_view(n) for n in self._brand_notices(did or "", indexed=indexed)]

    def _brand_notices(self, did: str, *, indexed: bool) -> list[_Notice]:
        notices = [
            n
            for n in self._notices
            if n.brand == did and (not indexed or self._clock() >= n.visible_at)
        ]
        return sorted(notices, key=lambda n: (n.sort_ms, n.seq), reverse=True)

    def _post_dict(self, post: _Post) -> dict[str, Any]:
        return {
            "uri": post.uri,
            "cid": post.cid,
            "rkey": post.rkey,
            "did": post.did,
            "handle": self._users[post.did].handle,
            "record": copy.deepcopy(post.record),
            "indexedAt": _iso(_sort_at(post)),
            "requested": copy.deepcopy(post.requested),
        }

    # -- clocks and identifiers ----------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _tick(self) -> int:
        """The emulator clock in milliseconds, bumped to stay strictly increasing."""
        self._last_ms = max(self._now_ms(), self._last_ms + 1)
        return self._last_ms

    def _next_tid(self) -> str:
        """A fresh TID: microseconds and a clock id, 13 sortable base32 characters."""
        self._last_tid = max(int(self._clock() * 1_000_000), self._last_tid + 1)
        return tid(self._last_tid)

    def _visible_at(self) -> float:
        """When (emulator clock) the AppView will show a record stored now."""
        return self._clock() + self._lag if self._lag > 0 else -math.inf

    def _shown(self, post: _Post) -> bool:
        """Whether the AppView has indexed the post by now."""
        return self._clock() >= post.visible_at

    # -- routing, auth, rate limits ----------------------------------------------------------

    def _resolve(self, request: Request) -> tuple[str, Route]:
        if request.path.startswith("/xrpc/"):
            nsid = request.path.removeprefix("/xrpc/").rstrip("/")
            endpoint = f"{request.method} {nsid}"
            handler, scope = self._routes.get(endpoint, (self._unsupported(nsid), "none"))
            return endpoint, self._wrap(endpoint, handler, scope)
        endpoint = f"{request.method} {request.path.rstrip('/')}"
        if endpoint == CONTROL_POST:
            return endpoint, self._control(self._control_post)
        return endpoint, lambda _r: Reply(404, {"error": "NotFound", "message": "Not Found"})

    def _wrap(self, endpoint: str, handler: XrpcRoute, scope: Scope) -> Route:
        def route(request: Request) -> Reply:
            with self._changing() as events:
                headers, exhausted = self._consume(endpoint)
                ctx = _Ctx()
                try:
                    if exhausted:
                        raise _XrpcError(429, *_STATUS_ERRORS[429])
                    ctx.did = self._authenticate(request, scope)
                    reply = handler(request, ctx)
                except _XrpcError as problem:
                    reply = problem.reply()
                events.extend(ctx.events)
                return Reply(reply.status, reply.body, {**headers, **reply.headers})

        return route

    def _control(self, handler: XrpcRoute) -> Route:
        def route(request: Request) -> Reply:
            with self._changing() as events:
                ctx = _Ctx()
                try:
                    reply = handler(request, ctx)
                except _XrpcError as problem:
                    reply = problem.reply()
                events.extend(ctx.events)
                return reply

        return route

    def _unsupported(self, nsid: str) -> XrpcRoute:
        def route(request: Request, ctx: _Ctx) -> Reply:
            served = [e.split(" ", 1)[0] for e in self._routes if e.split(" ", 1)[1] == nsid]
            if served:
                raise _invalid(f"Incorrect HTTP method ({request.method}) expected {served[0]}")
            raise _XrpcError(501, *_STATUS_ERRORS[501])

        return route

    def _authenticate(self, request: Request, scope: Scope) -> str | None:
        """The DID a request acts as, checked against the issued-token table."""
        if scope == "none":
            return None
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            if scope == "optional":
                return None
            raise _XrpcError(401, *_STATUS_ERRORS[401])
        entry = self._tokens.get(header[7:].strip())
        if entry is None:
            raise _XrpcError(401, "AuthenticationRequired", "Token could not be verified")
        if entry.kind != ("refresh" if scope == "refresh" else "access"):
            raise _XrpcError(400, "InvalidToken", "Bad token scope")
        if entry.revoked:
            raise _XrpcError(400, "ExpiredToken", "Token has been revoked")
        if self._clock() >= entry.expires_at:
            raise _XrpcError(400, "ExpiredToken", "Token has expired")
        return entry.did

    def _limit(self, endpoint: str) -> tuple[int, float]:
        return self._limits.get(endpoint, DEFAULT_RATE_LIMIT)

    def _window(self, key: str, span: float) -> tuple[float, int]:
        now = self._clock()
        start, used = self._windows.get(key, (now, 0))
        return (now, 0) if now >= start + span else (start, used)

    def _consume(self, endpoint: str) -> tuple[dict[str, str], bool]:
        """Count one request against the endpoint's window: headers, and whether it is spent."""
        limit, span = self._limit(endpoint)
        return self._count(endpoint, limit, span)

    def _count(self, key: str, limit: int, span: float) -> tuple[dict[str, str], bool]:
        start, used = self._window(key, span)
        exhausted = used >= limit
        used = used if exhausted else used + 1
        self._windows[key] = (start, used)
        return _rate_headers(limit, span, remaining=limit - used, reset=start + span), exhausted

    def _fault_reply(self, fault: Fault, request: Request, endpoint: str) -> Reply:
        with self._cond:
            limit, span = self._limit(endpoint)
            start, used = self._window(endpoint, span)
            reset = start + span
            if fault.status == 429 and fault.retry_after is not None:
                reset = self._clock() + fault.retry_after
            remaining = 0 if fault.status == 429 else limit - used
            headers = _rate_headers(limit, span, remaining=remaining, reset=reset)
        error, message = _STATUS_ERRORS.get(fault.status, ("InternalServerError", "Error"))
        return Reply(fault.status, {"error": error, "message": message}, headers)

    # -- sessions ----------------------------------------------------------------------------

    def _create_session(self, request: Request, ctx: _Ctx) -> Reply:
        identifier = request.body.get("identifier")
        password = request.body.get("password")
        if not isinstance(identifier, str) or not isinstance(password, str):
            raise _invalid('Input must have the properties "identifier" and "password"')
        brand = self._brands.get(self._did(identifier) or "")
        headers = self._login_attempt(brand.did if brand else identifier.lower())
        if brand is None or not _same(brand.password, password):
            raise _XrpcError(
                401, "AuthenticationRequired", "Invalid identifier or password", headers
            )
        self._logins[brand.did] += 1
        return Reply(200, self._session_body(brand.did), headers)

    def _login_attempt(self, key: str) -> dict[str, str]:
        """Count a login against the per-account limit; 429 when spent (headers otherwise)."""
        if self._login_limit is None:
            return {}
        headers, exhausted = self._count(f"login:{key}", self._login_limit, LOGIN_WINDOW)
        if exhausted:
            raise _XrpcError(429, *_STATUS_ERRORS[429], headers)
        return headers

    def _refresh_session(self, request: Request, ctx: _Ctx) -> Reply:
        did = _require(ctx)
        self._refreshes[did] += 1
        return Reply(200, self._session_body(did))

    def _get_session(self, request: Request, ctx: _Ctx) -> Reply:
        did = _require(ctx)
        return Reply(200, {"handle": self._users[did].handle, "did": did, "active": True})

    def _session_body(self, did: str) -> dict[str, Any]:
        now = self._clock()
        return {
            "accessJwt": self._mint("access", did, now=now, ttl=self._access_ttl),
            "refreshJwt": self._mint("refresh", did, now=now, ttl=REFRESH_TTL),
            "handle": self._users[did].handle,
            "did": did,
            "active": True,
        }

    def _mint(self, kind: Literal["access", "refresh"], did: str, *, now: float, ttl: float) -> str:
        """Issue a signed JWT (HS256 with the emulator's secret) and remember it."""
        header = {"typ": "at+jwt" if kind == "access" else "refresh+jwt", "alg": "HS256"}
        payload = {
            "scope": ACCESS_SCOPE if kind == "access" else REFRESH_SCOPE,
            "sub": did,
            "aud": SERVICE_DID,
            "iat": int(now),
            "exp": int(now + ttl),
            "jti": secrets.token_urlsafe(16),
        }
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
        signature = hmac.new(self._secret, signing.encode(), hashlib.sha256).digest()
        token = f"{signing}.{_b64(signature)}"
        self._tokens[token] = _Token(kind, did, now + ttl)
        return token

    # -- AppView reads -------------------------------------------------------------------------

    def _get_profile(self, request: Request, ctx: _Ctx) -> Reply:
        actor = _one(request.query, "actor")
        if not actor:
            raise _invalid('Error: Params must have the property "actor"')
        did = self._did(actor)
        if did is None:
            raise _invalid("Profile not found")
        user = self._users[did]
        body = {
            **self._profile(did, basic=False),
            "followersCount": user.followers,
            "followsCount": user.follows,
            "postsCount": sum(1 for p in self._posts.values() if p.did == did and self._shown(p)),
        }
        return Reply(200, body)

    def _profile(self, did: str, *, basic: bool) -> dict[str, Any]:
        """ProfileViewBasic (``basic``) or ProfileView, without viewer state."""
        user = self._users[did]
        view: dict[str, Any] = {"did": did, "handle": user.handle}
        if user.name:
            view["displayName"] = user.name
        view["labels"] = []
        view["createdAt"] = _iso(user.created_ms)
        if not basic:
            view["indexedAt"] = _iso(user.created_ms)
        return view

    def _list_notifications(self, request: Request, ctx: _Ctx) -> Reply:
        """Newest sortAt first; the cursor is the sortAt of the page's last item (an ISO time)
        and the next page holds what sorts strictly before it, as on the real AppView
        (measured against @atproto/dev-env 0.6.7). No cursor when nothing older is left."""
        did = _require(ctx)
        limit = _int_param(request.query, "limit", default=50, low=1, high=100)
        reasons = set(_many(request.query, "reasons"))
        before = _time_cursor(cursor) if (cursor := _one(request.query, "cursor")) else None
        notices = [
            n
            for n in self._brand_notices(did, indexed=True)
            if (not reasons or n.reason in reasons) and (before is None or n.sort_ms < before)
        ]
        page = notices[:limit]
        body: dict[str, Any] = {"notifications": [self._notice_view(n) for n in page]}
        if page and any(n.sort_ms < page[-1].sort_ms for n in notices[limit:]):
            body["cursor"] = _iso(page[-1].sort_ms)
        if did in self._seen:
            body["seenAt"] = _iso(self._seen[did])
        return Reply(200, body)

    def _notice_view(self, notice: _Notice) -> dict[str, Any]:
        view: dict[str, Any] = {
            "uri": notice.uri,
            "cid": notice.cid,
            "author": self._profile(notice.author, basic=False),
            "reason": notice.reason,
        }
        if notice.subject is not None:
            view["reasonSubject"] = notice.subject
        view["record"] = copy.deepcopy(notice.record)
        view["isRead"] = notice.sort_ms <= self._seen.get(notice.brand, -1)
        view["indexedAt"] = _iso(notice.sort_ms)
        view["labels"] = []
        return view

    def _update_seen(self, request: Request, ctx: _Ctx) -> Reply:
        did = _require(ctx)
        seen = request.body.get("seenAt")
        if not isinstance(seen, str):
            raise _invalid('Input must have the property "seenAt"')
        self._seen[did] = _ms(_parse_time(seen, "seenAt"))
        return Reply(200)

    def _search_posts(self, request: Request, ctx: _Ctx) -> Reply:
        params = request.query
        query = _one(params, "q")
        if not query or not query.strip():
            raise _invalid('Error: Params must have the property "q"')
        limit = _int_param(params, "limit", default=25, low=1, high=100)
        offset = _decode_cursor(cursor, "s") if (cursor := _one(params, "cursor")) else 0
        tests = [self._shown, *self._post_filters(params), self._query_test(query)]
        hits = [p for p in self._posts.values() if all(test(p) for test in tests)]
        hits.sort(key=lambda p: (_sort_at(p), p.stored_ms), reverse=True)
        page = hits[offset : offset + limit]
        body: dict[str, Any] = {"posts": [self._post_view(p) for p in page]}
        if offset + limit < len(hits):
            body["cursor"] = _encode_cursor("s", offset + limit)
        body["hitsTotal"] = len(hits)
        return Reply(200, body)

    def _post_filters(self, params: Mapping[str, Any]) -> list[Callable[[_Post], bool]]:
        """Tests for ``since``/``until`` (on sortAt), ``author``, ``mentions`` and ``lang``."""
        tests: list[Callable[[_Post], bool]] = []
        if since := _one(params, "since"):
            start = _ms(_parse_time(since, "since"))
            tests.append(lambda p: _sort_at(p) >= start)
        if until := _one(params, "until"):
            end = _ms(_parse_time(until, "until"))
            tests.append(lambda p: _sort_at(p) < end)
        if author := _one(params, "author"):
            did = self._did(author)
            tests.append(lambda p: p.did == did)
        if mentions := _one(params, "mentions"):
            mentioned = self._did(mentions)
            tests.append(lambda p: mentioned in _mentions(p.record))
        if lang := _one(params, "lang"):
            tests.append(lambda p: lang in (p.record.get("langs") or []))
        return tests

    def _query_test(self, query: str) -> Callable[[_Post], bool]:
        """An AND of whole words and ``"quoted phrases"`` (case-insensitive), and ``from:``."""
        tests: list[Callable[[_Post], bool]] = []
        for phrase, word in re.findall(r'"([^"]*)"|(\S+)', query):
            term = phrase.strip() or word
            if term.lower().startswith("from:") and len(term) > 5:
                tests.append(_by(self._did(term[5:])))
            elif term:
                tests.append(_says(term))
        return lambda p: all(test(p) for test in tests)

    def _indexed(self, uri: str) -> _Post | None:
        """The post at ``uri`` if the AppView shows it by now."""
        post = self._posts.get(uri)
        return post if post is not None and self._shown(post) else None

    def _get_posts(self, request: Request, ctx: _Ctx) -> Reply:
        uris = _many(request.query, "uris")
        if not uris:
            raise _invalid('Error: Params must have the property "uris"')
        if len(uris) > MAX_URIS:
            raise _invalid(f"Error: uris must not have more than {MAX_URIS} elements")
        views = [self._post_view(p) for u in uris if (p := self._indexed(u)) is not None]
        return Reply(200, {"posts": views})

    def _get_post_thread(self, request: Request, ctx: _Ctx) -> Reply:
        uri = _one(request.query, "uri")
        if not uri:
            raise _invalid('Error: Params must have the property "uri"')
        depth = _int_param(request.query, "depth", default=6, low=0, high=1000)
        height = _int_param(request.query, "parentHeight", default=80, low=0, high=1000)
        post = self._indexed(uri)
        if post is None:
            raise _XrpcError(400, "NotFound", f"Post not found: {uri}")
        node = self._thread_down(post, depth)
        if height > 0 and (parent := _parent_uri(post.record)) is not None:
            node["parent"] = self._thread_up(parent, height - 1)
        return Reply(200, {"thread": node})

    def _thread_down(self, post: _Post, depth: int) -> dict[str, Any]:
        node: dict[str, Any] = {"$type": THREAD_VIEW, "post": self._post_view(post)}
        if depth > 0:
            node["replies"] = [self._thread_down(c, depth - 1) for c in self._replies_to(post)]
        return node

    def _thread_up(self, uri: str, height: int) -> dict[str, Any]:
        post = self._indexed(uri)
        if post is None:
            return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}
        node: dict[str, Any] = {"$type": THREAD_VIEW, "post": self._post_view(post)}
        if height > 0 and (parent := _parent_uri(post.record)) is not None:
            node["parent"] = self._thread_up(parent, height - 1)
        return node

    def _replies_to(self, post: _Post) -> list[_Post]:
        """The direct replies the AppView shows by now, oldest first."""
        return [p for u in self._children.get(post.uri, []) if (p := self._indexed(u))]

    def _post_view(self, post: _Post) -> dict[str, Any]:
        """A PostView; ``indexedAt`` is the post's sortAt, as the real AppView serves it."""
        view: dict[str, Any] = {
            "uri": post.uri,
            "cid": post.cid,
            "author": self._profile(post.did, basic=True),
            "record": copy.deepcopy(post.record),
        }
        if (embed := self._embed_view(post.record)) is not None:
            view["embed"] = embed
        quotes = [u for u in self._quoters.get(post.uri, []) if self._indexed(u)]
        view |= {
            "replyCount": len(self._replies_to(post)),
            "repostCount": 0,
            "likeCount": post.likes,
            "quoteCount": len(quotes),
            "indexedAt": _iso(_sort_at(post)),
            "labels": [],
        }
        return view

    def _embed_view(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """The hydrated view of a quote embed (``app.bsky.embed.record#view``), if any."""
        uri = _quoted_uri(record)
        if uri is None:
            return None
        quoted = self._indexed(uri)
        if quoted is None:
            inner: dict[str, Any] = {
                "$type": "app.bsky.embed.record#viewNotFound",
                "uri": uri,
                "notFound": True,
            }
        else:
            inner = {
                "$type": "app.bsky.embed.record#viewRecord",
                "uri": quoted.uri,
                "cid": quoted.cid,
                "author": self._profile(quoted.did, basic=True),
                "value": copy.deepcopy(quoted.record),
                "labels": [],
                "indexedAt": _iso(_sort_at(quoted)),
            }
        return {"$type": "app.bsky.embed.record#view", "record": inner}

    # -- PDS reads -------------------------------------------------------------------------------

    def _get_record(self, request: Request, ctx: _Ctx) -> Reply:
        """One record from a repo, at once (no AppView lag); RecordNotFound when missing."""
        repo, collection, rkey = (
            _required(request.query, n) for n in ("repo", "collection", "rkey")
        )
        uri = f"at://{self._did(repo) or repo}/{collection}/{rkey}"
        found = self._repo.get(uri)
        cid = _one(request.query, "cid")
        if found is None or cid not in (None, found.cid):
            raise _XrpcError(400, "RecordNotFound", f"Could not locate record: {uri}")
        return Reply(200, _record_view(found))

    def _list_records(self, request: Request, ctx: _Ctx) -> Reply:
        """A repo's records in one collection by rkey, newest first (oldest with ``reverse``);
        the cursor is the last record's rkey, given whenever the page is not empty, as the
        real PDS does."""
        params = request.query
        repo, collection = _required(params, "repo"), _required(params, "collection")
        limit = _int_param(params, "limit", default=50, low=1, high=100)
        reverse = (_one(params, "reverse") or "false").lower() == "true"
        did = self._did(repo)
        if did is None:
            raise _invalid(f"Could not find repo: {repo}")
        found = [r for r in self._repo.values() if r.did == did and r.collection == collection]
        found.sort(key=lambda r: r.rkey, reverse=not reverse)
        if (cursor := _one(params, "cursor")) is not None:
            found = [r for r in found if (r.rkey > cursor if reverse else r.rkey < cursor)]
        page = found[:limit]
        body: dict[str, Any] = {"records": [_record_view(r) for r in page]}
        if page:
            body["cursor"] = page[-1].rkey
        return Reply(200, body)

    # -- PDS writes ----------------------------------------------------------------------------

    def _create_record(self, request: Request, ctx: _Ctx) -> Reply:
        """Write a post, checked as the real PDS checks it (measured against @atproto/dev-env
        0.6.7): the record key, then the record's lexicon; a key already used is a 500."""
        did = _require(ctx)
        body = request.body
        repo, collection, record = body.get("repo"), body.get("collection"), body.get("record")
        if not isinstance(repo, str) or self._did(repo) != did:
            raise _invalid(f"Invalid repo: {repo!r} is not the authenticated account")
        if collection != POST:
            raise _invalid(f"The sandbox only writes {POST} records, not {collection!r}")
        if not isinstance(record, dict):
            raise _invalid('Input must have the property "record"')
        record = copy.deepcopy(record)
        record.setdefault("$type", POST)
        validate = body.get("validate") is not False
        rkey = _check_rkey(body.get("rkey"), validate=validate)
        if validate:
            _validate_post(record)
        self._check_refs(record)
        if rkey is not None and f"at://{did}/{POST}/{rkey}" in self._repo:
            raise _XrpcError(500, *_STATUS_ERRORS[500])  # the real PDS fails, it does not refuse
        post = self._store(did, record, rkey=rkey, requested=copy.deepcopy(body))
        ctx.events.append(("post.added", self._post_dict(post)))
        ctx.events.append(("reply.created", self._post_dict(post)))
        result = {
            "uri": post.uri,
            "cid": post.cid,
            "commit": {"cid": _cid(f"commit:{post.uri}", {}), "rev": self._next_tid()},
            "validationStatus": "valid" if validate else "unknown",
        }
        return Reply(200, result)

    def _check_refs(self, record: Mapping[str, Any]) -> None:
        """Replies and quotes must point at posts that exist."""
        reply = record.get("reply")
        refs: list[Any] = []
        if reply is not None:
            if not isinstance(reply, dict):
                raise _invalid(f"{_INVALID_POST}: Record/reply must be an object")
            refs += [reply.get("root"), reply.get("parent")]
        if "embed" in record and _quoted_uri(record) is not None:
            refs.append({"uri": _quoted_uri(record)})
        for ref in refs:
            uri = ref.get("uri") if isinstance(ref, dict) else None
            if not isinstance(uri, str) or uri not in self._posts:
                raise _invalid(f"Could not locate record: {uri}")

    # -- control endpoint (not part of Bluesky) -------------------------------------------------

    def _control_post(self, request: Request, ctx: _Ctx) -> Reply:
        """Add a post: ``author`` and ``text`` required; ``reply_to``, ``quote``, ``langs``."""
        body = request.body
        author, text = body.get("author"), body.get("text")
        if not isinstance(author, str) or not isinstance(text, str):
            raise _invalid("`author` and `text` are required strings")
        langs = body.get("langs")
        try:
            uri = self.add_post(
                author,
                text,
                reply_to=body.get("reply_to"),
                quote=body.get("quote"),
                langs=list(langs) if isinstance(langs, list) else None,
            )
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        return Reply(200, {"uri": uri, "cid": self._posts[uri].cid})


# -- module helpers ----------------------------------------------------------------------------


def did_for(handle: str) -> str:
    """The sandbox DID of a handle: ``did:plc:`` + 24 base32 characters of its hash."""
    digest = hashlib.sha256(handle.lower().encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def tid(value: int) -> str:
    """A TID: ``value`` (microseconds << 10 | clock id, here clock id 0) in 13 base32 chars."""
    value = (value << 10) & ((1 << 63) - 1)
    return "".join(TID_ALPHABET[(value >> (5 * (12 - i))) & 31] for i in range(13))


def grapheme_count(text: str) -> int:
    """User-perceived characters (extended grapheme clusters), as the lexicon's maxGraphemes
    counts them."""
    return len(regex.findall(r"\X", text))


def _lag(seconds: float) -> float:
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"appview_lag must be a finite number of seconds >= 0, not {seconds!r}")
    return float(seconds)


def _same(password: str | None, given: str) -> bool:
    """Whether ``given`` is the (unrevoked) password, compared in constant time."""
    return password is not None and hmac.compare_digest(password.encode(), given.encode())


def _cid(uri: str, record: Mapping[str, Any]) -> str:
    data = uri.encode() + json.dumps(record, sort_keys=True).encode()
    digest = base64.b32encode(hashlib.sha256(data).digest()).decode().lower().rstrip("=")
    return "bafyrei" + digest[:52]


def _record_view(record: _Record) -> dict[str, Any]:
    return {"uri": record.uri, "cid": record.cid, "value": copy.deepcopy(record.value)}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _ms(moment: datetime) -> int:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return math.floor(moment.timestamp() * 1000)


def _parse_time(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"Error: {name} must be a valid datetime or date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time_cursor(cursor: str) -> int:
    """An ISO-time cursor (a sortAt) in milliseconds; 400 when it is not one."""
    try:
        return _ms(_parse_time(cursor, "cursor"))
    except _XrpcError:
        raise _invalid("Malformed cursor") from None


def _sort_at(post: _Post) -> int:
    """Bluesky's sortAt: the earlier of the record's createdAt and the time the AppView indexed
    it. The real AppView serves it as ``indexedAt`` and sorts by it (measured against
    @atproto/dev-env 0.6.7: a post created 2020-01-01 shows ``2020-01-01T00:00:00.000Z``)."""
    created = post.record.get("createdAt")
    try:
        return min(_ms(_parse_time(str(created), "createdAt")), post.indexed_ms)
    except (_XrpcError, OverflowError, OSError):
        return post.indexed_ms


def _by(did: str | None) -> Callable[[_Post], bool]:
    return lambda post: post.did == did


def _says(term: str) -> Callable[[_Post], bool]:
    """Whether a post's text holds ``term`` as whole words, ignoring case."""
    pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
    return lambda post: bool(pattern.search(_text(post)))


def _text(post: _Post) -> str:
    text = post.record.get("text")
    return text if isinstance(text, str) else ""


def _facet(text: str, start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    """A facet over ``text[start:end]``, indexed in UTF-8 bytes as the protocol wants."""
    byte_start = len(text[:start].encode())
    byte_end = byte_start + len(text[start:end].encode())
    return {"index": {"byteStart": byte_start, "byteEnd": byte_end}, "features": [feature]}


def _parent_uri(record: Mapping[str, Any]) -> str | None:
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    uri = parent.get("uri") if isinstance(parent, dict) else None
    return uri if isinstance(uri, str) else None


def _quoted_uri(record: Mapping[str, Any]) -> str | None:
    """The quoted post of a record or record-with-media embed."""
    embed = record.get("embed")
    if not isinstance(embed, dict):
        return None
    inner = embed.get("record")
    if embed.get("$type") == "app.bsky.embed.recordWithMedia" and isinstance(inner, dict):
        inner = inner.get("record")
    if embed.get("$type") not in {"app.bsky.embed.record", "app.bsky.embed.recordWithMedia"}:
        return None
    uri = inner.get("uri") if isinstance(inner, dict) else None
    return uri if isinstance(uri, str) else None


def _quoted_post(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """The author DID and at-uri of the post a record quotes, if it quotes a post."""
    uri = _quoted_uri(record)
    parts = uri.removeprefix("at://").split("/") if uri and uri.startswith("at://") else []
    return (parts[0], str(uri)) if len(parts) == 3 and parts[1] == POST else None


def _mentions(record: Mapping[str, Any]) -> list[str]:
    """DIDs of the record's mention facets, in facet order."""
    found: list[str] = []
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or [] if isinstance(facet, dict) else []:
            if isinstance(feature, dict) and feature.get("$type") == MENTION_FEATURE:
                found.append(str(feature.get("did")))
    return found


def _check_rkey(rkey: Any, *, validate: bool) -> str | None:
    """A record key must be a valid one, and (when validating) a TID, as the post lexicon's
    ``key: "tid"`` wants; the real PDS checks it before the record."""
    if rkey is None:
        return None
    if not isinstance(rkey, str) or not _RKEY.match(rkey) or rkey in {".", ".."}:
        raise _invalid(f"Invalid record key: {rkey!r}")
    if validate and not _TID.match(rkey):
        raise _invalid(f'Invalid record key for {POST}: Invalid TID string (got "{rkey}") at $')
    return rkey


def _validate_post(record: Mapping[str, Any]) -> None:
    """The lexicon checks the PDS makes on a post: type, text size (UTF-8 bytes first, then
    graphemes), createdAt and langs, with the real PDS's messages (measured against
    @atproto/dev-env 0.6.7)."""
    if record.get("$type") != POST:
        raise _invalid(f"Invalid $type: expected {POST}, got {record.get('$type')}")
    text = record.get("text", "")
    if not isinstance(text, str):
        raise _invalid(f"{_INVALID_POST}: Record/text must be a string")
    if (size := len(text.encode())) > MAX_TEXT_BYTES:
        raise _too_big("string", MAX_TEXT_BYTES, size, "text")
    if (graphemes := grapheme_count(text)) > MAX_GRAPHEMES:
        raise _too_big("grapheme", MAX_GRAPHEMES, graphemes, "text")
    created = record.get("createdAt")
    if not isinstance(created, str):
        raise _invalid(f'{_INVALID_POST}: Record must have the property "createdAt"')
    try:
        datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        message = "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
        raise _invalid(f"{_INVALID_POST}: {message}") from None
    langs = record.get("langs")
    if langs is not None and not isinstance(langs, list):
        raise _invalid(f"{_INVALID_POST}: Record/langs must be an array")
    if langs is not None and len(langs) > MAX_LANGS:
        raise _too_big("array", MAX_LANGS, len(langs), "langs")


def _too_big(kind: str, maximum: int, got: int, name: str) -> _XrpcError:
    return _invalid(
        f"{_INVALID_POST}: {kind} too big (maximum {maximum}, got {got}) at $.record.{name}"
    )


def _require(ctx: _Ctx) -> str:
    if ctx.did is None:
        raise _XrpcError(401, *_STATUS_ERRORS[401])
    return ctx.did


def _rate_headers(limit: int, span: float, *, remaining: int, reset: float) -> dict[str, str]:
    return {
        "ratelimit-limit": str(limit),
        "ratelimit-remaining": str(max(0, remaining)),
        "ratelimit-reset": str(math.ceil(reset)),
        "ratelimit-policy": f"{limit};w={math.ceil(span)}",
    }


def _one(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list):
        return str(value[-1]) if value else None
    return None if value is None else str(value)


def _required(params: Mapping[str, Any], name: str) -> str:
    value = _one(params, name)
    if not value:
        raise _invalid(f'Error: Params must have the property "{name}"')
    return value


def _many(params: Mapping[str, Any], name: str) -> list[str]:
    value = params.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _int_param(params: Mapping[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    raw = _one(params, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(f"Error: {name} must be an integer") from None
    if value < low:
        raise _invalid(f"Error: {name} can not be less than {low}")
    if value > high:
        raise _invalid(f"Error: {name} can not be greater than {high}")
    return value


def _encode_cursor(kind: str, value: int) -> str:
    return _b64(f"{kind}:{value}".encode())


def _decode_cursor(cursor: str, kind: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raw = ""
    prefix, _, number = raw.partition(":")
    if prefix != kind or not number.isdigit():
        raise _invalid("Malformed cursor")
    return int(number)
