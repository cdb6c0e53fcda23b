"""``/mentions``: help, the open-case queue, routing (`route …`), customer tags (`tag …`),
playbooks, and the operations subcommands in ``handlers.operations``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.desk.access import Refused
from bot.live.library import playbook_problems_text
from bot.problems import did_you_mean
from bot.services import Services
from bot.slack.views import kit, queue
from bot.slack.views import rules as rb
from handlers import operations, payload
from handlers.routing import dry_run_view, history_lines
from handlers.wiring import named

SUBCOMMANDS = ("help", "queue", "route", "tag", "playbooks", *operations.SUBCOMMANDS)
ROUTE_SUBCOMMANDS = ("test", "history", "undo")


def register(app: App, services: Services) -> None:
    app.command("/mentions")(named(partial(mentions, services=services)))


def mentions(ack: Ack, command: dict[str, Any], client: WebClient, *, services: Services) -> None:
    """The one slash command. Its subcommands span the desk, steering and operations, so it is
    the one listener handed all of the services (still never the store: see the architecture
    test)."""
    try:
        _dispatch(ack, services, command, partial(_open_view, client, command))
    except Refused as exc:  # the person may not do this: say why, in place of an answer
        ack(text=f"🚫 {exc}")


OpenView = Callable[[dict[str, Any]], None]


def _open_view(client: WebClient, command: dict[str, Any], view: dict[str, Any]) -> None:
    client.views_open(trigger_id=payload.trigger(command), view=view)


def _dispatch(ack: Ack, services: Services, command: dict[str, Any], open_view: OpenView) -> None:
    words = str(command.get("text") or "").split()
    sub = words[0].lower() if words else "help"
    user = str(command.get("user_id") or "")
    if sub == "help":
        ack(text=queue.HELP)
    elif sub == "queue":
        ack(text="Open cases", blocks=_queue(services))
    elif sub == "route":
        text = str(command.get("text") or "")
        _route(ack, services, user=user, words=words[1:], text=text, open_view=open_view)
    elif sub == "tag":
        ack(text=_tag(services, user=user, words=words[1:]))
    elif sub == "playbooks":
        ack(text=_playbooks(services, user=user, words=words[1:]))
    elif (answer := operations.dispatch(services, sub=sub, user=user, words=words[1:])) is not None:
        ack(text=answer)
    else:
        hint = did_you_mean(sub, SUBCOMMANDS)
        ack(text=f"I don't know `/mentions {sub}`. {hint}\n\n{queue.HELP}")


def _queue(services: Services) -> list[kit.Block]:
    items = [
        queue.QueueItem(
            case, mention, services.directory.name(case.claimed_by) if case.claimed_by else None
        )
        for case, mention in services.desk.queue()
    ]
    return queue.queue_blocks(items, now=services.clock.now())


def _route(
    ack: Ack, services: Services, *, user: str, words: list[str], text: str, open_view: OpenView
) -> None:
    steering = services.steering
    sub = words[0].lower() if words else ""
    if not sub:
        ruleset = steering.rules()
        view = rb.RulesView(
            ruleset=ruleset,
            fallback=services.rulebook.fallback,
            learned_examples=steering.learned_examples(),
            can_edit=services.access.is_lead(user),
            changed_by=services.directory.name(ruleset.actor)
            if ruleset.actor != "config"
            else "the config file",
        )
        ack(text="Routing rules", blocks=rb.rules_list(view))
    elif sub == "test":
        sample = text.split(None, 2)[2] if len(text.split(None, 2)) > 2 else ""
        if not sample.strip():
            ack(text="Give me a post to test, e.g. `/mentions route test my refund never arrived`.")
            return
        ack(text=rb.test_result(sample, steering.test(sample)))
    elif sub == "history":
        ack(
            text="Routing history",
            blocks=rb.history_blocks(history_lines(steering, services.directory)),
        )
    elif sub == "undo":
        run = steering.propose_undo(user)
        ack(text=f"Dry-run opened for: {run.summary}. Apply it there, or cancel.")
        open_view(dry_run_view(run))
    else:
        hint = did_you_mean(sub, ROUTE_SUBCOMMANDS)
        ack(text=f"I don't know `/mentions route {sub}`. {hint} Try `/mentions help`.")


def _tag(services: Services, *, user: str, words: list[str]) -> str:
    """`/mentions tag @handle +vip -press`: tags on a customer, for rules to use."""
    usage = "Usage: `/mentions tag @handle +tag -tag` (rules can route on customer tags)."
    if not words or not words[0].startswith("@"):
        return usage
    handle, changes = words[0].lstrip("@"), words[1:]
    tags = services.desk.tag_customer(user, network="x", handle=handle, changes=changes)
    shown = ", ".join(sorted(tags)) or "no tags"
    return f"@{handle} now has {shown}."


def _playbooks(services: Services, *, user: str, words: list[str]) -> str:
    """`/mentions playbooks [reload]`: what is loaded; leads reload after editing a file."""
    library = services.directory.library
    if not words:
        ids = sorted({t.id for t in library.templates})
        shown = ", ".join(f"`{i}`" for i in ids[:40]) + (" …" if len(ids) > 40 else "")
        return (
            f"{len(library.templates)} templates ({len(ids)} ids) from `{library.folder}`: "
            f"{shown}\nSaved files are picked up within seconds; `/mentions playbooks reload` "
            "does it now."
        )
    if words[0].lower() != "reload":
        return "Usage: `/mentions playbooks` or `/mentions playbooks reload` (leads)."
    result = services.steering.reload_playbooks(user, library)
    if result.ok:
        return f"✅ Reloaded: {result.templates} templates in use now."
    return playbook_problems_text(result.problems, kept=result.templates)
