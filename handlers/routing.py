"""Leads steer routing from Slack: the rule list's buttons, the rule editor, dry-run and apply.

The slash command parts (`/mentions route …`) live in ``handlers.commands``; this module holds the
interactive parts. Every change goes editor → dry-run → apply; the core decides who may.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.decide.rules import rule_problems
from bot.desk.access import Refused
from bot.desk.steering import DryRun, Move, Steering
from bot.live.directory import Directory
from bot.services import Services
from bot.slack.views import rules as rb
from bot.slack.views.modals import notice_modal
from handlers import payload
from handlers.errors import refusals_told
from handlers.wiring import named


def dry_run_view(run: DryRun) -> dict[str, Any]:
    moves = [
        rb.MoveLine(
            case_id=m.case_id,
            handle=m.mention.author.handle,
            text=m.mention.text,
            before=m.before.channel,
            after=_after(m),
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


def _after(move: Move) -> str:
    """Where it would go, and what else the change does to it."""
    old, new = move.before, move.after
    extras = []
    if new.tags != old.tags:
        extras.append("tags " + (", ".join(new.tags) or "none"))
    if new.priority != old.priority and new.priority is not None:
        extras.append(f"priority {new.priority.value}")
    if new.notify != old.notify:
        extras.append(f"notifies {new.notify}" if new.notify else "no notification")
    if new.require_approval != old.require_approval:
        extras.append("needs approval" if new.require_approval else "no approval needed")
    return new.channel + (f" ({'; '.join(extras)})" if extras else "")


def register(app: App, services: Services) -> None:
    steering, told = services.steering, refusals_told(services.board)
    app.action(rb.RULE_ADD)(told(partial(add_clicked, steering=steering)))
    app.action(re.compile(rf"^{rb.RULE_MENU}_\d+$"))(told(partial(menu_chosen, steering=steering)))
    app.view(rb.RULE_EDITOR)(named(partial(editor_submitted, steering=steering)))
    app.view(rb.RULE_APPLY)(named(partial(apply_submitted, steering=steering)))
    app.action(rb.RULE_HISTORY)(
        named(partial(history_clicked, steering=steering, directory=services.directory))
    )
    app.action(rb.RULE_UNDO)(told(partial(undo_clicked, steering=steering)))


def add_clicked(ack: Ack, body: dict[str, Any], client: WebClient, *, steering: Steering) -> None:
    ack()
    steering.require_lead(payload.user(body), attempted="add a rule")
    view = rb.rule_editor(None, channels=_channels(steering))
    client.views_open(trigger_id=payload.trigger(body), view=view)


def menu_chosen(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, *, steering: Steering
) -> None:
    ack()
    verb, name = payload.pair(payload.option_value(action), what="rule menu choice")
    user = payload.user(body)
    if verb == "edit":
        view = rb.rule_editor(steering.rule_to_edit(user, name), channels=_channels(steering))
    else:
        view = dry_run_view(_propose(steering, user=user, verb=verb, name=name))
    client.views_open(trigger_id=payload.trigger(body), view=view)


def editor_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], *, steering: Steering
) -> None:
    values = payload.state_values(view)
    spec, problems = rule_problems(rb.rule_data(values), where="")
    if spec is None:
        ack(response_action="errors", errors=_errors(problems, values))
        return
    editing = str(payload.meta(view).get("editing") or "")
    user = payload.user(body)
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


def apply_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], *, steering: Steering
) -> None:
    try:
        proposal = payload.number(payload.meta(view).get("proposal"), what="proposal")
        saved = steering.apply(payload.user(body), proposal)
    except Refused as exc:
        ack(response_action="update", view=notice_modal("Not applied", str(exc)))
        return
    text = (
        f"Saved: routing is now version {saved.version} ({saved.summary}). "
        "Undo with `/mentions route undo`."
    )
    ack(response_action="update", view=notice_modal("Routing changed", text))


def _propose(steering: Steering, *, user: str, verb: str, name: str) -> DryRun:
    if verb == "toggle":
        return steering.propose_toggle(user, name)
    if verb == "remove":
        return steering.propose_remove(user, name)
    return steering.propose_move(user, name, by=-1 if verb == "up" else 1)


def history_clicked(
    ack: Ack, respond: Respond, *, steering: Steering, directory: Directory
) -> None:
    ack()
    blocks = rb.history_blocks(history_lines(steering, directory))
    respond(text="Routing history", blocks=blocks, replace_original=False)


def undo_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, *, steering: Steering
) -> None:
    """Undo the change the lead was looking at (its version is on the button), after a
    dry-run like any other change."""
    ack()
    value = payload.action_value(action)
    version = payload.number(value, what="version") if value else None
    run = steering.propose_undo(payload.user(body), version=version)
    client.views_open(trigger_id=payload.trigger(body), view=dry_run_view(run))


def history_lines(steering: Steering, directory: Directory) -> list[rb.HistoryLine]:
    return [
        rb.HistoryLine(
            version=v.ruleset.version,
            at=v.ruleset.at,
            actor=directory.name(v.ruleset.actor) if v.ruleset.actor != "config" else "config file",
            summary=v.ruleset.summary,
            changes=v.changes,
        )
        for v in steering.history()
    ]


def _channels(steering: Steering) -> list[str]:
    return list(dict.fromkeys(r.channel for r in steering.rules().rules))


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
