"""HTTP mode: Bolt's WSGI adapter on a small threaded server. Slack posts to ``/slack/events``.

Bolt verifies every request's signature (``X-Slack-Signature``, ``X-Slack-Request-Timestamp``);
forged or stale (over 5 minutes old) requests get 401. A replay, the same signed request again
within those 5 minutes, is answered 200 and ignored: no listener runs. ``/healthz`` answers 200
for load balancers.

Why 200 and not 401: a second copy of a request already answered is an attacker's replay or a
duplicate a proxy re-sent; neither may act twice, and neither learns anything from a 200. Slack,
though, counts non-2xx answers as failures (and switches an app's event subscriptions off after
enough of them), so 200 is the answer that can never hurt a real delivery; Slack's own event
retries are handled by event id (``bot.slack.dedupe``). A signature is held when its request
arrives and dropped again if Bolt refuses the request (401), so a forgery carrying a real
signature cannot block the real request once refused; only one arriving at the very same moment
could. The signatures are kept in memory, so a restart forgets them (a replay must still be
within 5 minutes of the original).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"
REPLAY_WINDOW = 6 * 60.0  # Bolt refuses requests older than 5 minutes; a minute for clock skew

log = logging.getLogger("earshot.slack")


class SeenRequests:
    """Signatures of the requests served lately: a signature is the HMAC of the timestamp and
    the body, so seeing one again is seeing that very request again. Thread-safe."""

    def __init__(
        self, *, window: float = REPLAY_WINDOW, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._window, self._now = window, now
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first(self, signature: str) -> bool:
        """True the first time ``signature`` arrives within the window (and it is held)."""
        with self._lock:
            now = self._now()
            self._seen = {s: at for s, at in self._seen.items() if at > now - self._window}
            if signature in self._seen:
                return False
            self._seen[signature] = now
            return True

    def forget(self, signature: str) -> None:
        """A request Bolt refused (forged, stale) holds no signature: it cannot block the real
        request carrying it."""
        with self._lock:
            self._seen.pop(signature, None)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class HttpServer:
    def __init__(self, app: App, *, host: str, port: int, seen: SeenRequests | None = None) -> None:
        bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        replays = seen or SeenRequests()

        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/healthz":
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"ok\n"]
            signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
            if signature and not replays.first(signature):
                log.warning("a replayed Slack request (same signature) was ignored")
                start_response("200 OK", [("Content-Length", "0")])
                return [b""]
            status: list[str] = []

            def respond(code: str, headers: Any, *exc_info: Any) -> Any:
                status.append(code)
                return start_response(code, headers, *exc_info)

            body = bolt(environ, respond)
            if signature and status and status[0].startswith("401"):
                replays.forget(signature)
            return body

        self._server = make_server(
            host, port, wsgi, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}{EVENTS_PATH}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
