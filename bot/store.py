"""SQLite storage through sqlite-utils: versioned migrations, WAL, one connection per thread.

Everything that must survive a crash lives here: mentions (stored before anything else happens to
them), cases and their cards, the outbox of public replies, agents, source cursors, the audit log.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

from bot.models import (
    Agent,
    Author,
    Case,
    CaseState,
    Mention,
    MentionKind,
    MentionState,
    OutboxState,
    Priority,
    Reply,
    RouteDecision,
    Sentiment,
    Triage,
)

migrations = Migrations("earshot")


@migrations(name="0001_initial")
def _initial(db: Database) -> None:
    _table(db, "mentions").create(
        {
            "id": str,
            "network": str,
            "native_id": str,
            "brand": str,
            "text": str,
            "author_id": str,
            "author_handle": str,
            "author_name": str,
            "author_followers": int,
            "author_verified": int,
            "created_at": str,
            "lang": str,
            "conversation_id": str,
            "in_reply_to": str,
            "kind": str,
            "url": str,
            "raw": str,
            "received_at": str,
            "state": str,
            "skip_reason": str,
        },
        pk="id",
        not_null={"network", "text", "state", "received_at"},
    )
    _table(db, "mentions").create_index(["state"])
    _table(db, "cases").create(
        {
            "id": int,
            "mention_id": str,
            "channel": str,
            "channel_id": str,
            "card_ts": str,
            "permalink": str,
            "rule": str,
            "why": str,
            "state": str,
            "priority": str,
            "sentiment": str,
            "sentiment_score": float,
            "lang": str,
            "suggestions": str,
            "claimed_by": str,
            "claimed_at": str,
            "closed_by": str,
            "closed_at": str,
            "replied_by": str,
            "reply_url": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"mention_id", "channel", "state", "created_at"},
        foreign_keys=[("mention_id", "mentions", "id")],
    )
    _table(db, "cases").create_index(["mention_id"], unique=True)
    _table(db, "cases").create_index(["state", "created_at"])
    _table(db, "outbox").create(
        {
            "id": int,
            "key": str,
            "case_id": int,
            "mention_id": str,
            "network": str,
            "in_reply_to": str,
            "agent_id": str,
            "text": str,
            "template": str,
            "state": str,
            "attempts": int,
            "post_id": str,
            "post_url": str,
            "error": str,
            "created_at": str,
            "updated_at": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"key", "case_id", "text", "state", "created_at"},
        defaults={"attempts": 0},
        foreign_keys=[("case_id", "cases", "id")],
    )
    _table(db, "outbox").create_index(["key"], unique=True)
    _table(db, "outbox").create_index(["state"])
    _table(db, "agents").create(
        {"slack_id": str, "name": str, "signature": str, "active": int, "updated_at": str},
        pk="slack_id",
    )
    _table(db, "cursors").create({"key": str, "value": str, "updated_at": str}, pk="key")
    _table(db, "audit").create(
        {"id": int, "at": str, "actor": str, "action": str, "case_id": int, "detail": str},
        pk="id",
        not_null={"at", "actor", "action"},
    )
    _table(db, "audit").create_index(["case_id"])


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


class Store:
    """The one gateway to SQLite. Safe to share between threads: each gets its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        _create_private(path)
        db = self.db
        db.enable_wal()
        migrations.apply(db)

    @property
    def db(self) -> Database:
        """This thread's connection (created on first use, used only by this thread).

        ``check_same_thread`` is off only so ``close()`` can close every connection at shutdown.
        """
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            db = Database(conn)
            self._local.db = db
            with self._lock:
                self._connections.append(conn)
        return db

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

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # ---- mentions ----------------------------------------------------------------------------

    def save_mentions(
        self, mentions: Sequence[Mention], *, received_at: datetime, cursors: dict[str, str]
    ) -> list[str]:
        """Store mentions idempotently by id, and advance cursors in the same transaction.

        Returns the ids that were new. A mention polled twice is stored once.
        """
        with self._write() as db:
            ids = [m.id for m in mentions]
            known = self._existing_ids(ids)
            fresh: dict[str, Mention] = {m.id: m for m in mentions if m.id not in known}
            rows = [_mention_row(m, received_at) for m in fresh.values()]
            if rows:
                _table(db, "mentions").insert_all(rows)
            for key, value in cursors.items():
                self._put_cursor(key, value, received_at)
        return list(fresh)

    def _existing_ids(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"select id from mentions where id in ({marks})"
            found.update(row["id"] for row in self.db.query(sql, chunk))
        return found

    def pending_mentions(self, limit: int = 500) -> list[Mention]:
        rows = _table(self.db, "mentions").rows_where(
            "state = ?", [MentionState.NEW.value], order_by="rowid", limit=limit
        )
        return [_mention_from_row(row) for row in rows]

    def mention(self, mention_id: str) -> Mention:
        return _mention_from_row(_table(self.db, "mentions").get(mention_id))

    def skip_mention(self, mention_id: str, reason: str) -> None:
        update = {"state": MentionState.SKIPPED.value, "skip_reason": reason}
        _table(self.db, "mentions").update(mention_id, update)

    def count(self, table: str, where: str | None = None, params: Sequence[Any] = ()) -> int:
        return (
            _table(self.db, table).count_where(where, params)
            if where
            else _table(self.db, table).count
        )

    # ---- cases -------------------------------------------------------------------------------

    def open_case(
        self,
        mention: Mention,
        *,
        triage: Triage,
        decision: RouteDecision,
        suggestions: Sequence[dict[str, Any]],
        now: datetime,
    ) -> Case:
        """Create the case for a mention and mark the mention as cased, atomically."""
        row = {
            "mention_id": mention.id,
            "channel": decision.channel,
            "rule": decision.rule,
            "why": decision.why,
            "state": CaseState.OPEN.value,
            "priority": triage.priority.value,
            "sentiment": triage.sentiment.value,
            "sentiment_score": triage.sentiment_score,
            "lang": triage.lang,
            "suggestions": json.dumps(list(suggestions)),
            "created_at": _iso(now),
            "updated_at": _iso(now),
        }
        with self._write() as db:
            case_id = _table(db, "cases").insert(row).last_pk
            _table(db, "mentions").update(mention.id, {"state": MentionState.CASED.value})
        return self.case(int(cast(int, case_id)))

    def case(self, case_id: int) -> Case:
        return _case_from_row(_table(self.db, "cases").get(case_id))

    def find_case(self, case_id: int) -> Case | None:
        rows = list(_table(self.db, "cases").rows_where("id = ?", [case_id]))
        return _case_from_row(rows[0]) if rows else None

    def case_suggestions(self, case_id: int) -> list[dict[str, Any]]:
        row = _table(self.db, "cases").get(case_id)
        return list(json.loads(row["suggestions"] or "[]"))

    def cases_without_card(self) -> list[Case]:
        rows = _table(self.db, "cases").rows_where("card_ts is null", order_by="id")
        return [_case_from_row(row) for row in rows]

    def open_cases(self) -> list[Case]:
        rows = _table(self.db, "cases").rows_where(
            "state = ?", [CaseState.OPEN.value], order_by="created_at, id"
        )
        return [_case_from_row(row) for row in rows]

    def set_card(self, case_id: int, *, channel_id: str, ts: str, permalink: str) -> None:
        card = {"channel_id": channel_id, "card_ts": ts, "permalink": permalink}
        _table(self.db, "cases").update(case_id, card)

    def claim(self, case_id: int, agent_id: str, *, now: datetime) -> bool:
        """Lock an open case to one agent; True if this agent holds it afterwards."""
        sql = (
            "update cases set claimed_by = ?, claimed_at = coalesce(claimed_at, ?), updated_at = ? "
            "where id = ? and state = ? and (claimed_by is null or claimed_by = ?)"
        )
        params = [agent_id, _iso(now), _iso(now), case_id, CaseState.OPEN.value, agent_id]
        return self._changed(sql, params)

    def close_case(self, case_id: int, *, state: CaseState, by: str, now: datetime) -> bool:
        """Move an open case to replied or dismissed; False if it was no longer open."""
        sql = (
            "update cases set state = ?, closed_by = ?, closed_at = ?, updated_at = ? "
            "where id = ? and state = ?"
        )
        params = [state.value, by, _iso(now), _iso(now), case_id, CaseState.OPEN.value]
        return self._changed(sql, params)

    def reopen_case(self, case_id: int, *, now: datetime) -> bool:
        sql = (
            "update cases set state = ?, closed_by = null, closed_at = null, claimed_by = null, "
            "updated_at = ? where id = ? and state = ?"
        )
        params = [CaseState.OPEN.value, _iso(now), case_id, CaseState.DISMISSED.value]
        return self._changed(sql, params)

    def record_reply(self, case_id: int, *, agent_id: str, url: str, now: datetime) -> None:
        """The case got a public reply: it is replied whatever state it was in."""
        update = {
            "state": CaseState.REPLIED.value,
            "replied_by": agent_id,
            "reply_url": url,
            "closed_by": agent_id,
            "closed_at": _iso(now),
            "updated_at": _iso(now),
        }
        _table(self.db, "cases").update(case_id, update)

    def _changed(self, sql: str, params: Sequence[Any]) -> bool:
        with self._write() as db:
            return db.execute(sql, list(params)).rowcount == 1

    # ---- outbox ------------------------------------------------------------------------------

    def add_reply(
        self,
        *,
        key: str,
        case: Case,
        mention: Mention,
        agent_id: str,
        text: str,
        template: str | None,
        now: datetime,
    ) -> tuple[Reply, bool]:
        """Write a confirmed reply to the outbox before it is sent. Same key, same row."""
        row = {
            "key": key,
            "case_id": case.id,
            "mention_id": mention.id,
            "network": mention.network,
            "in_reply_to": mention.native_id,
            "agent_id": agent_id,
            "text": text,
            "template": template,
            "state": OutboxState.PENDING.value,
            "attempts": 0,
            "created_at": _iso(now),
            "updated_at": _iso(now),
        }
        with self._write() as db:
            existing = list(_table(db, "outbox").rows_where("key = ?", [key]))
            if existing:
                return _reply_from_row(existing[0]), False
            reply_id = _table(db, "outbox").insert(row).last_pk
        return self.reply(int(cast(int, reply_id))), True

    def reply(self, reply_id: int) -> Reply:
        return _reply_from_row(_table(self.db, "outbox").get(reply_id))

    def latest_reply(self, case_id: int) -> Reply | None:
        rows = _table(self.db, "outbox").rows_where(
            "case_id = ?", [case_id], order_by="id desc", limit=1
        )
        return next((_reply_from_row(row) for row in rows), None)

    def replies(self, state: OutboxState, *, older_than: datetime | None = None) -> list[Reply]:
        where, params = "state = ?", [state.value]
        if older_than is not None:
            where += " and updated_at < ?"
            params.append(_iso(older_than) or "")
        rows = _table(self.db, "outbox").rows_where(where, params, order_by="id")
        return [_reply_from_row(row) for row in rows]

    def start_sending(self, reply_id: int, *, now: datetime) -> bool:
        """pending -> sending for exactly one caller; the winner is the only one that sends."""
        sql = (
            "update outbox set state = ?, attempts = attempts + 1, updated_at = ? "
            "where id = ? and state = ?"
        )
        params = [OutboxState.SENDING.value, _iso(now), reply_id, OutboxState.PENDING.value]
        return self._changed(sql, params)

    def finish_reply(
        self,
        reply_id: int,
        *,
        state: OutboxState,
        now: datetime,
        post_id: str | None = None,
        post_url: str | None = None,
        error: str | None = None,
    ) -> Reply:
        update: dict[str, Any] = {"state": state.value, "updated_at": _iso(now), "error": error}
        if state is OutboxState.SENT:
            update |= {"post_id": post_id, "post_url": post_url, "sent_at": _iso(now)}
        _table(self.db, "outbox").update(reply_id, update)
        return self.reply(reply_id)

    # ---- agents, cursors, audit --------------------------------------------------------------

    def sync_agents(self, agents: Iterable[Agent], *, now: datetime) -> None:
        """Mirror the configured agents; people removed from config stay, marked inactive."""
        rows = [
            {
                "slack_id": a.slack_id,
                "name": a.name,
                "signature": a.signature,
                "active": 1,
                "updated_at": _iso(now),
            }
            for a in agents
        ]
        with self._write() as db:
            db.execute("update agents set active = 0")
            if rows:
                _table(db, "agents").upsert_all(rows, pk="slack_id")

    def cursors(self, prefix: str) -> dict[str, str]:
        rows = _table(self.db, "cursors").rows_where("substr(key, 1, ?) = ?", [len(prefix), prefix])
        return {str(row["key"]): str(row["value"]) for row in rows}

    def cursor(self, key: str) -> str | None:
        rows = list(_table(self.db, "cursors").rows_where("key = ?", [key]))
        return str(rows[0]["value"]) if rows else None

    def set_cursor(self, key: str, value: str, *, now: datetime) -> None:
        with self._write():
            self._put_cursor(key, value, now)

    def _put_cursor(self, key: str, value: str, now: datetime) -> None:
        row = {"key": key, "value": value, "updated_at": _iso(now)}
        _table(self.db, "cursors").upsert(row, pk="key")

    def audit(
        self,
        *,
        actor: str,
        action: str,
        now: datetime,
        case_id: int | None = None,
        **detail: Any,
    ) -> None:
        row = {
            "at": _iso(now),
            "actor": actor,
            "action": action,
            "case_id": case_id,
            "detail": json.dumps(detail, ensure_ascii=False, default=str),
        }
        with self._write():
            _table(self.db, "audit").insert(row)

    def audit_log(self, case_id: int | None = None) -> list[dict[str, Any]]:
        table = _table(self.db, "audit")
        rows = (
            table.rows_where("case_id = ?", [case_id], order_by="id")
            if case_id
            else (table.rows_where(order_by="id"))
        )
        return [{**row, "detail": json.loads(row["detail"] or "{}")} for row in rows]


# ---- row mapping -----------------------------------------------------------------------------


def _mention_row(m: Mention, received_at: datetime) -> dict[str, Any]:
    return {
        "id": m.id,
        "network": m.network,
        "native_id": m.native_id,
        "brand": m.brand,
        "text": m.text,
        "author_id": m.author.id,
        "author_handle": m.author.handle,
        "author_name": m.author.name,
        "author_followers": m.author.followers,
        "author_verified": int(m.author.verified),
        "created_at": _iso(m.created_at),
        "lang": m.lang,
        "conversation_id": m.conversation_id,
        "in_reply_to": m.in_reply_to,
        "kind": m.kind.value,
        "url": m.url,
        "raw": json.dumps(m.raw, ensure_ascii=False),
        "received_at": _iso(received_at),
        "state": MentionState.NEW.value,
        "skip_reason": None,
    }


def _mention_from_row(row: dict[str, Any]) -> Mention:
    author = Author(
        id=row["author_id"] or "",
        handle=row["author_handle"] or "",
        name=row["author_name"] or "",
        followers=row["author_followers"] or 0,
        verified=bool(row["author_verified"]),
    )
    return Mention(
        id=row["id"],
        network=row["network"],
        text=row["text"],
        author=author,
        created_at=_parse(row["created_at"]),
        brand=row["brand"],
        lang=row["lang"],
        conversation_id=row["conversation_id"],
        in_reply_to=row["in_reply_to"],
        kind=MentionKind(row["kind"]),
        url=row["url"] or "",
        raw=json.loads(row["raw"] or "{}"),
    )


def _case_from_row(row: dict[str, Any]) -> Case:
    return Case(
        id=row["id"],
        mention_id=row["mention_id"],
        channel=row["channel"],
        rule=row["rule"],
        why=row["why"] or "",
        state=CaseState(row["state"]),
        priority=Priority(row["priority"]),
        sentiment=Sentiment(row["sentiment"]),
        created_at=_parse(row["created_at"]) or _epoch(),
        claimed_by=row["claimed_by"],
        channel_id=row["channel_id"],
        card_ts=row["card_ts"],
        permalink=row["permalink"],
        replied_by=row["replied_by"],
        reply_url=row["reply_url"],
        closed_by=row["closed_by"],
    )


def _reply_from_row(row: dict[str, Any]) -> Reply:
    return Reply(
        id=row["id"],
        key=row["key"],
        case_id=row["case_id"],
        mention_id=row["mention_id"],
        agent_id=row["agent_id"],
        text=row["text"],
        state=OutboxState(row["state"]),
        template=row["template"],
        attempts=row["attempts"] or 0,
        post_id=row["post_id"],
        post_url=row["post_url"],
        error=row["error"],
    )


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, UTC)
