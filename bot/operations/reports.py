"""Reports for care leads: volume, first-response time, SLA met, per team and per agent.

Pure: facts and times come in, values and text come out. The only I/O is ``write_csv``, which
writes to a stream the caller opened. Percentiles use linear interpolation between closest ranks
(numpy's default, "type 7"), so the median of an even count is the mean of the middle two.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TextIO, TypeVar
from zoneinfo import ZoneInfo

from bot.models import NETWORK_NAMES

K = TypeVar("K", bound=Hashable)

SENTIMENTS = ("negative", "neutral", "positive")
SENTIMENT_ICONS = {"negative": "😠", "neutral": "😐", "positive": "🙂"}
TOP_TAGS = 5
MAX_LINES = 15  # per table in the Slack text; the rest is summed up in one line
PERIOD_WORDS = {
    "": "today",
    "today": "today",
    "7d": "7d",
    "week": "7d",
    "30d": "30d",
    "month": "30d",
}
PERIOD_DAYS = {"today": 1, "7d": 7, "30d": 30}
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]+")
CSV_FIELDS = (
    "case_id",
    "brand",
    "channel",
    "network",
    "created_at",
    "priority",
    "sentiment",
    "tags",
    "state",
    "agent",
    "first_response_at",
    "first_response_seconds",
    "sla_met",
    "breached",
)


@dataclass(frozen=True, slots=True)
class Fact:
    """One case as reports see it (built by the store; times are aware UTC datetimes)."""

    case_id: int
    brand: str
    channel: str  # the team
    network: str  # "x", "bluesky" or "mastodon"
    created_at: datetime
    priority: str  # "low" | "normal" | "high" | "urgent"
    sentiment: str  # "negative" | "neutral" | "positive"
    tags: tuple[str, ...]
    state: str  # "open" | "replied" | "dismissed" | "resolved"
    agent: str | None  # Slack id of whoever sent the first public reply (or resolved it)
    first_response_at: datetime | None
    first_response_seconds: float | None  # already in business time when SLAs count it
    sla_met: bool | None  # None: no target, or no response yet and not yet breached
    breached: bool = False  # the first-response target has passed (met or not)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open window [since, until) with the words a lead would use for it."""

    label: str  # "today", "last 7 days", "last 30 days"
    since: datetime
    until: datetime


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a per-team or per-agent table; times in seconds."""

    key: str  # channel or agent id
    volume: int
    responded: int
    frt_median: float | None
    frt_p90: float | None
    sla_met_pct: float | None  # 0..100 over cases with a verdict (sla_met not None)
    sla_met: int = 0  # cases that met the target
    sla_judged: int = 0  # cases with a verdict, the denominator of sla_met_pct


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `/mentions stats` and the digest chart show for one period and brand."""

    period: Period
    brand: str  # "" = all brands
    volume: int
    open_now: int  # backlog among these facts (state == "open")
    total: Row  # key "all"
    teams: tuple[Row, ...]  # by volume desc, then key
    agents: tuple[Row, ...]  # agents with at least one response, by responded desc, then key
    sentiment: tuple[tuple[str, int], ...]  # negative, neutral, positive: always all three
    top_tags: tuple[tuple[str, int], ...]  # up to 5, count desc then name
    daily: tuple[tuple[date, int, float | None], ...]  # (local day, volume, FRT median seconds)
    open_breached: int = 0  # of open_now, those already past their first-response target
    networks: tuple[Row, ...] = ()  # by volume desc, then key
    network: str = ""  # "" = all networks


# --- periods -------------------------------------------------------------------------------


