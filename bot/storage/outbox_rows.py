"""The outbox's records: confirmed public replies, one row per part, and their states
(pending, sending, sent, failed, cancelled); the rules of sending live in bot/desk/outbox.

A mixin of ``bot.storage.store.Store`` (the one gateway to SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from bot.models import (
    Case,
    Mention,
    OutboxState,
    Reply,
)
from bot.storage.base import _iso, _parse, _table
from bot.storage.cases import Cases


class OutboxRecords(Cases):
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


class ReplyInFlightError(Exception):
    """The case already has a reply pending or being sent: one at a time per case."""
