"""What agents do with cases: claim, dismiss, reopen, draft, preview, confirm and send a reply.

Every action checks who is asking. Only configured agents act; a case claimed by one agent is
locked for the others. A reply goes public only through ``confirm`` (after a preview) and the
outbox. Refusals raise ``Refused`` with a message meant for the person, and are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import voice
from bot.clock import Clock
from bot.directory import Directory
from bot.models import Agent, Case, CaseState, Mention, Reply
from bot.outbox import Outbox
from bot.playbooks import placeholder_values, render
from bot.slack import Board
from bot.store import Store


class Refused(Exception):
    """This person may not do this now. The message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class Draft:
    case: Case
    mention: Mention
    agent: Agent
    body: str
    template: str | None


@dataclass(frozen=True, slots=True)
class Preview:
    public_text: str
    length: int
    problems: tuple[str, ...]


class Desk:
    def __init__(
        self, *, store: Store, directory: Directory, outbox: Outbox, board: Board, clock: Clock
    ) -> None:
        self._store = store
        self._directory = directory
        self._outbox = outbox
        self._board = board
        self._clock = clock

    # ---- who ---------------------------------------------------------------------------------

    def agent(self, user_id: str, *, action: str) -> Agent:
        agent = self._directory.agents.get(user_id)
        if agent is None:
            self._audit(user_id, "refused", None, attempted=action, reason="not an agent")
            raise Refused(
                f"Only agents configured for {self._directory.brand.name} can {action}. "
                f"Ask a lead to add your Slack ID {user_id} under [[agents]] in the Earshot config."
            )
        return agent

    # ---- case actions ------------------------------------------------------------------------

    def claim(self, case_id: int, user_id: str) -> Case:
        agent = self.agent(user_id, action="claim cases")
        self._claim(self._open_case(case_id), agent)
        self._audit(user_id, "case.claimed", case_id)
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    def dismiss(self, case_id: int, user_id: str) -> Case:
        self.agent(user_id, action="dismiss cases")
        case = self._open_case(case_id)
        self._ensure_not_locked(case, user_id)
        if not self._store.close_case(
            case_id, state=CaseState.DISMISSED, by=user_id, now=self._now()
        ):
            raise Refused(f"Case #{case_id} changed meanwhile; look at its card again.")
        self._audit(user_id, "case.dismissed", case_id)
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    def reopen(self, case_id: int, user_id: str) -> Case:
        self.agent(user_id, action="reopen cases")
        if not self._store.reopen_case(case_id, now=self._now()):
            raise Refused(f"Case #{case_id} is not dismissed, so there is nothing to reopen.")
        self._audit(user_id, "case.reopened", case_id)
        self._board.refresh_card(case_id)
        return self._store.case(case_id)

    # ---- replying ----------------------------------------------------------------------------

    def draft(self, case_id: int, user_id: str, template_id: str | None) -> Draft:
        """Start a reply: lock the case to this agent and fill in the chosen template."""
        agent = self.agent(user_id, action="reply to customers")
        case = self._open_case(case_id)
        if self._claim(case, agent):
            self._board.refresh_card(case_id)
        mention = self._store.mention(case.mention_id)
        template = self._directory.templates.get(template_id or "")
        values = placeholder_values(
            mention, brand=self._directory.brand.name, agent=agent.first_name
        )
        body = render(template.text, values) if template else ""
        return Draft(case, mention, agent, body, template.id if template else None)

    def preview(self, user_id: str, body: str) -> Preview:
        agent = self.agent(user_id, action="reply to customers")
        public = voice.sign(body, agent.signature)
        problems = voice.reply_problems(body, agent.signature)
        return Preview(public, voice.weighted_length(public), tuple(problems))

    def confirm(
        self, *, key: str, case_id: int, user_id: str, body: str, template: str | None
    ) -> Reply:
        """The agent confirmed the preview: write the reply to the outbox (not yet sent)."""
        preview = self.preview(user_id, body)
        if preview.problems:
            raise Refused(" ".join(preview.problems))
        case = self._open_case(case_id)
        self._ensure_not_locked(case, user_id)
        mention = self._store.mention(case.mention_id)
        reply, created = self._store.add_reply(
            key=key,
            case=case,
            mention=mention,
            agent_id=user_id,
            text=preview.public_text,
            template=template,
            now=self._now(),
        )
        if created:
            self._audit(user_id, "reply.confirmed", case_id, reply_id=reply.id, template=template)
        return reply

    def send(self, reply_id: int) -> Reply:
        return self._outbox.deliver(reply_id)

    def retry(self, reply_id: int, user_id: str) -> Reply:
        self.agent(user_id, action="retry replies")
        self._audit(user_id, "reply.retry", self._store.reply(reply_id).case_id, reply_id=reply_id)
        return self._outbox.retry(reply_id)

    def queue(self) -> list[tuple[Case, Mention]]:
        return [(c, self._store.mention(c.mention_id)) for c in self._store.open_cases()]

    # ---- helpers -----------------------------------------------------------------------------

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
        return case

    def _ensure_not_locked(self, case: Case, user_id: str) -> None:
        if case.claimed_by and case.claimed_by != user_id:
            who = self._directory.name(case.claimed_by)
            self._audit(user_id, "refused", case.id, reason=f"claimed by {case.claimed_by}")
            raise Refused(f"{who} is already on case #{case.id}. Ask them before stepping in.")

    def _claim(self, case: Case, agent: Agent) -> bool:
        """Lock the case to ``agent``; True if it was not theirs before."""
        self._ensure_not_locked(case, agent.slack_id)
        if case.claimed_by == agent.slack_id:
            return False
        if not self._store.claim(case.id, agent.slack_id, now=self._now()):
            fresh = self._store.case(case.id)
            self._ensure_not_locked(fresh, agent.slack_id)
            raise Refused(f"Case #{case.id} changed meanwhile; look at its card again.")
        return True

    def _audit(self, actor: str, action: str, case_id: int | None, **detail: object) -> None:
        self._store.audit(actor=actor, action=action, now=self._now(), case_id=case_id, **detail)

    def _now(self) -> datetime:
        return self._clock.now()
