"""The config file's schema: every table and key Earshot reads, its type, its default, and the fix
shown when it is wrong (checked by ``bot.schema.validate``, every problem at once). The values
these become, and the checks across keys, are in ``bot.config.settings``.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import networks as nets
from bot.config import operations as ops
from bot.decide import voice
from bot.decide.learned import DEFAULT_MIN_CONFIDENCE
from bot.decide.rules import RULE_SCHEMA, parse_window
from bot.schema import (
    Key,
    between,
    each,
    http_url,
    not_blank,
    one_of,
    pattern,
)

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
X_TIERS = ("free", "basic", "pro", "pay-per-use", "enterprise")  # as X's developer portal says
_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9_\-]{0,79}|[CG][A-Z0-9]{6,})$")
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


_channel = pattern(_CHANNEL, "a Slack channel", 'write "#name" (lowercase) or a channel id')


_env = pattern(_ENV_NAME, "an environment variable name", 'use a name such as "SLACK_BOT_TOKEN"')


def _timezone(value: Any) -> tuple[str, str] | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{value!r} is not a known time zone", 'use an IANA name such as "Europe/London"'
    return None


def _hours(value: Any) -> tuple[str, str] | None:
    try:
        parse_window(value)
    except ValueError as exc:
        return str(exc), 'write days and hours such as "Mon-Fri 09:00-17:30"'
    return None


def _optional_channel(value: Any) -> tuple[str, str] | None:
    return _channel(value) if value else None


_slack_user = pattern(_SLACK_USER, "a Slack user id", 'e.g. "U0123ABCD"')
_GROUP = re.compile(r"^(S[A-Z0-9]{2,})?$")
AGENT = {
    "slack_id": Key("str", check=_slack_user),
    "name": Key("str", check=not_blank),
    "signature": Key(
        "str", "", check=pattern(re.compile(r"^\S{0,12}$"), "a signature", 'e.g. "^JK"')
    ),
    "initials": Key("str", "", check=pattern(re.compile(r"^\S{0,4}$"), "initials", 'e.g. "JK"')),
    "trainee": Key("bool", False),
    "capacity": Key("int", 0, check=between(0, 500)),
}
VOICE = {
    "signature": Key("str", "^{initials}", check=one_of(*voice.SIGNATURE_FORMATS)),
    "banned": Key("str_list", (), check=each(not_blank)),
    "greetings": Key("str_list", (), check=each(not_blank)),
    "closings": Key("str_list", (), check=each(not_blank)),
    "warn_links": Key("bool", True),
}
_LANG_CODE = pattern(re.compile(r"^[a-z]{2,3}$"), "a language code", 'e.g. "en" or "ko"')
BRAND = {
    "name": Key("str", check=not_blank),
    "handle": Key("str", check=pattern(_HANDLE, "an X handle", "write it without @")),
    "timezone": Key("str", "UTC", check=_timezone),
    "business_hours": Key("str", "Mon-Fri 09:00-17:30", check=_hours),
    "holidays": Key("str_list", (), check=each(ops.iso_date)),
    "languages": Key("str_list", (), check=each(_LANG_CODE)),
    "voice": Key("table", {}, schema=VOICE),
}
EXTRA_BRAND = {
    **BRAND,
    "fallback_channel": Key("str", "", check=_optional_channel),
    "x": Key("table", schema=ops.brand_x_schema(_env)),
    "bluesky": Key("table", None, schema=nets.bluesky_schema(_env)),
    "mastodon": Key("table", None, schema=nets.mastodon_schema(_env)),
    "sla": Key("table", {}, schema=ops.BRAND_SLA),
}
SCHEMA: dict[str, Key] = {
    "earshot": Key(
        "table",
        {},
        schema={
            "database": Key("str", "earshot.db", check=not_blank),
            "playbooks": Key("str", ""),
            "log_level": Key("str", "INFO", check=one_of(*_LOG_LEVELS)),
        },
    ),
    "brand": Key("table", schema=BRAND),
    "brands": Key("tables", (), schema=EXTRA_BRAND),
    "leads": Key(
        "table",
        {},
        schema={
            "users": Key("str_list", (), check=each(_slack_user)),
            "usergroup": Key(
                "str", "", check=pattern(_GROUP, "a Slack user group id", "e.g. S0123ABCD")
            ),
            "channel": Key("str", "", check=_optional_channel),
        },
    ),
    "triage": Key(
        "table",
        {},
        schema={
            "vip_handles": Key("str_list", (), check=each(not_blank)),
            "high_reach": Key("int", 10_000, check=between(0, 10**10)),
            "huge_reach": Key("int", 250_000, check=between(0, 10**10)),
        },
    ),
    "slack": Key(
        "table",
        {},
        schema={
            "api_url": Key("str", "https://slack.com/api/", check=http_url),
            "bot_token_env": Key("str", "SLACK_BOT_TOKEN", check=_env),
            "signing_secret_env": Key("str", "SLACK_SIGNING_SECRET", check=_env),
            "app_token_env": Key("str", "SLACK_APP_TOKEN", check=_env),
            "http_host": Key("str", "0.0.0.0", check=not_blank),
            "http_port": Key("int", 3000, check=between(0, 65535)),
            "post_interval_seconds": Key("float", 1.1, check=between(0, 60)),
        },
    ),
    "x": Key(
        "table",
        {},
        schema={
            "api_url": Key("str", "https://api.twitter.com", check=http_url),
            "user_id": Key("str", "", check=pattern(re.compile(r"^\d*$"), "a numeric id", "")),
            "bearer_token_env": Key("str", "X_BEARER_TOKEN", check=_env),
            "consumer_key_env": Key("str", "X_CONSUMER_KEY", check=_env),
            "consumer_secret_env": Key("str", "X_CONSUMER_SECRET", check=_env),
            "access_token_env": Key("str", "X_ACCESS_TOKEN", check=_env),
            "access_token_secret_env": Key("str", "X_ACCESS_TOKEN_SECRET", check=_env),
            "poll_interval_seconds": Key("float", 60.0, check=between(1, 3600)),
            "page_size": Key("int", 100, check=between(5, 100)),
            "search_queries": Key("str_list", (), check=each(not_blank)),
            "api_tier": Key("str", "pay-per-use", check=one_of(*X_TIERS)),
            "reconcile_after_seconds": Key("float", 30.0, check=between(0, 3600)),
            **ops.X_COSTS,
        },
    ),
    "bluesky": Key("table", None, schema=nets.bluesky_schema(_env)),
    "mastodon": Key("table", None, schema=nets.mastodon_schema(_env)),
    "sla": Key("table", {}, schema=ops.SLA),
    "assignment": Key("table", {}, schema=ops.ASSIGNMENT),
    "health": Key("table", {}, schema=ops.HEALTH),
    "reports": Key("table", {}, schema=ops.REPORTS),
    "routing": Key(
        "table",
        schema={
            "fallback_channel": Key("str", check=_channel),
            "learned_min_confidence": Key("float", DEFAULT_MIN_CONFIDENCE, check=between(0, 1)),
            "dry_run_mentions": Key("int", 200, check=between(1, 5000)),
            "rules": Key("tables", (), schema=RULE_SCHEMA),
        },
    ),
    "conversations": Key(
        "table",
        {},
        schema={"quotes": Key("str", "case", check=one_of("case", "skip"))},
    ),
    "storms": Key(
        "table",
        {},
        schema={
            "window_minutes": Key("int", 30, check=between(1, 24 * 60)),
            "min_size": Key("int", 3, check=between(2, 1000)),
            "similarity": Key("float", 80.0, check=between(50, 100)),
            "reply_interval_seconds": Key("float", 10.0, check=between(1, 3600)),
        },
    ),
    "alerts": Key(
        "table",
        {},
        schema={
            "volume_factor": Key("float", 3.0, check=between(1, 100)),
            "min_count": Key("int", 10, check=between(1, 100_000)),
            "baseline_days": Key("int", 7, check=between(1, 90)),
        },
    ),
    "suggestions": Key(
        "table",
        {},
        schema={
            "top": Key("int", 3, check=between(1, 5)),
            "min_score": Key("float", 60.0, check=between(0, 100)),
        },
    ),
    "agents": Key("tables", (), schema=AGENT),
}
