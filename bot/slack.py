"""The Slack side of cases: post and update case cards, tell one person something privately.

Only slack-sdk's ``WebClient`` talks to Slack; rendering is done by the pure builders in
``handlers.blocks``.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.directory import Directory
from bot.store import Store
from handlers.blocks import CardView, SuggestionButton, case_card

log = logging.getLogger(__name__)


class BoardError(Exception):
    """Slack did not take a card; the case keeps no card and a job posts it later."""


class Board(Protocol):
    def post_card(self, case_id: int) -> None: ...

    def refresh_card(self, case_id: int) -> None: ...

    def tell(self, *, user: str, channel: str | None, text: str) -> None: ...


def make_web_client(*, token: str, base_url: str) -> WebClient:
    """A WebClient that waits out HTTP 429 (Retry-After) instead of failing at once."""
    client = WebClient(token=token, base_url=base_url, timeout=15)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


class SlackBoard:
    """Cards are rendered from the database inside a per-case lock, so a click that races the
    first post never posts a second card, and the last update always shows the latest state."""

    def __init__(self, *, client: WebClient, store: Store, directory: Directory) -> None:
        self._client = client
        self._store = store
        self._directory = directory
        self._stripes = tuple(threading.Lock() for _ in range(64))

    def _lock(self, case_id: int) -> threading.Lock:
        return self._stripes[case_id % len(self._stripes)]

    def card_view(self, case_id: int) -> CardView:
        store, directory = self._store, self._directory
        case = store.case(case_id)
        buttons = tuple(
            SuggestionButton(s["template"], directory.templates[s["template"]].label, s["score"])
            for s in store.case_suggestions(case_id)
            if s["template"] in directory.templates
        )
        return CardView(
            case=case,
            mention=store.mention(case.mention_id),
            brand=directory.brand.name,
            suggestions=buttons,
            agents=directory.agents,
            reply=store.latest_reply(case_id),
        )

    def post_card(self, case_id: int) -> None:
        with self._lock(case_id):
            self._post(case_id)

    def _post(self, case_id: int) -> None:
        case = self._store.case(case_id)
        if case.card_ts:
            return  # already posted (a sweep and the pipeline may both try)
        text, blocks = case_card(self.card_view(case_id))
        try:
            posted = self._client.chat_postMessage(
                channel=case.channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": "earshot_case", "event_payload": {"case_id": case_id}},
            )
            channel, ts = str(posted["channel"]), str(posted["ts"])
            link = self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as exc:
            raise BoardError(f"Slack refused the card for case {case_id}: {_why(exc)}") from exc
        self._store.set_card(case_id, channel_id=channel, ts=ts, permalink=str(link["permalink"]))

    def refresh_card(self, case_id: int) -> None:
        with self._lock(case_id):
            self._refresh(case_id)

    def _refresh(self, case_id: int) -> None:
        case = self._store.case(case_id)
        if not case.card_ts or not case.channel_id:
            self._post(case_id)
            return
        text, blocks = case_card(self.card_view(case_id))
        try:
            self._client.chat_update(
                channel=case.channel_id, ts=case.card_ts, text=text, blocks=blocks
            )
        except SlackApiError as exc:
            raise BoardError(f"Slack refused to update case {case_id}: {_why(exc)}") from exc

    def tell(self, *, user: str, channel: str | None, text: str) -> None:
        """A private note to one person: ephemeral in the channel, else a direct message."""
        if channel:
            self._client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            self._client.chat_postMessage(channel=user, text=text)


def _why(exc: SlackApiError) -> str:
    error = exc.response.get("error") if exc.response is not None else None
    return str(error or exc)
