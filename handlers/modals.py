"""The reply modal: compose (live character meter) -> preview (exact public text) -> post."""

from __future__ import annotations

import json
import uuid
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import voice
from bot.desk import Draft, Refused
from bot.models import OutboxState
from bot.services import Services
from handlers import blocks


def compose_view(draft: Draft, body: str | None = None) -> blocks.ComposeView:
    text = draft.body if body is None else body
    left = voice.chars_left(text, draft.agent.signature)
    return blocks.ComposeView(
        case_id=draft.case.id,
        template=draft.template,
        mention=draft.mention,
        agent=draft.agent,
        body=text,
        meter=blocks.meter(signature=draft.agent.signature, left=left),
    )


def _typed(view: dict[str, Any]) -> str:
    state = view["state"]["values"].get(blocks.REPLY_BLOCK, {}).get(blocks.REPLY_INPUT, {})
    return str(state.get("value") or "")


def register(app: App, services: Services) -> None:
    desk = services.desk

    @app.action(blocks.REPLY_INPUT)
    def reply_typed(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        """Keep the characters-left meter true while the agent types."""
        ack()
        agent = desk.agent(body["user"]["id"], action="reply to customers")
        left = voice.chars_left(str(action.get("value") or ""), agent.signature)
        view = blocks.with_meter(body["view"], blocks.meter(signature=agent.signature, left=left))
        try:
            client.views_update(view_id=body["view"]["id"], hash=body["view"]["hash"], view=view)
        except SlackApiError as exc:
            if exc.response.get("error") != "hash_conflict":  # a newer keystroke already won
                raise

    @app.view(blocks.COMPOSE_VIEW)
    def compose_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view["private_metadata"])
        text = _typed(view)
        preview = desk.preview(body["user"]["id"], text)
        if preview.problems:
            ack(response_action="errors", errors={blocks.REPLY_BLOCK: " ".join(preview.problems)})
            return
        case = services.store.case(int(meta["case"]))
        shown = blocks.PreviewView(
            case_id=case.id,
            template=meta.get("template") or None,
            body=text,
            public_text=preview.public_text,
            key=uuid.uuid4().hex,
            mention=services.store.mention(case.mention_id),
            brand_handle=services.directory.brand.handle,
            length=preview.length,
            limit=voice.X_LIMIT,
        )
        ack(response_action="update", view=blocks.preview_modal(shown))

    @app.view(blocks.CONFIRM_VIEW)
    def confirm_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view["private_metadata"])
        user = body["user"]["id"]
        try:
            reply = desk.confirm(
                key=meta["key"],
                case_id=int(meta["case"]),
                user_id=user,
                body=meta["body"],
                template=meta.get("template") or None,
            )
        except Refused as exc:
            ack(response_action="update", view=blocks.notice_modal("Not sent", str(exc)))
            return
        ack()  # the reply is in the outbox; the modal can close
        sent = desk.send(reply.id)
        if sent.state is not OutboxState.SENT:
            case = services.store.case(sent.case_id)
            note = f"Your reply to case #{case.id} is not public yet: {sent.error}"
            services.board.tell(user=user, channel=case.channel_id, text=note)

    @app.action(blocks.EDIT_ACTION)
    def edit_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Back from the preview to the editor, keeping the text."""
        ack()
        meta = json.loads(body["view"]["private_metadata"])
        draft = desk.draft(int(meta["case"]), body["user"]["id"], meta.get("template") or None)
        view = blocks.compose_modal(compose_view(draft, body=meta["body"]))
        client.views_update(view_id=body["view"]["id"], hash=body["view"]["hash"], view=view)
