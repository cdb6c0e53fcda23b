"""Shared machinery for the sandbox emulators: a quiet threaded HTTP server on loopback.

Each emulator is a real HTTP server (stdlib ``ThreadingHTTPServer`` bound to 127.0.0.1 on an
ephemeral port) so the real clients (slack-sdk, tweepy/requests) exercise their real transport.
The base class records every request as a :class:`Call`, injects :class:`Fault` s, publishes
state-changing events to subscribers and lets tests block on a :class:`threading.Condition` until
something happens, instead of sleeping.
"""

from __future__ import annotations

import copy
import json
import logging
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit

T = TypeVar("T")
Subscriber = Callable[[str, dict[str, Any]], None]
Event = tuple[str, dict[str, Any]]

log = logging.getLogger("bot.sandbox")

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Call:
    """One request an emulator received (or one Socket Mode message it exchanged).

    ``status`` is the HTTP status answered; 0 when a :class:`Fault` dropped the connection
    without an answer.
    """

    method: str
    path: str
    endpoint: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int
    at: float


class Gate:
    """Holds requests until a test opens it: a send caught in flight, to crash the client then.

    ``wait_held`` blocks until that many requests are waiting at the gate; ``open`` lets them
    (and every later one) through, to be answered as the fault says.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = 0
        self._open = False

    def hold(self) -> None:
        with self._cond:
            self._held += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._open)

    def wait_held(self, count: int = 1, *, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._held >= count, timeout=timeout):
                held = f"{self._held} of {count} request(s)"
                raise TimeoutError(f"Gate: {held} held after {timeout}s")

    def open(self) -> None:
        with self._cond:
            self._open = True
            self._cond.notify_all()


@dataclass(frozen=True)
class Fault:
    """A scripted failure: the next ``times`` requests to ``endpoint`` misbehave.

    ``status=200`` with a ``delay`` means "answer normally, but late"; ``status=200`` with a
    ``body`` answers 200 with that body (e.g. a Slack ``{"ok": false, ...}`` error). A ``gate``
    holds each such request until the test opens it (then it is answered as above). ``drop``
    closes the connection without sending any answer: the client sees a connection error
    (httpx: ``RemoteProtocolError: Server disconnected without sending a response``).

    Without ``applied`` the request waits (gate, then delay) *before* anything is done, and is
    carried out only when ``status`` is 200 and it is not dropped. ``applied`` carries the
    request out *first*, then holds the answer (gate, then delay) and sends it as the fault
    says: with ``status=200`` the normal answer, late (a held answer: the work is visible while
    the client still waits); with another status that failure; with ``drop`` nothing at all.
    That is the answer getting lost, as when a server fails after doing the work or the
    connection drops on the way back.
    """

    endpoint: str
    status: int = 429
    times: int = 1
    retry_after: float | None = None
    delay: float = 0.0
    body: dict[str, Any] | None = None
    gate: Gate | None = field(default=None, compare=False)
    applied: bool = False
    drop: bool = False


@dataclass(frozen=True)
class Request:
    """A parsed HTTP request; ``params`` merges the query string and the (JSON or form) body."""

    method: str
    path: str
    query: dict[str, Any]
    body: dict[str, Any]
    headers: dict[str, str]
    raw_body: bytes = b""
    target: str = ""  # the request target as sent: path and query string

    @property
    def params(self) -> dict[str, Any]:
        return {**self.query, **self.body}


@dataclass(frozen=True)
class Reply:
    """What an emulator answers: a status, a body and headers.

    A ``str`` body is sent as ``text/plain``, None as an empty body, anything else as JSON.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Request], Reply]


@dataclass
class _ArmedFault:
    fault: Fault
    remaining: int


