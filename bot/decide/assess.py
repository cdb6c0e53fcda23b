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

from bot.decide.routing import Clock, Facts, Router
from bot.decide.rules import parse_window
from bot.decide.suggest import Ranked, Suggester
from bot.decide.triage import triage
from bot.models import Mention, MentionKind, RouteDecision, Triage

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


def routing_clock(*, timezone: str, business_hours: str) -> Clock:
    """Business hours and the brand's time zone, for rules with ``when``."""
    return Clock(timezone=ZoneInfo(timezone), business_hours=parse_window(business_hours))


def triage_with(
    *, vip_handles: tuple[str, ...] = (), high_reach: int = 10_000, huge_reach: int = 250_000
) -> TriageFn:
    """Triage with the configured VIP list and reach thresholds."""
    return partial(triage, vip_handles=vip_handles, high_reach=high_reach, huge_reach=huge_reach)


def priority_reasons(triage: Triage, decision: RouteDecision | None) -> list[str]:
    """Why the case has its priority: triage's reasons, and a rule's bump when one set it."""
    reasons = list(triage.reasons)
    bumped = decision.priority if decision else None
    if decision is not None and bumped is not None and bumped is not triage.priority:
        reasons.append(f"rule “{decision.rule}” set it to {bumped.value}")
    return reasons
