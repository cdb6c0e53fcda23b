"""A small HTTP proxy in front of the real PDS that can lose an answer: it forwards a request,
lets the PDS do the work, and then drops the connection without answering, or holds the answer
back. That is the doubtful send a real network produces (a connection reset, a timeout after the
server saved the post), made on demand. It counts what passes, so a test can say how often the
bot logged in."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class _Trap:
    path: str  # e.g. "/xrpc/com.atproto.repo.createRecord"
    mode: str  # "drop" (no answer at all), "hold" (answer late) or "fail" (a 502 instead)
    times: int
    seconds: float = 0.0


class FaultProxy:
    """Forwards everything to ``upstream``; ``drop_after``/``hold_after`` arm the next calls."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self._lock = threading.Lock()
        self._traps: list[_Trap] = []
        self.counts: Counter[str] = Counter()
        self.sprung: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def drop_after(self, path: str, *, times: int = 1) -> None:
        """The next ``times`` calls to ``path`` reach the PDS; their answers never come back."""
        with self._lock:
            self._traps.append(_Trap(path, "drop", times))

    def fail_after(self, path: str, *, times: int = 1) -> None:
        """The next ``times`` calls to ``path`` reach the PDS; a 502 comes back instead of its
        answer, as from a gateway whose upstream failed after doing the work."""
        with self._lock:
            self._traps.append(_Trap(path, "fail", times))

    def hold_after(self, path: str, *, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls to ``path`` reach the PDS; their answers come ``seconds``
        late (past the client's timeout, they never arrive)."""
        with self._lock:
            self._traps.append(_Trap(path, "hold", times, seconds))

    def take(self, path: str) -> _Trap | None:
        with self._lock:
            self.counts[path] += 1
            for trap in self._traps:
                if trap.path == path:
                    trap.times -= 1
                    if trap.times <= 0:
                        self._traps.remove(trap)
                    self.sprung[f"{trap.mode} {path}"] += 1
                    return trap
        return None


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            path = self.path.split("?", 1)[0]
            trap = proxy.take(path)
            status, reason, headers, payload = self._upstream(body)
            if trap is not None and trap.mode == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if trap is not None and trap.mode == "fail":
                status, reason, headers = 502, "Bad Gateway", [("Content-Type", "text/plain")]
                payload = b"upstream failed"
            elif trap is not None:
                time.sleep(trap.seconds)
            try:
                self.send_response(status, reason)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _upstream(self, body: bytes | None) -> tuple[int, str, list[tuple[str, str]], bytes]:
            connection = http.client.HTTPConnection(
                proxy.upstream_host, proxy.upstream_port, timeout=60
            )
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                return answer.status, answer.reason, answer.getheaders(), answer.read()
            finally:
                connection.close()

        do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815

    return Handler
