"""Mentions: stored first (idempotently, with the poll's cursors), quarantined when
SQLite refuses one, read back, searched (FTS5).

A mixin of ``bot.storage.store.Store`` (the one gateway to SQLite)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.models import (
    Author,
    Case,
    Mention,
    MentionKind,
    MentionState,
)
from bot.storage.base import UNSTORABLE, _insert_sql, _iso, _parse
from bot.storage.records import Records


class Mentions(Records):
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
