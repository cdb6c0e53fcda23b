"""Config for care operations: SLAs, assignment, ingestion health, reports, and extra brands.

Split from ``bot.config.settings`` to keep each file readable; ``settings`` owns loading and
validation and uses the schemas and builders here. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.decide.sla import Policy, Targets
from bot.models import Priority
from bot.schema import Key, between, each, not_blank, pattern

_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9_\-]{0,79}|[CG][A-Z0-9]{6,})$")
_PING = re.compile(r"^(S[A-Z0-9]{2,}|[UW][A-Z0-9]{2,})?$")
_CLOCK = re.compile(r"^(([01]\d|2[0-3]):[0-5]\d)?$")
_MINUTES = between(1, 60 * 24 * 30)
_channel = pattern(_CHANNEL, "a Slack channel", 'write "#name" (lowercase) or a channel id')
_ping = pattern(_PING, "a Slack user group or user id", 'e.g. "S0123ABCD" or "U0123ABCD"')

FIRST_DEFAULTS = {"urgent": 30, "high": 60, "normal": 240, "low": 480}
NEXT_DEFAULTS = {"urgent": 30, "high": 60, "normal": 120, "low": 240}


def iso_date(value: Any) -> tuple[str, str] | None:
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a date", 'write dates as "2026-12-25"'
    return None


def _targets(defaults: Mapping[str, int | None]) -> dict[str, Key]:
    """Minutes per priority; a missing key takes its default (None: inherit from [sla])."""
    return {p.value: Key("int", defaults.get(p.value), check=_MINUTES) for p in Priority}


_INHERIT: dict[str, int | None] = {p.value: None for p in Priority}


def _pair(first: Mapping[str, int | None], nxt: Mapping[str, int | None]) -> dict[str, Key]:
    return {
        "first_response": Key("table", {}, schema=_targets(first)),
        "next_response": Key("table", {}, schema=_targets(nxt)),
    }


def _sla_schema(*, top: bool) -> dict[str, Key]:
    """[sla] (with defaults and settings) or a brand's [brands.sla] (inheriting [sla])."""
    schema = _pair(FIRST_DEFAULTS, NEXT_DEFAULTS) if top else _pair(_INHERIT, _INHERIT)
    team = {"channel": Key("str", check=_channel), **_pair(_INHERIT, _INHERIT)}
    schema["teams"] = Key("tables", (), schema=team)
    if top:
        schema |= {
            "business_hours": Key("bool", True),
            "remind_at": Key("float", 0.75, check=between(0.05, 0.99)),
            "escalate_to": Key("str", "", check=_ping),
        }
    return schema


SLA = _sla_schema(top=True)
BRAND_SLA = _sla_schema(top=False)
ASSIGNMENT = {
    "auto": Key("bool", False),
    "capacity": Key("int", 5, check=between(1, 500)),
}
HEALTH = {
    "silence_minutes": Key("int", 240, check=between(0, 60 * 24 * 7)),
    "failure_alert_after": Key("int", 3, check=between(1, 1000)),
}
REPORTS = {
    "digest_time": Key("str", "09:00", check=pattern(_CLOCK, "a time of day", 'e.g. "09:00"')),
    "digest_period": Key(
        "str",
        "7d",
        check=pattern(re.compile(r"^(today|7d|30d)$"), "a period", 'use "today", "7d" or "30d"'),
    ),
    "channel": Key("str", "", check=lambda v: _channel(v) if v else None),
}
X_COSTS = {
    "monthly_budget": Key("float", 0.0, check=between(0, 10**7)),
    "budget_alert_at": Key("float", 0.8, check=between(0.05, 1)),
    "cost_per_read": Key("float", 0.005, check=between(0, 100)),
    "cost_per_user_read": Key("float", 0.010, check=between(0, 100)),
    "cost_per_post": Key("float", 0.015, check=between(0, 100)),
    "cost_per_post_with_link": Key("float", 0.200, check=between(0, 100)),
}


def brand_x_schema(env: Any) -> dict[str, Key]:
    """An extra brand's own X account: its id and the variables holding its keys."""
    return {
        "user_id": Key("str", "", check=pattern(re.compile(r"^\d*$"), "a numeric id", "")),
        "bearer_token_env": Key("str", "", check=lambda v: env(v) if v else None),
        "consumer_key_env": Key("str", check=env),
        "consumer_secret_env": Key("str", check=env),
        "access_token_env": Key("str", check=env),
        "access_token_secret_env": Key("str", check=env),
        "search_queries": Key("str_list", (), check=each(not_blank)),
        "monthly_budget": Key("float", 0.0, check=between(0, 10**7)),
    }


# ---- values -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class XAccount:
    """One brand's X account: where its keys live, what else to search for, its budget."""

    user_id: str = ""
    bearer_token_env: str = ""
    consumer_key_env: str = ""
    consumer_secret_env: str = ""
    access_token_env: str = ""
    access_token_secret_env: str = ""
    search_queries: tuple[str, ...] = ()
    monthly_budget: float = 0.0


@dataclass(frozen=True, slots=True)
class XCosts:
    """Pay-per-use prices (USD) to estimate the month's spend; check your Developer Console."""

    budget_alert_at: float = 0.8
    per_read: float = 0.005
    per_user_read: float = 0.010
    per_post: float = 0.015
    per_post_with_link: float = 0.200


@dataclass(frozen=True, slots=True)
class Escalation:
    to: str = ""  # user group (S…) or person (U…) pinged with a breach in the leads' channel


@dataclass(frozen=True, slots=True)
class Assignment:
    auto: bool = False  # new cases go round-robin to on-duty agents with room
    capacity: int = 5  # open claimed cases per agent, unless the agent sets their own


@dataclass(frozen=True, slots=True)
class HealthSettings:
    silence_minutes: int = 240  # alert when a source brings nothing this long in business hours
    failure_alert_after: int = 3  # alert after this many failed polls in a row


@dataclass(frozen=True, slots=True)
class ReportSettings:
    digest_time: str = "09:00"  # local to the (first) brand; "" = no digest
    digest_period: str = "7d"
    channel: str = ""  # "" = the leads' channel


def build_policy(values: Mapping[str, Any], *, base: Policy | None = None) -> Policy:
    """SLA targets from a validated [sla] (or a brand's [brands.sla]) table."""
    default = _merge(base.default if base else None, values)
    teams = dict(base.teams) if base else {}
    for team in values.get("teams") or ():
        teams[team["channel"]] = _merge(default, team)
    return Policy(
        default=default,
        teams=teams,
        remind_at=values.get("remind_at", base.remind_at if base else 0.75),
        business_hours=values.get("business_hours", base.business_hours if base else True),
    )


def _merge(base: Targets | None, values: Mapping[str, Any]) -> Targets:
    def pick(key: str, inherited: Mapping[Priority, int]) -> dict[Priority, int]:
        table = values.get(key) or {}
        merged = dict(inherited)
        merged.update({Priority(p): m for p, m in table.items() if m is not None})
        return merged

    return Targets(
        first=pick("first_response", base.first if base else {}),
        next=pick("next_response", base.next if base else {}),
    )
