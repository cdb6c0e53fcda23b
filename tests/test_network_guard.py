import socket

import pytest
from conftest import NetworkEscapeError


def test_connecting_beyond_loopback_fails_loudly() -> None:
    with socket.socket() as s, pytest.raises(NetworkEscapeError):
        s.connect(("192.0.2.1", 443))


def test_resolving_a_public_name_fails_loudly() -> None:
    with pytest.raises(NetworkEscapeError):
        socket.getaddrinfo("api.twitter.com", 443)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
