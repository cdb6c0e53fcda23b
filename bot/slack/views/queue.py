"""`/mentions`: the help text and the queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.models import (
    Case,
    Mention,
)
from bot.slack.views.kit import Block, escape, section

HELP = (
    "*Earshot* — public mentions of the brand, triaged and routed into team channels.\n"
    "• `/mentions queue` — open cases per channel, oldest first, with links to their cards\n"
    "• `/mentions route` — the routing rules in order; leads add, edit, move, switch off and "
    "remove them (each change shows a dry-run first)\n"
    "• `/mentions route test <text>` — which rule a post like this would hit, and why\n"
    "• `/mentions route history` — every change: who, when, what\n"
    "• `/mentions route undo` — put the rules back as before the last change (leads)\n"
    "• `/mentions tag @handle +vip -press` — tag a customer (rules can route on tags)\n"
    "• `/mentions playbooks` — the reply templates in use; `/mentions playbooks reload` "
    "picks up edited playbook files now (leads; saved files are also picked up by themselves)\n"
    "• `/mentions mine` — your open cases, most urgent SLA first\n"
    "• `/mentions claim <id>` — take a case (the card shows you are replying); "
    "`/mentions release <id>` lets it go; `/mentions take <id>` — a lead takes it over\n"
    "• `/mentions snooze <id> 2h` — out of the queue and without reminders until then "
    "(30m, 2h, 1d…; the SLA target does not move)\n"
    "• `/mentions resolve <id>` — handled without a public reply (DM, phone…)\n"
    "• `/mentions duty on|off` — whether round-robin assignment gives you cases\n"
    "• `/mentions status` — each source's last poll, mentions today, errors, rate limits, "
    "X reads and posts this month against the budget\n"
    "• `/mentions stats [today|7d|30d]` — volume, first-response median and p90, SLA met, "
    "per team and agent, sentiment, top tags\n"
    "• `/mentions search <words>` — mentions holding those words, newest first, with their cases\n"
    "• `/mentions help` — this help\n"
    "On a card: pick a suggested reply or *Write reply*, check the preview (your signature is "
    "added), then *Post publicly*. Long replies go out as a numbered thread. Replies of "
    "trainees, and on cases a rule protects, wait for a lead's approval. Messages in a card's "
    "thread are internal notes: they never go public. *Move to…* re-routes a case and teaches "
    "routing. Only configured agents can post."
)


@dataclass(frozen=True, slots=True)
class QueueItem:
    case: Case
    mention: Mention
    claimed_by: str | None  # display name


def queue_blocks(
    items: Sequence[QueueItem], *, now: datetime, per_channel: int = 15
) -> list[Block]:
    """Open cases grouped by channel, oldest first."""
    if not items:
        return [section("🎉 No open cases. The queue is empty.")]
    channels: dict[str, list[QueueItem]] = {}
    for item in items:
        channels.setdefault(item.case.channel, []).append(item)
    blocks: list[Block] = [section(f"*{len(items)} open case(s)*, oldest first")]
    for channel, group in sorted(channels.items()):
        lines = [_queue_line(item, now) for item in group[:per_channel]]
        if len(group) > per_channel:
            lines.append(f"…and {len(group) - per_channel} more")
        blocks.append(section(f"*{escape(channel)}* ({len(group)})\n" + "\n".join(lines)))
    return blocks[:50]


def _queue_line(item: QueueItem, now: datetime) -> str:
    case, m = item.case, item.mention
    label = f"<{case.permalink}|#{case.id}>" if case.permalink else f"#{case.id}"
    snippet = escape(m.text[:80] + ("…" if len(m.text) > 80 else "")).replace("\n", " ")
    claimed = f" · 🔒 {escape(item.claimed_by)}" if item.claimed_by else ""
    return (
        f"• {label} {_age(case.created_at, now)} · @{escape(m.author.handle)}: {snippet}{claimed}"
    )


def _age(then: datetime, now: datetime) -> str:
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h {minutes % 60}m"
    return f"{minutes // 1440}d"
