"""Ingestion health: every poll recorded per source and brand, billable X use counted, the leads
told when a source fails, goes silent, loses posts for good, brings a post the database will not
take (quarantined, told once), or the month's budget runs low.

`/mentions status` reads the same records, so what the leads are alerted about is what they see.
A database that cannot be written (a full disk) is said once, in one line naming the file and
the fix, without touching the database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config.operations import HealthSettings, XCosts
from bot.decide.lengths import has_link
from bot.live.directory import Directory
from bot.models import NETWORK_NAMES, Reply
from bot.slack.port import Board, BoardError
from bot.sources import Fetch, Source
from bot.storage.mentions import Quarantined
from bot.storage.operations import SourceHealth
from bot.storage.store import Store

log = logging.getLogger(__name__)
READS, USER_READS, POSTS, LINK_POSTS = "reads", "user_reads", "posts", "posts_with_link"


@dataclass(frozen=True, slots=True)
class Spend:
    brand: str
    reads: int
    user_reads: int
    posts: int
    link_posts: int
    cost: float
    budget: float  # 0 = none set
    network: str = "x"

    @property
    def share(self) -> float | None:
        return self.cost / self.budget if self.budget else None


def month_of(moment: datetime) -> str:
    return f"{moment:%Y-%m}"


class Health:
    def __init__(
        self,
        *,
        store: Store,
        board: Board,
        directory: Directory,
        clock: Clock,
        settings: HealthSettings,
        costs: XCosts,
        leads_channel: str = "",
    ) -> None:
        self._store = store
        self._board = board
        self._directory = directory
        self._clock = clock
        self._settings = settings
        self._costs = costs
        self._channel = leads_channel
        self._storage_problem = ""  # what the database last refused, until a write works again

    # ---- recording ---------------------------------------------------------------------------

    def polled(self, source: Source, fetch: Fetch) -> None:
        """After each poll: its outcome, the reads it cost, and alerts if it went wrong."""
        if fetch.skipped:
            return
        now = self._clock.now()
        key = f"{source.network}:{source.brand}"
        health = self._store.record_poll(
            key,
            brand=source.brand,
            network=source.network,
            now=now,
            error=fetch.error,
            rate_limited_until=fetch.not_before if fetch.error else None,
            lost="; ".join(fetch.lost) or None,
        )
        if source.network == "x":
            self._count(source.brand, READS, len(fetch.mentions))
            self._count(source.brand, USER_READS, len({m.author.id for m in fetch.mentions}))
        else:  # free to read, but the leads still see how much came from where
            self._count(source.brand, f"{source.network}:{READS}", len(fetch.mentions))
        said = fetch.circuit == "opened" or fetch.blocked  # said in its own words below
        if health.failures == self._settings.failure_alert_after and not said:
            self._alert(
                f"fail:{key}",
                f"⚠️ {self._name(health)} has failed {health.failures} "
                f"polls in a row: {health.error}. Mentions wait on the network until "
                "it recovers; nothing stored is lost.",
            )
        for lost in fetch.lost:
            self._alert(f"lost:{key}:{lost}", f"🕳 {self._name(health)}: {lost}.", once=True)
        self._circuit(health, fetch)
        self.check_budget(source.brand)

    def _circuit(self, health: SourceHealth, fetch: Fetch) -> None:
        """Tell the leads once when a source's breaker opens or closes, and once per outage
        when the network refuses in a way only a person can fix (credits, access)."""
        name, key, now = self._name(health), health.source, self._clock.now()
        if fetch.circuit == "opened":
            text = (
                f"🔌 {name} keeps failing ({health.error}). Earshot has stopped calling it and "
                "will try again with growing pauses; nothing stored is lost."
            )
            self._alert(f"circuit:{key}:opened:{now.isoformat()}", text, once=True)
        elif fetch.circuit == "closed":
            text = f"✅ {name} answers again; polling has resumed."
            self._alert(f"circuit:{key}:closed:{now.isoformat()}", text, once=True)
        if fetch.blocked:
            since = health.last_ok_at.isoformat() if health.last_ok_at else "never"
            self._alert(f"blocked:{key}:{since}", f"⛔ {name}: {fetch.blocked}.", once=True)

    # ---- the database itself -----------------------------------------------------------------

    def storage_failed(self, error: Exception) -> None:
        """The database refused a write (disk full, I/O error): one clear line and one note to
        the leads per episode; the database is not touched (it cannot take the alert)."""
        if self._storage_problem:
            return
        problem = self._storage_problem = str(error)
        text = (
            f"💾 Earshot cannot write to its database {self._store.path} ({problem}). Free disk "
            "space on that volume (or move earshot.database to a larger disk). Nothing is lost: "
            "mentions wait on the networks and Earshot retries on every poll."
        )
        log.error("%s", text)
        self._announce(text)

    def storage_ok(self) -> None:
        """A write worked again after a storage failure."""
        if not self._storage_problem:
            return
        self._storage_problem = ""
        text = f"✅ Earshot can write to its database {self._store.path} again; polling resumed."
        log.warning("%s", text)
        self._announce(text)

    def quarantined(self, source: Source, held: Sequence[Quarantined]) -> None:
        """Mentions the database would not take, set apart (``quarantine`` table) while the rest
        of their page was stored: each is told to the leads once, ever, however often it comes
        again."""
        now = self._clock.now()
        fresh = [q for q in held if self._store.record_once(f"quarantine:{q.mention_id}", now=now)]
        if not fresh:
            return
        name = f"{NETWORK_NAMES.get(source.network, source.network)} for {source.brand}"
        ids = ", ".join(q.mention_id[:80] for q in fresh[:5]) + (" …" if len(fresh) > 5 else "")
        text = (
            f"🧪 {name}: {len(fresh)} mention(s) could not be stored and were set apart "
            f"({ids}; {fresh[0].error[:200]}). The rest were stored and polling goes on; "
            "the posts are kept in the database's quarantine table for a developer."
        )
        log.warning("%s", text)
        self._announce(text)

    def posted(self, reply: Reply) -> None:
        """A public reply went out: count its cost (a post with a link costs more on X)."""
        network = reply.mention_id.split(":", 1)[0]
        brand = self._store.mention(reply.mention_id).brand or self._directory.brand.name
        if network != "x":
            self._count(brand, f"{network}:{POSTS}", 1)
            return
        self._count(brand, LINK_POSTS if has_link(reply.text) else POSTS, 1)
        self.check_budget(brand)

    def _count(self, brand: str, kind: str, count: int) -> None:
        month = month_of(self._clock.now())
        self._store.add_usage(month=month, brand=brand, kind=kind, count=count)

    # ---- reading -----------------------------------------------------------------------------

    def spend(self, brand: str, network: str = "x") -> Spend:
        """This month's use of one brand's account on one network, and its cost (the open
        networks charge nothing)."""
        used = self._store.usage(month_of(self._clock.now()))
        if network != "x":
            reads, posts = (used.get((brand, f"{network}:{k}"), 0) for k in (READS, POSTS))
            return Spend(brand, reads, 0, posts, 0, 0.0, 0.0, network=network)
        n = {kind: used.get((brand, kind), 0) for kind in (READS, USER_READS, POSTS, LINK_POSTS)}
        c = self._costs
        cost = (
            n[READS] * c.per_read
            + n[USER_READS] * c.per_user_read
            + n[POSTS] * c.per_post
            + n[LINK_POSTS] * c.per_post_with_link
        )
        budget = self._directory.brand_of(brand).x.monthly_budget
        return Spend(brand, n[READS], n[USER_READS], n[POSTS], n[LINK_POSTS], cost, budget)

    def sources(self) -> list[SourceHealth]:
        return self._store.sources_health()

    def mentions_today(self, brand: str, network: str) -> int:
        zone = ZoneInfo(self._directory.brand_of(brand).timezone)
        local = self._clock.now().astimezone(zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return self._store.mentions_since(brand=brand, network=network, since=midnight)

    # ---- alerts ------------------------------------------------------------------------------

    def check_budget(self, brand: str) -> None:
        spend = self.spend(brand)
        if spend.share is None or spend.share < self._costs.budget_alert_at:
            return
        level = "used up" if spend.share >= 1 else f"at {spend.share:.0%}"
        text = (
            f"💸 {brand}'s X budget is {level}: about ${spend.cost:,.2f} of "
            f"${spend.budget:,.2f} this month ({spend.reads} posts read, "
            f"{spend.posts + spend.link_posts} replies). Raise x.monthly_budget or slow "
            "polling (x.poll_interval_seconds)."
        )
        tier = "100" if spend.share >= 1 else "warn"
        self._alert(f"budget:{brand}:{month_of(self._clock.now())}:{tier}", text, once=True)

    def check_silence(self) -> list[str]:
        """Sources that brought nothing for longer than configured, in business hours (a
        quiet night is not an outage). A job runs this."""
        minutes = self._settings.silence_minutes
        if not minutes:
            return []
        now, quiet = self._clock.now(), []
        for health in self._store.sources_health():
            since = self._store.last_mention_at(brand=health.brand, network=health.network)
            calendar = self._directory.calendar(health.brand)
            if since is None or not calendar.is_open(now):
                continue
            if calendar.between(since, now) >= timedelta(minutes=minutes):
                quiet.append(health.source)
                hours = minutes / 60
                self._alert(
                    f"silent:{health.source}",
                    f"🔕 {self._name(health)} has brought no mentions for over {hours:g} business "
                    f"hours (last poll {'OK' if not health.failures else 'failed'}). Check the "
                    "account and `/mentions status`.",
                )
        return quiet

    def _alert(self, key: str, text: str, *, once: bool = False) -> None:
        """Post to the leads' channel, at most once an hour per key (``once``: ever)."""
        now = self._clock.now()
        fresh = (
            self._store.record_once(key, now=now)
            if once
            else self._store.record_alert(key, now=now)
        )
        if not fresh:
            return
        log.warning("%s", text)
        self._announce(text)

    def _announce(self, text: str) -> None:
        if not self._channel:
            return
        try:
            self._board.announce(self._channel, text)
        except BoardError as exc:
            log.warning("health alert not posted: %s", exc)

    def _name(self, health: SourceHealth) -> str:
        return f"{NETWORK_NAMES.get(health.network, health.network)} for {health.brand}"
