"""What Slack requires for what Earshot does: each Web API method the code calls, each event it
listens to, with the bot scope Slack documents for it and its rate tier.

This table is the reference for ``manifest.yaml`` (a test scans ``bot/`` and ``handlers/`` for
Web API calls and listeners and fails when one has no entry here, or when the manifest does not
grant what the entries need) and for ``earshot check --online`` (the token's granted scopes
against :func:`needed_scopes`). Every fact is from Slack's page for the method or event, linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

RATE_LIMITS = "https://api.slack.com/apis/rate-limits"


class Tier(StrEnum):
    """Slack's rate tiers (per method, per app, per workspace), see ``RATE_LIMITS``."""

    TIER_2 = "Tier 2: 20+ per minute"
    TIER_3 = "Tier 3: 50+ per minute"
    TIER_4 = "Tier 4: 100+ per minute"
    SPECIAL = "Special"  # chat.postMessage: about 1 message per second per channel


@dataclass(frozen=True, slots=True)
class Method:
    """A Web API method: the bot scopes Earshot's use of it needs, its tier, Slack's page."""

    scopes: tuple[str, ...]
    tier: Tier
    why: str

    def doc(self, name: str) -> str:
        return f"https://api.slack.com/methods/{name}"


@dataclass(frozen=True, slots=True)
class Event:
    """A bot event subscription and the scope Slack requires for it."""

    scopes: tuple[str, ...]
    why: str

    def doc(self, name: str) -> str:
        return f"https://api.slack.com/events/{name}"


# Every Web API method Earshot calls (through slack-sdk's WebClient), and what Slack requires.
# conversations.* take one scope per conversation type (channels:, groups:, im:, mpim:); Earshot
# works in public and private channels, so it needs the channels: and groups: ones.
METHODS: dict[str, Method] = {
    "auth.test": Method((), Tier.SPECIAL, "start-up and `earshot check --online`: the token"),
    "chat.postMessage": Method(("chat:write",), Tier.SPECIAL, "cards, notes, direct notes"),
    "chat.update": Method(("chat:write",), Tier.TIER_3, "cards updated in place"),
    "chat.postEphemeral": Method(("chat:write",), Tier.TIER_4, "private notes in a channel"),
    "chat.getPermalink": Method((), Tier.SPECIAL, "links to cards"),
    "conversations.history": Method(
        ("channels:history", "groups:history"), Tier.TIER_3, "is a card already there?"
    ),
    "conversations.replies": Method(
        ("channels:history", "groups:history"), Tier.TIER_3, "is a card in a thread already?"
    ),
    "conversations.list": Method(
        ("channels:read", "groups:read"), Tier.TIER_2, "a channel's id; check --online"
    ),
    "usergroups.users.list": Method(("usergroups:read",), Tier.TIER_2, "the leads' user group"),
    "views.open": Method((), Tier.TIER_4, "modals"),
    "views.update": Method((), Tier.TIER_4, "modals updated while typing"),
    "views.publish": Method((), Tier.TIER_4, "the App Home tab"),
    "files.getUploadURLExternal": Method(("files:write",), Tier.TIER_4, "the digest's chart"),
    "files.completeUploadExternal": Method(("files:write",), Tier.TIER_4, "the digest's chart"),
}

# Bot event subscriptions, and the scope each needs.
EVENTS: dict[str, Event] = {
    "message.channels": Event(("channels:history",), "card-thread replies in public channels"),
    "message.groups": Event(("groups:history",), "card-thread replies in private channels"),
    "app_home_opened": Event((), "the App Home tab"),
}

# What each ``app.event(...)`` listener needs subscribed: thread replies come from public and
# private team channels.
LISTENED: dict[str, tuple[str, ...]] = {
    "message": ("message.channels", "message.groups"),
    "app_home_opened": ("app_home_opened",),
}

# Scopes for what is not a Web API method: slash commands, and posting without an invitation.
COMMANDS_SCOPE = "commands"  # https://api.slack.com/scopes/commands
# https://api.slack.com/scopes/chat:write.public: chat.postMessage into PUBLIC channels the bot is
# not in (never private ones): a routing rule may name a team channel nobody invited Earshot to.
POST_PUBLIC_SCOPE = "chat:write.public"


def needed_scopes(
    methods: tuple[str, ...] | None = None, events: tuple[str, ...] | None = None
) -> frozenset[str]:
    """The bot scopes the given methods and subscriptions need (default: all of Earshot's), plus
    ``commands`` for /mentions and ``chat:write.public``."""
    used = METHODS if methods is None else {m: METHODS[m] for m in methods}
    subscribed = EVENTS if events is None else {e: EVENTS[e] for e in events}
    scopes = {s for m in used.values() for s in m.scopes}
    scopes |= {s for e in subscribed.values() for s in e.scopes}
    return frozenset(scopes | {COMMANDS_SCOPE, POST_PUBLIC_SCOPE})
