"""The live routing rules: versioned in SQLite, compiled once per version into the shared Router.

The config seeds the rules on first start; after that leads change them from Slack and every
change is a new version. Learned routing (from re-routed and taught examples) is retrained when
examples change and used when no rule matches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from bot.clock import Clock
from bot.decide.routing import Clock as RoutingClock
from bot.decide.routing import Learner, Router
from bot.decide.rules import Ruleset, RuleSpec
from bot.storage.store import Store

log = logging.getLogger(__name__)

Trainer = Callable[[Sequence[tuple[str, str]]], Learner | None]


class RuleBook:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        fallback: str,
        routing_clock: RoutingClock,
        trainer: Trainer | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._fallback = fallback
        self._routing_clock = routing_clock
        self._trainer = trainer
        self._lock = threading.Lock()
        self._compiled: tuple[int, Router] | None = None
        self._parsed: Ruleset | None = None  # the latest rules, parsed once per version
        self._learned: Learner | None = None

    @property
    def fallback(self) -> str:
        return self._fallback

    def seed(self, rules: Sequence[RuleSpec]) -> Ruleset:
        """First start: the config's rules become version 1. Later starts keep what leads made."""
        current = self._store.latest_ruleset()
        if current is not None:
            return current
        return self._store.save_ruleset(
            rules,
            fallback=self._fallback,
            actor="config",
            action="seed",
            summary="rules from the config file",
            now=self._clock.now(),
            base_version=None,
        )

    def current(self) -> Ruleset:
        version = self._store.latest_ruleset_version()
        with self._lock:
            if self._parsed is not None and self._parsed.version == version:
                return self._parsed
        ruleset = self._store.latest_ruleset()
        if ruleset is None:
            raise LookupError("no routing rules yet: seed() runs at start-up")
        with self._lock:
            self._parsed = ruleset
        return ruleset

    def router(self) -> Router:
        """The router for the latest rules (recompiled only when the version changed)."""
        ruleset = self.current()
        with self._lock:
            if self._compiled is None or self._compiled[0] != ruleset.version:
                self._compiled = (ruleset.version, self.router_for(ruleset.rules))
            return self._compiled[1]

    def router_for(self, rules: Sequence[RuleSpec]) -> Router:
        """A router for any rule list (dry-runs), with the same clock and learned routing."""
        return Router.from_specs(
            rules, fallback=self._fallback, clock=self._routing_clock, learned=self._learned
        )

    def relearn(self) -> int:
        """Retrain learned routing from every stored example; returns how many it learned from."""
        if self._trainer is None:
            return 0
        examples = self._store.examples()
        learned = self._trainer(examples)
        with self._lock:
            self._learned = learned
            self._compiled = None
        log.info("learned routing retrained on %d examples", len(examples))
        return len(examples)