class EmulatorServer:
    """Base for the emulators: lifecycle, recording, faults, events and waiting.

    Subclasses implement :meth:`_resolve` (request → logical endpoint and route) and
    :meth:`_fault_reply`, and keep their own state under ``self._cond``.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._local = threading.local()
        self._calls: list[Call] = []
        self._faults: list[_ArmedFault] = []
        self._subscribers: list[Subscriber] = []
        self._server: _LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 on an ephemeral port and serve in a daemon thread (idempotent)."""
        with self._cond:
            if self._server is not None:
                return self
            server = _LoopbackServer(self)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}-http",
                daemon=True,
            )
            self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open keep-alive connections and close the socket (idempotent)."""
        with self._cond:
            server, thread = self._server, self._thread
            self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port; the emulator must be started."""
        server = self._server
        if server is None:
            raise RuntimeError(f"{type(self).__name__} is not started; call start() first")
        return int(server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` without a trailing slash."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The URL a client should be configured with (subclasses refine it)."""
        return self.base_url

    # -- recording, faults, events ---------------------------------------------------------

    def calls(self, endpoint: str | None = None) -> list[Call]:
        """Requests received so far, oldest first, optionally only those for one endpoint."""
        with self._cond:
            return [c for c in self._calls if endpoint is None or c.endpoint == endpoint]

    def inject(self, fault: Fault) -> None:
        """Arm a fault; it affects the next ``fault.times`` matching requests."""
        if fault.times < 1:
            raise ValueError("Fault.times must be at least 1")
        with self._changing():
            self._faults.append(_ArmedFault(fault, fault.times))

    def clear_faults(self) -> None:
        """Disarm every pending fault."""
        with self._changing():
            self._faults.clear()

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback(kind, payload)`` (outside the lock) for every state-changing event."""
        with self._cond:
            self._subscribers.append(callback)

    def reset(self) -> None:
        """Forget recorded calls, faults and emulated state (the server keeps running)."""
        with self._changing():
            self._calls.clear()
            self._faults.clear()
            self._reset_state()

    def wait_for(self, predicate: Callable[[], T | None], *, timeout: float = 10.0) -> T:
        """Block until ``predicate()`` is truthy and return it; re-checked on every state change.

        Raises ``TimeoutError`` if it is still falsy after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    name = getattr(predicate, "__qualname__", repr(predicate))
                    raise TimeoutError(
                        f"{type(self).__name__}.wait_for: {name} still false after {timeout}s "
                        f"({len(self._calls)} calls recorded)"
                    )
                self._cond.wait(remaining)

    # -- for subclasses --------------------------------------------------------------------

    @contextmanager
    def _changing(self) -> Iterator[list[Event]]:
        """Hold the lock while mutating; wake waiters, then publish the collected events.

        Nested blocks share the outermost block's event list, so events are only published
        once the lock is fully released (never while a subscriber could deadlock on it).
        """
        outer: list[Event] | None = getattr(self._local, "events", None)
        if outer is not None:
            with self._cond:
                yield outer
                self._cond.notify_all()
            return
        events: list[Event] = []
        self._local.events = events
        try:
            with self._cond:
                yield events
                self._cond.notify_all()
                subscribers = list(self._subscribers)
        finally:
            self._local.events = None
        for kind, payload in events:
            for callback in subscribers:
                self._deliver(callback, kind, payload)

    @staticmethod
    def _deliver(callback: Subscriber, kind: str, payload: dict[str, Any]) -> None:
        try:
            callback(kind, copy.deepcopy(payload))
        except Exception:
            log.exception("sandbox subscriber failed on %s", kind)

    def _record(self, call: Call) -> None:
        with self._changing():
            self._calls.append(call)

    def _reset_state(self) -> None:
        """Subclasses clear their emulated state here (called under the lock)."""

    def _prepare(self, request: Request) -> Request:
        """A hook for emulators that read a request differently (Rails' ``name[]`` arrays)."""
        return request

    def _resolve(self, request: Request) -> tuple[str, Route]:
        """Map a request to its logical endpoint name and the route that answers it."""
        raise NotImplementedError

    def _fault_reply(self, fault: Fault, request: Request, endpoint: str) -> Reply:
        """The answer for an armed fault whose status is not 200."""
        raise NotImplementedError

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self._changing():
            for armed in self._faults:
                if armed.fault.endpoint in {endpoint, "*"}:
                    armed.remaining -= 1
                    if armed.remaining <= 0:
                        self._faults.remove(armed)
                    return armed.fault
        return None

    def _answer(self, request: Request) -> tuple[str, Reply | None]:
        """Resolve, apply any fault, run the route and record the call.

        The reply is None when a fault drops the connection: nothing is to be sent.
        """
        endpoint, route = self._resolve(request)
        fault = self._take_fault(endpoint)
        if fault is not None and not fault.applied:
            _hold(fault)
        reply = self._safely(endpoint, lambda: self._reply_with(fault, request, endpoint, route))
        if fault is not None and fault.applied:
            _hold(fault)  # the work is done; only the answer waits
        call = Call(
            method=request.method,
            path=request.path,
            endpoint=endpoint,
            params=request.params,
            headers=dict(request.headers),
            status=0 if reply is None else reply.status,
            at=time.time(),
        )
        self._record(call)
        return endpoint, reply

    @staticmethod
    def _safely(endpoint: str, answer: Callable[[], Reply | None]) -> Reply | None:
        try:
            return answer()
        except Exception as exc:
            log.exception("sandbox route %s failed", endpoint)
            return Reply(500, {"error": f"sandbox internal error: {exc!r}"})

    def _reply_with(
        self, fault: Fault | None, request: Request, endpoint: str, route: Route
    ) -> Reply | None:
        if fault is None:
            return route(request)
        if fault.drop:
            if fault.applied:
                route(request)
            return None
        done = route(request) if fault.applied or fault.status == 200 else None
        reply = (
            done
            if done is not None and fault.status == 200
            else self._fault_reply(fault, request, endpoint)
        )
        if fault.body is not None:
            return Reply(fault.status, fault.body, reply.headers)
        return reply


def _hold(fault: Fault) -> None:
    """Keep a faulted request waiting: at its gate until opened, then for its delay."""
    if fault.gate is not None:
        fault.gate.hold()
    if fault.delay > 0:
        time.sleep(fault.delay)


# -- HTTP plumbing -------------------------------------------------------------------------


class _LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that can end its keep-alive connections on stop."""

    daemon_threads = True

    def __init__(self, emulator: EmulatorServer) -> None:
        self.emulator = emulator
        self._open: dict[Any, threading.Thread] = {}
        self._open_lock = threading.Lock()
        super().__init__((LOOPBACK, 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn (a reverse DNS lookup); skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = LOOPBACK, int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"{type(self.emulator).__name__}-conn",
            daemon=True,
        )
        with self._open_lock:
            self._open[request] = thread
        thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (a killed bot, in the fault tests) is no error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.pop(request, None)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Wake every handler blocked on a keep-alive connection and wait for it to finish."""
        with self._open_lock:
            open_now = list(self._open.items())
        for sock, _ in open_now:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in open_now:
            if thread is not threading.current_thread():
                thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, lets the emulator answer it, writes JSON with a Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "EarshotSandbox/1"
    # Headers and body go out in two writes; on a keep-alive connection Nagle's algorithm would
    # hold the body until the client's delayed ACK (about 40 ms a request on Linux).
    disable_nagle_algorithm = True
    server: _LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: no per-request logging to stderr."""

    def version_string(self) -> str:
        return self.server_version

    def _dispatch(self) -> None:
        raw = self._read_body()
        request = parse_request(
            method=self.command, target=self.path, headers=dict(self.headers.items()), raw=raw
        )
        emulator = self.server.emulator
        _, reply = emulator._answer(emulator._prepare(request))
        if reply is None:  # a dropped connection: close it without a word
            self.close_connection = True
            return
        self._write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch  # noqa: N815 (stdlib names)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, reply: Reply) -> None:
        payload, content_type = _encode(reply.body)
        try:
            self.send_response(reply.status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _encode(body: Any) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    return json.dumps(body).encode("utf-8"), "application/json; charset=utf-8"


def parse_request(*, method: str, target: str, headers: dict[str, str], raw: bytes) -> Request:
    """Turn the raw pieces of an HTTP request into a :class:`Request`."""
    parts = urlsplit(target)
    lowered = {k.lower(): v for k, v in headers.items()}
    body = _parse_body(lowered.get("content-type", ""), raw)
    return Request(
        method=method.upper(),
        path=parts.path,
        query=multi_query(parts.query),
        body=body,
        headers=lowered,
        raw_body=raw,
        target=target,
    )


def multi_query(query: str) -> dict[str, Any]:
    """Query parameters; a name given more than once (``uris=a&uris=b``) maps to the list of
    its values, as the SDKs send arrays."""
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(name, []).append(value)
    return {name: found[0] if len(found) == 1 else found for name, found in values.items()}


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # raw bytes (urllib labels any POST body a form); see raw_body
            return {}
        return dict(parse_qsl(text, keep_blank_values=True))
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, raw)
    try:
        value = json.loads(raw)
    except ValueError:
        return {"_raw": raw.decode("utf-8", errors="replace")}
    return value if isinstance(value, dict) else {"_json": value}


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    message = BytesParser(policy=HTTP_POLICY).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[name] = data if part.get_filename() else data.decode("utf-8", errors="replace")
    return fields
