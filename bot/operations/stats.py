"""Numbers care leads run their teams on: `/mentions stats`, the daily digest with its chart, the
App Home figures and `earshot report`. Facts come from the store; response times are counted in
each brand's business hours when its SLAs count them.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config.operations import ReportSettings
from bot.decide import sla
from bot.live.directory import Directory
from bot.operations import reports
from bot.operations.charts import digest_chart
from bot.operations.reports import Fact, Report
from bot.storage.store import Store

log = logging.getLogger(__name__)


class Stats:
    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        clock: Clock,
    ) -> None:
        self._store = store
        self._directory = directory
        self._clock = clock

    @property
    def timezone(self) -> str:
        return self._directory.brand.timezone

    def facts(self, *, since: datetime, until: datetime) -> list[Fact]:
        now = self._clock.now()
        return [self._fact(row, now) for row in self._store.case_rows(since=since, until=until)]

    def _fact(self, row: dict[str, object], now: datetime) -> Fact:
        created = datetime.fromisoformat(str(row["created_at"]))
        responded = _when(row["first_response_at"])
        due = _when(row["first_due_at"])
        brand = str(row["brand"] or self._directory.brand.name)
        seconds = None
        if responded is not None:
            seconds = self._elapsed(brand, created, responded).total_seconds()
        met = sla.met(due, responded) if due is not None else None
        if met is None and due is not None and now > due:
            met = False  # no answer and past the target: missed
        agent = row["first_agent"] or (row["closed_by"] if row["state"] == "resolved" else None)
        return Fact(
            case_id=int(str(row["id"])),
            brand=brand,
            channel=str(row["channel"]),
            network=str(row["network"]),
            created_at=created,
            priority=str(row["priority"]),
            sentiment=str(row["sentiment"]),
            tags=tuple(reports_tags(row["tags"])),
            state=str(row["state"]),
            agent=str(agent) if agent else None,
            first_response_at=responded,
            first_response_seconds=seconds,
            sla_met=met,
            breached=due is not None and (responded or now) > due,
        )

    def _elapsed(self, brand: str, start: datetime, end: datetime) -> timedelta:
        if not self._directory.brand_of(brand).sla.business_hours:
            return end - start
        return self._directory.calendar(brand).between(start, end)

    def report(self, word: str = "today", *, brand: str = "", network: str = "") -> Report:
        """``word``: today, 7d or 30d; ``ValueError`` names a bad one."""
        period = reports.period(word, now=self._clock.now(), timezone=self.timezone)
        facts = self.facts(since=period.since, until=period.until)
        return reports.build_report(
            facts, period=period, timezone=self.timezone, brand=brand, network=network
        )

    def text(self, word: str = "today", *, brand: str = "", network: str = "") -> str:
        report = self.report(word, brand=brand, network=network)
        names = {a.slack_id: a.name for a in self._directory.agents.values()}
        return reports.report_text(report, names=names)


class Uploads(Protocol):
    """Where the digest goes: Slack, through files_upload_v2."""

    def upload(self, channel: str, *, path: Path, text: str, title: str) -> str: ...


class Digest:
    """Once a day, at ``digest_time`` in the first brand's time zone: the figures and a chart in
    the leads' channel. Checked by a frequent job from stored state, so a restart neither skips
    nor repeats a day's digest."""

    def __init__(
        self,
        *,
        stats: Stats,
        store: Store,
        board: Uploads,
        clock: Clock,
        settings: ReportSettings,
        channel: str,
        out_dir: Path,
    ) -> None:
        self._stats = stats
        self._store = store
        self._board = board
        self._clock = clock
        self._settings = settings
        self._channel = settings.channel or channel
        self._out_dir = out_dir

    def due(self) -> bool:
        if not (self._settings.digest_time and self._channel):
            return False
        local = self._clock.now().astimezone(self._stats_zone())
        return f"{local:%H:%M}" >= self._settings.digest_time

    def _stats_zone(self) -> ZoneInfo:
        return ZoneInfo(self._stats.timezone)

    def run(self) -> Path | None:
        """The job: post today's digest if it is time and it was not posted yet."""
        if not self.due():
            return None
        local = self._clock.now().astimezone(self._stats_zone())
        if not self._store.record_once(f"digest:{local:%Y-%m-%d}", now=self._clock.now()):
            return None
        return self.post(day=f"{local:%Y-%m-%d}")

    def post(self, *, day: str) -> Path:
        """Build the report and chart, write the PNG, and post both to the leads."""
        period = self._settings.digest_period
        report = self._stats.report(period)
        path = self._out_dir / f"earshot-digest-{day}.png"
        digest_chart(report, path)
        text = "📊 *Daily digest*\n" + self._stats.text(period)
        self._board.upload(self._channel, path=path, text=text, title=f"Earshot digest {day}")
        log.info("daily digest posted; chart at %s", path)
        return path


def reports_tags(value: object) -> list[str]:
    return list(json.loads(str(value or "[]")))


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None
