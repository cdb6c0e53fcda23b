"""bot/rules.py: time windows, rule specs, validation, TOML export, descriptions and diffs."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest

from bot.config.settings import parse_config
from bot.decide.rules import (
    RuleSpec,
    Window,
    describe,
    diff,
    parse_rules,
    parse_window,
    rule_problems,
    to_toml,
)

WEEKDAYS = frozenset(range(5))

# 2026-11-16 is a Monday, so 2026-11-16 + n days is weekday n.
MONDAY = 16


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the week of Monday 2026-11-16: day 0 = Monday … 6 = Sunday."""
    return datetime(2026, 11, MONDAY + day, hour, minute, tzinfo=UTC)


# ---- parse_window ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days", "start", "end"),
    [
        ("Mon-Fri 09:00-17:30", WEEKDAYS, time(9), time(17, 30)),
        ("mon-fri 09:00-17:30", WEEKDAYS, time(9), time(17, 30)),
        ("  Mon-Fri   09:00-17:30  ", WEEKDAYS, time(9), time(17, 30)),
        ("09:00-17:30 Mon-Fri", WEEKDAYS, time(9), time(17, 30)),
        ("Sat,Sun 10:00-14:00", frozenset({5, 6}), time(10), time(14)),
        ("Mon,Wed,Fri 08:15-12:45", frozenset({0, 2, 4}), time(8, 15), time(12, 45)),
        ("Tue 9-17", frozenset({1}), time(9), time(17)),
        ("Monday-Friday 09:00-17:00", WEEKDAYS, time(9), time(17)),
    ],
)
def test_parse_window_reads_days_and_hours(
    text: str, days: frozenset[int], start: time, end: time
) -> None:
    assert parse_window(text) == Window(days, start, end)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Sat,Sun", {5, 6}),
        ("Fri-Mon", {4, 5, 6, 0}),  # a day range may wrap past Sunday
        ("Sun-Tue", {6, 0, 1}),
        ("Mon-Wed,Fri", {0, 1, 2, 4}),
        ("wed", {2}),
    ],
)
def test_parse_window_reads_day_lists_and_ranges(text: str, days: set[int]) -> None:
    assert parse_window(text).days == frozenset(days)


def test_parse_window_hours_only_means_every_day() -> None:
    window = parse_window("22:00-06:00")
    assert window == Window(frozenset(range(7)), time(22), time(6))


@pytest.mark.parametrize(
    ("text", "end"),
    [("Mon-Fri 09:00-24:00", time(0)), ("Mon-Fri 09:00", time(0))],
)
def test_parse_window_24_00_and_an_open_end_mean_midnight(text: str, end: time) -> None:
    assert parse_window(text).end == end


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("", "is not a time window"),
        ("   ", "is not a time window"),
        ("Mon-Fri 09:00-17:30 UTC", "is not a time window"),
        ("Funday", "is not a day or day range"),
        ("Mon-Xyz 09:00-17:00", "is not a day or day range"),
        ("Mon, 09:00-17:00", "is not a day or day range"),
        ("Mon-Fri 25:00-26:00", "is not a time range"),
        ("Mon-Fri 09:60-10:00", "is not a time range"),
        ("Mon-Fri 9am-5pm", "is not a time range"),
        ("Mon-Fri 09:00-17:00-18:00", "is not a time range"),
    ],
)
def test_parse_window_rejects_bad_input_with_a_helpful_message(text: str, mentions: str) -> None:
    with pytest.raises(ValueError, match=mentions):
        parse_window(text)


@pytest.mark.parametrize(
    ("text", "example"),
    [("Mon-Fri 9am-5pm", "09:00-17:30"), ("nonsense here too", "Mon-Fri 09:00-17:30")],
)
def test_parse_window_errors_show_an_example_of_the_right_form(text: str, example: str) -> None:
    with pytest.raises(ValueError, match=example):
        parse_window(text)


# Regression (fixed): two day parts ('Mon Tue') or two time parts silently keep only the last one
@pytest.mark.parametrize("text", ["Mon Tue", "09:00-12:00 13:00-17:00"])
def test_parse_window_refuses_two_day_parts_or_two_time_parts(text: str) -> None:
    with pytest.raises(ValueError):
        parse_window(text)


