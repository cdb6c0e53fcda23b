"""Background jobs on one APScheduler 3 ``BackgroundScheduler``.

Jobs coalesce (a backlog of missed runs becomes one), never overlap (``max_instances=1``) and keep a
generous misfire grace, so a busy or suspended process catches up once instead of stampeding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.desk.outbox import Outbox
from bot.inbound.pipeline import Inbound
from bot.sources import Source

CARD_SWEEP_SECONDS = 10  # cards Slack did not take (5xx, 429 after retries, a restart)
OUTBOX_SWEEP_SECONDS = 2  # paced storm replies go out on time; stragglers after 30 s
PLAYBOOK_SECONDS = 5  # how often playbook files are checked for changes
RECONCILE_SECONDS = 10  # replies whose fate is unknown are checked this often (X: once settled)
SLA_SECONDS = 20  # SLA reminders and escalations, snoozes ending, round-robin assignment
SILENCE_SECONDS = 300  # sources that went quiet
DIGEST_SECONDS = 60  # whether the daily digest is due
PARKED_SECONDS = 60  # cards parked in the fallback channel look for their own channel again


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job driven from stored state (safe to run late, twice, or after a restart)."""

    id: str
    run: Callable[[], object]
    seconds: float


def build_scheduler(
    *,
    inbound: Inbound,
    outbox: Outbox,
    sources: tuple[Source, ...],
    poll_seconds: float,
    playbooks: Callable[[], object] | None = None,
    jobs: Sequence[Job] = (),
) -> BackgroundScheduler:
    """Each source is polled at its own pace; ``poll_seconds`` (X's) sets the misfire grace."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": max(30, int(poll_seconds * 2)),
        },
    )
    start = datetime.now(UTC)
    for source in sources:
        scheduler.add_job(
            inbound.poll,
            "interval",
            seconds=source.poll_seconds,
            args=[source],
            id=f"poll:{source.network}:{source.brand}",
            next_run_time=start,
        )
    scheduler.add_job(
        inbound.post_missing_cards, "interval", seconds=CARD_SWEEP_SECONDS, id="cards"
    )
    scheduler.add_job(outbox.sweep, "interval", seconds=OUTBOX_SWEEP_SECONDS, id="outbox")
    scheduler.add_job(outbox.reconcile, "interval", seconds=RECONCILE_SECONDS, id="reconcile")
    if playbooks is not None:  # a saved playbook file is live within seconds, no restart
        scheduler.add_job(playbooks, "interval", seconds=PLAYBOOK_SECONDS, id="playbooks")
    for job in jobs:
        scheduler.add_job(job.run, "interval", seconds=job.seconds, id=job.id)
    return scheduler
