"""Routing: ordered rules, first match wins, then learned routing, then the explicit fallback.

Every decision carries a human "why". A rule's conditions all have to hold (cheap ones are tested
first); its keywords match whole words or phrases in any case, and, when ``fuzzy`` is on, close
misspellings of longer words ("refnud" for "refund"). Text and keywords are compared as
``bot.decide.text.matchable`` gives them (NFKC, no invisible characters). Pure: compile once,
route many.

Speed: with a hundred rules most mentions are tested against most of them, so the keywords of
every rule are gathered into one ``_Screen`` at compile time. Per mention it finds, from the
mention's words, the keywords that *could* match (exactly or fuzzily); a rule none of whose
keywords could match is passed over without testing it. The screen only ever lets through more
than match (the rule's own checks decide, and give the why), so decisions are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.decide.rules import BUSINESS_HOURS, OUTSIDE_BUSINESS_HOURS, RuleSpec, Window, parse_window
from bot.decide.text import matchable
from bot.models import Mention, Priority, RouteDecision, Sentiment, Triage

_LEVELS = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
_WORDS = re.compile(r"[\w']+")
_RUN = re.compile(r"\w+")
# Characters outside ASCII that re.IGNORECASE matches to an ASCII letter (K is the Kelvin sign):
# a text holding one is not screened, every rule is tested as written.
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")
_TYPO_CACHE = 20_000  # words whose fuzzy keyword matches a screen remembers
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
    """Learned routing: a channel for a text when confident enough, else None; and its best
    guess whatever the confidence, which the fallback card offers as a one-click move."""

    def predict(self, text: str) -> LearnedGuess | None: ...

    def best_guess(self, text: str) -> LearnedGuess | None: ...


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
    any_of: frozenset[int] = frozenset()  # screen ids of ``keywords`` (one must be possible)
    all_of: frozenset[int] = frozenset()  # screen ids of ``all_keywords`` (all must be)

    @classmethod
    def compile(cls, spec: RuleSpec, *, position: int, screen: _Screen | None = None) -> Rule:
        """The rule's checks; with a ``screen``, the ids of its keywords there."""
        if screen is None:
            return cls(spec, tuple(_checks(spec)), position)
        any_of = frozenset(screen.add(k, fuzzy=spec.fuzzy) for k in spec.keywords)
        all_of = frozenset(screen.add(k, fuzzy=spec.fuzzy) for k in spec.all_keywords)
        return cls(spec, tuple(_checks(spec)), position, any_of, all_of)

    def could_match(self, possible: frozenset[int] | None) -> bool:
        """False only when the screen shows its keywords cannot match (None: not screened)."""
        if possible is None:
            return True
        if self.any_of and self.any_of.isdisjoint(possible):
            return False
        return self.all_of <= possible

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
        word = matchable(word)
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
        edits = _edits(word)
        # Typos rarely hit the first letter, and keeping it stops "delay" matching "relay".
        alike = [w for w in words if w[0] == word[0] and abs(len(w) - len(word)) <= edits]
        best = process.extractOne(word, alike, scorer=OSA.distance, score_cutoff=edits)
        return f"“{self.word}” (≈ “{best[0]}”)" if best else None


def _words(text: str) -> list[str]:
    return [w for w in _WORDS.findall(text.lower()) if len(w) >= FUZZY_MIN_LENGTH - 1]


def _uncased(text: str) -> bool:
    """No character of ``text`` has another case (Hangul, digits, spaces)."""
    return all(c.lower() == c == c.upper() for c in text)


