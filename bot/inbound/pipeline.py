"""The inbound path, one straight line: poll -> store -> triage -> route -> suggest -> card.

A mention is stored (with its source cursor, in one transaction) before anything else happens to
it. Work then proceeds from what is stored, so a crash at any step resumes from the database. A
customer's follow-up in the same conversation joins their case instead of opening a new one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.decide.assess import Assessment, TriageFn, assess, skip_reason
from bot.decide.noise import noise_reason
from bot.live.library import Library
from bot.live.rulebook import RuleBook
from bot.models import Case, Mention
from bot.slack.port import Board, BoardError
from bot.sources import Fetch, Source
from bot.storage.mentions import Quarantined
from bot.storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollReport:
    fetch: Fetch
    new_mentions: tuple[str, ...]
    cases: tuple[Case, ...]


@dataclass(frozen=True, slots=True)
class Brand:
    handle: str
    user_id: str | None
    quotes: str = "case"  # "case" | "skip"
    name: str = ""
    network: str = "x"  # the account is the brand's on this network only


class Grouping(Protocol):
    """Storm grouping: the storm a new case belongs to, if any."""

    def place(self, case: Case) -> int | None: ...


class Watch(Protocol):
    """Volume alerts for leads, checked after each new case."""

    def check(self, case: Case) -> object: ...


class Clocks(Protocol):
    """SLA clocks: started when a case opens, restarted when the customer writes again."""

    def opened(self, case: Case) -> None: ...

    def wrote_again(self, before: Case, *, at: datetime) -> None: ...


class Assigning(Protocol):
    """Automatic assignment: who a new case goes to, if anyone."""

    def offer(self, case: Case) -> str | None: ...


class PollWatch(Protocol):
    """Ingestion health: every poll's outcome."""

    def polled(self, source: Source, fetch: Fetch) -> None: ...

    def storage_failed(self, error: Exception) -> None: ...

    def storage_ok(self) -> None: ...

    def quarantined(self, source: Source, held: Sequence[Quarantined]) -> None: ...


# What SQLite says when the disk (or the file-size limit) is full, or the file cannot be written.
STORAGE_ERRORS = ("database or disk is full", "disk i/o error")


def storage_error(exc: sqlite3.OperationalError) -> bool:
    return any(words in str(exc).lower() for words in STORAGE_ERRORS)


class Delivering(Protocol):
    """Where cards go: ``bot.slack.delivery.Deliveries`` (queued at Slack's pace, never waited for
    here), or ``Immediate`` (posted at once, for tools without the bot's worker threads)."""

    def submit(self, case_id: int, channel: str) -> None: ...

    def storm(self, storm_id: int, channel: str, *, new: bool = False) -> None: ...


class Immediate:
    """Cards posted at once, on the caller's thread; what Slack refuses the card sweep retries."""

    def __init__(self, board: Board) -> None:
        self._board = board

    def submit(self, case_id: int, channel: str) -> None:
        try:
            self._board.post_card(case_id)
            self._board.notify(case_id)
        except BoardError as exc:
            log.warning("%s; it will be posted by the next card sweep", exc)

    def storm(self, storm_id: int, channel: str, *, new: bool = False) -> None:
        try:
            self._board.refresh_storm(storm_id)
        except BoardError as exc:
            log.warning("%s; it is updated with its next member", exc)


