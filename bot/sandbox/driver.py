"""A driver that plays Slack toward the bot: signed slash commands, clicks and modal submissions.

Every payload is built from what the bot actually posted to the Slack emulator (its messages and
views), signed with the signing secret exactly as Slack signs, and sent over HTTP to the bot's
``/slack/events``. What the bot answers to a modal submission is applied back to the emulator, as
Slack would apply it. Only what Slack would send is sent: an event the manifest does not
subscribe to, a command it does not declare, or a click with interactivity off raises
``NotDelivered``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack import SlackEmulator

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Answer:
    """The bot's HTTP answer to one request."""

    status: int
    body: str

    def json(self) -> dict[str, Any]:
        """The answer as Slack reads it: JSON, or a bare text body meaning {"text": body}."""
        if not self.body.strip():
            return {}
        try:
            return dict(json.loads(self.body))
        except json.JSONDecodeError:
            return {"text": self.body}


class SlackDriver:
    def __init__(
        self,
        *,
        bot_url: str,
        signing_secret: str,
        slack: SlackEmulator,
        team_id: str = "T0SANDBOX",
    ) -> None:
        self._url = bot_url
        self._signer = SignatureVerifier(signing_secret)
        self._slack = slack
        self._team = team_id

    # ---- transport ---------------------------------------------------------------------------

    def send(self, body: str, *, content_type: str, timestamp: int | None = None) -> Answer:
        """POST a signed body to the bot (``timestamp`` lets tests send stale requests)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        raw = body.encode("utf-8")
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": self._signer.generate_signature(timestamp=stamp, body=raw) or "",
        }
        return self.post_raw(raw, headers=headers)

    def post_raw(self, raw: bytes, *, headers: Mapping[str, str]) -> Answer:
        request = urllib.request.Request(self._url, data=raw, headers=dict(headers), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return Answer(response.status, response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read().decode("utf-8", "replace"))

    def submission(self, *, user: str, view_id: str) -> dict[str, Any]:
        """The ``view_submission`` payload Slack would send for the view as it stands now."""
        return {
            "type": "view_submission",
            "team": {"id": self._team},
            "user": self._user(user),
            "api_app_id": "A0EARSHOT",
            "trigger_id": self._slack.new_trigger_id(),
            "view": _with_initial_values(self._slack.view(view_id)),
            "response_urls": [],
        }

    def interactive(self, payload: Mapping[str, Any], *, timestamp: int | None = None) -> Answer:
        """Send any interactive payload, signed (``timestamp``: as of then)."""
        self._slack.check_interactivity()
        return self.send(interactive_body(payload), content_type=FORM, timestamp=timestamp)

    def _user(self, user: str) -> dict[str, str]:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self._team}

    # ---- events ------------------------------------------------------------------------------

    def event(self, event: Mapping[str, Any], *, event_id: str | None = None) -> Answer:
        """Deliver an Events API ``event_callback`` (a replay with the same ``event_id`` is what
        Slack sends when it retries)."""
        body = {
            "token": "sandbox",
            "team_id": self._team,
            "api_app_id": "A0EARSHOT",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "event": dict(event),
        }
        self._slack.check_event(event)
        return self.send(json.dumps(body), content_type="application/json")

    def app_home_opened_event(self, user: str, *, tab: str = "home") -> dict[str, Any]:
        """The ``app_home_opened`` event Slack sends when ``user`` opens the app's ``home`` or
        ``messages`` tab: ``channel`` is the user's DM with the bot, and ``view`` (the Home tab
        last published for the user) is included once there is one."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": self._slack.dm_channel(user),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        view = self._slack.home(user) if tab == "home" else None
        if view is not None:
            event["view"] = view
        return event

    def app_home_opened(self, user: str, *, tab: str = "home") -> Answer:
        """``user`` opens the app's Home (or Messages) tab; Slack tells the app."""
        return self.event(self.app_home_opened_event(user, tab=tab))

    def say_in_thread(self, *, user: str, channel: str, thread_ts: str, text: str) -> Answer:
        """A person writes in a message's thread; Slack tells the app."""
        event = self._slack.user_says(user=user, channel=channel, text=text, thread_ts=thread_ts)
        return self.event(event)

    # ---- slash commands ----------------------------------------------------------------------

    def command(self, *, user: str, text: str = "", channel: str = "#care-general") -> Answer:
        body = self.command_body(user=user, text=text, channel=channel)
        return self.send(body, content_type=FORM)

    def command_body(self, *, user: str, text: str = "", channel: str = "#care-general") -> str:
        """The form Slack posts for ``/mentions <text>`` typed by ``user`` in ``channel``."""
        self._slack.check_command("/mentions")
        form = {
            "token": "sandbox",
            "team_id": self._team,
            "team_domain": "sandbox",
            "channel_id": self._slack.channel_id(channel),
            "channel_name": channel.lstrip("#"),
            "user_id": user,
            "user_name": user.lower(),
            "command": "/mentions",
            "text": text,
            "api_app_id": "A0EARSHOT",
            "response_url": f"{self._slack.url}_sandbox/respond",
            "trigger_id": self._slack.new_trigger_id(),
        }
        return urlencode(form)

    # ---- buttons on messages -----------------------------------------------------------------

    def _block_actions(self, user: str, action: dict[str, Any], **context: Any) -> Answer:
        """A signed ``block_actions`` payload: one action, plus where it happened."""
        payload = {
            "type": "block_actions",
            "team": {"id": self._team},
            "user": self._user(user),
            "api_app_id": "A0EARSHOT",
            "trigger_id": self._slack.new_trigger_id(),
            "actions": [action],
            **context,
        }
        return self.interactive(payload)

    def click(self, *, user: str, message: Mapping[str, Any], action_id: str) -> Answer:
        """Click the button ``action_id`` on a message the bot posted."""
        block_id, button = find_element(message.get("blocks") or [], action_id)
        channel = message["channel"]
        return self._block_actions(
            user,
            _action(button, block_id),
            container={"type": "message", "message_ts": message["ts"], "channel_id": channel},
            channel={"id": channel, "name": self._slack.channel_name(channel)},
            message=dict(message),
            response_url=f"{self._slack.url}_sandbox/respond",
        )

    def choose(
        self, *, user: str, message: Mapping[str, Any], action_id: str, value: str
    ) -> Answer:
        """Pick the option ``value`` in a menu (overflow, static select) on a message."""
        block_id, menu = find_element(message.get("blocks") or [], action_id)
        option = next((o for o in menu.get("options") or [] if o.get("value") == value), None)
        if option is None:
            values = [o.get("value") for o in menu.get("options") or []]
            raise LookupError(f"no option {value!r} in {action_id!r}; options are {values}")
        action = {**_action(menu, block_id), "selected_option": option}
        channel = message["channel"]
        return self._block_actions(
            user,
            action,
            container={"type": "message", "message_ts": message["ts"], "channel_id": channel},
            channel={"id": channel, "name": self._slack.channel_name(channel)},
            message=dict(message),
            response_url=f"{self._slack.url}_sandbox/respond",
        )

    def choose_in_view(self, *, user: str, view_id: str, action_id: str, value: str) -> Answer:
        """Pick an option in a dispatching select inside a modal."""
        view = self._slack.view(view_id)
        block_id, menu = find_element(view.get("blocks") or [], action_id)
        option = next(o for o in menu.get("options") or [] if o.get("value") == value)
        self._slack.set_view_values(
            view_id, {block_id: {action_id: {"type": menu["type"], "selected_option": option}}}
        )
        action = {**_action(menu, block_id), "selected_option": option}
        container = {"type": "view", "view_id": view_id}
        return self._block_actions(
            user, action, container=container, view=self._slack.view(view_id)
        )

    # ---- modals ------------------------------------------------------------------------------

    def click_in_view(self, *, user: str, view_id: str, action_id: str) -> Answer:
        view = self._slack.view(view_id)
        block_id, button = find_element(view.get("blocks") or [], action_id)
        container = {"type": "view", "view_id": view_id}
        return self._block_actions(user, _action(button, block_id), container=container, view=view)

    def type_in_view(
        self, *, user: str, view_id: str, block_id: str, action_id: str, text: str
    ) -> Answer:
        """Type into a dispatching input: updates the view's state and sends the block action."""
        self._slack.set_view_values(view_id, {block_id: {action_id: _typed(text)}})
        action = {
            "type": "plain_text_input",
            "block_id": block_id,
            "action_id": action_id,
            "value": text,
            "action_ts": f"{time.time():.6f}",
        }
        container = {"type": "view", "view_id": view_id}
        return self._block_actions(
            user, action, container=container, view=self._slack.view(view_id)
        )

    def submit(
        self,
        *,
        user: str,
        view_id: str,
        values: Mapping[str, Mapping[str, str]] | None = None,
        state: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> tuple[Answer, dict[str, Any] | None]:
        """Submit a modal, optionally typing ``{block_id: {action_id: text}}`` first, or setting
        raw input ``state`` (selects, checkboxes) as Slack would send it.

        Returns the bot's answer and the view that is open afterwards (None if it closed).
        """
        if values is not None or state is not None:
            typed = {b: {a: _typed(t) for a, t in f.items()} for b, f in (values or {}).items()}
            self._slack.set_view_values(view_id, {**typed, **(state or {})})
        view = _with_initial_values(self._slack.view(view_id))
        payload = {
            "type": "view_submission",
            "team": {"id": self._team},
            "user": self._user(user),
            "api_app_id": "A0EARSHOT",
            "trigger_id": self._slack.new_trigger_id(),
            "view": view,
            "response_urls": [],
        }
        answer = self.interactive(payload)
        after = None
        if answer.status == 200:
            after = self._slack.apply_view_response(view_id, answer.json() or None)
        return answer, after


def interactive_body(payload: Mapping[str, Any]) -> str:
    """The form Slack posts for an interaction: ``payload=<json>``."""
    return urlencode({"payload": json.dumps(payload)})


def find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    """The (block_id, element) with ``action_id``; ``LookupError`` lists what is there instead."""
    seen: list[str] = []
    for block in blocks:
        for element in block.get("elements") or [block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                return str(block.get("block_id") or ""), element
            if element.get("action_id"):
                seen.append(str(element["action_id"]))
    raise LookupError(f"no element {action_id!r} in these blocks; found {seen}")


def _action(element: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    return {
        "type": element.get("type", "button"),
        "block_id": block_id,
        "action_id": element["action_id"],
        "value": element.get("value", ""),
        "text": element.get("text"),
        "action_ts": f"{time.time():.6f}",
    }


def _with_initial_values(view: dict[str, Any]) -> dict[str, Any]:
    """Slack submits every input's current value: untouched inputs carry their initial value."""
    values = dict((view.get("state") or {}).get("values") or {})
    for block in view.get("blocks") or []:
        element = block.get("element") or {}
        if block.get("type") != "input" or not (initial := _initial(element)):
            continue
        fields = dict(values.get(block["block_id"]) or {})
        fields.setdefault(element["action_id"], initial)
        values[block["block_id"]] = fields
    return {**view, "state": {"values": values}}


def _initial(element: Mapping[str, Any]) -> dict[str, Any] | None:
    """An input's initial state, in the shape Slack submits it."""
    kind = element.get("type")
    if "initial_value" in element:
        return {"type": kind, "value": element["initial_value"]}
    if "initial_option" in element:
        return {"type": kind, "selected_option": element["initial_option"]}
    if "initial_options" in element:
        return {"type": kind, "selected_options": element["initial_options"]}
    return None


def _typed(text: str) -> dict[str, str]:
    return {"type": "plain_text_input", "value": text}
