"""Who and what the desk knows by id: the brands, their agents, the live reply templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.config.settings import Brand
from bot.decide import voice
from bot.decide.hours import Calendar
from bot.decide.x_rules import invited, restricted_reply
from bot.live.library import Library
from bot.models import Agent, Mention


@dataclass(frozen=True, slots=True)
class Directory:
    brand: Brand  # the first brand: the one a post without a known brand belongs to
    agents: Mapping[str, Agent]
    library: Library
    others: tuple[Brand, ...] = ()
    x_restricted: bool = True  # X takes API replies only where invited (every tier but Enterprise)
    _calendars: dict[str, Calendar] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        brand: Brand,
        agents: Sequence[Agent],
        library: Library,
        *,
        others: Sequence[Brand] = (),
        x_restricted: bool = True,
    ) -> Directory:
        agents_by_id = {a.slack_id: a for a in agents}
        return cls(brand, agents_by_id, library, tuple(others), x_restricted=x_restricted)

    def api_reply_blocked(self, mention: Mention) -> str:
        """Why X takes no reply by API to this post (its reply restriction), or "": then the
        card offers X's web intent and *Mark answered* instead of *Write reply*."""
        if mention.network != "x" or not self.x_restricted:
            return ""
        handle = self.brand_of(mention.brand).handle
        return "" if invited(mention, handle=handle) else restricted_reply(handle)

    @property
    def brands(self) -> tuple[Brand, ...]:
        return (self.brand, *self.others)

    def name(self, user_id: str | None) -> str:
        agent = self.agents.get(user_id or "")
        return agent.name if agent else (user_id or "someone")

    def brand_of(self, name: str | None) -> Brand:
        """The brand by name (any case); the first brand when unknown or empty."""
        folded = (name or "").casefold()
        return next((b for b in self.brands if b.name.casefold() == folded), self.brand)

    def calendar(self, brand: str | None) -> Calendar:
        """The brand's business hours, holidays and time zone (parsed once)."""
        found = self.brand_of(brand)
        if found.name not in self._calendars:
            self._calendars[found.name] = Calendar.parse(
                timezone=found.timezone, hours=found.business_hours, holidays=found.holidays
            )
        return self._calendars[found.name]

    def signature(self, agent: Agent, brand: str | None) -> str:
        """How ``agent`` signs for ``brand``: their own signature, else the brand's format."""
        if agent.own_signature or len(self.brands) == 1:
            return agent.signature
        fmt = self.brand_of(brand).voice.signature
        return voice.signature_for(fmt, name=agent.name, initials=agent.initials)
