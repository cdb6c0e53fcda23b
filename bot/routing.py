"""Routing: ordered rules, first match wins, explicit fallback, and a human "why" for each decision.

A rule's conditions combine with AND: any of its keywords (case-insensitive, whole words or
phrases), its regular expression, and its languages. Pure: compile once, then route many.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import RuleSpec
from bot.models import RouteDecision


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    channel: str
    keywords: tuple[tuple[str, re.Pattern[str]], ...]
    regex: re.Pattern[str] | None
    languages: frozenset[str]

    @classmethod
    def compile(cls, spec: RuleSpec) -> Rule:
        keywords = tuple((k, _keyword_pattern(k)) for k in spec.keywords)
        regex = re.compile(spec.regex) if spec.regex else None
        return cls(spec.name, spec.channel, keywords, regex, frozenset(spec.languages))

    def explain(self, text: str, lang: str) -> str | None:
        """Why this rule matches, or None when it does not."""
        reasons: list[str] = []
        if self.keywords:
            hit = next((k for k, pattern in self.keywords if pattern.search(text)), None)
            if hit is None:
                return None
            reasons.append(f"keyword “{hit}”")
        if self.regex is not None:
            found = self.regex.search(text)
            if found is None:
                return None
            reasons.append(f"pattern matched “{found.group(0)[:40]}”")
        if self.languages:
            if lang not in self.languages:
                return None
            reasons.append(f"language {lang}")
        return " and ".join(reasons)


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Whole words for Latin keywords; substrings for others (Korean attaches particles: 환불이)."""
    words = r"\s+".join(re.escape(part) for part in keyword.split())
    if not keyword.isascii():
        return re.compile(words, re.IGNORECASE)
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Router:
    rules: tuple[Rule, ...]
    fallback: str

    @classmethod
    def from_specs(cls, specs: Sequence[RuleSpec], *, fallback: str) -> Router:
        return cls(tuple(Rule.compile(spec) for spec in specs), fallback)

    def route(self, text: str, *, lang: str) -> RouteDecision:
        for position, rule in enumerate(self.rules, start=1):
            reason = rule.explain(text, lang)
            if reason is not None:
                why = f"rule {position} “{rule.name}”: {reason}"
                return RouteDecision(channel=rule.channel, rule=rule.name, why=why)
        why = f"no rule matched ({len(self.rules)} checked); fallback channel"
        return RouteDecision(channel=self.fallback, rule=None, why=why)
