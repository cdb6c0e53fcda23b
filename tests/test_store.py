"""bot/store.py: SQLite via sqlite-utils; idempotent writes, state machines, a conn per thread."""

from __future__ import annotations

import sqlite3
import stat
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import make_mention

from bot.models import (
    Author,
    Case,
    CaseState,
    Mention,
    MentionKind,
    OutboxState,
    Priority,
    RouteDecision,
    Sentiment,
    Triage,
)
from bot.storage.store import Store

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TRIAGE = Triage("en", Sentiment.NEGATIVE, -0.6, Priority.HIGH, ("asks for “refund”",))
DECISION = RouteDecision("#care-booking", "booking", "rule 2 “booking”: keyword “refund”")


TRAVELLER = Author(id="9", handle="traveller", name="Ann Lee", followers=120, verified=True)


def _mention(n: int, text: str = "where is my refund?") -> Mention:
    """Mention number ``n`` (its id, time, link and raw payload follow from it), every field
    set, so a round trip through the store shows what is lost."""
    return make_mention(
        text,
        native_id=n,
        author=TRAVELLER,
        created=NOW - timedelta(minutes=n),
        lang="en",
        kind=MentionKind.MENTION,
        url=f"https://x.com/traveller/status/{n}",
        raw={"id": str(n), "note": "한국어 ok"},
    )


def _case(store: Store, n: int = 1) -> Case:
    mention = _mention(n)
    store.save_mentions([mention], received_at=NOW, cursors={})
    return store.open_case(mention, triage=TRIAGE, decision=DECISION, suggestions=[], now=NOW)


def _reply(store: Store, case: Case, key: str = "k-1", text: str = "Sorry! ^JK") -> int:
    reply, _ = store.add_reply(
        key=key,
        case=case,
        mention=store.mention(case.mention_id),
        agent_id="U0JANEKIM1",
        text=text,
        template="refund-status",
        now=NOW,
    )
    return reply.id


# ---- the database ---------------------------------------------------------------------------


def _later_migrations() -> list[str]:
    from bot.storage.migrations import migrations

    names = [m.name for m in migrations._migrations]
    return names[names.index("0005_search") + 1 :]


_LATER = _later_migrations()  # added after search, in order


def test_migrations_are_applied_and_recorded(store: Store) -> None:
    tables = set(store.db.table_names())
    assert {"mentions", "cases", "outbox", "agents", "cursors", "audit"} <= tables
    applied = [(r["migration_set"], r["name"]) for r in store.db["_sqlite_migrations"].rows]
    assert applied == [
        ("earshot", "0001_initial"),
        ("earshot", "0002_routing_conversations_storms"),
        ("earshot", "0003_voice_approvals_notes"),
        ("earshot", "0004_operations"),
        ("earshot", "0005_search"),
        *(("earshot", name) for name in _LATER),
    ]


def test_a_database_from_the_first_version_is_upgraded_in_place(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from bot.storage.migrations import migrations

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="0002_routing_conversations_storms")
    old["mentions"].insert(
        {
            "id": "x:1",
            "network": "x",
            "text": "hi",
            "state": "cased",  # type: ignore[union-attr]
            "received_at": NOW.isoformat(),
            "kind": "mention",
        }
    )
    old["cases"].insert(
        {
            "mention_id": "x:1",
            "channel": "#a",
            "state": "open",  # type: ignore[union-attr]
            "priority": "normal",
            "sentiment": "neutral",
            "created_at": NOW.isoformat(),
        }
    )
    old.close()
    store = Store(path)
    case = store.case(1)
    assert case.tags == () and case.follow_ups == 0 and case.via == "rule"
    members = list(store.db["case_members"].rows)
    assert [(m["case_id"], m["mention_id"], m["role"]) for m in members] == [(1, "x:1", "opener")]
    found = store.search("hi")  # mentions stored before search existed are indexed too
    assert [(f.mention.id, f.case.id if f.case else None) for f in found] == [("x:1", 1)]


def test_reopening_a_database_applies_nothing_twice(tmp_path: Path) -> None:
    Store(tmp_path / "e.db").close()
    again = Store(tmp_path / "e.db")
    assert again.db["_sqlite_migrations"].count == 5 + len(_LATER)  # each once, never repeated
    again.close()


