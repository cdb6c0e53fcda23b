"""Reading what Slack sent: button values, menu picks and modal metadata, checked.

Slack only sends back what Earshot put in a message, but a payload can still be old, altered or
plain wrong; a bad value is refused with a clear message rather than crashing a listener.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.desk.access import Refused

STALE = "This looks like an old or altered message; use the buttons on the card as it is now."


def number(value: object, *, what: str = "case") -> int:
    """A positive id, e.g. a button's case number."""
    text = str(value if value is not None else "").strip().lstrip("#")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise Refused(f"“{_short(value)}” is not a {what} number. {STALE}")
    return int(text)


def pair(value: object, *, what: str) -> tuple[str, str]:
    """``a|b`` as (a, b): a menu option or a suggestion button carries two things."""
    text = str(value if value is not None else "")
    first, bar, second = text.partition("|")
    if not bar or not first or not second:
        raise Refused(f"“{_short(value)}” is not a {what}. {STALE}")
    return first, second


def action_value(action: Mapping[str, Any]) -> str:
    return str(action.get("value") or "")


def option_value(action: Mapping[str, Any]) -> str:
    option = action.get("selected_option")
    return str(option.get("value") or "") if isinstance(option, Mapping) else ""


def meta(view: Mapping[str, Any]) -> dict[str, Any]:
    """A modal's private_metadata (Earshot's own JSON)."""
    try:
        data = json.loads(str(view.get("private_metadata") or "{}"))
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise Refused(f"This form's details are missing or damaged. {STALE}")
    return data


def trigger(body: Mapping[str, Any]) -> str:
    """The trigger id a modal opens with: Slack sends one with every click and command, valid
    for 3 seconds. A payload without one cannot open anything."""
    found = body.get("trigger_id")
    if not isinstance(found, str) or not found:
        raise Refused(f"Slack sent no way to open a form with that. {STALE}")
    return found


def user(body: Mapping[str, Any]) -> str:
    who = body.get("user")
    found = who.get("id") if isinstance(who, Mapping) else body.get("user_id")
    return str(found or "")


def _short(value: object) -> str:
    text = str(value)
    shown = text if len(text) <= 40 else text[:39] + "…"
    return shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def view(body: Mapping[str, Any]) -> dict[str, Any]:
    """The modal an action happened in, with its id and hash (to update it)."""
    found = body.get("view")
    if not isinstance(found, dict) or not found.get("id"):
        raise Refused(f"That came from a form Earshot does not know. {STALE}")
    return found


def state_values(view: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A submitted modal's inputs, block by block; malformed parts are left out."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    if not isinstance(values, Mapping):
        return {}
    return {str(b): dict(f) for b, f in values.items() if isinstance(f, Mapping)}
