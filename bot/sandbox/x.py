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
import functools
import json
import math
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

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
INVALID_CHARACTERS = _forbidden(  # twitter-text's invalid characters: U+FFFE, U+FEFF, U+FFFF
    "Your Tweet text contains invalid characters. For more information on how Twitter "
    "determines text validity see https://github.com/twitter/twitter-text."
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
    """Tweet length as X counts it: npm twitter-text 3.1.0's ``parseTweet`` (v3 config), the
    emulator's own reading of it. twitter-text's regexes compile from their sources (the data at
    the end of this module) and its walk over UTF-16 code units is kept step by step. It shares
    no code with the bot's counter; the conformance lane checks both against npm twitter-text."""
    return _parse_tweet(text)[0]


def _parse_tweet(text: str) -> tuple[int, bool]:
    """(weighted length, whether every character is one X accepts) as parseTweet works them
    out: a link counts 23 and an emoji 2 where one starts, any other code unit its weight (an
    astral character's two count once); U+FFFE, U+FEFF and U+FFFF make the text invalid."""
    units = _utf16_units(unicodedata.normalize("NFC", text))
    links = dict(_extract_links(units))
    emoji = {found.start(): len(found.group()) for found in _twemoji().finditer(units)}
    weight, valid, index = 0, True, 0
    while index < len(units):
        if index in links:
            weight += TRANSFORMED_URL_LENGTH
            index += links[index]
        elif index in emoji:
            weight += 2
            index += emoji[index]
        else:
            if (
                "\ud800" <= units[index] <= "\udbff"
                and "\udc00" <= units[index + 1 :][:1] <= "\udfff"
            ):
                index += 1  # a surrogate pair weighs what its second half weighs: 2
            weight += 1 if any(low <= ord(units[index]) <= high for low, high in _LIGHT) else 2
            index += 1
        valid = valid and units[index - 1] not in "\ufffe\ufeff\uffff"
    return weight, valid


TRANSFORMED_URL_LENGTH = 23
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_TCO = re.compile(
    r"https?://t\.co/([a-z0-9]+)(?:\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*"
    r"[a-z0-9\-_&=#/])?",
    re.IGNORECASE,
)


def _utf16_units(text: str) -> str:
    """``text`` as JavaScript holds it: one character per UTF-16 code unit."""
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(map(chr, memoryview(data).cast("H")))


def _extract_links(units: str) -> list[tuple[int, int]]:
    """extractUrlsWithIndices: (start, length) of each link, as parseTweet skips it."""
    if "." not in units or not _dot_and_top_level_domain().search(units):
        return []  # no domain: spares the regex its slow failures on thousands of dotted words
    found: list[list[Any]] = []  # [url, start]
    for match in _extract_url().finditer(units):
        before, url, protocol, domain, path = match.group(2, 3, 4, 5, 7)
        start = match.end() - len(url)
        if not _is_valid_url(url, protocol or "https://", domain):
            continue
        if protocol:
            tco = _TCO.match(url)
            if tco and len(tco.group(1)) > 40:
                continue
            found.append([tco.group() if tco else url, start])
            continue
        if before and before[-1] in "-_./":
            continue
        last: list[Any] | None = None
        searched = 0
        for ascii_domain in _valid_ascii_domain().finditer(domain):
            at = domain.find(ascii_domain.group(), searched)
            searched = at + len(ascii_domain.group())
            last = [ascii_domain.group(), start + at]
            found.append(last)
        if last is not None and path:
            last[0] = url.replace(domain, last[0], 1)
    return [(start, len(url)) for url, start in found]


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    """isValidUrl: every label of the domain encodes to 1-63 characters (punycode.toASCII) and
    the URL with its protocol is at most 4,096 code units."""
    if domain.startswith("xn--") and not _valid_ascii_domain().search(domain):
        return False
    for label in domain.split("."):
        code_points = label.encode("utf-16-le", "surrogatepass").decode(
            "utf-16-le", "surrogatepass"
        )
        parts = re.split("[\x2e\u3002\uff0e\uff61]", code_points)
        encoded = ".".join(
            part if part.isascii() else "xn--" + part.encode("punycode").decode() for part in parts
        )
        if not 1 <= len(encoded) <= 63:
            return False
    return len(protocol) + len(url) <= 4096


def _with_tlds(source: str) -> str:
    def listed(names: list[str]) -> str:
        return "(?:(?:" + "|".join(names) + ")(?=[^0-9a-zA-Z@+-]|$))"

    return source.replace("<GTLD>", listed(_GTLDS)).replace("<CCTLD>", listed(_CCTLDS))


@functools.cache
def _extract_url() -> re.Pattern[str]:
    return re.compile(_with_tlds(_EXTRACT_URL_SOURCE), re.IGNORECASE)


@functools.cache
def _dot_and_top_level_domain() -> re.Pattern[str]:
    return re.compile(_with_tlds(r"\.(?:<GTLD>|<CCTLD>|xn--)"), re.IGNORECASE)


@functools.cache
def _valid_ascii_domain() -> re.Pattern[str]:
    return re.compile(_with_tlds(_VALID_ASCII_DOMAIN_SOURCE), re.IGNORECASE)


@functools.cache
def _twemoji() -> re.Pattern[str]:
    return re.compile(_TWEMOJI_SOURCE)


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
        api_tier: str = "pay-per-use",
    ) -> None:
        super().__init__()
        self.api_tier = api_tier  # "enterprise" may reply by API to any post
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
        length, valid = _parse_tweet(text)
        if length > MAX_TWEET_LENGTH:
            raise _Problem(Reply(403, TOO_LONG))
        if not valid:
            raise _Problem(Reply(403, INVALID_CHARACTERS))
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
        """Whether X takes this reply by API: the brand's own thread is always open; else the
        author's reply settings, and, since 2026-02-24 on every tier but Enterprise, only when
        the post @mentions the brand or quotes one of its posts. X's exact refusal for the
        latter is not documented; this answers with its known 403 for a conversation the
        account was not invited into (the same detail X gives for reply settings)."""
        brand = self._acting_brand(ctx)
        if parent.get("author_id") == brand:
            return True
        username = self._users[brand]["username"]
        mentioned = mentions_username(str(parent["text"]), username)
        if self.api_tier != "enterprise" and not (mentioned or self._quotes(parent, brand)):
            return False
        setting = parent.get("reply_settings", "everyone")
        return setting == "everyone" or (setting == "mentionedUsers" and mentioned)

    def _quotes(self, tweet: Mapping[str, Any], brand: str) -> bool:
        quoted = [r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == "quoted"]
        return any(self._tweets.get(q, {}).get("author_id") == brand for q in quoted)

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


