"""``MastodonEmulator``: one in-memory Mastodon instance (API of Mastodon 4.3) on loopback.

Point the real client at it: ``mastodon.Mastodon(access_token=..., api_base_url=emulator.url,
ratelimit_method="throw")``. It serves what Earshot reads and writes: ``/api/v1/instance`` and
``/api/v2/instance``, ``verify_credentials``, notifications (newest first, ``types[]`` and
``exclude_types[]``, ``max_id``/``since_id``/``min_id`` paging with ``Link`` headers), one status
and its context, and ``POST /api/v1/statuses`` as the brand that owns the bearer token (Mastodon's
422 validation, grapheme length with links as 23 and ``@user@domain`` as ``@user``, 404 for a
reply to a post the brand cannot see, ``Idempotency-Key`` for an hour). Every API answer carries
``X-RateLimit-*`` headers (fixed windows, like rack-attack; the reset in ``iso8601(6)``), errors
are ``{"error": ...}`` with Mastodon's statuses and texts, and plain text becomes Mastodon's HTML
(``<p>`` paragraphs, ``<br />``, h-card mentions, shortened links, hashtag links).

Every mention of a brand notifies it by default. ``filter_private_mentions=True`` applies Mastodon
4.3's default notification policy instead: a private mention (``direct``) from an account the brand
does not follow is *filtered*, never shown in ``GET /api/v1/notifications``, unless it answers the
brand's own private mention of the sender. The API adds no @-mentions to what a brand posts;
:meth:`MastodonEmulator.add_status` adds them to a customer's reply, as the web UI's compose box
does.

Limits: no federation, media, polls, edits, boosts, timelines, search, streaming or notification
requests. The length check follows Mastodon's (``status_length``: a link needs a scheme and a
known top-level domain, so ``https://help.skylark.example`` and ``http://192.168.1.1/`` count in
full), but the HTML links any ``http(s)://`` URL with a dotted host. A bare ``@name`` in a
remote author's text falls back to a local account when the author's server has none (real
servers resolve it on their own side only). Hashtags need a letter. Ids are increasing numbers
(statuses from 113000000000000000, accounts from 109000000000000001, notifications from
30000001), not time snowflakes. Every URL in a body points at the ``.example`` domain, which never
resolves, except the streaming URL, which points back here so a client never leaves loopback.
"""

from __future__ import annotations

import copy
import re
import stringprep
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import regex
from mastodon._url_regex import url_regex as twitter_text_url

from bot.sandbox.http import (
    LOOPBACK,
    EmulatorServer,
    Fault,
    Reply,
    Request,
    Route,
)

FIRST_ACCOUNT_ID = 109_000_000_000_000_001
FIRST_STATUS_ID = 113_000_000_000_000_000
FIRST_NOTIFICATION_ID = 30_000_001
URL_LENGTH = 23
NOTIFICATIONS_LIMIT = 40  # Mastodon's default page; it allows up to twice that
DEFAULT_RATE_LIMIT = (300, 300.0)  # per token and window, shared by every API endpoint
STATUS_RATE_LIMIT = (300, 10_800.0)  # posting: Mastodon's own "statuses" limiter
IDEMPOTENCY_SECONDS = 3600.0
VISIBILITIES = ("public", "unlisted", "private", "direct")
APPLICATION = {"name": "Earshot", "website": None}

INSTANCE_V1 = "GET /api/v1/instance"
INSTANCE_V2 = "GET /api/v2/instance"
VERIFY_CREDENTIALS = "GET /api/v1/accounts/verify_credentials"
NOTIFICATIONS = "GET /api/v1/notifications"
GET_STATUS = "GET /api/v1/statuses/:id"
STATUS_CONTEXT = "GET /api/v1/statuses/:id/context"
POST_STATUS = "POST /api/v1/statuses"
CONTROL_STATUS = "POST /_sandbox/statuses"

INVALID_TOKEN = {"error": "The access token is invalid"}
RECORD_NOT_FOUND = {"error": "Record not found"}
ROUTE_NOT_FOUND = {"error": "Not Found"}
TOO_MANY_REQUESTS = {"error": "Too many requests"}
REPLY_NOT_FOUND = {"error": "The post you are trying to reply to does not appear to exist."}
TEXT_BLANK = {"error": "Validation failed: Text can't be blank"}
BAD_VISIBILITY = {"error": "Validation failed: Visibility is not included in the list"}
_ERROR_TEXTS = {
    401: INVALID_TOKEN["error"],
    403: "This action is not allowed",
    404: RECORD_NOT_FOUND["error"],
    422: "Validation failed",
    429: TOO_MANY_REQUESTS["error"],
    500: "We're sorry, but something went wrong on our end.",
    503: "There was a temporary problem serving your request, please try again",
}

