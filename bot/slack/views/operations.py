"""Pure renderers for care operations: `/mentions mine`, `/mentions status`, `/mentions search`,
the App Home tab."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.models import NETWORK_NAMES, Case, Mention
from bot.operations.health import Spend
from bot.slack.views.kit import Block, context, escape, section
from bot.storage.mentions import Found
from bot.storage.operations import SourceHealth


@dataclass(frozen=True, slots=True)
class MineItem:
    case: Case
    mention: Mention
    left: str  # SLA time left, "" without a clock


def _mine_line(item: MineItem) -> str:
    case, m = item.case, item.mention
    label = f"<{case.permalink}|#{case.id}>" if case.permalink else f"#{case.id}"
    snippet = escape(m.text[:70] + ("…" if len(m.text) > 70 else "")).replace("\n", " ")
    left = f" · ⏱ {item.left}" if item.left else ""
    asleep = " · 💤 snoozed" if case.snoozed_until else ""
    return f"• {label} {escape(case.channel)} · @{escape(m.author.handle)}: {snippet}{left}{asleep}"


def mine_text(items: list[MineItem]) -> str:
    if not items:
        return "You hold no open cases. `/mentions queue` shows what is waiting."
    lines = [_mine_line(item) for item in items[:30]]
    more = f"\n…and {len(items) - 30} more" if len(items) > 30 else ""
    return f"*Your {len(items)} open case(s)*, most urgent SLA first\n" + "\n".join(lines) + more


def _found_line(found: Found, now: datetime) -> str:
    m, case = found.mention, found.case
    snippet = escape(m.text[:100] + ("…" if len(m.text) > 100 else "")).replace("\n", " ")
    when = _ago(m.created_at, now)
    who = f"@{escape(m.author.handle or 'someone')}"
    if case is None:
        return f"• not a case · {who} · {when}: {snippet}"
    label = f"<{case.permalink}|#{case.id}>" if case.permalink else f"#{case.id}"
    state = case.state.value
    return f"• {label} {escape(case.channel)} · {state} · {who} · {when}: {snippet}"


def search_text(query: str, found: list[Found], *, now: datetime, shown: int = 10) -> str:
    """Up to ``shown`` matches, newest first; says when there are more."""
    asked = escape(query.strip()[:80])
    if not found:
        return f"No mention matches “{asked}”. Try fewer or shorter words."
    lines = [_found_line(item, now) for item in found[:shown]]
    more = "\nMore match: add a word to narrow it down." if len(found) > shown else ""
    head = f"*{min(len(found), shown)} mention(s) matching “{asked}”*, newest first"
    return head + "\n" + "\n".join(lines) + more


@dataclass(frozen=True, slots=True)
class SourceLine:
    health: SourceHealth
    today: int
    spend: Spend | None


def _ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes}m ago"
    return f"{minutes // 60}h ago" if minutes < 48 * 60 else f"{minutes // 1440}d ago"


def _spend_text(spend: Spend) -> str:
    if spend.network != "x":
        name = NETWORK_NAMES.get(spend.network, spend.network)
        used = f"{spend.reads} posts read, {spend.posts} posted"
        return f"this month: {used} · free (reading and replying cost nothing on {name})"
    posts = spend.posts + spend.link_posts
    used = f"{spend.reads} posts and {spend.user_reads} users read, {posts} posted"
    cost = f"≈ ${spend.cost:,.2f}"
    if spend.budget:
        share = spend.share or 0.0
        flag = " ⚠️" if share >= 0.8 else ""
        cost += f" of ${spend.budget:,.2f} budget ({share:.0%}){flag}"
    return f"this month: {used} · {cost}"


def _source_text(line: SourceLine, now: datetime) -> str:
    h = line.health
    ok = "🔴" if h.failures else "🟢"
    head = f"{ok} *{NETWORK_NAMES.get(h.network, h.network)} · {escape(h.brand)}*"
    parts = [
        f"last good poll {_ago(h.last_ok_at, now)}",
        f"{line.today} mention(s) today",
    ]
    if h.failures:
        parts.append(f"{h.failures} failed poll(s) in a row: {escape(h.error)}")
    elif h.error:
        parts.append(f"last error {_ago(h.error_at, now)}: {escape(h.error[:120])}")
    if h.rate_limited_until and h.rate_limited_until > now:
        why = "paused (circuit open)" if "circuit open" in h.error else "rate-limited"
        parts.append(f"{why} until {h.rate_limited_until:%H:%M} UTC")
    else:
        parts.append("not rate-limited")
    text = head + "\n" + " · ".join(parts)
    if line.spend is not None:
        text += "\n" + _spend_text(line.spend)
    if h.lost:
        text += f"\n🕳 Gap that could not be filled ({_ago(h.lost_at, now)}): {escape(h.lost)}"
    return text


def status_text(lines: list[SourceLine], *, now: datetime) -> str:
    if not lines:
        return (
            "No source has been polled yet. Earshot polls each brand's mentions on start: on "
            "X, and on Bluesky and Mastodon where the config connects them."
        )
    return "*Ingestion health*\n" + "\n\n".join(_source_text(line, now) for line in lines)


@dataclass(frozen=True, slots=True)
class HomeView:
    name: str
    is_agent: bool
    mine: tuple[MineItem, ...]
    on_duty: bool
    team: str  # today's figures, mrkdwn
    week: str
    backlog: int


def home(view: HomeView) -> dict[str, Any]:
    """The App Home tab: your own queue first, then the team's numbers."""
    duty = "🟢 on duty" if view.on_duty else "⚪ off duty"
    blocks: list[Block] = [
        section(f"*Hi {escape(view.name)}* · {duty} · {view.backlog} open case(s) in the queue"),
        context("`/mentions duty on|off` · `/mentions mine` · `/mentions stats 7d`"),
        {"type": "divider"},
        section(mine_text(list(view.mine))[:2900]),
        {"type": "divider"},
        section(view.team[:2900]),
        section(view.week[:2900]),
    ]
    if not view.is_agent:
        blocks.insert(1, context("You are not an agent here, so nothing is assigned to you."))
    return {"type": "home", "blocks": blocks}
