"""Reports: periods, the numbers care leads read, the Slack text, the CSV and the digest chart."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.operations.charts import digest_chart
from bot.operations.reports import (
    CSV_FIELDS,
    Fact,
    Period,
    Report,
    build_report,
    duration,
    percentile,
    period,
    report_text,
    write_csv,
)

NOW = datetime(2026, 3, 11, 15, 30, tzinfo=UTC)  # a Wednesday; 09:30 in Denver (MDT)
DENVER = "America/Denver"
WEEK = period("7d", now=NOW, timezone="UTC")  # 2026-03-05 00:00 UTC .. NOW


def fact(case_id: int = 1, **changes: Any) -> Fact:
    """A replied, SLA-met case from an hour before NOW; override any field by name."""
    created = changes.pop("created_at", NOW - timedelta(hours=1))
    seconds = changes.pop("first_response_seconds", 600.0)
    values: dict[str, Any] = {
        "case_id": case_id,
        "brand": "skylark",
        "channel": "#care-baggage",
        "network": "x",
        "created_at": created,
        "priority": "normal",
        "sentiment": "neutral",
        "tags": (),
        "state": "replied",
        "agent": "U1",
        "first_response_at": None if seconds is None else created + timedelta(seconds=seconds),
        "first_response_seconds": seconds,
        "sla_met": True,
    }
    values.update(changes)
    return Fact(**values)


def unanswered(case_id: int, **changes: Any) -> Fact:
    """An open case nobody has answered yet."""
    defaults: dict[str, Any] = {"state": "open", "agent": None, "sla_met": None}
    return fact(case_id, first_response_seconds=None, **(defaults | changes))


# --- period --------------------------------------------------------------------------------


def test_today_starts_at_local_midnight() -> None:
    today = period("today", now=NOW, timezone=DENVER)
    assert today.label == "today"
    assert today.since == datetime(2026, 3, 11, 6, 0, tzinfo=UTC)  # midnight MDT (UTC-6)
    assert today.until == NOW
    assert period("", now=NOW, timezone=DENVER) == today


def test_today_across_the_date_line() -> None:
    """At 15:30 UTC it is already tomorrow in Auckland (UTC+13 in March)."""
    today = period("today", now=NOW, timezone="Pacific/Auckland")
    assert today.since == datetime(2026, 3, 11, 11, 0, tzinfo=UTC)  # 2026-03-12 00:00 NZDT


def test_seven_and_thirty_days_are_whole_local_days_across_dst() -> None:
    """Denver moved to summer time on 2026-03-08; the first midnight is still MST (UTC-7)."""
    week = period("7d", now=NOW, timezone=DENVER)
    assert week.label == "last 7 days"
    assert week.since == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
    assert period("week", now=NOW, timezone=DENVER) == week
    month = period("30d", now=NOW, timezone=DENVER)
    assert month.label == "last 30 days"
    assert month.since == datetime(2026, 2, 10, 7, 0, tzinfo=UTC)
    assert period(" Month ", now=NOW, timezone=DENVER) == month


@pytest.mark.parametrize("word", ["yesterdy", "1d", "90d"])
def test_unknown_period_names_word_and_choices(word: str) -> None:
    with pytest.raises(ValueError) as caught:
        period(word, now=NOW, timezone=DENVER)
    assert str(caught.value) == f"“{word}” is not a period; use today, 7d or 30d"


def test_period_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        period("today", now=NOW.replace(tzinfo=None), timezone="UTC")


# --- numbers -------------------------------------------------------------------------------


def test_percentile_interpolates_linearly() -> None:
    assert percentile([], 0.5) is None
    assert percentile([42.0], 0.9) == 42.0
    assert percentile([240.0, 60.0, 180.0, 120.0], 0.5) == 150.0
    assert percentile([60.0, 120.0, 180.0, 240.0], 0.9) == pytest.approx(222.0)
    assert percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)


def test_build_report_keeps_the_period_and_brand() -> None:
    facts = [
        fact(1, created_at=WEEK.since),  # first instant: in
        fact(2, created_at=WEEK.since - timedelta(seconds=1)),  # before: out
        fact(3, created_at=WEEK.until),  # until is exclusive: out
        fact(4, brand="other"),
        fact(5, state="open"),
    ]
    report = build_report(facts, period=WEEK, timezone="UTC", brand="skylark")
    assert (report.volume, report.open_now, report.brand) == (2, 1, "skylark")
    everyone = build_report(facts, period=WEEK, timezone="UTC")
    assert (everyone.volume, everyone.brand) == (3, "")


def test_median_and_p90_on_known_numbers() -> None:
    facts = [fact(n, first_response_seconds=60.0 * n) for n in range(1, 11)]
    facts.append(unanswered(11))
    total = build_report(facts, period=WEEK, timezone="UTC").total
    assert (total.key, total.volume, total.responded) == ("all", 11, 10)
    assert total.frt_median == pytest.approx(330.0)
    assert total.frt_p90 == pytest.approx(546.0)


def test_sla_percent_ignores_cases_without_a_verdict() -> None:
    facts = [
        fact(1, sla_met=True),
        fact(2, sla_met=True),
        fact(3, sla_met=True),
        fact(4, sla_met=False),
        fact(5, sla_met=None),
        unanswered(6),
        unanswered(7, sla_met=False, breached=True),
    ]
    report = build_report(facts, period=WEEK, timezone="UTC")
    assert report.total.sla_met_pct == pytest.approx(60.0)
    assert (report.total.sla_met, report.total.sla_judged) == (3, 5)
    assert (report.open_now, report.open_breached) == (2, 1)


def test_no_verdicts_means_no_sla_percent() -> None:
    report = build_report([fact(1, sla_met=None)], period=WEEK, timezone="UTC")
    assert report.total.sla_met_pct is None


def test_team_rows_by_volume_then_name() -> None:
    facts = [
        fact(1, channel="#care-refunds", first_response_seconds=100.0),
        fact(2, channel="#care-refunds", first_response_seconds=300.0, sla_met=False),
        fact(3, channel="#care-baggage"),
        fact(4, channel="#care-apps"),
        unanswered(5, channel="#care-apps"),
    ]
    teams = build_report(facts, period=WEEK, timezone="UTC").teams
    assert [(t.key, t.volume, t.responded) for t in teams] == [
        ("#care-apps", 2, 1),
        ("#care-refunds", 2, 2),
        ("#care-baggage", 1, 1),
    ]
    refunds = teams[1]
    assert (refunds.frt_median, refunds.sla_met_pct) == (200.0, 50.0)


def test_agent_rows_only_for_responders_by_responses() -> None:
    facts = [
        fact(1, agent="U2"),
        fact(2, agent="U1"),
        fact(3, agent="U2"),
        fact(4, agent="U3"),
        fact(5, agent="U9", state="resolved", first_response_seconds=None),
        unanswered(6),
    ]
    agents = build_report(facts, period=WEEK, timezone="UTC").agents
    assert [(a.key, a.responded) for a in agents] == [("U2", 2), ("U1", 1), ("U3", 1)]


def test_sentiment_always_has_three_entries_in_order() -> None:
    empty = build_report([], period=WEEK, timezone="UTC")
    assert empty.sentiment == (("negative", 0), ("neutral", 0), ("positive", 0))
    facts = [fact(1, sentiment="positive"), fact(2, sentiment="negative")]
    facts.append(fact(3, sentiment="negative"))
    report = build_report(facts, period=WEEK, timezone="UTC")
    assert report.sentiment == (("negative", 2), ("neutral", 0), ("positive", 1))


def test_top_tags_count_each_case_once_and_keep_five() -> None:
    facts = [
        fact(1, tags=("refund", "baggage", "refund")),
        fact(2, tags=("refund", "delay")),
        fact(3, tags=("baggage", "app", "wifi", "seat")),
    ]
    tags = build_report(facts, period=WEEK, timezone="UTC").top_tags
    assert tags == (("baggage", 2), ("refund", 2), ("app", 1), ("delay", 1), ("seat", 1))


def test_daily_has_every_local_day_with_zeros() -> None:
    week = period("7d", now=NOW, timezone=DENVER)
    facts = [
        fact(1, created_at=datetime(2026, 3, 5, 7, 0, tzinfo=UTC), first_response_seconds=60.0),
        fact(2, created_at=datetime(2026, 3, 5, 8, 0, tzinfo=UTC), first_response_seconds=180.0),
        unanswered(3, created_at=datetime(2026, 3, 10, 5, 59, tzinfo=UTC)),  # 9 Mar, 23:59 MDT
        fact(4, created_at=datetime(2026, 3, 11, 6, 0, tzinfo=UTC)),  # 11 Mar, 00:00 MDT
    ]
    daily = build_report(facts, period=week, timezone=DENVER).daily
    assert [day for day, _, _ in daily] == [date(2026, 3, d) for d in range(5, 12)]
    assert [volume for _, volume, _ in daily] == [2, 0, 0, 0, 1, 0, 1]
    assert [frt for _, _, frt in daily] == [120.0, None, None, None, None, None, 600.0]


# --- text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0.0, "0s"),
        (45.2, "45s"),
        (59.6, "1m"),
        (12 * 60 + 10, "12m"),
        (3600 + 5 * 60, "1h 05m"),
        (59 * 60 + 50, "1h 00m"),
        (2 * 86400 + 3 * 3600, "2d 3h"),
        (-5.0, "0s"),
    ],
)
def test_duration(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def _stats_facts() -> list[Fact]:
    return [
        fact(1, tags=("refund",), sentiment="negative", first_response_seconds=540.0),
        fact(2, tags=("refund", "<b>"), sla_met=False, first_response_seconds=3900.0),
        fact(3, channel="#care-<vip>&co", agent="U2", sentiment="positive"),
        unanswered(4, sla_met=False, breached=True),
    ]


def test_report_text_labels_every_number() -> None:
    report = build_report(_stats_facts(), period=WEEK, timezone="UTC")
    text = report_text(report, names={"U1": "Ana"})
    lines = text.splitlines()
    assert lines[0] == "*All brands — last 7 days*"
    assert "Volume 4 · open now 1 (1 past SLA) · answered 3" in lines[1]
    assert "first response median 10m, p90 54m" in lines[1]
    assert "SLA met 50% (2 of 4)" in lines[1]
    assert lines[2] == "Sentiment: 😠 1 negative · 😐 2 neutral · 🙂 1 positive"
    assert lines[3].startswith("Top tags: refund 2 · &lt;b&gt; 1")
    assert "*Teams*" in lines
    assert "`#care-baggage` 3 cases · 2 answered · median 37m · p90 59m · SLA 33% (1 of 3)" in text
    assert "`#care-&lt;vip&gt;&amp;co` 1 case ·" in text
    assert "Ana 2 answered · median 37m" in text
    assert "<@U2> 1 answered · median 10m · p90 10m · SLA 100% (1 of 1)" in text
    assert "<b>" not in text and "<vip>" not in text


def test_report_text_escapes_brand_and_names() -> None:
    report = build_report(
        [fact(1, brand="A&B <air>")], period=WEEK, timezone="UTC", brand="A&B <air>"
    )
    text = report_text(report, names={"U1": "<script>"})
    assert text.startswith("*A&amp;B &lt;air&gt; — last 7 days*")
    assert "&lt;script&gt; 1 answered" in text


def test_report_text_never_rounds_a_miss_up_to_100() -> None:
    facts = [fact(n) for n in range(1, 300)] + [fact(300, sla_met=False)]
    text = report_text(build_report(facts, period=WEEK, timezone="UTC"), names={})
    assert "SLA met 99% (299 of 300)" in text


def test_empty_report_says_so() -> None:
    today = period("today", now=NOW, timezone="UTC")
    report = build_report(
        [fact(1, created_at=NOW - timedelta(days=2))], period=today, timezone="UTC"
    )
    assert report_text(report, names={}) == "*All brands — today*\nNo mentions today."
    text = report_text(build_report([], period=WEEK, timezone="UTC", brand="Sky"), names={})
    assert text.splitlines()[1] == "No mentions in the last 7 days."


# --- csv -----------------------------------------------------------------------------------


def test_write_csv_round_trips() -> None:
    facts = [
        fact(1, tags=("refund", "baggage"), sla_met=False, breached=True),
        unanswered(2, tags=()),
    ]
    out = io.StringIO(newline="")
    assert write_csv(facts, out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(rows[0]) == CSV_FIELDS
    first, second = rows
    assert first["case_id"] == "1"
    assert datetime.fromisoformat(first["created_at"]) == facts[0].created_at
    assert datetime.fromisoformat(first["first_response_at"]) == facts[0].first_response_at
    assert float(first["first_response_seconds"]) == 600.0
    assert first["tags"].split(";") == ["refund", "baggage"]
    assert (first["sla_met"], first["breached"], first["agent"]) == ("false", "true", "U1")
    assert (second["tags"], second["agent"], second["sla_met"]) == ("", "", "")
    assert second["first_response_at"] == ""


def test_write_csv_with_no_facts_writes_the_header() -> None:
    out = io.StringIO()
    assert write_csv([], out) == 0
    assert out.getvalue().strip() == ",".join(CSV_FIELDS)


# --- chart ---------------------------------------------------------------------------------


def _month_report() -> Report:
    month = period("30d", now=NOW, timezone=DENVER)
    facts = [
        fact(n, created_at=NOW - timedelta(days=n % 25, hours=n % 7), first_response_seconds=None)
        if n % 4 == 0
        else fact(n, created_at=NOW - timedelta(days=n % 25), first_response_seconds=60.0 * n)
        for n in range(1, 80)
    ]
    return build_report(facts, period=month, timezone=DENVER, brand="skylark")


def test_digest_chart_writes_a_png(tmp_path: Path) -> None:
    target = tmp_path / "charts" / "digest.png"
    assert digest_chart(_month_report(), target) == target
    assert target.read_bytes().startswith(b"\x89PNG")


def test_digest_chart_with_odd_titles_and_no_frt(tmp_path: Path) -> None:
    facts = [unanswered(1), unanswered(2)]
    report = build_report(facts, period=WEEK, timezone="UTC", brand="$ave & <co>")
    path = digest_chart(report, tmp_path / "nofrt.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    path = digest_chart(report, tmp_path / "title.png", title="Costs $5 $ a_b^c")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_digest_chart_for_an_empty_report(tmp_path: Path) -> None:
    empty = build_report([], period=WEEK, timezone="UTC")
    path = digest_chart(empty, tmp_path / "a" / "b" / "empty.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    instant = Period(label="today", since=NOW, until=NOW)
    path = digest_chart(build_report([], period=instant, timezone="UTC"), tmp_path / "now.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_a_report_has_a_line_per_network_and_can_keep_to_one() -> None:
    facts = [fact(1), fact(2, network="bluesky"), fact(3, network="bluesky"), unanswered(4)]
    report = build_report(facts, period=WEEK, timezone="UTC")
    assert [(r.key, r.volume) for r in report.networks] == [("bluesky", 2), ("x", 2)]
    text = report_text(report, names={})
    assert "*Networks*" in text and "Bluesky 2 cases" in text
    only = build_report(facts, period=WEEK, timezone="UTC", network="bluesky")
    assert only.volume == 2
    assert report_text(only, names={}).startswith("*All brands on Bluesky — last 7 days*")
    assert "*Networks*" not in report_text(only, names={})  # one network: no table