def test_journal_mode_is_wal(store: Store) -> None:
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_the_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "e.db"
    Store(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---- mentions and cursors -------------------------------------------------------------------


def test_save_mentions_is_idempotent_by_id(store: Store) -> None:
    first = store.save_mentions([_mention(1), _mention(2)], received_at=NOW, cursors={})
    second = store.save_mentions([_mention(2), _mention(1)], received_at=NOW, cursors={})
    assert first == ["x:1", "x:2"]
    assert second == []
    assert store.count("mentions") == 2


def test_the_same_mention_twice_in_one_batch_is_stored_once(store: Store) -> None:
    assert store.save_mentions([_mention(1), _mention(1)], received_at=NOW, cursors={}) == ["x:1"]
    assert store.count("mentions") == 1


def test_save_mentions_writes_cursors_in_the_same_call(store: Store) -> None:
    store.save_mentions([_mention(1)], received_at=NOW, cursors={"x:mentions:42": "1001"})
    store.save_mentions([], received_at=NOW, cursors={"x:mentions:42": "1002"})
    assert store.cursor("x:mentions:42") == "1002"


def test_a_stored_mention_round_trips(store: Store) -> None:
    store.save_mentions([_mention(1)], received_at=NOW, cursors={})
    loaded = store.mention("x:1")
    assert loaded == _mention(1)
    assert loaded.raw == {"id": "1", "note": "한국어 ok"}


def test_pending_mentions_are_new_ones_oldest_first_by_insertion(store: Store) -> None:
    store.save_mentions([_mention(3), _mention(1)], received_at=NOW, cursors={})
    store.save_mentions([_mention(2)], received_at=NOW, cursors={})
    store.skip_mention("x:1", "retweet")
    assert [m.id for m in store.pending_mentions()] == ["x:3", "x:2"]


def test_open_case_marks_the_mention_cased(store: Store) -> None:
    case = _case(store, 1)
    assert store.pending_mentions() == []
    assert store.count("mentions", where="state = ?", params=["cased"]) == 1
    assert (case.state, case.channel, case.rule, case.priority) == (
        CaseState.OPEN,
        "#care-booking",
        "booking",
        Priority.HIGH,
    )
    assert case.created_at == NOW


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("x:", {"x:mentions:42": "1", "x:search:refund": "2"}),
        ("x:search:", {"x:search:refund": "2"}),
        ("meta:", {"meta:x_user_id:skylarkair": "42"}),
        ("nothing:", {}),
    ],
)
def test_cursors_by_prefix(store: Store, prefix: str, expected: dict[str, str]) -> None:
    cursors = {"x:mentions:42": "1", "x:search:refund": "2", "meta:x_user_id:skylarkair": "42"}
    store.save_mentions([], received_at=NOW, cursors=cursors)
    assert store.cursors(prefix) == expected


# Regression (fixed): cursors() used LIKE, so '_' and '%' in the prefix were wildcards and case
# was ignored.
def test_cursors_treat_the_prefix_literally(store: Store) -> None:
    store.save_mentions([], received_at=NOW, cursors={"x_1": "a", "xy1": "b", "X_2": "c"})
    assert store.cursors("x_") == {"x_1": "a"}


# ---- quarantine (issue 15): no single mention may stop ingestion ---------------------------


def test_regression_an_unstorable_mention_no_longer_fails_its_page(store: Store) -> None:
    """A lone surrogate made the page's insert fail: nothing was stored and the cursor never
    moved, so every poll failed again. Now that row is quarantined and the rest go in."""
    bad = replace(_mention(2), text="bad \ud800 text", raw={"text": "bad \ud800 text"})
    saved = store.save_page(
        [_mention(1), bad, _mention(3)], received_at=NOW, cursors={"x:mentions:42": "3"}
    )
    assert saved.new == ["x:1", "x:3"]
    [held] = saved.quarantined
    assert (held.mention_id, held.network) == ("x:2", "x")
    assert "UnicodeEncodeError" in held.error and "\\ud800" in held.error
    assert store.cursor("x:mentions:42") == "3"
    [row] = store.quarantined()
    assert row["payload"]["mention"]["text"] == "bad \ud800 text"  # nothing lost
    assert row["payload"]["raw"] == {"text": "bad \ud800 text"}
    stored = store.db.execute("select payload from quarantine").fetchone()[0]
    assert stored.isascii() and "\\ud800" in stored  # kept as an escape


@pytest.mark.parametrize(
    "bad",
    [
        replace(_mention(2), author=Author(id="9", handle="ann", followers=2**64)),
        replace(_mention(2), id="x:\udc002"),
        replace(_mention(2), raw={"loop": object()}),
    ],
    ids=["follower-count-past-64-bits", "id-with-a-lone-surrogate", "raw-json-cannot-write"],
)
def test_each_kind_of_refused_row_is_quarantined_alone(store: Store, bad: Mention) -> None:
    saved = store.save_page([_mention(1), bad], received_at=NOW, cursors={"k": "v"})
    assert saved.new == ["x:1"]
    assert [q.mention_id.isascii() for q in saved.quarantined] == [True]
    assert store.count("mentions") == 1 and store.cursor("k") == "v"


