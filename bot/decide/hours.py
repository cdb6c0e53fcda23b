"""Business time: when the care team is on duty, and how much of it lies between two moments.

A ``Calendar`` is weekly windows in one time zone minus holidays. All arithmetic is done on real
(UTC) instants: each local date is turned into its opening intervals ``[open, close)`` in UTC, and
``add``/``between`` walk those day by day, so a business hour is always a real hour, also on the
days the clocks change. Pure: time is always passed in, nothing here reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.decide.rules import Window, parse_window

Span = tuple[datetime, datetime]  # [opens, closes) in UTC

_DAY = timedelta(days=1)
_IDLE_LIMIT = 3 * 366  # days in a row without business time before `add` gives up
_ALWAYS = ("", "24/7")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WHOLE_DAY = Window(frozenset(range(7)), time(0), time(0))


@dataclass(frozen=True, slots=True)
class Calendar:
    """When the care team is on duty: weekly windows in one time zone, minus holidays."""

    timezone: str  # IANA name, e.g. "Europe/Lisbon"
    windows: tuple[Window, ...]  # business time is their union; () means around the clock
    holidays: frozenset[date] = frozenset()  # local dates with no business time at all

    def __post_init__(self) -> None:
        _zone(self.timezone)  # fail at construction, not at the first `add`
        object.__setattr__(self, "windows", tuple(self.windows))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @classmethod
    def parse(cls, *, timezone: str, hours: str, holidays: Sequence[str | date] = ()) -> Calendar:
        """Build from config text; ``ValueError`` names every bad part at once.

        ``hours`` is one window or several separated by ";", e.g.
        "Mon-Fri 08:00-20:00; Sat 10:00-14:00"; "" or "24/7" means always open.
        ``holidays`` are ISO dates such as "2026-12-25".
        """
        errors: list[str] = []
        try:
            _zone(timezone)
        except ValueError as exc:
            errors.append(str(exc))
        windows, bad_hours = _parse_hours(hours)
        dates, bad_dates = parse_holidays(holidays)
        errors += bad_hours + bad_dates
        if errors:
            raise ValueError("; ".join(errors))
        return cls(timezone, windows, dates)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def always_open(self) -> bool:
        """Around the clock with no holidays, so business time is plain elapsed time."""
        return not self.windows and not self.holidays

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) lies in business time."""
        at = _utc(moment)
        if self.always_open():
            return True
        day = at.astimezone(self.zone).date()
        return any(
            opens <= at < closes
            for d in (day - _DAY, day, day + _DAY)
            for opens, closes in self.spans(d)
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment (UTC) at which ``duration`` of business time has passed since ``start``.

        A zero duration gives ``start`` if open, else the next opening moment.
        """
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        cursor = _utc(start)
        if self.always_open():
            return cursor + duration
        left, idle = duration, 0
        day = cursor.astimezone(self.zone).date() - _DAY
        while idle <= _IDLE_LIMIT:
            spans = self.spans(day)
            idle = 0 if spans else idle + 1
            for opens, closes in spans:
                length = closes - max(opens, cursor)
                if length <= timedelta(0):
                    continue
                if left <= length:
                    return closes - length + left
                left, cursor = left - length, closes
            day += _DAY
        raise ValueError("the calendar has no business time")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time within ``[start, end)``; ``timedelta(0)`` when ``end <= start``."""
        cursor, finish = _utc(start), _utc(end)
        if finish <= cursor:
            return timedelta(0)
        if self.always_open():
            return finish - cursor
        total = timedelta(0)
        day, last = cursor.astimezone(self.zone).date() - _DAY, finish.astimezone(self.zone).date()
        while day <= last:
            for opens, closes in self.spans(day):
                begin, stop = max(opens, cursor), min(closes, finish)
                if stop > begin:
                    total, cursor = total + stop - begin, stop
            day += _DAY
        return total

    def spans(self, day: date) -> tuple[Span, ...]:
        """Business time whose local date is ``day``: merged, sorted UTC intervals."""
        return _spans(self, day)


def around_the_clock(timezone: str = "UTC") -> Calendar:
    """A calendar that is always open: targets count wall-clock time."""
    return Calendar(timezone, ())


def parse_holidays(values: Sequence[str | date]) -> tuple[frozenset[date], list[str]]:
    """ISO dates ("2026-12-25", or TOML dates) and a message for each value that is not one."""
    found: set[date] = set()
    errors: list[str] = []
    for value in values:
        if isinstance(value, date) and not isinstance(value, datetime):
            found.add(value)
            continue
        text = value.strip() if isinstance(value, str) else ""
        try:
            if not _ISO_DATE.match(text):
                raise ValueError
            found.add(date.fromisoformat(text))
        except ValueError:
            errors.append(f"holiday {value!r} is not a date like 2026-12-25")
    return frozenset(found), errors


def _parse_hours(text: str) -> tuple[tuple[Window, ...], list[str]]:
    """Windows separated by ";"; blank parts are skipped, "" and "24/7" mean around the clock."""
    if text.strip().lower() in _ALWAYS:
        return (), []
    windows: list[Window] = []
    errors: list[str] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        try:
            windows.append(parse_window(part))
        except ValueError as exc:
            errors.append(f"hours part {part!r}: {exc}")
    if not windows and not errors:
        errors.append(f'hours {text!r} has no window; write e.g. "Mon-Fri 09:00-17:30" or "24/7"')
    return tuple(windows), errors


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'timezone {name!r} is not an IANA time zone name like "Europe/Lisbon"'
        ) from None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; pass an aware datetime")
    return moment.astimezone(UTC)


