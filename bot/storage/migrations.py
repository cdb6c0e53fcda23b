"""The database's schema, as numbered migrations (sqlite-utils ``Migrations``): each runs once,
in order, at start-up, so an older database is brought up to date without losing a row."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.storage.base import _table

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


@migrations(name="0010_priority_reasons")
def _priority_reasons(db: Database) -> None:
    """Why a case has its priority ("very negative", "urgent term …", a rule's bump), as a JSON
    list, so the card can say it. Earlier cases have none recorded."""
    _table(db, "cases").add_column("priority_reasons", str)
