"""X's rules for answering a post from Earshot, pure: whether X takes a reply by API to it, and
the links that let an agent answer from the brand's own X session when it does not.

Since 2026-02-24 X takes a programmatic reply (``POST /2/tweets``) only when the original post's
author @mentions the replying account or quotes one of its posts, on the Free, Basic, Pro and
pay-per-use tiers; Enterprise (and Public Utility) apps are exempt (X Developers, "Changes to
programmatic replies", announced 2026-02-24). Posts found by a keyword search often never
mention the brand: for those the card offers X's web intent instead (a reply written in the
brand's logged-in X session) and *Mark answered*, so the case's SLA and stats still count it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from bot.models import Mention, MentionKind


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def invited(mention: Mention, *, handle: str) -> bool:
    """Whether X takes a reply by API to this post: since 2026-02-24, on every tier but
    Enterprise, only when its author @mentions the replying account or quotes one of its posts
    (https://devcommunity.x.com, "Changes to programmatic replies", 2026-02-24). A customer's
    reply in a thread with the brand carries the @mention, so it counts. X's own parse of the
    post (``entities``) decides where the raw tweet has it; the text otherwise."""
    tweet = _mapping(mention.raw.get("tweet"))
    entities = _mapping(tweet.get("entities"))
    mentioned = {str(m.get("username") or "").lower() for m in _items(entities.get("mentions"))}
    if not entities:
        mentioned = {m.lower() for m in _MENTIONED.findall(mention.text)}
    if handle.lower() in mentioned:
        return True
    return mention.kind is MentionKind.QUOTE and any(
        _is_post_of(str(u.get("expanded_url") or ""), handle) for u in _items(entities.get("urls"))
    )


_MENTIONED = re.compile(r"(?<![\w@])@(\w{1,15})")


def _is_post_of(url: str, handle: str) -> bool:
    """A link to one of ``handle``'s posts (how a quote shows the post it quotes)."""
    found = re.match(r"https?://(?:www\.|mobile\.)?(?:x|twitter)\.com/(\w+)/status/\d", url)
    return found is not None and found.group(1).lower() == handle.lower()


def restricted_reply(handle: str) -> str:
    """What the agent reads when X takes no reply by API to a post, and what to do instead."""
    return (
        f"X lets us answer this by API only if they @mention @{handle} (or quote one of its "
        "posts). Answer with *Reply on X* from the brand's X session, then *Mark answered*."
    )


def reply_intent(post_id: str, text: str = "") -> str:
    """X's web intent for a reply to that post, the text filled in (https://developer.x.com/en/
    docs/x-for-websites/tweet-button/guides/web-intent): the agent posts it as the brand."""
    query = {"in_reply_to": post_id, **({"text": text} if text else {})}
    return f"https://x.com/intent/post?{urlencode(query)}"


def message_intent(user_id: str, text: str = "") -> str:
    """X's link that opens a direct message to that account in the brand's session (it works
    when the customer accepts messages from the brand)."""
    query = {"recipient_id": user_id, **({"text": text} if text else {})}
    return f"https://x.com/messages/compose?{urlencode(query)}"
