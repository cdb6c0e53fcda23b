"""bot/hours.py: business time across nights, weekends, holidays, wrapping windows and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.decide.hours import Calendar, around_the_clock, parse_holidays
from bot.decide.rules import Window, parse_window

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
M = timedelta(minutes=1)

# 2026-11-16 is a Monday; November is GMT in London, so local times equal UTC.
OFFICE = Calendar.parse(timezone="Europe/London", hours="Mon-Fri 09:00-17:00")


def nov(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC moment in November 2026 (London local time is UTC then)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=zone)


# is_open


def test_is_open_inside_and_outside_the_window() -> None:
    assert OFFICE.is_open(nov(16, 12))
    assert not OFFICE.is_open(nov(16, 8, 59))
    assert not OFFICE.is_open(nov(16, 20))
    assert not OFFICE.is_open(nov(21, 12))  # Saturday


def test_is_open_opens_at_start_and_closes_at_end() -> None:
    assert OFFICE.is_open(nov(16, 9))
    assert OFFICE.is_open(nov(16, 17) - timedelta(microseconds=1))
    assert not OFFICE.is_open(nov(16, 17))


def test_is_open_uses_the_calendar_time_zone() -> None:
    summer_morning = local(LONDON, 2026, 7, 6, 8)  # Monday 08:00 BST = 07:00 UTC
    assert not OFFICE.is_open(summer_morning)
    assert OFFICE.is_open(summer_morning.astimezone(UTC) + H)
    assert OFFICE.is_open(datetime(2026, 7, 6, 8, tzinfo=UTC))  # 09:00 BST


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        OFFICE.is_open(datetime(2026, 11, 16, 12))
    with pytest.raises(ValueError, match="no time zone"):
        OFFICE.add(datetime(2026, 11, 16, 12), H)


# add


def test_add_within_a_day() -> None:
    assert OFFICE.add(nov(16, 10), 2 * H) == nov(16, 12)


def test_add_returns_utc_for_any_aware_input() -> None:
    tokyo = nov(16, 10).astimezone(ZoneInfo("Asia/Tokyo"))
    result = OFFICE.add(tokyo, 2 * H)
    assert result == nov(16, 12)
    assert result.tzinfo is UTC


def test_add_that_ends_exactly_at_closing_gives_closing_time() -> None:
    assert OFFICE.add(nov(16, 16), H) == nov(16, 17)


def test_add_across_a_night() -> None:
    assert OFFICE.add(nov(16, 16), 2 * H) == nov(17, 10)


def test_add_across_a_weekend() -> None:
    assert OFFICE.add(nov(20, 16), 2 * H) == nov(23, 10)


def test_add_from_closed_time_starts_counting_at_opening() -> None:
    assert OFFICE.add(nov(21, 12), 30 * M) == nov(23, 9, 30)


def test_add_zero_is_start_when_open_else_next_opening() -> None:
    assert OFFICE.add(nov(16, 12), timedelta(0)) == nov(16, 12)
    assert OFFICE.add(nov(16, 17), timedelta(0)) == nov(17, 9)
    assert OFFICE.add(nov(21, 3), timedelta(0)) == nov(23, 9)


def test_add_across_a_holiday() -> None:
    calendar = Calendar.parse(
        timezone="Europe/London", hours="Mon-Fri 09:00-17:00", holidays=["2026-11-20"]
    )
    assert calendar.add(nov(19, 16), 2 * H) == nov(23, 10)  # Friday skipped
    assert not calendar.is_open(nov(20, 12))


def test_add_several_days_of_business_time() -> None:
    assert OFFICE.add(nov(16, 9), 40 * H) == nov(20, 17)
    assert OFFICE.add(nov(16, 9), 41 * H) == nov(23, 10)


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add(nov(16, 9), -H)


def test_a_calendar_without_business_time_gives_up() -> None:
    never = Calendar("UTC", (Window(frozenset(), time(9), time(17)),))
    with pytest.raises(ValueError, match="no business time"):
        never.add(nov(16, 9), H)
    assert never.between(nov(16, 0), nov(30, 0)) == timedelta(0)
    assert not never.is_open(nov(16, 12))


# DST (Europe/London: clocks go forward 2026-03-29, back 2026-10-25, both Sundays)


def test_office_hours_stay_local_across_the_spring_change() -> None:
    friday = local(LONDON, 2026, 3, 27, 16)  # GMT
    assert OFFICE.add(friday, 2 * H) == local(LONDON, 2026, 3, 30, 10)  # BST, 09:00 UTC
    assert OFFICE.add(friday, 2 * H) == datetime(2026, 3, 30, 9, tzinfo=UTC)


def test_a_business_day_containing_the_switch_has_real_hours() -> None:
    sundays = Calendar.parse(timezone="Europe/London", hours="Sun 00:00-12:00")
    spring = local(LONDON, 2026, 3, 29, 0)
    autumn = local(LONDON, 2026, 10, 25, 0)
    assert sundays.between(spring, spring + 24 * H) == 11 * H  # an hour was skipped
    assert sundays.between(autumn, autumn + 24 * H) == 13 * H  # an hour happened twice
    assert sundays.add(spring, 3 * H) == datetime(2026, 3, 29, 3, tzinfo=UTC)  # 04:00 BST
    assert sundays.add(autumn, 3 * H) == datetime(2026, 10, 25, 2, tzinfo=UTC)  # 02:00 GMT


def test_an_opening_inside_the_skipped_hour_opens_when_the_clocks_jump() -> None:
    calendar = Calendar.parse(timezone="Europe/London", hours="01:30-03:00")
    jump = datetime(2026, 3, 29, 1, tzinfo=UTC)  # 01:00 GMT becomes 02:00 BST
    assert not calendar.is_open(jump - timedelta(seconds=1))
    assert calendar.is_open(jump)
    assert calendar.between(jump - 2 * H, jump + 2 * H) == H  # 02:00-03:00 BST


def test_wall_clock_calendar_counts_real_time_across_dst() -> None:
    calendar = Calendar.parse(timezone="Europe/London", hours="24/7")
    start = local(LONDON, 2026, 3, 28, 12)
    assert calendar.add(start, 24 * H) == local(LONDON, 2026, 3, 29, 13)


# wrapping and several windows


NIGHTS = Calendar.parse(timezone="Europe/London", hours="Mon-Fri 22:00-06:00")


def test_wrapping_window_belongs_to_the_day_it_starts() -> None:
    assert NIGHTS.is_open(nov(16, 23))  # Monday night
    assert NIGHTS.is_open(nov(17, 5))  # ...into Tuesday morning
    assert not NIGHTS.is_open(nov(16, 5))  # Monday morning: Sunday has no window
    assert NIGHTS.is_open(nov(21, 5))  # Saturday morning: Friday's window
    assert not NIGHTS.is_open(nov(21, 23))
    assert not NIGHTS.is_open(nov(17, 12))


def test_add_across_a_wrapping_window_and_a_weekend() -> None:
    assert NIGHTS.add(nov(16, 23), 2 * H) == nov(17, 1)
    assert NIGHTS.add(nov(20, 23), 8 * H) == nov(23, 23)  # 7h Fri night, then Mon 22:00 + 1h


def test_a_holiday_removes_only_its_own_date_of_a_wrapping_window() -> None:
    calendar = Calendar.parse(
        timezone="Europe/London", hours="Mon-Fri 22:00-06:00", holidays=["2026-11-17"]
    )
    # Mon 22-24 counts, all of Tuesday (00-06, 22-24) is off, Wed 00-06 counts.
    assert calendar.between(nov(16, 0), nov(18, 12)) == 8 * H
    assert not calendar.is_open(nov(17, 3))
    assert calendar.is_open(nov(18, 3))


def test_several_windows_are_a_union_without_double_counting() -> None:
    calendar = Calendar.parse(
        timezone="Europe/London", hours="Mon-Fri 09:00-17:00; Mon 12:00-20:00; Sat 10:00-14:00"
    )
    assert calendar.between(nov(16, 0), nov(17, 0)) == 11 * H
    assert calendar.between(nov(21, 0), nov(22, 0)) == 4 * H
    assert calendar.add(nov(16, 16), 3 * H) == nov(16, 19)
    assert calendar.add(nov(20, 16), 2 * H) == nov(21, 11)


def test_a_window_up_to_midnight() -> None:
    calendar = Calendar.parse(timezone="UTC", hours="Fri 18:00-24:00")
    assert calendar.is_open(nov(20, 23, 59))
    assert not calendar.is_open(nov(21, 0))
    assert calendar.between(nov(20, 0), nov(22, 0)) == 6 * H


def test_days_only_window_is_the_whole_day() -> None:
    calendar = Calendar.parse(timezone="UTC", hours="Sat,Sun")
    assert calendar.between(nov(16, 0), nov(23, 0)) == 48 * H
    assert calendar.add(nov(20, 12), H) == nov(21, 1)


# around the clock


@pytest.mark.parametrize("hours", ["24/7", "", "  "])
def test_around_the_clock(hours: str) -> None:
    calendar = Calendar.parse(timezone="Europe/Lisbon", hours=hours)
    assert calendar.always_open()
    assert calendar.is_open(nov(21, 3))
    assert calendar.add(nov(21, 3), 5 * H) == nov(21, 8)
    assert calendar.between(nov(21, 3), nov(22, 3)) == 24 * H


def test_around_the_clock_helper_and_holidays() -> None:
    assert around_the_clock().always_open()
    assert around_the_clock("Europe/Lisbon").timezone == "Europe/Lisbon"
    calendar = Calendar.parse(timezone="UTC", hours="24/7", holidays=["2026-12-25"])
    assert not calendar.always_open()
    assert not calendar.is_open(datetime(2026, 12, 25, 12, tzinfo=UTC))
    christmas_eve = datetime(2026, 12, 24, 23, tzinfo=UTC)
    assert calendar.add(christmas_eve, 2 * H) == datetime(2026, 12, 26, 1, tzinfo=UTC)


# between


def test_between_is_zero_for_empty_or_reversed_ranges() -> None:
    assert OFFICE.between(nov(16, 12), nov(16, 12)) == timedelta(0)
    assert OFFICE.between(nov(16, 12), nov(16, 10)) == timedelta(0)


def test_between_counts_only_business_time() -> None:
    assert OFFICE.between(nov(16, 8), nov(16, 10)) == H
    assert OFFICE.between(nov(20, 16), nov(23, 10)) == 2 * H
    assert OFFICE.between(nov(16, 0), nov(23, 0)) == 40 * H


# parsing


def test_parse_keeps_windows_and_holidays() -> None:
    calendar = Calendar.parse(
        timezone="Europe/Lisbon",
        hours="Mon-Fri 08:00-20:00; Sat 10:00-14:00;",
        holidays=["2026-12-25", date(2026, 1, 1)],
    )
    assert calendar.windows == (
        parse_window("Mon-Fri 08:00-20:00"),
        parse_window("Sat 10:00-14:00"),
    )
    assert calendar.holidays == {date(2026, 12, 25), date(2026, 1, 1)}


def test_parse_errors_name_every_bad_part() -> None:
    with pytest.raises(ValueError) as caught:
        Calendar.parse(
            timezone="Europe/Lisbn",
            hours="Mon-Fry 09:00-17:00; Sat 10:00-14:00; Sun 25:00-26:00",
            holidays=["2026-12-25", "Christmas"],
        )
    message = str(caught.value)
    assert "'Europe/Lisbn'" in message
    assert "'Mon-Fry'" in message
    assert "'25:00-26:00'" in message
    assert "'Christmas'" in message
    assert "Sat 10:00-14:00" not in message


def test_a_bad_time_zone_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="'Mars/Olympus'"):
        Calendar("Mars/Olympus", ())


def test_hours_of_only_separators_are_an_error() -> None:
    with pytest.raises(ValueError, match="no window"):
        Calendar.parse(timezone="UTC", hours=";;")


def test_parse_holidays_reports_each_bad_value() -> None:
    dates, errors = parse_holidays(["2026-12-25", " 2026-01-01 ", "2026-02-30", "25/12/2026", ""])
    assert dates == {date(2026, 12, 25), date(2026, 1, 1)}
    assert len(errors) == 3
    assert "'2026-02-30'" in errors[0]
    assert "'25/12/2026'" in errors[1]
    assert all("like 2026-12-25" in e for e in errors)


def test_parse_holidays_refuses_datetimes_and_week_dates() -> None:
    _, errors = parse_holidays([datetime(2026, 12, 25, tzinfo=UTC), "2026-W52-5"])  # type: ignore[list-item]
    assert len(errors) == 2


# properties


MIXED = Calendar.parse(
    timezone="Europe/London",
    hours="Mon-Fri 08:00-18:00; Mon-Thu 22:00-02:00; Sat 10:00-14:00; Tue 12:00-19:00;"
    " Sun 00:30-01:30",
    holidays=["2026-03-30", "2026-10-26", "2026-12-25"],
)
CALENDARS = st.sampled_from([OFFICE, NIGHTS, MIXED, around_the_clock("Europe/London")])
MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(weeks=2))


@given(calendar=CALENDARS, start=MOMENTS, duration=DURATIONS)
def test_between_undoes_add(calendar: Calendar, start: datetime, duration: timedelta) -> None:
    end = calendar.add(start, duration)
    assert end >= start
    assert calendar.between(start, end) == duration
    if duration:
        assert calendar.is_open(end - timedelta(microseconds=1))


@given(calendar=CALENDARS, start=MOMENTS, first=DURATIONS, second=DURATIONS)
def test_add_is_monotonic_in_duration(
    calendar: Calendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    short, long = sorted((first, second))
    assert calendar.add(start, short) <= calendar.add(start, long)


@given(calendar=CALENDARS, first=MOMENTS, second=MOMENTS, duration=DURATIONS)
def test_add_is_monotonic_in_start(
    calendar: Calendar, first: datetime, second: datetime, duration: timedelta
) -> None:
    early, late = sorted((first, second))
    assert calendar.add(early, duration) <= calendar.add(late, duration)


@given(start=MOMENTS, middle=DURATIONS, rest=DURATIONS)
def test_between_adds_up(start: datetime, middle: timedelta, rest: timedelta) -> None:
    split, end = start + middle, start + middle + rest
    assert MIXED.between(start, split) + MIXED.between(split, end) == MIXED.between(start, end)


TOKYO = Calendar.parse(
    timezone="Asia/Tokyo", hours="Mon-Fri 08:00-18:00; Mon-Thu 22:00-02:00; Sat,Sun; Wed 07:00"
)


@given(moment=MOMENTS)
def test_is_open_agrees_with_the_windows_where_there_is_no_dst(moment: datetime) -> None:
    wall = moment.astimezone(ZoneInfo("Asia/Tokyo"))
    assert TOKYO.is_open(moment) == any(w.contains(wall) for w in TOKYO.windows)
