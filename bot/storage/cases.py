"""Cases: opened from mentions, their cards, conversations and follow-ups, claims and
closing, storms, moves, replies recorded.

A mixin of ``bot.storage.store.Store`` (the one gateway to SQLite)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from bot.decide.assess import priority_reasons
from bot.models import (
    Case,
    CaseState,
    Mention,
    MentionState,
    Priority,
    RouteDecision,
    Sentiment,
    Triage,
)
from bot.storage.base import _epoch, _insert_sql, _iso, _parse, _table
from bot.storage.mentions import Mentions


class Cases(Mentions):
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
            "priority_reasons": json.dumps(priority_reasons(triage, decision)),
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
        priority_reasons=tuple(json.loads(row.get("priority_reasons") or "[]")),
    )


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
        if triage is not None:
            update["priority_reasons"] = json.dumps(priority_reasons(triage, decision))
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


def _customer(network: str, handle: str) -> str:
    return f"{network}:{handle.lstrip('@').lower()}"
