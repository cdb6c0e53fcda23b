"""Leads steer routing: look, test, propose a change, see its dry-run, apply it, undo it.

Every change is first a proposal with a dry-run over the latest stored mentions (which would move
where, and why), then a new version of the whole rule list, with who, when and what changed.
Only leads may change rules; everyone may look and test. Refusals are audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.clock import Clock
from bot.decide.routing import Facts
from bot.decide.rules import Ruleset, RuleSpec, StaleRulesError, diff
from bot.desk.access import Access, Refused
from bot.live.library import Library, Reloaded
from bot.live.rulebook import RuleBook
from bot.models import Author, Mention, RouteDecision, Triage
from bot.storage.store import Store

TriageFn = Callable[[Mention], Triage]


@dataclass(frozen=True, slots=True)
class Move:
    """One stored mention whose routing the change would alter: where it goes, or what the rule
    does to it (tags, priority, who is notified, whether replies need approval)."""

    mention: Mention
    case_id: int
    before: RouteDecision
    after: RouteDecision

    @property
    def moves(self) -> bool:
        return self.before.channel != self.after.channel


@dataclass(frozen=True, slots=True)
class DryRun:
    proposal_id: int
    action: str
    summary: str
    changes: tuple[str, ...]  # rule-level diff lines
    moves: tuple[Move, ...]
    checked: int  # how many stored mentions were re-routed


@dataclass(frozen=True, slots=True)
class Version:
    ruleset: Ruleset
    changes: tuple[str, ...]


class Steering:
    def __init__(
        self,
        *,
        store: Store,
        rulebook: RuleBook,
        access: Access,
        clock: Clock,
        triage: TriageFn,
        dry_run_size: int = 200,
    ) -> None:
        self._store = store
        self._book = rulebook
        self._access = access
        self._clock = clock
        self._triage = triage
        self._size = dry_run_size

    # ---- looking (anyone) --------------------------------------------------------------------

    def learned_examples(self) -> int:
        """How many labelled examples learned routing is trained on."""
        return len(self._store.examples())

    def rules(self) -> Ruleset:
        return self._book.current()

    def test(self, text: str) -> RouteDecision:
        """Where a post with this text would go now, and why."""
        mention = Mention(id="test:0", network="x", text=text, author=Author(id=""))
        return self._book.router().route(self._facts(mention, self._clock.now()))

    def history(self, *, limit: int = 10) -> list[Version]:
        versions = self._store.rulesets(limit=limit + 1)
        out: list[Version] = []
        for newer, older in zip(versions, [*versions[1:], None], strict=False):
            changes = diff(older.rules, newer.rules) if older else ["rules from the config file"]
            out.append(Version(newer, tuple(changes)))
        return out[:limit]

    # ---- proposing (leads) -------------------------------------------------------------------

    def rule_to_edit(self, user: str, name: str) -> RuleSpec:
        """The rule a lead opens in the editor (refused for others, audited)."""
        self._lead(user, attempted=f"edit “{name}”")
        rules = self.rules().rules
        return rules[self._index(rules, name)]

    def propose_add(self, user: str, spec: RuleSpec, *, position: int | None = None) -> DryRun:
        self._lead(user, attempted=f"add “{spec.name}”")
        rules = list(self.rules().rules)
        if any(r.name == spec.name for r in rules):
            raise Refused(
                f"A rule called “{spec.name}” exists already; edit it or pick another name."
            )
        at = len(rules) if position is None else max(0, min(len(rules), position - 1))
        rules.insert(at, spec)
        return self._propose(user, rules, action="add", summary=f"add “{spec.name}” at {at + 1}")

    def propose_edit(self, user: str, name: str, spec: RuleSpec) -> DryRun:
        self._lead(user, attempted=f"edit “{name}”")
        rules = list(self.rules().rules)
        index = self._index(rules, name)
        if spec.name != name and any(r.name == spec.name for r in rules):
            raise Refused(f"A rule called “{spec.name}” exists already; pick another name.")
        rules[index] = spec
        return self._propose(user, rules, action="edit", summary=f"edit “{name}”")

    def propose_remove(self, user: str, name: str) -> DryRun:
        self._lead(user, attempted=f"remove “{name}”")
        rules = list(self.rules().rules)
        rules.pop(self._index(rules, name))
        return self._propose(user, rules, action="remove", summary=f"remove “{name}”")

    def propose_move(self, user: str, name: str, *, by: int) -> DryRun:
        self._lead(user, attempted=f"move “{name}”")
        rules = list(self.rules().rules)
        index = self._index(rules, name)
        target = max(0, min(len(rules) - 1, index + by))
        rules.insert(target, rules.pop(index))
        return self._propose(user, rules, action="move", summary=f"move “{name}” to {target + 1}")

    def propose_toggle(self, user: str, name: str) -> DryRun:
        self._lead(user, attempted=f"switch “{name}” on or off")
        rules = list(self.rules().rules)
        index = self._index(rules, name)
        rule = rules[index]
        rules[index] = replace(rule, enabled=not rule.enabled)
        verb = "enable" if not rule.enabled else "disable"
        return self._propose(user, rules, action=verb, summary=f"{verb} “{name}”")

    def _propose(
        self, user: str, rules: Sequence[RuleSpec], *, action: str, summary: str
    ) -> DryRun:
        current = self.rules()
        proposal_id = self._store.add_proposal(
            rules,
            actor=user,
            base_version=current.version,
            action=action,
            summary=summary,
            now=self._clock.now(),
        )
        moves, checked = self.dry_run(rules)
        changes = tuple(diff(current.rules, rules))
        return DryRun(proposal_id, action, summary, changes, tuple(moves), checked)

    def dry_run(self, rules: Sequence[RuleSpec]) -> tuple[list[Move], int]:
        """Re-route the latest stored mentions with the current rules and with ``rules``."""
        before, after = self._book.router(), self._book.router_for(rules)
        mentions = self._store.recent_mentions(self._size)
        moves = []
        for mention, case_id in mentions:
            facts = self._facts(mention, mention.created_at or self._clock.now())
            old, new = before.route(facts), after.route(facts)
            if _outcome(old) != _outcome(new):
                moves.append(Move(mention, case_id, old, new))
        return moves, len(mentions)

    # ---- applying (leads) --------------------------------------------------------------------

    def apply(self, user: str, proposal_id: int) -> Ruleset:
        proposal = self._store.find_proposal(proposal_id)
        if proposal is None:
            raise Refused("That change is not known (any more). Look at `/mentions route` again.")
        self._lead(user, attempted=f"apply: {proposal.summary}")
        return self._save(
            user,
            proposal.rules,
            action=proposal.action,
            summary=proposal.summary,
            base=proposal.base_version,
        )

    def propose_undo(self, user: str, *, version: int | None = None) -> DryRun:
        """Undo the latest change, shown as a dry-run like any other change. ``version``: the
        version the lead was looking at; if someone saved a newer one since, it is refused."""
        self._lead(user, attempted="undo")
        latest, *rest = self._store.rulesets(limit=2)
        if version is not None and version != latest.version:
            raise Refused(
                f"The rules changed since you looked (now version {latest.version}). "
                "Look at `/mentions route history` first."
            )
        if not rest:
            raise Refused("There is no change to undo: these are the rules from the config file.")
        summary = f"undo v{latest.version} ({latest.summary})"
        return self._propose(user, rest[0].rules, action="undo", summary=summary)

    def undo(self, user: str) -> Ruleset:
        """Undo the latest change at once (a new version); the Slack path shows a dry-run."""
        run = self.propose_undo(user)
        return self.apply(user, run.proposal_id)

    def _save(
        self, user: str, rules: Sequence[RuleSpec], *, action: str, summary: str, base: int
    ) -> Ruleset:
        try:
            saved = self._store.save_ruleset(
                rules,
                fallback=self._book.fallback,
                actor=user,
                action=action,
                summary=summary,
                now=self._clock.now(),
                base_version=base,
            )
        except StaleRulesError as exc:
            raise Refused(
                f"Not saved: {exc}. Look at `/mentions route` again and redo the change."
            ) from None
        self._store.audit(
            actor=user,
            action="routing.changed",
            now=self._clock.now(),
            version=saved.version,
            summary=summary,
        )
        return saved

    # ---- helpers -----------------------------------------------------------------------------

    def require_lead(self, user: str, *, attempted: str, action: str = "change routing") -> None:
        """Refuse (and audit) anyone who is not a lead: the one gate for what only leads do."""
        self._lead(user, attempted=attempted, action=action)

    def reload_playbooks(self, user: str, library: Library) -> Reloaded:
        """A lead asks for edited playbook files now (they are also picked up on their own)."""
        self._lead(user, attempted="reload the playbooks", action="reload the playbooks")
        result = library.reload()
        self._store.audit(
            actor=user,
            action="playbooks.reloaded" if result.ok else "playbooks.refused",
            now=self._clock.now(),
            templates=result.templates,
            problems=len(result.problems),
        )
        return result

    def _lead(self, user: str, *, attempted: str, action: str = "change routing") -> None:
        verdict = self._access.may_steer(user, action=action)
        if not verdict.allowed:
            self._store.audit(
                actor=user,
                action="refused",
                now=self._clock.now(),
                attempted=attempted,
                reason="not a lead",
            )
            raise Refused(verdict.reason)

    def _index(self, rules: Sequence[RuleSpec], name: str) -> int:
        for index, rule in enumerate(rules):
            if rule.name == name:
                return index
        raise Refused(f"There is no rule called “{name}” (any more). Look at `/mentions route`.")

    def _facts(self, mention: Mention, now: datetime) -> Facts:
        tags = self._store.customer_tags(mention.network, mention.author.handle)
        return Facts.of(mention, self._triage(mention), customer_tags=tags, now=now)


def _outcome(decision: RouteDecision) -> tuple[object, ...]:
    """What a routing decision does to a case, for comparing two rule sets."""
    return (
        decision.channel,
        decision.rule,
        decision.tags,
        decision.priority,
        decision.notify,
        decision.require_approval,
    )