# ---- Window.contains ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (at(0, 9, 0), True),  # the start is inside
        (at(0, 12, 0), True),
        (at(4, 17, 29), True),
        (at(4, 17, 30), False),  # the end is outside
        (at(0, 8, 59), False),
        (at(0, 20, 0), False),
        (at(5, 12, 0), False),  # Saturday
        (at(6, 12, 0), False),  # Sunday
    ],
)
def test_window_contains_days_and_half_open_hours(moment: datetime, inside: bool) -> None:
    assert parse_window("Mon-Fri 09:00-17:30").contains(moment) is inside


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (at(4, 22, 0), True),  # Friday night, from the start
        (at(4, 23, 59), True),
        (at(5, 0, 0), True),  # Saturday after midnight: the Friday shift goes on
        (at(5, 5, 59), True),
        (at(5, 6, 0), False),  # the end is outside
        (at(5, 22, 0), False),  # Saturday night is not a Mon-Fri start
        (at(6, 3, 0), False),  # Sunday early morning: Saturday's shift, not in the days
        (at(0, 3, 0), False),  # Monday early morning: Sunday's shift, not in the days
        (at(1, 3, 0), True),  # Tuesday early morning belongs to Monday night
        (at(2, 12, 0), False),  # between the end and the start
    ],
)
def test_wrapping_window_uses_the_day_it_started_after_midnight(
    moment: datetime, inside: bool
) -> None:
    assert parse_window("Mon-Fri 22:00-06:00").contains(moment) is inside


@pytest.mark.parametrize(
    ("moment", "inside"),
    [(at(2, 9, 0), True), (at(2, 23, 59), True), (at(3, 0, 0), False), (at(2, 8, 0), False)],
)
def test_window_ending_at_24_00_runs_to_midnight(moment: datetime, inside: bool) -> None:
    assert parse_window("Wed 09:00-24:00").contains(moment) is inside


# Regression (fixed): a days-only window ('Sat,Sun') or 00:00-24:00 gets start == end and never
# contains any moment
@pytest.mark.parametrize(
    ("text", "moment"),
    [("Sat,Sun", at(5, 12, 0)), ("Sat,Sun", at(6, 0, 0)), ("Mon 00:00-24:00", at(0, 15, 0))],
)
def test_window_without_hours_covers_the_whole_day(text: str, moment: datetime) -> None:
    assert parse_window(text).contains(moment)


def test_days_only_window_excludes_other_days() -> None:
    assert not parse_window("Sat,Sun").contains(at(2, 12, 0))


# ---- RuleSpec ----------------------------------------------------------------------------------


def test_to_dict_of_a_minimal_rule_is_name_channel_and_the_condition() -> None:
    spec = RuleSpec("bags", "#care-bags", keywords=("suitcase",))
    assert spec.to_dict() == {"name": "bags", "channel": "#care-bags", "keywords": ["suitcase"]}


def test_to_dict_keeps_only_values_that_differ_from_the_defaults() -> None:
    spec = RuleSpec(
        "loud",
        "#care-loud",
        enabled=False,
        fuzzy=False,
        min_followers=5000,
        verified_only=True,
        tags=("reach",),
        priority_bump=-1,
        notify="S0LOUD1",
        require_approval=True,
    )
    assert spec.to_dict() == {
        "name": "loud",
        "channel": "#care-loud",
        "enabled": False,
        "fuzzy": False,
        "min_followers": 5000,
        "verified_only": True,
        "tags": ["reach"],
        "priority_bump": -1,
        "notify": "S0LOUD1",
        "require_approval": True,
    }


def test_to_dict_writes_lists_not_tuples() -> None:
    spec = RuleSpec("x", "#x", keywords=("a", "b"), networks=("x",), handles=("@someone",))
    data = spec.to_dict()
    assert all(type(data[key]) is list for key in ("keywords", "networks", "handles"))


def test_to_dict_leaves_out_a_field_set_back_to_its_default() -> None:
    spec = RuleSpec("x", "#x", keywords=("a",), enabled=True, priority_bump=0, tags=())
    assert set(spec.to_dict()) == {"name", "channel", "keywords"}


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("keywords", ("refund",)),
        ("all_keywords", ("lost", "bag")),
        ("regex", r"\d+"),
        ("languages", ("pt",)),
        ("sentiments", ("negative",)),
        ("min_priority", "high"),
        ("min_followers", 1),
        ("verified_only", True),
        ("networks", ("bluesky",)),
        ("brands", ("Skylark",)),
        ("handles", ("someone",)),
        ("customer_tags", ("vip",)),
        ("when", "business_hours"),
    ],
)
def test_each_condition_counts_as_a_condition(change: str, value: Any) -> None:
    assert replace(RuleSpec("r", "#r"), **{change: value}).has_condition


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("enabled", False),
        ("fuzzy", False),
        ("tags", ("t",)),
        ("priority_bump", 2),
        ("notify", "S0ABC"),
        ("require_approval", True),
    ],
)
def test_actions_and_switches_are_not_conditions(change: str, value: Any) -> None:
    assert not replace(RuleSpec("r", "#r"), **{change: value}).has_condition


