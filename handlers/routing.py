"""Leads steer routing from Slack: the rule list's buttons, the rule editor, dry-run and apply.

The slash command parts (`/mentions route …`) live in ``handlers.commands``; this module holds the
interactive parts. Every change goes editor → dry-run → apply; the core decides who may.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Refused
from bot.rules import rule_problems
from bot.services import Services
from bot.steering import DryRun
from handlers import rule_blocks as rb
from handlers.blocks import notice_modal


def dry_run_view(run: DryRun) -> dict[str, Any]:
    moves = [
        rb.MoveLine(
            case_id=None,
            handle=m.mention.author.handle,
            text=m.mention.text,
            before=m.before.channel,
            after=m.after.channel,
            why=m.after.why,
        )
        for m in run.moves
    ]
    return rb.dry_run_modal(
        proposal_id=run.proposal_id,
        summary=run.summary,
        changes=run.changes,
        moves=moves,
        checked=run.checked,
    )


def register(app: App, services: Services) -> None:
    _register_editor(app, services)
    _register_history(app, services)


def _register_editor(app: App, services: Services) -> None:
    steering = services.steering

    @app.action(rb.RULE_ADD)
    def add_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        steering.require_lead(body["user"]["id"], attempted="add a rule")
        view = rb.rule_editor(None, channels=_channels(services))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(re.compile(rf"^{rb.RULE_MENU}_\d+$"))
    def menu_chosen(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        verb, name = action["selected_option"]["value"].split("|", 1)
        user = body["user"]["id"]
        if verb == "edit":
            view = rb.rule_editor(steering.rule_to_edit(user, name), channels=_channels(services))
        else:
            view = dry_run_view(_propose(services, user=user, verb=verb, name=name))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(rb.RULE_EDITOR)
    def editor_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        spec, problems = rule_problems(rb.rule_data(values), where="")
        if spec is None:
            ack(response_action="errors", errors=_errors(problems, values))
            return
        editing = json.loads(view["private_metadata"]).get("editing") or ""
        user = body["user"]["id"]
        try:
            run = (
                steering.propose_edit(user, editing, spec)
                if editing
                else steering.propose_add(user, spec, position=rb.position(values))
            )
        except Refused as exc:
            ack(response_action="errors", errors={"name": str(exc)})
            return
        ack(response_action="update", view=dry_run_view(run))

    @app.view(rb.RULE_APPLY)
    def apply_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        proposal = int(json.loads(view["private_metadata"])["proposal"])
        try:
            saved = steering.apply(body["user"]["id"], proposal)
        except Refused as exc:
            ack(response_action="update", view=notice_modal("Not applied", str(exc)))
            return
        text = (
            f"Saved: routing is now version {saved.version} ({saved.summary}). "
            "Undo with `/mentions route undo`."
        )
        ack(response_action="update", view=notice_modal("Routing changed", text))


def _propose(services: Services, *, user: str, verb: str, name: str) -> DryRun:
    steering = services.steering
    if verb == "toggle":
        return steering.propose_toggle(user, name)
    if verb == "remove":
        return steering.propose_remove(user, name)
    return steering.propose_move(user, name, by=-1 if verb == "up" else 1)


def _register_history(app: App, services: Services) -> None:
    @app.action(rb.RULE_HISTORY)
    def history_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        blocks = rb.history_blocks(history_lines(services))
        _whisper(client, body, text="Routing history", blocks=blocks)

    @app.action(rb.RULE_UNDO)
    def undo_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        saved = services.steering.undo(body["user"]["id"])
        text = f"Undone: routing is now version {saved.version} ({saved.summary})."
        _whisper(client, body, text=text)


def history_lines(services: Services) -> list[rb.HistoryLine]:
    return [
        rb.HistoryLine(
            version=v.ruleset.version,
            at=v.ruleset.at,
            actor=services.directory.name(v.ruleset.actor)
            if v.ruleset.actor != "config"
            else "config file",
            summary=v.ruleset.summary,
            changes=v.changes,
        )
        for v in services.steering.history()
    ]


def _channels(services: Services) -> list[str]:
    return list(dict.fromkeys(r.channel for r in services.steering.rules().rules))


def _errors(problems: list[Any], values: dict[str, Any]) -> dict[str, str]:
    """Problems keyed by the editor's blocks (a problem about the whole rule goes to keywords)."""
    errors: dict[str, str] = {}
    for problem in problems:
        block = problem.where.split(".")[-1].split("[")[0] or "keywords"
        if block == "when":
            block = "when_custom"
        block = block if block in values else "keywords"
        text = f"{problem.message}. {problem.fix}".strip()
        errors[block] = f"{errors[block]} {text}" if block in errors else text
    return errors


def _whisper(
    client: WebClient, body: dict[str, Any], *, text: str, blocks: list[Any] | None = None
) -> None:
    """An ephemeral answer to a button on an ephemeral message (same channel, same person)."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    user = body["user"]["id"]
    if channel:
        client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
    else:
        client.chat_postMessage(channel=user, text=text, blocks=blocks)
