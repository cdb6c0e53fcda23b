"""The reply modal: compose (live character meter) -> preview (exact public text) -> post."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config.settings import Brand
from bot.decide import voice
from bot.decide.playbooks import fill_slots
from bot.desk.access import Refused
from bot.desk.desk import Desk
from bot.desk.replying import Draft
from bot.models import Approval
from bot.services import Services
from bot.slack.views import ids, modals
from handlers import payload
from handlers.errors import refusals_told
from handlers.wiring import named


def compose_view(draft: Draft, body: str | None = None) -> modals.ComposeView:
    text = draft.body if body is None else body
    left = voice.chars_left(text, draft.agent.signature, draft.medium)
    return modals.ComposeView(
        case_id=draft.case.id,
        template=draft.template,
        mention=draft.mention,
        agent=draft.agent,
        body=text,
        meter=modals.meter(signature=draft.agent.signature, left=left),
        network_label=draft.medium.label,
        slots=draft.slots if body is None else (),
        approval=draft.approval,
    )


def _slot_errors(text: str, view: dict[str, Any]) -> dict[str, str]:
    """Each slot field whose slot is still unfilled in the text, as an error on that field."""
    fields = [
        b["block_id"]
        for b in view.get("blocks", [])
        if b.get("block_id", "").startswith(ids.SLOT_BLOCK)
    ]
    return {
        block: f"Fill in {modals.slot_label(name).lower()}."
        for block in fields
        if f"{{{(name := block[len(ids.SLOT_BLOCK) :])}?}}" in text
    }


def register(app: App, services: Services) -> None:
    desk, told = services.desk, refusals_told(services.board)
    app.action(ids.REPLY_INPUT)(told(partial(reply_typed, desk=desk)))
    app.view(ids.COMPOSE_VIEW)(
        named(partial(compose_submitted, desk=desk, brand=services.directory.brand))
    )
    app.view(ids.CONFIRM_VIEW)(named(partial(confirm_submitted, desk=desk)))
    app.action(ids.EDIT_ACTION)(told(partial(edit_clicked, desk=desk)))


def reply_typed(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, *, desk: Desk
) -> None:
    """Keep the characters-left meter true while the agent types."""
    ack()
    shown = payload.view(body)
    case_id = payload.number(payload.meta(shown).get("case"))
    signature = desk.signature(payload.user(body), case_id=case_id)
    medium = desk.medium(case_id)
    left = voice.chars_left(str(action.get("value") or ""), signature, medium)
    view = modals.with_meter(shown, modals.meter(signature=signature, left=left))
    try:  # the hash keeps a late keystroke from overwriting a newer view (or the preview)
        client.views_update(view_id=shown["id"], hash=shown.get("hash"), view=view)
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise


def compose_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], *, desk: Desk, brand: Brand
) -> None:
    meta, filled = payload.meta(view), modals.slot_values(view)
    case_id = payload.number(meta.get("case"))
    text = fill_slots(modals.input_value(view, ids.REPLY_BLOCK, ids.REPLY_INPUT), filled)
    preview = desk.preview(payload.user(body), text, case_id=case_id)
    if preview.by_hand and preview.answering is not None:
        answer = modals.answer_on_x_modal(
            case_id=case_id, mention=preview.answering, parts=preview.parts
        )
        ack(response_action="update", view=answer)
        return
    if preview.problems or preview.answering is None:
        errors = _slot_errors(text, view) or {ids.REPLY_BLOCK: " ".join(preview.problems)}
        ack(response_action="errors", errors=errors)
        return
    shown = modals.PreviewView(
        case_id=case_id,
        template=str(meta.get("template") or "") or None,
        body=text,
        public_text=preview.public_text,
        key=uuid.uuid4().hex,
        mention=preview.answering,
        brand_handle=preview.medium.account or brand.handle,
        length=preview.length,
        limit=preview.medium.limit,
        network_label=preview.medium.label,
        private=preview.medium.private,
        parts=preview.parts,
        warnings=preview.warnings,
        approval=preview.approval,
    )
    ack(response_action="update", view=modals.preview_modal(shown))


def confirm_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], *, desk: Desk) -> None:
    meta = payload.meta(view)
    try:
        reply = desk.confirm(
            key=str(meta.get("key") or ""),
            case_id=payload.number(meta.get("case")),
            user_id=payload.user(body),
            body=str(meta.get("body") or ""),
            template=str(meta.get("template") or "") or None,
            answering=str(meta["answering"]) if meta.get("answering") else None,
        )
    except Refused as exc:
        ack(response_action="update", view=modals.notice_modal("Not sent", str(exc)))
        return
    if isinstance(reply, Approval):
        text = "Your reply is with the leads. It goes public once a lead approves it."
        ack(response_action="update", view=modals.notice_modal("Sent for approval", text))
        return
    ack()  # the reply is safe in the outbox; the modal closes, the outbox worker sends it
    desk.send_soon(reply.id)


def edit_clicked(ack: Ack, body: dict[str, Any], client: WebClient, *, desk: Desk) -> None:
    """Back from the preview to the editor, keeping the text."""
    ack()
    shown = payload.view(body)
    meta = payload.meta(shown)
    template = str(meta.get("template") or "") or None
    draft = desk.draft(payload.number(meta.get("case")), payload.user(body), template_id=template)
    view = modals.compose_modal(compose_view(draft, body=str(meta.get("body") or "")))
    client.views_update(view_id=shown["id"], hash=shown.get("hash"), view=view)
