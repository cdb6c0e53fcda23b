"""Mastodon through Mastodon.py: the brand account's mention notifications in, replies out.

Reading mentions is free on Mastodon. The cursor is the last notification id read; each poll
asks for the notifications just above it (``min_id``), oldest page first, so a busy hour is read
in full and nothing in between is skipped. Content arrives as HTML and is turned into plain text
here (never rendered). A reply goes to the customer's post with ``in_reply_to_id``, starts with
their @address (else Mastodon does not tell them), and is never more visible than the post it
answers: a direct message or a followers-only post is answered by direct message. Post ids are
per instance, so a mention's native id is ``<status id>@<instance host>``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from bot.clock import Clock
from bot.decide import voice
from bot.decide.voice import Medium
from bot.models import Author, Mention, MentionKind, Posted
from bot.sources import Fetch, Outgoing, PublishError
from bot.sources.fields import count, mapping, moment, storable
from bot.sources.poller import Failure, Poller, Read, Trouble

log = logging.getLogger(__name__)

PAGE = 40  # Mastodon's default page of notifications (it allows up to 80)
MAX_PAGES = 10  # per poll; the rest follows on the next poll, from the cursor
DEFAULT_LIMIT = 500
_REPLY_VISIBILITY = {"public": "public", "unlisted": "unlisted"}  # anything else: direct


def make_mastodon_client(
    *, api_base_url: str, access_token: str, timeout: float = 10.0
) -> Mastodon:
    """A client that never sleeps on a rate limit (it raises, and the poller waits instead) and
    makes no call until asked."""
    return Mastodon(
        access_token=access_token,
        api_base_url=api_base_url,
        ratelimit_method="throw",
        request_timeout=timeout,
        version_check_mode="none",
    )


def host_of(api_base_url: str) -> str:
    return urlsplit(api_base_url).netloc or api_base_url


# ---- HTML to text -------------------------------------------------------------------------------


class _Text(HTMLParser):
    """Mastodon's status HTML as plain text: paragraphs and line breaks kept, every tag dropped,
    entities decoded, scripts and styles skipped whole. Link text is kept in full (Mastodon hides
    ``https://`` and the tail of long links in invisible spans)."""

    _SKIP = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in {"p", "div", "blockquote", "li"}:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _Text()
    parser.feed(content)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# ---- mentions -----------------------------------------------------------------------------------


def to_mention(notification: Mapping[str, Any], *, brand: str, host: str) -> Mention | None:
    """One mention notification as a ``Mention`` (``storable``); None when it carries no status."""
    status = mapping(notification.get("status"))
    if not status.get("id"):
        return None
    account = mapping(status.get("account"))
    text = html_to_text(str(status.get("content") or ""))
    if warning := str(status.get("spoiler_text") or "").strip():
        text = f"CW: {warning}\n{text}"
    parent = status.get("in_reply_to_id")
    language = status.get("language")
    return storable(
        Mention(
            id=f"mastodon:{status['id']}@{host}",
            network="mastodon",
            text=text,
            author=Author(
                id=str(account.get("id") or ""),
                handle=str(account.get("acct") or account.get("username") or ""),
                name=str(account.get("display_name") or ""),
                followers=count(account.get("followers_count")),
                verified=False,
            ),
            created_at=moment(status.get("created_at")),
            brand=brand,
            lang=language if isinstance(language, str) and language else None,
            in_reply_to=f"mastodon:{parent}@{host}" if parent else None,
            kind=MentionKind.REPLY if parent else MentionKind.MENTION,
            url=str(status.get("url") or status.get("uri") or ""),
            raw={"notification_id": str(notification.get("id") or ""), "status": _plain(status)},
            visibility=str(status.get("visibility") or "public"),
        )
    )


def _plain(status: Mapping[str, Any]) -> dict[str, Any]:
    """What is kept of the status: JSON-safe fields only (no account object, no datetimes)."""
    keep = ("id", "uri", "url", "visibility", "language", "in_reply_to_id", "content")
    return {key: status.get(key) for key in keep if isinstance(status.get(key), str | None)}


def _local(native_id: str) -> str:
    """The status id on the brand's instance, from ``<id>@<host>``."""
    return native_id.split("@", 1)[0]


# ---- errors -------------------------------------------------------------------------------------


def _status(exc: MastodonError) -> int | None:
    args = exc.args
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def _detail(exc: MastodonError) -> str:
    args = exc.args
    if len(args) > 3 and args[3]:
        return str(args[3])
    return str(args[2]) if len(args) > 2 and args[2] else type(exc).__name__


def judge(client: Mastodon, exc: Exception) -> Failure:
    """What a failed Mastodon call means for polling."""
    if isinstance(exc, MastodonRatelimitError):
        until = _reset(client)
        return Failure(Trouble.RATE, f"rate limited until {until:%H:%M:%S} UTC", until)
    if isinstance(exc, MastodonUnauthorizedError):
        return Failure(
            Trouble.PERSON,
            "Mastodon did not accept the access token (HTTP 401). Check the token in the "
            "environment variable the config names (it needs read:notifications, read:statuses "
            "and write:statuses), then restart Earshot",
        )
    if isinstance(exc, MastodonServerError | MastodonNetworkError | requests.RequestException):
        return Failure(Trouble.TRANSIENT, _describe(exc))
    if isinstance(exc, MastodonAPIError) and _status(exc) == 403:
        message = f"Mastodon refused access (HTTP 403: {_detail(exc)}). Check the token's scopes"
        return Failure(Trouble.PERSON, message)
    return Failure(Trouble.TRANSIENT, _describe(exc))


def _reset(client: Mastodon) -> datetime:
    reset = getattr(client, "ratelimit_reset", None)
    if isinstance(reset, int | float) and reset > 0:
        return datetime.fromtimestamp(reset, UTC)
    return datetime.now(UTC)


def _describe(exc: Exception) -> str:
    if isinstance(exc, MastodonError) and (status := _status(exc)) is not None:
        return f"HTTP {status} {_detail(exc)}".strip()
    return f"{type(exc).__name__}: {exc}"


# ---- the source ---------------------------------------------------------------------------------


class MastodonSource:
    """Polls ``GET /api/v1/notifications?types[]=mention`` with ``min_id`` from the stored
    cursor; the first poll (no cursor) takes the latest page only."""

    network = "mastodon"

    def __init__(
        self,
        *,
        client: Mastodon,
        account_id: str,
        brand: str,
        brand_handle: str,
        host: str,
        clock: Clock,
        interval: float = 30.0,
    ) -> None:
        self._client = client
        self._account_id = account_id
        self._brand = brand
        self.brand_handle = brand_handle
        self.poll_seconds = interval
        self._host = host
        key = f"mastodon:notifications:{account_id}@{host}"
        self._poller = Poller(
            name=f"Mastodon ({host})",
            keys=[key],
            clock=clock,
            interval=timedelta(seconds=interval),
            judge=lambda exc: judge(client, exc),
        )

    @property
    def brand(self) -> str:
        return self._brand

    @property
    def user_id(self) -> str:
        return self._account_id

    def fetch(self, cursors: Mapping[str, str]) -> Fetch:
        return self._poller.poll(cursors, self._read)

    def _read(self, key: str, since: str | None) -> Read:
        if since is None:
            page = list(self._client.notifications(types=["mention"], limit=PAGE))
            return self._mentions(page, since=None)
        found: list[Mapping[str, Any]] = []
        cursor = since
        for _ in range(MAX_PAGES):
            page = list(self._client.notifications(types=["mention"], min_id=cursor, limit=PAGE))
            if not page:
                break
            found += page
            cursor = max((str(n["id"]) for n in page), key=int)
            if len(page) < PAGE:
                break
        return self._mentions(found, since=since)

    def _mentions(self, notifications: list[Mapping[str, Any]], *, since: str | None) -> Read:
        ids = [str(n.get("id")) for n in notifications if str(n.get("id") or "").isdigit()]
        newest = max(ids, key=int) if ids else None
        mentions = [
            m
            for n in notifications
            if n.get("type") == "mention"
            and (m := to_mention(n, brand=self._brand, host=self._host)) is not None
        ]
        return Read(mentions, cursor=newest if newest != since else None)


# ---- the publisher ------------------------------------------------------------------------------


class MastodonPublisher:
    """Replies as the brand with ``status_post(in_reply_to_id=..., visibility=...)``, keyed for
    idempotency by the outbox row (a retried post within an hour is not posted twice)."""

    network = "mastodon"
    settle = timedelta(0)  # a resend carries the same idempotency key: never a second post

    def __init__(self, *, client: Mastodon, account_id: str, handle: str, host: str) -> None:
        self._client = client
        self._account_id = account_id
        self._handle = handle
        self._host = host
        self.limit = DEFAULT_LIMIT

    def read_limit(self) -> int:
        """The instance's own character limit (``configuration.statuses.max_characters``; some
        servers say ``max_toot_chars``). Raises ``MastodonError`` when the instance cannot say."""
        try:
            instance = self._client.instance_v2()
        except MastodonNotFoundError:  # before Mastodon 4.0
            instance = self._client.instance_v1()
        statuses = mapping(mapping(instance.get("configuration")).get("statuses"))
        limit = statuses.get("max_characters") or instance.get("max_toot_chars")
        if isinstance(limit, int) and limit > 0:
            self.limit = limit
        return self.limit

    def medium(self, mention: Mention) -> Medium:
        base = voice.mastodon(self.limit, instance=self._host)
        base = base.addressed(f"@{mention.author.handle}", private=mention.private)
        return replace(base, account=f"{self._handle}@{self._host}")

    def publish(self, post: Outgoing) -> Posted:
        local = _local(post.in_reply_to)
        try:
            original = self._client.status(local)
            visibility = _REPLY_VISIBILITY.get(str(original.get("visibility")), "direct")
            status = self._client.status_post(
                post.text,
                in_reply_to_id=local,
                visibility=visibility,
                idempotency_key=post.key or None,
                language=original.get("language") or None,
            )
        except MastodonError as exc:
            raise _publish_error(exc, client=self._client) from exc
        except requests.RequestException as exc:
            name = type(exc).__name__
            message = f"no answer from Mastodon ({name}); checking whether it went out"
            raise PublishError(message, retryable=True, uncertain=True) from exc
        return Posted(post_id=f"{status['id']}@{self._host}", url=str(status.get("url") or ""))

    def find_reply(self, post: Outgoing) -> Posted | None:
        """The brand's reply among the post's descendants (its thread), if any."""
        in_reply_to = post.in_reply_to
        try:
            context = self._client.status_context(_local(in_reply_to))
        except MastodonNotFoundError:
            return None
        except (MastodonError, requests.RequestException) as exc:
            message = f"could not read the post's replies ({_describe(exc)})"
            raise PublishError(message, retryable=True, uncertain=True) from exc
        for status in context.get("descendants") or []:
            account = mapping(status.get("account"))
            ours = str(account.get("id")) == self._account_id
            if ours and str(status.get("in_reply_to_id")) == _local(in_reply_to):
                url = str(status.get("url") or "")
                return Posted(post_id=f"{status['id']}@{self._host}", url=url)
        return None


def _publish_error(exc: MastodonError, *, client: Mastodon) -> PublishError:
    """What a failed post means: retry after the reset, check first, or tell the agent why."""
    if isinstance(exc, MastodonRatelimitError):
        message = "Mastodon rate limit reached; the reply will be retried after the reset."
        return PublishError(message, retryable=True, retry_at=_reset(client))
    if isinstance(exc, MastodonNetworkError | MastodonServerError):
        return PublishError(f"Mastodon failed ({_describe(exc)})", retryable=True, uncertain=True)
    if isinstance(exc, MastodonNotFoundError):
        return PublishError(
            "Mastodon would not take it: the customer's post was deleted or is no longer "
            "visible to the brand (HTTP 404). There is nothing to reply to; dismiss the case.",
            retryable=False,
        )
    if isinstance(exc, MastodonUnauthorizedError):
        return PublishError(
            "Mastodon did not accept the brand's access token (HTTP 401). Ask a lead to check "
            "it, then Retry.",
            retryable=False,
        )
    return PublishError(f"Mastodon refused the post: {_describe(exc)}", retryable=False)


def resolve_account(client: Mastodon) -> tuple[str, str]:
    """The brand account's id and acct, from its token (``verify_credentials``)."""
    me = client.account_verify_credentials()
    return str(me["id"]), str(me.get("acct") or me.get("username") or "")
