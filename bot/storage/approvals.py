"""Approvals (replies waiting for a lead) and internal notes (a card's thread).

A mixin of ``bot.storage.store.Store`` (the one gateway to SQLite)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from bot.models import (
    Approval,
    ApprovalState,
    Case,
    Mention,
    Note,
)
from bot.storage.base import _epoch, _iso, _parse, _table
from bot.storage.cases import _case_from_row
from bot.storage.outbox_rows import OutboxRecords, ReplyInFlightError


class ApprovalRecords(OutboxRecords):
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
