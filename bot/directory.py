"""Who and what the desk knows by id: the brand, its agents, its reply templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config import Brand
from bot.models import Agent
from bot.playbooks import Template


@dataclass(frozen=True, slots=True)
class Directory:
    brand: Brand
    agents: Mapping[str, Agent]
    templates: Mapping[str, Template]

    @classmethod
    def of(cls, brand: Brand, agents: Sequence[Agent], templates: Sequence[Template]) -> Directory:
        return cls(brand, {a.slack_id: a for a in agents}, {t.id: t for t in templates})

    def name(self, user_id: str | None) -> str:
        agent = self.agents.get(user_id or "")
        return agent.name if agent else (user_id or "someone")
