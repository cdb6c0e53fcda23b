"""The storage's foundation: one SQLite connection per thread, write transactions that take the
lock up front, fsynced commits where they must be, and the small helpers every kind of record
uses. Each kind of record is a mixin on top of ``Base``; ``Store`` joins them."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError, Table

from bot.models import Case

# What a row SQLite will not take raises (a disk that is full raises OperationalError: not this).
UNSTORABLE: tuple[type[Exception], ...] = (
    ValueError,  # UnicodeEncodeError: a lone surrogate; json: a circular payload
    TypeError,  # a payload json cannot write
    OverflowError,  # an integer past 64 bits
    sqlite3.DataError,
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,  # a value of a type SQLite cannot bind
)


def _insert_sql(table: str, row: dict[str, Any]) -> str:
    """``insert into table (columns of row) values (?, ...)``, for hot paths."""
    columns = ", ".join(f"[{c}]" for c in row)
    return f"insert into [{table}] ({columns}) values ({', '.join('?' * len(row))})"


def _table(db: Database, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)
    return table


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (it holds customer posts)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


class Base:
    """The connection and transactions every kind of record uses."""

    path: Path
    _local: threading.local
    _connections: list[sqlite3.Connection]
    _lock: threading.Lock

    def _cases(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[Case]:
        """Cases from a query (``Cases`` supplies it; mentions' search and operations use it)."""
        raise NotImplementedError

    @property
    def db(self) -> Database:
        """This thread's connection (created on first use, used only by this thread).

        ``check_same_thread`` is off only so ``close()`` can close every connection at shutdown.
        """
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: see _durable
            conn.execute("PRAGMA foreign_keys = ON")
            db = Database(conn)
            self._local.db = db
            with self._lock:
                self._connections.append(conn)
        return db

    @contextmanager
    def _durable(self) -> Iterator[None]:
        """Commits in here are fsynced (``synchronous = FULL``).

        Elsewhere, in WAL mode with ``synchronous = NORMAL``, every commit survives a crash of
        Earshot; a power cut can lose the last moments of writes, which replay safely (mentions
        are fetched again from the stored cursor, written with them; a card is looked for in
        Slack before it is posted again). The one write that must never be lost is the mark a
        reply is being sent: its fsync also makes every earlier commit durable.
        """
        self.db.execute("PRAGMA synchronous = FULL")
        try:
            yield
        finally:
            self.db.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """A write transaction that takes SQLite's write lock up front (BEGIN IMMEDIATE).

        A deferred transaction that reads and then writes fails at once with "database is
        locked" if another connection committed in between; an immediate one waits its turn.
        Nested use becomes a savepoint.
        """
        db = self.db
        if db.conn.in_transaction:
            with db.atomic():
                yield db
            return
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        db.conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes that stand or fall together (rolled back on any exception)."""
        with self._write():
            yield

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def _row(self, table: str, key: str | int) -> dict[str, Any]:
        """One row by primary key, in one query (``Table.get`` looks up the schema first)."""
        pk = "id" if table != "cursors" else "key"
        for row in self._dicts(f"select * from [{table}] where {pk} = ?", [key]):
            return row
        raise NotFoundError(f"no {table} row {key!r}")

    def _dicts(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows as dicts, straight from the connection: for the hot paths (the inbound path,
        the queue, search), where sqlite-utils' per-query checks cost more than the query."""
        cursor = self.db.conn.execute(sql, list(params))
        keys = [d[0] for d in cursor.description]
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def count(self, table: str, *, where: str | None = None, params: Sequence[Any] = ()) -> int:
        rows = _table(self.db, table)
        return rows.count_where(where, params) if where else rows.count

    def _changed(self, sql: str, params: Sequence[Any]) -> bool:
        with self._write() as db:
            return db.execute(sql, list(params)).rowcount == 1


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, UTC)
