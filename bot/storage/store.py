"""SQLite storage through sqlite-utils: versioned migrations, WAL, one connection per thread.

Everything that must survive a crash lives here: mentions (stored before anything else happens to
them), cases and their cards, the outbox of public replies, agents, source cursors, the audit log.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError, Table
from sqlite_utils.migrations import Migrations

from bot.decide.rules import Proposal, Ruleset, RuleSpec, StaleRulesError, parse_rules
from bot.models import (
    Agent,
    Approval,
    ApprovalState,
    Author,
    Case,
    CaseState,
    Mention,
    MentionKind,
    MentionState,
    Note,
    OutboxState,
    Priority,
    Reply,
    RouteDecision,
    Sentiment,
    Triage,
)
from bot.storage.operations import Operations

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


@migrations(name="0002_routing_conversations_storms")
def _routing(db: Database) -> None:
    _table(db, "rulesets").create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "summary": str,
            "rules": str,
            "fallback": str,
        },
        pk="id",
        not_null={"at", "actor", "rules"},
    )
    _table(db, "examples").create(
        {
            "id": int,
            "text": str,
            "channel": str,
            "source": str,
            "mention_id": str,
            "actor": str,
            "at": str,
        },
        pk="id",
        not_null={"text", "channel", "source"},
    )
    _table(db, "customers").create(
        {
            "key": str,
            "network": str,
            "handle": str,
            "tags": str,
            "updated_at": str,
            "updated_by": str,
        },
        pk="key",
    )
    cases = _table(db, "cases")
    for column, kind in (
        ("tags", str),
        ("notify", str),
        ("require_approval", int),
        ("via", str),
        ("follow_ups", int),
        ("joined_case", int),
        ("storm_id", int),
        ("noise", str),
        ("activity_at", str),
    ):
        cases.add_column(column, kind)
    _table(db, "case_members").create(
        {"case_id": int, "mention_id": str, "role": str, "at": str},
        pk=("case_id", "mention_id"),
        foreign_keys=[("case_id", "cases", "id"), ("mention_id", "mentions", "id")],
    )
    _table(db, "case_members").create_index(["mention_id"], unique=True)
    _table(db, "storms").create(
        {
            "id": int,
            "channel": str,
            "channel_id": str,
            "card_ts": str,
            "permalink": str,
            "label": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"channel", "created_at"},
    )
    _table(db, "alerts").create({"key": str, "at": str, "detail": str}, pk="key")
    _table(db, "proposals").create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "base_version": int,
            "action": str,
            "summary": str,
            "rules": str,
        },
        pk="id",
        not_null={"at", "actor", "rules"},
    )
    _table(db, "mentions").create_index(["network", "conversation_id"])
    _table(db, "outbox").add_column("send_after", str)
    db.execute(
        "insert into case_members (case_id, mention_id, role, at) "
        "select id, mention_id, 'opener', created_at from cases"
    )


@migrations(name="0003_voice_approvals_notes")
def _voice(db: Database) -> None:
    outbox = _table(db, "outbox")
    for column, kind in (("part", int), ("parts", int), ("parent_id", int), ("approved_by", str)):
        outbox.add_column(column, kind)
    _table(db, "approvals").create(
        {
            "id": int,
            "key": str,
            "case_id": int,
            "mention_id": str,
            "agent_id": str,
            "body": str,
            "parts": str,
            "template": str,
            "state": str,
            "reason": str,
            "requested_at": str,
            "decided_by": str,
            "decided_at": str,
            "note": str,
            "channel_id": str,
            "message_ts": str,
            "reply_id": int,
        },
        pk="id",
        not_null={"key", "case_id", "agent_id", "parts", "state", "requested_at"},
        foreign_keys=[("case_id", "cases", "id")],
    )
    _table(db, "approvals").create_index(["key"], unique=True)
    _table(db, "approvals").create_index(["case_id", "state"])
    _table(db, "notes").create(
        {"ts": str, "case_id": int, "author": str, "text": str, "at": str},
        pk="ts",
        not_null={"case_id", "author", "text", "at"},
        foreign_keys=[("case_id", "cases", "id")],
    )
    _table(db, "notes").create_index(["case_id"])


@migrations(name="0004_operations")
def _operations(db: Database) -> None:
    cases = _table(db, "cases")
    for column in (
        "brand",
        "sla_kind",
        "sla_started",
        "sla_remind",
        "sla_due",
        "sla_notified",
        "first_due_at",
        "first_response_at",
        "responded_at",
        "snoozed_until",
        "assigned_by",
    ):
        cases.add_column(column, str)
    db.execute(
        "update cases set brand = (select brand from mentions where mentions.id = cases.mention_id)"
    )
    cases.create_index(["state", "sla_due"])
    cases.create_index(["claimed_by", "state"])
    # a card shows the customer's earlier cases: looked up by account id, else by handle
    db.execute("create index mentions_author on mentions (network, author_id)")
    db.execute("create index mentions_handle on mentions (network, lower(author_handle))")
    agents = _table(db, "agents")
    agents.add_column("on_duty", int)
    agents.add_column("last_assigned_at", str)
    _table(db, "source_health").create(
        {
            "source": str,
            "brand": str,
            "network": str,
            "last_poll_at": str,
            "last_ok_at": str,
            "error": str,
            "error_at": str,
            "failures": int,
            "rate_limited_until": str,
            "lost": str,
            "lost_at": str,
        },
        pk="source",
    )
    _table(db, "usage").create(
        {"key": str, "month": str, "brand": str, "kind": str, "count": int}, pk="key"
    )
    _table(db, "audit").create_index(["at"])


@migrations(name="0005_search")
def _search(db: Database) -> None:
    """Full-text search over mention text (``Store.search``): an FTS5 index that reads the text
    from ``mentions`` (external content, so no second copy) and is kept in step by triggers.

    ``unicode61 remove_diacritics 2``: words are runs of letters and digits, in any case and
    with or without accents. Korean attaches particles to words (환불이, 환불은), so every
    searched word is a prefix; the ``prefix`` indexes keep two- and three-letter prefixes fast.
    The update trigger fires only when a text changes, never on a state change.
    """
    db.execute(
        "create virtual table mentions_fts using fts5(text, content='mentions', "
        "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    )
    db.execute(
        "create trigger mentions_fts_insert after insert on mentions begin "
        "insert into mentions_fts (rowid, text) values (new.rowid, new.text); end"
    )
    db.execute(
        "create trigger mentions_fts_delete after delete on mentions begin "
        "insert into mentions_fts (mentions_fts, rowid, text) "
        "values ('delete', old.rowid, old.text); end"
    )
    db.execute(
        "create trigger mentions_fts_update after update of text on mentions begin "
        "insert into mentions_fts (mentions_fts, rowid, text) "
        "values ('delete', old.rowid, old.text); "
        "insert into mentions_fts (rowid, text) values (new.rowid, new.text); end"
    )
    db.execute("insert into mentions_fts (mentions_fts) values ('rebuild')")


@migrations(name="0006_slack_events")
def _slack_events(db: Database) -> None:
    """Slack's event ids, so a retried delivery is handled once (even across a restart); and
    the cards still to post, found without reading every case."""
    _table(db, "slack_events").create({"event_id": str, "at": str}, pk="event_id")
    _table(db, "slack_events").create_index(["at"])
    db.execute("create index cases_without_card on cases (id) where card_ts is null")


@migrations(name="0007_card_attempts")
def _card_attempts(db: Database) -> None:
    """When a card was last sent to Slack (and into which thread) before Slack's answer was
    recorded: after a crash in between, the card is looked for in Slack before it is sent again."""
    _table(db, "cases").add_column("card_sending", str)
    _table(db, "cases").add_column("card_thread", str)


@migrations(name="0008_visibility")
def _visibility(db: Database) -> None:
    """Who can see a mention (Mastodon's public, unlisted, private or direct): a private one is
    never answered in public. Every earlier mention was public. Replies are found by their post
    id when a customer answers one (the follow-up joins that reply's case)."""
    _table(db, "mentions").add_column("visibility", str)
    db.execute("create index outbox_post on outbox (post_id) where post_id is not null")


@migrations(name="0009_quarantine")
def _quarantine(db: Database) -> None:
    """Mentions SQLite would not take (text no edge repair caught, a number too large), kept
    apart so the rest of their page is stored and the source's cursor moves on: the error, and
    the mention with its raw payload as ASCII JSON (escapes keep every character, even a lone
    surrogate). ``times``: how often it came again (a gap re-read)."""
    _table(db, "quarantine").create(
        {
            "mention_id": str,
            "network": str,
            "brand": str,
            "error": str,
            "payload": str,
            "received_at": str,
            "last_at": str,
            "times": int,
        },
        pk="mention_id",
        not_null={"network", "error", "payload", "received_at"},
        defaults={"times": 1},
    )


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


class Store(Operations):
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

    # ---- mentions ----------------------------------------------------------------------------

    def save_mentions(
        self, mentions: Sequence[Mention], *, received_at: datetime, cursors: dict[str, str]
    ) -> list[str]:
        """Store mentions idempotently by id, and advance cursors in the same transaction.

        Returns the ids that were new. A mention polled twice is stored once.
        """
        return self.save_page(mentions, received_at=received_at, cursors=cursors).new

    def save_page(
        self, mentions: Sequence[Mention], *, received_at: datetime, cursors: dict[str, str]
    ) -> Saved:
        """``save_mentions``, saying also what was quarantined: a mention whose row SQLite will
        not take is kept apart (table ``quarantine``) while the rest of the page is stored and
        the cursors advance, so one post can never stop a source. (A full disk still fails the
        whole page: nothing is stored, the cursor stays, the next poll tries again.)"""
        with self._write():
            ids = [m.id for m in mentions]
            known = self._existing_ids(ids)
            fresh: dict[str, Mention] = {m.id: m for m in mentions if m.id not in known}
            saved = self._insert_mentions(list(fresh.values()), received_at)
            for key, value in cursors.items():
                self._put_cursor(key, value, received_at)
        return saved

    def _insert_mentions(self, mentions: Sequence[Mention], received_at: datetime) -> Saved:
        """All rows in one statement; if SQLite refuses one, each row in its own savepoint."""
        if not mentions:
            return Saved([], [])
        try:
            with self._write() as db:
                rows = [_mention_row(m, received_at) for m in mentions]
                db.conn.executemany(_insert_sql("mentions", rows[0]), [[*r.values()] for r in rows])
            return Saved([m.id for m in mentions], [])
        except UNSTORABLE:
            pass  # found below, row by row
        new: list[str] = []
        held: list[Quarantined] = []
        for mention in mentions:
            try:
                with self._write() as db:
                    row = _mention_row(mention, received_at)
                    db.conn.execute(_insert_sql("mentions", row), [*row.values()])
                new.append(mention.id)
            except UNSTORABLE as exc:
                held.append(self._quarantine(mention, exc, received_at))
        return Saved(new, held)

    def _quarantine(self, mention: Mention, error: Exception, now: datetime) -> Quarantined:
        """Keep a mention SQLite refused apart: every text escaped to ASCII, so this row fits."""
        held = Quarantined(
            mention_id=_ascii(mention.id),
            network=_ascii(mention.network),
            error=_ascii(f"{type(error).__name__}: {error}")[:500],
        )
        payload = _quarantine_payload(mention)
        self.db.execute(
            "insert into quarantine (mention_id, network, brand, error, payload, received_at, "
            "last_at) values (?, ?, ?, ?, ?, ?, ?) on conflict (mention_id) do update set "
            "error = excluded.error, payload = excluded.payload, last_at = excluded.last_at, "
            "times = times + 1",
            [
                held.mention_id,
                held.network,
                _ascii(mention.brand or ""),
                held.error,
                payload,
                _iso(now),
                _iso(now),
            ],
        )
        return held

    def quarantined(self) -> list[dict[str, Any]]:
        """Every quarantined mention, oldest first (``payload`` decoded)."""
        rows = self._dicts("select * from quarantine order by received_at, mention_id", [])
        return [{**row, "payload": json.loads(row["payload"])} for row in rows]

    def _existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are stored (an id that is not valid text cannot be)."""
        ids = [i for i in ids if _valid_text(i)]
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"select id from mentions where id in ({marks})"
            found.update(row["id"] for row in self.db.query(sql, chunk))
        return found

    def pending_mentions(self, limit: int = 500) -> list[Mention]:
        rows = self._dicts(
            "select * from mentions where state = ? order by rowid limit ?",
            [MentionState.NEW.value, limit],
        )
        return [_mention_from_row(row) for row in rows]

    def mention(self, mention_id: str) -> Mention:
        return _mention_from_row(self._row("mentions", mention_id))

    def mentions(self, ids: Sequence[str]) -> dict[str, Mention]:
        """Mentions by id, in one query per 500 (the queue shows hundreds at once)."""
        found: dict[str, Mention] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            sql = f"select * from mentions where id in ({','.join('?' * len(chunk))})"
            found.update((row["id"], _mention_from_row(row)) for row in self._dicts(sql, chunk))
        return found

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

    def skip_mention(self, mention_id: str, reason: str) -> None:
        with self._write() as db:
            db.execute(
                "update mentions set state = ?, skip_reason = ? where id = ?",
                [MentionState.SKIPPED.value, reason, mention_id],
            )

    def search(self, query: str, *, limit: int = 20, brand: str | None = None) -> list[Found]:
        """Mentions whose text holds every word of ``query`` (each word also as the start of a
        longer one: "refund" finds "refunds", 환불 finds 환불이), newest first (in the order
        they were received), each with its case. ``SearchQueryError`` for a query without words.
        """
        match = fts_query(query)
        where = "mentions_fts match ?" + (" and lower(m.brand) = lower(?)" if brand else "")
        params: list[Any] = [match, *([brand] if brand else []), limit]
        rows = self._dicts(
            "select m.*, cm.case_id as found_case from mentions_fts f "
            "join mentions m on m.rowid = f.rowid "
            "left join case_members cm on cm.mention_id = m.id "
            f"where {where} order by f.rowid desc limit ?",
            params,
        )
        ids = sorted({row["found_case"] for row in rows if row["found_case"] is not None})
        marks = ",".join("?" * len(ids))
        cases = {c.id: c for c in self._cases(f"select * from cases where id in ({marks})", ids)}
        return [Found(_mention_from_row(row), cases.get(row["found_case"])) for row in rows]

    def count(self, table: str, *, where: str | None = None, params: Sequence[Any] = ()) -> int:
        rows = _table(self.db, table)
        return rows.count_where(where, params) if where else rows.count

    # ---- cases -------------------------------------------------------------------------------

    def open_case(
        self,
        mention: Mention,
        *,
        triage: Triage,
        decision: RouteDecision,
        suggestions: Sequence[dict[str, Any]],
        now: datetime,
        joined_case: int | None = None,
        noise: str | None = None,
    ) -> Case:
        """Create the case for a mention and mark the mention as cased, atomically."""
        row = {
            "mention_id": mention.id,
            "channel": decision.channel,
            "rule": decision.rule,
            "why": decision.why,
            "state": CaseState.OPEN.value,
            "priority": (decision.priority or triage.priority).value,
            "sentiment": triage.sentiment.value,
            "sentiment_score": triage.sentiment_score,
            "lang": triage.lang,
            "suggestions": json.dumps(list(suggestions)),
            "tags": json.dumps(list(decision.tags)),
            "notify": decision.notify,
            "require_approval": int(decision.require_approval),
            "via": decision.via,
            "follow_ups": 0,
            "joined_case": joined_case,
            "noise": noise,
            "created_at": _iso(now),
            "updated_at": _iso(now),
            "activity_at": _iso(now),
            "brand": mention.brand or "",
        }
        member = {"case_id": 0, "mention_id": mention.id, "role": "opener", "at": _iso(now)}
        with self._write() as db:  # plain SQL: three statements, no schema look-ups
            inserted = db.execute(_insert_sql("cases", row), [*row.values()])
            case_id = int(cast(int, inserted.lastrowid))
            db.execute(
                "update mentions set state = ? where id = ?",
                [MentionState.CASED.value, mention.id],
            )
            member["case_id"] = case_id
            db.execute(_insert_sql("case_members", member), [*member.values()])
        return self.case(case_id)

    def case(self, case_id: int) -> Case:
        return _case_from_row(self._row("cases", case_id))

    def _cases(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[Case]:
        args = params if isinstance(params, dict) else list(params)
        return [_case_from_row(row) for row in self.db.query(sql, args)]

    def find_case(self, case_id: int) -> Case | None:
        rows = list(_table(self.db, "cases").rows_where("id = ?", [case_id]))
        return _case_from_row(rows[0]) if rows else None

    def case_suggestions(self, case_id: int) -> list[dict[str, Any]]:
        row = _table(self.db, "cases").get(case_id)
        return list(json.loads(row["suggestions"] or "[]"))

    def case_in_conversation(self, mention: Mention) -> Conversation | None:
        """The case this mention's conversation belongs to, and how it is linked: the author's
        own case there if they have one (a customer answering someone else in their thread
        still writes in their case), else the latest.

        ``direct`` when the mention answers one of the case's posts or the case opened the
        conversation; otherwise they only share a conversation (say, replies to a brand post).
        """
        if not mention.conversation_id and not mention.in_reply_to:
            return None
        row = self.db.execute(
            "select cm.case_id, max(m.native_id = :root or m.id = :parent) from case_members cm "
            "join mentions m on m.id = cm.mention_id join cases c on c.id = cm.case_id "
            "join mentions opener on opener.id = c.mention_id "
            "where m.network = :network and m.id != :id "
            "and (m.conversation_id = :root or m.native_id = :root or m.id = :parent) "
            "group by cm.case_id "
            "order by max(opener.author_id = :author and :author != '') desc, cm.case_id desc "
            "limit 1",
            {
                "root": mention.conversation_id or "",
                "parent": mention.in_reply_to or "",
                "network": mention.network,
                "id": mention.id,
                "author": mention.author.id,
            },
        ).fetchone()
        if row:
            return Conversation(self.case(row[0]), bool(row[1]))
        return self._answering_our_reply(mention)

    def _answering_our_reply(self, mention: Mention) -> Conversation | None:
        """A post that answers one of our public replies belongs to that reply's case (networks
        without a conversation id, like Mastodon, link a follow-up only this way)."""
        if not mention.in_reply_to:
            return None
        row = self.db.execute(
            "select o.case_id from outbox o join mentions m on m.id = o.mention_id "
            "where o.post_id = ? and m.network = ? order by o.id desc limit 1",
            [mention.in_reply_to.split(":", 1)[1], mention.network],
        ).fetchone()
        return Conversation(self.case(row[0]), True) if row else None

    def add_follow_up(
        self,
        case_id: int,
        mention_id: str,
        *,
        now: datetime,
        decision: RouteDecision | None = None,
        triage: Triage | None = None,
    ) -> list[str]:
        """The customer wrote again: the mention joins the case, which is open again.

        The follow-up's own triage and routing can only raise the case (a higher priority, new
        tags, approval now needed, someone to notify); returns what it raised, in words.
        """
        case = self.case(case_id)
        raised, update = _raise_case(case, decision, triage)
        with self._write() as db:
            member = {"case_id": case_id, "mention_id": mention_id, "role": "follow_up"}
            _table(db, "case_members").insert({**member, "at": _iso(now)})
            _table(db, "mentions").update(mention_id, {"state": MentionState.CASED.value})
            db.execute(
                "update cases set follow_ups = coalesce(follow_ups, 0) + 1, state = ?, "
                "closed_at = null, activity_at = ?, updated_at = ? where id = ?",
                [CaseState.OPEN.value, _iso(now), _iso(now), case_id],
            )
            if update:
                _table(db, "cases").update(case_id, update)
        return raised

    def recent_open_cases(self, channel: str, *, since: datetime) -> list[tuple[Case, Mention]]:
        rows = self.db.query(
            "select * from cases where channel = ? and state = ? and created_at >= ? order by id",
            [channel, CaseState.OPEN.value, _iso(since)],
        )
        cases = [_case_from_row(row) for row in rows]
        return [(case, self.mention(case.mention_id)) for case in cases]

    def start_storm(self, channel: str, members: Sequence[int], *, now: datetime) -> int:
        with self._write() as db:
            row = {"channel": channel, "created_at": _iso(now), "updated_at": _iso(now)}
            storm_id = int(cast(int, _table(db, "storms").insert(row).last_pk))
            for case_id in members:
                _table(db, "cases").update(case_id, {"storm_id": storm_id})
        return storm_id

    def join_storm(self, storm_id: int, case_id: int, *, now: datetime) -> None:
        with self._write() as db:
            _table(db, "cases").update(case_id, {"storm_id": storm_id})
            _table(db, "storms").update(storm_id, {"updated_at": _iso(now)})

    def storm(self, storm_id: int) -> Storm:
        row = _table(self.db, "storms").get(storm_id)
        return Storm(
            id=row["id"],
            channel=row["channel"],
            channel_id=row["channel_id"],
            card_ts=row["card_ts"],
            permalink=row["permalink"],
            created_at=_parse(row["created_at"]) or _epoch(),
            updated_at=_parse(row["updated_at"]) or _epoch(),
        )

    def storm_members(self, storm_id: int) -> list[tuple[Case, Mention]]:
        rows = _table(self.db, "cases").rows_where("storm_id = ?", [storm_id], order_by="id")
        cases = [_case_from_row(row) for row in rows]
        return [(case, self.mention(case.mention_id)) for case in cases]

    def set_storm_card(self, storm_id: int, *, channel_id: str, ts: str, permalink: str) -> None:
        card = {"channel_id": channel_id, "card_ts": ts, "permalink": permalink}
        _table(self.db, "storms").update(storm_id, card)

    def count_cases(
        self, kind: str, value: str, *, since: datetime, until: datetime, inclusive: bool = False
    ) -> int:
        """Cases opened in [since, until) (or [since, until]) by a rule, or carrying a tag."""
        match = (
            "rule = ?"
            if kind == "rule"
            else ("exists (select 1 from json_each(cases.tags) where json_each.value = ?)")
        )
        upto = "<=" if inclusive else "<"
        sql = (
            f"select count(*) from cases where {match} and created_at >= ? and created_at {upto} ?"
        )
        return int(self.db.execute(sql, [value, _iso(since), _iso(until)]).fetchone()[0])

    def record_alert(self, key: str, *, now: datetime) -> bool:
        """True the first time ``key`` alerts in this hour; False if it already did."""
        bucket = f"{key}@{now.astimezone(UTC):%Y-%m-%dT%H}"
        with self._write() as db:
            if list(_table(db, "alerts").rows_where("key = ?", [bucket])):
                return False
            _table(db, "alerts").insert({"key": bucket, "at": _iso(now), "detail": key})
        return True

    def latest_from_customer(self, case_id: int) -> Mention:
        """The customer's latest post in the case: replies answer this one."""
        row = self.db.execute(
            "select cm.mention_id from case_members cm join mentions m on m.id = cm.mention_id "
            "where cm.case_id = ? order by coalesce(m.created_at, m.received_at) desc, "
            "m.rowid desc limit 1",
            [case_id],
        ).fetchone()
        return self.mention(row[0])

    def cases_without_card(self) -> list[Case]:
        rows = _table(self.db, "cases").rows_where("card_ts is null", order_by="id")
        return [_case_from_row(row) for row in rows]

    def open_cases(self) -> list[Case]:
        """Open cases, oldest first (the ``(state, created_at)`` index gives them in order)."""
        sql = "select * from cases where state = ? order by created_at, id"
        return [_case_from_row(row) for row in self._dicts(sql, [CaseState.OPEN.value])]

    def set_card(self, case_id: int, *, channel_id: str, ts: str, permalink: str) -> None:
        card = {"channel_id": channel_id, "card_ts": ts, "permalink": permalink}
        _table(self.db, "cases").update(case_id, card)

    def claim(self, case_id: int, agent_id: str, *, now: datetime, take_over: bool = False) -> bool:
        """Lock an open case to one agent; True if this agent holds it afterwards.

        ``take_over`` (a lead stepping in) moves an existing claim; otherwise it is respected.
        """
        sql = (
            "update cases set claimed_by = ?, claimed_at = ?, updated_at = ? "
            "where id = ? and state = ? and (claimed_by is null or claimed_by = ? or ?)"
        )
        params = [
            agent_id,
            _iso(now),
            _iso(now),
            case_id,
            CaseState.OPEN.value,
            agent_id,
            take_over,
        ]
        return self._changed(sql, params)

    def release(self, case_id: int, *, now: datetime) -> None:
        update = {"claimed_by": None, "claimed_at": None, "updated_at": _iso(now)}
        _table(self.db, "cases").update(case_id, update)

    def close_case(
        self, case_id: int, *, state: CaseState, by: str, now: datetime, take_over: bool = False
    ) -> bool:
        """Close an open case; False if it was no longer open, or (unless ``take_over``, a
        lead stepping in) someone else holds it."""
        sql = (
            "update cases set state = ?, closed_by = ?, closed_at = ?, updated_at = ? "
            "where id = ? and state = ? and (claimed_by is null or claimed_by = ? or ?)"
        )
        params = [
            state.value,
            by,
            _iso(now),
            _iso(now),
            case_id,
            CaseState.OPEN.value,
            by,
            take_over,
        ]
        return self._changed(sql, params)

    def reopen_case(self, case_id: int, *, now: datetime) -> bool:
        sql = (
            "update cases set state = ?, closed_by = null, closed_at = null, claimed_by = null, "
            "updated_at = ? where id = ? and state in (?, ?)"
        )
        closed = (CaseState.DISMISSED.value, CaseState.RESOLVED.value)
        return self._changed(sql, [CaseState.OPEN.value, _iso(now), case_id, *closed])

    def record_reply(
        self, case_id: int, *, agent_id: str, url: str, now: datetime, closes: bool = True
    ) -> None:
        """The case got a public reply. It closes the case only if it answered the customer's
        latest post; a reply to an older one leaves the case open for the newer one."""
        update: dict[str, Any] = {"replied_by": agent_id, "reply_url": url, "updated_at": _iso(now)}
        if closes:
            update |= {
                "state": CaseState.REPLIED.value,
                "closed_by": agent_id,
                "closed_at": _iso(now),
            }
        with self._write() as db:
            _table(db, "cases").update(case_id, update)
            db.execute(
                "update cases set first_response_at = coalesce(first_response_at, ?), "
                "responded_at = ? where id = ?",
                [_iso(now), _iso(now), case_id],
            )

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
        text: str | Sequence[str],
        template: str | None,
        now: datetime,
        send_after: datetime | None = None,
        approved_by: str | None = None,
    ) -> tuple[Reply, bool]:
        """Write a confirmed reply to the outbox before it is sent. Same key, same row.

        A thread (several texts) becomes one row per part, each waiting for the part before it;
        the first part is returned.
        """
        parts = [text] if isinstance(text, str) else list(text)
        row = {
            "key": key,
            "case_id": case.id,
            "mention_id": mention.id,
            "network": mention.network,
            "in_reply_to": mention.native_id,
            "agent_id": agent_id,
            "template": template,
            "state": OutboxState.PENDING.value,
            "attempts": 0,
            "created_at": _iso(now),
            "updated_at": _iso(now),
            "send_after": _iso(send_after),
            "parts": len(parts),
            "approved_by": approved_by,
        }
        with self._write() as db:
            existing = list(_table(db, "outbox").rows_where("key = ?", [key]))
            if existing:
                return _reply_from_row(existing[0]), False
            busy = db.execute(
                "select id, state from outbox where case_id = ? and state in (?, ?) limit 1",
                [case.id, OutboxState.PENDING.value, OutboxState.SENDING.value],
            ).fetchone()
            if busy:
                raise ReplyInFlightError(f"reply {busy[0]} is {busy[1]}")
            first = parent = None
            for number, part in enumerate(parts, start=1):
                suffix = f"#{number}" if number > 1 else ""
                values = {"text": part, "part": number, "parent_id": parent}
                parent = _table(db, "outbox").insert(row | values | {"key": key + suffix}).last_pk
                first = first or parent
        return self.reply(int(cast(int, first))), True

    def next_part(self, reply_id: int) -> Reply | None:
        """The part of a thread that follows this one, if any."""
        rows = _table(self.db, "outbox").rows_where("parent_id = ?", [reply_id], limit=1)
        return next((_reply_from_row(row) for row in rows), None)

    def thread_parts(self, reply: Reply) -> list[Reply]:
        """Every part of the thread ``reply`` belongs to, first to last."""
        head = reply.key.split("#", 1)[0]
        rows = _table(self.db, "outbox").rows_where(
            "case_id = ? and (key = ? or key like ?)",
            [reply.case_id, head, head + "#%"],
            order_by="part, id",
        )
        return [_reply_from_row(row) for row in rows]

    def reply_by_key(self, key: str) -> Reply | None:
        rows = _table(self.db, "outbox").rows_where("key = ?", [key], limit=1)
        return next((_reply_from_row(row) for row in rows), None)

    def reply_times(self, reply_id: int) -> dict[str, Any]:
        """When a reply was confirmed (written to the outbox) and sent (its last part)."""
        row = _table(self.db, "outbox").get(reply_id)
        last = self.db.execute(
            "select max(sent_at) from outbox where case_id = ? and (key = ? or key like ?)",
            [row["case_id"], row["key"], row["key"] + "#%"],
        ).fetchone()
        return {"created_at": row["created_at"], "sent_at": _parse(last[0] if last else None)}

    def reply(self, reply_id: int) -> Reply:
        return _reply_from_row(_table(self.db, "outbox").get(reply_id))

    def find_reply(self, reply_id: int) -> Reply | None:
        rows = list(_table(self.db, "outbox").rows_where("id = ?", [reply_id]))
        return _reply_from_row(rows[0]) if rows else None

    def latest_reply(self, case_id: int) -> Reply | None:
        """The case's latest reply; for a thread, its first part not yet sent, else its last."""
        rows = _table(self.db, "outbox").rows_where(
            "case_id = ?", [case_id], order_by="id desc", limit=1
        )
        latest = next((_reply_from_row(row) for row in rows), None)
        if latest is None or latest.parts == 1:
            return latest
        parts = self.thread_parts(latest)
        return next((p for p in parts if p.state is not OutboxState.SENT), parts[-1])

    def replies(self, state: OutboxState, *, older_than: datetime | None = None) -> list[Reply]:
        where, params = "state = ?", [state.value]
        if older_than is not None:
            where += " and updated_at < ?"
            params.append(_iso(older_than) or "")
        rows = _table(self.db, "outbox").rows_where(where, params, order_by="id")
        return [_reply_from_row(row) for row in rows]

    def due_replies(self, *, now: datetime, stale_before: datetime) -> list[Reply]:
        """Pending replies to send now: paced ones whose time has come, and stragglers."""
        rows = _table(self.db, "outbox").rows_where(
            "state = ? and ((send_after is null and updated_at < ?) or send_after <= ?) "
            "and (parent_id is null or parent_id in (select id from outbox where state = ?))",
            [OutboxState.PENDING.value, _iso(stale_before), _iso(now), OutboxState.SENT.value],
            order_by="coalesce(send_after, created_at), id",
        )
        return [_reply_from_row(row) for row in rows]

    def move_case(self, case_id: int, *, channel: str, why: str, now: datetime) -> None:
        """The case belongs elsewhere: a new card will be posted there (the old one remains)."""
        update = {
            "channel": channel,
            "why": why,
            "rule": None,
            "via": "moved",
            "channel_id": None,
            "card_ts": None,
            "permalink": None,
            "storm_id": None,
            "updated_at": _iso(now),
        }
        _table(self.db, "cases").update(case_id, update)

    def start_sending(self, reply_id: int, *, now: datetime) -> bool:
        """pending -> sending for exactly one caller; the winner is the only one that sends."""
        sql = (
            "update outbox set state = ?, attempts = attempts + 1, updated_at = ? "
            "where id = ? and state = ?"
        )
        params = [OutboxState.SENDING.value, _iso(now), reply_id, OutboxState.PENDING.value]
        with self._durable():
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
        send_after: datetime | None = None,
        expect: OutboxState | None = None,
        attempts: int | None = None,
    ) -> Reply:
        """Move a reply to ``state``; with ``expect``, only if it is still in that state (two
        threads never overwrite each other's result). ``attempts`` sets its count of tries."""
        update: dict[str, Any] = {
            "state": state.value,
            "updated_at": _iso(now),
            "error": error,
            "send_after": _iso(send_after),
        }
        if attempts is not None:
            update["attempts"] = attempts
        if state is OutboxState.SENT:
            update |= {"post_id": post_id, "post_url": post_url, "sent_at": _iso(now)}
        where = "id = ?"
        params: list[Any] = [reply_id]
        if expect is not None:
            where = "id = ? and state = ?"
            params = [reply_id, expect.value]
        assignments = ", ".join(f"{column} = ?" for column in update)
        with self._write() as db:
            db.execute(
                f"update outbox set {assignments} where {where}", [*update.values(), *params]
            )
        return self.reply(reply_id)

    def cancel_pending(self, case_id: int, *, reason: str, now: datetime) -> int:
        """Replies still waiting for a case that no longer wants them are not sent."""
        sql = (
            "update outbox set state = ?, error = ?, updated_at = ? where case_id = ? and state = ?"
        )
        params = [
            OutboxState.CANCELLED.value,
            reason,
            _iso(now),
            case_id,
            OutboxState.PENDING.value,
        ]
        with self._write() as db:
            return int(db.execute(sql, params).rowcount)

    def answered(self, *, limit: int = 20_000) -> list[tuple[str, str, str, str, str, str]]:
        """Recent public replies with what they answered, newest last, to teach suggestions:
        (mention text, reply text, template or "", brand, case channel, language)."""
        rows = self.db.execute(
            "select m.text, o.text, coalesce(o.template, ''), coalesce(m.brand, ''), c.channel, "
            "coalesce(c.lang, '') from outbox o join mentions m on m.id = o.mention_id "
            "join cases c on c.id = o.case_id where o.state = ? and coalesce(o.part, 1) = 1 "
            "order by o.id desc limit ?",
            [OutboxState.SENT.value, limit],
        ).fetchall()
        return [tuple(row) for row in reversed(rows)]

    # ---- approvals and internal notes --------------------------------------------------------

    def request_approval(
        self,
        *,
        key: str,
        case: Case,
        mention: Mention,
        agent_id: str,
        body: str,
        parts: Sequence[str],
        template: str | None,
        reason: str,
        now: datetime,
    ) -> tuple[Approval, bool]:
        """Store a reply that waits for a lead. Same key, same request; one pending per case."""
        row = {
            "key": key,
            "case_id": case.id,
            "mention_id": mention.id,
            "agent_id": agent_id,
            "body": body,
            "parts": json.dumps(list(parts), ensure_ascii=False),
            "template": template,
            "state": ApprovalState.PENDING.value,
            "reason": reason,
            "requested_at": _iso(now),
        }
        with self._write() as db:
            existing = list(_table(db, "approvals").rows_where("key = ?", [key]))
            if existing:
                return _approval_from_row(existing[0]), False
            if self.pending_approval(case.id) is not None:
                raise ReplyInFlightError("a reply is waiting for a lead's approval")
            approval_id = _table(db, "approvals").insert(row).last_pk
        return self.approval(int(cast(int, approval_id))), True

    def approval(self, approval_id: int) -> Approval:
        return _approval_from_row(_table(self.db, "approvals").get(approval_id))

    def find_approval(self, approval_id: int) -> Approval | None:
        rows = _table(self.db, "approvals").rows_where("id = ?", [approval_id], limit=1)
        return next((_approval_from_row(row) for row in rows), None)

    def pending_approval(self, case_id: int) -> Approval | None:
        rows = _table(self.db, "approvals").rows_where(
            "case_id = ? and state = ?", [case_id, ApprovalState.PENDING.value], limit=1
        )
        return next((_approval_from_row(row) for row in rows), None)

    def decide_approval(
        self, approval_id: int, *, state: ApprovalState, by: str, now: datetime, note: str = ""
    ) -> bool:
        """pending -> approved | rejected, once: a second lead's click changes nothing."""
        sql = (
            "update approvals set state = ?, decided_by = ?, decided_at = ?, note = ? "
            "where id = ? and state = ?"
        )
        params = [state.value, by, _iso(now), note, approval_id, ApprovalState.PENDING.value]
        return self._changed(sql, params)

    def update_approval(self, approval_id: int, **values: Any) -> None:
        """Record where the request was posted, the edited text, or the reply it became."""
        if "parts" in values:
            values["parts"] = json.dumps(list(values["parts"]), ensure_ascii=False)
        _table(self.db, "approvals").update(approval_id, values)

    def add_note(self, *, case_id: int, author: str, text: str, ts: str, now: datetime) -> bool:
        """Keep a thread message as an internal note; Slack's retries add nothing twice."""
        row = {"ts": ts, "case_id": case_id, "author": author, "text": text, "at": _iso(now)}
        with self._write() as db:
            return bool(
                db.execute(
                    "insert or ignore into notes (ts, case_id, author, text, at) "
                    "values (:ts, :case_id, :author, :text, :at)",
                    row,
                ).rowcount
            )

    def notes(self, case_id: int) -> list[Note]:
        rows = _table(self.db, "notes").rows_where("case_id = ?", [case_id], order_by="ts")
        return [
            Note(r["case_id"], r["author"], r["text"], r["ts"], _parse(r["at"]) or _epoch())
            for r in rows
        ]

    def count_notes(self, case_id: int) -> int:
        row = self.db.execute("select count(*) from notes where case_id = ?", [case_id]).fetchone()
        return int(row[0])

    def case_by_card(self, *, channel_id: str, ts: str) -> Case | None:
        """The case whose card is this Slack message (its thread holds the case's notes)."""
        rows = _table(self.db, "cases").rows_where(
            "channel_id = ? and card_ts = ?", [channel_id, ts], limit=1
        )
        return next((_case_from_row(row) for row in rows), None)

    # ---- routing rules: versions, proposals, examples, customer tags -------------------------

    def latest_ruleset_version(self) -> int | None:
        """The newest rules version, cheaply (the rules are parsed only when it changed)."""
        row = self.db.execute("select max(id) from rulesets").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def example_channels(self) -> list[str]:
        rows = self.db.execute("select distinct channel from examples order by channel")
        return [str(row[0]) for row in rows.fetchall()]

    def latest_ruleset(self) -> Ruleset | None:
        rows = _table(self.db, "rulesets").rows_where(order_by="id desc", limit=1)
        return next((_ruleset_from_row(row) for row in rows), None)

    def ruleset(self, version: int) -> Ruleset:
        return _ruleset_from_row(_table(self.db, "rulesets").get(version))

    def rulesets(self, *, limit: int = 20) -> list[Ruleset]:
        rows = _table(self.db, "rulesets").rows_where(order_by="id desc", limit=limit)
        return [_ruleset_from_row(row) for row in rows]

    def save_ruleset(
        self,
        rules: Sequence[RuleSpec],
        *,
        fallback: str,
        actor: str,
        action: str,
        summary: str,
        now: datetime,
        base_version: int | None,
    ) -> Ruleset:
        """A new version of the whole rule list, only if nobody saved one since ``base_version``."""
        with self._write() as db:
            latest = next(iter(db.execute("select max(id) from rulesets").fetchall()))[0]
            if latest != base_version:
                raise StaleRulesError(latest)
            row = {
                "at": _iso(now),
                "actor": actor,
                "action": action,
                "summary": summary,
                "rules": json.dumps([r.to_dict() for r in rules], ensure_ascii=False),
                "fallback": fallback,
            }
            version = int(cast(int, _table(db, "rulesets").insert(row).last_pk))
        return self.ruleset(version)

    def add_proposal(
        self,
        rules: Sequence[RuleSpec],
        *,
        actor: str,
        base_version: int,
        action: str,
        summary: str,
        now: datetime,
    ) -> int:
        row = {
            "at": _iso(now),
            "actor": actor,
            "base_version": base_version,
            "action": action,
            "summary": summary,
            "rules": json.dumps([r.to_dict() for r in rules]),
        }
        with self._write() as db:
            return int(cast(int, _table(db, "proposals").insert(row).last_pk))

    def find_proposal(self, proposal_id: int) -> Proposal | None:
        rows = list(_table(self.db, "proposals").rows_where("id = ?", [proposal_id]))
        return self.proposal(proposal_id) if rows else None

    def proposal(self, proposal_id: int) -> Proposal:
        row = _table(self.db, "proposals").get(proposal_id)
        return Proposal(
            id=row["id"],
            actor=row["actor"],
            base_version=row["base_version"],
            action=row["action"] or "",
            summary=row["summary"] or "",
            rules=_specs(row["rules"]),
        )

    def add_examples(
        self,
        examples: Iterable[tuple[str, str]],
        *,
        source: str,
        actor: str,
        now: datetime,
        mention_id: str | None = None,
    ) -> int:
        rows = [
            {
                "text": text,
                "channel": channel,
                "source": source,
                "mention_id": mention_id,
                "actor": actor,
                "at": _iso(now),
            }
            for text, channel in examples
        ]
        with self._write() as db:
            _table(db, "examples").insert_all(rows)
        return len(rows)

    def examples(self) -> list[tuple[str, str]]:
        rows = self.db.execute("select text, channel from examples order by id").fetchall()
        return [(str(text), str(channel)) for text, channel in rows]

    def customer_tags(self, network: str, handle: str) -> frozenset[str]:
        sql = "select tags from customers where key = ?"
        row = self.db.execute(sql, [_customer(network, handle)]).fetchone()
        return frozenset(json.loads(row[0] or "[]")) if row else frozenset()

    def set_customer_tags(
        self, network: str, handle: str, tags: Iterable[str], *, actor: str, now: datetime
    ) -> None:
        row = {
            "key": _customer(network, handle),
            "network": network,
            "handle": handle,
            "tags": json.dumps(sorted(set(tags))),
            "updated_at": _iso(now),
            "updated_by": actor,
        }
        with self._write() as db:
            _table(db, "customers").upsert(row, pk="key")

    def recent_mentions(self, limit: int) -> list[tuple[Mention, int]]:
        """The latest mentions that opened cases, with their case id, newest first (dry-runs)."""
        rows = self.db.query(
            "select m.*, c.case_id as earshot_case from mentions m "
            "join case_members c on c.mention_id = m.id "
            "where c.role = 'opener' order by m.rowid desc limit ?",
            [limit],
        )
        return [(_mention_from_row(row), int(row["earshot_case"])) for row in rows]

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
        """Set a cursor; an empty value removes it (a gap that has been filled)."""
        if not value:
            self.db.execute("delete from cursors where key = ?", [key])
            return
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
        "visibility": m.visibility,
        "received_at": _iso(received_at),
        "state": MentionState.NEW.value,
        "skip_reason": None,
    }


