"""The inbound path, one straight line: poll -> store -> triage -> route -> suggest -> card.

A mention is stored (with its source cursor, in one transaction) before anything else happens to
it. Work then proceeds from what is stored, so a crash at any step resumes from the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from bot.assess import assess, skip_reason
from bot.clock import Clock
from bot.models import Case, Mention
from bot.routing import Router
from bot.slack import Board, BoardError
from bot.sources import Fetch, Source
from bot.store import Store
from bot.suggest import Suggester

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollReport:
    fetch: Fetch
    new_mentions: tuple[str, ...]
    cases: tuple[Case, ...]


class Inbound:
    def __init__(
        self,
        *,
        store: Store,
        router: Router,
        suggester: Suggester,
        board: Board,
        clock: Clock,
        brand_handle: str,
        brand_user_id: str | None,
    ) -> None:
        self._store = store
        self._router = router
        self._suggester = suggester
        self._board = board
        self._clock = clock
        self._brand_handle = brand_handle
        self._brand_user_id = brand_user_id
        self._lock = threading.Lock()  # one inbound step at a time: never two cards for a case

    def poll(self, source: Source) -> PollReport:
        """Fetch from one source, store what came, then make cases of everything stored and new."""
        with self._lock:
            fetch = source.fetch(self._store.cursors(f"{source.network}:"))
            new = self._store.save_mentions(
                fetch.mentions, received_at=self._clock.now(), cursors=fetch.cursors
            )
            if new:
                log.info("%s: %d new mention(s)", source.network, len(new))
            return PollReport(fetch, tuple(new), tuple(self._process_pending()))

    def process_pending(self) -> list[Case]:
        """Cases (and cards) for every stored mention not yet handled, oldest first."""
        with self._lock:
            return self._process_pending()

    def _process_pending(self) -> list[Case]:
        cases: list[Case] = []
        for mention in self._store.pending_mentions():
            reason = skip_reason(
                mention, brand_handle=self._brand_handle, brand_user_id=self._brand_user_id
            )
            if reason:
                self._store.skip_mention(mention.id, reason)
                continue
            case = self._open_or_quarantine(mention)
            if case is not None:
                self._post(case)
                cases.append(case)
        return cases

    def _open_or_quarantine(self, mention: Mention) -> Case | None:
        """One post that breaks triage must not stall the inbox: set it aside, loudly."""
        try:
            return self._open(mention)
        except Exception as exc:
            log.exception("mention %s could not be triaged; set aside", mention.id)
            self._store.skip_mention(mention.id, f"quarantined: {type(exc).__name__}: {exc}")
            return None

    def _open(self, mention: Mention) -> Case:
        result = assess(mention, router=self._router, suggester=self._suggester)
        suggestions = [
            {"template": s.template.id, "score": round(s.score, 1), "why": s.why}
            for s in result.suggestions
        ]
        return self._store.open_case(
            mention,
            triage=result.triage,
            decision=result.decision,
            suggestions=suggestions,
            now=self._clock.now(),
        )

    def _post(self, case: Case) -> None:
        try:
            self._board.post_card(case.id)
        except BoardError as exc:
            log.warning("%s; it will be posted by the next card sweep", exc)

    def post_missing_cards(self) -> Sequence[int]:
        """Post cards that Slack did not take earlier (outage, rate limit)."""
        posted: list[int] = []
        with self._lock:
            for case in self._store.cases_without_card():
                self._post(case)
                if self._store.case(case.id).card_ts:
                    posted.append(case.id)
        return posted
