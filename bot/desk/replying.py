"""Replying on a case: draft (from a template), preview exactly what goes public, confirm into
the outbox (or ask a lead to approve), send, retry. A reply goes public only through ``confirm``
and the outbox; the medium (each network's rules, X's reply restriction) is decided here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.decide import voice
from bot.decide.playbooks import placeholder_values, render
from bot.desk.access import Refused
from bot.desk.base import DeskBase
from bot.live.library import Library
from bot.models import (
    Agent,
    Approval,
    Case,
    Mention,
    OutboxState,
    Reply,
)
from bot.storage.outbox_rows import ReplyInFlightError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Draft:
    case: Case
    mention: Mention
    agent: Agent
    body: str
    template: str | None
    slots: tuple[str, ...] = ()  # fields the agent fills in ({order_id?} -> "order_id")
    approval: str = ""  # why a lead must approve the reply first, or ""
    medium: voice.Medium = voice.X  # the network's rules for this reply


@dataclass(frozen=True, slots=True)
class Preview:
    public_text: str
    length: int  # of the longest part
    problems: tuple[str, ...]  # each stops the reply
    answering: Mention | None = None  # the customer post the reply will answer
    medium: voice.Medium = voice.X  # where and how it goes out: network, limit, audience
    parts: tuple[str, ...] = ()  # one post, or a numbered thread
    warnings: tuple[str, ...] = ()  # shown; the agent decides
    approval: str = ""  # why a lead must approve it first, or ""

    @property
    def by_hand(self) -> bool:
        """Ready to go, but the network takes it only from the brand's own session (X's reply
        restriction): the agent posts it there, then marks the case answered."""
        blocked = self.medium.blocked
        return bool(blocked) and self.answering is not None and self.problems == (blocked,)


class Replying(DeskBase):
    def draft(self, case_id: int, user_id: str, *, template_id: str | None) -> Draft:
        """Start a reply: lock the case to this agent and fill in the chosen template."""
        agent = self.agent(user_id, action="reply to customers")
        case = self._open_case(case_id)
        self._ensure_no_approval_pending(case)
        if self._claim(case, agent):
            self._board.refresh_card(case_id)
        mention = self._store.latest_from_customer(case_id)
        agent = replace(agent, signature=self._directory.signature(agent, mention.brand))
        template = self._directory.library.get(template_id, case.lang)
        body = self._body(template.id, mention, agent) if template else ""
        return Draft(
            case=case,
            mention=mention,
            agent=agent,
            body=body,
            template=template.id if template else None,
            slots=template.slots if template else (),
            approval=self._approval_reason(case, user_id),
            medium=self._medium(mention),
        )

    def _body(self, template_id: str, mention: Mention, agent: Agent) -> str:
        """A template in the mention's language, filled in for this customer and agent."""
        template = self._directory.library.get(template_id, mention.lang or "")
        if template is None:
            return ""
        values = placeholder_values(
            mention,
            brand=self._directory.brand_of(mention.brand).name,
            agent=agent.first_name,
            link=template.link,
        )
        return render(template.text, values)

    def signature(self, user_id: str, *, case_id: int) -> str:
        """How this agent signs a reply on this case: the case's brand sets the format."""
        agent = self.agent(user_id, action="reply to customers")
        mention = self._store.latest_from_customer(case_id)
        return self._directory.signature(agent, mention.brand)

    def preview(self, user_id: str, body: str, *, case_id: int | None = None) -> Preview:
        """Exactly what would go public (signed, split into a thread if long), its X length,
        what stops it, what to look at again, and whether a lead must approve it first."""
        agent = self.agent(user_id, action="reply to customers")
        mention = self._store.latest_from_customer(case_id) if case_id is not None else None
        check = self._check(body, agent=agent, mention=mention)
        case = self._store.find_case(case_id) if case_id is not None else None
        medium = self._medium(mention)
        return Preview(
            public_text="\n\n".join(check.parts),
            length=max((medium.length(p) for p in check.parts), default=0),
            medium=medium,
            problems=check.blocks,
            answering=mention,
            parts=check.parts,
            warnings=check.warnings,
            approval=self._approval_reason(case, user_id) if case else "",
        )

    def _check(self, body: str, *, agent: Agent, mention: Mention | None) -> voice.Check:
        brand = mention.brand if mention else None
        return voice.check_answer(
            body,
            signature=self._directory.signature(agent, brand),
            voice=self._directory.brand_of(brand).voice,
            mention=mention,
            medium=self._medium(mention),
        )

    def _medium(self, mention: Mention | None) -> voice.Medium:
        """The network's rules for a reply to ``mention`` (X's when there is none), and whether
        it takes one by API at all (X's reply restriction)."""
        if mention is None:
            return voice.X
        medium = self._outbox.medium(mention)
        blocked = self._directory.api_reply_blocked(mention)
        return replace(medium, blocked=blocked) if blocked else medium

    def medium(self, case_id: int) -> voice.Medium:
        """The rules a reply on this case must fit, for the reply form's meter."""
        return self._medium(self._store.latest_from_customer(case_id))

    def confirm(
        self,
        *,
        key: str,
        case_id: int,
        user_id: str,
        body: str,
        template: str | None,
        answering: str | None = None,
    ) -> Reply | Approval:
        """The agent confirmed the preview: write the reply to the outbox (not yet sent), or,
        when a lead must approve it first, ask the leads.

        The same confirmation arriving twice (a double click, a retried delivery) returns the
        same reply; a second reply while one is still on its way is refused.
        """
        agent = self.agent(user_id, action="reply to customers")  # first: refusals tell nothing
        if (existing := self._store.reply_by_key(key)) is not None:
            return existing
        case = self._open_case(case_id)
        self._ensure_not_locked(case, user_id)
        mention = self._store.latest_from_customer(case_id)
        if answering is not None and mention.id != answering:
            raise Refused(
                f"@{mention.author.handle} wrote again after you opened this preview "
                f"(“{_mrkdwn_safe(mention.text[:80])}”). Look at the card, then start the reply "
                "again."
            )
        check = self._check(body, agent=agent, mention=mention)
        if check.blocks:
            self._audit(user_id, "reply.blocked", case_id, reasons=list(check.blocks))
            raise Refused(" ".join(check.blocks))
        if reason := self._approval_reason(case, user_id):
            return self._approvals.request(
                key=key,
                case=case,
                mention=mention,
                agent_id=user_id,
                body=body,
                template=template,
                parts=check.parts,
                reason=reason,
            )
        return self._queue(
            key=key, draft=Draft(case, mention, agent, body, template), parts=check.parts
        )

    def _queue(self, *, key: str, draft: Draft, parts: Sequence[str]) -> Reply:
        case, agent = draft.case, draft.agent
        try:
            reply, created = self._store.add_reply(
                key=key,
                case=case,
                mention=draft.mention,
                agent_id=agent.slack_id,
                text=parts,
                template=draft.template,
                now=self._now(),
            )
        except ReplyInFlightError as exc:
            raise Refused(f"A reply to case #{case.id} is already on its way ({exc}).") from None
        if created:
            detail = {"reply_id": reply.id, "template": draft.template, "parts": len(parts)}
            self._audit(agent.slack_id, "reply.confirmed", case.id, **detail)
            self._board.refresh_card(case.id)  # "Sending…": nobody starts a second reply
        return reply

    def send(self, reply_id: int) -> Reply:
        """Send now, in this thread; tell the agent if it did not go out."""
        reply = self._outbox.deliver(reply_id)
        self._tell_if_stuck(reply)
        return reply

    def send_soon(self, reply_id: int) -> None:
        """Send on the outbox worker, so a Slack listener is never held up by X."""
        self._sender.submit(self._send_logged, reply_id)

    def _send_logged(self, reply_id: int) -> None:
        try:
            self.send(reply_id)
        except Exception:  # a worker thread: nobody else would ever see this
            log.exception("sending reply %s failed; the outbox sweep will pick it up", reply_id)

    def _tell_if_stuck(self, reply: Reply) -> None:
        if reply.state is OutboxState.CANCELLED:
            hint = "Look at the case again before answering."
        elif reply.state is OutboxState.FAILED:
            hint = "Use Retry on the card once the cause is fixed."
        elif reply.state is OutboxState.PENDING and reply.error:
            hint = "Earshot will try again shortly."
        elif reply.state is OutboxState.SENDING and reply.error:  # it may be public already
            hint = "Earshot is checking whether it went out, and will not post it twice."
        else:
            return
        case = self._store.case(reply.case_id)
        note = f"Your reply to case #{case.id} is not public yet: {reply.error}. {hint}"
        self._board.tell(user=reply.agent_id, channel=case.channel_id, text=note)

    def retry(self, reply_id: int, user_id: str) -> Reply:
        """Try a failed reply again: only the case's latest reply, on an open case."""
        self.agent(user_id, action="retry replies")
        reply = self._store.find_reply(reply_id)
        if reply is None:
            raise Refused(f"There is no reply #{reply_id} to retry.")
        case = self._open_case(reply.case_id)
        self._ensure_not_locked(case, user_id)
        latest = self._store.latest_reply(case.id)
        if latest is None or latest.id != reply.id or reply.state is not OutboxState.FAILED:
            raise Refused(f"That reply to case #{case.id} is not the one to retry any more.")
        self._audit(user_id, "reply.retry", case.id, reply_id=reply_id)
        return self.send(self._outbox.requeue(reply_id).id)


def _mrkdwn_safe(text: str) -> str:
    """Customer text inside a refusal (shown as Slack mrkdwn): no pings, no hidden links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def has_slots(library: Library, template_id: str) -> bool:
    template = library.get(template_id)
    return template is None or bool(template.slots)