def period(word: str, *, now: datetime, timezone: str) -> Period:
    """The period a lead asked for; whole local days ending with today (so 7d has 7 days).

    "today" starts at local midnight in ``timezone``; "7d" at the midnight six days before it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    kind = PERIOD_WORDS.get(word.strip().lower())
    if kind is None:
        raise ValueError(f"“{word}” is not a period; use today, 7d or 30d")
    zone = ZoneInfo(timezone)
    days = PERIOD_DAYS[kind]
    first_day = now.astimezone(zone).date() - timedelta(days=days - 1)
    label = "today" if days == 1 else f"last {days} days"
    return Period(label=label, since=_midnight(first_day, zone), until=now.astimezone(UTC))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local day, in UTC (a skipped midnight maps to the day's start)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _local_days(since: datetime, until: datetime, zone: ZoneInfo) -> list[date]:
    """Every local day touched by [since, until), in order."""
    if until <= since:
        return []
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- numbers -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th quantile (0..1) by linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _row(key: str, facts: Sequence[Fact]) -> Row:
    """Volume, responses, FRT and SLA for one group of facts."""
    times = [f.first_response_seconds for f in facts if f.first_response_seconds is not None]
    verdicts = [f.sla_met for f in facts if f.sla_met is not None]
    met = sum(verdicts)
    return Row(
        key=key,
        volume=len(facts),
        responded=sum(1 for f in facts if f.first_response_at is not None),
        frt_median=percentile(times, 0.5),
        frt_p90=percentile(times, 0.9),
        sla_met_pct=100 * met / len(verdicts) if verdicts else None,
        sla_met=met,
        sla_judged=len(verdicts),
    )


def _groups(facts: Iterable[Fact], key: Callable[[Fact], K | None]) -> dict[K, list[Fact]]:
    """Facts by key, in first-seen order; facts whose key is None are left out."""
    groups: dict[K, list[Fact]] = {}
    for fact in facts:
        name = key(fact)
        if name is not None:
            groups.setdefault(name, []).append(fact)
    return groups


def _teams(facts: Sequence[Fact]) -> tuple[Row, ...]:
    return _by(facts, lambda f: f.channel)


def _by(facts: Sequence[Fact], key: Callable[[Fact], str]) -> tuple[Row, ...]:
    rows = [_row(k, v) for k, v in _groups(facts, key).items()]
    return tuple(sorted(rows, key=lambda r: (-r.volume, r.key)))


def _agents(facts: Sequence[Fact]) -> tuple[Row, ...]:
    rows = [_row(k, v) for k, v in _groups(facts, lambda f: f.agent).items()]
    return tuple(sorted((r for r in rows if r.responded), key=lambda r: (-r.responded, r.key)))


def _top_tags(facts: Sequence[Fact]) -> tuple[tuple[str, int], ...]:
    """Most used tags, each counted once per case."""
    counts = Counter(tag for f in facts for tag in set(f.tags))
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TAGS])


def _daily(
    facts: Sequence[Fact], *, period: Period, zone: ZoneInfo
) -> tuple[tuple[date, int, float | None], ...]:
    """Volume and FRT median per local day of the period, days without cases included."""
    by_day = _groups(facts, lambda f: f.created_at.astimezone(zone).date())
    series = []
    for day in _local_days(period.since, period.until, zone):
        cases = by_day.get(day, [])
        times = [f.first_response_seconds for f in cases if f.first_response_seconds is not None]
        series.append((day, len(cases), percentile(times, 0.5)))
    return tuple(series)


def build_report(
    facts: Iterable[Fact], *, period: Period, timezone: str, brand: str = "", network: str = ""
) -> Report:
    """Sum up the facts created in [period.since, period.until) for one brand and one network
    ("" = all)."""
    zone = ZoneInfo(timezone)
    chosen = [
        f
        for f in facts
        if period.since <= f.created_at < period.until
        and (not brand or f.brand == brand)
        and (not network or f.network == network)
    ]
    sentiments = Counter(f.sentiment for f in chosen)
    backlog = [f for f in chosen if f.state == "open"]
    return Report(
        period=period,
        brand=brand,
        volume=len(chosen),
        open_now=len(backlog),
        total=_row("all", chosen),
        teams=_teams(chosen),
        agents=_agents(chosen),
        sentiment=tuple((s, sentiments[s]) for s in SENTIMENTS),
        top_tags=_top_tags(chosen),
        daily=_daily(chosen, period=period, zone=zone),
        open_breached=sum(1 for f in backlog if f.breached),
        networks=_by(chosen, lambda f: f.network),
        network=network,
    )


# --- text ----------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """A short human duration: "—", "45s", "12m", "1h 05m", "2d 3h" (rounded, never negative)."""
    if seconds is None or math.isnan(seconds):
        return "—"
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes = round(whole / 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 24 * 60:
        return f"{minutes // 60}h {minutes % 60:02d}m"
    days, hours = divmod(round(whole / 3600), 24)
    return f"{days}d {hours}h"


def escape(text: str) -> str:
    """Text safe for Slack mrkdwn: only &, < and > are special."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def percent(value: float) -> str:
    """A whole percent that never rounds a miss up to 100% or a hit down to 0%."""
    shown = round(value)
    if shown == 100 and value < 100:
        shown = 99
    elif shown == 0 and value > 0:
        shown = 1
    return f"{shown}%"


