"""``XEmulator``: the subset of the X (Twitter) API v2 that Earshot uses, plus control endpoints.

Point ``bot.sources.xclient.make_x_client(api_url=emulator.url, ...)`` at it. Responses follow
X's shapes: default vs requested ``tweet.fields``/``user.fields``, ``expansions`` into
``includes``, ``meta`` with ``next_token`` pagination, ``x-rate-limit-*`` headers on every API
answer, and X's problem bodies for 400/401/402/403/404/429. Posts live in memory; tweet ids are
increasing integers, so numeric order is time order.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from bot import voice
from bot.sandbox.http import EmulatorServer, Fault, Reply, Request, Route

FIRST_TWEET_ID = 1_860_000_000_000_000_000
FIRST_USER_ID = 1_700_000_000_000_000_001
DEFAULT_RATE_LIMIT = (10_000, 900.0)
MAX_TWEET_LENGTH = 280

MENTIONS = "GET /2/users/:id/mentions"
SEARCH_RECENT = "GET /2/tweets/search/recent"
CREATE_TWEET = "POST /2/tweets"
USER_TWEETS = "GET /2/users/:id/tweets"
USER_BY_USERNAME = "GET /2/users/by/username/:username"
USER_BY_ID = "GET /2/users/:id"
USERS_ME = "GET /2/users/me"
TWEET_BY_ID = "GET /2/tweets/:id"
TWEETS_BY_IDS = "GET /2/tweets"
CONTROL_MENTION = "POST /_sandbox/mentions"
CONTROL_STATE = "GET /_sandbox/state"

TWEET_FIELDS = frozenset(
    {
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "text",
        "withheld",
    }
)
USER_FIELDS = frozenset(
    {
        "affiliation",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "location",
        "most_recent_tweet_id",
        "name",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_type",
        "withheld",
    }
)
EXPANSIONS = frozenset(
    {
        "author_id",
        "referenced_tweets.id",
        "referenced_tweets.id.author_id",
        "in_reply_to_user_id",
        "entities.mentions.username",
        "attachments.media_keys",
        "attachments.poll_ids",
        "geo.place_id",
        "edit_history_tweet_ids",
        "pinned_tweet_id",
        "most_recent_tweet_id",
    }
)
_EXPANSION_FIELDS = {
    "author_id": "author_id",
    "referenced_tweets.id": "referenced_tweets",
    "referenced_tweets.id.author_id": "referenced_tweets",
    "in_reply_to_user_id": "in_reply_to_user_id",
    "entities.mentions.username": "entities",
}

_ID = re.compile(r"^[0-9]{1,19}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_URL = re.compile(r"https?://\S+")
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_OAUTH_TOKEN = re.compile(r'oauth_token="([^"]*)"')
_INVALID_TYPE = "https://api.twitter.com/2/problems/invalid-request"
_NOT_FOUND_TYPE = "https://api.twitter.com/2/problems/resource-not-found"
_USER_CONTEXT_ONLY = frozenset({CREATE_TWEET, USERS_ME})

UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
TOO_MANY_REQUESTS = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
CREDITS_DEPLETED = {
    "title": "CreditsDepleted",
    "detail": "Your enrolled account does not have any credits to fulfill this request.",
    "type": "https://api.twitter.com/2/problems/credits",
    "status": 402,
}
UNSUPPORTED_AUTH = {
    "title": "Unsupported Authentication",
    "detail": (
        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
        "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."
    ),
    "type": "https://api.twitter.com/2/problems/unsupported-authentication",
    "status": 403,
}
CLIENT_FORBIDDEN = {
    "client_id": "sandbox",
    "detail": (
        "When authenticating requests to the Twitter API v2 endpoints, you must use keys and "
        "tokens from a Twitter developer App that is attached to a Project. You can create a "
        "project via the developer portal."
    ),
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}


def _forbidden(detail: str) -> dict[str, Any]:
    return {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}


DUPLICATE_CONTENT = _forbidden("You are not allowed to create a Tweet with duplicate content.")
REPLY_NOT_VISIBLE = _forbidden(
    "You attempted to reply to a Tweet that is deleted or not visible to you."
)
REPLY_RESTRICTED = _forbidden(
    "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
    "engaged by the author of the post you are replying to."
)
TOO_LONG = _forbidden(
    "Your Tweet text is too long. For more information on how Twitter determines text length "
    "see https://github.com/twitter/twitter-text."
)


class _Problem(Exception):
    """Raised by a route to answer with an error reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _invalid(param: str, value: Any, message: str) -> _Problem:
    body = {
        "errors": [{"parameters": {param: [str(value)]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": _INVALID_TYPE,
    }
    return _Problem(Reply(400, body))


def _problem(status: int) -> dict[str, Any]:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {"title": phrase, "detail": phrase, "type": "about:blank", "status": status}


def _not_found(resource: str, parameter: str, value: str, detail: str) -> dict[str, Any]:
    return {
        "value": value,
        "detail": detail,
        "title": "Not Found Error",
        "resource_type": resource,
        "parameter": parameter,
        "resource_id": value,
        "type": _NOT_FOUND_TYPE,
    }


@dataclass(frozen=True)
class _Brand:
    """A brand account: a user whose OAuth 1.0a access token posts as it."""

    user_id: str
    username: str
    name: str
    access_token: str | None  # None: any unregistered OAuth token (the default brand only)


@dataclass(frozen=True)
class _Auth:
    kind: str  # "bearer" | "oauth1" | "none"
    token: str | None = None


@dataclass(frozen=True)
class _Ctx:
    """What an API route needs beyond the request."""

    auth: _Auth
    path: dict[str, str]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class _Shape:
    """How to render tweets: the requested fields and expansions."""

    tweet_fields: frozenset[str]
    user_fields: frozenset[str]
    expansions: frozenset[str]


XRoute = Callable[[Request, _Ctx], Reply]


def _auth(request: Request) -> _Auth:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return _Auth("bearer", header[7:].strip())
    if header.startswith("OAuth "):
        match = _OAUTH_TOKEN.search(header)
        return _Auth("oauth1", match.group(1) if match else None)
    return _Auth("none")


def _x_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _iso(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def weighted_length(text: str) -> int:
    """Tweet length as twitter-text v3 counts it: the bot's own counter, which passes the
    twitter-text conformance cases (a second, cruder copy here once rejected valid emoji)."""
    return voice.weighted_length(text)


def mentions_username(text: str, username: str) -> bool:
    """Whether ``text`` @-mentions ``username`` (case-insensitive, whole handle)."""
    return any(m.lower() == username.lower() for m in _MENTION.findall(text))


def _encode_token(tweet_id: str) -> str:
    return base64.urlsafe_b64encode(f"sbx:{tweet_id}".encode()).decode().rstrip("=")


def _decode_token(param: str, token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raw = ""
    if not raw.startswith("sbx:") or not raw[4:].isdigit():
        raise _invalid(param, token, f"The `{param}` query parameter value [{token}] is not valid")
    return int(raw[4:])


# -- search query language -------------------------------------------------------------------

Predicate = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class _Node:
    test: Predicate
    positive: bool  # contains at least one non-negated clause


class _QueryError(ValueError):
    pass


def _tokenize(query: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(char)
            i += 1
        else:
            start = i
            i = _token_end(query, i + 1 if char == "-" else i)
            tokens.append(query[start:i])  # a lone "-" when it negates a "(" group
    return tokens


def _token_end(query: str, start: int) -> int:
    if start < len(query) and query[start] == '"':
        end = query.find('"', start + 1)
        if end == -1:
            raise _QueryError("unterminated quoted phrase")
        return end + 1
    i = start
    while i < len(query) and not query[i].isspace() and query[i] not in "()":
        i += 1
    return i


class _QueryParser:
    """Recursive descent over X's search syntax: terms, phrases, OR, -negation, (groups)."""

    def __init__(self, tokens: list[str], atom: Callable[[str], Predicate]) -> None:
        self._tokens, self._pos, self._atom = tokens, 0, atom

    def parse(self) -> Predicate:
        node = self._or()
        if self._pos != len(self._tokens):
            raise _QueryError(f"unexpected `{self._tokens[self._pos]}`")
        if not node.positive:
            raise _QueryError("Rules must contain a non-negation term")
        return node.test

    def _peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _or(self) -> _Node:
        parts = [self._and()]
        while self._peek() == "OR":
            self._pos += 1
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        tests = [p.test for p in parts]
        return _Node(lambda t: any(f(t) for f in tests), all(p.positive for p in parts))

    def _and(self) -> _Node:
        parts: list[_Node] = []
        while self._peek() not in (None, ")", "OR"):
            parts.append(self._unary())
        if not parts:
            raise _QueryError("empty clause")
        if len(parts) == 1:
            return parts[0]
        tests = [p.test for p in parts]
        return _Node(lambda t: all(f(t) for f in tests), any(p.positive for p in parts))

    def _unary(self) -> _Node:
        token = self._tokens[self._pos]
        self._pos += 1
        if token == "-":
            if self._peek() != "(":
                raise _QueryError("dangling `-`")
            self._pos += 1
            return self._negate(self._group())
        if token == "(":
            return self._group()
        if token.startswith("-"):
            return self._negate(_Node(self._atom(token[1:]), True))
        return _Node(self._atom(token), True)

    def _group(self) -> _Node:
        node = self._or()
        if self._peek() != ")":
            raise _QueryError("missing `)`")
        self._pos += 1
        return node

    @staticmethod
    def _negate(node: _Node) -> _Node:
        test = node.test
        return _Node(lambda t: not test(t), False)


def _word(term: str) -> Predicate:
    pattern = re.compile(r"(?<![\w#@])" + re.escape(term) + r"(?!\w)", re.IGNORECASE)
    return lambda t: bool(pattern.search(t["text"]))


def _ref_types(tweet: Mapping[str, Any]) -> set[str]:
    return {r["type"] for r in tweet.get("referenced_tweets", [])}


# -- the emulator ----------------------------------------------------------------------------


class XEmulator(EmulatorServer):
    """An in-memory X with brand accounts, served as API v2 on loopback.

    The constructor's brand is the default; :meth:`add_brand` registers more, each with its own
    OAuth 1.0a access token. A user-context request acts as the brand whose access token is in
    its ``oauth_token``; a token no brand owns acts as the default brand when that one has no
    ``brand_access_token``, and is refused with 401 otherwise. Brands survive :meth:`reset`.

    Events: ``post.added`` (every new post, payload = tweet) and ``reply.created`` (posts made
    through ``POST /2/tweets``, payload = tweet + ``auth``, ``requested_text``, ``author_id``
    and ``username`` of the posting brand).
    """

    def __init__(
        self,
        *,
        brand_user_id: str = "1500000000000000001",
        brand_username: str = "AcmeAir",
        brand_name: str = "Acme Air",
        bearer_token: str | None = None,
        rate_limits: Mapping[str, tuple[int, float]] | None = None,
        clock: Callable[[], float] = time.time,
        brand_access_token: str | None = None,
    ) -> None:
        super().__init__()
        self.brand_user_id, self.brand_username, self.brand_name = (
            brand_user_id,
            brand_username,
            brand_name,
        )
        self._brands: dict[str, _Brand] = {
            brand_user_id: _Brand(brand_user_id, brand_username, brand_name, brand_access_token)
        }
        self.bearer_token = bearer_token
        self._limits = dict(rate_limits or {})
        self._clock = clock
        self._routes = self._route_table()
        self._reset_state()

    def _reset_state(self) -> None:
        self._users: dict[str, dict[str, Any]] = {}
        self._usernames: dict[str, str] = {}
        self._tweets: dict[str, dict[str, Any]] = {}
        self._replies: list[dict[str, Any]] = []
        self._windows: dict[str, tuple[float, int]] = {}
        self._next_tweet = FIRST_TWEET_ID
        self._next_user = FIRST_USER_ID
        for brand in self._brands.values():
            self._add_user(username=brand.username, name=brand.name, user_id=brand.user_id)

    def _route_table(self) -> list[tuple[str, re.Pattern[str], str, XRoute]]:
        table: list[tuple[str, str, str, XRoute]] = [
            ("GET", r"/2/users/me", USERS_ME, self._users_me),
            ("GET", r"/2/users/by/username/(?P<username>[^/]+)", USER_BY_USERNAME, self._by_name),
            ("GET", r"/2/users/(?P<id>[^/]+)/mentions", MENTIONS, self._mentions),
            ("GET", r"/2/users/(?P<id>[^/]+)/tweets", USER_TWEETS, self._user_tweets),
            ("GET", r"/2/users/(?P<id>[^/]+)", USER_BY_ID, self._user_by_id),
            ("GET", r"/2/tweets/search/recent", SEARCH_RECENT, self._search),
            ("GET", r"/2/tweets/(?P<id>[^/]+)", TWEET_BY_ID, self._tweet),
            ("GET", r"/2/tweets", TWEETS_BY_IDS, self._tweets_by_ids),
            ("POST", r"/2/tweets", CREATE_TWEET, self._create_tweet),
            ("POST", r"/_sandbox/mentions", CONTROL_MENTION, self._control_mention),
            ("GET", r"/_sandbox/state", CONTROL_STATE, self._control_state),
        ]
        return [(m, re.compile(f"^{p}/?$"), name, route) for m, p, name, route in table]

    @property
    def brand_access_token(self) -> str | None:
        """The default brand's access token (None: any token no brand owns posts as it)."""
        return self._brands[self.brand_user_id].access_token

    # -- routing, auth, rate limits --------------------------------------------------------

    def _resolve(self, request: Request) -> tuple[str, Route]:
        for method, pattern, endpoint, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return endpoint, self._wrap(endpoint, handler, match.groupdict())
        endpoint = f"{request.method} {request.path}"
        return endpoint, lambda _r: Reply(404, _problem(404))

    def _wrap(self, endpoint: str, handler: XRoute, path: dict[str, str]) -> Route:
        control = endpoint.split(" ", 1)[1].startswith("/_sandbox/")

        def route(request: Request) -> Reply:
            ctx = _Ctx(auth=_auth(request), path=path)
            if not control and (denied := self._auth_problem(endpoint, ctx.auth)) is not None:
                return denied
            with self._changing() as events:
                headers, exhausted = ({}, False) if control else self._consume(endpoint)
                if exhausted:
                    return Reply(429, TOO_MANY_REQUESTS, headers)
                try:
                    reply = handler(request, ctx)
                except _Problem as problem:
                    reply = problem.reply
                events.extend(ctx.events)
                return Reply(reply.status, reply.body, {**headers, **reply.headers})

        return route

    def _auth_problem(self, endpoint: str, auth: _Auth) -> Reply | None:
        if auth.kind == "none":
            return Reply(401, UNAUTHORIZED)
        if auth.kind == "oauth1" and self._account(auth) is None:
            return Reply(401, UNAUTHORIZED)  # X's answer to an access token it does not know
        if auth.kind == "bearer":
            if self.bearer_token is not None and auth.token != self.bearer_token:
                return Reply(401, UNAUTHORIZED)
            if endpoint in _USER_CONTEXT_ONLY:
                return Reply(403, UNSUPPORTED_AUTH)
        return None

    def _limit(self, endpoint: str) -> tuple[int, float]:
        return self._limits.get(endpoint, DEFAULT_RATE_LIMIT)

    def _window(self, endpoint: str) -> tuple[float, int]:
        _, span = self._limit(endpoint)
        now = self._clock()
        start, used = self._windows.get(endpoint, (now, 0))
        return (now, 0) if now >= start + span else (start, used)

    def _consume(self, endpoint: str) -> tuple[dict[str, str], bool]:
        """Count one request against the endpoint's window; headers + whether it is exhausted."""
        limit, _ = self._limit(endpoint)
        start, used = self._window(endpoint)
        exhausted = used >= limit
        self._windows[endpoint] = (start, used if exhausted else used + 1)
        return self._rate_headers(endpoint), exhausted

    def _rate_headers(self, endpoint: str, *, reset: float | None = None) -> dict[str, str]:
        limit, span = self._limit(endpoint)
        start, used = self._window(endpoint)
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - used)),
            "x-rate-limit-reset": str(math.ceil(reset if reset is not None else start + span)),
        }

    def _fault_reply(self, fault: Fault, request: Request, endpoint: str) -> Reply:
        with self._cond:
            reset = None
            if fault.status == 429 and fault.retry_after is not None:
                reset = self._clock() + fault.retry_after
            headers = self._rate_headers(endpoint, reset=reset)
        if fault.status == 429:
            headers["x-rate-limit-remaining"] = "0"
        bodies = {
            401: UNAUTHORIZED,
            402: CREDITS_DEPLETED,
            403: CLIENT_FORBIDDEN,
            429: TOO_MANY_REQUESTS,
        }
        return Reply(fault.status, bodies.get(fault.status) or _problem(fault.status), headers)

    # -- brands ------------------------------------------------------------------------------

    def add_brand(self, *, user_id: str, username: str, name: str, access_token: str) -> None:
        """Register another brand account; OAuth 1.0a requests with ``access_token`` act as it.

        Raises ``ValueError`` if the id, username or access token belongs to another brand, or
        the id or username to a different user.
        """
        username = username.lstrip("@")
        if not _ID.match(user_id) or not _USERNAME.match(username):
            raise ValueError(f"not a valid X user id and username: {user_id!r}, {username!r}")
        if not access_token:
            raise ValueError("a brand needs a non-empty access token")
        with self._changing():
            for brand in self._brands.values():
                if brand.user_id == user_id or brand.username.lower() == username.lower():
                    raise ValueError(
                        f"@{username} ({user_id}) clashes with brand @{brand.username}"
                    )
                if brand.access_token == access_token:
                    raise ValueError(f"that access token already belongs to @{brand.username}")
            if self._add_user(username=username, name=name, user_id=user_id) != user_id or (
                self._users[user_id]["username"].lower() != username.lower()
            ):
                raise ValueError(f"@{username} or id {user_id} is already a different user")
            self._brands[user_id] = _Brand(user_id, username, name, access_token)

    def brands(self) -> list[dict[str, str]]:
        """The brand accounts, default first: ``id``, ``username`` and ``name``."""
        with self._cond:
            return [
                {"id": b.user_id, "username": b.username, "name": b.name}
                for b in self._brands.values()
            ]

    def _account(self, auth: _Auth) -> str | None:
        """The brand a user-context request acts as, by its access token (None: unknown)."""
        with self._cond:
            for brand in self._brands.values():
                if brand.access_token is not None and brand.access_token == auth.token:
                    return brand.user_id
            default = self._brands[self.brand_user_id]
            return default.user_id if default.access_token is None else None

    def _acting_brand(self, ctx: _Ctx) -> str:
        user_id = self._account(ctx.auth) if ctx.auth.kind == "oauth1" else None
        if user_id is None:
            raise _Problem(Reply(401, UNAUTHORIZED))
        return user_id

    def _brand_ref(self, ref: str) -> str | None:
        """A brand's user id from its id or username (``@`` optional), or None."""
        user_id = self._user_ref(ref)
        return user_id if user_id in self._brands else None

    def _addressed(self, text: str, to: str | None) -> str:
        """``text`` as a mention of brand ``to`` (default: the default brand), with a leading
        ``@handle`` unless it already mentions that brand (or, without ``to``, any brand)."""
        if to is None:
            if any(mentions_username(text, b.username) for b in self._brands.values()):
                return text
            return f"@{self.brand_username} {text}"
        user_id = self._brand_ref(to)
        if user_id is None:
            raise ValueError(f"to={to!r} is not a registered brand")
        handle = self._brands[user_id].username
        return text if mentions_username(text, handle) else f"@{handle} {text}"

    # -- users -------------------------------------------------------------------------------

    def add_user(
        self,
        *,
        username: str,
        name: str = "",
        followers: int = 0,
        verified: bool = False,
        user_id: str | None = None,
    ) -> str:
        """Create a user (idempotent by username, case-insensitive) and return its id."""
        with self._changing():
            return self._add_user(
                username=username,
                name=name,
                followers=followers,
                verified=verified,
                user_id=user_id,
            )

    def _add_user(
        self,
        *,
        username: str,
        name: str = "",
        followers: int = 0,
        verified: bool = False,
        user_id: str | None = None,
    ) -> str:
        username = username.lstrip("@")
        if user_id is not None and user_id in self._users:
            return user_id
        if (existing := self._usernames.get(username.lower())) is not None:
            return existing
        if user_id is None:
            user_id = str(self._next_user)
            self._next_user += 1
        self._users[user_id] = _new_user(user_id, username, name or username, followers, verified)
        self._users[user_id]["created_at"] = _iso(datetime.fromtimestamp(self._clock(), UTC))
        self._usernames[username.lower()] = user_id
        return user_id

    def _author_id(self, author: str | Mapping[str, Any]) -> str:
        if isinstance(author, str):
            return self._user_ref(author) or self._add_user(username=author)
        handle = str(author.get("handle") or author.get("username") or "").lstrip("@")
        given_id = str(author["id"]).split(":")[-1] if author.get("id") else None
        if not handle and given_id in self._users:
            return given_id
        handle = handle or f"user{self._next_user % 1_000_000}"
        return self._add_user(
            username=handle,
            name=str(author.get("name") or ""),
            followers=int(author.get("followers") or 0),
            verified=bool(author.get("verified")),
            user_id=given_id if given_id and given_id.isdigit() else None,
        )

    def _user_ref(self, ref: str) -> str | None:
        """A user id from an id or a username (``@`` optional)."""
        if ref in self._users:
            return ref
        return self._usernames.get(ref.lstrip("@").lower())

    def user(self, ref: str) -> dict[str, Any] | None:
        """A user (all fields) by id or username, or None."""
        with self._cond:
            user_id = self._user_ref(ref)
            return copy.deepcopy(self._users[user_id]) if user_id else None

    # -- posts -------------------------------------------------------------------------------

    def add_post(
        self,
        *,
        text: str,
        author: str | Mapping[str, Any],
        lang: str | None = None,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
        retweet_of: str | None = None,
        created_at: datetime | None = None,
        to: str | None = None,
        reply_settings: str = "everyone",
    ) -> str:
        """Add a post by anyone and return its id (see :meth:`_insert` for the reply rules).

        ``to`` (a brand's username or id) makes it a mention of that brand: ``@handle`` is
        prepended unless the text already mentions it. Without ``to`` the text is kept as is.
        ``reply_settings`` is who may reply: ``everyone``, ``mentionedUsers`` (accounts the post
        mentions) or ``following`` (accounts the author follows: never a brand, here).
        """
        with self._changing() as events:
            tweet = self._insert(
                text=text if to is None else self._addressed(text, to),
                author_id=self._author_id(author),
                lang=lang,
                in_reply_to=in_reply_to,
                quote_of=quote_of,
                retweet_of=retweet_of,
                created_at=created_at,
            )
            tweet["reply_settings"] = reply_settings
            events.append(("post.added", copy.deepcopy(tweet)))
            return str(tweet["id"])

    def _insert(
        self,
        *,
        text: str,
        author_id: str,
        lang: str | None = None,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
        retweet_of: str | None = None,
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Store a new tweet. Replies get X's leading ``@parent`` if the text lacks it, the
        parent's conversation id and ``in_reply_to_user_id``; retweets get ``RT @orig: ...``."""
        tweet_id = str(self._next_tweet)
        self._next_tweet += 1
        refs = self._references(in_reply_to=in_reply_to, quote_of=quote_of, retweet_of=retweet_of)
        moment = created_at or datetime.fromtimestamp(self._clock(), UTC)
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": self._post_text(text, author_id, refs),
            "author_id": author_id,
            "created_at": _iso(moment),
            "conversation_id": tweet_id,
            "lang": lang or "en",
            "edit_history_tweet_ids": [tweet_id],
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "public_metrics": _zero_tweet_metrics(),
        }
        self._link(tweet, refs)
        tweet["entities"] = self._entities(tweet["text"])
        self._tweets[tweet_id] = tweet
        self._users[author_id]["public_metrics"]["tweet_count"] += 1
        return tweet

    def _references(self, **refs: str | None) -> list[dict[str, str]]:
        kinds = {"in_reply_to": "replied_to", "quote_of": "quoted", "retweet_of": "retweeted"}
        out = []
        for key, value in refs.items():
            if value is None:
                continue
            tweet_id = str(value).split(":")[-1]
            if tweet_id not in self._tweets:
                raise ValueError(f"{key}={tweet_id!r} is not a known tweet id")
            out.append({"type": kinds[key], "id": tweet_id})
        return out

    def _post_text(self, text: str, author_id: str, refs: list[dict[str, str]]) -> str:
        for ref in refs:
            parent = self._tweets[ref["id"]]
            handle = self._users[parent["author_id"]]["username"]
            if ref["type"] == "retweeted":
                return f"RT @{handle}: {parent['text']}"
            own = parent["author_id"] == author_id
            if ref["type"] == "replied_to" and not own and not mentions_username(text, handle):
                return f"@{handle} {text}"
        return text

    def _link(self, tweet: dict[str, Any], refs: list[dict[str, str]]) -> None:
        if not refs:
            return
        tweet["referenced_tweets"] = refs
        metric = {
            "replied_to": "reply_count",
            "quoted": "quote_count",
            "retweeted": "retweet_count",
        }
        for ref in refs:
            parent = self._tweets[ref["id"]]
            parent["public_metrics"][metric[ref["type"]]] += 1
            if ref["type"] == "replied_to":
                tweet["conversation_id"] = parent["conversation_id"]
                tweet["in_reply_to_user_id"] = parent["author_id"]

    def _entities(self, text: str) -> dict[str, Any]:
        mentions = []
        for match in _MENTION.finditer(text):
            entry: dict[str, Any] = {
                "start": match.start(),
                "end": match.end(),
                "username": match.group(1),
            }
            if (user_id := self._usernames.get(match.group(1).lower())) is not None:
                entry["id"] = user_id
            mentions.append(entry)
        return {"mentions": mentions} if mentions else {}

    def load_jsonl(self, path: str | Path) -> list[str]:
        """Load posts in Earshot's mention input format (one JSON object per line).

        Only ``text`` is required; ``id`` is replaced by a new tweet id (in file order) but
        ``in_reply_to`` may refer to an earlier line's ``id`` (``x:`` prefix optional) or to an
        existing tweet. Lines whose ``network`` is set and is not ``x`` are skipped.
        """
        ids: list[str] = []
        aliases: dict[str, str] = {}
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                new_id = self._load_line(json.loads(line), aliases)
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
            if new_id is not None:
                ids.append(new_id)
        return ids

    def _load_line(self, record: Mapping[str, Any], aliases: dict[str, str]) -> str | None:
        if record.get("network") not in (None, "x", "twitter"):
            return None
        if not isinstance(record.get("text"), str):
            raise ValueError("`text` is required")
        parent = record.get("in_reply_to")
        if parent is not None:
            parent = aliases.get(str(parent).split(":")[-1], str(parent))
        created = record.get("created_at")
        new_id = self.add_post(
            text=record["text"],
            author=record.get("author") or self._anonymous_author(),
            lang=record.get("lang"),
            in_reply_to=parent,
            created_at=_parse_time(created) if created else None,
        )
        if record.get("id") is not None:
            aliases[str(record["id"]).split(":")[-1]] = new_id
        return new_id

    def _anonymous_author(self) -> dict[str, Any]:
        with self._cond:
            return {"handle": f"customer{len(self._users)}"}

    def posts(self, *, author: str | None = None) -> list[dict[str, Any]]:
        """All posts (every field), oldest first, optionally by one author (username or id)."""
        with self._cond:
            author_id = self._user_ref(author) if author is not None else None
            if author is not None and author_id is None:
                return []
            return [
                copy.deepcopy(t)
                for t in self._tweets.values()
                if author_id in (None, t["author_id"])
            ]

    def replies(self, *, brand: str | None = None) -> list[dict[str, Any]]:
        """Posts created through ``POST /2/tweets`` with ``auth``, ``requested_text`` and the
        posting brand's ``author_id`` and ``username``; optionally one brand's (username or id).
        """
        with self._cond:
            author_id = self._user_ref(brand) if brand is not None else None
            if brand is not None and author_id is None:
                return []
            return [
                {**copy.deepcopy(self._tweets[r["id"]]), **copy.deepcopy(r)}
                for r in self._replies
                if author_id in (None, r["author_id"])
            ]

    # -- rendering ---------------------------------------------------------------------------

    def _shape(self, params: Mapping[str, Any]) -> _Shape:
        expansions = _csv(params, "expansions", EXPANSIONS)
        implied = {_EXPANSION_FIELDS[e] for e in expansions if e in _EXPANSION_FIELDS}
        return _Shape(
            tweet_fields=_csv(params, "tweet.fields", TWEET_FIELDS) | implied,
            user_fields=_csv(params, "user.fields", USER_FIELDS),
            expansions=expansions,
        )

    @staticmethod
    def _project_tweet(tweet: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
        base = ("id", "text", "edit_history_tweet_ids")
        out = {k: copy.deepcopy(tweet[k]) for k in base}
        out["text"] = _x_escape(out["text"])  # X sends &, < and > as HTML entities
        out.update({k: copy.deepcopy(tweet[k]) for k in sorted(fields) if k in tweet and k != "id"})
        return out

    @staticmethod
    def _project_user(user: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
        out = {k: copy.deepcopy(user[k]) for k in ("id", "name", "username")}
        out.update({k: copy.deepcopy(user[k]) for k in sorted(fields) if k in user})
        return out

    def _render(self, tweets: list[dict[str, Any]], shape: _Shape) -> dict[str, Any]:
        body: dict[str, Any] = {
            "data": [self._project_tweet(t, shape.tweet_fields) for t in tweets]
        }
        includes = self._includes(tweets, shape)
        if includes:
            body["includes"] = includes
        return body

    def _includes(self, tweets: list[dict[str, Any]], shape: _Shape) -> dict[str, Any]:
        user_ids: dict[str, None] = {}
        tweet_ids: dict[str, None] = {}
        for tweet in tweets:
            for user_id in self._expanded_users(tweet, shape.expansions):
                user_ids[user_id] = None
            if "referenced_tweets.id" in shape.expansions:
                tweet_ids.update({r["id"]: None for r in tweet.get("referenced_tweets", [])})
        includes: dict[str, Any] = {}
        users = [self._users[u] for u in user_ids if u in self._users]
        if users:
            includes["users"] = [self._project_user(u, shape.user_fields) for u in users]
        refs = [self._tweets[t] for t in tweet_ids if t in self._tweets]
        if refs:
            includes["tweets"] = [self._project_tweet(t, shape.tweet_fields) for t in refs]
        return includes

    def _expanded_users(self, tweet: Mapping[str, Any], expansions: frozenset[str]) -> list[str]:
        found: list[str] = []
        if "author_id" in expansions:
            found.append(tweet["author_id"])
        if "in_reply_to_user_id" in expansions and tweet.get("in_reply_to_user_id"):
            found.append(tweet["in_reply_to_user_id"])
        if "entities.mentions.username" in expansions:
            found += [m["id"] for m in tweet.get("entities", {}).get("mentions", []) if "id" in m]
        if "referenced_tweets.id.author_id" in expansions:
            refs = [self._tweets.get(r["id"]) for r in tweet.get("referenced_tweets", [])]
            found += [r["author_id"] for r in refs if r is not None]
        return found

    def _page(
        self, request: Request, candidates: list[dict[str, Any]], *, min_results: int
    ) -> Reply:
        """Filter, sort newest first and paginate a timeline, then render it X-style."""
        params = request.params
        shape = self._shape(params)
        size = _int_param(params, "max_results", default=10, low=min_results, high=100)
        rows = sorted(_window_filter(candidates, params), key=lambda t: int(t["id"]), reverse=True)
        token_param = "next_token" if "next_token" in params else "pagination_token"
        if params.get(token_param):
            cursor = _decode_token(token_param, str(params[token_param]))
            rows = [t for t in rows if int(t["id"]) < cursor]
        page, more = rows[:size], len(rows) > size
        if not page:
            return Reply(200, {"meta": {"result_count": 0}})
        body = self._render(page, shape)
        body["meta"] = {
            "result_count": len(page),
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
        }
        if more:
            body["meta"]["next_token"] = _encode_token(page[-1]["id"])
        return Reply(200, body)

    # -- API routes ----------------------------------------------------------------------------

    def _path_user(self, ctx: _Ctx) -> str:
        user_id = _check_id("id", ctx.path["id"])
        if user_id not in self._users:
            detail = f"Could not find user with id: [{user_id}]."
            raise _Problem(Reply(200, {"errors": [_not_found("user", "id", user_id, detail)]}))
        return user_id

    def _mentions(self, request: Request, ctx: _Ctx) -> Reply:
        user_id = self._path_user(ctx)
        username = self._users[user_id]["username"]
        candidates = [
            t
            for t in self._tweets.values()
            if t["author_id"] != user_id and mentions_username(t["text"], username)
        ]
        return self._page(request, candidates, min_results=5)

    def _user_tweets(self, request: Request, ctx: _Ctx) -> Reply:
        user_id = self._path_user(ctx)
        exclude = _csv(request.params, "exclude", frozenset({"retweets", "replies"}))
        skip = {"retweets": "retweeted", "replies": "replied_to"}
        unwanted = {skip[e] for e in exclude}
        candidates = [
            t
            for t in self._tweets.values()
            if t["author_id"] == user_id and not (_ref_types(t) & unwanted)
        ]
        return self._page(request, candidates, min_results=5)

    def _search(self, request: Request, ctx: _Ctx) -> Reply:
        query = request.params.get("query")
        if not isinstance(query, str) or not query.strip():
            raise _invalid("query", "", "The `query` query parameter can not be empty")
        if len(query) > 512:
            raise _invalid("query", query, "The `query` query parameter is too long (max 512)")
        try:
            test = _QueryParser(_tokenize(query), self._atom).parse()
        except _QueryError as exc:
            message = f"There were errors processing your request: {exc}"
            raise _invalid("query", query, message) from None
        candidates = [t for t in self._tweets.values() if test(t)]
        return self._page(request, candidates, min_results=10)

    def _atom(self, token: str) -> Predicate:
        if token.startswith('"') and token.endswith('"') and len(token) >= 2:
            phrase = token[1:-1].strip()
            if not phrase:
                raise _QueryError("empty quoted phrase")
            return _word(phrase)
        if token.startswith("@") and len(token) > 1:
            handle = token[1:]
            return lambda t: mentions_username(t["text"], handle)
        name, sep, value = token.partition(":")
        if sep and name and not name.startswith("http"):
            return self._operator(name.lower(), value)
        return _word(token)

    def _operator(self, name: str, value: str) -> Predicate:
        if not value:
            raise _QueryError(f"operator `{name}:` needs a value")
        lowered = value.lstrip("@").lower()
        users = self._users
        simple: dict[str, Predicate] = {
            "from": lambda t: (
                users[t["author_id"]]["username"].lower() == lowered or t["author_id"] == value
            ),
            "to": lambda t: (
                t.get("in_reply_to_user_id") in users
                and (
                    users[t["in_reply_to_user_id"]]["username"].lower() == lowered
                    or t["in_reply_to_user_id"] == value
                )
            ),
            "conversation_id": lambda t: t["conversation_id"] == value,
            "lang": lambda t: t.get("lang") == value,
        }
        if name in simple:
            return simple[name]
        if name == "is":
            return self._is_operator(lowered)
        if name == "has":
            return _has_operator(lowered)
        raise _QueryError(
            f"Reference to invalid operator '{name}'. Operator is not available in current "
            "product or you are not authorized to use this operator"
        )

    def _is_operator(self, value: str) -> Predicate:
        kinds = {"retweet": "retweeted", "reply": "replied_to", "quote": "quoted"}
        if value in kinds:
            kind = kinds[value]
            return lambda t: kind in _ref_types(t)
        if value == "verified":
            return lambda t: bool(self._users[t["author_id"]]["verified"])
        raise _QueryError(f"Reference to invalid operator 'is:{value}'")

    def _tweet(self, request: Request, ctx: _Ctx) -> Reply:
        tweet_id = _check_id("id", ctx.path["id"])
        if tweet_id not in self._tweets:
            detail = f"Could not find tweet with id: [{tweet_id}]."
            return Reply(200, {"errors": [_not_found("tweet", "id", tweet_id, detail)]})
        body = self._render([self._tweets[tweet_id]], self._shape(request.params))
        body["data"] = body["data"][0]
        return Reply(200, body)

    def _tweets_by_ids(self, request: Request, ctx: _Ctx) -> Reply:
        raw = str(request.params.get("ids") or "")
        ids = [_check_id("ids", i.strip()) for i in raw.split(",") if i.strip()]
        if not 1 <= len(ids) <= 100:
            raise _invalid("ids", raw, "The `ids` query parameter needs between 1 and 100 ids")
        found = [self._tweets[i] for i in ids if i in self._tweets]
        errors = [
            _not_found("tweet", "ids", i, f"Could not find tweet with ids: [{i}].")
            for i in ids
            if i not in self._tweets
        ]
        body = self._render(found, self._shape(request.params)) if found else {}
        if errors:
            body["errors"] = errors
        return Reply(200, body)

    def _render_user(self, user_id: str, request: Request) -> Reply:
        fields = _csv(request.params, "user.fields", USER_FIELDS)
        _csv(request.params, "expansions", EXPANSIONS)
        return Reply(200, {"data": self._project_user(self._users[user_id], fields)})

    def _by_name(self, request: Request, ctx: _Ctx) -> Reply:
        username = ctx.path["username"]
        if not _USERNAME.match(username):
            message = (
                f"The `username` query parameter value [{username}] does not match "
                "^[A-Za-z0-9_]{1,15}$"
            )
            raise _invalid("username", username, message)
        user_id = self._usernames.get(username.lower())
        if user_id is None:
            detail = f"Could not find user with username: [{username}]."
            return Reply(200, {"errors": [_not_found("user", "username", username, detail)]})
        return self._render_user(user_id, request)

    def _user_by_id(self, request: Request, ctx: _Ctx) -> Reply:
        return self._render_user(self._path_user(ctx), request)

    def _users_me(self, request: Request, ctx: _Ctx) -> Reply:
        return self._render_user(self._acting_brand(ctx), request)

    def _create_tweet(self, request: Request, ctx: _Ctx) -> Reply:
        body = request.body
        text = body.get("text")
        quote = body.get("quote_tweet_id")
        parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if not isinstance(text, str) or (not text.strip() and quote is None):
            raise _invalid("text", text, "The `text` field is required and must not be empty")
        if parent is not None and str(parent) not in self._tweets:
            raise _Problem(Reply(403, REPLY_NOT_VISIBLE))
        if parent is not None and not self._may_reply(self._tweets[str(parent)], ctx):
            raise _Problem(Reply(403, REPLY_RESTRICTED))
        if quote is not None and str(quote) not in self._tweets:
            raise _invalid("quote_tweet_id", quote, "The quoted Tweet could not be found")
        if weighted_length(text) > MAX_TWEET_LENGTH:
            raise _Problem(Reply(403, TOO_LONG))
        author_id = self._acting_brand(ctx)
        tweet = self._new_brand_tweet(text, author_id=author_id, parent=parent, quote=quote)
        record = {
            "id": tweet["id"],
            "auth": ctx.auth.kind,
            "requested_text": text,
            "author_id": author_id,
            "username": self._users[author_id]["username"],
        }
        self._replies.append(record)
        ctx.events.append(("post.added", copy.deepcopy(tweet)))
        ctx.events.append(("reply.created", {**copy.deepcopy(tweet), **record}))
        data = {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}
        return Reply(201, {"data": data})

    def _may_reply(self, parent: Mapping[str, Any], ctx: _Ctx) -> bool:
        """X's reply settings: the author chose who may reply (their own thread is always open)."""
        brand = self._acting_brand(ctx)
        setting = parent.get("reply_settings", "everyone")
        if setting == "everyone" or parent.get("author_id") == brand:
            return True
        username = self._users[brand]["username"]
        return setting == "mentionedUsers" and mentions_username(str(parent["text"]), username)

    def _new_brand_tweet(
        self, text: str, *, author_id: str, parent: Any, quote: Any
    ) -> dict[str, Any]:
        refs = self._references(
            in_reply_to=str(parent) if parent is not None else None,
            quote_of=str(quote) if quote is not None else None,
        )
        final = self._post_text(text, author_id, refs)
        if any(t["author_id"] == author_id and t["text"] == final for t in self._tweets.values()):
            raise _Problem(Reply(403, DUPLICATE_CONTENT))
        return self._insert(
            text=text,
            author_id=author_id,
            in_reply_to=str(parent) if parent is not None else None,
            quote_of=str(quote) if quote is not None else None,
        )

    # -- control endpoints (not part of X) ---------------------------------------------------------

    def _control_mention(self, request: Request, ctx: _Ctx) -> Reply:
        """Add a mention: ``text`` (required), ``to`` (a brand; default: the default brand, and
        no prefix when the text already mentions any brand), ``author``, ``lang``,
        ``in_reply_to``, ``created_at``."""
        body = request.body
        if not isinstance(body.get("text"), str) or not body["text"].strip():
            raise _Problem(Reply(400, {**_problem(400), "detail": "`text` is required"}))
        to = body.get("to")
        parent = body.get("in_reply_to")
        try:
            tweet = self._insert(
                text=self._addressed(body["text"], str(to) if to is not None else None),
                author_id=self._author_id(body.get("author") or self._anonymous_author()),
                lang=body.get("lang"),
                in_reply_to=str(parent) if parent is not None else None,
                created_at=_parse_time(body["created_at"]) if body.get("created_at") else None,
            )
        except ValueError as exc:
            raise _Problem(Reply(400, {**_problem(400), "detail": str(exc)})) from None
        ctx.events.append(("post.added", copy.deepcopy(tweet)))
        return Reply(201, {"id": tweet["id"]})

    def _control_state(self, request: Request, ctx: _Ctx) -> Reply:
        """One brand's view (``?brand=`` username or id; default: the default brand): the
        brand, counts (users and posts overall, its mentions and replies), its replies, and
        ``brands`` with every brand's mention and reply counts."""
        ref = request.params.get("brand")
        brand_id = self._brand_ref(str(ref)) if ref else self.brand_user_id
        if brand_id is None:
            detail = f"Could not find brand: [{ref}]."
            raise _Problem(Reply(404, {**_problem(404), "detail": detail}))
        summaries = [
            {
                "id": b.user_id,
                "username": b.username,
                "name": b.name,
                "mentions": self._mention_count(b.user_id),
                "replies": sum(r["author_id"] == b.user_id for r in self._replies),
            }
            for b in self._brands.values()
        ]
        [mine] = [s for s in summaries if s["id"] == brand_id]
        counts = {
            "users": len(self._users),
            "posts": len(self._tweets),
            "mentions": mine["mentions"],
            "replies": mine["replies"],
        }
        return Reply(
            200,
            {
                "brand": copy.deepcopy(self._users[brand_id]),
                "counts": counts,
                "replies": self.replies(brand=brand_id),
                "brands": summaries,
            },
        )

    def _mention_count(self, user_id: str) -> int:
        username = self._users[user_id]["username"]
        return sum(
            t["author_id"] != user_id and mentions_username(t["text"], username)
            for t in self._tweets.values()
        )


# -- module helpers ----------------------------------------------------------------------------


def _new_user(
    user_id: str, username: str, name: str, followers: int, verified: bool
) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": username,
        "name": name,
        "verified": verified,
        "verified_type": "blue" if verified else "none",
        "protected": False,
        "description": "",
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/normal.jpg",
        "public_metrics": {
            "followers_count": followers,
            "following_count": 0,
            "tweet_count": 0,
            "listed_count": 0,
        },
    }


def _zero_tweet_metrics() -> dict[str, int]:
    keys = ("retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count")
    return {**dict.fromkeys(keys, 0), "impression_count": 0}


def _csv(params: Mapping[str, Any], name: str, allowed: frozenset[str]) -> frozenset[str]:
    raw = params.get(name)
    if raw is None or raw == "":
        return frozenset()
    values = [v.strip() for v in str(raw).split(",") if v.strip()]
    for value in values:
        if value not in allowed:
            message = (
                f"The `{name}` query parameter value [{value}] is not one of "
                f"[{','.join(sorted(allowed))}]"
            )
            raise _invalid(name, value, message)
    return frozenset(values)


def _int_param(params: Mapping[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(str(raw))
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        message = f"The `{name}` query parameter value [{raw}] is not between {low} and {high}"
        raise _invalid(name, raw, message)
    return value


def _check_id(name: str, value: str) -> str:
    if not _ID.match(value):
        raise _invalid(
            name,
            value,
            f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$",
        )
    return value


def _window_filter(tweets: list[dict[str, Any]], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Apply ``since_id``/``until_id`` (exclusive) and ``start_time``/``end_time``."""
    since = int(_check_id("since_id", str(params["since_id"]))) if params.get("since_id") else None
    until = int(_check_id("until_id", str(params["until_id"]))) if params.get("until_id") else None
    start = _time_param(params, "start_time")
    end = _time_param(params, "end_time")
    out = []
    for tweet in tweets:
        number = int(tweet["id"])
        if (since is not None and number <= since) or (until is not None and number >= until):
            continue
        if start is not None or end is not None:
            moment = _parse_time(tweet["created_at"])
            if (start is not None and moment < start) or (end is not None and moment >= end):
                continue
        out.append(tweet)
    return out


def _time_param(params: Mapping[str, Any], name: str) -> datetime | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return _parse_time(str(raw))
    except ValueError:
        message = f"The `{name}` query parameter value [{raw}] is not a valid RFC 3339 date-time"
        raise _invalid(name, raw, message) from None


def _has_operator(value: str) -> Predicate:
    checks: dict[str, Predicate] = {
        "mentions": lambda t: bool(_MENTION.search(t["text"])),
        "links": lambda t: bool(_URL.search(t["text"])),
        "hashtags": lambda t: bool(_HASHTAG.search(t["text"])),
        "media": lambda t: False,
        "images": lambda t: False,
        "videos": lambda t: False,
    }
    if value not in checks:
        raise _QueryError(f"Reference to invalid operator 'has:{value}'")
    return checks[value]
