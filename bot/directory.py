"""Who and what the desk knows by id: the brand, its agents, its live reply templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config import Brand
from bot.library import Library
from bot.models import Agent


@dataclass(frozen=True, slots=True)
class Directory:
    brand: Brand
    agents: Mapping[str, Agent]
    library: Library

    @classmethod
    def of(cls, brand: Brand, agents: Sequence[Agent], library: Library) -> Directory:
        return cls(brand, {a.slack_id: a for a in agents}, library)

    def name(self, user_id: str | None) -> str:
        agent = self.agents.get(user_id or "")
        return agent.name if agent else (user_id or "someone")
