"""``earshot triage``: what the bot would decide for each mention, without Slack or X.

Uses the same ``assess`` as the live pipeline, so the output is exactly the bot's behaviour.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bot.assess import Assessment, assess, skip_reason
from bot.config import Config
from bot.models import Mention
from bot.playbooks import Template, placeholder_values, render
from bot.routing import Router
from bot.sources.jsonl import BadLine, read_mentions
from bot.suggest import Suggester

DEFAULT_FALLBACK = "#care-general"


@dataclass(frozen=True, slots=True)
class Triager:
    router: Router
    suggester: Suggester
    brand: str
    brand_handle: str
    top: int

    @classmethod
    def create(
        cls, *, config: Config | None, templates: Sequence[Template], top: int | None
    ) -> Triager:
        if config is None:
            router = Router.from_specs((), fallback=DEFAULT_FALLBACK)
            brand, handle, default_top, cutoff = "", "", 3, 60.0
        else:
            router = Router.from_specs(config.rules, fallback=config.fallback_channel)
            brand, handle = config.brand.name, config.brand.handle
            default_top, cutoff = config.top_suggestions, config.min_score
        count = default_top if top is None else top
        suggester = Suggester.build(templates, top=max(count, 1), min_score=cutoff)
        return cls(router, suggester, brand, handle, count)

    def record(self, mention: Mention) -> dict[str, Any]:
        result = assess(mention, router=self.router, suggester=self.suggester, top=self.top)
        return _record(mention, result, self._skip(mention), self._texts(mention, result))

    def _skip(self, mention: Mention) -> str | None:
        return skip_reason(mention, brand_handle=self.brand_handle or "\0", brand_user_id=None)

    def _texts(self, mention: Mention, result: Assessment) -> list[str]:
        values = placeholder_values(mention, brand=mention.brand or self.brand, agent=None)
        return [render(s.template.text, values) for s in result.suggestions[: self.top]]

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


def _record(
    mention: Mention, result: Assessment, skip: str | None, texts: list[str]
) -> dict[str, Any]:
    t, d = result.triage, result.decision
    return {
        "id": mention.id,
        "channel": d.channel,
        "rule": d.rule,
        "why": d.why,
        "sentiment": t.sentiment.value,
        "sentiment_score": t.sentiment_score,
        "priority": t.priority.value,
        "lang": t.lang,
        "suggestions": [
            {"template": s.template.id, "score": round(s.score, 1), "text": text}
            for s, text in zip(result.suggestions, texts, strict=False)
        ],
        "skip": skip,
    }
