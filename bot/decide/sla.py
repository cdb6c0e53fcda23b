"""Response-time targets (SLAs) and the timers that track them.

A ``Policy`` holds minutes per priority for the first response and for each next response (after
the customer wrote again), with per-team overrides. ``start_timer`` turns a target into concrete
remind and due moments, counted in business time or around the clock. Pure: time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from bot.decide.hours import Calendar, around_the_clock
from bot.models import Priority

K = TypeVar("K")
V = TypeVar("V")

MAX_MINUTES = 60 * 24 * 30  # a target longer than 30 days is a typo, not a promise


class Kind(StrEnum):
    FIRST = "first"  # first response to a new case
    NEXT = "next"  # next response, after the customer wrote again


class Stage(StrEnum):
    OK = "ok"
    NEAR = "near"  # past the reminder point
    BREACHED = "breached"  # past the due moment


class FrozenMap(Mapping[K, V]):
    """A read-only, hashable mapping, so policies stay frozen values."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._items: dict[K, V] = dict(items)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


@dataclass(frozen=True, slots=True)
class Targets:
    """Minutes per priority for first and next response; a missing priority has no target."""

    first: Mapping[Priority, int] = field(default_factory=FrozenMap)
    next: Mapping[Priority, int] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        for name in ("first", "next"):
            table = {Priority(p): int(m) for p, m in getattr(self, name).items()}
            if any(m <= 0 for m in table.values()):
                raise ValueError(f"{name} response targets must be positive minutes")
            object.__setattr__(self, name, FrozenMap(table))

    def minutes(self, kind: Kind, priority: Priority) -> int | None:
        return (self.first if kind is Kind.FIRST else self.next).get(priority)


@dataclass(frozen=True, slots=True)
class Policy:
    """Targets for the whole brand, per-team overrides, and how to count them."""

    default: Targets
    teams: Mapping[str, Targets] = field(default_factory=FrozenMap)  # by Slack channel
    remind_at: float = 0.75  # fraction of the target at which a reminder goes out
    business_hours: bool = True  # count in the brand's business time, else around the clock

    def __post_init__(self) -> None:
        if not 0 < self.remind_at < 1:
            raise ValueError(f"remind_at must be between 0 and 1, not {self.remind_at}")
        object.__setattr__(self, "teams", FrozenMap(self.teams))

    def target(self, *, channel: str, priority: Priority, kind: Kind) -> timedelta | None:
        """The team's target if it sets one for this priority, else the default's, else None."""
        team = self.teams.get(channel)
        minutes = team.minutes(kind, priority) if team else None
        if minutes is None:
            minutes = self.default.minutes(kind, priority)
        return None if minutes is None else timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class Timer:
    """A running SLA clock; all moments are UTC."""

    kind: Kind
    started: datetime  # case opened, or the customer's follow-up
    remind: datetime  # when to remind the team
    due: datetime  # the breach moment


DEFAULT_POLICY = Policy(
    default=Targets(
        first={Priority.URGENT: 30, Priority.HIGH: 60, Priority.NORMAL: 240, Priority.LOW: 480},
        next={Priority.URGENT: 30, Priority.HIGH: 60, Priority.NORMAL: 120, Priority.LOW: 240},
    )
)


def start_timer(
    policy: Policy,
    calendar: Calendar,
    *,
    kind: Kind,
    channel: str,
    priority: Priority,
    started: datetime,
) -> Timer | None:
    """A timer for this case, or None when no target applies."""
    target = policy.target(channel=channel, priority=priority, kind=kind)
    if target is None:
        return None
    counting = calendar if policy.business_hours else around_the_clock(calendar.timezone)
    remind = counting.add(started, target * policy.remind_at)
    return Timer(kind, started.astimezone(UTC), remind, counting.add(started, target))


def stage(timer: Timer, now: datetime) -> Stage:
    """OK until the reminder point, NEAR from it, BREACHED from the due moment on."""
    if now >= timer.due:
        return Stage.BREACHED
    return Stage.NEAR if now >= timer.remind else Stage.OK


def time_left(
    timer: Timer, now: datetime, calendar: Calendar, *, business_hours: bool
) -> timedelta:
    """Time from ``now`` until due; negative (time since due) when overdue.

    Counted in ``calendar``'s business time, or wall-clock time when ``business_hours`` is False.
    """
    counting = calendar if business_hours else around_the_clock(calendar.timezone)
    if now < timer.due:
        return counting.between(now, timer.due)
    return -counting.between(timer.due, now)


def describe(left: timedelta) -> str:
    """Short, for a Slack card: "2h 05m left", "under a minute left", "overdue by 1d 3h"."""
    if left > timedelta(0):
        return "under a minute left" if left < timedelta(minutes=1) else f"{_span(left)} left"
    late = -left
    return (
        "overdue by under a minute" if late < timedelta(minutes=1) else f"overdue by {_span(late)}"
    )


def _span(length: timedelta) -> str:
    """Whole minutes, rounded down; days drop the minutes ("1d 3h", "2h 05m", "45m")."""
    minutes = int(length.total_seconds()) // 60
    days, rest = divmod(minutes, 60 * 24)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def met(due: datetime, responded_at: datetime | None) -> bool | None:
    """Whether the response came at or before ``due``; None while there is no response yet."""
    return None if responded_at is None else responded_at <= due
