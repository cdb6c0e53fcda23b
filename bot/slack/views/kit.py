"""The small Block Kit pieces every view in ``bot.slack.views`` is built from (data in, Slack JSON
out, no I/O), and how customer text is shown.

Customer text is shown literally. Posts and names go in rich text (``said``, ``words``), where
Slack applies no mrkdwn: ``*x*`` stays ``*x*``, ``<!channel>`` pings no one, a link is only
text. Slack's "Formatting text for app surfaces" documents escapes for ``&``, ``<`` and ``>``
alone, and none for ``*``, ``_``, ``~``, `` ` `` or a leading ``>``
(https://api.slack.com/reference/surfaces/formatting#escaping), and its rich text block reference
says to use rich text for user-defined text
(https://docs.slack.dev/reference/block-kit/blocks/rich-text-block). So mrkdwn is kept for
Earshot's own words; the few customer strings still inside mrkdwn (the queue, a preview's
handle, notification text) are ``escape``d. Everywhere, bidi overrides and isolates are made
visible (``shown``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.models import (
    Priority,
    Sentiment,
)

Block = dict[str, Any]


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


_PRIORITY = {
    Priority.URGENT: "🔴 *Urgent*",
    Priority.HIGH: "🟠 *High*",
    Priority.NORMAL: "🟢 Normal",
    Priority.LOW: "⚪ Low",
}


_SENTIMENT = {
    Sentiment.NEGATIVE: "😠 negative",
    Sentiment.NEUTRAL: "😐 neutral",
    Sentiment.POSITIVE: "🙂 positive",
}


def slack_time(moment: datetime) -> str:
    """A moment Slack shows each reader in their own time zone (UTC as the fallback)."""
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


# Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """Text as Slack surfaces show it: each bidi embedding, override or isolate is replaced by
    a visible marker naming it (``\\u202eevil`` shows as ``[U+202E]evil``), so customer text
    cannot reverse or reorder the text around it on a card. Nothing else changes."""
    return _BIDI.sub(lambda found: f"[U+{ord(found.group()):04X}]", text)


def escape(text: str) -> str:
    """Escape text for Slack mrkdwn: &, < and > become entities (no pings, no hidden links);
    bidi controls are made visible (``shown``). Formatting characters cannot be escaped in
    mrkdwn: show customer text with ``said``/``words`` instead."""
    return shown(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def words(text: str, *, bold: bool = False, italic: bool = False) -> dict[str, Any]:
    """A rich text element shown literally, styled only as asked: Slack parses no mrkdwn,
    mention or link inside it (https://docs.slack.dev/reference/block-kit/blocks/rich-text-block).
    Bidi controls are made visible (``shown``)."""
    element: dict[str, Any] = {"type": "text", "text": shown(text)}
    style = {name: True for name, on in (("bold", bold), ("italic", italic)) if on}
    if style:
        element["style"] = style
    return element


def said(*texts: str, limit: int = 2800, head: Sequence[dict[str, Any]] = ()) -> Block:
    """Customer posts, each in a quote and shown literally (rich text), under an optional first
    line of ``words``. An empty post says so."""
    elements: list[dict[str, Any]] = []
    if first := [part for part in head if part.get("text")]:  # Slack takes no empty text
        elements.append({"type": "rich_text_section", "elements": first})
    for text in texts:
        body = words(_cut(text, limit)) if text.strip() else words("(no text)", italic=True)
        elements.append({"type": "rich_text_quote", "elements": [body]})
    return {"type": "rich_text", "elements": elements}


def literal(text: str, limit: int) -> dict[str, Any]:
    """Customer text as a plain_text object (for fields where rich text cannot go): shown as
    written, ``:emoji:`` codes included, bidi controls made visible."""
    body = shown(_cut(text, limit)) if text.strip() else "(no text)"
    return {"type": "plain_text", "text": body, "emoji": False}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(text: str, limit: int = 2800) -> str:
    body = escape(text if len(text) <= limit else text[: limit - 1] + "…")
    return "\n".join(f"> {line}" if line else ">" for line in body.splitlines() or [""])


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…"}


def reach(followers: int) -> str:
    if followers >= 1_000_000:
        return f"{followers / 1_000_000:.1f}M followers"
    if followers >= 1_000:
        return f"{followers / 1_000:.1f}k followers"
    return f"{followers} followers"


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button = {"type": "button", "text": plain(text, 75), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def link_button(text: str, action_id: str, url: str, *, style: str | None = None) -> dict[str, Any]:
    """A button that opens ``url`` in the browser (Slack caps a button's URL at 3000)."""
    found = {"type": "button", "text": plain(text, 75), "action_id": action_id, "url": url[:3000]}
    if style:
        found["style"] = style
    return found


def context(*texts: str) -> Block:
    """Small print; each part cut to Slack's 3000 characters (a customer's name can be long)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t[:3000]} for t in texts]}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
