"""Is a card already in Slack? After a crash (or a timeout) between chat.postMessage and
recording Slack's answer, the card is looked for by its metadata before it is sent again, so a
restart never shows a case twice.

Needs the ``channels:history`` / ``groups:history`` scopes, which Earshot already asks for
(thread replies become internal notes), and ``channels:read`` / ``groups:read`` to learn a
channel's id from its name when no card was ever recorded there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk import WebClient

PAGES = 5  # 1,000 messages: at Slack's ~1 message/s per channel, far more than a crash window
SKEW_SECONDS = 30.0  # our clock and Slack's may differ a little
CARD_EVENT = "earshot_case"  # the metadata every case card carries, naming its case


def card_metadata(case_id: int) -> dict[str, Any]:
    return {"event_type": CARD_EVENT, "event_payload": {"case_id": case_id}}


def find_card(
    client: WebClient, *, channel_id: str, since: datetime, thread: str | None, case_id: int
) -> str | None:
    """The ts of case ``case_id``'s card if Slack has it: posted in ``thread`` (a storm's or a
    burst's), else at the top of the channel since ``since``. Raises slack-sdk's errors."""
    cursor: str | None = None
    for _ in range(PAGES):
        answer = _page(client, channel_id=channel_id, since=since, thread=thread, cursor=cursor)
        for message in answer.get("messages") or []:
            if _is_card(message, case_id):
                return str(message["ts"])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
    return None


def channel_id(client: WebClient, name: str) -> str | None:
    """Slack's id for ``#name`` (None if the bot cannot see such a channel). Raises slack-sdk's
    errors."""
    wanted, cursor = name.removeprefix("#"), None
    for _ in range(PAGES):
        answer = client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
        )
        for channel in answer.get("channels") or []:
            if channel.get("name") == wanted:
                return str(channel["id"])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
    return None


def _page(
    client: WebClient, *, channel_id: str, since: datetime, thread: str | None, cursor: str | None
) -> Any:
    if thread:
        return client.conversations_replies(
            channel=channel_id, ts=thread, include_all_metadata=True, limit=200, cursor=cursor
        )
    return client.conversations_history(
        channel=channel_id,
        oldest=f"{since.timestamp() - SKEW_SECONDS:.6f}",
        include_all_metadata=True,
        limit=200,
        cursor=cursor,
    )


def _is_card(message: dict[str, Any], case_id: int) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return meta.get("event_type") == CARD_EVENT and str(payload.get("case_id")) == str(case_id)
