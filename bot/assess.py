"""Everything Earshot decides about one mention, composed from the pure parts.

Used by the live pipeline and by ``earshot triage`` alike, so what the offline command prints is
exactly what the bot would do.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import Mention, MentionKind, RouteDecision, Triage
from bot.routing import Router
from bot.suggest import Ranked, Suggester
from bot.triage import triage


@dataclass(frozen=True, slots=True)
class Assessment:
    triage: Triage
    decision: RouteDecision
    suggestions: tuple[Ranked, ...]


def assess(
    mention: Mention, *, router: Router, suggester: Suggester, top: int | None = None
) -> Assessment:
    result = triage(mention)
    decision = router.route(mention.text, lang=result.lang)
    suggestions = suggester.suggest(mention.text, lang=result.lang, top=top)
    return Assessment(result, decision, tuple(suggestions))


def skip_reason(mention: Mention, *, brand_handle: str, brand_user_id: str | None) -> str | None:
    """Why a stored post must not become a case, or None. The brand never answers itself."""
    if mention.kind is MentionKind.RETWEET:
        return "pure retweet"
    own_id = brand_user_id is not None and mention.author.id == brand_user_id
    if own_id or mention.author.handle.lower() == brand_handle.lower():
        return "the brand's own post"
    return None
