"""Routing: ordered rules, first match wins, then learned routing, then the explicit fallback.

Every decision carries a human "why". A rule's conditions all have to hold (cheap ones are tested
first); its keywords match whole words or phrases in any case, and, when ``fuzzy`` is on, close
misspellings of longer words ("refnud" for "refund"). Pure: compile once, route many.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.models import Mention, Priority, RouteDecision, Sentiment, Triage
from bot.rules import BUSINESS_HOURS, OUTSIDE_BUSINESS_HOURS, RuleSpec, Window, parse_window

_LEVELS = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
_WORDS = re.compile(r"[\w']+")
FUZZY_MIN_LENGTH = 5  # shorter keywords match exactly only
LONG_WORD = 8  # from this length two typing slips are forgiven, below it one
PHRASE_SCORE = 88.0


@dataclass(frozen=True, slots=True)
class Facts:
    """What rules can test about one mention, gathered once."""

    text: str
    lang: str
    sentiment: Sentiment
    priority: Priority
    followers: int = 0
    verified: bool = False
    network: str = "x"
    brand: str = ""
    handle: str = ""
    customer_tags: frozenset[str] = frozenset()
    now: datetime | None = None

    @classmethod
    def of(
        cls,
        mention: Mention,
        triage: Triage,
        *,
        customer_tags: frozenset[str] = frozenset(),
        now: datetime | None = None,
    ) -> Facts:
        a = mention.author
        return cls(
            text=mention.text,
            lang=triage.lang,
            sentiment=triage.sentiment,
            priority=triage.priority,
            followers=a.followers,
            verified=a.verified,
            network=mention.network,
            brand=mention.brand or "",
            handle=a.handle,
            customer_tags=customer_tags,
            now=now,
        )


class Learner(Protocol):
    """Learned routing: a channel for a text when confident enough, else None."""

    def predict(self, text: str) -> LearnedGuess | None: ...


class LearnedGuess(Protocol):
    @property
    def channel(self) -> str: ...

    @property
    def confidence(self) -> float: ...

    @property
    def why(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Clock:
    """Business hours and the brand's time zone, for ``when`` conditions."""

    timezone: tzinfo = UTC
    business_hours: Window | None = None

    def inside(self, when: str, moment: datetime | None) -> bool:
        if moment is None:
            return False
        local = moment.astimezone(self.timezone)
        if when in (BUSINESS_HOURS, OUTSIDE_BUSINESS_HOURS):
            inside = self.business_hours is not None and self.business_hours.contains(local)
            return inside if when == BUSINESS_HOURS else not inside
        return parse_window(when).contains(local)


Check = Callable[["Facts", Clock], str | None]  # a reason when the condition holds, else None


@dataclass(frozen=True, slots=True)
class Rule:
    spec: RuleSpec
    checks: tuple[Check, ...]
    position: int  # 1-based, counting disabled rules too, as the rule list shows it

    @classmethod
    def compile(cls, spec: RuleSpec, *, position: int) -> Rule:
        return cls(spec, tuple(_checks(spec)), position)

    def explain(self, facts: Facts, clock: Clock) -> str | None:
        """Why this rule matches, or None when one of its conditions does not hold."""
        reasons: list[str] = []
        for check in self.checks:
            reason = check(facts, clock)
            if reason is None:
                return None
            reasons.append(reason)
        return " and ".join(reasons)


def _checks(spec: RuleSpec) -> list[Check]:
    """Conditions in cheap-first order; only the ones the rule sets."""
    checks: list[Check] = []
    if spec.networks:
        checks.append(_member("network", spec.networks, lambda f: f.network))
    if spec.languages:
        checks.append(_member("language", spec.languages, lambda f: f.lang))
    if spec.sentiments:
        checks.append(_member("sentiment", spec.sentiments, lambda f: f.sentiment.value))
    if spec.brands:
        checks.append(_member("brand", spec.brands, lambda f: f.brand, fold=True))
    if spec.handles:
        handles = tuple(h.lstrip("@") for h in spec.handles)
        checks.append(_member("author @", handles, lambda f: f.handle, fold=True))
    checks += _number_checks(spec)
    if spec.customer_tags:
        checks.append(_tags(spec.customer_tags))
    if spec.when:
        checks.append(_when(spec.when))
    if spec.keywords:
        checks.append(_any_keyword(spec.keywords, fuzzy=spec.fuzzy))
    if spec.all_keywords:
        checks.append(_all_keywords(spec.all_keywords, fuzzy=spec.fuzzy))
    if spec.regex:
        checks.append(_regex(spec.regex))
    return checks


def _member(
    label: str, allowed: Sequence[str], value: Callable[[Facts], str], *, fold: bool = False
) -> Check:
    wanted = {a.lower() for a in allowed} if fold else set(allowed)

    def check(facts: Facts, _clock: Clock) -> str | None:
        got = value(facts)
        return f"{label} {got}" if (got.lower() if fold else got) in wanted else None

    return check


def _number_checks(spec: RuleSpec) -> list[Check]:
    checks: list[Check] = []
    if spec.min_priority:
        floor = _LEVELS.index(Priority(spec.min_priority))

        def priority(facts: Facts, _clock: Clock) -> str | None:
            ok = _LEVELS.index(facts.priority) >= floor
            return f"priority {facts.priority.value} ≥ {spec.min_priority}" if ok else None

        checks.append(priority)
    if spec.min_followers:

        def followers(facts: Facts, _clock: Clock) -> str | None:
            ok = facts.followers >= spec.min_followers
            return f"{facts.followers:,} followers ≥ {spec.min_followers:,}" if ok else None

        checks.append(followers)
    if spec.verified_only:
        checks.append(lambda facts, _clock: "verified author" if facts.verified else None)
    return checks


