"""Ports for social networks: a ``Source`` yields mentions, a ``Publisher`` posts replies.

One adapter per network lives beside this file and turns its payloads into ``Mention`` at the
edge; nothing past ``bot/sources/`` sees a network's own objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.decide.voice import Medium
from bot.models import Mention, Posted


@dataclass(frozen=True, slots=True)
class Fetch:
    """One poll's result: mentions to store, cursors to persist with them, and when to come back."""

    mentions: tuple[Mention, ...] = ()
    cursors: dict[str, str] = field(default_factory=dict)
    not_before: datetime | None = None  # rate limit or back-off: do not call again before this
    error: str | None = None
    skipped: bool = False  # the call was not made (still waiting for not_before)
    lost: tuple[str, ...] = ()  # ranges that could not be fetched and never will be, in words
    circuit: str = ""  # "opened" / "closed": this poll tripped or reset the source's breaker
    blocked: str = ""  # a refusal only a person can fix (credits, access), in words for leads


class Source(Protocol):
    network: str
    brand_handle: str  # the brand's own account on this network: its posts never become cases
    poll_seconds: float  # how often the scheduler polls it

    @property
    def brand(self) -> str:
        """The brand whose mentions this source reads."""
        ...

    @property
    def user_id(self) -> str:
        """The brand account's id on this network (X user id, Bluesky DID, Mastodon id)."""
        ...

    def fetch(self, cursors: Mapping[str, str]) -> Fetch:
        """New mentions since the given cursors. Never raises for network trouble."""
        ...


class PublishError(Exception):
    """The network refused or failed a post.

    ``retryable``: trying again may help (from ``retry_at`` on, if given). ``uncertain``: the post
    may have gone out anyway, so the network must be asked before any retry.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        uncertain: bool = False,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.uncertain = uncertain
        self.retry_at = retry_at


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One public post as the outbox sends it, and what identifies it on every retry and after
    a restart: the outbox row's key and when the row was written. Networks that take an
    idempotency key get the key (Mastodon); Bluesky derives the post's record key from both, so
    a second send of the same row cannot make a second post."""

    text: str
    in_reply_to: str  # the native id of the post it answers
    key: str = ""
    written_at: datetime | None = None


class Publisher(Protocol):
    network: str
    # How long after a doubtful send the network's own record can be trusted. X may publish a
    # post it received just before a crash seconds later, so it is asked only after this; the
    # open networks cannot post one outbox row twice (record key, idempotency key): zero.
    settle: timedelta

    def publish(self, post: Outgoing) -> Posted:
        """Post it as a reply to ``post.in_reply_to``; raise ``PublishError``."""
        ...

    def medium(self, mention: Mention) -> Medium:
        """This network's rules for a reply to ``mention`` (its limit, how length counts)."""
        ...

    def find_reply(self, post: Outgoing) -> Posted | None:
        """This post if the network already holds it (to reconcile a doubtful send), else None;
        ``PublishError(uncertain=True)`` when the network cannot say now."""
        ...
