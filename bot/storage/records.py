"""Agents, source cursors and the audit log.

A mixin of ``bot.storage.store.Store`` (the one gateway to SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.models import (
    Agent,
)
from bot.storage.base import Base, _iso, _table


class Records(Base):
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