@lru_cache(maxsize=4096)
def _spans(calendar: Calendar, day: date) -> tuple[Span, ...]:
    """Cached: ``add`` and ``between`` revisit the same few weeks over and over."""
    if day in calendar.holidays:
        return ()
    zone = calendar.zone
    pieces = [
        (
            _instant(day, opens, zone),
            _instant(day, closes, zone) if closes else _midnight(day, zone),
        )
        for window in calendar.windows or (_WHOLE_DAY,)
        for opens, closes in _local_pieces(window, day)
    ]
    return _merge(pieces)


def _local_pieces(window: Window, day: date) -> list[tuple[time, time | None]]:
    """The part of ``window`` whose local date is ``day``, as (from, to); to None = midnight.

    Matches ``Window.contains``: the after-midnight part of a wrapping window belongs to the
    previous day's window, so "Mon 22:00-06:00" gives Mon 22:00-24:00 and Tue 00:00-06:00.
    """
    today = day.weekday() in window.days
    if window.start == window.end:
        return [(time(0), None)] if today else []
    if window.start < window.end:
        return [(window.start, window.end)] if today else []
    pieces: list[tuple[time, time | None]] = [(window.start, None)] if today else []
    if (day.weekday() - 1) % 7 in window.days and window.end != time(0):
        pieces.append((time(0), window.end))
    return pieces


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return _instant(day + _DAY, time(0), zone)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first real instant (UTC) at which the local wall clock on ``day`` reads ``at``.

    A repeated time (clocks went back) gives its first occurrence; a skipped time (clocks jumped
    forward over it) gives the moment of the jump, when the wall clock first passes ``at``.
    """
    wall = datetime.combine(day, at, tzinfo=zone)
    first = wall.astimezone(UTC)
    # Same tzinfo on both sides, so these comparisons are of wall-clock readings.
    if first.astimezone(zone) == wall:
        return first
    low = wall.replace(fold=1).astimezone(UTC)  # before the jump
    below, above = 0, int((first - low).total_seconds())
    while above - below > 1:  # binary search the jump to the second
        middle = (below + above) // 2
        reading = (low + timedelta(seconds=middle)).astimezone(zone)
        below, above = (below, middle) if reading >= wall else (middle, above)
    return low + timedelta(seconds=above)


def _merge(pieces: list[Span]) -> tuple[Span, ...]:
    """Sorted union of intervals, so overlapping windows are not counted twice."""
    merged: list[Span] = []
    for opens, closes in sorted(pieces):
        if closes <= opens:
            continue
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)
