"""bot/sla.py: targets, team overrides, timers in business time, stages, wording and validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.decide.hours import Calendar, around_the_clock
from bot.decide.sla import (
    DEFAULT_POLICY,
    Kind,
    Policy,
    Stage,
    Targets,
    Timer,
    describe,
    met,
    stage,
    start_timer,
    time_left,
)
from bot.models import Priority

M = timedelta(minutes=1)
H = timedelta(hours=1)
# 2026-11-16 is a Monday; November is GMT in London, so local times equal UTC.
OFFICE = Calendar.parse(timezone="Europe/London", hours="Mon-Fri 09:00-17:00")
BAGGAGE = "#care-baggage"
TEAM_POLICY = Policy(
    default=DEFAULT_POLICY.default,
    teams={BAGGAGE: Targets(first={Priority.URGENT: 10}, next={Priority.LOW: 600})},
)


def nov(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def minutes(value: timedelta | None) -> float | None:
    return None if value is None else value / M


# targets


def test_default_policy_has_care_industry_targets() -> None:
    first = {p: DEFAULT_POLICY.target(channel="#x", priority=p, kind=Kind.FIRST) for p in Priority}
    after = {p: DEFAULT_POLICY.target(channel="#x", priority=p, kind=Kind.NEXT) for p in Priority}
    assert {p.value: minutes(t) for p, t in first.items()} == {
        "urgent": 30,
        "high": 60,
        "normal": 240,
        "low": 480,
    }
    assert {p.value: minutes(t) for p, t in after.items()} == {
        "urgent": 30,
        "high": 60,
        "normal": 120,
        "low": 240,
    }
    assert DEFAULT_POLICY.remind_at == 0.75
    assert DEFAULT_POLICY.business_hours


def test_team_override_merges_with_the_default() -> None:
    def target(channel: str, priority: Priority, kind: Kind) -> float | None:
        return minutes(TEAM_POLICY.target(channel=channel, priority=priority, kind=kind))

    assert target(BAGGAGE, Priority.URGENT, Kind.FIRST) == 10  # the team's own
    assert target(BAGGAGE, Priority.HIGH, Kind.FIRST) == 60  # falls back to the default
    assert target(BAGGAGE, Priority.URGENT, Kind.NEXT) == 30
    assert target(BAGGAGE, Priority.LOW, Kind.NEXT) == 600
    assert target("#care-general", Priority.URGENT, Kind.FIRST) == 30


def test_no_target_gives_no_timer() -> None:
    policy = Policy(default=Targets(first={Priority.URGENT: 30}))
    assert policy.target(channel="#x", priority=Priority.LOW, kind=Kind.FIRST) is None
    assert policy.target(channel="#x", priority=Priority.URGENT, kind=Kind.NEXT) is None
    timer = start_timer(
        policy, OFFICE, kind=Kind.NEXT, channel="#x", priority=Priority.URGENT, started=nov(16, 10)
    )
    assert timer is None


def test_targets_accept_priority_names_and_stay_frozen_and_hashable() -> None:
    targets = Targets(first={"urgent": 30})  # type: ignore[dict-item]
    assert targets.first == {Priority.URGENT: 30}
    assert hash(TEAM_POLICY) == hash(
        Policy(
            default=DEFAULT_POLICY.default,
            teams={BAGGAGE: Targets(first={Priority.URGENT: 10}, next={Priority.LOW: 600})},
        )
    )
    with pytest.raises(TypeError):
        targets.first[Priority.HIGH] = 60  # type: ignore[index]


def test_bad_policy_values_are_refused() -> None:
    with pytest.raises(ValueError, match="remind_at"):
        Policy(default=Targets(), remind_at=1.0)
    with pytest.raises(ValueError, match="remind_at"):
        Policy(default=Targets(), remind_at=0)
    with pytest.raises(ValueError, match="positive"):
        Targets(first={Priority.LOW: 0})


# timers


def test_timer_counts_business_time_over_the_weekend() -> None:
    timer = start_timer(
        DEFAULT_POLICY,
        OFFICE,
        kind=Kind.FIRST,
        channel="#care-general",
        priority=Priority.NORMAL,
        started=nov(20, 16, 30),
    )
    # 240 minutes: 30 on Friday, then 210 on Monday; the reminder at 180.
    assert timer == Timer(Kind.FIRST, nov(20, 16, 30), remind=nov(23, 11, 30), due=nov(23, 12, 30))


def test_timer_started_out_of_hours_starts_at_opening() -> None:
    timer = start_timer(
        TEAM_POLICY,
        OFFICE,
        kind=Kind.FIRST,
        channel=BAGGAGE,
        priority=Priority.URGENT,
        started=nov(21, 3),
    )
    assert timer is not None
    assert timer.started == nov(21, 3)
    assert timer.remind == nov(23, 9) + 7.5 * M  # 75% of the team's 10 minutes
    assert timer.due == nov(23, 9, 10)


def test_timer_around_the_clock_when_business_hours_are_off() -> None:
    policy = Policy(default=DEFAULT_POLICY.default, business_hours=False)
    timer = start_timer(
        policy, OFFICE, kind=Kind.NEXT, channel="#x", priority=Priority.HIGH, started=nov(21, 3)
    )
    assert timer == Timer(Kind.NEXT, nov(21, 3), remind=nov(21, 3, 45), due=nov(21, 4))


def test_timer_moments_are_utc() -> None:
    lisbon = Calendar.parse(timezone="Europe/Lisbon", hours="24/7")
    local = datetime(2026, 7, 6, 10, tzinfo=lisbon.zone)  # 09:00 UTC
    timer = start_timer(
        DEFAULT_POLICY, lisbon, kind=Kind.FIRST, channel="#x", priority=Priority.HIGH, started=local
    )
    assert timer is not None
    assert timer.started.tzinfo is UTC
    assert timer.due == datetime(2026, 7, 6, 10, tzinfo=UTC)


# stages and time left


TIMER = Timer(Kind.FIRST, nov(16, 9), remind=nov(16, 9, 45), due=nov(16, 10))


def test_stage_moves_to_near_at_remind_and_breached_at_due() -> None:
    assert stage(TIMER, nov(16, 9)) is Stage.OK
    assert stage(TIMER, nov(16, 9, 44)) is Stage.OK
    assert stage(TIMER, nov(16, 9, 45)) is Stage.NEAR
    assert stage(TIMER, nov(16, 10) - timedelta(seconds=1)) is Stage.NEAR
    assert stage(TIMER, nov(16, 10)) is Stage.BREACHED
    assert stage(TIMER, nov(18, 10)) is Stage.BREACHED


def test_time_left_in_business_time() -> None:
    assert time_left(TIMER, nov(16, 9, 15), OFFICE, business_hours=True) == 45 * M
    friday = Timer(Kind.FIRST, nov(20, 16), remind=nov(23, 9, 30), due=nov(23, 10))
    assert time_left(friday, nov(20, 16, 30), OFFICE, business_hours=True) == 90 * M
    assert time_left(friday, nov(21, 12), OFFICE, business_hours=True) == H  # paused


def test_time_left_is_negative_when_overdue() -> None:
    assert time_left(TIMER, nov(16, 10), OFFICE, business_hours=True) == timedelta(0)
    assert time_left(TIMER, nov(16, 10, 12), OFFICE, business_hours=True) == -12 * M
    assert time_left(TIMER, nov(17, 10), OFFICE, business_hours=True) == -8 * H
    assert time_left(TIMER, nov(17, 10), OFFICE, business_hours=False) == -24 * H


def test_time_left_on_the_wall_clock() -> None:
    friday = Timer(Kind.FIRST, nov(20, 16), remind=nov(23, 9, 30), due=nov(23, 10))
    wall = time_left(friday, nov(21, 12), around_the_clock(), business_hours=False)
    assert wall == 46 * H
    assert time_left(friday, nov(21, 12), OFFICE, business_hours=False) == 46 * H


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (2 * H + 5 * M, "2h 05m left"),
        (2 * H, "2h 00m left"),
        (45 * M, "45m left"),
        (45 * M + timedelta(seconds=59), "45m left"),
        (M, "1m left"),
        (timedelta(seconds=59), "under a minute left"),
        (timedelta(microseconds=1), "under a minute left"),
        (timedelta(days=2, hours=3, minutes=20), "2d 3h left"),
        (timedelta(days=1), "1d left"),
        (timedelta(0), "overdue by under a minute"),
        (-timedelta(seconds=30), "overdue by under a minute"),
        (-12 * M, "overdue by 12m"),
        (-(H + 5 * M), "overdue by 1h 05m"),
        (-timedelta(days=1, hours=3, minutes=59), "overdue by 1d 3h"),
    ],
)
def test_describe(left: timedelta, text: str) -> None:
    assert describe(left) == text


def test_met() -> None:
    assert met(TIMER.due, None) is None
    assert met(TIMER.due, nov(16, 9, 30)) is True
    assert met(TIMER.due, nov(16, 10)) is True
    assert met(TIMER.due, nov(16, 10, 1)) is False