# ---- rule_problems -----------------------------------------------------------------------------


def _wheres(data: dict[str, Any], where: str = "routing.rules[3]") -> set[str]:
    spec, problems = rule_problems(data, where=where)
    assert spec is None
    return {p.where for p in problems}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", "   "),
        ("channel", "Care Team"),
        ("channel", "#Care"),
        ("enabled", "yes"),
        ("keywords", ["ok", ""]),
        ("keywords", "refund"),
        ("all_keywords", [" "]),
        ("fuzzy", 1),
        ("regex", "(unclosed"),
        ("languages", ["English"]),
        ("sentiments", ["furious"]),
        ("min_priority", "critical"),
        ("min_followers", -5),
        ("min_followers", "100"),
        ("verified_only", "true"),
        ("networks", ["myspace"]),
        ("brands", [""]),
        ("handles", [""]),
        ("customer_tags", [""]),
        ("when", "someday"),
        ("when", "Mon-Fri 8-late"),
        ("tags", [""]),
        ("priority_bump", 4),
        ("priority_bump", -4),
        ("notify", "the-leads"),
        ("require_approval", "no"),
    ],
)
def test_rule_problems_names_the_bad_field_with_its_key_path(key: str, value: Any) -> None:
    data = {"name": "r", "channel": "#care", "keywords": ["refund"], key: value}
    assert _wheres(data) == {f"routing.rules[3].{key}"}


def test_rule_problems_reports_every_bad_field_at_once() -> None:
    data = {
        "name": "",
        "channel": "nowhere",
        "regex": "[",
        "sentiments": ["grumpy"],
        "min_followers": -1,
        "when": "whenever",
        "priority_bump": 9,
        "notify": "leads",
        "colour": "teal",
    }
    assert _wheres(data, "rules[1]") == {
        f"rules[1].{key}"
        for key in (
            "name",
            "channel",
            "regex",
            "sentiments",
            "min_followers",
            "when",
            "priority_bump",
            "notify",
            "colour",
        )
    }


@pytest.mark.parametrize("missing", ["name", "channel"])
def test_rule_problems_reports_a_missing_required_key(missing: str) -> None:
    data = {"name": "r", "channel": "#care", "keywords": ["refund"]}
    del data[missing]
    spec, [problem] = rule_problems(data, where="r")
    assert spec is None
    assert (problem.where, problem.message) == (f"r.{missing}", "required key is missing")


def test_rule_problems_suggests_the_key_meant_by_a_misspelling() -> None:
    data = {"name": "r", "channel": "#care", "keywords": ["refund"], "keywrds": ["x"]}
    _, [problem] = rule_problems(data, where="r")
    assert problem.where == "r.keywrds"
    assert "keywords" in problem.fix


def test_rule_problems_every_problem_says_how_to_fix_it() -> None:
    data = {"name": "", "channel": "x", "when": "later", "sentiments": ["meh"], "notify": "z"}
    _, problems = rule_problems(data, where="r")
    assert problems
    assert all(p.message and p.fix for p in problems)


def test_rule_problems_refuses_a_rule_without_any_condition() -> None:
    data = {"name": "all", "channel": "#care", "tags": ["x"], "priority_bump": 1}
    spec, [problem] = rule_problems(data, where="routing.rules[2]")
    assert spec is None
    assert problem.where == "routing.rules[2]"
    assert "no condition" in problem.message
    assert "fallback" in problem.fix


@pytest.mark.parametrize(
    "when", ["business_hours", "outside_business_hours", "Sat,Sun 10:00-16:00"]
)
def test_rule_problems_accepts_every_kind_of_when(when: str) -> None:
    spec, problems = rule_problems({"name": "w", "channel": "#w", "when": when}, where="r")
    assert problems == []
    assert spec == RuleSpec("w", "#w", when=when)