def _tags(wanted: Sequence[str]) -> Check:
    def check(facts: Facts, _clock: Clock) -> str | None:
        hit = sorted(set(wanted) & facts.customer_tags)
        return f"customer tagged {', '.join(hit)}" if hit else None

    return check


def _when(when: str) -> Check:
    label = when.replace("_", " ")

    def check(facts: Facts, clock: Clock) -> str | None:
        return label if clock.inside(when, facts.now) else None

    return check


def _regex(expression: str) -> Check:
    compiled = re.compile(expression)

    def check(facts: Facts, _clock: Clock) -> str | None:
        found = compiled.search(facts.text)
        return f"pattern matched “{found.group(0)[:40]}”" if found else None

    return check


@dataclass(frozen=True, slots=True)
class _Keyword:
    word: str
    exact: re.Pattern[str]
    fuzzy: bool

    @classmethod
    def of(cls, word: str, *, fuzzy: bool) -> _Keyword:
        parts = r"\s+".join(re.escape(p) for p in word.split())
        # Latin keywords match whole words; others (Korean attaches particles: 환불이) anywhere.
        exact = re.compile(parts if not word.isascii() else rf"(?<!\w){parts}(?!\w)", re.I)
        long_enough = len(word.replace(" ", "")) >= FUZZY_MIN_LENGTH and word.isascii()
        return cls(word, exact, fuzzy and long_enough)

    def find(self, text: str, words: list[str]) -> str | None:
        """“word”, or “word” (≈ “misspelling”), or None."""
        if self.exact.search(text):
            return f"“{self.word}”"
        if not self.fuzzy:
            return None
        if " " in self.word:
            found = fuzz.partial_ratio_alignment(self.word.lower(), text.lower())
            if found is None or found.score < PHRASE_SCORE:
                return None
            return f"“{self.word}” (≈ “{text[found.dest_start : found.dest_end]}”)"
        word = self.word.lower()
        edits = 1 if len(word) < LONG_WORD else 2
        # Typos rarely hit the first letter, and keeping it stops "delay" matching "relay".
        alike = [w for w in words if w[0] == word[0] and abs(len(w) - len(word)) <= edits]
        best = process.extractOne(word, alike, scorer=OSA.distance, score_cutoff=edits)
        return f"“{self.word}” (≈ “{best[0]}”)" if best else None


def _words(text: str) -> list[str]:
    return [w for w in _WORDS.findall(text.lower()) if len(w) >= FUZZY_MIN_LENGTH - 1]


def _any_keyword(keywords: Sequence[str], *, fuzzy: bool) -> Check:
    compiled = [_Keyword.of(k, fuzzy=fuzzy) for k in keywords]

    def check(facts: Facts, _clock: Clock) -> str | None:
        words = _words(facts.text)
        hit = next((found for k in compiled if (found := k.find(facts.text, words))), None)
        return f"keyword {hit}" if hit else None

    return check


def _all_keywords(keywords: Sequence[str], *, fuzzy: bool) -> Check:
    compiled = [_Keyword.of(k, fuzzy=fuzzy) for k in keywords]

    def check(facts: Facts, _clock: Clock) -> str | None:
        words = _words(facts.text)
        hits = [k.find(facts.text, words) for k in compiled]
        return None if None in hits else "keywords " + " + ".join(h or "" for h in hits)

    return check


def bump(priority: Priority, steps: int) -> Priority:
    return _LEVELS[max(0, min(len(_LEVELS) - 1, _LEVELS.index(priority) + steps))]


@dataclass(frozen=True, slots=True)
class Router:
    rules: tuple[Rule, ...]
    fallback: str
    clock: Clock = Clock()
    learned: Learner | None = None

    @classmethod
    def from_specs(
        cls,
        specs: Sequence[RuleSpec],
        *,
        fallback: str,
        clock: Clock | None = None,
        learned: Learner | None = None,
    ) -> Router:
        rules = tuple(
            Rule.compile(spec, position=i) for i, spec in enumerate(specs, start=1) if spec.enabled
        )
        return cls(rules, fallback, clock or Clock(), learned)

    def with_learned(self, learned: Learner | None) -> Router:
        return Router(self.rules, self.fallback, self.clock, learned)

    def route(self, facts: Facts) -> RouteDecision:
        for rule in self.rules:
            reason = rule.explain(facts, self.clock)
            if reason is not None:
                return _decided(rule.spec, rule.position, reason, facts)
        guess = self.learned.predict(facts.text) if self.learned else None
        if guess is not None:
            why = f"no rule matched; {guess.why}"
            return RouteDecision(guess.channel, None, why, priority=facts.priority, via="learned")
        why = f"no rule matched ({len(self.rules)} checked); fallback channel"
        return RouteDecision(self.fallback, None, why, priority=facts.priority, via="fallback")


def _decided(spec: RuleSpec, position: int, reason: str, facts: Facts) -> RouteDecision:
    return RouteDecision(
        channel=spec.channel,
        rule=spec.name,
        why=f"rule {position} “{spec.name}”: {reason}",
        tags=spec.tags,
        priority=bump(facts.priority, spec.priority_bump),
        notify=spec.notify,
        require_approval=spec.require_approval,
        via="rule",
    )
