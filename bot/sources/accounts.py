"""Building each brand's accounts on each network, once, at start-up: the X, Bluesky and Mastodon
clients, their logins (a Bluesky session kept in the database and reused), the ids looked up once
and kept (the brand's X user id, its Mastodon account), and the Mastodon instance's own limit.
Each account is a source and a publisher behind the ports in ``bot.sources``; a network that
cannot be reached stops the start with a problem that says what to fix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import requests
import tweepy
from atproto import Client as AtprotoClient
from atproto.exceptions import AtProtocolError
from mastodon.errors import MastodonError

from bot.clock import Clock
from bot.config.networks import BlueskyAccount, MastodonAccount
from bot.config.settings import Brand as BrandConfig
from bot.config.settings import Config, Secrets
from bot.problems import Problem, ProblemsError
from bot.sources import Publisher, Source
from bot.sources.bluesky import BlueskyPublisher, BlueskySession, BlueskySource
from bot.sources.mastodon import (
    MastodonPublisher,
    MastodonSource,
    host_of,
    make_mastodon_client,
    resolve_account,
)
from bot.sources.x import XPublisher, XSource, resolve_user_id
from bot.sources.xclient import make_x_client
from bot.storage.store import Store

log = logging.getLogger(__name__)

Account = tuple[Source, Publisher]


def accounts(config: Config, secrets: Secrets, *, store: Store, clock: Clock) -> list[Account]:
    """Every brand's accounts: X always, Bluesky and Mastodon where configured. A network that
    cannot be reached at start-up stops the start with a clear problem, like X."""
    found: list[Account] = []
    for brand in config.brands:
        found.append(_x(config, secrets, brand=brand, store=store, clock=clock))
        if brand.bluesky is not None:
            found.append(_bluesky(brand, brand.bluesky, secrets=secrets, store=store, clock=clock))
        if brand.mastodon is not None:
            found.append(
                _mastodon(brand, brand.mastodon, secrets=secrets, store=store, clock=clock)
            )
    return found


def _bluesky(
    brand: BrandConfig, account: BlueskyAccount, *, secrets: Secrets, store: Store, clock: Clock
) -> Account:
    """One brand's Bluesky account; its session is kept in the database and reused."""
    key = f"meta:bluesky_session:{account.handle}"
    session = BlueskySession(
        client=AtprotoClient(base_url=f"{account.service_url}/xrpc"),
        handle=account.handle,
        password=secrets.network_secret("bluesky", brand.name),
        saved=lambda: store.cursor(key),
        save=lambda value: store.set_cursor(key, value, now=clock.now()),
    )
    try:
        session.start()
    except AtProtocolError as exc:
        fix = "check bluesky.handle, bluesky.service_url and the app password's variable"
        message = f"cannot log in to Bluesky as {account.handle} ({exc})"
        raise ProblemsError([Problem("Bluesky", f"brand {brand.name}", message, fix)]) from None
    source = BlueskySource(
        session=session,
        brand=brand.name,
        brand_handle=account.handle,
        clock=clock,
        queries=account.search_queries,
        interval=account.poll_interval_seconds,
    )
    return source, BlueskyPublisher(session=session, handle=account.handle)


def _mastodon(
    brand: BrandConfig, account: MastodonAccount, *, secrets: Secrets, store: Store, clock: Clock
) -> Account:
    """One brand's Mastodon account: its id from the token (asked once, then kept), and its
    instance's character limit (kept too, so a restart while the instance is down still knows)."""
    host = host_of(account.api_base_url)
    client = make_mastodon_client(
        api_base_url=account.api_base_url,
        access_token=secrets.network_secret("mastodon", brand.name),
    )
    key = f"meta:mastodon:{brand.name}:{host}"
    try:
        account_id, acct = _remembered(
            key, store=store, clock=clock, ask=lambda: resolve_account(client)
        )
    except (MastodonError, requests.RequestException) as exc:
        fix = "check mastodon.api_base_url and the access token's variable (read:accounts scope)"
        message = f"cannot reach the brand's Mastodon account on {host} ({exc})"
        raise ProblemsError([Problem("Mastodon", f"brand {brand.name}", message, fix)]) from None
    handle = account.username or acct
    publisher = MastodonPublisher(client=client, account_id=account_id, handle=handle, host=host)
    _instance_limit(publisher, key=f"{key}:limit", store=store, clock=clock)
    source = MastodonSource(
        client=client,
        account_id=account_id,
        brand=brand.name,
        brand_handle=handle,
        host=host,
        clock=clock,
        interval=account.poll_interval_seconds,
    )
    return source, publisher


def _remembered(
    key: str, *, store: Store, clock: Clock, ask: Callable[[], tuple[str, str]]
) -> tuple[str, str]:
    """An account's (id, handle), asked of the network once and then kept."""
    if cached := store.cursor(key):
        account_id, _, handle = cached.partition(" ")
        return account_id, handle
    account_id, handle = ask()
    store.set_cursor(key, f"{account_id} {handle}", now=clock.now())
    return account_id, handle


def _instance_limit(publisher: MastodonPublisher, *, key: str, store: Store, clock: Clock) -> None:
    """Read the instance's character limit now; when it cannot say, the last one it said."""
    try:
        limit = publisher.read_limit()
    except (MastodonError, requests.RequestException) as exc:
        stored = store.cursor(key)
        publisher.limit = int(stored) if stored and stored.isdigit() else publisher.limit
        log.warning("Mastodon's character limit unknown (%s); using %d", exc, publisher.limit)
        return
    store.set_cursor(key, str(limit), now=clock.now())


def _x(
    config: Config, secrets: Secrets, *, brand: BrandConfig, store: Store, clock: Clock
) -> Account:
    """One brand's X account: a source reading its mentions, a publisher posting as it."""
    keys = secrets.x_keys("" if brand is config.brand else brand.name)
    client = make_x_client(
        api_url=config.x.api_url,
        bearer_token=keys.bearer_token or None,
        consumer_key=keys.consumer_key,
        consumer_secret=keys.consumer_secret,
        access_token=keys.access_token,
        access_token_secret=keys.access_token_secret,
    )
    user_id = _brand_user_id(brand, store=store, client=client, clock=clock)
    source = XSource(
        client=client,
        user_id=user_id,
        brand=brand.name,
        brand_handle=brand.handle,
        clock=clock,
        queries=brand.x.search_queries,
        page_size=config.x.page_size,
        interval=timedelta(seconds=config.x.poll_interval_seconds),
        user_auth=not keys.bearer_token,
    )
    publisher = XPublisher(
        client=client,
        user_id=user_id,
        handle=brand.handle,
        settle=timedelta(seconds=config.x.reconcile_after_seconds),
    )
    return source, publisher


def _brand_user_id(brand: BrandConfig, *, store: Store, client: tweepy.Client, clock: Clock) -> str:
    """The brand account's numeric id: from config, from an earlier lookup, or asked of X once."""
    if brand.x.user_id:
        return brand.x.user_id
    key = f"meta:x_user_id:{brand.handle.lower()}"
    if cached := store.cursor(key):
        return cached
    try:
        user_id = resolve_user_id(client, brand.handle)
    except (tweepy.TweepyException, requests.RequestException) as exc:
        fix = "check the brand's handle, x.api_url and its X credentials, or set its x.user_id"
        message = f"cannot look up @{brand.handle} on X ({exc})"
        raise ProblemsError([Problem("X API", f"brand {brand.name}", message, fix)]) from None
    store.set_cursor(key, user_id, now=clock.now())
    return user_id
