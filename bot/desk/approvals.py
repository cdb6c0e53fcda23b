"""Approval mode: a trainee's reply, or one to a case whose rule asks for it, waits for a lead.

The agent's confirmed reply is stored as a request and posted to the leads (their channel, else the
case's thread) with Approve, Edit and Reject. Only a lead decides, once: approving writes the reply
to the outbox under the agent's signature (the lead is recorded as approver), editing changes the
text first (checked again), rejecting sends the agent the lead's note. Every step is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.decide import voice
from bot.desk.access import Refused
from bot.live.directory import Directory
from bot.models import Approval, ApprovalState, Case, CaseState, Mention, Reply
from bot.slack.port import Board
from bot.storage.outbox_rows import ReplyInFlightError
from bot.storage.store import Store


class LeadGate(Protocol):
    """Refuses (and audits) anyone who is not a lead: ``Steering.require_lead``."""

    def __call__(self, user: str, *, attempted: str, action: str) -> None: ...


class Approvals:
    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        board: Board,
        clock: Clock,
        require_lead: LeadGate,
    ) -> None:
        self._store = store
        self._directory = directory
        self._board = board
        self._clock = clock
        self._require_lead = require_lead

    def request(
        self,
        *,
        key: str,
        case: Case,
        mention: Mention,
        agent_id: str,
        body: str,
        template: str | None,
        parts: Sequence[str],
        reason: str,
    ) -> Approval:
        """Store the reply as waiting for a lead and show it to the leads. Same key, same one."""
        try:
            approval, created = self._store.request_approval(
                key=key,
                case=case,
                mention=mention,
                agent_id=agent_id,
                body=body,
                parts=parts,
                template=template,
                reason=reason,
                now=self._now(),
            )
        except ReplyInFlightError as exc:
            raise Refused(f"Case #{case.id} already has a reply waiting ({exc}).") from None
        if created:
            self._audit(agent_id, "approval.requested", approval, reason=reason)
            self._board.show_approval(approval.id)
            self._board.refresh_card(case.id)
        return approval

    def pending(self, approval_id: int, lead_id: str) -> Approval:
        """The request, for a lead about to decide on it (refused for anyone else)."""
        self._require_lead(
            lead_id,
            attempted=f"decide on approval #{approval_id}",
            action="approve, edit or reject replies waiting for approval",
        )
        approval = self._store.find_approval(approval_id)
        if approval is None:
            raise Refused(f"There is no approval request #{approval_id}.")
        if approval.state is not ApprovalState.PENDING:
            who = self._directory.name(approval.decided_by)
            raise Refused(f"That reply was already {approval.state.value} by {who}.")
        case = self._store.case(approval.case_id)
        if case.state is not CaseState.OPEN:
            raise Refused(f"Case #{case.id} is {case.state.value} now; nothing to approve.")
        return approval

    def approve(self, approval_id: int, lead_id: str, *, body: str | None = None) -> Reply:
        """Approve (optionally with the lead's edit): the reply goes to the outbox, signed by its
        agent, with the lead recorded as approver."""
        approval = self.pending(approval_id, lead_id)
        edited = body is not None and body.strip() != approval.body.strip()
        parts = self._checked_parts(approval, body) if body is not None and edited else None
        with self._store.transaction():  # approved and queued together, or neither
            if not self._store.decide_approval(
                approval_id, state=ApprovalState.APPROVED, by=lead_id, now=self._now()
            ):
                raise Refused("Another lead decided on that reply a moment ago.")
            if parts is not None:
                self._store.update_approval(approval_id, body=body, parts=parts)
            reply = self._queue(self._store.approval(approval_id), lead_id)
            self._store.update_approval(approval_id, reply_id=reply.id)
        self._audit(lead_id, "approval.approved", approval, reply_id=reply.id, edited=edited)
        self._board.show_approval(approval_id)
        self._board.refresh_card(approval.case_id)
        return reply

    def reject(self, approval_id: int, lead_id: str, *, note: str) -> Approval:
        """Send the reply back to its agent with the lead's note; nothing goes public."""
        approval = self.pending(approval_id, lead_id)
        if not note.strip():
            raise Refused("Say why, so the agent knows what to change.")
        if not self._store.decide_approval(
            approval_id, state=ApprovalState.REJECTED, by=lead_id, now=self._now(), note=note
        ):
            raise Refused("Another lead decided on that reply a moment ago.")
        self._audit(lead_id, "approval.rejected", approval, note=note)
        self._board.show_approval(approval_id)
        self._board.refresh_card(approval.case_id)
        lead = self._directory.name(lead_id)
        text = f"{lead} sent back your reply to case #{approval.case_id}: “{note.strip()}”"
        self._board.case_note(approval.case_id, text=f"<@{approval.agent_id}> {text}")
        return self._store.approval(approval_id)

    def _checked_parts(self, approval: Approval, body: str) -> tuple[str, ...]:
        agent = self._directory.agents.get(approval.agent_id)
        mention = self._store.mention(approval.mention_id)
        check = voice.check_answer(
            body,
            signature=self._directory.signature(agent, mention.brand) if agent else "",
            voice=self._directory.brand_of(mention.brand).voice,
            mention=mention,
        )
        if check.blocks:
            raise Refused(" ".join(check.blocks))
        return check.parts

    def _queue(self, approval: Approval, lead_id: str) -> Reply:
        case = self._store.case(approval.case_id)
        try:
            reply, _ = self._store.add_reply(
                key=f"approval:{approval.id}",
                case=case,
                mention=self._store.mention(approval.mention_id),
                agent_id=approval.agent_id,
                text=approval.parts,
                template=approval.template,
                now=self._now(),
                approved_by=lead_id,
            )
        except ReplyInFlightError as exc:
            raise Refused(f"A reply to case #{case.id} is already on its way ({exc}).") from None
        return reply

    def _audit(self, actor: str, action: str, approval: Approval, **detail: object) -> None:
        self._store.audit(
            actor=actor,
            action=action,
            now=self._now(),
            case_id=approval.case_id,
            approval=approval.id,
            agent=approval.agent_id,
            **detail,
        )

    def _now(self) -> datetime:
        return self._clock.now()
