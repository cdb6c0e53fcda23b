"""The real-server lane: the atproto reference services (PLC directory, PDS, bsky AppView from
``@atproto/dev-env``) that ``scripts/atproto-lane.sh`` started on loopback, accounts on that PDS,
a fault proxy in front of it, and Earshot wired to it exactly as the end-to-end tests wire it to
the emulator (``open_sandbox`` with ``bluesky_login``): same config loading, same ``Runtime``.

Nothing here imitates Bluesky: every answer comes from the reference PDS and AppView. The lane
fails, never skips, when the stack is not there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from atproto import Client
from atproto_client.client.session import Session

from bot.models import Mention
from bot.sandbox.harness import BlueskyLogin, Sandbox, open_sandbox
from real.proxy import FaultProxy

POST = "app.bsky.feed.post"
# @atproto/dev-env signs its PDS's tokens (HS256) with this published development secret
# (packages/dev-env/src/const.ts): a test can mint the token the PDS would issue at another time.
DEV_JWT_SECRET = b"jwt-secret"
_numbers = itertools.count(1)


def _stack() -> dict[str, Any]:
    path = os.environ.get("EARSHOT_ATPROTO_STACK", "")
    if not path or not Path(path).is_file():
        raise RuntimeError(
            "EARSHOT_ATPROTO_STACK does not name the stack's address file: run the lane with "
            "scripts/atproto-lane.sh, which starts the atproto reference services first"
        )
    return dict(json.loads(Path(path).read_text()))


@dataclass
class Account:
    """An account on the reference PDS, logged in with its main password."""

    handle: str
    did: str
    client: Client

    def ref(self, uri: str) -> dict[str, str]:
        """A strong ref (uri and cid) to one of this account's posts, from its repo."""
        rkey = uri.rsplit("/", 1)[-1]
        found = self.client.com.atproto.repo.get_record(
            {"repo": uri.split("/")[2], "collection": POST, "rkey": rkey}
        )
        return {"uri": found.uri, "cid": str(found.cid)}


class Pds:
    """The reference PDS, as the customers and the brand's owner use it (not as Earshot does)."""

    def __init__(self, url: str, *, appview: str) -> None:
        self.url = url
        self.appview = appview

    def client(self) -> Client:
        return Client(base_url=f"{self.url}/xrpc")

    def account(self, name: str) -> Account:
        handle = f"{name}{next(_numbers)}{secrets.token_hex(2)}.test"
        client = self.client()
        password = secrets.token_urlsafe(12)
        client.com.atproto.server.create_account(
            {"handle": handle, "email": f"{handle}@example.com", "password": password}
        )
        client.login(handle, password, fetch_bsky_profile=False)
        assert client._session is not None
        return Account(handle, client._session.did, client)

    def post(
        self,
        author: Account,
        text: str,
        *,
        mention: Account | None = None,
        reply_to: dict[str, str] | None = None,
        root: dict[str, str] | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """``author`` posts ``text`` (``@handle`` of ``mention`` made a mention facet, as the
        Bluesky app does); its at-uri. ``created_at`` is the author's device clock."""
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": _iso(created_at or datetime.now(UTC)),
        }
        if mention is not None:
            at = f"@{mention.handle}"
            start = len(text[: text.index(at)].encode())
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": mention.did}
            index = {"byteStart": start, "byteEnd": start + len(at.encode())}
            record["facets"] = [{"index": index, "features": [feature]}]
        if reply_to is not None:
            record["reply"] = {"root": root or reply_to, "parent": reply_to}
        made = author.client.com.atproto.repo.create_record(
            {"repo": author.did, "collection": POST, "record": record}
        )
        return str(made.uri)

    def indexed(self, uri: str, *, timeout: float = 30.0) -> None:
        """Wait until the AppView shows the post, as a person sees it before answering it (an
        answer indexed before its parent notifies nobody above it)."""
        reader = Client(base_url=f"{self.appview}/xrpc")  # public reads need no login
        deadline = time.monotonic() + timeout
        while not reader.app.bsky.feed.get_posts({"uris": [uri]}).posts:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the AppView did not index {uri} in {timeout}s")
            time.sleep(0.1)

    def posts(self, account: Account) -> list[dict[str, Any]]:
        """Every post in the account's repo, straight from the PDS (no AppView lag)."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = account.client.com.atproto.repo.list_records(
                {"repo": account.did, "collection": POST, "limit": 100, "cursor": cursor}
            )
            found += [{"uri": r.uri, "value": _as_dict(r.value)} for r in page.records]
            cursor = page.cursor
            if not cursor or not page.records:
                return found

    def replies_to(self, account: Account, uri: str) -> list[dict[str, Any]]:
        """The account's posts that answer ``uri``."""
        return [p for p in self.posts(account) if _parent(p["value"]) == uri]


def _as_dict(value: Any) -> dict[str, Any]:
    from atproto_client.models.utils import get_model_as_dict

    return dict(get_model_as_dict(value)) if not isinstance(value, dict) else value


def _parent(record: dict[str, Any]) -> str | None:
    return ((record.get("reply") or {}).get("parent") or {}).get("uri")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expired(session_string: str) -> str:
    """The same session with its access token expired: what the PDS would have issued two
    hours earlier (same claims, ``exp`` in the past, signed with the dev stack's secret)."""
    session = Session.decode(session_string)
    header, payload, _ = session.access_jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = int(time.time()) - 60
    claims["iat"] = claims["exp"] - 7200
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    signature = hmac.new(DEV_JWT_SECRET, f"{header}.{body}".encode(), hashlib.sha256).digest()
    token = f"{header}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    session.access_jwt = token
    return session.encode()


@pytest.fixture(scope="session")
def pds() -> Pds:
    stack = _stack()
    return Pds(str(stack["pds"]), appview=str(stack["appview"]))


@pytest.fixture
def proxy(pds: Pds) -> Iterator[FaultProxy]:
    server = FaultProxy(pds.url).start()
    yield server
    server.stop()


@dataclass
class Desk:
    """Earshot running against the real PDS, through the fault proxy."""

    sandbox: Sandbox
    pds: Pds
    proxy: FaultProxy
    brand: Account

    @property
    def services(self) -> Any:
        assert self.sandbox.runtime is not None
        return self.sandbox.runtime.services

    def mentions_of(self, uri: str) -> list[Mention]:
        """The stored mention of that post (one at most: its id is the post's)."""
        return list(self.services.store.mentions([f"bluesky:{uri}"]).values())

    def session_key(self) -> str:
        return f"meta:bluesky_session:{self.brand.handle}"


@pytest.fixture
def desk(tmp_path: Path, pds: Pds, proxy: FaultProxy) -> Iterator[Desk]:
    brand = pds.account("brand")
    password = brand.client.com.atproto.server.create_app_password({"name": "earshot"}).password
    login = BlueskyLogin(service_url=proxy.url, handle=brand.handle, app_password=password)
    with open_sandbox(tmp_path, open_networks=True, bluesky_login=login) as box:
        box.start_bot()
        yield Desk(box, pds, proxy, brand)
