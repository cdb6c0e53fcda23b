"""handlers/: listeners are top-level functions, given their few services as keyword-only
arguments, so they can be imported and called without Slack.

Slack's side (``ack``, ``client``) is faked with plain recorders; the services are real, on a
temporary SQLite file.
"""

from __future__ import annotations

import ast
import inspect
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from slack_bolt import Ack, App
from slack_bolt.util.utils import get_arg_names_of_callable, get_name_for_callable

import handlers
from bot.clock import ManualClock
from bot.config.settings import Leads
from bot.decide.routing import Clock as RoutingClock
from bot.decide.rules import RuleSpec
from bot.decide.triage import triage
from bot.desk.access import Access, Refused
from bot.desk.steering import Steering
from bot.live.rulebook import RuleBook
from bot.models import Agent
from bot.services import Services
from bot.slack.views import rules as rb
from bot.storage.store import Store
from handlers import cards, routing

HANDLERS = Path(handlers.__file__).parent
LEAD, AGENT = "U0LEAD", "U0AGENT"
# What Bolt hands a listener by name; a service is never one of them.
SLACK_ARGUMENTS = {"ack", "body", "action", "view", "client", "respond", "command", "event"}


@dataclass
class Recorder:
    """Stands in for a callable Slack supplies (``ack``, ``respond``): records each call."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@dataclass
class FakeClient:
    """Stands in for Bolt's ``client``: records the modals a listener opens."""

    opened: list[dict[str, Any]] = field(default_factory=list)

    def views_open(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        self.opened.append(view)


@pytest.fixture
def steering(tmp_path: Path) -> Iterator[Steering]:
    store, clock = Store(tmp_path / "e.db"), ManualClock()
    book = RuleBook(store=store, clock=clock, fallback="#general", routing_clock=RoutingClock())
    book.seed([RuleSpec("baggage", "#care-baggage", keywords=("suitcase",))])
    access = Access(
        agents={AGENT: Agent(AGENT, "Ana Agent", "^AA")},
        leads=Leads(users=(LEAD,)),
        group_members=lambda group: frozenset(),
    )
    yield Steering(store=store, rulebook=book, access=access, clock=clock, triage=triage)
    store.close()


def _body(user: str) -> dict[str, Any]:
    return {"user": {"id": user}, "trigger_id": "T.1"}


def _typed(text: str) -> dict[str, str]:
    return {"type": "plain_text_input", "value": text}


# ---- the shape: top-level functions, wired by register() ----------------------------------------


def test_no_function_is_defined_inside_another_but_the_refusal_wrapper() -> None:
    """register() wires top-level listeners; it defines none (nor does anything else, but
    ``refusals_told``, a decorator)."""
    nested = sorted(
        f"{path.stem}.{outer.name} defines {getattr(inner, 'name', 'a lambda')}"
        for path in sorted(HANDLERS.glob("*.py"))
        for outer in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(outer, ast.FunctionDef)
        for inner in ast.walk(outer)
        if inner is not outer
        and isinstance(inner, ast.FunctionDef | ast.Lambda)
        and not (path.stem == "errors" and outer.name == "refusals_told")
    )
    assert nested == []


def _wired(listener: Any) -> tuple[Any, dict[str, Any]]:
    """The top-level function behind what was registered (through the refusal wrapper and the
    partial that gives it its services), and the services given."""
    while not isinstance(listener, partial) and hasattr(listener, "__wrapped__"):
        listener = listener.__wrapped__
    if isinstance(listener, partial):
        return listener.func, listener.keywords
    return listener, {}


def test_bolt_sees_every_listener_as_a_top_level_function_taking_only_slack_arguments() -> None:
    """Registered on a real Bolt app: Bolt reads only Slack's arguments, the services (the
    keyword-only ones) are all given, and Bolt logs each listener by its function's name."""
    stand_ins: dict[str, Any] = {f.name: object() for f in fields(Services)}
    stand_ins["directory"] = SimpleNamespace(brand=object())
    app = App(token="xoxb-test", signing_secret="secret", token_verification_enabled=False)
    handlers.register(app, cast(Services, SimpleNamespace(**stand_ins)))
    listeners = [listener.ack_function for listener in app._listeners]
    assert len(listeners) > 20
    for listener in listeners:
        function, given = _wired(listener)
        module = sys.modules[function.__module__]
        assert module.__name__.startswith("handlers.")
        assert getattr(module, function.__name__) is function, function.__qualname__
        assert get_name_for_callable(listener) == function.__name__
        assert set(get_arg_names_of_callable(listener)) <= SLACK_ARGUMENTS, function.__name__
        keyword_only = {
            p.name
            for p in inspect.signature(function).parameters.values()
            if p.kind is p.KEYWORD_ONLY
        }
        assert set(given) == keyword_only, function.__name__
    errors = cast(Any, app._listener_runner.listener_error_handler)
    assert get_arg_names_of_callable(errors.func) == ["error", "body", "response"]


# ---- called directly, without Slack -------------------------------------------------------------


def test_a_lead_clicking_add_rule_gets_the_rule_editor(steering: Steering) -> None:
    ack, client = Recorder(), FakeClient()
    routing.add_clicked(cast(Ack, ack), _body(LEAD), cast(Any, client), steering=steering)
    assert ack.calls == [{}]
    assert [view["callback_id"] for view in client.opened] == [rb.RULE_EDITOR]


def test_an_agent_clicking_add_rule_is_refused_after_the_ack(steering: Steering) -> None:
    ack, client = Recorder(), FakeClient()
    with pytest.raises(Refused, match="lead"):
        routing.add_clicked(cast(Ack, ack), _body(AGENT), cast(Any, client), steering=steering)
    assert ack.calls == [{}]
    assert client.opened == []


def test_a_submitted_rule_goes_to_its_dry_run_and_applied_changes_routing(
    steering: Steering,
) -> None:
    state = {
        "name": {"name": _typed("refunds")},
        "channel": {"channel": _typed("#care-refunds")},
        "keywords": {"keywords": _typed("refund")},
    }
    editor = {"private_metadata": json.dumps({"editing": ""}), "state": {"values": state}}
    ack = Recorder()
    routing.editor_submitted(cast(Ack, ack), _body(LEAD), editor, steering=steering)
    [answer] = ack.calls
    assert answer["response_action"] == "update"
    dry_run = answer["view"]
    assert dry_run["callback_id"] == rb.RULE_APPLY

    applied = Recorder()
    routing.apply_submitted(cast(Ack, applied), _body(LEAD), dry_run, steering=steering)
    assert applied.calls[0]["response_action"] == "update"
    assert [rule.name for rule in steering.rules().rules] == ["baggage", "refunds"]


def test_an_incomplete_rule_is_answered_with_errors_on_the_form(steering: Steering) -> None:
    editor = {"private_metadata": json.dumps({"editing": ""}), "state": {"values": {}}}
    ack = Recorder()
    routing.editor_submitted(cast(Ack, ack), _body(LEAD), editor, steering=steering)
    [answer] = ack.calls
    assert answer["response_action"] == "errors" and answer["errors"]
    assert [rule.name for rule in steering.rules().rules] == ["baggage"]


def test_a_link_button_is_only_acknowledged() -> None:
    ack = Recorder()
    cards.link_opened(cast(Ack, ack))
    assert ack.calls == [{}]
