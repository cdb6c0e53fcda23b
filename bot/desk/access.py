"""Who may do what, decided in one place: agents reply to customers, leads steer routing.

Leads are configured user ids, or members of a Slack user group (looked up through Slack and
cached for a few minutes). Every refusal is audited by the caller with the reason given here.

There is no admin role in Slack on purpose: an admin is whoever edits the config file (agents,
leads, the leads' user group, channels) and deploys it. Nobody can grant permissions from Slack,
so a lead's hijacked Slack account cannot make itself or others more powerful.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.config.settings import Leads
from bot.models import Agent

GROUP_CACHE_SECONDS = 300.0


class Refused(Exception):
    """This person may not do this now. The message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str = ""


class Access:
    def __init__(
        self,
        *,
        agents: Mapping[str, Agent],
        leads: Leads,
        group_members: Callable[[str], frozenset[str] | None] | None = None,
    ) -> None:
        self._agents = agents
        self._leads = leads
        self._group_members = group_members
        self._cache: tuple[float, frozenset[str]] = (float("-inf"), frozenset())
        self._lock = threading.Lock()

    def is_agent(self, user_id: str) -> bool:
        return user_id in self._agents

    def agent(self, user_id: str) -> Agent | None:
        """The configured agent a Slack user is (None: not an agent, so they may not reply)."""
        return self._agents.get(user_id)

    def is_lead(self, user_id: str) -> bool:
        return user_id in self._leads.users or user_id in self._group()

    def may_steer(self, user_id: str, *, action: str = "change routing") -> Verdict:
        """Changing routing rules or playbooks: leads only; everyone may look."""
        if self.is_lead(user_id):
            return Verdict(True)
        where = "[leads] users"
        if self._leads.usergroup:
            where += f" or the user group <!subteam^{self._leads.usergroup}>"
        return Verdict(False, f"Only leads can {action}. Ask an admin to add {user_id} to {where}.")

    def _group(self) -> frozenset[str]:
        group = self._leads.usergroup
        if not group or self._group_members is None:
            return frozenset()
        with self._lock:
            fetched_at, members = self._cache
            if time.monotonic() - fetched_at < GROUP_CACHE_SECONDS:
                return members
            fresh = self._group_members(group)
            if fresh is None:  # Slack could not say: keep what we knew, ask again next time
                return members
            self._cache = (time.monotonic(), fresh)
            return fresh

    def warm(self) -> None:
        """Look the leads' user group up now, not on the first click (listeners have 3 s)."""
        self._group()
