"""Build a tweepy v2 client that can talk to any base URL (the real API, a proxy, the sandbox).

tweepy 4 hard-codes ``https://api.twitter.com`` in ``BaseClient.request``. Rather than copy its
code, we mount a ``requests`` adapter on the client's session that rewrites that prefix to the
configured base URL and applies a default timeout (tweepy sets none, so a stalled connection would
otherwise hang a poll forever).
"""

from __future__ import annotations

from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter

TWEEPY_HOST = "https://api.twitter.com"


class _RewritingAdapter(HTTPAdapter):
    def __init__(self, *, base_url: str, timeout: float) -> None:
        super().__init__()
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        if self._base != TWEEPY_HOST and url.startswith(TWEEPY_HOST):
            request.url = self._base + url[len(TWEEPY_HOST) :]
        if not kwargs.get("timeout"):
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def make_x_client(
    *,
    api_url: str = TWEEPY_HOST,
    bearer_token: str | None = None,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    access_token: str | None = None,
    access_token_secret: str | None = None,
    timeout: float = 15.0,
) -> tweepy.Client:
    """A ``tweepy.Client`` whose requests go to ``api_url``; rate limits are left to the caller."""
    client = tweepy.Client(
        bearer_token=bearer_token,
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        access_token=access_token,
        access_token_secret=access_token_secret,
        return_type=requests.Response,
        wait_on_rate_limit=False,
    )
    adapter = _RewritingAdapter(base_url=api_url, timeout=timeout)
    client.session.mount(TWEEPY_HOST + "/", adapter)
    if not api_url.startswith("https://"):
        client.session.trust_env = False  # a loopback sandbox must never go through a proxy
    return client
