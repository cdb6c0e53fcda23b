"""Offline commands: `earshot triage` (what the bot would decide, without Slack or X) and
`earshot routing teach|export` (labelled examples in, rules out).

They use the same ``assess`` and router as the live pipeline, so the output is exactly the bot's
behaviour. With a database, its current rules (as leads left them) and its learned examples are
used; without one, the config's rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.config.settings import Config, TriageSettings
from bot.decide.assess import (
    Assessment,
    TriageFn,
    assess,
    priority_reasons,
    routing_clock,
    skip_reason,
    triage_with,
)
from bot.decide.learned import DEFAULT_MIN_CONFIDENCE, Example, LearnedRouter
from bot.decide.matching import Via
from bot.decide.noise import noise_reason
from bot.decide.playbooks import Template, placeholder_values, render
from bot.decide.routing import Router
from bot.decide.rules import RuleSpec, to_toml
from bot.decide.suggest import Suggester
from bot.models import Mention
from bot.sources.jsonl import BadLine, Labelled, read_labelled, read_mentions
from bot.storage.store import Store

DEFAULT_FALLBACK = "#care-general"


@dataclass(frozen=True, slots=True)
class Triager:
    router: Router
    suggester: Suggester
    triage: TriageFn
    brand: str
    brand_handle: str
    top: int

    @classmethod
    def create(
        cls,
        *,
        config: Config | None,
        templates: Sequence[Template],
        top: int | None,
        store: Store | None = None,
    ) -> Triager:
        router = _router(config, store)
        brand, handle = (config.brand.name, config.brand.handle) if config else ("", "")
        default_top, cutoff = (config.top_suggestions, config.min_score) if config else (3, 60.0)
        count = default_top if top is None else top
        suggester = Suggester.build(templates, top=max(count, 1), min_score=cutoff)
        triage = triage_with(**asdict(config.triage if config else TriageSettings()))
        return cls(router, suggester, triage, brand, handle, count)

    def record(self, mention: Mention) -> dict[str, Any]:
        result = assess(
            mention,
            router=self.router,
            suggester=self.suggester,
            triage=self.triage,
            now=mention.created_at or datetime.now(UTC),
            top=self.top,
        )
        return _record(mention, result, self._skip(mention), self._texts(mention, result))

    def _skip(self, mention: Mention) -> str | None:
        return skip_reason(mention, brand_handle=self.brand_handle or "\0", brand_user_id=None)

    def _texts(self, mention: Mention, result: Assessment) -> list[str]:
        """Each suggestion as an agent would get it: placeholders and the help link filled in,
        slots and ``{agent}`` left for a person."""
        brand = mention.brand or self.brand
        return [
            render(t.text, placeholder_values(mention, brand=brand, agent=None, link=t.link))
            for t in (s.template for s in result.suggestions[: self.top])
        ]

    def run(self, lines: Iterable[str], *, out: TextIO, err: TextIO) -> tuple[int, int]:
        """Write one JSON object per good line to ``out``; report bad lines on ``err``."""
        good = bad = 0
        for item in read_mentions(lines):
            if isinstance(item, BadLine):
                bad += 1
                err.write(f"skipped {item}\n")
                continue
            out.write(json.dumps(self.record(item), ensure_ascii=False) + "\n")
            good += 1
        return good, bad


def _router(config: Config | None, store: Store | None) -> Router:
    """The database's current rules and examples when given, else the config's rules."""
    if config is None:
        rules: Sequence[RuleSpec] = ()
        fallback, clock, confidence = DEFAULT_FALLBACK, None, DEFAULT_MIN_CONFIDENCE
    else:
        rules, fallback = config.rules, config.fallback_channel
        brand = config.brand
        clock = routing_clock(timezone=brand.timezone, business_hours=brand.business_hours)
        confidence = config.learned_min_confidence
    learned = None
    if store is not None:
        stored = store.latest_ruleset()
        rules = stored.rules if stored is not None else rules
        examples = [Example(text, channel) for text, channel in store.examples()]
        if examples and confidence < 1:
            learned = LearnedRouter.train(examples, min_confidence=confidence)
    return Router.from_specs(rules, fallback=fallback, clock=clock, learned=learned)


def _record(
    mention: Mention, result: Assessment, skip: str | None, texts: list[str]
) -> dict[str, Any]:
    t, d = result.triage, result.decision
    return {
        "id": mention.id,
        "channel": d.channel,
        "rule": d.rule,
        "why": d.why,
        "via": d.via,
        "tags": list(d.tags),
        "sentiment": t.sentiment.value,
        "sentiment_score": t.sentiment_score,
        "priority": (d.priority or t.priority).value,
        "priority_reasons": priority_reasons(t, d),
        "lang": t.lang,
        "noise": noise_reason(mention),
        "suggestions": [
            {
                "template": s.template.id,
                "score": None if s.via is Via.POPULAR else round(s.score, 1),
                "via": s.via.value,
                "why": s.why,
                "text": text,
            }
            for s, text in zip(result.suggestions, texts, strict=False)
        ],
        "skip": skip,
    }


# ---- routing teach / export -------------------------------------------------------------------


def teach(store: Store, lines: Iterable[str], *, err: TextIO, actor: str) -> tuple[int, int]:
    """Store labelled examples for learned routing; returns (taught, bad lines)."""
    good: list[Labelled] = []
    bad = 0
    for item in read_labelled(lines):
        if isinstance(item, BadLine):
            bad += 1
            err.write(f"skipped {item}\n")
        else:
            good.append(item)
    store.add_examples(
        [(item.mention.text, item.channel) for item in good],
        source="teach",
        actor=actor,
        now=datetime.now(UTC),
    )
    return len(good), bad


def export_rules(store: Store | None, config: Config | None) -> str:
    """The current rules as a `[routing]` section (the database's when given)."""
    stored = store.latest_ruleset() if store is not None else None
    rules = stored.rules if stored is not None else (config.rules if config else ())
    fallback = config.fallback_channel if config else DEFAULT_FALLBACK
    if stored is not None and stored.fallback:
        fallback = stored.fallback
    header = f"# Earshot routing rules, version {stored.version}\n" if stored else ""
    return header + to_toml(rules, fallback=fallback)
