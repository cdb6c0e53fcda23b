"""`earshot demo`, later the same day: the bot's clock jumps ahead through business hours, so the
real SLA job reminds an agent and escalates to the leads, a lead asks `/mentions stats today`, and
the daily digest job posts its chart, which is also written to a file the transcript names.

The clock is the bot's own port (``RunningClock``): nothing here sleeps or fakes the jobs. The jobs
run on the scheduler's thread as in production, only sooner (``Runtime.run_now``).
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import RunningClock
from bot.operations.charts import write_private
from bot.sandbox.demo.transcript import Transcript
from bot.sandbox.harness import ROSA, Sandbox

DIGEST_TIME = clock_time(18, 0)
DEMO_CONFIG = f'\n[reports]\ndigest_time = "{DIGEST_TIME:%H:%M}"\n'  # an end-of-day digest
_TOKEN = re.compile(r"<([@!#]?)([^>|]*)(?:\|([^>]*))?>")


def demo_morning(zone: ZoneInfo, *, today: date | None = None) -> datetime:
    """09:00 on the latest weekday up to today, in the brand's zone: the demo runs in business
    hours whatever day it is started on."""
    day = today or datetime.now(zone).date()
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, clock_time(9, 0), zone)


def later(
    say: Transcript, clock: RunningClock, *, zone: ZoneInfo, at: clock_time, why: str
) -> None:
    """Jump the bot's clock to ``at`` today (local) and say so."""
    today = clock.now().astimezone(zone).date()
    moment = clock.jump_to(datetime.combine(today, at, zone)).astimezone(zone)
    say.say("⏩", f"{moment:%H:%M} {_place(zone)} · {why}")


def narrate_alert(sandbox: Sandbox, say: Transcript, message: dict[str, Any]) -> bool:
    """SLA reminders (in a case's thread) and escalations (to the leads), as Slack shows them."""
    text = str(message.get("text", ""))
    channel = "#" + sandbox.slack.channel_name(message["channel"])
    zone = ZoneInfo(sandbox.config.brand.timezone)
    if text.startswith("⏰"):
        say.say("⏰", f"Slack {channel}  in the case's thread: {plain(text[1:], sandbox, zone)}")
    elif text.startswith("🚨") and channel == sandbox.config.leads.channel:
        say.say("🚨", f"Slack {channel}  {plain(text[1:], sandbox, zone)}")
    else:
        return False
    return True


def plain(text: str, sandbox: Sandbox, zone: ZoneInfo) -> str:
    """Slack mrkdwn tokens as a reader sees them: @names, the leads' group, local times."""

    def show(token: re.Match[str]) -> str:
        kind, body, label = token.groups()
        if kind == "@":
            return "@" + sandbox.slack.user_name(body)
        if kind == "#":
            return "#" + (label or body)
        if body.startswith("subteam^"):
            return "@care-leads"
        if body.startswith("date^"):
            moment = datetime.fromtimestamp(int(body.split("^")[1]), UTC).astimezone(zone)
            return f"{moment:%H:%M} {_place(zone)}"
        return label or body

    return _TOKEN.sub(show, text).strip()


def sla_day(sandbox: Sandbox, say: Transcript, clock: RunningClock) -> None:
    """The SLA job through the morning: a reminder to the agent, then a breach to the leads."""
    assert sandbox.runtime is not None
    zone = ZoneInfo(sandbox.config.brand.timezone)
    say.say(
        "──",
        "Later that morning. Every open case has an SLA clock in business hours "
        f"({sandbox.config.brand.business_hours}, {_place(zone)}); high priority: 60 min to "
        "the first response, urgent: 30 min; a reminder at 75 %, then the leads are paged.",
    )
    later(say, clock, zone=zone, at=clock_time(9, 25), why="the SLA job runs (every 20 s)")
    sandbox.runtime.run_now("sla")
    later(say, clock, zone=zone, at=clock_time(9, 47), why="the SLA job runs again")
    sandbox.runtime.run_now("sla")


def stats(sandbox: Sandbox, say: Transcript) -> None:
    assert sandbox.driver is not None
    answer = sandbox.driver.command(user=ROSA, text="stats today").json()
    zone = ZoneInfo(sandbox.config.brand.timezone)
    lines = plain(str(answer.get("text", "")), sandbox, zone).splitlines()
    say.say("💬", "Rosa (a lead) types /mentions stats today and sees (only she sees it):", *lines)


def digest(sandbox: Sandbox, say: Transcript, clock: RunningClock) -> Path:
    """The daily digest at its time: posted to the leads with its chart; the chart is kept."""
    assert sandbox.runtime is not None
    zone = ZoneInfo(sandbox.config.brand.timezone)
    later(say, clock, zone=zone, at=DIGEST_TIME, why="the daily digest is due")
    sandbox.runtime.run_now("digest")
    charts = [f for f in sandbox.slack.files() if str(f["name"]).startswith("earshot-digest-")]
    if not charts:
        raise RuntimeError("the digest job ran but posted no chart; see the log above")
    shared = charts[-1]
    kept = Path(tempfile.gettempdir()) / "earshot-demo" / str(shared["name"])
    content: bytes = shared["content"]
    with write_private(kept) as out:
        out.write(content)
    say.say(
        "📊",
        f"Slack #{sandbox.slack.channel_name(shared['channel'])}  daily digest posted with its "
        f"chart ({len(content) // 1024} KB PNG, files_upload_v2)",
        f"chart written to {kept}",
    )
    return kept


def _place(zone: ZoneInfo) -> str:
    return zone.key.rsplit("/", 1)[-1].replace("_", " ")
