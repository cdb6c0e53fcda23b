"""A minimal RFC 6455 WebSocket server on loopback, enough to play Slack's Socket Mode side.

Supports the HTTP Upgrade handshake, text frames (server→client unmasked, client→server masked),
ping/pong, close frames, continuation frames and 16/64-bit payload lengths. Each connection gets a
daemon reader thread; :meth:`WebSocketServer.stop` closes everything so no thread outlives it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.sandbox.http import LOOPBACK, log

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HANDSHAKE = 16 * 1024

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA


@dataclass(frozen=True)
class Frame:
    """One decoded frame (payload already unmasked)."""

    fin: bool
    opcode: int
    payload: bytes


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key.strip().encode("ascii") + _GUID).digest()).decode()


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bytes = b"") -> bytes:
    """Encode a frame; unmasked (server→client) unless given a 4-byte ``mask`` (client→server)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    mask_bit = 0x80 if mask else 0
    if size <= 125:
        head += bytes([mask_bit | size])
    elif size <= 0xFFFF:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", size)
    return head + mask + unmask(payload, mask) if mask else head + payload


def unmask(payload: bytes, key: bytes) -> bytes:
    """XOR a masked payload with its 4-byte key."""
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class SocketReader:
    """Buffered exact-size reads from a socket; ``None`` once the peer is gone."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def read_until(self, marker: bytes, *, limit: int) -> bytes | None:
        while marker not in self._buffer:
            if len(self._buffer) > limit or not self._fill():
                return None
        end = self._buffer.index(marker) + len(marker)
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data

    def read(self, size: int) -> bytes | None:
        while len(self._buffer) < size:
            if not self._fill():
                return None
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _fill(self) -> bool:
        try:
            chunk = self._sock.recv(65536)
        except OSError:
            return False
        self._buffer.extend(chunk)
        return bool(chunk)


def read_frame(reader: SocketReader) -> Frame | None:
    """Read and unmask one frame; ``None`` when the connection ends mid-way."""
    head = reader.read(2)
    if head is None:
        return None
    size = head[1] & 0x7F
    if size in (126, 127):
        ext = reader.read(2 if size == 126 else 8)
        if ext is None:
            return None
        size = struct.unpack("!H" if len(ext) == 2 else "!Q", ext)[0]
    key = reader.read(4) if head[1] & 0x80 else b""
    payload = reader.read(size)
    if key is None or payload is None:
        return None
    return Frame(
        fin=bool(head[0] & 0x80),
        opcode=head[0] & 0x0F,
        payload=unmask(payload, key) if key else payload,
    )


class WebSocketConnection:
    """One accepted client; ``send_text`` is safe to call from any thread."""

    def __init__(self, sock: socket.socket, *, path: str, number: int) -> None:
        self.sock = sock
        self.path = path
        self.number = number
        self._send_lock = threading.Lock()
        self.closed = False

    def send_text(self, text: str) -> None:
        self._send(encode_frame(OP_TEXT, text.encode("utf-8")))

    def send_close(self, code: int = 1000, reason: str = "") -> None:
        with contextlib.suppress(OSError):
            self._send(encode_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8")))

    def _send(self, data: bytes) -> None:
        with self._send_lock:
            if self.closed:
                raise ConnectionError(f"websocket connection #{self.number} is closed")
            self.sock.sendall(data)

    def close(self) -> None:
        """Close the socket; wakes the reader thread."""
        with self._send_lock:
            if self.closed:
                return
            self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()


OnOpen = Callable[[WebSocketConnection], None]
OnText = Callable[[WebSocketConnection, str], None]
OnClose = Callable[[WebSocketConnection], None]


class WebSocketServer:
    """Accepts WebSocket clients on 127.0.0.1 and hands their text messages to callbacks.

    ``accept(path)`` decides whether a handshake for that request target is allowed (401 if not).
    """

    def __init__(
        self,
        *,
        on_open: OnOpen,
        on_text: OnText,
        on_close: OnClose,
        accept: Callable[[str], bool] = lambda _path: True,
        ping_interval: float | None = None,
    ) -> None:
        self._on_open, self._on_text, self._on_close = on_open, on_text, on_close
        self._accept = accept
        self._ping_interval = ping_interval
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._connections: list[WebSocketConnection] = []
        self._count = 0

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("WebSocketServer is not started")
        return int(self._listener.getsockname()[1])

    def start(self) -> None:
        """Listen on an ephemeral loopback port (idempotent)."""
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((LOOPBACK, 0))
            listener.listen(16)
            listener.settimeout(0.5)  # a fallback; stop() also wakes accept() via shutdown
            self._listener = listener
            self._stopping.clear()
        self._spawn(self._accept_loop, listener, name="ws-accept")
        if self._ping_interval:
            self._spawn(self._ping_loop, self._ping_interval, name="ws-ping")

    def stop(self) -> None:
        """Close the listener and every connection (sending a close frame), join all threads."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = list(self._connections), []
            threads, self._threads = list(self._threads), []
        if listener is None:
            return
        self._stopping.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for conn in connections:
            conn.send_close(1001, "server stopping")
            conn.close()
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def _spawn(self, target: Callable[..., None], *args: object, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _ping_loop(self, interval: float) -> None:
        """Ping every client now and then, as Slack does; it also keeps clients' reads short."""
        while not self._stopping.wait(interval):
            with self._lock:
                connections = list(self._connections)
            for conn in connections:
                with contextlib.suppress(OSError, ConnectionError):
                    conn._send(encode_frame(OP_PING, b"sandbox"))

    def _accept_loop(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            self._spawn(self._serve, sock, name="ws-conn")

    def _serve(self, sock: socket.socket) -> None:
        reader = SocketReader(sock)
        conn = self._handshake(sock, reader)
        if conn is None:
            with contextlib.suppress(OSError):
                sock.close()
            return
        try:
            self._on_open(conn)
            self._read_loop(conn, reader)
        except Exception:
            log.exception("sandbox websocket connection #%s failed", conn.number)
        finally:
            conn.close()
            self._forget(conn)
            self._on_close(conn)

    def _forget(self, conn: WebSocketConnection) -> None:
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)

    def _handshake(self, sock: socket.socket, reader: SocketReader) -> WebSocketConnection | None:
        raw = reader.read_until(b"\r\n\r\n", limit=_MAX_HANDSHAKE)
        if raw is None:
            return None
        request_line, *header_lines = raw.decode("latin-1").split("\r\n")
        headers = _parse_headers(header_lines)
        parts = request_line.split(" ")
        target = parts[1] if len(parts) == 3 else ""
        key = headers.get("sec-websocket-key", "")
        if "websocket" not in headers.get("upgrade", "").lower() or not key:
            _refuse(sock, "400 Bad Request")
            return None
        if not self._accept(target):
            _refuse(sock, "401 Unauthorized")
            return None
        with self._lock:
            if self._listener is None:
                return None
            self._count += 1
            conn = WebSocketConnection(sock, path=urlsplit(target).path, number=self._count)
            self._connections.append(conn)
        response = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
        )
        sock.sendall(response.encode("ascii"))
        return conn

    def _read_loop(self, conn: WebSocketConnection, reader: SocketReader) -> None:
        pieces: list[bytes] = []
        while (frame := read_frame(reader)) is not None:
            if frame.opcode == OP_PING:
                conn._send(encode_frame(OP_PONG, frame.payload))
            elif frame.opcode == OP_CLOSE:
                conn.send_close(*_close_reason(frame.payload))
                return
            elif frame.opcode in (OP_TEXT, OP_CONTINUATION):
                pieces.append(frame.payload)
                if frame.fin:
                    self._on_text(conn, b"".join(pieces).decode("utf-8"))
                    pieces = []


def _parse_headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _refuse(sock: socket.socket, status: str) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(
            f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )


def _close_reason(payload: bytes) -> tuple[int, str]:
    if len(payload) >= 2:
        return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", errors="replace")
    return 1000, ""