_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")  # a local username
_REMOTE_USERNAME = re.compile(r"^[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_URL = re.compile(r"(?<![A-Za-z0-9@$#＠＃])https?://[^\s<>\"]+", re.IGNORECASE)
_URL_PREFIX = re.compile(r"^https?://(?:www\.)?", re.IGNORECASE)
_URL_TRAILING = ".,:;!?'\"*)]}"
_MENTION = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@(\w+(?:[.-]+\w+)*))?", re.IGNORECASE
)
_HASHTAG = re.compile(r"(?<![=/)\w])#(\w*[^\W\d_]\w*)")
_BR = re.compile(r"([^\n]\n)(?=[^\n])")
_PARAGRAPH = re.compile(r"\n\n+")
_TRUE = frozenset({"1", "true", "t", "on", "yes"})


# -- records ---------------------------------------------------------------------------------


@dataclass
class _Account:
    id: str
    username: str
    domain: str | None  # None: local to this instance
    display_name: str
    created_at: datetime
    followers: int = 0
    following: int = 0
    statuses: int = 0
    last_status_at: datetime | None = None


@dataclass(frozen=True)
class _Brand:
    """A local account whose bearer token the emulator accepts."""

    account_id: str
    username: str
    name: str
    token: str


@dataclass
class _Status:
    id: str
    account_id: str
    content: str
    text: str | None  # the plain-text source (None: added as HTML)
    visibility: str
    created_at: datetime
    language: str | None
    mention_ids: list[str]
    tags: list[str]
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    spoiler_text: str = ""
    sensitive: bool = False
    via_api: bool = False
    replies: int = 0
    favourites: int = 0


@dataclass(frozen=True)
class _Notification:
    id: str
    type: str
    recipient_id: str
    from_id: str
    created_at: datetime
    status_id: str | None = None
    filtered: bool = False


@dataclass(frozen=True)
class _Entity:
    """A link, hashtag or mention in a status text, as Mastodon's extractor finds them."""

    start: int
    end: int
    kind: str  # "url" | "hashtag" | "mention"
    value: str
    domain: str | None = None


@dataclass(frozen=True)
class _Window:
    """One rate-limit window: its bucket key, limit, bounds and requests used."""

    key: tuple[str, str]
    limit: int
    start: float
    end: float
    used: int


@dataclass(frozen=True)
class _Ctx:
    """What an API route needs beyond the request: the acting brand (None: anonymous)."""

    viewer: str | None
    token: str | None
    path: dict[str, str]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class _Problem(Exception):
    """Raised by a route to answer with an error reply."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.reply = Reply(status, body)


MRoute = Callable[[Request, _Ctx], Reply]


# -- text: entities, length, HTML --------------------------------------------------------------


def _h(text: str) -> str:
    """Rails' ``h()``: escape &, <, >, double and single quotes."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _trim_url(candidate: str) -> str:
    """Drop the punctuation a link cannot end with; keep a ")" that closes a "(" in it."""
    url = candidate
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _valid_host(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # e.g. an unclosed "[" read as an IPv6 address
        return False
    return "." in host and not host.endswith(".") and bool(_DOMAIN.match(host))


def _extract_entities(text: str, *, hashtags: bool = True) -> list[_Entity]:
    """Links, hashtags (unless told not to) and mentions in ``text``, in order, overlapping ones
    dropped (a link wins over a ``@name`` inside it), as Mastodon's ``Extractor`` does."""
    found: list[_Entity] = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group(0))
        if _valid_host(url):
            found.append(_Entity(match.start(), match.start() + len(url), "url", url))
    for match in _HASHTAG.finditer(text) if hashtags else ():
        found.append(_Entity(match.start(), match.end(), "hashtag", match.group(1)))
    for match in _MENTION.finditer(text):
        found.append(_Entity(match.start(), match.end(), "mention", match[1], match[2]))
    kept: list[_Entity] = []
    for entity in sorted(found, key=lambda e: e.start):
        if not kept or entity.start >= kept[-1].end:
            kept.append(entity)
    return kept


def status_length(text: str, spoiler_text: str = "") -> int:
    """Length as Mastodon's ``StatusLengthValidator`` counts it (app/validators/
    status_length_validator.rb): the stripped text with each link Mastodon would link as 23
    characters and each mention as ``@user`` without its server, plus the content warning, in
    grapheme clusters. The emulator's own reading: links are found with Mastodon.py's copy of
    twitter-text's URL regex (a scheme and a known top-level domain: an IP address counts in
    full), then extended by Mastodon's own path and query rules (config/initializers/
    twitter_regex.rb); a domain IDNA 2003 refuses (an emoji) is no link. Only http(s) links:
    Mastodon also counts dat://, gemini:// and the like as 23, which this counts in full."""
    text = text.strip(" \t\n\v\f\r\0")
    if not text.strip():
        text = ""
    found = sorted(_countable_links(text) + _countable_mentions(text))
    countable, at = "", 0
    for start, end, stand_in in found:
        if start >= at:  # an entity overlapping the one before is dropped, as Mastodon does
            countable += text[at:start] + stand_in
            at = end
    countable += text[at:]
    return len(_GRAPHEMES.findall(spoiler_text.strip(" \t\n\v\f\r\0") + countable))


_GRAPHEMES = regex.compile(r"\X")
_WORD = r"\p{L}\p{M}\p{Nd}\p{Pc}"  # Ruby's [[:word:]]
_COUNTED_MENTION = regex.compile(  # Account::MENTION_RE
    rf"(?<![=/{_WORD}])@((?i:[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[{_WORD}]+(?:[.-]+[{_WORD}]+)*)?)"
)
_NOT_A_MENTION_AFTER = regex.compile(  # twitter-text's end_mention_match
    "[@\uff20]|://|(?i:[\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259"
    "\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff])"
)
_IRI_CHARS = (  # Mastodon's UCHARS (RFC 3987's ucschar and iprivate)
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    "\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    "\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_PATH_CHAR = r"[^\p{White_Space}<>()?]"
_OLD_PATH_CHAR = (  # twitter-text's own path characters, which Mastodon's ending parens keep
    r"(?i:[a-z\p{Cyrillic}0-9!*';:=+,.$/%#\[\]\p{Pd}_~&|@\xc0-\xd6\xd8-\xf6\xf8-\xff"
    r"\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b"
    r"\u02bb\u0300-\u036f\u1e00-\u1eff])"
)


def _parens(char: str) -> str:
    return rf"\((?:{char}+|(?:{char}*\({char}+\){char}*))\)"


_PATH_END = rf"(?:[^\p{{White_Space}}()?!*\"'「」<>;:=,.$%\[\]~&|@]|{_parens(_OLD_PATH_CHAR)})"
_PATH_SEGMENT = (
    rf"(?:(?:{_PATH_CHAR}*(?:{_parens(_PATH_CHAR)}{_PATH_CHAR}*)*{_PATH_END})|(?:{_PATH_CHAR}+/))"
)
_PATH_AND_QUERY = regex.compile(
    rf"(?:/{_PATH_SEGMENT}*)?"
    rf"(?i:\?[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_IRI_CHARS}]*[a-z0-9_&=#/\-{_IRI_CHARS}])?"
)
_NOT_IN_A_RUBY_DOMAIN = re.compile('[\x00-\x1f\x7f"`]')
_TCO_URL = re.compile(r"https?://t\.co/([a-z0-9]+)", re.IGNORECASE)


def _countable_links(text: str) -> list[tuple[int, int, str]]:
    """(start, end, "x" * 23) for each link Mastodon links in ``text``."""
    links = []
    for match in twitter_text_url.finditer(text) if ":" in text else ():
        start, domain = match.start(3), match.group(5)
        if _NOT_IN_A_RUBY_DOMAIN.search(domain):
            continue  # twitter-text's Ruby gem, unlike its JavaScript, keeps " ` and controls out
        tail = _PATH_AND_QUERY.match(text, match.end(6) if match.group(6) else match.end(5))
        url = text[start : tail.end() if tail else match.end(5)]
        if tco := _TCO_URL.match(url):
            if len(tco.group(1)) > 40:
                continue
            url = tco.group()
        try:
            ascii_domain = domain.encode("idna")
        except UnicodeError:
            continue
        if any(stringprep.in_table_a1(char) for char in domain):
            continue  # unassigned in Unicode 3.2: libidn refuses what Python's codec lets by
        if len(url) + max(0, len(ascii_domain) - len(domain)) <= 4096:
            links.append((start, start + len(url), "x" * URL_LENGTH))
    return links


def _countable_mentions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, "@user") for each mention Mastodon finds in ``text``."""
    return [
        (match.start(), match.end(), "@" + match.group(1).split("@")[0])
        for match in _COUNTED_MENTION.finditer(text)
        if not _NOT_A_MENTION_AFTER.match(text, match.end())
    ]


def _link_html(url: str) -> str:
    """Mastodon's shortened link: the scheme (and www.) hidden, 30 characters shown."""
    prefix_match = _URL_PREFIX.match(url)
    prefix = prefix_match.group(0) if prefix_match else ""
    rest = url[len(prefix) :]
    shown = "ellipsis" if len(rest) > 30 else ""
    return (
        f'<a href="{_h(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{_h(prefix)}</span><span class="{shown}">{_h(rest[:30])}</span>'
        f'<span class="invisible">{_h(rest[30:])}</span></a>'
    )


def _mention_html(url: str, username: str) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{_h(url)}" class="u-url mention">'
        f"@<span>{_h(username)}</span></a></span>"
    )