def test_rule_problems_turns_lists_into_tuples() -> None:
    spec, _ = rule_problems({"name": "r", "channel": "C0123ABCD", "keywords": ["a", "b"]}, where="")
    assert spec is not None
    assert spec.keywords == ("a", "b")
    assert spec.channel == "C0123ABCD"


FULL_RULE = RuleSpec(
    name="vip outage “café”",
    channel="#care-vip",
    enabled=False,
    keywords=("outage", "is down"),
    all_keywords=("app", "crash"),
    fuzzy=False,
    regex=r"(?i)\bflight\s+[A-Z]{2}\d{2,4}\b",
    languages=("en", "pt"),
    sentiments=("negative", "neutral"),
    min_priority="high",
    min_followers=2500,
    verified_only=True,
    networks=("x", "bluesky"),
    brands=("Skylark",),
    handles=("@Someone_1",),
    customer_tags=("vip", "press"),
    when="Mon-Fri 22:00-06:00",
    tags=("outage", "vip"),
    priority_bump=-2,
    notify="S0LEADS9",
    require_approval=True,
)


@pytest.mark.parametrize(
    "spec",
    [
        RuleSpec("plain", "#care", keywords=("refund",)),
        RuleSpec("pattern", "G0123ABCD", regex=r"\bAB\d+\b"),
        FULL_RULE,
    ],
)
def test_a_valid_rule_round_trips_through_to_dict_and_rule_problems(spec: RuleSpec) -> None:
    assert rule_problems(spec.to_dict(), where="r") == (spec, [])


# ---- parse_rules -------------------------------------------------------------------------------


def test_parse_rules_keeps_order_of_valid_rules() -> None:
    items = [
        {"name": "b", "channel": "#b", "keywords": ["bag"]},
        {"name": "a", "channel": "#a", "keywords": ["refund"]},
    ]
    specs, problems = parse_rules(items, where="rules")
    assert problems == []
    assert [s.name for s in specs] == ["b", "a"]


def test_parse_rules_reports_a_duplicate_name_at_the_later_rule() -> None:
    items = [
        {"name": "same", "channel": "#one", "keywords": ["bag"]},
        {"name": "other", "channel": "#two", "keywords": ["seat"]},
        {"name": "same", "channel": "#three", "keywords": ["meal"]},
    ]
    specs, [problem] = parse_rules(items, where="routing.rules")
    assert problem.where == "routing.rules[3].name"
    assert "'same'" in problem.message
    assert [s.channel for s in specs] == ["#one", "#two"]


def test_parse_rules_numbers_problems_from_one() -> None:
    items: list[dict[str, Any]] = [
        {"name": "ok", "channel": "#ok", "keywords": ["bag"]},
        {"name": "bad", "channel": "#bad", "keywords": ["x"], "priority_bump": 7},
    ]
    specs, [problem] = parse_rules(items, where="rules")
    assert problem.where == "rules[2].priority_bump"
    assert [s.name for s in specs] == ["ok"]


def test_parse_rules_collects_problems_from_every_rule() -> None:
    items = [
        {"name": "one", "channel": "bad"},
        {"name": "two", "channel": "#two"},
        {"name": "three", "channel": "#three", "regex": "("},
    ]
    specs, problems = parse_rules(items, where="rules")
    assert specs == []
    assert [p.where for p in problems] == ["rules[1].channel", "rules[2]", "rules[3].regex"]


# ---- to_toml -----------------------------------------------------------------------------------

BRAND = '[brand]\nname = "Skylark Air"\nhandle = "SkylarkAir"\n\n'

EXPORTED = (
    RuleSpec("legal", "#care-legal", regex=r"(?i)\b(lawyer|court)\b", priority_bump=2),
    RuleSpec('say "hi"', "#care-hello", keywords=("hello", 'back\\slash "q"')),
    RuleSpec("weekend", "#care-weekend", when="Sat,Sun 10:00-16:00", enabled=False),
    FULL_RULE,
)


def test_to_toml_parses_back_with_tomllib() -> None:
    data = tomllib.loads(to_toml(EXPORTED, fallback="#care-general"))
    assert data["routing"]["fallback_channel"] == "#care-general"
    assert data["routing"]["rules"] == [rule.to_dict() for rule in EXPORTED]


def test_to_toml_loads_through_the_config_into_the_same_rules(tmp_path: Path) -> None:
    text = BRAND + to_toml(EXPORTED, fallback="#care-general")
    config = parse_config(text, source="exported.toml", base_dir=tmp_path)
    assert config.rules == EXPORTED
    assert config.fallback_channel == "#care-general"


