"""Store queries for care operations: SLA clocks, snoozes, duty and assignment, customer history,
ingestion health and API usage, report facts, the audit export.

A mixin of ``bot.storage.store.Store`` (the one gateway to SQLite); the schema is its migration
0004.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.models import Case, CaseState
from bot.storage.base import Base


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class Duty:
    slack_id: str
    on_duty: bool
    open_cases: int  # open cases claimed by them now
    last_assigned_at: datetime | None


@dataclass(frozen=True, slots=True)
class PastCase:
    """One of the customer's earlier cases, as the card's context shows it."""

    id: int
    created_at: datetime
    state: str
    sentiment: str
    sentiment_score: float
    tags: tuple[str, ...]
    notes: int
    permalink: str | None
    text: str


@dataclass(frozen=True, slots=True)
class SourceHealth:
    source: str
    brand: str
    network: str
    last_poll_at: datetime | None
    last_ok_at: datetime | None
    error: str
    error_at: datetime | None
    failures: int  # failed polls in a row
    rate_limited_until: datetime | None
    lost: str  # the latest gap that could not be filled
    lost_at: datetime | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open case a new mention might be a look-alike of (storms)."""

    case_id: int
    mention_id: str
    storm_id: int | None
    text: str


@dataclass(frozen=True, slots=True)
class CardAttempt:
    """A card sent to Slack whose answer was never recorded (a crash, a timeout)."""

    at: datetime
    thread: str | None


