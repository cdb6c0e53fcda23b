"""The Slack rule editor round-trips every rule the schema allows."""

from __future__ import annotations

from typing import Any

import pytest

from bot.decide.rules import RuleSpec, rule_problems
from bot.slack.views import rules as rb

RULES = [
    RuleSpec("plain", "#a", keywords=("refund",)),
    RuleSpec(
        "everything",
        "#care-escalations",
        enabled=False,
        keywords=("x", "y z"),
        all_keywords=("a", "b"),
        fuzzy=False,
        regex="(?i)lawyer",
        languages=("en", "ko"),
        sentiments=("negative",),
        min_priority="high",
        min_followers=5000,
        verified_only=True,
        networks=("x",),
        brands=("Skylark Air",),
        handles=("bob",),
        customer_tags=("vip",),
        when="Sat,Sun",
        tags=("legal",),
        priority_bump=3,
        notify="S0CARELEAD",
        require_approval=True,
    ),
    RuleSpec(
        "after hours", "#night", languages=("en",), when="outside_business_hours", priority_bump=-3
    ),
]


def _submitted(view: dict[str, Any]) -> dict[str, Any]:
    """The state Slack submits for an untouched editor: every input's initial value."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        for key, as_ in (
            ("initial_value", "value"),
            ("initial_option", "selected_option"),
            ("initial_options", "selected_options"),
        ):
            if key in element:
                state[block_id] = {element["action_id"]: {as_: element[key]}}
    return state


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_saving_an_unchanged_rule_changes_nothing(rule: RuleSpec) -> None:
    """Regression: brands were dropped and a priority bump of 3 could not be shown."""
    view = rb.rule_editor(rule, channels=["#a"])
    back, problems = rule_problems(rb.rule_data(_submitted(view)), where="")
    assert problems == [] and back == rule


def test_every_initial_option_is_one_of_the_options() -> None:
    view = rb.rule_editor(RULES[1], channels=[])
    for block in view["blocks"]:
        element = block.get("element") or {}
        values = [o["value"] for o in element.get("options", [])]
        for chosen in [*element.get("initial_options", []), element.get("initial_option")]:
            if chosen:
                assert chosen["value"] in values


def test_action_ids_are_unique_in_the_editor() -> None:
    view = rb.rule_editor(RULES[1], channels=[])
    ids = [b["element"]["action_id"] for b in view["blocks"] if b.get("type") == "input"]
    assert len(ids) == len(set(ids))
