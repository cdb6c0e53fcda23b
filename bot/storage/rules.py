"""Routing rules and their versions, proposals a lead dry-runs, labelled examples for
learned routing, customer tags.

A mixin of ``bot.storage.store.Store`` (the one gateway to SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from bot.decide.rules import Proposal, Ruleset, RuleSpec, StaleRulesError, parse_rules
from bot.models import (
    Mention,
)
from bot.storage.approvals import ApprovalRecords
from bot.storage.base import _epoch, _iso, _parse, _table
from bot.storage.cases import _customer
from bot.storage.mentions import _mention_from_row


class RuleRecords(ApprovalRecords):
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