def _sla(row: Row, label: str = "SLA") -> str:
    if row.sla_met_pct is None:
        return f"{label} —"
    return f"{label} {percent(row.sla_met_pct)} ({row.sla_met} of {row.sla_judged})"


def _frt(row: Row) -> str:
    return f"median {duration(row.frt_median)} · p90 {duration(row.frt_p90)}"


def _answered(row: Row) -> str:
    return f"{row.responded} answered"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _during(label: str) -> str:
    """ "today" -> "today", "last 7 days" -> "in the last 7 days"."""
    if label == "today":
        return label
    return f"in the {label}" if label.startswith("last ") else f"in {label}"


def _agent_name(agent: str, names: Mapping[str, str]) -> str:
    if agent in names:
        return escape(names[agent])
    return f"<@{agent}>" if SLACK_USER_ID.fullmatch(agent) else escape(agent)


def _capped(lines: list[str], noun: str) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], f"… and {len(lines) - MAX_LINES} more {noun}"]


def _summary_lines(report: Report) -> list[str]:
    total = report.total
    backlog = f"open now {report.open_now}"
    if report.open_breached:
        backlog += f" ({report.open_breached} past SLA)"
    icons = " · ".join(f"{SENTIMENT_ICONS[s]} {n} {s}" for s, n in report.sentiment)
    lines = [
        f"Volume {report.volume} · {backlog} · answered {total.responded} · "
        f"first response median {duration(total.frt_median)}, p90 {duration(total.frt_p90)} · "
        f"{_sla(total, 'SLA met')}",
        f"Sentiment: {icons}",
    ]
    if report.top_tags:
        lines.append("Top tags: " + " · ".join(f"{escape(t)} {n}" for t, n in report.top_tags))
    return lines


def _network_line(row: Row) -> str:
    name = NETWORK_NAMES.get(row.key, escape(row.key))
    return f"{name} {_count(row.volume, 'case')} · {_answered(row)} · {_frt(row)} · {_sla(row)}"


def report_text(report: Report, *, names: Mapping[str, str]) -> str:
    """Slack mrkdwn for `/mentions stats`; ``names`` maps agent ids to display names."""
    who = escape(report.brand) if report.brand else "All brands"
    where = f" on {NETWORK_NAMES.get(report.network, report.network)}" if report.network else ""
    title = f"*{who}{where} — {escape(report.period.label)}*"
    if report.volume == 0:
        return f"{title}\nNo mentions {_during(escape(report.period.label))}."
    teams = [
        f"`{escape(r.key)}` {_count(r.volume, 'case')} · {_answered(r)} · {_frt(r)} · {_sla(r)}"
        for r in report.teams
    ]
    agents = [
        f"{_agent_name(r.key, names)} {_answered(r)} · {_frt(r)} · {_sla(r)}" for r in report.agents
    ]
    lines = [title, *_summary_lines(report)]
    if len(report.networks) > 1:
        lines += ["*Networks*", *(_network_line(r) for r in report.networks)]
    lines += ["*Teams*", *_capped(teams, "teams")]
    if agents:
        lines += ["*Agents*", *_capped(agents, "agents")]
    return "\n".join(lines)


# --- export --------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def write_csv(facts: Iterable[Fact], out: TextIO) -> int:
    """One row per fact under a header; ISO-8601 UTC times, tags joined with ";", "" for none.

    Open files with ``newline=""`` as the csv module asks. Returns the number of rows written.
    """
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    count = 0
    for fact in facts:
        writer.writerow([_cell(getattr(fact, name)) for name in CSV_FIELDS])
        count += 1
    return count