def test_to_toml_with_no_rules_is_just_the_fallback() -> None:
    data = tomllib.loads(to_toml([], fallback="#care-general"))
    assert data == {"routing": {"fallback_channel": "#care-general"}}


def test_to_toml_writes_one_table_per_rule_in_order() -> None:
    text = to_toml(EXPORTED[:2], fallback="#f")
    assert text.count("[[routing.rules]]") == 2
    assert text.index('name = "legal"') < text.index('name = "say \\"hi\\""')


# Regression (fixed): to_toml writes control characters such as a newline raw, so the TOML is
# invalid
def test_to_toml_escapes_a_newline_in_a_value() -> None:
    rule = RuleSpec("lines", "#care", regex="first line\nsecond line")
    data = tomllib.loads(to_toml([rule], fallback="#f"))
    assert data["routing"]["rules"][0]["regex"] == "first line\nsecond line"


# ---- describe ----------------------------------------------------------------------------------


def test_describe_says_what_a_rule_tests_and_does() -> None:
    rule = RuleSpec(
        "vip",
        "#care-vip",
        keywords=("refund", "delay"),
        all_keywords=("lost", "bag"),
        min_followers=10000,
        verified_only=True,
        tags=("vip",),
        priority_bump=1,
        notify="S0LEADS1",
        require_approval=True,
    )
    assert describe(rule) == (
        "keywords: refund | delay; all keywords: lost & bag; min followers: 10000; verified only"
        "  → #care-vip, tag vip, priority +1, notify S0LEADS1, needs approval"
    )


def test_describe_shows_a_negative_bump_with_its_sign() -> None:
    rule = RuleSpec("calm", "#calm", sentiments=("positive",), priority_bump=-2)
    assert describe(rule) == "sentiments: positive  → #calm, priority -2"


def test_describe_lists_conditions_in_a_fixed_order_and_only_set_ones() -> None:
    rule = RuleSpec("w", "#w", when="business_hours", languages=("pt",), regex="x")
    assert describe(rule) == "regex: x; languages: pt; when: business_hours  → #w"


def test_describe_of_a_disabled_rule_still_describes_it() -> None:
    rule = RuleSpec("off", "#off", networks=("bluesky",), enabled=False)
    assert describe(rule) == "networks: bluesky  → #off"


# ---- diff --------------------------------------------------------------------------------------

A = RuleSpec("a", "#a", keywords=("alpha",))
B = RuleSpec("b", "#b", keywords=("beta",))
C = RuleSpec("c", "#c", keywords=("gamma",))


def test_diff_of_identical_lists_is_empty() -> None:
    assert diff([A, B, C], [A, B, C]) == []


def test_diff_reports_an_added_rule_with_its_position() -> None:
    assert diff([A, B], [A, C, B]) == ["+ added “c” at 2"]


def test_diff_reports_a_removed_rule_with_its_old_position() -> None:
    assert diff([A, B, C], [A, C]) == ["− removed “b” (was 2)"]


def test_diff_removing_a_rule_above_another_does_not_move_it() -> None:
    assert diff([A, B, C], [B, C]) == ["− removed “a” (was 1)"]


def test_diff_adding_a_rule_on_top_does_not_move_the_others() -> None:
    assert diff([A, B], [C, A, B]) == ["+ added “c” at 1"]


def test_diff_reports_the_edited_fields() -> None:
    edited = replace(B, channel="#bee", keywords=("beta", "bravo"))
    assert diff([A, B], [A, edited]) == ["~ edited “b”: channel, keywords"]


def test_diff_reports_disabling_as_an_edit_of_enabled() -> None:
    assert diff([A], [replace(A, enabled=False)]) == ["~ edited “a”: enabled"]


def test_diff_reports_a_move_with_old_and_new_position() -> None:
    lines = diff([A, B, C], [A, C, B])
    assert lines == ["↕ moved “b” 2 → 3", "↕ moved “c” 3 → 2"]


def test_diff_reports_an_edit_and_a_move_of_the_same_rule() -> None:
    lines = diff([A, B], [replace(B, tags=("t",)), A])
    assert "~ edited “b”: tags" in lines
    assert "↕ moved “b” 2 → 1" in lines


def test_diff_reports_added_then_removed_then_kept_rules() -> None:
    lines = diff([A, B], [replace(A, channel="#aa"), C])
    assert lines == ["+ added “c” at 2", "− removed “b” (was 2)", "~ edited “a”: channel"]
