"""Shared fixtures. The network guard keeps every test on loopback and fails loudly otherwise.

Unit tests get a fresh ``store``; end-to-end tests get the ``sandbox`` and the ``bot``. Shared
builders live in ``factories`` (values such as a mention) and ``support`` (end-to-end steps)."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The real-server lane (tests/real) runs only when scripts/atproto-lane.sh has started the atproto
# reference services and says where they are; the README's test command leaves it out.
collect_ignore = [] if os.environ.get("EARSHOT_ATPROTO_STACK") else ["real"]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class NetworkEscapeError(RuntimeError):
    """A test tried to reach beyond loopback."""


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address: Any) -> None:
    if isinstance(address, tuple) and not _is_loopback(address[0]):
        raise NetworkEscapeError(f"test tried to connect to {address!r}; tests stay on loopback")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_loopback(host.decode() if isinstance(host, bytes) else host):
        raise NetworkEscapeError(f"test tried to resolve {host!r}; tests stay on loopback")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    """Refuse any connection or DNS lookup that is not loopback, for the whole session."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _guarded_connect)
        mp.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
        mp.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
        yield


# ---- lanes: e2e (the whole bot running against the emulators), slow (real processes) ---------

_E2E_FIXTURES = {"sandbox", "bot"}  # the fixture closure: any fixture built on them counts


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that run the whole bot (``e2e``): those using the sandbox fixtures or
    opening a sandbox themselves. ``pytest -m "not e2e and not slow"`` is the fast lane."""
    opens: dict[str, bool] = {}
    for item in items:
        path = str(item.path)
        if path not in opens:
            text = item.path.read_text(encoding="utf-8") if item.path.suffix == ".py" else ""
            opens[path] = "open_sandbox(" in text or ".start_bot(" in text
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _E2E_FIXTURES or opens[path]:
            item.add_marker(pytest.mark.e2e)


# ---- the sandbox: Earshot wired to the Slack and X emulators on loopback -----------------------

from bot.sandbox.harness import Sandbox, open_sandbox  # noqa: E402


@pytest.fixture
def sandbox(tmp_path: Any) -> Iterator[Sandbox]:
    """Emulators up and a sandbox config written; the bot is not started yet."""
    with open_sandbox(tmp_path) as sb:
        yield sb


@pytest.fixture
def bot(sandbox: Sandbox) -> Sandbox:
    """The sandbox with the bot running in HTTP mode."""
    sandbox.start_bot()
    return sandbox


# ---- unit tests: a fresh store on a real SQLite file --------------------------------------------

from bot.storage.store import Store  # noqa: E402


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh ``Store`` on a real SQLite file in ``tmp_path`` (every migration applied), closed
    afterwards. The running bot's own store is ``sandbox.runtime.services.store``."""
    fresh = Store(tmp_path / "earshot.db")
    yield fresh
    fresh.close()
