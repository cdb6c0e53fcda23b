"""Config for the open networks a brand listens on besides X: Bluesky and Mastodon.

Each is optional, per brand: ``[bluesky]`` and ``[mastodon]`` belong to ``[brand]``, and a
``[[brands]]`` entry has its own ``bluesky``/``mastodon`` tables. Secrets stay in environment
variables; the config names them. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.schema import Check, Key, between, each, http_url, not_blank, pattern

_BLUESKY_HANDLE = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
_MASTODON_USER = re.compile(r"^[A-Za-z0-9_]{1,30}$")


def bluesky_schema(env: Check) -> dict[str, Key]:
    handle = pattern(
        _BLUESKY_HANDLE,
        "a Bluesky handle",
        'write the full handle in lowercase without @, e.g. "skylarkair.bsky.social"',
    )
    return {
        "handle": Key("str", check=handle),
        "app_password_env": Key("str", "BLUESKY_APP_PASSWORD", check=env),
        "service_url": Key("str", "https://bsky.social", check=http_url),
        "search_queries": Key("str_list", (), check=each(not_blank)),
        "poll_interval_seconds": Key("float", 30.0, check=between(1, 3600)),
    }


def mastodon_schema(env: Check) -> dict[str, Key]:
    user = pattern(_MASTODON_USER, "a Mastodon username", 'write it without @ or server: "acme"')
    return {
        "api_base_url": Key("str", check=http_url),
        "username": Key("str", "", check=lambda v: user(v) if v else None),
        "access_token_env": Key("str", "MASTODON_ACCESS_TOKEN", check=env),
        "poll_interval_seconds": Key("float", 30.0, check=between(1, 3600)),
    }


@dataclass(frozen=True, slots=True)
class BlueskyAccount:
    """The brand's Bluesky account: it logs in with an app password (Settings → App passwords),
    never the account password."""

    handle: str
    app_password_env: str = "BLUESKY_APP_PASSWORD"
    service_url: str = "https://bsky.social"  # the account's PDS (or the entryway)
    search_queries: tuple[str, ...] = ()  # also read posts that name the brand without @
    poll_interval_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class MastodonAccount:
    """The brand's Mastodon account: an access token from Preferences → Development with
    read:accounts, read:notifications, read:statuses and write:statuses."""

    api_base_url: str  # the brand's instance, e.g. "https://mastodon.social"
    username: str = ""  # "" = asked of the instance from the token
    access_token_env: str = "MASTODON_ACCESS_TOKEN"
    poll_interval_seconds: float = 30.0


def bluesky_account(values: dict[str, Any] | None) -> BlueskyAccount | None:
    if not values:
        return None
    url = values["service_url"].rstrip("/")
    return BlueskyAccount(**{**values, "service_url": url})


def mastodon_account(values: dict[str, Any] | None) -> MastodonAccount | None:
    if not values:
        return None
    return MastodonAccount(**{**values, "api_base_url": values["api_base_url"].rstrip("/")})