def _quarantine_payload(m: Mention) -> str:
    """The mention and its raw payload as ASCII JSON (``\\udXXX`` escapes keep a surrogate)."""
    a = m.author
    fields = {
        "id": m.id,
        "network": m.network,
        "brand": m.brand,
        "text": m.text,
        "author": [a.id, a.handle, a.name, a.followers, a.verified],
        "created_at": _iso(m.created_at),
        "lang": m.lang,
        "conversation_id": m.conversation_id,
        "in_reply_to": m.in_reply_to,
        "kind": str(m.kind),
        "url": m.url,
        "visibility": m.visibility,
    }
    try:
        return json.dumps({"mention": fields, "raw": m.raw}, default=repr)
    except ValueError:  # a payload that holds itself
        return json.dumps({"mention": fields, "raw": repr(m.raw)})


def _valid_text(text: str) -> bool:
    """False for a string UTF-8 cannot hold (a lone surrogate): SQLite would refuse it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ascii(text: str) -> str:
    """Text that always fits in SQLite: anything outside ASCII as a backslash escape."""
    return text.encode("ascii", "backslashreplace").decode("ascii")


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
        visibility=row.get("visibility") or "public",
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
        tags=tuple(json.loads(row.get("tags") or "[]")),
        notify=row.get("notify") or "",
        require_approval=bool(row.get("require_approval")),
        via=row.get("via") or "rule",
        follow_ups=row.get("follow_ups") or 0,
        joined_case=row.get("joined_case"),
        storm_id=row.get("storm_id"),
        noise=row.get("noise"),
        lang=row.get("lang") or "",
        brand=row.get("brand") or "",
        sla_kind=row.get("sla_kind") or "",
        sla_started=_parse(row.get("sla_started")),
        sla_remind=_parse(row.get("sla_remind")),
        sla_due=_parse(row.get("sla_due")),
        sla_notified=row.get("sla_notified") or "",
        first_response_at=_parse(row.get("first_response_at")),
        snoozed_until=_parse(row.get("snoozed_until")),
        assigned_by=row.get("assigned_by"),
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
        send_after=_parse(row.get("send_after")),
        part=row.get("part") or 1,
        parts=row.get("parts") or 1,
        parent_id=row.get("parent_id"),
        approved_by=row.get("approved_by"),
        created_at=_parse(row.get("created_at")),
        updated_at=_parse(row.get("updated_at")),
    )


def _approval_from_row(row: dict[str, Any]) -> Approval:
    return Approval(
        id=row["id"],
        key=row["key"],
        case_id=row["case_id"],
        mention_id=row["mention_id"],
        agent_id=row["agent_id"],
        body=row["body"] or "",
        parts=tuple(json.loads(row["parts"])),
        template=row["template"],
        state=ApprovalState(row["state"]),
        reason=row["reason"] or "",
        requested_at=_parse(row["requested_at"]) or _epoch(),
        decided_by=row["decided_by"],
        decided_at=_parse(row["decided_at"]),
        note=row["note"] or "",
        channel_id=row["channel_id"],
        message_ts=row["message_ts"],
        reply_id=row["reply_id"],
    )


class ReplyInFlightError(Exception):
    """The case already has a reply pending or being sent: one at a time per case."""


_LEVELS = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)


def _raise_case(
    case: Case, decision: RouteDecision | None, triage: Triage | None
) -> tuple[list[str], dict[str, Any]]:
    """What a follow-up's triage and routing add to its case (never lowering anything)."""
    raised: list[str] = []
    update: dict[str, Any] = {}
    if triage is not None:
        update["sentiment"] = triage.sentiment.value
        update["sentiment_score"] = triage.sentiment_score
    priority = (decision.priority if decision else None) or (triage.priority if triage else None)
    if priority is not None and _LEVELS.index(priority) > _LEVELS.index(case.priority):
        update["priority"] = priority.value
        raised.append(f"priority {priority.value}")
    if decision is None or decision.rule is None:
        return raised, update
    tags = [t for t in decision.tags if t not in case.tags]
    if tags:
        update["tags"] = json.dumps([*case.tags, *tags])
        raised.append("tags " + ", ".join(tags))
    if decision.require_approval and not case.require_approval:
        update["require_approval"] = 1
        raised.append("replies now need a lead's approval")
    if decision.notify and decision.notify != case.notify:
        update["notify"] = decision.notify
        raised.append(f"notify {decision.notify}")
    if raised:
        raised.insert(0, f"rule “{decision.rule}” matched it")
    return raised, update


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A mention SQLite would not take, kept apart in ``quarantine`` (ids and error in ASCII)."""

    mention_id: str
    network: str
    error: str


@dataclass(frozen=True, slots=True)
class Saved:
    """One page stored: the ids that were new, and what was quarantined instead."""

    new: list[str]
    quarantined: list[Quarantined]


@dataclass(frozen=True, slots=True)
class Storm:
    id: int
    channel: str
    channel_id: str | None
    card_ts: str | None
    permalink: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Conversation:
    case: Case
    direct: bool


@dataclass(frozen=True, slots=True)
class Found:
    """A search match: the mention, and the case it opened or joined (None: not a case, say a
    retweet set aside)."""

    mention: Mention
    case: Case | None


class SearchQueryError(ValueError):
    """A search without a word to look for; the message says what to type instead."""


_SEARCH_WORD = re.compile(r"[^\W_]+")
SEARCH_MAX_WORDS = 8


def fts_query(text: str) -> str:
    """An FTS5 query for the words of ``text``: each word quoted (so nothing the user types is
    FTS syntax: no operators, columns or unbalanced quotes) and matched as a prefix; all must
    occur. A one-letter word must occur whole (as a prefix it would match most posts)."""
    words = _SEARCH_WORD.findall(text)[:SEARCH_MAX_WORDS]
    if not words:
        raise SearchQueryError(
            f"“{text.strip()[:40]}” has no word to search for. "
            "Give one or more words, e.g. `/mentions search refund delayed`."
            if text.strip()
            else "Search for what? Give one or more words, e.g. `/mentions search refund`."
        )
    return " ".join(f'"{w}"' + ("*" if len(w) > 1 else "") for w in words)


def _customer(network: str, handle: str) -> str:
    return f"{network}:{handle.lstrip('@').lower()}"


def _specs(text: str) -> tuple[RuleSpec, ...]:
    specs, problems = parse_rules(json.loads(text or "[]"), where="rules")
    if problems:  # stored rules were validated when saved; this means a hand-edited database
        raise ValueError("stored rules are invalid: " + "; ".join(map(str, problems)))
    return tuple(specs)


def _ruleset_from_row(row: dict[str, Any]) -> Ruleset:
    return Ruleset(
        version=row["id"],
        rules=_specs(row["rules"]),
        fallback=row["fallback"] or "",
        at=_parse(row["at"]) or _epoch(),
        actor=row["actor"],
        action=row["action"] or "",
        summary=row["summary"] or "",
    )


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, UTC)