def test_a_quarantined_mention_coming_again_is_counted_once(store: Store) -> None:
    bad = replace(_mention(2), text="\udfff")
    store.save_page([bad], received_at=NOW, cursors={})
    again = store.save_page([bad], received_at=NOW + timedelta(minutes=1), cursors={})
    assert [q.mention_id for q in again.quarantined] == ["x:2"]
    [row] = store.quarantined()
    assert (row["times"], row["last_at"]) == (2, (NOW + timedelta(minutes=1)).isoformat())


def test_save_mentions_still_returns_only_the_new_ids(store: Store) -> None:
    bad = replace(_mention(2), text="\ud800")
    assert store.save_mentions([_mention(1), bad], received_at=NOW, cursors={}) == ["x:1"]


# ---- case state machine ---------------------------------------------------------------------


def test_claim_locks_a_case_to_one_agent(store: Store) -> None:
    case = _case(store)
    assert store.claim(case.id, "U0JANEKIM1", now=NOW) is True
    assert store.claim(case.id, "U0MINJUN01", now=NOW) is False
    assert store.claim(case.id, "U0JANEKIM1", now=NOW) is True
    assert store.case(case.id).claimed_by == "U0JANEKIM1"


def test_a_closed_case_cannot_be_claimed(store: Store) -> None:
    case = _case(store)
    store.close_case(case.id, state=CaseState.DISMISSED, by="U0JANEKIM1", now=NOW)
    assert store.claim(case.id, "U0JANEKIM1", now=NOW) is False


@pytest.mark.parametrize("state", [CaseState.REPLIED, CaseState.DISMISSED])
def test_close_case_only_from_open(store: Store, state: CaseState) -> None:
    case = _case(store)
    assert store.close_case(case.id, state=state, by="U0JANEKIM1", now=NOW) is True
    assert store.close_case(case.id, state=state, by="U0MINJUN01", now=NOW) is False
    closed = store.case(case.id)
    assert (closed.state, closed.closed_by) == (state, "U0JANEKIM1")


def test_reopen_case_only_from_dismissed(store: Store) -> None:
    case = _case(store)
    assert store.reopen_case(case.id, now=NOW) is False  # open
    store.claim(case.id, "U0JANEKIM1", now=NOW)
    store.close_case(case.id, state=CaseState.DISMISSED, by="U0JANEKIM1", now=NOW)
    assert store.reopen_case(case.id, now=NOW) is True
    reopened = store.case(case.id)
    assert (reopened.state, reopened.closed_by, reopened.claimed_by) == (CaseState.OPEN, None, None)


def test_a_replied_case_cannot_be_reopened(store: Store) -> None:
    case = _case(store)
    store.close_case(case.id, state=CaseState.REPLIED, by="U0JANEKIM1", now=NOW)
    assert store.reopen_case(case.id, now=NOW) is False


# ---- outbox ---------------------------------------------------------------------------------


def test_add_reply_with_the_same_key_returns_the_existing_row(store: Store) -> None:
    case = _case(store)
    mention = store.mention(case.mention_id)
    kwargs = {"case": case, "mention": mention, "agent_id": "U0JANEKIM1", "now": NOW}
    first, created = store.add_reply(key="k-1", text="Sorry! ^JK", template=None, **kwargs)
    again, created_again = store.add_reply(key="k-1", text="Other ^JK", template="x", **kwargs)
    assert (created, created_again) == (True, False)
    assert again == first
    assert again.text == "Sorry! ^JK"
    assert first.state is OutboxState.PENDING
    assert store.count("outbox") == 1


def test_start_sending_lets_exactly_one_caller_win(store: Store) -> None:
    reply_id = _reply(store, _case(store))
    assert [store.start_sending(reply_id, now=NOW) for _ in range(2)] == [True, False]
    reply = store.reply(reply_id)
    assert (reply.state, reply.attempts) == (OutboxState.SENDING, 1)


def test_finish_reply_sent_records_the_post(store: Store) -> None:
    reply_id = _reply(store, _case(store))
    store.start_sending(reply_id, now=NOW)
    sent = store.finish_reply(
        reply_id,
        state=OutboxState.SENT,
        now=NOW,
        post_id="2002",
        post_url="https://x.com/SkylarkAir/status/2002",
    )
    assert (sent.state, sent.post_id, sent.post_url, sent.error) == (
        OutboxState.SENT,
        "2002",
        "https://x.com/SkylarkAir/status/2002",
        None,
    )


