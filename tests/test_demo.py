"""The demo's moving parts: the business-day start, the clock that jumps, Slack text made plain."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import RunningClock
from bot.sandbox.demo.later import demo_morning, plain
from bot.sandbox.harness import JANE, Sandbox

LISBON = ZoneInfo("Europe/Lisbon")


def test_the_demo_day_starts_at_nine_on_a_weekday() -> None:
    monday = demo_morning(LISBON, today=date(2026, 11, 23))
    assert monday == datetime(2026, 11, 23, 9, 0, tzinfo=LISBON)
    for weekend in (date(2026, 11, 28), date(2026, 11, 29)):  # Saturday, Sunday: Friday's
        assert demo_morning(LISBON, today=weekend) == datetime(2026, 11, 27, 9, 0, tzinfo=LISBON)


def test_the_running_clock_runs_and_only_jumps_forward() -> None:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    clock = RunningClock(start)
    first = clock.now()
    time.sleep(0.01)
    assert start <= first < clock.now() < start + timedelta(minutes=1)
    later = clock.jump_to(start + timedelta(hours=2))
    assert later >= start + timedelta(hours=2) and clock.now() >= later
    assert clock.jump_to(start) >= later  # never back: replies and cases keep their order


def test_slack_tokens_read_as_a_person_sees_them(sandbox: Sandbox) -> None:
    due = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    text = (
        f"<!subteam^S0CARELEAD> <@{JANE}> <http://x.test/a|case #3> "
        f"due <!date^{int(due.timestamp())}^{{time}}|fallback> <#C1|care-leads>"
    )
    assert plain(text, sandbox, LISBON) == (
        "@care-leads @Jane Kim case #3 due 09:30 Lisbon #care-leads"
    )
