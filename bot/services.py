"""The assembled core, as handed to Slack listeners and jobs. Built only by ``bot.app``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config.settings import Config
from bot.desk.access import Access
from bot.desk.approvals import Approvals
from bot.desk.desk import Desk
from bot.desk.outbox import Outbox
from bot.desk.steering import Steering
from bot.inbound.pipeline import Inbound
from bot.live.directory import Directory
from bot.live.rulebook import RuleBook
from bot.operations.assign import Assigner
from bot.operations.health import Health
from bot.operations.sla_watch import SlaWatch
from bot.operations.stats import Digest, Stats
from bot.slack.board import SlackBoard
from bot.slack.delivery import Deliveries
from bot.sources import Source
from bot.storage.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    config: Config
    clock: Clock
    store: Store
    directory: Directory
    board: SlackBoard
    outbox: Outbox
    desk: Desk
    approvals: Approvals
    inbound: Inbound
    sources: tuple[Source, ...]
    access: Access
    steering: Steering
    rulebook: RuleBook
    sla: SlaWatch
    assigner: Assigner
    health: Health
    stats: Stats
    digest: Digest
    delivery: Deliveries | None = None  # new cards at Slack's pace
