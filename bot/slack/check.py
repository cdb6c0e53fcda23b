"""Is the Slack side ready? The token at start-up, and ``earshot check --online``.

A refused or wrong-kind token stops ``earshot run`` with one line and its fix. The online check
asks Slack about the installed app: the token (``auth.test``), its granted scopes (Slack's
``x-oauth-scopes`` answer header) against what the code needs (``bot.slack.scopes``), and every
channel the config names: it exists, is not archived, and Earshot is in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.config.settings import Config
from bot.decide.rules import Ruleset
from bot.slack.scopes import needed_scopes

APPS_PAGE = "your app's page at https://api.slack.com/apps"
BOT_TOKEN = "the Bot User OAuth Token (xoxb-…) from OAuth & Permissions on " + APPS_PAGE
# auth.test's errors (https://api.slack.com/methods/auth.test) that mean the token is no good
REFUSED = {
    "invalid_auth": "Slack does not know this token",
    "not_authed": "no token reached Slack",
    "account_inactive": "the token belongs to a deleted user or workspace",
    "token_revoked": "the token was revoked (the app was removed or reinstalled)",
    "token_expired": "the token expired (token rotation is on)",
    "not_allowed_token_type": "Slack does not take this kind of token here",
}
PAGES = 20  # conversations.list pages of 1,000 channels


class SlackRefused(Exception):
    """Slack will not work with this token, or cannot be reached: one line, with the fix."""


class SlackUnreachable(SlackRefused):
    """Slack could not be reached (the network, a proxy): not the operator's configuration, so
    ``earshot run`` exits 1, and a service manager may simply start it again."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the bot token is: its workspace and bot user, and the scopes Slack granted it."""

    team: str
    user_id: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class SlackProblem:
    where: str
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}. Fix: {self.fix}"


def token_kind_problem(token: str, *, variable: str) -> str | None:
    """Why ``token`` cannot be a bot token, from its prefix alone (None: it may be one)."""
    if token.startswith(("xoxb-", "xoxe.xoxb-")):
        return None
    if token.startswith(("xoxp-", "xoxe.xoxp-")):
        return f"{variable} holds a user token (xoxp-…), not the bot token. Fix: use {BOT_TOKEN}"
    if token.startswith("xapp-"):
        return (
            f"{variable} holds an app-level token (xapp-…), not the bot token. Fix: use "
            f"{BOT_TOKEN}; the xapp- token belongs in the app token's variable (Socket Mode)"
        )
    return f"{variable} does not hold a Slack bot token (xoxb-…). Fix: use {BOT_TOKEN}"


def identify(client: WebClient, *, variable: str) -> Identity:
    """``auth.test`` with the bot token: who it is and what it may do; ``SlackRefused`` with
    the fix when Slack refuses it, it is not a bot's, or Slack cannot be reached."""
    token = client.token or ""
    if problem := token_kind_problem(token, variable=variable):
        raise SlackRefused(problem)
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or exc.response.status_code)
        why = REFUSED.get(code, f"Slack answered {code}")
        fix = f"put {BOT_TOKEN} in {variable}, and reinstall the app if it was removed"
        raise SlackRefused(f"Slack refused {variable}: {why} ({code}). Fix: {fix}") from None
    except OSError as exc:
        where = client.base_url
        raise SlackUnreachable(
            f"cannot reach Slack at {where} ({exc}). Fix: check slack.api_url and the network"
        ) from None
    if not answer.get("bot_id"):
        raise SlackRefused(f"{variable} is not a bot's token. Fix: use {BOT_TOKEN}")
    headers = {str(k).lower(): v for k, v in (answer.headers or {}).items()}
    granted = str(headers.get("x-oauth-scopes") or "")
    return Identity(
        team=str(answer.get("team") or answer.get("team_id") or ""),
        user_id=str(answer.get("user_id") or ""),
        scopes=frozenset(s.strip() for s in granted.split(",") if s.strip()),
    )


