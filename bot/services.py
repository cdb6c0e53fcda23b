"""The assembled core, as handed to Slack listeners and jobs. Built only by ``bot.app``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.access import Access
from bot.approvals import Approvals
from bot.assign import Assigner
from bot.clock import Clock
from bot.config import Config
from bot.delivery import Deliveries
from bot.desk import Desk
from bot.directory import Directory
from bot.health import Health
from bot.inbound import Inbound
from bot.outbox import Outbox
from bot.rulebook import RuleBook
from bot.sla_watch import SlaWatch
from bot.slack import SlackBoard
from bot.sources import Source
from bot.stats import Digest, Stats
from bot.steering import Steering
from bot.store import Store


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