def test_finish_reply_failed_keeps_the_error(store: Store) -> None:
    reply_id = _reply(store, _case(store))
    failed = store.finish_reply(reply_id, state=OutboxState.FAILED, now=NOW, error="403")
    assert (failed.state, failed.error, failed.post_id) == (OutboxState.FAILED, "403", None)
    assert [r.id for r in store.replies(OutboxState.FAILED)] == [reply_id]


def test_latest_reply_is_the_newest_for_the_case(store: Store) -> None:
    case, other = _case(store, 1), _case(store, 2)
    assert store.latest_reply(case.id) is None
    first = _reply(store, case, key="k-1", text="first ^JK")
    store.finish_reply(first, state=OutboxState.FAILED, now=NOW, error="X said no")
    _reply(store, case, key="k-2", text="second ^JK")
    _reply(store, other, key="k-3", text="other case ^JK")
    latest = store.latest_reply(case.id)
    assert latest is not None
    assert latest.text == "second ^JK"


# ---- audit and threads ----------------------------------------------------------------------


def test_audit_rows_round_trip_with_json_detail(store: Store) -> None:
    case = _case(store)
    store.audit(actor="U0JANEKIM1", action="claim", now=NOW, case_id=case.id, via="button")
    store.audit(actor="system", action="poll", now=NOW, found=3, note="환불 ok", ids=["x:1"])
    rows = store.audit_log()
    assert [(r["actor"], r["action"], r["case_id"]) for r in rows] == [
        ("U0JANEKIM1", "claim", case.id),
        ("system", "poll", None),
    ]
    assert rows[1]["detail"] == {"found": 3, "note": "환불 ok", "ids": ["x:1"]}
    assert [r["detail"] for r in store.audit_log(case.id)] == [{"via": "button"}]


def test_each_thread_gets_its_own_connection_and_close_works_afterwards(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.db")
    connections: dict[str, sqlite3.Connection] = {"main": store.db.conn}

    def work(name: str, n: int) -> None:
        connections[name] = store.db.conn
        assert store.db.conn is connections[name]  # the same connection within a thread
        store.save_mentions([_mention(n)], received_at=NOW, cursors={})

    for n in (1, 2):  # one after the other: this test is about connections, not contention
        thread = threading.Thread(target=work, args=(f"thread-{n}", n))
        thread.start()
        thread.join()
    assert len({id(conn) for conn in connections.values()}) == 3
    assert store.count("mentions") == 2
    store.close()
    for conn in connections.values():
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("select 1")


def _commit_from_another_connection_before(
    store: Store, path: Path, statement: str
) -> sqlite3.Connection:
    """Just before ``statement`` runs on the store's connection, another writer commits.

    This is what a second thread (or process) does when it writes between the store's read and
    its write inside one transaction. Deterministic: no threads, no sleeps.
    """
    other = sqlite3.connect(path, timeout=0)

    def on_statement(sql: str) -> None:
        if sql.upper().startswith(statement.upper()):
            try:
                other.execute("insert or replace into cursors (key, value) values ('other', '1')")
                other.commit()
            except sqlite3.OperationalError:  # the store already holds the write lock: fine
                other.rollback()

    store.db.conn.set_trace_callback(on_statement)
    return other


# Regression (fixed): a write transaction that began with a deferred BEGIN and read first failed
# at once with "database is locked" (SQLITE_BUSY_SNAPSHOT) when another connection committed in
# between. Writes now begin with BEGIN IMMEDIATE.
def test_save_mentions_survives_another_writer_committing_mid_transaction(store: Store) -> None:
    other = _commit_from_another_connection_before(store, store.path, 'INSERT INTO "mentions"')
    try:
        assert store.save_mentions([_mention(1)], received_at=NOW, cursors={}) == ["x:1"]
    finally:
        other.close()


def test_add_reply_survives_another_writer_committing_mid_transaction(store: Store) -> None:
    case = _case(store)
    other = _commit_from_another_connection_before(store, store.path, 'INSERT INTO "outbox"')
    try:
        assert _reply(store, case) > 0
    finally:
        other.close()


def test_a_second_reply_while_one_is_on_its_way_is_refused(store: Store) -> None:
    """Regression: two previews of one case could both go public."""
    from bot.storage.outbox_rows import ReplyInFlightError

    case = _case(store)
    _reply(store, case, key="k-1")
    with pytest.raises(ReplyInFlightError):
        _reply(store, case, key="k-2")
    assert _reply(store, case, key="k-1") is not None  # the same confirmation is still fine
