"""`/mentions` for care operations (mine, claim, take, release, snooze, resolve, duty, status,
stats, search), the Take over button, and the App Home tab."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.desk.access import Refused
from bot.desk.desk import Desk, parse_duration
from bot.live.directory import Directory
from bot.models import NETWORK_NAMES
from bot.operations.sla_watch import SlaWatch
from bot.operations.stats import Stats
from bot.services import Services
from bot.slack.board import SlackBoard
from bot.slack.views import ids, kit
from bot.slack.views import operations as ops_blocks
from bot.storage.mentions import SearchQueryError
from handlers import payload
from handlers.errors import refusals_told
from handlers.wiring import named

USAGE = {
    "claim": "`/mentions claim <case id>`",
    "take": "`/mentions take <case id>` (leads)",
    "release": "`/mentions release <case id>`",
    "resolve": "`/mentions resolve <case id>`",
    "snooze": "`/mentions snooze <case id> <duration>`, e.g. `/mentions snooze 42 2h`",
    "duty": "`/mentions duty on` or `/mentions duty off`",
    "stats": "`/mentions stats [today|7d|30d] [x|bluesky|mastodon] [brand]`",
    "search": "`/mentions search <words>`, e.g. `/mentions search refund delayed`",
}
SEARCH_SHOWN = 10


def register(app: App, services: Services) -> None:
    desk, told = services.desk, refusals_told(services.board)
    app.action(ids.TAKE_OVER_ACTION)(told(partial(take_over_clicked, desk=desk)))
    home = partial(
        home_opened,
        board=services.board,
        desk=desk,
        directory=services.directory,
        sla=services.sla,
        stats=services.stats,
    )
    app.event("app_home_opened")(named(home))


def take_over_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], *, desk: Desk
) -> None:
    ack()
    desk.take_over(payload.number(payload.action_value(action)), payload.user(body))


def home_opened(
    event: dict[str, Any],
    *,
    board: SlackBoard,
    desk: Desk,
    directory: Directory,
    sla: SlaWatch,
    stats: Stats,
) -> None:
    if event.get("tab", "home") != "home":
        return
    user = str(event["user"])
    board.publish_home(user, home_view(user, desk=desk, directory=directory, sla=sla, stats=stats))


def home_view(
    user: str, *, desk: Desk, directory: Directory, sla: SlaWatch, stats: Stats
) -> dict[str, Any]:
    view = ops_blocks.HomeView(
        name=directory.name(user),
        is_agent=user in directory.agents,
        mine=tuple(
            ops_blocks.MineItem(case, mention, sla.left(case)) for case, mention in desk.mine(user)
        ),
        on_duty=desk.on_duty(user),
        team=stats.text("today"),
        week=stats.text("7d"),
        backlog=len(desk.queue()),
    )
    return ops_blocks.home(view)


def dispatch(services: Services, *, sub: str, user: str, words: list[str]) -> str | None:
    """The answer to an operations subcommand, or None when ``sub`` is not one of them."""
    handler = _HANDLERS.get(sub)
    return None if handler is None else handler(services, user, words)


def _case_id(sub: str, words: list[str]) -> int:
    if not words or not re.fullmatch(r"#?\d+", words[0]):
        got = f" (got “{words[0]}”)" if words else ""
        raise Refused(f"Which case?{got} Usage: {USAGE[sub]}.")
    return int(words[0].lstrip("#"))


def _mine(services: Services, user: str, words: list[str]) -> str:
    items = [
        ops_blocks.MineItem(case, mention, services.sla.left(case))
        for case, mention in services.desk.mine(user)
    ]
    return ops_blocks.mine_text(items)


def _claim(services: Services, user: str, words: list[str]) -> str:
    case = services.desk.claim(_case_id("claim", words), user)
    return f"🙋 Case #{case.id} is yours: the card shows you are replying."


def _take(services: Services, user: str, words: list[str]) -> str:
    case = services.desk.take_over(_case_id("take", words), user)
    return f"🔁 You took case #{case.id} over."


def _release(services: Services, user: str, words: list[str]) -> str:
    case = services.desk.release(_case_id("release", words), user)
    return f"Case #{case.id} is free for anyone to pick up."


def _resolve(services: Services, user: str, words: list[str]) -> str:
    case = services.desk.resolve(_case_id("resolve", words), user)
    return f"☑️ Case #{case.id} is resolved without a public reply; its SLA clock stopped."


def _snooze(services: Services, user: str, words: list[str]) -> str:
    case_id = _case_id("snooze", words)
    if len(words) < 2:
        raise Refused(f"For how long? Usage: {USAGE['snooze']}.")
    until = services.clock.now() + parse_duration("".join(words[1:]))
    case = services.desk.snooze(case_id, user, until=until)
    return (
        f"💤 Case #{case.id} is snoozed until {kit.slack_time(until)}: out of the queue "
        "and without reminders until then. Its SLA target does not move."
    )


def _duty(services: Services, user: str, words: list[str]) -> str:
    choice = words[0].lower() if words else ""
    if choice not in ("on", "off"):
        raise Refused(f"Usage: {USAGE['duty']}.")
    text = services.desk.duty(user, on=choice == "on")
    if choice == "on":
        text += (
            " Waiting cases come to you within seconds."
            if services.assigner.enabled
            else " (Automatic assignment is off here: claim cases from the cards.)"
        )
    return text


def _status(services: Services, user: str, words: list[str]) -> str:
    health = services.health
    rows = [
        ops_blocks.SourceLine(
            health=h,
            today=health.mentions_today(h.brand, h.network),
            spend=health.spend(h.brand, h.network),
        )
        for h in health.sources()
    ]
    return ops_blocks.status_text(rows, now=services.clock.now())


def _stats(services: Services, user: str, words: list[str]) -> str:
    word = words[0] if words else "today"
    rest = words[1:]
    network = rest.pop(0).lower() if rest and rest[0].lower() in NETWORK_NAMES else ""
    try:
        return services.stats.text(word, brand=" ".join(rest), network=network)
    except ValueError as exc:
        raise Refused(f"{exc}. Usage: {USAGE['stats']}.") from None


def _search(services: Services, user: str, words: list[str]) -> str:
    query = " ".join(words)
    try:
        found = services.desk.search(query, limit=SEARCH_SHOWN + 1)
    except SearchQueryError as exc:
        raise Refused(str(exc)) from None
    return ops_blocks.search_text(query, found, now=services.clock.now(), shown=SEARCH_SHOWN)


_HANDLERS: dict[str, Callable[[Services, str, list[str]], str]] = {
    "mine": _mine,
    "claim": _claim,
    "take": _take,
    "release": _release,
    "resolve": _resolve,
    "snooze": _snooze,
    "duty": _duty,
    "status": _status,
    "stats": _stats,
    "search": _search,
}
SUBCOMMANDS = tuple(_HANDLERS)