class Operations(Base):
    """Mixed into ``Store``: the care-operations queries. ``_cases`` comes from ``Cases``."""

    # ---- SLA clocks --------------------------------------------------------------------------

    def start_sla(
        self, case_id: int, *, kind: str, started: datetime, remind: datetime, due: datetime
    ) -> None:
        """(Re)start the case's SLA clock; nothing has been reminded or escalated on it yet."""
        sql = (
            "update cases set sla_kind = ?, sla_started = ?, sla_remind = ?, sla_due = ?, "
            "sla_notified = '', first_due_at = case when ? = 'first' then ? else first_due_at end "
            "where id = ?"
        )
        params = [kind, _iso(started), _iso(remind), _iso(due), kind, _iso(due), case_id]
        with self._write() as db:
            db.execute(sql, params)

    def clear_sla(self, case_id: int) -> None:
        sql = (
            "update cases set sla_kind = null, sla_started = null, sla_remind = null, "
            "sla_due = null, sla_notified = '' where id = ?"
        )
        with self._write() as db:
            db.execute(sql, [case_id])

    def sla_attention(self, now: datetime) -> list[Case]:
        """Open, awake cases whose clock reached its reminder or its breach not yet told."""
        return self._cases(
            "select * from cases where state = :open and sla_due is not null "
            "and (snoozed_until is null or snoozed_until <= :now) and ("
            "(sla_remind <= :now and coalesce(sla_notified, '') = '') or "
            "(sla_due <= :now and coalesce(sla_notified, '') != 'breached')) order by sla_due, id",
            {"open": CaseState.OPEN.value, "now": _iso(now)},
        )

    def mark_sla(self, case_id: int, *, stage: str, expect: str, due: datetime) -> bool:
        """Record that ``stage`` was told for this clock (``due`` pins the clock: a restarted
        clock is not marked by a stale job)."""
        sql = (
            "update cases set sla_notified = ? where id = ? and coalesce(sla_notified, '') = ? "
            "and sla_due = ?"
        )
        return self._changed(sql, [stage, case_id, expect, _iso(due)])

    # ---- snoozes -----------------------------------------------------------------------------

    def snooze(self, case_id: int, *, until: datetime | None, now: datetime) -> bool:
        sql = "update cases set snoozed_until = ?, updated_at = ? where id = ? and state = ?"
        return self._changed(sql, [_iso(until), _iso(now), case_id, CaseState.OPEN.value])

    def snoozes_over(self, now: datetime) -> list[Case]:
        return self._cases(
            "select * from cases where state = ? and snoozed_until is not null "
            "and snoozed_until <= ? order by snoozed_until, id",
            [CaseState.OPEN.value, _iso(now)],
        )

    def wake(self, case_id: int, *, expect: datetime) -> bool:
        sql = "update cases set snoozed_until = null where id = ? and snoozed_until = ?"
        return self._changed(sql, [case_id, _iso(expect)])

    # ---- duty and assignment -----------------------------------------------------------------

    def set_duty(self, agent_id: str, *, on: bool) -> None:
        with self._write() as db:
            db.execute("update agents set on_duty = ? where slack_id = ?", [int(on), agent_id])

    def roster(self) -> list[Duty]:
        """Active agents with their duty and current load."""
        rows = self.db.execute(
            "select a.slack_id, coalesce(a.on_duty, 0), a.last_assigned_at, "
            "(select count(*) from cases c where c.claimed_by = a.slack_id and c.state = ?) "
            "from agents a where a.active = 1 order by a.slack_id",
            [CaseState.OPEN.value],
        ).fetchall()
        return [Duty(r[0], bool(r[1]), int(r[3]), _parse(r[2])) for r in rows]

    def assign(self, case_id: int, agent_id: str, *, by: str, now: datetime) -> bool:
        """Give an open, unclaimed case to an agent (round-robin or a lead's hand)."""
        with self._write() as db:
            changed = db.execute(
                "update cases set claimed_by = ?, claimed_at = ?, assigned_by = ?, updated_at = ? "
                "where id = ? and state = ? and claimed_by is null",
                [agent_id, _iso(now), by, _iso(now), case_id, CaseState.OPEN.value],
            ).rowcount
            if changed:
                db.execute(
                    "update agents set last_assigned_at = ? where slack_id = ?",
                    [_iso(now), agent_id],
                )
        return bool(changed)

    def mine(self, agent_id: str) -> list[Case]:
        return self._cases(
            "select * from cases where claimed_by = ? and state = ? order by sla_due, id",
            [agent_id, CaseState.OPEN.value],
        )

    # ---- customer history --------------------------------------------------------------------

    def customer_cases(
        self, *, network: str, author_id: str, handle: str, before: int, limit: int = 20
    ) -> list[PastCase]:
        """The customer's earlier cases on this network (same account id, else same handle),
        newest first."""
        by, key = (
            ("m.author_id = ?", author_id)
            if author_id
            else (
                "lower(m.author_handle) = ?",
                handle.lower(),
            )
        )
        rows = self.db.execute(
            "select c.id, c.created_at, c.state, c.sentiment, coalesce(c.sentiment_score, 0), "
            "c.tags, c.permalink, m.text, (select count(*) from notes n where n.case_id = c.id) "
            "from cases c join mentions m on m.id = c.mention_id where m.network = ? and c.id < ? "
            f"and {by} order by c.id desc limit ?",
            [network, before, key, limit],
        ).fetchall()
        return [
            PastCase(
                id=r[0],
                created_at=_parse(r[1]) or datetime.fromtimestamp(0, UTC),
                state=r[2],
                sentiment=r[3],
                sentiment_score=float(r[4]),
                tags=tuple(json.loads(r[5] or "[]")),
                notes=int(r[8]),
                permalink=r[6],
                text=r[7],
            )
            for r in rows
        ]

    # ---- ingestion health and API usage ------------------------------------------------------

    def record_poll(
        self,
        source: str,
        *,
        brand: str,
        network: str,
        now: datetime,
        error: str | None,
        rate_limited_until: datetime | None,
        lost: str | None = None,
    ) -> SourceHealth:
        """One poll's outcome; consecutive failures are counted, a success resets them."""
        before = self.source_health(source)
        failures = (before.failures if before else 0) + 1 if error else 0
        row: dict[str, Any] = {
            "source": source,
            "brand": brand,
            "network": network,
            "last_poll_at": _iso(now),
            "failures": failures,
            "rate_limited_until": _iso(rate_limited_until),
            "error": error or (before.error if before else ""),
            "error_at": _iso(now) if error else _iso(before.error_at if before else None),
            "last_ok_at": _iso(before.last_ok_at if before else None) if error else _iso(now),
        }
        if lost:
            row |= {"lost": lost, "lost_at": _iso(now)}
        with self._write() as db:
            db["source_health"].upsert(row, pk="source")  # type: ignore[union-attr]
        health = self.source_health(source)
        assert health is not None
        return health

    def source_health(self, source: str | None = None) -> SourceHealth | None:
        found = self.sources_health(source)
        return found[0] if found else None

    def sources_health(self, source: str | None = None) -> list[SourceHealth]:
        where, params = ("where source = ?", [source]) if source else ("", [])
        rows = self.db.query(f"select * from source_health {where} order by source", params)
        return [
            SourceHealth(
                source=r["source"],
                brand=r["brand"] or "",
                network=r["network"] or "",
                last_poll_at=_parse(r["last_poll_at"]),
                last_ok_at=_parse(r["last_ok_at"]),
                error=r["error"] or "",
                error_at=_parse(r["error_at"]),
                failures=r["failures"] or 0,
                rate_limited_until=_parse(r["rate_limited_until"]),
                lost=r["lost"] or "",
                lost_at=_parse(r["lost_at"]),
            )
            for r in rows
        ]

    def record_once(self, key: str, *, now: datetime) -> bool:
        """True the first time ``key`` is recorded, ever (alerts that must not repeat)."""
        with self._write() as db:
            return bool(
                db.execute(
                    "insert or ignore into alerts (key, at, detail) values (?, ?, ?)",
                    [f"once:{key}", _iso(now), key],
                ).rowcount
            )

    def first_delivery(self, event_id: str, *, now: datetime, keep: timedelta) -> bool:
        """True the first time Slack delivers ``event_id``; False for its retries. Ids older
        than ``keep`` are forgotten (Slack retries within minutes)."""
        with self._write() as db:
            db.execute("delete from slack_events where at < ?", [_iso(now - keep)])
            return bool(
                db.execute(
                    "insert or ignore into slack_events (event_id, at) values (?, ?)",
                    [event_id, _iso(now)],
                ).rowcount
            )

    def storm_candidates(self, channel: str, *, since: datetime) -> list[Candidate]:
        """Open, non-noise cases of ``channel`` opened since ``since``, with their opening text:
        one query, for comparing every new mention against them."""
        rows = self.db.execute(
            "select c.id, c.mention_id, c.storm_id, m.text from cases c "
            "join mentions m on m.id = c.mention_id "
            "where c.channel = ? and c.state = ? and c.created_at >= ? "
            "and coalesce(c.noise, '') = '' "
            "order by c.id",
            [channel, CaseState.OPEN.value, _iso(since)],
        ).fetchall()
        return [Candidate(int(r[0]), str(r[1]), r[2], str(r[3] or "")) for r in rows]

    def card_attempt(self, case_id: int, *, at: datetime, thread: str | None) -> None:
        """A card is about to be sent: if Slack's answer never gets recorded, look first."""
        with self._write() as db:
            db.execute(
                "update cases set card_sending = ?, card_thread = ? where id = ?",
                [_iso(at), thread, case_id],
            )

    def channel_id_of(self, channel: str) -> str | None:
        """Slack's id for a channel Earshot has posted a card in (None: none recorded yet)."""
        row = self.db.execute(
            "select channel_id from cases where channel = ? and channel_id is not null limit 1",
            [channel],
        ).fetchone()
        return str(row[0]) if row else None

    def card_attempted(self, case_id: int) -> CardAttempt | None:
        """The last unanswered send of a case's card (None: never sent, or posted)."""
        row = self.db.execute(
            "select card_sending, card_thread from cases where id = ? and card_ts is null",
            [case_id],
        ).fetchone()
        sent = _parse(row[0]) if row else None
        return CardAttempt(at=sent, thread=row[1] or None) if sent and row else None

    def add_usage(self, *, month: str, brand: str, kind: str, count: int) -> None:
        """Count billable API use: reads (posts, users) and posts, per brand and month."""
        if count <= 0:
            return
        key = f"{month}|{brand}|{kind}"
        with self._write() as db:
            db.execute(
                "insert into usage (key, month, brand, kind, count) values (?, ?, ?, ?, ?) "
                "on conflict(key) do update set count = count + excluded.count",
                [key, month, brand, kind, count],
            )

    def usage(self, month: str) -> dict[tuple[str, str], int]:
        rows = self.db.execute("select brand, kind, count from usage where month = ?", [month])
        return {(r[0], r[1]): int(r[2]) for r in rows.fetchall()}

    def mentions_since(self, *, brand: str, network: str, since: datetime) -> int:
        row = self.db.execute(
            "select count(*) from mentions where coalesce(brand, '') = ? and network = ? "
            "and received_at >= ?",
            [brand, network, _iso(since)],
        ).fetchone()
        return int(row[0])

    def last_mention_at(self, *, brand: str, network: str) -> datetime | None:
        row = self.db.execute(
            "select max(received_at) from mentions where coalesce(brand, '') = ? and network = ?",
            [brand, network],
        ).fetchone()
        return _parse(row[0]) if row else None

    # ---- reports and audit -------------------------------------------------------------------

    def case_rows(self, *, since: datetime, until: datetime) -> Iterator[dict[str, Any]]:
        """Cases opened in [since, until) with what reports need (the report layer turns them
        into facts, counting response times in business hours)."""
        yield from self.db.query(
            "select c.id, coalesce(c.brand, m.brand, '') as brand, c.channel, m.network, "
            "c.created_at, c.priority, c.sentiment, c.tags, c.state, c.first_response_at, "
            "c.first_due_at, c.closed_by, "
            "(select o.agent_id from outbox o where o.case_id = c.id and o.state = 'sent' "
            "order by o.sent_at, o.id limit 1) as first_agent "
            "from cases c join mentions m on m.id = c.mention_id "
            "where c.created_at >= ? and c.created_at < ? order by c.created_at, c.id",
            [_iso(since), _iso(until)],
        )

    def audit_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        for row in self.db.query("select * from audit where at >= ? order by id", [_iso(since)]):
            yield {**row, "detail": json.loads(row["detail"] or "{}")}
