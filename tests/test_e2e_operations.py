"""End to end for care operations over real HTTP to the emulators, with a clock the test moves:
SLA reminders and escalations (not repeated after a restart), claim/take over/snooze/resolve/duty,
round-robin assignment, customer context on the card, `/mentions status` and `stats`, the
digest's chart uploaded with files_upload_v2, the App Home tab, and the audit of public posts.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from support import card_for, card_text, eventually, fresh, post, reply_through_slack

from bot.cli.main import main
from bot.clock import ManualClock
from bot.models import CaseState
from bot.sandbox.harness import JANE, MINJUN, ROSA, Sandbox
from bot.slack.views import ids

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Lisbon is on UTC in November


def _start(sandbox: Sandbox) -> ManualClock:
    clock = ManualClock(MONDAY_9)
    sandbox.start_bot(clock=clock)
    return clock


def _say(sandbox: Sandbox, user: str, text: str) -> str:
    assert sandbox.driver is not None
    answer = sandbox.driver.command(user=user, text=text)
    assert answer.status == 200, answer
    return str(answer.json().get("text", ""))


def _thread(sandbox: Sandbox, card: dict[str, object]) -> list[str]:
    return [
        str(m.get("text", ""))
        for m in sandbox.slack.messages(str(card["channel"]))
        if m.get("thread_ts") == card["ts"] and m.get("ts") != card["ts"]
    ]


def _write(sandbox: Sandbox, card: dict[str, object]) -> None:
    body = "Hi there, we are looking into this for you now."
    reply_through_slack(sandbox, user=JANE, card=card, body=body, action_id=ids.WRITE_ACTION)


def _leads(sandbox: Sandbox) -> list[str]:
    return [str(m.get("text", "")) for m in sandbox.slack.messages("#care-leads")]


def test_sla_reminds_then_escalates_once_even_across_a_restart(sandbox: Sandbox) -> None:
    clock = _start(sandbox)
    post(sandbox, "@SkylarkAir what time does check-in open for my flight tomorrow?", handle="ana")
    card = card_for(sandbox, "ana")
    assert "First response: 4h 00m left" in card_text(card)  # normal priority: 240 business min
    services = sandbox.runtime.services  # type: ignore[union-attr]

    clock.advance(hours=2)
    assert services.sla.check() == []  # not yet 75 %
    clock.advance(hours=1, minutes=1)
    [told] = services.sla.check()
    assert told.stage.value == "near"
    eventually(
        lambda: any("nearing its first response target" in t for t in _thread(sandbox, card))
    )
    assert services.sla.check() == []  # told once

    sandbox.stop_bot()  # a restart in between loses nothing and repeats nothing
    sandbox.start_bot(clock=clock)
    services = sandbox.runtime.services  # type: ignore[union-attr]
    assert services.sla.check() == []

    clock.advance(hours=1)  # 13:01: breached
    [told] = services.sla.check()
    assert told.stage.value == "breached"
    eventually(
        lambda: any("SLA breached" in t and "<!subteam^S0CARELEAD>" in t for t in _leads(sandbox))
    )
    eventually(lambda: "🚨 First response: overdue by" in card_text(fresh(sandbox, card)))
    sandbox.stop_bot()
    sandbox.start_bot(clock=clock)
    assert sandbox.runtime.services.sla.check() == []  # type: ignore[union-attr]
    assert sum("SLA breached" in t for t in _leads(sandbox)) == 1


def test_a_job_run_now_runs_on_the_scheduler_and_is_done_on_return(sandbox: Sandbox) -> None:
    clock = _start(sandbox)
    post(sandbox, "@SkylarkAir is there wifi on the SK40?", handle="wes")
    card = card_for(sandbox, "wes")
    clock.advance(hours=3, minutes=1)  # past 75 % of 240 business minutes
    runtime = sandbox.runtime
    assert runtime is not None
    runtime.run_now("sla")
    assert sum("nearing its first response target" in t for t in _thread(sandbox, card)) == 1
    runtime.run_now("sla")  # the real job again: state on the row, so nothing is repeated
    assert sum("nearing its first response target" in t for t in _thread(sandbox, card)) == 1


def test_business_hours_and_holidays_stretch_the_target(sandbox: Sandbox) -> None:
    clock = ManualClock(datetime(2026, 11, 27, 19, 0, tzinfo=UTC))  # Friday 19:00, closes 20:00
    sandbox.start_bot(clock=clock)
    post(sandbox, "@SkylarkAir can I change my seat on Monday's flight?", handle="bo")
    card_for(sandbox, "bo")
    case = sandbox.runtime.services.store.open_cases()[-1]  # type: ignore[union-attr]
    # 240 business minutes: 1 h on Friday, the weekend closed, 3 h on Monday from 08:00.
    assert case.sla_due == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)


def test_claim_take_over_snooze_resolve_and_mine(sandbox: Sandbox) -> None:
    clock = _start(sandbox)
    post(sandbox, "@SkylarkAir my booking reference does not work", handle="cy")
    card = card_for(sandbox, "cy")
    case_id = sandbox.runtime.services.store.open_cases()[-1].id  # type: ignore[union-attr]

    assert "yours" in _say(sandbox, JANE, f"claim {case_id}")
    eventually(lambda: "Jane Kim is replying" in card_text(fresh(sandbox, card)))
    assert "is already on case" in _say(sandbox, MINJUN, f"claim {case_id}")
    assert f"#{case_id}" in _say(sandbox, JANE, "mine")
    assert "Only leads" in _say(sandbox, MINJUN, f"take {case_id}")
    assert "took case" in _say(sandbox, ROSA, f"take {case_id}")
    eventually(lambda: any("took this case over" in t for t in _thread(sandbox, card)))

    assert "not a duration" in _say(sandbox, ROSA, f"snooze {case_id} soon")
    assert "snoozed until" in _say(sandbox, ROSA, f"snooze {case_id} 2h")
    assert sandbox.driver is not None
    queue = sandbox.driver.command(user=JANE, text="queue").json()
    assert "No open cases" in str(queue["blocks"])  # snoozed cases leave the queue
    clock.advance(hours=2, minutes=1)
    assert sandbox.runtime.services.desk.wake_snoozed() == [case_id]  # type: ignore[union-attr]
    eventually(lambda: any("Snooze over" in t for t in _thread(sandbox, card)))

    assert "resolved without a public reply" in _say(sandbox, ROSA, f"resolve {case_id}")
    case = sandbox.runtime.services.store.case(case_id)  # type: ignore[union-attr]
    assert case.state is CaseState.RESOLVED
    eventually(lambda: "Resolved without a reply" in card_text(fresh(sandbox, card)))
    assert sandbox.x.replies() == []  # nothing public
    assert "Which case?" in _say(sandbox, JANE, "claim banana")


def test_round_robin_assignment_respects_duty_and_capacity(tmp_path: Path) -> None:
    from bot.sandbox.harness import open_sandbox

    extra = "[assignment]\nauto = true\ncapacity = 1\n"
    with open_sandbox(tmp_path, extra_config=extra) as sandbox:
        _start(sandbox)
        assert "on duty" in _say(sandbox, JANE, "duty on")
        assert "on duty" in _say(sandbox, MINJUN, "duty on")
        for handle in ("d1", "d2", "d3"):
            post(sandbox, f"@SkylarkAir question about my seat from {handle}", handle=handle)
            card_for(sandbox, handle)
        store = sandbox.runtime.services.store  # type: ignore[union-attr]
        owners = [c.claimed_by for c in store.open_cases()]
        assert sorted(o for o in owners if o) == sorted([JANE, MINJUN])  # one each, by capacity
        assert owners.count(None) == 1
        assert "assigned round-robin" in card_text(card_for(sandbox, "d1"))
        _say(sandbox, JANE, "duty off")
        _write(sandbox, card_for(sandbox, "d1"))  # frees room
        sandbox.x.wait_for(sandbox.x.replies, timeout=10)
        _say(sandbox, MINJUN, "duty on")
        eventually(lambda: sandbox.runtime.services.assigner.sweep() or True)  # type: ignore[union-attr]
        waiting = [c for c in store.open_cases() if c.claimed_by is None]
        assert waiting  # Min-jun is full (capacity 1) and Jane is off duty


def test_the_card_shows_the_customers_history(sandbox: Sandbox) -> None:
    clock = _start(sandbox)
    post(sandbox, "@SkylarkAir my bag is lost, this is terrible", handle="eve")
    first = card_for(sandbox, "eve")
    _write(sandbox, first)
    sandbox.x.wait_for(sandbox.x.replies, timeout=10)
    _say(sandbox, JANE, "tag @eve +frequent-flyer")
    clock.advance(days=2)
    post(sandbox, "@SkylarkAir thanks, the bag arrived! great service", handle="eve")

    def second() -> dict[str, object] | None:
        cards = [c for c in sandbox.slack.messages() if "@eve:" in str(c.get("text"))]
        return cards[-1] if len(cards) > 1 else None

    card = eventually(second)
    text = card_text(card)
    assert "1 earlier case" in text and "last contact 2d" in text
    assert "customer frequent-flyer" in text


def test_status_stats_digest_home_and_audit(sandbox: Sandbox, tmp_path: Path) -> None:
    clock = _start(sandbox)
    post(sandbox, "@SkylarkAir my flight was delayed and I missed the meeting", handle="fay")
    card = card_for(sandbox, "fay")
    clock.advance(minutes=20)
    _write(sandbox, card)
    sandbox.x.wait_for(sandbox.x.replies, timeout=10)
    services = sandbox.runtime.services  # type: ignore[union-attr]
    eventually(
        lambda: (
            services.store.case(services.store.open_cases()[0].id).state
            if services.store.open_cases()
            else True
        )
    )

    status = _say(sandbox, ROSA, "status")
    assert "X · Skylark Air" in status and "mention(s) today" in status
    assert "posted" in status and "not rate-limited" in status

    stats = _say(sandbox, ROSA, "stats today")
    assert "Volume 1" in stats and "20m" in stats  # first response in 20 business minutes
    assert "not a period" in _say(sandbox, ROSA, "stats fortnight")

    clock.advance(days=1)  # Tuesday 09:00 local: the digest is due
    path = services.digest.run()
    assert path is not None and path.read_bytes().startswith(b"\x89PNG")
    assert services.digest.run() is None  # once a day
    [shared] = [f for f in sandbox.slack.files() if f["name"] == path.name]
    assert shared["content"] == path.read_bytes()

    assert sandbox.driver is not None
    sandbox.driver.app_home_opened(JANE)
    home = sandbox.slack.wait_for(lambda: sandbox.slack.home(JANE), timeout=10)
    assert "Hi Jane Kim" in str(home["blocks"])

    out = io.StringIO()
    entries = services.store.audit_since(MONDAY_9)
    from bot.operations.audit import export_csv

    export_csv(entries, out, names={JANE: "Jane Kim"})
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    [posted] = [r for r in rows if r["action"] == "reply.posted"]
    assert posted["signature"] == "^JK" and posted["post_ids"]
    assert posted["changed_from_template"] and posted["confirmed_at"] and posted["sent_at"]
    assert any(r["action"] == "case.claimed" or r["action"] == "reply.confirmed" for r in rows)

    csv_path = tmp_path / "audit.csv"
    db = str(sandbox.config.database)
    code = main(["export", "audit", "--db", db, "--since", "2026-11-01", "--csv", str(csv_path)])
    assert code == 0 and "reply.posted" in csv_path.read_text(encoding="utf-8")
    png = tmp_path / "report.png"
    assert main(["report", "--db", db, "--out", str(png), "--period", "30d"]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_a_lead_resolves_a_case_an_agent_holds_and_it_records_the_lead(sandbox: Sandbox) -> None:
    _start(sandbox)
    post(sandbox, "@SkylarkAir can I bring my guitar on board?", handle="gus")
    card_for(sandbox, "gus")
    case_id = sandbox.runtime.services.store.open_cases()[-1].id  # type: ignore[union-attr]
    _say(sandbox, JANE, f"claim {case_id}")
    assert "is already on case" in _say(sandbox, MINJUN, f"resolve {case_id}")
    assert "resolved without a public reply" in _say(sandbox, ROSA, f"resolve {case_id}")
    case = sandbox.runtime.services.store.case(case_id)  # type: ignore[union-attr]
    assert case.state is CaseState.RESOLVED and case.closed_by == ROSA
    assert f"Case #{case_id} was resolved by" in _say(sandbox, JANE, f"claim {case_id}")