# ---- data: twitter-text 3.1.0's, for the length check -------------------------------------------
# Written by tests/conformance/derive.py from npm twitter-text and twemoji-parser (Apache-2.0,
# MIT); the conformance lane checks they still match. <GTLD> and <CCTLD> stand for the lists.

_GTLDS = """
삼성 닷컴 닷넷 香格里拉 餐厅 食品 飞利浦 電訊盈科 集团 通販 购物 谷歌 诺基亚 联通 网络 网站
网店 网址 组织机构 移动 珠宝 点看 游戏 淡马锡 机构 書籍 时尚 新闻 政府 政务 招聘 手表 手机
我爱你 慈善 微博 广东 工行 家電 娱乐 天主教 大拿 大众汽车 在线 嘉里大酒店 嘉里 商标 商店 商城
公益 公司 八卦 健康 信息 佛山 企业 中文网 中信 世界 ポイント ファッション セール ストア コム
グーグル クラウド みんな คอม संगठन नेट कॉम همراه موقع موبايلي كوم كاثوليك عرب شبكة بيتك بازار
العليان ارامكو اتصالات ابوظبي קום сайт рус орг онлайн москва ком католик дети zuerich zone
zippo zip zero zara zappos yun youtube you yokohama yoga yodobashi yandex yamaxun yahoo yachts
xyz xxx xperia xin xihuan xfinity xerox xbox wtf wtc wow world works work woodside
wolterskluwer wme winners wine windows win williamhill wiki wien whoswho weir weibo wedding wed
website weber webcam weatherchannel weather watches watch warman wanggou wang walter walmart
wales vuelos voyage voto voting vote volvo volkswagen vodka vlaanderen vivo viva vistaprint
vista vision visa virgin vip vin villas viking vig video viajes vet versicherung
vermögensberatung vermögensberater verisign ventures vegas vanguard vana vacations ups uol uno
university unicom uconnect ubs ubank tvs tushu tunes tui tube trv trust travelersinsurance
travelers travelchannel travel training trading trade toys toyota town tours total toshiba
toray top tools tokyo today tmall tkmaxx tjx tjmaxx tirol tires tips tiffany tienda tickets
tiaa theatre theater thd teva tennis temasek telefonica telecity tel technology tech team tdk
tci taxi tax tattoo tatar tatamotors target taobao talk taipei tab systems symantec sydney
swiss swiftcover swatch suzuki surgery surf support supply supplies sucks style study studio
stream store storage stockholm stcgroup stc statoil statefarm statebank starhub star staples
stada srt srl spreadbetting spot sport spiegel space soy sony song solutions solar sohu
software softbank social soccer sncf smile smart sling skype sky skin ski site singles sina
silk shriram showtime show shouji shopping shop shoes shiksha shia shell shaw sharp shangrila
sfr sexy sex sew seven ses services sener select seek security secure seat search scot scor
scjohnson science schwarz schule school scholarships schmidt schaeffler scb sca sbs sbi saxo
save sas sarl sapo sap sanofi sandvikcoromant sandvik samsung samsclub salon sale sakura safety
safe saarland ryukyu rwe run ruhr rugby rsvp room rogers rodeo rocks rocher rmit rip rio ril
rightathome ricoh richardli rich rexroth reviews review restaurant rest republican report
repair rentals rent ren reliance reit reisen reise rehab redumbrella redstone red recipes
realty realtor realestate read raid radio racing qvc quest quebec qpon pwc pub prudential pru
protection property properties promo progressive prof productions prod pro prime press praxi
pramerica post porn politie poker pohl pnc plus plumbing playstation play place pizza pioneer
pink ping pin pid pictures pictet pics piaget physio photos photography photo phone philips phd
pharmacy pfizer pet pccw pay passagens party parts partners pars paris panerai panasonic
pamperedchef page ovh ott otsuka osaka origins orientexpress organic org orange oracle open ooo
onyourside online onl ong one omega ollo oldnavy olayangroup olayan okinawa office off observer
obi nyc ntt nrw nra nowtv nowruz now norton northwesternmutual nokia nissay nissan ninja nikon
nike nico nhk ngo nfl nexus nextdirect next news newholland new neustar network netflix netbank
net nec nba navy natura nationwide name nagoya nadex nab mutuelle mutual museum mtr mtpc mtn
msd movistar movie mov motorcycles moto moscow mortgage mormon mopar montblanc monster money
monash mom moi moe moda mobily mobile mobi mma mls mlb mitsubishi mit mint mini mil microsoft
miami metlife merckmsd meo menu men memorial meme melbourne meet media med mckinsey mcdonalds
mcd mba mattel maserati marshalls marriott markets marketing market map mango management man
makeup maison maif madrid macys luxury luxe lupin lundbeck ltda ltd lplfinancial lpl love lotto
lotte london lol loft locus locker loans loan llp llc lixil living live lipsy link linde
lincoln limo limited lilly like lighting lifestyle lifeinsurance life lidl liaison lgbt lexus
lego legal lefrak leclerc lease lds lawyer law latrobe latino lat lasalle lanxess landrover
land lancome lancia lancaster lamer lamborghini ladbrokes lacaixa kyoto kuokgroup kred krd kpn
kpmg kosher komatsu koeln kiwi kitchen kindle kinder kim kia kfh kerryproperties kerrylogistics
kerryhotels kddi kaufen juniper juegos jprs jpmorgan joy jot joburg jobs jnj jmp jll jlc jio
jewelry jetzt jeep jcp jcb java jaguar iwc iveco itv itau istanbul ist ismaili iselect irish
ipiranga investments intuit international intel int insure insurance institute ink ing info
infiniti industries inc immobilien immo imdb imamat ikano iinet ifm ieee icu ice icbc ibm
hyundai hyatt hughes htc hsbc how house hotmail hotels hoteles hot hosting host hospital horse
honeywell honda homesense homes homegoods homedepot holiday holdings hockey hkt hiv hitachi
hisamitsu hiphop hgtv hermes here helsinki help healthcare health hdfcbank hdfc hbo haus
hangout hamburg hair guru guitars guide guge gucci guardian group grocery gripe green gratis
graphics grainger gov got gop google goog goodyear goodhands goo golf goldpoint gold godaddy
gmx gmo gmbh gmail globo global gle glass glade giving gives gifts gift ggee george genting
gent gea gdn gbiz gay garden gap games game gallup gallo gallery gal fyi futbol furniture fund
fun fujixerox fujitsu ftr frontier frontdoor frogans frl fresenius free fox foundation forum
forsale forex ford football foodnetwork food foo fly flsmidth flowers florist flir flights
flickr fitness fit fishing fish firmdale firestone fire financial finance final film fido
fidelity fiat ferrero ferrari feedback fedex fast fashion farmers farm fans fan family faith
fairwinds fail fage extraspace express exposed expert exchange everbank events eus eurovision
etisalat esurance estate esq erni ericsson equipment epson epost enterprises engineering
engineer energy emerck email education edu edeka eco eat earth dvr dvag durban dupont duns
dunlop duck dubai dtv drive download dot doosan domains doha dog dodge doctor docs dnp diy dish
discover discount directory direct digital diet diamonds dhl dev design desi dentist dental
democrat delta deloitte dell delivery degree deals dealer deal dds dclk day datsun dating date
data dance dad dabur cyou cymru cuisinella csc cruises cruise crs crown cricket creditunion
creditcard credit cpa courses coupons coupon country corsica coop cool cookingchannel cooking
contractors contact consulting construction condos comsec computer compare company community
commbank comcast com cologne college coffee codes coach clubmed club cloud clothing clinique
clinic click cleaning claims cityeats city citic citi citadel cisco circle cipriani church
chrysler chrome christmas chloe chintai cheap chat chase charity channel chanel cfd cfa cern
ceo center ceb cbs cbre cbn cba catholic catering cat casino cash caseih case casa cartier cars
careers career care cards caravan car capitalone capital capetown canon cancerresearch camp
camera cam calvinklein call cal cafe cab bzh buzz buy business builders build bugatti budapest
brussels brother broker broadway bridgestone bradesco box boutique bot boston bostik bosch
boots booking book boo bond bom bofa boehringer boats bnpparibas bnl bmw bms blue bloomberg
blog blockbuster blanco blackfriday black biz bio bingo bing bike bid bible bharti bet bestbuy
best berlin bentley beer beauty beats bcn bcg bbva bbt bbc bayern bauhaus basketball baseball
bargains barefoot barclays barclaycard barcelona bar bank band bananarepublic banamex baidu
baby azure axa aws avianca autos auto author auspost audio audible audi auction attorney
athleta associates asia asda arte art arpa army archi aramco arab aquarelle apple app
apartments aol anz anquan android analytics amsterdam amica amfam amex americanfamily
americanexpress alstom alsace ally allstate allfinanz alipay alibaba alfaromeo akdn airtel
airforce airbus aigo aig agency agakhan africa afl afamilycompany aetna aero aeg adult ads adac
actor active aco accountants accountant accenture academy abudhabi abogado able abc abbvie
abbott abb abarth aarp aaa onion
""".split()
_CCTLDS = """
한국 香港 澳門 新加坡 台灣 台湾 中國 中国 გე ລາວ ไทย ලංකා ഭാരതം ಭಾರತ భారత్ சிங்கப்பூர் இலங்கை
இந்தியா ଭାରତ ભારત ਭਾਰਤ ভাৰত ভারত বাংলা भारोत भारतम् भारत ڀارت پاکستان موريتانيا مليسيا مصر قطر
فلسطين عمان عراق سورية سودان تونس بھارت بارت ایران امارات المغرب السعودية الجزائر البحرين
الاردن հայ қаз укр срб рф мон мкд ею бел бг ευ ελ zw zm za yt ye ws wf vu vn vi vg ve vc va uz
uy us um uk ug ua tz tw tv tt tr tp to tn tm tl tk tj th tg tf td tc sz sy sx sv su st ss sr so
sn sm sl sk sj si sh sg se sd sc sb sa rw ru rs ro re qa py pw pt ps pr pn pm pl pk ph pg pf pe
pa om nz nu nr np no nl ni ng nf ne nc na mz my mx mw mv mu mt ms mr mq mp mo mn mm ml mk mh mg
mf me md mc ma ly lv lu lt ls lr lk li lc lb la kz ky kw kr kp kn km ki kh kg ke jp jo jm je it
is ir iq io in im il ie id hu ht hr hn hm hk gy gw gu gt gs gr gq gp gn gm gl gi gh gg gf ge gd
gb ga fr fo fm fk fj fi eu et es er eh eg ee ec dz do dm dk dj de cz cy cx cw cv cu cr co cn cm
cl ck ci ch cg cf cd cc ca bz by bw bv bt bs br bq bo bn bm bl bj bi bh bg bf be bd bb ba az ax
aw au at as ar aq ao an am al ai ag af ae ad ac
""".split()
_EXTRACT_URL_SOURCE = (
    r"(((?:[^A-Za-z0-9@\uff20$#\uff03\uFFFE\uFEFF\uFFFF]|[\u202A-\u202E\u061C\u200E\u200F\u206"
    r"6\u2067\u2068\u2069]|^))((https?:\/\/)?((?:(?:(?:[^/\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]"
    r"\^_{|}~\$//\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000/"
    r"/\uFFFE\uFEFF\uFFFF//\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069/](?:[_-]|[^"
    r"/\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$//\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-"
    r"\u200A\u2028\u2029\u202F\u205F\u3000//\uFFFE\uFEFF\uFFFF//\u202A-\u202E\u061C\u200E\u200"
    r"F\u2066\u2067\u2068\u2069/])*)?[^/\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$//\x09-\x0"
    r"D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000//\uFFFE\uFEFF\uFFFF"
    r"//\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069/]\.)*(?:(?:[^/\!'#%&'\(\)*\+,"
    r"\\\-\.\/:;<=>\?@\[\]\^_{|}~\$//\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u202"
    r"9\u202F\u205F\u3000//\uFFFE\uFEFF\uFFFF//\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u20"
    r"68\u2069/](?:-|[^/\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$//\x09-\x0D\x20\x85\xA0\u1"
    r"680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000//\uFFFE\uFEFF\uFFFF//\u202A-\u202E"
    r"\u061C\u200E\u200F\u2066\u2067\u2068\u2069/])*)?[^/\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^"
    r"_{|}~\$//\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000//"
    r"\uFFFE\uFEFF\uFFFF//\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069/]\.)(?:<GTLD"
    r">|<CCTLD>|(?:xn--[\-0-9a-z]+))))(?::([0-9]+))?(\/(?:(?:[a-z\u0400-\u04FF0-9!\*';:=\+,\."
    r"\$\/%#\[\]\-\u2013_~@\|&\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257"
    r"\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF]*(?:\(("
    r"?:[a-z\u0400-\u04FF0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0"
    r"100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB"
    r"\u0300-\u036F\u1E00-\u1EFF]+|(?:[a-z\u0400-\u04FF0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&"
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268"
    r"\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF]*\([a-z\u0400-\u04FF0-9!\*';:="
    r"\+,\.\$\/%#\[\]\-\u2013_~@\|&\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256"
    r"\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF]+"
    r"\)[a-z\u0400-\u04FF0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0"
    r"100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB"
    r"\u0300-\u036F\u1E00-\u1EFF]*))\)[a-z\u0400-\u04FF0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&"
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268"
    r"\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF]*)*[\+\-a-z\u0400-\u04FF0-9=_#"
    r"\/\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u02"
    r"68\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF]|(?:\((?:[a-z\u0400-\u04FF0-9"
    r"!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254"
    r"\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u"
    r"1EFF]+|(?:[a-z\u0400-\u04FF0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&\xC0-\xD6\xD8-\xF6\xF8"
    r"-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u02"
    r"8B\u02BB\u0300-\u036F\u1E00-\u1EFF]*\([a-z\u0400-\u04FF0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013"
    r"_~@\|&\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF]+\)[a-z\u0400-\u04FF0-9!"
    r"\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254"
    r"\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u"
    r"1EFF]*))\)))|(?:@[a-z\u0400-\u04FF0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&\xC0-\xD6\xD8-"
    r"\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u"
    r"0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF]+\/))*)?(\?[a-z0-9!?\*'@\(\);:&=\+\$\/%#\[\]"
    r"\-_\.,~|]*[a-z0-9\-_&=#\/])?))"
)
_VALID_ASCII_DOMAIN_SOURCE = (
    r"(?:(?:[\-a-z0-9\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u0"
    r"25B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF]+)\.)+(?:<GTLD>|"
    r"<CCTLD>|(?:xn--[\-0-9a-z]+))"
)
_TWEMOJI_SOURCE = (
    r"(?:\ud83d[\udc68\udc69])(?:\ud83c[\udffb-\udfff])?\u200d(?:\u2695\ufe0f|\u2696\ufe0f|\u2"
    r"708\ufe0f|\ud83c[\udf3e\udf73\udf93\udfa4\udfa8\udfeb\udfed]|\ud83d[\udcbb\udcbc\udd27\u"
    r"dd2c\ude80\ude92]|\ud83e[\uddb0-\uddb3])|(?:\ud83c[\udfcb\udfcc]|\ud83d[\udd74\udd75]|\u"
    r"26f9)((?:\ud83c[\udffb-\udfff]|\ufe0f)\u200d[\u2640\u2642]\ufe0f)|(?:\ud83c[\udfc3\udfc4"
    r"\udfca]|\ud83d[\udc6e\udc71\udc73\udc77\udc81\udc82\udc86\udc87\ude45-\ude47\ude4b\ude4d"
    r"\ude4e\udea3\udeb4-\udeb6]|\ud83e[\udd26\udd35\udd37-\udd39\udd3d\udd3e\uddb8\uddb9\uddd"
    r"6-\udddd])(?:\ud83c[\udffb-\udfff])?\u200d[\u2640\u2642]\ufe0f|(?:\ud83d\udc68\u200d\u27"
    r"64\ufe0f\u200d\ud83d\udc8b\u200d\ud83d\udc68|\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d"
    r"\udc66\u200d\ud83d\udc66|\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d\udc67\u200d\ud83d[\u"
    r"dc66\udc67]|\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\ud"
    r"c68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\u27"
    r"64\ufe0f\u200d\ud83d\udc8b\u200d\ud83d[\udc68\udc69]|\ud83d\udc69\u200d\ud83d\udc69\u200"
    r"d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\u"
    r"d83d[\udc66\udc67]|\ud83d\udc68\u200d\u2764\ufe0f\u200d\ud83d\udc68|\ud83d\udc68\u200d\u"
    r"d83d\udc66\u200d\ud83d\udc66|\ud83d\udc68\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|\u"
    r"d83d\udc68\u200d\ud83d\udc68\u200d\ud83d[\udc66\udc67]|\ud83d\udc68\u200d\ud83d\udc69\u2"
    r"00d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\u2764\ufe0f\u200d\ud83d[\udc68\udc69]|\ud83d"
    r"\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\u"
    r"dc66\udc67]|\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d[\udc66\udc67]|\ud83c\udff3\ufe0f"
    r"\u200d\ud83c\udf08|\ud83c\udff4\u200d\u2620\ufe0f|\ud83d\udc41\u200d\ud83d\udde8|\ud83d"
    r"\udc68\u200d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\ud83d[\udc66\udc67]|\ud83d\udc6f\u20"
    r"0d\u2640\ufe0f|\ud83d\udc6f\u200d\u2642\ufe0f|\ud83e\udd3c\u200d\u2640\ufe0f|\ud83e\udd3"
    r"c\u200d\u2642\ufe0f|\ud83e\uddde\u200d\u2640\ufe0f|\ud83e\uddde\u200d\u2642\ufe0f|\ud83e"
    r"\udddf\u200d\u2640\ufe0f|\ud83e\udddf\u200d\u2642\ufe0f)|[#*0-9]\ufe0f?\u20e3|(?:[\u00a9"
    r"\u00ae\u2122\u265f]\ufe0f)|(?:\ud83c[\udc04\udd70\udd71\udd7e\udd7f\ude02\ude1a\ude2f\ud"
    r"e37\udf21\udf24-\udf2c\udf36\udf7d\udf96\udf97\udf99-\udf9b\udf9e\udf9f\udfcd\udfce\udfd"
    r"4-\udfdf\udff3\udff5\udff7]|\ud83d[\udc3f\udc41\udcfd\udd49\udd4a\udd6f\udd70\udd73\udd7"
    r"6-\udd79\udd87\udd8a-\udd8d\udda5\udda8\uddb1\uddb2\uddbc\uddc2-\uddc4\uddd1-\uddd3\uddd"
    r"c-\uddde\udde1\udde3\udde8\uddef\uddf3\uddfa\udecb\udecd-\udecf\udee0-\udee5\udee9\udef0"
    r"\udef3]|[\u203c\u2049\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23ed-\u23e"
    r"f\u23f1\u23f2\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u2604\u260e"
    r"\u2611\u2614\u2615\u2618\u2620\u2622\u2623\u2626\u262a\u262e\u262f\u2638-\u263a\u2640\u2"
    r"642\u2648-\u2653\u2660\u2663\u2665\u2666\u2668\u267b\u267f\u2692-\u2697\u2699\u269b\u269"
    r"c\u26a0\u26a1\u26aa\u26ab\u26b0\u26b1\u26bd\u26be\u26c4\u26c5\u26c8\u26cf\u26d1\u26d3\u2"
    r"6d4\u26e9\u26ea\u26f0-\u26f5\u26f8\u26fa\u26fd\u2702\u2708\u2709\u270f\u2712\u2714\u2716"
    r"\u271d\u2721\u2733\u2734\u2744\u2747\u2757\u2763\u2764\u27a1\u2934\u2935\u2b05-\u2b07\u2"
    r"b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299])(?:\ufe0f|(?!\ufe0e))|(?:(?:\ud83c[\udfcb"
    r"\udfcc]|\ud83d[\udd74\udd75\udd90]|[\u261d\u26f7\u26f9\u270c\u270d])(?:\ufe0f|(?!\ufe0e)"
    r")|(?:\ud83c[\udf85\udfc2-\udfc4\udfc7\udfca]|\ud83d[\udc42\udc43\udc46-\udc50\udc66-\udc"
    r"69\udc6e\udc70-\udc78\udc7c\udc81-\udc83\udc85-\udc87\udcaa\udd7a\udd95\udd96\ude45-\ude"
    r"47\ude4b-\ude4f\udea3\udeb4-\udeb6\udec0\udecc]|\ud83e[\udd18-\udd1c\udd1e\udd1f\udd26\u"
    r"dd30-\udd39\udd3d\udd3e\uddb5\uddb6\uddb8\uddb9\uddd1-\udddd]|[\u270a\u270b]))(?:\ud83c["
    r"\udffb-\udfff])?|(?:\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc65\udb40\udc6e\udb40\u"
    r"dc67\udb40\udc7f|\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc73\udb40\udc63\udb40\udc7"
    r"4\udb40\udc7f|\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc77\udb40\udc6c\udb40\udc73\u"
    r"db40\udc7f|\ud83c\udde6\ud83c[\udde8-\uddec\uddee\uddf1\uddf2\uddf4\uddf6-\uddfa\uddfc\u"
    r"ddfd\uddff]|\ud83c\udde7\ud83c[\udde6\udde7\udde9-\uddef\uddf1-\uddf4\uddf6-\uddf9\uddfb"
    r"\uddfc\uddfe\uddff]|\ud83c\udde8\ud83c[\udde6\udde8\udde9\uddeb-\uddee\uddf0-\uddf5\uddf"
    r"7\uddfa-\uddff]|\ud83c\udde9\ud83c[\uddea\uddec\uddef\uddf0\uddf2\uddf4\uddff]|\ud83c\ud"
    r"dea\ud83c[\udde6\udde8\uddea\uddec\udded\uddf7-\uddfa]|\ud83c\uddeb\ud83c[\uddee-\uddf0"
    r"\uddf2\uddf4\uddf7]|\ud83c\uddec\ud83c[\udde6\udde7\udde9-\uddee\uddf1-\uddf3\uddf5-\udd"
    r"fa\uddfc\uddfe]|\ud83c\udded\ud83c[\uddf0\uddf2\uddf3\uddf7\uddf9\uddfa]|\ud83c\uddee\ud"
    r"83c[\udde8-\uddea\uddf1-\uddf4\uddf6-\uddf9]|\ud83c\uddef\ud83c[\uddea\uddf2\uddf4\uddf5"
    r"]|\ud83c\uddf0\ud83c[\uddea\uddec-\uddee\uddf2\uddf3\uddf5\uddf7\uddfc\uddfe\uddff]|\ud8"
    r"3c\uddf1\ud83c[\udde6-\udde8\uddee\uddf0\uddf7-\uddfb\uddfe]|\ud83c\uddf2\ud83c[\udde6\u"
    r"dde8-\udded\uddf0-\uddff]|\ud83c\uddf3\ud83c[\udde6\udde8\uddea-\uddec\uddee\uddf1\uddf4"
    r"\uddf5\uddf7\uddfa\uddff]|\ud83c\uddf4\ud83c\uddf2|\ud83c\uddf5\ud83c[\udde6\uddea-\udde"
    r"d\uddf0-\uddf3\uddf7-\uddf9\uddfc\uddfe]|\ud83c\uddf6\ud83c\udde6|\ud83c\uddf7\ud83c[\ud"
    r"dea\uddf4\uddf8\uddfa\uddfc]|\ud83c\uddf8\ud83c[\udde6-\uddea\uddec-\uddf4\uddf7-\uddf9"
    r"\uddfb\uddfd-\uddff]|\ud83c\uddf9\ud83c[\udde6\udde8\udde9\uddeb-\udded\uddef-\uddf4\udd"
    r"f7\uddf9\uddfb\uddfc\uddff]|\ud83c\uddfa\ud83c[\udde6\uddec\uddf2\uddf3\uddf8\uddfe\uddf"
    r"f]|\ud83c\uddfb\ud83c[\udde6\udde8\uddea\uddec\uddee\uddf3\uddfa]|\ud83c\uddfc\ud83c[\ud"
    r"deb\uddf8]|\ud83c\uddfd\ud83c\uddf0|\ud83c\uddfe\ud83c[\uddea\uddf9]|\ud83c\uddff\ud83c["
    r"\udde6\uddf2\uddfc]|\ud83c[\udccf\udd8e\udd91-\udd9a\udde6-\uddff\ude01\ude32-\ude36\ude"
    r"38-\ude3a\ude50\ude51\udf00-\udf20\udf2d-\udf35\udf37-\udf7c\udf7e-\udf84\udf86-\udf93\u"
    r"dfa0-\udfc1\udfc5\udfc6\udfc8\udfc9\udfcf-\udfd3\udfe0-\udff0\udff4\udff8-\udfff]|\ud83d"
    r"[\udc00-\udc3e\udc40\udc44\udc45\udc51-\udc65\udc6a-\udc6d\udc6f\udc79-\udc7b\udc7d-\udc"
    r"80\udc84\udc88-\udca9\udcab-\udcfc\udcff-\udd3d\udd4b-\udd4e\udd50-\udd67\udda4\uddfb-\u"
    r"de44\ude48-\ude4a\ude80-\udea2\udea4-\udeb3\udeb7-\udebf\udec1-\udec5\uded0-\uded2\udeeb"
    r"\udeec\udef4-\udef9]|\ud83e[\udd10-\udd17\udd1d\udd20-\udd25\udd27-\udd2f\udd3a\udd3c\ud"
    r"d40-\udd45\udd47-\udd70\udd73-\udd76\udd7a\udd7c-\udda2\uddb4\uddb7\uddc0-\uddc2\uddd0\u"
    r"ddde-\uddff]|[\u23e9-\u23ec\u23f0\u23f3\u267e\u26ce\u2705\u2728\u274c\u274e\u2753-\u2755"
    r"\u2795-\u2797\u27b0\u27bf\ue50a])|\ufe0f"
)