class Inbound:
    def __init__(
        self,
        *,
        store: Store,
        rulebook: RuleBook,
        library: Library,
        board: Board,
        clock: Clock,
        brands: Sequence[Brand],
        triage: TriageFn,
        storms: Grouping | None = None,
        alerts: Watch | None = None,
        clocks: Clocks | None = None,
        assigner: Assigning | None = None,
        health: PollWatch | None = None,
        fallbacks: Mapping[str, str] | None = None,
        delivery: Delivering | None = None,
    ) -> None:
        self._delivery = delivery or Immediate(board)
        self._fallbacks = dict(fallbacks or {})  # brand -> its own fallback channel
        self._clocks = clocks
        self._assigner = assigner
        self._health = health
        self._store = store
        self._rulebook = rulebook
        self._library = library
        self._board = board
        self._clock = clock
        self._brands = tuple(brands)
        self._triage = triage
        self._storms = storms
        self._alerts = alerts
        self._lock = threading.Lock()  # one inbound step at a time: never two cards for a case

    def poll(self, source: Source) -> PollReport:
        """Fetch from one source, store what came, then make cases of everything stored and new.

        A database that cannot be written (disk full) is reported once, not as a traceback per
        poll: the cursor did not move, so the next poll fetches the same mentions again."""
        with self._lock:
            fetch = source.fetch(self._store.cursors(f"{source.network}:"))
            try:
                report = self._store_and_process(source, fetch)
            except sqlite3.OperationalError as exc:
                if self._health is None or not storage_error(exc):
                    raise
                self._health.storage_failed(exc)
                return PollReport(fetch, (), ())
            if self._health is not None:
                self._health.storage_ok()
            return report

    def _store_and_process(self, source: Source, fetch: Fetch) -> PollReport:
        """A mention the database will not take is quarantined, not a reason to fail the page:
        the others are stored, the cursor advances, and the leads are told once."""
        saved = self._store.save_page(
            fetch.mentions, received_at=self._clock.now(), cursors=fetch.cursors
        )
        new = saved.new
        if new:
            log.info("%s: %d new mention(s)", source.network, len(new))
        for held in saved.quarantined:
            log.error(
                "%s: mention %s quarantined (%s)", source.network, held.mention_id, held.error
            )
        if self._health is not None:
            self._health.polled(source, fetch)
            if saved.quarantined:
                self._health.quarantined(source, saved.quarantined)
        return PollReport(fetch, tuple(new), tuple(self._process_pending()))

    def process_pending(self) -> list[Case]:
        """Cases (and cards) for every stored mention not yet handled, oldest first."""
        with self._lock:
            return self._process_pending()

    def _process_pending(self) -> list[Case]:
        cases: list[Case] = []
        for mention in self._store.pending_mentions():
            reason = self._skip_reason(mention)
            if reason:
                self._store.skip_mention(mention.id, reason)
                continue
            thread = self._store.case_in_conversation(mention)
            if thread is not None and self._same_customer(thread.case, mention):
                self._follow_up(thread.case, mention)
                continue
            joined = thread.case if thread is not None and thread.direct else None
            case = self._open_or_quarantine(mention, joined=joined)
            if case is not None:
                self._start(case)
                self._place(case)
                cases.append(self._store.case(case.id))
        return cases

    def _skip_reason(self, mention: Mention) -> str | None:
        """Retweets, and posts by any of our brands (brands never answer themselves or each
        other), are stored but never become cases."""
        reasons = (
            skip_reason(mention, brand_handle=b.handle, brand_user_id=b.user_id, quotes=b.quotes)
            for b in self._brands
            if b.network == mention.network
        )
        return next((r for r in reasons if r), None)

    def _start(self, case: Case) -> None:
        """The SLA clock starts; automatic assignment (if on) picks an agent before the card."""
        if self._clocks is not None:
            self._clocks.opened(case)
        if self._assigner is not None:
            self._assigner.offer(case)

    def _same_customer(self, case: Case, mention: Mention) -> bool:
        opener = self._store.mention(case.mention_id).author
        if opener.id and opener.id == mention.author.id:
            return True
        return bool(opener.handle) and opener.handle.lower() == mention.author.handle.lower()

    def _assess(self, mention: Mention) -> Assessment:
        tags = self._store.customer_tags(mention.network, mention.author.handle)
        return assess(
            mention,
            router=self._rulebook.router(),
            suggester=self._library.suggester,
            triage=self._triage,
            customer_tags=tags,
            now=self._clock.now(),
        )

    def _follow_up(self, case: Case, mention: Mention) -> None:
        """The same customer wrote again in the conversation: it joins their case. It is
        triaged and routed too, so a follow-up that turns urgent (or legal) raises the case."""
        try:
            result: Assessment | None = self._assess(mention)
        except Exception:  # a bug in the pure core: the follow-up still joins, as it is
            log.exception("follow-up %s could not be triaged", mention.id)
            result = None
        raised = self._store.add_follow_up(
            case.id,
            mention.id,
            now=self._clock.now(),
            decision=result.decision if result else None,
            triage=result.triage if result else None,
        )
        log.info("mention %s joins case %s as a follow-up", mention.id, case.id)
        if self._clocks is not None:
            self._clocks.wrote_again(case, at=mention.created_at or self._clock.now())
        try:
            self._board.follow_up(case.id, mention, raised=raised)
        except BoardError as exc:
            log.warning("%s; the card sweep will bring the card up to date", exc)

    def _open_or_quarantine(self, mention: Mention, *, joined: Case | None) -> Case | None:
        """One post that breaks triage must not stall the inbox: set it aside, loudly, and say
        so in the fallback channel. (Storage errors are not caught: the next poll retries.)"""
        try:
            result = self._assess(mention)
        except Exception as exc:  # a bug in the pure core, met by one odd post
            log.exception("mention %s could not be triaged; set aside", mention.id)
            reason = f"quarantined: {type(exc).__name__}: {exc}"
            self._store.skip_mention(mention.id, reason)
            self._announce_quarantine(mention, reason)
            return None
        decision = result.decision
        own = self._fallbacks.get(mention.brand or "")
        if decision.via == "fallback" and own:
            why = (
                f"{decision.why} ({mention.brand}'s own)"  # keeps what routing said, its guess too
            )
            decision = replace(decision, channel=own, why=why)
        suggestions = [
            {"template": s.template.id, "score": round(s.score, 1), "why": s.why, "via": s.via}
            for s in result.suggestions
        ]
        return self._store.open_case(
            mention,
            triage=result.triage,
            decision=decision,
            suggestions=suggestions,
            now=self._clock.now(),
            joined_case=joined.id if joined else None,
            noise=noise_reason(mention),
        )

    def _announce_quarantine(self, mention: Mention, reason: str) -> None:
        link = f" <{mention.url}|Open it on X>." if mention.url else ""
        text = (
            f"⚠️ A post by @{mention.author.handle or 'someone'} could not be triaged and was "
            f"set aside ({reason[:200]}). It is stored as {mention.id}.{link}"
        )
        try:
            self._board.announce(self._rulebook.fallback, text)
        except BoardError as exc:
            log.warning("quarantine note not posted: %s", exc)

    def _place(self, case: Case) -> None:
        """Into a storm (its card goes in the storm's thread) or onto the channel; then alerts."""
        storm = self._storms.place(case) if self._storms else None
        if storm is not None:  # a new storm's card goes first: its members' go in its thread
            self._delivery.storm(storm, case.channel, new=not self._store.storm(storm).card_ts)
        self._delivery.submit(case.id, case.channel)
        if self._alerts is not None:
            self._alerts.check(case)

    def post_missing_cards(self) -> Sequence[int]:
        """Hand on again the cards Slack did not take earlier (outage, rate limit, a restart);
        their case ids."""
        missing = self._store.cases_without_card()
        for case in missing:  # a case already on its way is not sent twice
            self._delivery.submit(case.id, case.channel)
        return [case.id for case in missing]