def _simple_format(html: str) -> str:
    """Rails' ``simple_format`` as Mastodon uses it: a paragraph per blank-line-separated
    block, ``<br />`` for a single newline, and no newlines left."""
    text = html.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [_BR.sub(r"\1<br />", p) for p in _PARAGRAPH.split(text)]
    return "".join(f"<p>{p}</p>" for p in paragraphs).replace("\n", "")


# -- request plumbing --------------------------------------------------------------------------


def _arrays(query: str) -> dict[str, list[str]]:
    """Repeated ``name[]=a&name[]=b`` parameters, which Rails reads as arrays."""
    out: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.endswith("[]"):
            out.setdefault(key, []).append(value)
    return out


def _with_arrays(request: Request, target: str) -> Request:
    query = {**request.query, **_arrays(urlsplit(target).query)}
    body = request.body
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = {**body, **_arrays(request.raw_body.decode("utf-8", errors="replace"))}
    return replace(request, query=query, body=body)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return header[7:].strip() or None


def _iso(moment: datetime) -> str:
    """Mastodon's timestamps: UTC with milliseconds and a Z."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _iso_micro(epoch: float) -> str:
    """rack-attack's reset time: ``Time#iso8601(6)``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _error_text(status: int) -> str:
    """The ``error`` Mastodon (or, for other statuses, the HTTP reason phrase) gives."""
    if status in _ERROR_TEXTS:
        return _ERROR_TEXTS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def _list_param(params: Mapping[str, Any], name: str) -> list[str] | None:
    value = params.get(f"{name}[]", params.get(name))
    if value is None:
        return None
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _id_param(params: Mapping[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        return int(str(raw))
    except ValueError:
        return None


def _limit_param(params: Mapping[str, Any], default: int) -> int:
    """Mastodon's ``limit_param``: absolute value, at most twice the default."""
    raw = _id_param(params, "limit")
    return default if raw is None else min(abs(raw), default * 2)


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


# -- the emulator ------------------------------------------------------------------------------


class MastodonEmulator(EmulatorServer):
    """An in-memory Mastodon instance with brand accounts, served on loopback.

    The constructor's brand is the default; :meth:`add_brand` registers more on the same
    instance, each with its own bearer token. ``filter_private_mentions`` turns on Mastodon
    4.3's default policy for private mentions from strangers (see the module docstring). Brands
    survive :meth:`reset`; everything else (accounts, statuses, notifications, follows,
    idempotency keys, rate windows) does not.

    Events: ``post.added`` (every new status, payload = the status as its author sees it plus
    ``text``) and ``reply.created`` (statuses made through ``POST /api/v1/statuses``, payload =
    that plus ``brand``, ``requested`` and ``idempotency_key``).
    """

    def __init__(
        self,
        *,
        domain: str = "social.example",
        brand_username: str = "skylarkair",
        brand_name: str = "Skylark Air",
        access_token: str = "sandbox-mastodon-token",
        max_characters: int = 500,
        version: str = "4.3.0",
        rate_limits: Mapping[str, tuple[int, float]] | None = None,
        clock: Callable[[], float] = time.time,
        filter_private_mentions: bool = False,
    ) -> None:
        super().__init__()
        self.domain = domain.lower()
        self.max_characters = max_characters
        self.version = version
        self.filter_private_mentions = filter_private_mentions
        self._limits = dict(rate_limits or {})
        self._clock = clock
        self._brands: dict[str, _Brand] = {}
        self._routes = self._route_table()
        self._reset_state()
        self._default_brand = self._register_brand(brand_username, brand_name, token=access_token)

    def _reset_state(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._statuses: dict[str, _Status] = {}
        self._notifications: list[_Notification] = []
        self._follows: set[tuple[str, str]] = set()
        self._replies: list[dict[str, Any]] = []
        self._idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._next_status = FIRST_STATUS_ID
        self._next_notification = FIRST_NOTIFICATION_ID
        self._next_account = FIRST_ACCOUNT_ID
        for brand in self._brands.values():
            self._new_account(brand.username, None, name=brand.name, account_id=brand.account_id)

    def _route_table(self) -> list[tuple[str, re.Pattern[str], str, str, MRoute]]:
        sid = r"(?P<id>[^/]+)"
        table: list[tuple[str, str, str, str, MRoute]] = [
            ("GET", r"/api/v1/instance", INSTANCE_V1, "none", self._instance_v1),
            ("GET", r"/api/v2/instance", INSTANCE_V2, "none", self._instance_v2),
            (
                "GET",
                r"/api/v1/accounts/verify_credentials",
                VERIFY_CREDENTIALS,
                "required",
                self._me,
            ),
            ("GET", r"/api/v1/notifications", NOTIFICATIONS, "required", self._notifications_page),
            ("GET", rf"/api/v1/statuses/{sid}/context", STATUS_CONTEXT, "optional", self._context),
            ("GET", rf"/api/v1/statuses/{sid}", GET_STATUS, "optional", self._get_status),
            ("POST", r"/api/v1/statuses", POST_STATUS, "required", self._post_status),
            ("POST", r"/_sandbox/statuses", CONTROL_STATUS, "control", self._control_status),
        ]
        return [(m, re.compile(f"^{p}/?$"), name, auth, fn) for m, p, name, auth, fn in table]

    # -- lifecycle ----------------------------------------------------------------------------

    def _prepare(self, request: Request) -> Request:
        """Read ``types[]=a&types[]=b`` as Rails does: a list under ``types[]``."""
        return _with_arrays(request, request.target)

    # -- routing, auth, rate limits --------------------------------------------------------

    def _resolve(self, request: Request) -> tuple[str, Route]:
        for method, pattern, endpoint, auth, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return endpoint, self._wrap(endpoint, handler, auth=auth, path=match.groupdict())
        return f"{request.method} {request.path}", lambda _r: Reply(404, ROUTE_NOT_FOUND)

    def _wrap(self, endpoint: str, handler: MRoute, *, auth: str, path: dict[str, str]) -> Route:
        def route(request: Request) -> Reply:
            token = _bearer(request)
            with self._changing() as events:
                headers: dict[str, str] = {}
                if auth != "control":
                    headers, exhausted = self._consume(endpoint, token)
                    if exhausted:
                        return Reply(429, TOO_MANY_REQUESTS, headers)
                viewer = self._brand_account(token)
                if self._refused(auth, token=token, viewer=viewer):
                    return Reply(401, INVALID_TOKEN, headers)
                ctx = _Ctx(viewer=viewer if auth != "none" else None, token=token, path=path)
                try:
                    reply = handler(request, ctx)
                except _Problem as problem:
                    reply = problem.reply
                events.extend(ctx.events)
                return Reply(reply.status, reply.body, {**headers, **reply.headers})

        return route

    @staticmethod
    def _refused(auth: str, *, token: str | None, viewer: str | None) -> bool:
        """Doorkeeper: a token that is not valid is refused wherever one is read; endpoints
        that need a user refuse a missing one too. The instance endpoints ignore tokens."""
        if auth in {"none", "control"}:
            return False
        return viewer is None and (token is not None or auth == "required")

    def _limit(self, endpoint: str) -> tuple[str, tuple[int, float]]:
        """The rate bucket an endpoint counts against, and its (limit, period)."""
        if endpoint in self._limits:
            return endpoint, self._limits[endpoint]
        if endpoint == POST_STATUS:
            return endpoint, STATUS_RATE_LIMIT
        return "*", self._limits.get("*", DEFAULT_RATE_LIMIT)

    def _window(self, endpoint: str, token: str | None) -> _Window:
        """The current window of the endpoint's bucket for this token (fixed windows aligned
        to multiples of the period, like rack-attack's)."""
        bucket, (limit, period) = self._limit(endpoint)
        now = self._clock()
        start = now - now % period
        key = (bucket, token or "anonymous")
        window_start, used = self._windows.get(key, (start, 0))
        return _Window(key, limit, start, start + period, used if window_start == start else 0)

    def _consume(self, endpoint: str, token: str | None) -> tuple[dict[str, str], bool]:
        """Count one request; the headers to send and whether the window was already full."""
        window = self._window(endpoint, token)
        exhausted = window.used >= window.limit
        used = window.used if exhausted else window.used + 1
        self._windows[window.key] = (window.start, used)
        headers = self._rate_headers(window.limit, window.limit - used, reset=window.end)
        return headers, exhausted

    @staticmethod
    def _rate_headers(limit: int, remaining: int, *, reset: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, remaining)),
            "X-RateLimit-Reset": _iso_micro(reset),
        }

    def _fault_reply(self, fault: Fault, request: Request, endpoint: str) -> Reply:
        with self._cond:
            window = self._window(endpoint, _bearer(request))
            if fault.status == 429:
                late = self._clock() + fault.retry_after if fault.retry_after else window.end
                headers = self._rate_headers(window.limit, 0, reset=late)
            else:
                remaining = window.limit - window.used
                headers = self._rate_headers(window.limit, remaining, reset=window.end)
        return Reply(fault.status, {"error": _error_text(fault.status)}, headers)

    # -- brands --------------------------------------------------------------------------------

    def _register_brand(self, username: str, name: str, *, token: str) -> str:
        username = username.lstrip("@")
        if not _USERNAME.match(username):
            raise ValueError(f"not a Mastodon username: {username!r}")
        if not token:
            raise ValueError("a brand needs a non-empty access token")
        with self._changing():
            for brand in self._brands.values():
                if brand.username.lower() == username.lower() or brand.token == token:
                    raise ValueError(f"@{username} clashes with brand @{brand.username}")
            if self._find_account(username, None) is not None:
                raise ValueError(f"@{username} is already a (non-brand) account")
            account_id = self._new_account(username, None, name=name)
            self._brands[token] = _Brand(account_id, username, name, token)
            return account_id

    def add_brand(self, *, username: str, name: str, access_token: str) -> str:
        """Register another brand on this instance; its bearer token acts as it. Returns its
        account id. Raises ``ValueError`` on a clash of username or token."""
        return self._register_brand(username, name, token=access_token)

    @property
    def brand_id(self) -> str:
        """The default brand's account id."""
        return self._default_brand

    @property
    def brand_username(self) -> str:
        return self._brand_by_account(self._default_brand).username

    @property
    def access_token(self) -> str:
        """The default brand's bearer token."""
        return self._brand_by_account(self._default_brand).token

    def brands(self) -> list[dict[str, str]]:
        """The brands, default first: ``id``, ``username``, ``name`` and ``access_token``."""
        with self._cond:
            return [
                {
                    "id": b.account_id,
                    "username": b.username,
                    "name": b.name,
                    "access_token": b.token,
                }
                for b in self._brands.values()
            ]

    def _brand_account(self, token: str | None) -> str | None:
        with self._cond:
            brand = self._brands.get(token) if token else None
            return brand.account_id if brand else None

    def _brand_by_account(self, account_id: str) -> _Brand:
        with self._cond:
            return next(b for b in self._brands.values() if b.account_id == account_id)

    def _is_brand(self, account_id: str) -> bool:
        return any(b.account_id == account_id for b in self._brands.values())

    # -- accounts ------------------------------------------------------------------------------

    def add_user(self, acct: str, *, name: str = "", followers: int = 0) -> str:
        """Create an account (idempotent by acct, case-insensitive) and return its id.

        ``acct`` is ``username`` for a local account, ``username@other.domain`` for a remote one
        (``username@<this domain>`` is local).
        """
        with self._changing():
            username, domain = self._split_acct(acct)
            existing = self._find_account(username, domain)
            if existing is not None:
                return existing
            account_id = self._new_account(username, domain, name=name)
            self._accounts[account_id].followers = followers
            return account_id

    def _split_acct(self, acct: str) -> tuple[str, str | None]:
        username, _, domain = acct.strip().lstrip("@").partition("@")
        domain = domain.lower()
        local = not domain or domain == self.domain
        pattern = _USERNAME if local else _REMOTE_USERNAME
        if not pattern.match(username) or (domain and not _DOMAIN.match(domain)):
            raise ValueError(f"not a Mastodon acct: {acct!r}")
        return username, None if local else domain

    def _find_account(self, username: str, domain: str | None) -> str | None:
        for account in self._accounts.values():
            if account.username.lower() == username.lower() and account.domain == domain:
                return account.id
        return None

    def _new_account(
        self, username: str, domain: str | None, *, name: str, account_id: str | None = None
    ) -> str:
        if account_id is None:
            account_id = str(self._next_account)
        self._next_account = max(self._next_account, int(account_id) + 1)
        moment = datetime.fromtimestamp(self._clock(), UTC)
        self._accounts[account_id] = _Account(account_id, username, domain, name, moment)
        return account_id

    def _account_ref(self, ref: str, *, create: bool = False) -> str:
        """An account id from an id or an acct; unknown accts are created when asked to."""
        if ref in self._accounts:
            return ref
        if ref.isdigit() and len(ref) >= 15:
            raise ValueError(f"unknown account id: {ref!r}")
        username, domain = self._split_acct(ref)
        found = self._find_account(username, domain)
        if found is not None:
            return found
        if not create:
            raise ValueError(f"unknown account: {ref!r}")
        return self._new_account(username, domain, name="")

    def account(self, ref: str) -> dict[str, Any] | None:
        """An account as the API renders it, by id or acct, or None."""
        with self._cond:
            try:
                return self._account_json(self._account_ref(ref))
            except ValueError:
                return None

    def _acct(self, account: _Account) -> str:
        return (
            account.username if account.domain is None else f"{account.username}@{account.domain}"
        )

    def _profile_url(self, account: _Account) -> str:
        return f"https://{account.domain or self.domain}/@{account.username}"

    def add_follow(self, author: str, *, target: str | None = None) -> None:
        """``author`` follows ``target`` (default: the default brand; unknown accts are
        created). A followed brand gets a ``follow`` notification; a brand that follows an
        account sees its followers-only posts and gets its private mentions unfiltered."""
        with self._changing():
            follower = self._account_ref(author, create=True)
            followed = self._account_ref(target, create=True) if target else self._default_brand
            if (follower, followed) in self._follows or follower == followed:
                return
            self._follows.add((follower, followed))
            self._accounts[follower].following += 1
            self._accounts[followed].followers += 1
            if self._is_brand(followed):
                self._notify("follow", recipient=followed, sender=follower)

    # -- statuses -------------------------------------------------------------------------------

    def add_status(
        self,
        author: str,
        text: str,
        *,
        visibility: str = "public",
        in_reply_to: str | None = None,
        language: str | None = "en",
        created_at: datetime | None = None,
        spoiler_text: str = "",
    ) -> str:
        """Post ``text`` as ``author`` (acct or id; created if unknown) and return the id.

        Like Mastodon's web UI, a reply starts with ``@`` for the parent's author and the
        accounts it mentioned (but the author) unless the text already mentions them, so a
        reply to a brand's post is a mention of the brand.
        """
        self._check_visibility(visibility)
        with self._changing() as events:
            author_id = self._account_ref(author, create=True)
            parent = self._parent(in_reply_to)
            if parent is not None:
                text = self._addressed(text, author_id, parent=parent)
            status = self._create_from_text(
                author_id,
                text.strip(),
                visibility=visibility,
                parent=parent,
                language=language,
                created_at=created_at,
                spoiler_text=spoiler_text,
            )
            events.append(("post.added", self._event_payload(status)))
            return status.id

    def add_status_html(
        self,
        author: str,
        html: str,
        *,
        visibility: str = "public",
        mentions: Sequence[str] = (),
        in_reply_to: str | None = None,
        language: str | None = "en",
        created_at: datetime | None = None,
    ) -> str:
        """Add a status whose ``content`` is ``html`` verbatim (hostile or odd markup, as a
        remote server may send), mentioning ``mentions`` (accts or ids). Returns its id."""
        self._check_visibility(visibility)
        with self._changing() as events:
            author_id = self._account_ref(author, create=True)
            mention_ids = list(dict.fromkeys(self._account_ref(m, create=True) for m in mentions))
            status = self._insert(
                author_id,
                content=html,
                text=None,
                visibility=visibility,
                mention_ids=mention_ids,
                tags=[],
                parent=self._parent(in_reply_to),
                language=language,
                created_at=created_at,
            )
            events.append(("post.added", self._event_payload(status)))
            return status.id

    def add_favourite(self, author: str, status_id: str) -> None:
        """``author`` favourites a status; a brand's status earns it a ``favourite``
        notification."""
        with self._changing():
            sender = self._account_ref(author, create=True)
            status = self._statuses.get(status_id)
            if status is None:
                raise ValueError(f"unknown status id: {status_id!r}")
            status.favourites += 1
            if self._is_brand(status.account_id):
                self._notify("favourite", recipient=status.account_id, sender=sender, status=status)

    @staticmethod
    def _check_visibility(visibility: str) -> None:
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, not {visibility!r}")

    def _parent(self, status_id: str | None) -> _Status | None:
        if status_id is None:
            return None
        if status_id not in self._statuses:
            raise ValueError(f"unknown status id: {status_id!r}")
        return self._statuses[status_id]

    def _addressed(self, text: str, author_id: str, *, parent: _Status) -> str:
        """``text`` with the @-prefix Mastodon's compose box puts on a reply."""
        author = self._accounts[author_id]
        mentioned = self._mentioned_ids(text, author)
        prefix = []
        for account_id in dict.fromkeys([parent.account_id, *parent.mention_ids]):
            if account_id != author_id and account_id not in mentioned:
                prefix.append("@" + self._acct_from(author, self._accounts[account_id]))
        return " ".join([*prefix, text]) if prefix else text

    def _acct_from(self, viewer: _Account, account: _Account) -> str:
        """How ``viewer``'s server writes ``account``: bare username when both are local to it."""
        home = account.domain or self.domain
        return (
            account.username
            if home == (viewer.domain or self.domain)
            else (f"{account.username}@{home}")
        )

    def _mentioned_ids(self, text: str, author: _Account) -> list[str]:
        ids = []
        for entity in _extract_entities(text):
            if entity.kind == "mention":
                found = self._mention_target(entity, author)
                if found is not None:
                    ids.append(found)
        return list(dict.fromkeys(ids))

    def _mention_target(self, entity: _Entity, author: _Account) -> str | None:
        """The account an ``@user`` or ``@user@domain`` names. A bare ``@user`` is an account
        on the author's server, or failing that (a remote author naming a brand) on this one."""
        if entity.domain is not None:
            domain = entity.domain.lower()
            return self._find_account(entity.value, None if domain == self.domain else domain)
        found = self._find_account(entity.value, author.domain) if author.domain else None
        return found or self._find_account(entity.value, None)

    def _create_from_text(
        self,
        author_id: str,
        text: str,
        *,
        visibility: str,
        parent: _Status | None,
        language: str | None,
        created_at: datetime | None = None,
        spoiler_text: str = "",
        sensitive: bool = False,
        via_api: bool = False,
    ) -> _Status:
        content, mention_ids, tags = self._format(text, self._accounts[author_id])
        return self._insert(
            author_id,
            content=content,
            text=text,
            visibility=visibility,
            mention_ids=mention_ids,
            tags=tags,
            parent=parent,
            language=language,
            created_at=created_at,
            spoiler_text=spoiler_text.strip(),
            sensitive=sensitive,
            via_api=via_api,
        )

    def _format(self, text: str, author: _Account) -> tuple[str, list[str], list[str]]:
        """Mastodon's ``TextFormatter``: escaped text, links, hashtags and known mentions as
        HTML, in paragraphs; plus the mentioned account ids and the hashtags."""
        pieces: list[str] = []
        mention_ids: list[str] = []
        tags: list[str] = []
        last = 0
        for entity in _extract_entities(text):
            pieces.append(_h(text[last : entity.start]))
            html = self._entity_html(
                entity, text, author=author, mention_ids=mention_ids, tags=tags
            )
            pieces.append(html)
            last = entity.end
        pieces.append(_h(text[last:]))
        return _simple_format("".join(pieces)), list(dict.fromkeys(mention_ids)), tags

    def _entity_html(
        self,
        entity: _Entity,
        text: str,
        *,
        author: _Account,
        mention_ids: list[str],
        tags: list[str],
    ) -> str:
        if entity.kind == "url":
            return _link_html(entity.value)
        if entity.kind == "hashtag":
            if entity.value.lower() not in tags:
                tags.append(entity.value.lower())
            url = _h(f"https://{self.domain}/tags/{entity.value}")
            tag = _h(entity.value)
            return f'<a href="{url}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>'
        target = self._mention_target(entity, author)
        if target is None:
            return _h(text[entity.start : entity.end])
        mention_ids.append(target)
        account = self._accounts[target]
        return _mention_html(self._profile_url(account), account.username)

    def _insert(
        self,
        author_id: str,
        *,
        content: str,
        text: str | None,
        visibility: str,
        mention_ids: list[str],
        tags: list[str],
        parent: _Status | None,
        language: str | None,
        created_at: datetime | None,
        spoiler_text: str = "",
        sensitive: bool = False,
        via_api: bool = False,
    ) -> _Status:
        """Store a status, count it and notify the brands it mentions."""
        moment = created_at or datetime.fromtimestamp(self._clock(), UTC)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        status = _Status(
            id=str(self._next_status),
            account_id=author_id,
            content=content,
            text=text,
            visibility=visibility,
            created_at=moment,
            language=language,
            mention_ids=mention_ids,
            tags=tags,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            spoiler_text=spoiler_text,
            sensitive=sensitive or bool(spoiler_text),
            via_api=via_api,
        )
        self._next_status += 1
        self._statuses[status.id] = status
        self._count_and_notify(status, parent)
        return status

    def _count_and_notify(self, status: _Status, parent: _Status | None) -> None:
        """A new status counts for its author and parent; each brand it mentions is told."""
        if parent is not None:
            parent.replies += 1
        author = self._accounts[status.account_id]
        author.statuses += 1
        author.last_status_at = status.created_at
        for account_id in status.mention_ids:
            if account_id != author.id and self._is_brand(account_id):
                self._notify("mention", recipient=account_id, sender=author.id, status=status)

    # -- visibility and notifications -----------------------------------------------------------

    def _visible(self, status: _Status, viewer: str | None) -> bool:
        """Who may see a status: everyone (public, unlisted); the author, the mentioned and,
        for followers-only, the author's followers."""
        if status.visibility in {"public", "unlisted"}:
            return True
        if viewer is None:
            return False
        if viewer == status.account_id or viewer in status.mention_ids:
            return True
        return status.visibility == "private" and (viewer, status.account_id) in self._follows

    def _notify(
        self, kind: str, *, recipient: str, sender: str, status: _Status | None = None
    ) -> None:
        filtered = kind == "mention" and status is not None and self._filtered(recipient, status)
        self._notifications.append(
            _Notification(
                id=str(self._next_notification),
                type=kind,
                recipient_id=recipient,
                from_id=sender,
                created_at=datetime.fromtimestamp(self._clock(), UTC),
                status_id=status.id if status else None,
                filtered=filtered,
            )
        )
        self._next_notification += 1

    def _filtered(self, recipient: str, status: _Status) -> bool:
        """Mastodon's default notification policy: a private mention from an account the
        recipient does not follow is filtered, unless it answers (up the thread) a private
        mention of the sender by the recipient."""
        sender = status.account_id
        if not self.filter_private_mentions or status.visibility != "direct":
            return False
        if (recipient, sender) in self._follows:
            return False
        return not any(
            s.account_id == recipient and s.visibility == "direct" and sender in s.mention_ids
            for s in self._ancestors(status, limit=100)
        )

    def _ancestors(self, status: _Status, *, limit: int = 4096) -> list[_Status]:
        """The thread above a status, root first."""
        chain: list[_Status] = []
        seen = {status.id}
        parent_id = status.in_reply_to_id
        while parent_id in self._statuses and parent_id not in seen and len(chain) < limit:
            parent = self._statuses[parent_id]
            chain.append(parent)
            seen.add(parent_id)
            parent_id = parent.in_reply_to_id
        return chain[::-1]

    def _descendants(self, status: _Status) -> Iterator[_Status]:
        """Replies below a status, depth first, each level oldest first (thread order)."""
        children = sorted(
            (s for s in self._statuses.values() if s.in_reply_to_id == status.id),
            key=lambda s: int(s.id),
        )
        for child in children:
            yield child
            yield from self._descendants(child)

    def notifications(self, *, brand: str | None = None) -> list[dict[str, Any]]:
        """Every notification (filtered ones too, marked ``filtered``), newest first, of one
        brand (username or id) or of all."""
        with self._cond:
            recipient = self._account_ref(brand) if brand else None
            return [
                {**self._notification_json(n), "filtered": n.filtered, "brand": n.recipient_id}
                for n in reversed(self._notifications)
                if recipient in (None, n.recipient_id)
            ]

    # -- inspection -----------------------------------------------------------------------------

    def statuses(self, *, author: str | None = None) -> list[dict[str, Any]]:
        """Every status, oldest first, as its author sees it plus its plain ``text`` (None for
        HTML ones); optionally only one author's (acct or id)."""
        with self._cond:
            try:
                author_id = self._account_ref(author) if author else None
            except ValueError:
                return []
            return [
                self._event_payload(s)
                for s in self._statuses.values()
                if author_id in (None, s.account_id)
            ]

    def replies(self, *, brand: str | None = None) -> list[dict[str, Any]]:
        """Statuses created through ``POST /api/v1/statuses``, oldest first, each with the
        posting ``brand`` (username), the ``requested`` parameters and the ``idempotency_key``
        header (or None); optionally only one brand's (username or id)."""
        with self._cond:
            try:
                brand_id = self._account_ref(brand) if brand else None
            except ValueError:
                return []
            return [
                {**self._event_payload(self._statuses[r["id"]]), **copy.deepcopy(r)}
                for r in self._replies
                if brand_id in (None, self._statuses[r["id"]].account_id)
            ]

    def _event_payload(self, status: _Status) -> dict[str, Any]:
        return {**self._status_json(status, status.account_id), "text": status.text}

    # -- rendering ------------------------------------------------------------------------------

    def _account_json(self, account_id: str) -> dict[str, Any]:
        account = self._accounts[account_id]
        home = f"https://{account.domain or self.domain}"
        return {
            "id": account.id,
            "username": account.username,
            "acct": self._acct(account),
            "display_name": account.display_name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "indexable": True,
            "group": False,
            "created_at": _iso(
                account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
            ),
            "note": "",
            "url": self._profile_url(account),
            "uri": f"{home}/users/{account.username}",
            "avatar": f"https://{self.domain}/avatars/original/missing.png",
            "avatar_static": f"https://{self.domain}/avatars/original/missing.png",
            "header": f"https://{self.domain}/headers/original/missing.png",
            "header_static": f"https://{self.domain}/headers/original/missing.png",
            "followers_count": account.followers,
            "following_count": account.following,
            "statuses_count": account.statuses,
            "last_status_at": account.last_status_at.strftime("%Y-%m-%d")
            if account.last_status_at
            else None,
            "hide_collections": False,
            "noindex": False,
            "emojis": [],
            "roles": [],
            "fields": [],
        }

    def _mention_json(self, account_id: str) -> dict[str, str]:
        account = self._accounts[account_id]
        return {
            "id": account.id,
            "username": account.username,
            "url": self._profile_url(account),
            "acct": self._acct(account),
        }

    def _status_json(self, status: _Status, viewer: str | None) -> dict[str, Any]:
        author = self._accounts[status.account_id]
        home = f"https://{author.domain or self.domain}"
        body: dict[str, Any] = {
            "id": status.id,
            "created_at": _iso(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{home}/users/{author.username}/statuses/{status.id}",
            "url": f"{home}/@{author.username}/{status.id}",
            "replies_count": status.replies,
            "reblogs_count": 0,
            "favourites_count": status.favourites,
            "edited_at": None,
            "content": status.content,
            "reblog": None,
            "account": self._account_json(status.account_id),
            "media_attachments": [],
            "mentions": [self._mention_json(m) for m in status.mention_ids],
            "tags": [{"name": t, "url": f"https://{self.domain}/tags/{t}"} for t in status.tags],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if status.via_api:
            body["application"] = dict(APPLICATION)
        if viewer is not None:
            body.update(favourited=False, reblogged=False, muted=False, bookmarked=False)
            body["filtered"] = []
            if viewer == status.account_id:
                body["pinned"] = False
        return body

    def _notification_json(self, note: _Notification) -> dict[str, Any]:
        hour = int(note.created_at.timestamp()) // 3600
        group = {
            "mention": f"ungrouped-{note.id}",
            "favourite": f"favourite-{note.status_id}-{hour}",
            "follow": f"follow-{hour}",
        }[note.type]
        body: dict[str, Any] = {
            "id": note.id,
            "type": note.type,
            "created_at": _iso(note.created_at),
            "group_key": group,
            "account": self._account_json(note.from_id),
        }
        if note.status_id is not None:
            body["status"] = self._status_json(self._statuses[note.status_id], note.recipient_id)
        return body

    # -- API routes: instance and account ---------------------------------------------------------

    @staticmethod
    def _host(request: Request) -> str:
        """The host the client addressed (Rails builds its URLs from it)."""
        return request.headers.get("host") or LOOPBACK

    def _status_config(self) -> dict[str, int]:
        return {
            "max_characters": self.max_characters,
            "max_media_attachments": 4,
            "characters_reserved_per_url": URL_LENGTH,
        }

    def _contact_account(self) -> dict[str, Any]:
        return self._account_json(self._default_brand)

    def _instance_v1(self, request: Request, ctx: _Ctx) -> Reply:
        local = [a for a in self._accounts.values() if a.domain is None]
        domains = {a.domain for a in self._accounts.values() if a.domain is not None}
        return Reply(
            200,
            {
                "uri": self.domain,
                "title": f"{self.domain} (sandbox)",
                "short_description": "An Earshot sandbox instance.",
                "description": "",
                "email": f"admin@{self.domain}",
                "version": self.version,
                "urls": {"streaming_api": f"ws://{self._host(request)}"},
                "stats": {
                    "user_count": len(local),
                    "status_count": sum(a.statuses for a in local),
                    "domain_count": len(domains),
                },
                "thumbnail": f"https://{self.domain}/packs/media/images/preview.png",
                "languages": ["en"],
                "registrations": False,
                "approval_required": False,
                "invites_enabled": False,
                "configuration": {
                    "accounts": {"max_featured_tags": 10},
                    "statuses": self._status_config(),
                    "polls": {"max_options": 4, "max_characters_per_option": 50},
                },
                "contact_account": self._contact_account(),
                "rules": [],
            },
        )

    def _instance_v2(self, request: Request, ctx: _Ctx) -> Reply:
        body: dict[str, Any] = {
            "domain": self.domain,
            "title": f"{self.domain} (sandbox)",
            "version": self.version,
            "source_url": f"https://{self.domain}/source",
            "description": "An Earshot sandbox instance.",
            "usage": {
                "users": {"active_month": sum(a.domain is None for a in self._accounts.values())}
            },
            "thumbnail": {"url": f"https://{self.domain}/packs/media/images/preview.png"},
            "icon": [],
            "languages": ["en"],
            "configuration": {
                "urls": {"streaming": f"ws://{self._host(request)}", "status": None},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": self._status_config(),
                "media_attachments": {"supported_mime_types": [], "description_limit": 1500},
                "polls": {"max_options": 4, "max_characters_per_option": 50},
                "translation": {"enabled": False},
            },
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "contact": {"email": f"admin@{self.domain}", "account": self._contact_account()},
            "rules": [],
        }
        if _version_tuple(self.version) >= (4, 3):
            body["api_versions"] = {"mastodon": 2}
        return Reply(200, body)

    def _me(self, request: Request, ctx: _Ctx) -> Reply:
        assert ctx.viewer is not None
        body = self._account_json(ctx.viewer)
        body["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": "en",
            "note": "",
            "fields": [],
            "follow_requests_count": 0,
        }
        body["role"] = {
            "id": "-99",
            "name": "",
            "permissions": "0",
            "color": "",
            "highlighted": False,
        }
        return Reply(200, body)

    # -- API routes: notifications ----------------------------------------------------------------

    def _notifications_page(self, request: Request, ctx: _Ctx) -> Reply:
        params = request.params
        rows = self._browsable(ctx.viewer, params)
        page = self._paginate(rows, params, limit=_limit_param(params, NOTIFICATIONS_LIMIT))
        headers = self._link_header(request, page) if page else {}
        return Reply(200, [self._notification_json(n) for n in page], headers)

    def _browsable(self, viewer: str | None, params: Mapping[str, Any]) -> list[_Notification]:
        """The viewer's unfiltered notifications, after ``types``, ``exclude_types`` and
        ``account_id``; oldest first."""
        types = _list_param(params, "types")
        excluded = set(_list_param(params, "exclude_types") or [])
        include_filtered = _truthy(params.get("include_filtered", ""))
        sender = params.get("account_id")
        return [
            n
            for n in self._notifications
            if n.recipient_id == viewer
            and (include_filtered or not n.filtered)
            and (types is None or n.type in types)
            and n.type not in excluded
            and (sender is None or n.from_id == str(sender))
        ]

    @staticmethod
    def _paginate(
        rows: list[_Notification], params: Mapping[str, Any], *, limit: int
    ) -> list[_Notification]:
        """Mastodon's ``to_a_paginated_by_id``: with ``min_id``, the ``limit`` items right
        above it; otherwise the newest ``limit`` items below ``max_id`` and above ``since_id``.
        Newest first either way."""
        max_id = _id_param(params, "max_id")
        min_id = _id_param(params, "min_id")
        since_id = _id_param(params, "since_id")
        below = [n for n in rows if max_id is None or int(n.id) < max_id]
        if min_id is not None:
            return [n for n in below if int(n.id) > min_id][:limit][::-1]
        return [n for n in below if since_id is None or int(n.id) > since_id][::-1][:limit]

    def _link_header(self, request: Request, page: list[_Notification]) -> dict[str, str]:
        """``Link`` with ``next`` (older: ``max_id`` = oldest here) and ``prev`` (newer:
        ``min_id`` = newest here), keeping ``limit``, ``types[]``, ``exclude_types[]``..."""
        kept: list[tuple[str, str]] = []
        for name in ("limit", "account_id", "include_filtered"):
            if request.params.get(name) is not None:
                kept.append((name, str(request.params[name])))
        for name in ("types[]", "exclude_types[]"):
            kept += [(name, v) for v in _list_param(request.params, name[:-2]) or []]
        base = f"http://{self._host(request)}/api/v1/notifications"
        older = urlencode([*kept, ("max_id", page[-1].id)])
        newer = urlencode([*kept, ("min_id", page[0].id)])
        return {"Link": f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'}

    # -- API routes: statuses ---------------------------------------------------------------------

    def _visible_status(self, status_id: str, viewer: str | None) -> _Status:
        status = self._statuses.get(status_id)
        if status is None or not self._visible(status, viewer):
            raise _Problem(404, RECORD_NOT_FOUND)
        return status

    def _get_status(self, request: Request, ctx: _Ctx) -> Reply:
        status = self._visible_status(ctx.path["id"], ctx.viewer)
        return Reply(200, self._status_json(status, ctx.viewer))

    def _context(self, request: Request, ctx: _Ctx) -> Reply:
        status = self._visible_status(ctx.path["id"], ctx.viewer)
        ancestors = [s for s in self._ancestors(status) if self._visible(s, ctx.viewer)]
        descendants = [s for s in self._descendants(status) if self._visible(s, ctx.viewer)]
        return Reply(
            200,
            {
                "ancestors": [self._status_json(s, ctx.viewer) for s in ancestors],
                "descendants": [self._status_json(s, ctx.viewer) for s in descendants],
            },
        )

    def _post_status(self, request: Request, ctx: _Ctx) -> Reply:
        """Post as the token's brand: the thread check (404), then the idempotency key (the
        earlier status, 200), then validation (422), then the status (200)."""
        assert ctx.viewer is not None
        params = request.params
        parent = self._reply_target(params.get("in_reply_to_id"), ctx.viewer)
        key = request.headers.get("idempotency-key") or None
        if key is not None and (earlier := self._idempotent(ctx.viewer, key)) is not None:
            return Reply(200, self._status_json(earlier, ctx.viewer))
        text = str(params.get("status") or "").strip()
        spoiler = str(params.get("spoiler_text") or "")
        visibility = str(params.get("visibility") or "public")
        self._validate(text, spoiler, visibility=visibility)
        status = self._create_from_text(
            ctx.viewer,
            text,
            visibility=visibility,
            parent=parent,
            language=str(params.get("language") or "en"),
            spoiler_text=spoiler,
            sensitive=_truthy(params.get("sensitive", "")),
            via_api=True,
        )
        if key is not None:
            self._idempotency[(ctx.viewer, key)] = (status.id, self._clock())
        self._record_reply(status, request, key=key, ctx=ctx)
        return Reply(200, self._status_json(status, ctx.viewer))

    def _reply_target(self, parent_id: Any, viewer: str) -> _Status | None:
        if parent_id is None or str(parent_id).strip() == "":
            return None
        parent = self._statuses.get(str(parent_id))
        if parent is None or not self._visible(parent, viewer):
            raise _Problem(404, REPLY_NOT_FOUND)
        return parent

    def _idempotent(self, account_id: str, key: str) -> _Status | None:
        stored = self._idempotency.get((account_id, key))
        if stored is None or self._clock() - stored[1] >= IDEMPOTENCY_SECONDS:
            return None
        return self._statuses.get(stored[0])

    def _validate(self, text: str, spoiler: str, *, visibility: str) -> None:
        if visibility not in VISIBILITIES:
            raise _Problem(422, BAD_VISIBILITY)
        if not text:
            raise _Problem(422, TEXT_BLANK)
        if status_length(text, spoiler) > self.max_characters:
            message = f"Validation failed: Text character limit of {self.max_characters} exceeded"
            raise _Problem(422, {"error": message})

    def _record_reply(
        self, status: _Status, request: Request, *, key: str | None, ctx: _Ctx
    ) -> None:
        record = {
            "id": status.id,
            "brand": self._accounts[status.account_id].username,
            "requested": copy.deepcopy(request.params),
            "idempotency_key": key,
        }
        self._replies.append(record)
        payload = self._event_payload(status)
        ctx.events.append(("post.added", copy.deepcopy(payload)))
        ctx.events.append(("reply.created", {**payload, **copy.deepcopy(record)}))

    # -- control endpoint (not part of Mastodon) ------------------------------------------------

    def _control_status(self, request: Request, ctx: _Ctx) -> Reply:
        """Add a status: ``author`` and ``text`` (required), ``visibility``, ``in_reply_to``,
        ``language``. Answers 201 ``{"id": ...}``."""
        body = request.body
        author, text = body.get("author"), body.get("text")
        if not isinstance(author, str) or not isinstance(text, str) or not text.strip():
            raise _Problem(422, {"error": "`author` and `text` are required"})
        try:
            status_id = self.add_status(
                author,
                text,
                visibility=str(body.get("visibility") or "public"),
                in_reply_to=str(body["in_reply_to"]) if body.get("in_reply_to") else None,
                language=str(body.get("language") or "en"),
            )
        except ValueError as exc:
            raise _Problem(422, {"error": str(exc)}) from None
        return Reply(201, {"id": status_id})
