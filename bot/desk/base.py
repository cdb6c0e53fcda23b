"""What every desk action shares: who is asking (agents, leads), the open case it is about, its
lock and pending approval, and the audit trail. ``Desk`` is built from it.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.desk.access import Access, Refused
from bot.desk.approvals import Approvals
from bot.desk.outbox import Outbox
from bot.live.directory import Directory
from bot.live.rulebook import RuleBook
from bot.models import (
    Agent,
    Case,
    CaseState,
)
from bot.slack.board import SlackBoard
from bot.storage.store import Store

log = logging.getLogger(__name__)


class DeskBase:
    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        outbox: Outbox,
        board: SlackBoard,
        clock: Clock,
        access: Access,
        rulebook: RuleBook,
        sender: Executor,
        approvals: Approvals,
        pacing: timedelta = timedelta(seconds=10),
    ) -> None:
        self._approvals = approvals
        self._store = store
        self._directory = directory
        self._outbox = outbox
        self._board = board
        self._clock = clock
        self._access = access
        self._rulebook = rulebook
        self._sender = sender
        self._pacing = pacing

    def agent(self, user_id: str, *, action: str) -> Agent:
        agent = self._access.agent(user_id)
        if agent is None:
            self._audit(user_id, "refused", None, attempted=action, reason="not an agent")
            raise Refused(
                f"Only agents configured for {self._directory.brand.name} can {action}. "
                f"Ask a lead to add your Slack ID {user_id} under [[agents]] in the Earshot config."
            )
        return agent

    def _agent_or_lead(self, user_id: str, *, action: str) -> None:
        """Leads may act on cases without being agents; anyone else must be one."""
        if not self._access.is_lead(user_id):
            self.agent(user_id, action=action)

    def _open_case(self, case_id: int) -> Case:
        case = self._store.find_case(case_id)
        if case is None:
            raise Refused(f"There is no case #{case_id}.")
        if case.state is CaseState.REPLIED:
            who = self._directory.name(case.replied_by)
            raise Refused(f"Case #{case_id} was already answered by {who}.")
        if case.state is CaseState.DISMISSED:
            who = self._directory.name(case.closed_by)
            raise Refused(f"Case #{case_id} was dismissed by {who}. Reopen it first.")
        if case.state is CaseState.RESOLVED:
            who = self._directory.name(case.closed_by)
            raise Refused(f"Case #{case_id} was resolved by {who}. Reopen it first.")
        return case

    def _approval_reason(self, case: Case, user_id: str) -> str:
        """Why this person's reply must wait for a lead ("" if it need not): a trainee, or a
        routing rule that asks for approval. A lead's own reply needs nobody's approval."""
        if self._access.is_lead(user_id):
            return ""
        agent = self._access.agent(user_id)
        if agent is not None and agent.trainee:
            return f"{agent.name} is a trainee"
        if case.require_approval:
            return (
                f"rule “{case.rule}” asks for a lead's approval"
                if case.rule
                else ("this case needs a lead's approval")
            )
        return ""

    def _ensure_no_approval_pending(self, case: Case) -> None:
        if (waiting := self._store.pending_approval(case.id)) is not None:
            who = self._directory.name(waiting.agent_id)
            raise Refused(
                f"{who}'s reply to case #{case.id} is waiting for a lead's approval. "
                "A lead approves, edits or rejects it from the leads' channel."
            )

    def _ensure_not_locked(self, case: Case, user_id: str) -> None:
        """Another agent's claim locks the case; a lead may still step in (audited)."""
        if case.claimed_by and case.claimed_by != user_id:
            if self._access.is_lead(user_id):
                self._audit(user_id, "case.stepped_in", case.id, claimed_by=case.claimed_by)
                return
            who = self._directory.name(case.claimed_by)
            self._audit(user_id, "refused", case.id, reason=f"claimed by {case.claimed_by}")
            raise Refused(f"{who} is already on case #{case.id}. Ask them before stepping in.")

    def _claim(self, case: Case, agent: Agent) -> bool:
        """Lock the case to ``agent``; True if it was not theirs before."""
        self._ensure_not_locked(case, agent.slack_id)
        if case.claimed_by == agent.slack_id:
            return False
        take_over = case.claimed_by is not None  # a lead stepping in
        if not self._store.claim(case.id, agent.slack_id, now=self._now(), take_over=take_over):
            fresh = self._store.case(case.id)
            self._ensure_not_locked(fresh, agent.slack_id)
            raise Refused(f"Case #{case.id} changed meanwhile; look at its card again.")
        return True

    def _audit(self, actor: str, action: str, case_id: int | None, **detail: object) -> None:
        self._store.audit(actor=actor, action=action, now=self._now(), case_id=case_id, **detail)

    def _now(self) -> datetime:
        return self._clock.now()
