"""Everything Earshot decides about one mention, composed from the pure parts.

Used by the live pipeline and by ``earshot triage`` alike, so what the offline command prints is
exactly what the bot would do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from bot.config import Brand, TriageSettings
from bot.models import Mention, MentionKind, RouteDecision, Triage
from bot.routing import Clock, Facts, Router
from bot.rules import parse_window
from bot.suggest import Ranked, Suggester
from bot.triage import triage

TriageFn = Callable[[Mention], Triage]


@dataclass(frozen=True, slots=True)
class Assessment:
    triage: Triage
    decision: RouteDecision
    suggestions: tuple[Ranked, ...]


def assess(
    mention: Mention,
    *,
    router: Router,
    suggester: Suggester,
    triage: TriageFn,
    customer_tags: frozenset[str] = frozenset(),
    now: datetime | None = None,
    top: int | None = None,
) -> Assessment:
    result = triage(mention)
    facts = Facts.of(mention, result, customer_tags=customer_tags, now=now)
    decision = router.route(facts)
    suggestions = suggester.suggest(
        mention.text, lang=result.lang, brand=mention.brand or "", team=decision.channel, top=top
    )
    return Assessment(result, decision, tuple(suggestions))


def skip_reason(
    mention: Mention, *, brand_handle: str, brand_user_id: str | None, quotes: str = "case"
) -> str | None:
    """Why a stored post must not become a case, or None. The brand never answers itself."""
    if mention.kind is MentionKind.RETWEET:
        return "pure retweet"
    own_id = brand_user_id is not None and mention.author.id == brand_user_id
    if own_id or mention.author.handle.lower() == brand_handle.lower():
        return "the brand's own post"
    if mention.kind is MentionKind.QUOTE and quotes == "skip":
        return "quote post (quotes are set to skip)"
    return None


def routing_clock(brand: Brand) -> Clock:
    """Business hours and the brand's time zone, for rules with ``when``."""
    return Clock(
        timezone=ZoneInfo(brand.timezone), business_hours=parse_window(brand.business_hours)
    )


def triage_with(settings: TriageSettings) -> TriageFn:
    """Triage with the configured VIP list and reach thresholds."""
    return partial(
        triage,
        vip_handles=settings.vip_handles,
        high_reach=settings.high_reach,
        huge_reach=settings.huge_reach,
    )
