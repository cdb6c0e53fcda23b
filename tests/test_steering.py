"""bot/steering.py, bot/rulebook.py, bot/access.py: leads look, propose, dry-run, apply and undo."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import make_mention

from bot.clock import ManualClock
from bot.config.settings import Leads
from bot.decide.routing import Clock as RoutingClock
from bot.decide.rules import RuleSpec
from bot.decide.triage import triage
from bot.desk.access import Access, Refused
from bot.desk.steering import DryRun, Steering
from bot.live.rulebook import RuleBook
from bot.models import Agent, Mention, RouteDecision
from bot.storage.store import Store

LEAD = "U0LEAD"
GROUP_LEAD = "U0GROUPLEAD"
AGENT = "U0AGENT"
STRANGER = "U0STRANGER"
GROUP = "S0LEADS"

BAGGAGE = RuleSpec("baggage", "#care-baggage", keywords=("suitcase",))
REFUNDS = RuleSpec("refunds", "#care-refunds", keywords=("refund",))
SEED = (BAGGAGE, REFUNDS)

# The stored mentions every dry-run looks at, and where the seed rules send them.
POSTS = {
    "x:1": "my suitcase never arrived in Porto",  # baggage
    "x:2": "I want a refund for the cancelled trip",  # refunds
    "x:3": "the cabin crew were lovely today",  # fallback
    "x:4": "refund for my damaged suitcase please",  # baggage (first match), refunds too
}


@dataclass
class Guess:
    channel: str
    confidence: float
    why: str


@dataclass
class FakeLearner:
    channel: str

    def predict(self, text: str) -> Guess | None:
        return Guess(self.channel, 0.9, f"learned from examples like {text[:10]!r}")

    def best_guess(self, text: str) -> Guess | None:
        return self.predict(text)


@dataclass
class FakeTrainer:
    seen: list[list[tuple[str, str]]] = field(default_factory=list)

    def __call__(self, examples: Sequence[tuple[str, str]]) -> FakeLearner:
        self.seen.append(list(examples))
        return FakeLearner(examples[-1][1])


@dataclass
class World:
    store: Store
    clock: ManualClock
    book: RuleBook
    steering: Steering
    group_lookups: list[str]

    def remember(self, mention_id: str, text: str, *, when: datetime | None = None) -> Mention:
        """A stored mention that became a case (what dry-runs re-route)."""
        network, native_id = mention_id.split(":", 1)
        mention = make_mention(
            text,
            native_id=native_id,
            network=network,
            author_id="a" + mention_id,
            handle="cust" + native_id,
            created=when or self.clock.now(),
            lang="en",
        )
        self.store.save_mentions([mention], received_at=self.clock.now(), cursors={})
        self.store.open_case(
            mention,
            triage=triage(mention),
            decision=RouteDecision("#general", None, "stored for the test"),
            suggestions=[],
            now=self.clock.now(),
        )
        return mention

    def audits(self, action: str) -> list[dict[str, Any]]:
        return [row for row in self.store.audit_log() if row["action"] == action]


def make_world(tmp_path: Path, *, trainer: Any = None, dry_run_size: int = 50) -> World:
    store = Store(tmp_path / "e.db")
    clock = ManualClock()
    book = RuleBook(
        store=store,
        clock=clock,
        fallback="#general",
        routing_clock=RoutingClock(),
        trainer=trainer,
    )
    lookups: list[str] = []

    def members(group: str) -> frozenset[str]:
        lookups.append(group)
        return frozenset({GROUP_LEAD}) if group == GROUP else frozenset()

    access = Access(
        agents={AGENT: Agent(AGENT, "Ana Agent", "^AA")},
        leads=Leads(users=(LEAD,), usergroup=GROUP),
        group_members=members,
    )
    steering = Steering(
        store=store,
        rulebook=book,
        access=access,
        clock=clock,
        triage=triage,
        dry_run_size=dry_run_size,
    )
    return World(store, clock, book, steering, lookups)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    w.book.seed(SEED)
    for mention_id, text in POSTS.items():
        w.remember(mention_id, text)
    yield w
    w.store.close()


def moved(run: DryRun) -> dict[str, tuple[str, str]]:
    return {m.mention.id: (m.before.channel, m.after.channel) for m in run.moves}


# ---- seeding and the rule book -----------------------------------------------------------------


def test_seed_creates_version_one_from_the_config(world: World) -> None:
    ruleset = world.steering.rules()
    assert (ruleset.version, ruleset.rules, ruleset.fallback) == (1, SEED, "#general")
    assert (ruleset.actor, ruleset.action) == ("config", "seed")


def test_a_second_seed_keeps_the_stored_rules(world: World) -> None:
    other = (RuleSpec("other", "#other", keywords=("seat",)),)
    again = world.book.seed(other)
    assert (again.version, again.rules) == (1, SEED)
    assert len(world.store.rulesets()) == 1


def test_a_seed_after_a_lead_changed_rules_keeps_the_lead_s_rules(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    world.steering.apply(LEAD, run.proposal_id)
    assert world.book.seed(SEED).rules == (REFUNDS,)


def test_the_rule_book_has_no_rules_before_the_seed(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    with pytest.raises(LookupError, match="seed"):
        w.book.current()
    w.store.close()


def test_router_is_compiled_once_per_version(world: World) -> None:
    first = world.book.router()
    assert world.book.router() is first
    run = world.steering.propose_remove(LEAD, "baggage")
    assert world.book.router() is first  # a proposal is not a new version
    world.steering.apply(LEAD, run.proposal_id)
    second = world.book.router()
    assert second is not first
    assert world.book.router() is second
    assert [rule.spec.name for rule in second.rules] == ["refunds"]


def test_relearn_without_a_trainer_learns_nothing(world: World) -> None:
    assert world.book.relearn() == 0
    assert world.book.router().learned is None


def test_relearn_swaps_in_the_trained_learner(tmp_path: Path) -> None:
    trainer = FakeTrainer()
    w = make_world(tmp_path, trainer=trainer)
    w.book.seed(SEED)
    before = w.book.router()
    examples = [("the vegetarian meal was missing", "#care-meals")]
    w.store.add_examples(examples, source="taught", actor=LEAD, now=w.clock.now())

    assert w.book.relearn() == 1
    assert trainer.seen == [examples]
    after = w.book.router()
    assert after is not before
    assert after.learned == FakeLearner("#care-meals")
    decision = w.steering.test("no meal on board at all")
    assert (decision.channel, decision.via) == ("#care-meals", "learned")
    w.store.close()


def test_learned_routing_does_not_override_a_rule(tmp_path: Path) -> None:
    w = make_world(tmp_path, trainer=FakeTrainer())
    w.book.seed(SEED)
    w.store.add_examples([("meal", "#care-meals")], source="taught", actor=LEAD, now=w.clock.now())
    w.book.relearn()
    decision = w.steering.test("refund the meal")
    assert (decision.channel, decision.via) == ("#care-refunds", "rule")
    w.store.close()


# ---- looking and testing (anyone) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "channel", "rule"),
    [
        ("where is my suitcase", "#care-baggage", "baggage"),
        ("please refund me", "#care-refunds", "refunds"),
        ("what a smooth landing", "#general", None),
    ],
)
def test_test_routes_a_free_text_with_the_current_rules(
    world: World, text: str, channel: str, rule: str | None
) -> None:
    decision = world.steering.test(text)
    assert (decision.channel, decision.rule) == (channel, rule)


def test_test_follows_an_applied_change(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    assert world.steering.test("where is my suitcase").rule == "baggage"
    world.steering.apply(LEAD, run.proposal_id)
    assert world.steering.test("where is my suitcase").channel == "#general"


def test_anyone_may_look_and_test(world: World) -> None:
    assert world.steering.rules().version == 1
    assert world.steering.test("refund").rule == "refunds"
    assert len(world.steering.history()) == 1
    assert world.audits("refused") == []


# ---- proposals and their dry-runs --------------------------------------------------------------


def test_propose_remove_lists_exactly_the_mentions_that_would_move(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    assert moved(run) == {
        "x:1": ("#care-baggage", "#general"),
        "x:4": ("#care-baggage", "#care-refunds"),
    }
    assert run.checked == 4
    assert (run.action, run.summary) == ("remove", "remove “baggage”")
    assert run.changes == ("− removed “baggage” (was 1)",)


def test_a_move_carries_the_before_and_after_decisions(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    move = next(m for m in run.moves if m.mention.id == "x:4")
    assert (move.before.rule, move.after.rule) == ("baggage", "refunds")
    assert move.mention.text == POSTS["x:4"]
    assert "refund" in move.after.why


def test_propose_add_at_the_end_moves_only_what_nothing_else_caught(world: World) -> None:
    crew = RuleSpec("crew", "#care-praise", keywords=("crew",))
    run = world.steering.propose_add(LEAD, crew)
    assert moved(run) == {"x:3": ("#general", "#care-praise")}
    assert (run.action, run.summary) == ("add", "add “crew” at 3")
    assert run.changes == ("+ added “crew” at 3",)


def test_propose_add_on_top_takes_over_from_lower_rules(world: World) -> None:
    money = RuleSpec("money", "#care-money", keywords=("refund",))
    run = world.steering.propose_add(LEAD, money, position=1)
    assert moved(run) == {
        "x:2": ("#care-refunds", "#care-money"),
        "x:4": ("#care-baggage", "#care-money"),
    }
    assert run.summary == "add “money” at 1"


@pytest.mark.parametrize(("position", "at"), [(0, 1), (2, 2), (99, 3), (None, 3)])
def test_propose_add_clamps_the_position(world: World, position: int | None, at: int) -> None:
    spec = RuleSpec("seats", "#care-seats", keywords=("seat",))
    run = world.steering.propose_add(LEAD, spec, position=position)
    world.steering.apply(LEAD, run.proposal_id)
    names = [r.name for r in world.steering.rules().rules]
    assert names.index("seats") == at - 1


def test_propose_edit_moves_only_mentions_whose_route_changes(world: World) -> None:
    edited = replace(REFUNDS, keywords=("refund", "crew"))
    run = world.steering.propose_edit(LEAD, "refunds", edited)
    assert moved(run) == {"x:3": ("#general", "#care-refunds")}
    assert run.changes == ("~ edited “refunds”: keywords",)


def test_propose_edit_of_the_channel_moves_the_rule_s_mentions(world: World) -> None:
    edited = replace(REFUNDS, channel="#care-money")
    run = world.steering.propose_edit(LEAD, "refunds", edited)
    assert moved(run) == {"x:2": ("#care-refunds", "#care-money")}


def test_a_dry_run_shows_changes_that_move_nothing(world: World) -> None:
    """Regression: an edit adding tags or approval showed "none would go elsewhere"."""
    run = world.steering.propose_edit(LEAD, "refunds", replace(REFUNDS, tags=("money",)))
    assert run.checked == 4
    assert run.changes == ("~ edited “refunds”: tags",)
    assert [m.mention.id for m in run.moves] == ["x:2"]  # the refund mention: same channel, new tag
    assert not run.moves[0].moves and run.moves[0].after.tags == ("money",)


def test_an_edit_that_changes_nothing_a_mention_gets_lists_nothing(world: World) -> None:
    run = world.steering.propose_edit(LEAD, "refunds", replace(REFUNDS, fuzzy=False))
    assert run.moves == ()


def test_propose_edit_may_rename_a_rule(world: World) -> None:
    run = world.steering.propose_edit(LEAD, "refunds", replace(REFUNDS, name="money back"))
    world.steering.apply(LEAD, run.proposal_id)
    assert [r.name for r in world.steering.rules().rules] == ["baggage", "money back"]


def test_a_rename_moves_the_mentions_because_the_rule_changes(world: World) -> None:
    run = world.steering.propose_edit(LEAD, "refunds", replace(REFUNDS, name="money back"))
    assert set(moved(run)) == {"x:2"}
    [move] = run.moves
    assert (move.before.rule, move.after.rule) == ("refunds", "money back")


def test_propose_move_up_lets_the_rule_win_first(world: World) -> None:
    run = world.steering.propose_move(LEAD, "refunds", by=-1)
    assert moved(run) == {"x:4": ("#care-baggage", "#care-refunds")}
    assert (run.action, run.summary) == ("move", "move “refunds” to 1")
    assert set(run.changes) == {"↕ moved “refunds” 2 → 1", "↕ moved “baggage” 1 → 2"}


@pytest.mark.parametrize(("name", "by"), [("baggage", -1), ("refunds", 1), ("refunds", 5)])
def test_propose_move_past_the_ends_changes_nothing(world: World, name: str, by: int) -> None:
    run = world.steering.propose_move(LEAD, name, by=by)
    assert (run.moves, run.changes) == ((), ())


def test_propose_toggle_disables_then_enables(world: World) -> None:
    off = world.steering.propose_toggle(LEAD, "baggage")
    assert (off.action, off.summary) == ("disable", "disable “baggage”")
    assert set(moved(off)) == {"x:1", "x:4"}
    world.steering.apply(LEAD, off.proposal_id)
    assert world.steering.rules().rules[0].enabled is False

    on = world.steering.propose_toggle(LEAD, "baggage")
    assert (on.action, on.summary) == ("enable", "enable “baggage”")
    assert moved(on) == {
        "x:1": ("#general", "#care-baggage"),
        "x:4": ("#care-refunds", "#care-baggage"),
    }


def test_dry_run_uses_stored_customer_tags(world: World) -> None:
    world.store.set_customer_tags("x", "cust3", ["vip"], actor=LEAD, now=world.clock.now())
    vip = RuleSpec("vip", "#care-vip", customer_tags=("vip",))
    run = world.steering.propose_add(LEAD, vip, position=1)
    assert moved(run) == {"x:3": ("#general", "#care-vip")}


def test_dry_run_judges_time_windows_at_each_mention_s_own_time(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    w.book.seed(SEED)
    w.remember(
        "x:10", "weekday complaint about the lounge", when=datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
    )
    w.remember(
        "x:11", "weekend complaint about the lounge", when=datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    )
    weekdays = RuleSpec("office", "#care-office", when="Mon-Fri 09:00-17:00")
    run = w.steering.propose_add(LEAD, weekdays)
    assert moved(run) == {"x:10": ("#general", "#care-office")}
    w.store.close()


def test_dry_run_looks_at_the_latest_stored_mentions_only(tmp_path: Path) -> None:
    w = make_world(tmp_path, dry_run_size=2)
    w.book.seed(SEED)
    for mention_id, text in POSTS.items():
        w.remember(mention_id, text)
    run = w.steering.propose_remove(LEAD, "baggage")
    assert run.checked == 2
    assert moved(run) == {"x:4": ("#care-baggage", "#care-refunds")}  # x:1 is too old
    w.store.close()


def test_dry_run_with_no_stored_mentions_checks_nothing(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    w.book.seed(SEED)
    run = w.steering.propose_remove(LEAD, "baggage")
    assert (run.moves, run.checked) == ((), 0)
    w.store.close()


@pytest.mark.parametrize(
    "propose",
    [
        lambda s: s.propose_add(LEAD, RuleSpec("seats", "#s", keywords=("seat",))),
        lambda s: s.propose_edit(LEAD, "refunds", replace(REFUNDS, channel="#m")),
        lambda s: s.propose_remove(LEAD, "baggage"),
        lambda s: s.propose_move(LEAD, "refunds", by=-1),
        lambda s: s.propose_toggle(LEAD, "baggage"),
    ],
)
def test_nothing_is_saved_until_apply(world: World, propose: Callable[[Steering], DryRun]) -> None:
    propose(world.steering)
    assert world.steering.rules().version == 1
    assert world.steering.rules().rules == SEED
    assert len(world.store.rulesets()) == 1
    assert world.audits("routing.changed") == []


# ---- applying ----------------------------------------------------------------------------------


def test_apply_saves_a_new_version_with_actor_and_summary(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    world.clock.advance(minutes=5)
    saved = world.steering.apply(LEAD, run.proposal_id)
    assert (saved.version, saved.rules) == (2, (REFUNDS,))
    assert (saved.actor, saved.action, saved.summary) == (LEAD, "remove", "remove “baggage”")
    assert saved.at == world.clock.now()
    assert world.steering.rules() == saved


def test_apply_is_audited_as_routing_changed(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    world.steering.apply(LEAD, run.proposal_id)
    [row] = world.audits("routing.changed")
    assert row["actor"] == LEAD
    assert row["detail"] == {"version": 2, "summary": "remove “baggage”"}


def test_a_stale_proposal_is_refused_with_a_clear_message(world: World) -> None:
    mine = world.steering.propose_remove(LEAD, "baggage")
    theirs = world.steering.propose_toggle(GROUP_LEAD, "refunds")
    world.steering.apply(GROUP_LEAD, theirs.proposal_id)
    with pytest.raises(Refused, match=r"changed meanwhile \(now version 2\).*redo the change"):
        world.steering.apply(LEAD, mine.proposal_id)
    assert world.steering.rules().version == 2
    assert world.steering.rules().rules == (BAGGAGE, replace(REFUNDS, enabled=False))


def test_the_same_proposal_cannot_be_applied_twice(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    world.steering.apply(LEAD, run.proposal_id)
    with pytest.raises(Refused, match="changed meanwhile"):
        world.steering.apply(LEAD, run.proposal_id)
    assert len(world.store.rulesets()) == 2
    assert len(world.audits("routing.changed")) == 1


def test_a_lead_may_apply_another_lead_s_proposal(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    assert world.steering.apply(GROUP_LEAD, run.proposal_id).actor == GROUP_LEAD


# ---- who may steer -----------------------------------------------------------------------------

CHANGES: list[tuple[str, Callable[[Steering, str], Any]]] = [
    ("add", lambda s, u: s.propose_add(u, RuleSpec("seats", "#s", keywords=("seat",)))),
    ("edit", lambda s, u: s.propose_edit(u, "refunds", replace(REFUNDS, channel="#m"))),
    ("remove", lambda s, u: s.propose_remove(u, "baggage")),
    ("move", lambda s, u: s.propose_move(u, "refunds", by=-1)),
    ("toggle", lambda s, u: s.propose_toggle(u, "baggage")),
    ("undo", lambda s, u: s.undo(u)),
    ("require_lead", lambda s, u: s.require_lead(u, attempted="open the rule editor")),
]


@pytest.mark.parametrize("user", [AGENT, STRANGER])
@pytest.mark.parametrize(("what", "change"), CHANGES, ids=[c[0] for c in CHANGES])
def test_non_leads_are_refused_every_change(
    world: World, user: str, what: str, change: Callable[[Steering, str], Any]
) -> None:
    with pytest.raises(Refused, match="Only leads can change routing"):
        change(world.steering, user)
    assert world.steering.rules().version == 1


@pytest.mark.parametrize(("what", "change"), CHANGES, ids=[c[0] for c in CHANGES])
def test_each_refusal_is_audited(
    world: World, what: str, change: Callable[[Steering, str], Any]
) -> None:
    with pytest.raises(Refused):
        change(world.steering, AGENT)
    [row] = world.audits("refused")
    assert row["actor"] == AGENT
    assert row["detail"]["reason"] == "not a lead"
    assert row["detail"]["attempted"]


def test_a_refused_proposal_stores_nothing(world: World) -> None:
    with pytest.raises(Refused):
        world.steering.propose_remove(AGENT, "baggage")
    assert world.store.count("proposals") == 0


def test_non_leads_may_not_apply_a_lead_s_proposal(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    with pytest.raises(Refused, match="Only leads"):
        world.steering.apply(AGENT, run.proposal_id)
    [row] = world.audits("refused")
    assert row["detail"]["attempted"] == "apply: remove “baggage”"
    assert world.steering.rules().version == 1


def test_the_refusal_says_how_to_become_a_lead(world: World) -> None:
    with pytest.raises(Refused) as refused:
        world.steering.require_lead(STRANGER, attempted="add a rule")
    message = str(refused.value)
    assert STRANGER in message
    assert "[leads] users" in message
    assert f"<!subteam^{GROUP}>" in message


@pytest.mark.parametrize("user", [LEAD, GROUP_LEAD])
def test_leads_by_id_or_by_user_group_may_steer(world: World, user: str) -> None:
    world.steering.require_lead(user, attempted="open the rule editor")
    run = world.steering.propose_remove(user, "baggage")
    assert world.steering.apply(user, run.proposal_id).actor == user
    assert world.audits("refused") == []


def test_the_user_group_is_not_looked_up_for_every_question(world: World) -> None:
    for _ in range(3):
        world.steering.require_lead(GROUP_LEAD, attempted="look")
    assert world.group_lookups == [GROUP]


def test_without_a_user_group_only_listed_users_are_leads() -> None:
    access = Access(
        agents={}, leads=Leads(users=(LEAD,)), group_members=lambda g: frozenset({GROUP_LEAD})
    )
    assert access.may_steer(LEAD).allowed
    verdict = access.may_steer(GROUP_LEAD)
    assert not verdict.allowed
    assert "subteam" not in verdict.reason


def test_agents_are_agents_but_not_leads() -> None:
    access = Access(agents={AGENT: Agent(AGENT, "Ana Agent", "^AA")}, leads=Leads(users=(LEAD,)))
    assert (access.is_agent(AGENT), access.is_lead(AGENT)) == (True, False)
    assert (access.is_agent(LEAD), access.is_lead(LEAD)) == (False, True)


# Regression (fixed): propose_* check the rule name before the lead check, so a non-lead's refusal
# for an unknown or duplicate name is not audited
@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.propose_remove(STRANGER, "no such rule"),
        lambda s: s.propose_add(STRANGER, replace(BAGGAGE, channel="#elsewhere")),
    ],
)
def test_a_non_lead_is_refused_as_a_non_lead_whatever_the_name(
    world: World, change: Callable[[Steering], Any]
) -> None:
    with pytest.raises(Refused, match="Only leads"):
        change(world.steering)
    assert len(world.audits("refused")) == 1


# ---- names -------------------------------------------------------------------------------------


def test_adding_a_rule_with_a_taken_name_is_refused(world: World) -> None:
    with pytest.raises(Refused, match="“refunds” exists already"):
        world.steering.propose_add(LEAD, RuleSpec("refunds", "#elsewhere", keywords=("money",)))
    assert world.store.count("proposals") == 0


def test_renaming_a_rule_to_a_taken_name_is_refused(world: World) -> None:
    with pytest.raises(Refused, match="“baggage” exists already"):
        world.steering.propose_edit(LEAD, "refunds", replace(REFUNDS, name="baggage"))
    assert world.store.count("proposals") == 0


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.propose_edit(LEAD, "meals", RuleSpec("meals", "#m", keywords=("meal",))),
        lambda s: s.propose_remove(LEAD, "meals"),
        lambda s: s.propose_move(LEAD, "meals", by=1),
        lambda s: s.propose_toggle(LEAD, "meals"),
    ],
)
def test_unknown_rule_names_are_refused(world: World, change: Callable[[Steering], Any]) -> None:
    with pytest.raises(Refused, match="no rule called “meals”"):
        change(world.steering)
    assert world.store.count("proposals") == 0


# ---- undo and history --------------------------------------------------------------------------


def test_undo_restores_the_previous_rules_as_a_new_version(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    world.steering.apply(LEAD, run.proposal_id)
    undone = world.steering.undo(GROUP_LEAD)
    assert (undone.version, undone.rules) == (3, SEED)
    assert (undone.actor, undone.action) == (GROUP_LEAD, "undo")
    assert undone.summary == "undo v2 (remove “baggage”)"
    assert [r["detail"]["version"] for r in world.audits("routing.changed")] == [2, 3]


def test_undo_with_only_the_seed_is_refused(world: World) -> None:
    with pytest.raises(Refused, match="no change to undo"):
        world.steering.undo(LEAD)
    assert len(world.store.rulesets()) == 1


def test_undo_twice_brings_the_change_back(world: World) -> None:
    run = world.steering.propose_remove(LEAD, "baggage")
    world.steering.apply(LEAD, run.proposal_id)
    world.steering.undo(LEAD)
    again = world.steering.undo(LEAD)
    assert (again.version, again.rules) == (4, (REFUNDS,))


def test_history_lists_versions_newest_first_with_diff_lines(world: World) -> None:
    first = world.steering.propose_remove(LEAD, "baggage")
    world.steering.apply(LEAD, first.proposal_id)
    second = world.steering.propose_add(LEAD, RuleSpec("seats", "#s", keywords=("seat",)))
    world.steering.apply(LEAD, second.proposal_id)

    history = world.steering.history()
    assert [v.ruleset.version for v in history] == [3, 2, 1]
    assert history[0].changes == ("+ added “seats” at 2",)
    assert history[1].changes == ("− removed “baggage” (was 1)",)
    assert history[2].changes == ("rules from the config file",)


def test_history_limit_keeps_the_newest_and_their_real_diffs(world: World) -> None:
    for name in ("seats", "meals", "wifi"):
        run = world.steering.propose_add(LEAD, RuleSpec(name, "#s", keywords=(name,)))
        world.steering.apply(LEAD, run.proposal_id)
    history = world.steering.history(limit=2)
    assert [v.ruleset.version for v in history] == [4, 3]
    assert history[1].changes == ("+ added “meals” at 4",)


def test_undo_refuses_when_the_rules_changed_since_the_lead_looked(world: World) -> None:
    run = world.steering.propose_toggle(LEAD, "refunds")
    world.steering.apply(LEAD, run.proposal_id)
    latest = world.steering.rules().version
    with pytest.raises(Refused, match="changed since you looked"):
        world.steering.propose_undo(LEAD, version=latest - 1)
    assert world.steering.propose_undo(LEAD, version=latest).action == "undo"


def test_a_failed_group_lookup_does_not_demote_group_leads() -> None:
    """Regression: one Slack hiccup cached an empty user group for five minutes."""
    from bot.config.settings import Leads
    from bot.desk.access import Access

    answers: list[frozenset[str] | None] = [frozenset({"U0GROUP"}), None]
    access = Access(
        agents={}, leads=Leads(usergroup="S0LEADS"), group_members=lambda _g: answers.pop(0)
    )
    access._cache = (float("-inf"), frozenset())
    assert access.is_lead("U0GROUP")
    access._cache = (float("-inf"), access._cache[1])  # as if five minutes had passed
    assert access.is_lead("U0GROUP")  # the lookup failed: what we knew still holds