class _Screen:
    """Every keyword of a rule list, indexed by what a text must hold for it to match.

    Exactly: an ASCII keyword's pattern only matches where each of its word runs (``\\w+``) is
    a whole run of the text, so it needs them all among the text's runs; a keyword without case
    (Korean) needs each of its parts in the text; any other keyword is always possible.
    Fuzzily: a single word is possible when a word of the text is within its typo distance (with
    the same first letter, as ``_Keyword.find`` asks); a phrase when rapidfuzz's
    ``partial_ratio`` reaches (nearly) its cutoff.
    """

    def __init__(self) -> None:
        self._ids: dict[tuple[str, bool], int] = {}
        self._by_run: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self._uncased: list[tuple[int, tuple[str, ...]]] = []
        self._always: set[int] = set()
        self._typos: dict[str, list[tuple[str, int]]] = {}  # first letter -> (word, id)
        self._phrases: dict[str, list[int]] = {}  # lowercase phrase -> ids
        self._typo_hits: dict[str, tuple[int, ...]] = {}  # text word -> ids (a cache)

    def add(self, word: str, *, fuzzy: bool) -> int:
        """The id of a keyword (the same word and fuzziness share one)."""
        word = matchable(word)
        key = (word, fuzzy)
        if (found := self._ids.get(key)) is not None:
            return found
        kid = self._ids[key] = len(self._ids)
        if word.isascii() and (runs := tuple(_RUN.findall(word.lower()))):
            self._by_run.setdefault(runs[0], []).append((kid, runs))
        elif not word.isascii() and _uncased(word):
            self._uncased.append((kid, tuple(word.split())))
        else:
            self._always.add(kid)
        if _Keyword.of(word, fuzzy=fuzzy).fuzzy:
            lowered = word.lower()
            if " " in word:
                self._phrases.setdefault(lowered, []).append(kid)
            else:
                self._typos.setdefault(lowered[0], []).append((lowered, kid))
        return kid

    def possible(self, text: str) -> frozenset[int] | None:
        """Ids of the keywords that could match ``text``; None when it cannot be screened."""
        if not self._ids or not _FOLDS_TO_ASCII.isdisjoint(text):
            return None
        found = set(self._always)
        runs = {run.lower() for run in _RUN.findall(text)}
        for run in runs:
            for kid, needed in self._by_run.get(run, ()):
                if all(n in runs for n in needed):
                    found.add(kid)
        found.update(kid for kid, parts in self._uncased if all(p in text for p in parts))
        if self._typos:
            for word in _words(text):
                found.update(self._typo_ids(word))
        if self._phrases:
            lowered, phrases = text.lower(), self._phrases
            cutoff = PHRASE_SCORE - 1  # a point of slack: the rule decides
            hits = process.extract(
                lowered, list(phrases), scorer=fuzz.partial_ratio, score_cutoff=cutoff, limit=None
            )
            found.update(kid for phrase, _, _ in hits for kid in phrases[phrase])
        return frozenset(found)

    def _typo_ids(self, word: str) -> tuple[int, ...]:
        """Ids of the fuzzy single words ``word`` is a typing slip of (cached per word)."""
        if (hit := self._typo_hits.get(word)) is None:
            hit = tuple(
                kid
                for keyword, kid in self._typos.get(word[0], ())
                if abs(len(keyword) - len(word)) <= (edits := _edits(keyword))
                and OSA.distance(keyword, word, score_cutoff=edits) <= edits
            )
            if len(self._typo_hits) >= _TYPO_CACHE:
                self._typo_hits.clear()
            self._typo_hits[word] = hit
        return hit


def _edits(word: str) -> int:
    """Typing slips forgiven in a fuzzy keyword."""
    return 1 if len(word) < LONG_WORD else 2


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
    screen: _Screen | None = None  # the rules' keywords (from_specs); None: test every rule

    @classmethod
    def from_specs(
        cls,
        specs: Sequence[RuleSpec],
        *,
        fallback: str,
        clock: Clock | None = None,
        learned: Learner | None = None,
    ) -> Router:
        screen = _Screen()
        rules = tuple(
            Rule.compile(spec, position=i, screen=screen)
            for i, spec in enumerate(specs, start=1)
            if spec.enabled
        )
        return cls(rules, fallback, clock or Clock(), learned, screen)

    def with_learned(self, learned: Learner | None) -> Router:
        return Router(self.rules, self.fallback, self.clock, learned, self.screen)

    def route(self, facts: Facts) -> RouteDecision:
        """Keywords, patterns and learned routing see the text as ``matchable`` gives it, so an
        invisible character inside a word ("re\\u200bfund") cannot slip past a rule."""
        facts = replace(facts, text=matchable(facts.text))
        possible = self.screen.possible(facts.text) if self.screen is not None else None
        for rule in self.rules:
            if not rule.could_match(possible):
                continue  # none of its keywords can match: its checks would say no
            reason = rule.explain(facts, self.clock)
            if reason is not None:
                return _decided(rule.spec, rule.position, reason, facts)
        guess = self.learned.predict(facts.text) if self.learned else None
        if guess is not None:
            why = f"no rule matched; {guess.why}"
            return RouteDecision(guess.channel, None, why, priority=facts.priority, via="learned")
        unsure = self.learned.best_guess(facts.text) if self.learned else None
        why = f"no rule matched ({len(self.rules)} checked); "
        if unsure is not None and unsure.channel != self.fallback:
            why += f"{BestGuess(unsure.channel, unsure.confidence).why}; "
        why += "fallback channel"
        return RouteDecision(self.fallback, None, why, priority=facts.priority, via="fallback")


_BEST_GUESS = re.compile(r"learned routing unsure, best guess (\S+) \((0(?:\.\d+)?|1(?:\.0+)?)\)")


@dataclass(frozen=True, slots=True)
class BestGuess:
    """Where learned routing would have sent a mention it was not sure enough about. It is
    told in the decision's why, which the case keeps, so the fallback card can offer it."""

    channel: str
    confidence: float

    @property
    def why(self) -> str:
        return f"learned routing unsure, best guess {self.channel} ({self.confidence:.2f})"

    @classmethod
    def told_in(cls, why: str) -> BestGuess | None:
        """The best guess a routing why tells, or None."""
        found = _BEST_GUESS.search(why)
        return cls(found.group(1), float(found.group(2))) if found else None


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