def check_start(*, token: str, variable: str, base_url: str, app_token: str = "") -> None:
    """Before ``earshot run`` builds anything: the bot token works and is a bot's, and a Socket
    Mode app token looks like one. ``SlackRefused`` (one line with the fix) otherwise."""
    if app_token and not app_token.startswith("xapp-"):
        raise SlackRefused(
            "the Socket Mode app token is not an app-level token (xapp-…). Fix: create one with "
            f"the connections:write scope under Basic Information on {APPS_PAGE}"
        )
    client = WebClient(token=token, base_url=base_url, timeout=15)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))  # wait out 429
    client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))  # a blip
    identify(client, variable=variable)


def configured_channels(config: Config, live: Ruleset | None = None) -> dict[str, str]:
    """Every channel the config (and the live rules, if given) names → what names it first."""
    found: dict[str, str] = {}
    rules = live.rules if live is not None else config.rules
    source = "routing rule" if live is None else "live routing rule"
    for rule in rules:
        found.setdefault(rule.channel, f"{source} “{rule.name}”")
    found.setdefault(config.fallback_channel, "routing.fallback_channel")
    for brand in config.brands:
        if brand.fallback_channel:
            found.setdefault(brand.fallback_channel, f"brand {brand.name}'s fallback_channel")
    if config.leads.channel:
        found.setdefault(config.leads.channel, "leads.channel")
    if config.reports.channel:
        found.setdefault(config.reports.channel, "reports.channel")
    return {name: where for name, where in found.items() if name}


def check_online(
    client: WebClient, config: Config, *, variable: str, live: Ruleset | None = None
) -> list[SlackProblem]:
    """Every problem Slack shows with this install: the token, missing scopes, channels."""
    try:
        identity = identify(client, variable=variable)
    except SlackRefused as exc:
        return [SlackProblem("Slack", *_split(str(exc)))]
    problems = [
        SlackProblem(
            "Slack app",
            f"the token lacks the {scope} scope",
            f"add it under OAuth & Permissions on {APPS_PAGE} (or paste manifest.yaml), then "
            "reinstall the app and use the new bot token",
        )
        for scope in sorted(needed_scopes() - identity.scopes)
    ]
    channels = configured_channels(config)
    if live is not None:
        channels |= {
            k: v for k, v in configured_channels(config, live).items() if k not in channels
        }
    return problems + list(_channel_problems(client, channels))


def _split(line: str) -> tuple[str, str]:
    what, _, fix = line.partition(". Fix: ")
    return what, fix or "see the message"


def _channel_problems(client: WebClient, channels: dict[str, str]) -> Iterator[SlackProblem]:
    try:
        known = {c["name"]: c for c in _list_channels(client)}
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "")
        needed = exc.response.get("needed") or "channels:read and groups:read"
        yield SlackProblem(
            "Slack app", f"cannot list channels ({code})", f"grant {needed} and reinstall"
        )
        return
    for name, where in channels.items():
        channel = known.get(name.removeprefix("#"))
        if channel is None:
            fix = (
                f"create {name} (or fix the {where}); if it is private, type "
                f"`/invite @Earshot` in {name}"
            )
            yield SlackProblem(name, f"no such channel that Earshot can see ({where})", fix)
        elif channel.get("is_archived"):
            yield SlackProblem(
                name, f"the channel is archived ({where})", f"unarchive {name} or fix the {where}"
            )
        elif not channel.get("is_member"):
            what = f"Earshot is not in it ({where}), so replies in card threads never become notes"
            yield SlackProblem(name, what, f"type `/invite @Earshot` in {name}")


def _list_channels(client: WebClient) -> Iterator[dict[str, object]]:
    cursor: str | None = None
    for _ in range(PAGES):
        answer = client.conversations_list(
            types="public_channel,private_channel",
            exclude_archived=False,
            limit=1000,
            cursor=cursor,
        )
        yield from answer.get("channels") or []
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return
