"""``SlackEmulator``: the subset of the Slack Web API (and Socket Mode) that Earshot uses.

Point a real ``slack_sdk.WebClient(base_url=emulator.url)`` at it. Answers use Slack's response
shapes and error codes; blocks and views are checked against Block Kit's documented limits so bot
bugs surface here rather than in a real workspace. State (messages, ephemerals, views) is kept
in memory and readable through thread-safe accessors that return copies.

It plays a real workspace's rules, as Slack documents them for each method
(https://api.slack.com/methods/<method>): the token holds the scopes ``manifest.yaml`` asks for
(a method whose scope is missing answers ``missing_scope`` with ``needed`` and ``provided``);
channels exist only once created (``create_channel``), private ones hide from a bot nobody
invited, archived ones refuse posts; features the manifest leaves off answer as Slack does
(``not_enabled``, ``messages_tab_disabled``); and each method's rate tier is enforced per minute
(https://api.slack.com/apis/rate-limits), answering HTTP 429 with ``Retry-After``.
"""

from __future__ import annotations

import copy
import json
import math
import mimetypes
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from bot.sandbox.http import Call, EmulatorServer, Fault, Reply, Request, Route
from bot.sandbox.manifest import DEFAULT_MANIFEST, AppManifest
from bot.sandbox.websocket import WebSocketConnection, WebSocketServer

MAX_MESSAGE_TEXT = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_STACK = 3
# slack-sdk's builtin client holds a lock through a 3 s recv timeout; close() must wait for it.
# Frequent server pings (real Slack pings too, less often) keep that wait short.
SOCKET_MODE_PING_INTERVAL = 0.2
RESPONSE_PATH = "/_sandbox/respond"
# files.getUploadURLExternal hands out ``<base_url>/upload/v1/<file id>`` (Slack: files.slack.com).
UPLOAD_PATH = "/upload/v1/"
MAX_VIEW_BYTES = 250 * 1024  # views.publish: "view_too_large" above 250kb
MAX_SHARE_CHANNELS = 100  # files.completeUploadExternal: "channels_limit_exceeded"
MAX_ALT_TXT = 1000

_ID_PATTERN = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_USER_PATTERN = re.compile(r"^[UW][A-Z0-9]{6,}$")

# -- a real workspace's rules -----------------------------------------------------------------

# The bot scope each method needs (Slack's method pages; views.*, chat.getPermalink and
# auth.test need none). Conversation methods need the scope of the conversation's type instead.
METHOD_SCOPES: Mapping[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "usergroups.users.list": "usergroups:read",
    "users.info": "users:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
# conversations.history/replies: channels:history, groups:history or im:history by type;
# conversations.info/list: channels:read, groups:read, im:read (list: per requested type).
_TYPE_SCOPE = {"public": "channels", "private": "groups", "im": "im"}
_LIST_TYPE_SCOPES = {
    "public_channel": "channels:read",
    "private_channel": "groups:read",
    "im": "im:read",
    "mpim": "mpim:read",
}
POST_PUBLIC = "chat:write.public"  # chat.postMessage into public channels the bot is not in
# Bot event subscription -> the scope Slack requires for it (https://api.slack.com/events/<name>).
EVENT_SCOPES: Mapping[str, str | None] = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "app_home_opened": None,
}
EVERY_SCOPE = frozenset(
    {*METHOD_SCOPES.values(), *_LIST_TYPE_SCOPES.values(), POST_PUBLIC, "commands"}
    | {f"{kind}:history" for kind in ("channels", "groups", "im", "mpim")}
)
# What Slack answers when the bot is not in a public channel, per method (private channels it is
# not in answer channel_not_found everywhere: Slack does not say they exist).
_MEMBERS_ONLY = {
    "chat.postMessage": "not_in_channel",  # unless the token has chat:write.public
    "chat.postEphemeral": "not_in_channel",
    "conversations.history": "not_in_channel",
    "conversations.replies": "channel_not_found",  # no not_in_channel among its errors
    "files.completeUploadExternal": "not_in_channel",
}
# ... and in an archived channel (chat.update: "is_inactive: the message cannot be edited within
# a frozen, archived or deleted channel"; files.completeUploadExternal documents no is_archived).
_ARCHIVED = {
    "chat.postMessage": "is_archived",
    "chat.postEphemeral": "is_archived",
    "chat.update": "is_inactive",
    "files.completeUploadExternal": "posting_to_channel_denied",
}
# Requests per minute for each rate tier, and each method's tier. Special-tier methods
# (chat.postMessage: about 1 message per second per channel, see ``rate_limit_per_channel``;
# chat.getPermalink, auth.test) publish no per-minute figure and are not limited unless a test
# sets one. conversations.history/replies are Tier 3 for internal and Marketplace apps; Slack
# limits other commercially distributed apps to 1 a minute (May 2025): set_rate_limit does that.
TIER_LIMITS: Mapping[int, int] = {2: 20, 3: 50, 4: 100}
METHOD_TIERS: Mapping[str, int] = {
    "chat.update": 3,
    "chat.postEphemeral": 4,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.info": 3,
    "conversations.list": 2,
    "usergroups.users.list": 2,
    "users.info": 4,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "apps.connections.open": 3,
}
RATE_WINDOW = 60.0


class NotDelivered(AssertionError):
    """Slack would never send this to the app (not subscribed, no such command, interactivity
    off, a channel the app is not in): a test that drives it has found a manifest gap."""


_JSON_FIELDS = ("blocks", "attachments", "metadata", "view")
_MESSAGE_OPTIONS = (
    "unfurl_links",
    "unfurl_media",
    "reply_broadcast",
    "mrkdwn",
    "parse",
    "link_names",
    "username",
    "icon_emoji",
    "icon_url",
    "attachments",
)
_VIEW_BOOKKEEPING = ("closed", "errors", "trigger_id", "edits")
_VIEW_FIELDS = (
    "type",
    "title",
    "blocks",
    "close",
    "submit",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
)


# -- Block Kit validation ------------------------------------------------------------------

_BLOCK_TYPES = frozenset(
    {
        "section",
        "actions",
        "context",
        "divider",
        "header",
        "input",
        "image",
        "rich_text",
        "file",
        "video",
        "markdown",
    }
)
_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_PICKERS = frozenset(
    {"datepicker", "timepicker", "datetimepicker", "checkboxes", "radio_buttons", "overflow"}
)
_ACTION_ELEMENTS = _SELECTS | _PICKERS | {"button", "workflow_button"}
_ACCESSORY_ELEMENTS = _ACTION_ELEMENTS | {"image"}
_INPUT_ELEMENTS = (
    _SELECTS
    | (_PICKERS - {"overflow"})
    | {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
    }
)
_OPTION_LIMITS = {
    "static_select": 100,
    "multi_static_select": 100,
    "overflow": 5,
    "radio_buttons": 10,
    "checkboxes": 10,
}


class BlockKitValidator:
    """Collects Slack-style errors (``"... [json-pointer:/blocks/0/text/text]"``) for a surface.

    Block ids and action ids must be unique across one message or one view, so use one
    validator per message/view.
    """

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._block_ids: set[str] = set()
        self._action_ids: set[str] = set()

    def _fail(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def _length(self, value: Any, pointer: str, limit: int) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self._fail("must be a string", pointer)
        elif len(value) > limit:
            self._fail(f"must be less than {limit + 1} characters", pointer)

    def text(self, obj: Any, pointer: str, *, limit: int, plain_only: bool = False) -> None:
        """A composition text object: plain_text or mrkdwn, non-empty, within ``limit``."""
        if not isinstance(obj, dict):
            self._fail("must provide an object", pointer)
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self._fail(f"must be one of {', '.join(allowed)}", f"{pointer}/type")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self._fail("must be more than 0 characters", f"{pointer}/text")
        else:
            self._length(text, f"{pointer}/text", limit)

    def blocks(self, blocks: Any, pointer: str, *, limit: int) -> None:
        """A list of blocks: count, then each block."""
        if not isinstance(blocks, list):
            self._fail("must provide an array", pointer)
            return
        if len(blocks) > limit:
            self._fail(f"no more than {limit} items allowed", pointer)
        for index, block in enumerate(blocks):
            self.block(block, f"{pointer}/{index}")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self._fail("must provide an object", pointer)
            return
        kind = block.get("type")
        if kind not in _BLOCK_TYPES:
            self._fail(f"unsupported block type `{kind}`", f"{pointer}/type")
            return
        self._block_id(block.get("block_id"), f"{pointer}/block_id")
        check = self._BLOCK_CHECKS.get(kind)
        if check is not None:
            check(self, block, pointer)

    def _block_id(self, block_id: Any, pointer: str) -> None:
        self._unique(block_id, pointer, seen=self._block_ids, label="block_id")

    def _unique(self, value: Any, pointer: str, *, seen: set[str], label: str) -> None:
        """An id that must be at most 255 characters and unique within the message or view."""
        if value is None:
            return
        self._length(value, pointer, 255)
        if value in seen:
            self._fail(f"duplicate {label} `{value}`", pointer)
        elif isinstance(value, str):
            seen.add(value)

    def _section(self, block: dict[str, Any], pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self._fail("must provide either `text` or `fields`", pointer)
        if "text" in block:
            self.text(block["text"], f"{pointer}/text", limit=3000)
        fields = block.get("fields")
        if fields is not None:
            self._items(fields, f"{pointer}/fields", maximum=10)
            for index, field in enumerate(fields if isinstance(fields, list) else []):
                self.text(field, f"{pointer}/fields/{index}", limit=2000)
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory", allowed=_ACCESSORY_ELEMENTS)

    def _header(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block.get("text"), f"{pointer}/text", limit=150, plain_only=True)

    def _actions(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        self._items(elements, f"{pointer}/elements", maximum=25)
        for index, element in enumerate(elements if isinstance(elements, list) else []):
            self.element(element, f"{pointer}/elements/{index}", allowed=_ACTION_ELEMENTS)

    def _context(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        self._items(elements, f"{pointer}/elements", maximum=10)
        for index, element in enumerate(elements if isinstance(elements, list) else []):
            where = f"{pointer}/elements/{index}"
            if isinstance(element, dict) and element.get("type") == "image":
                self._image(element, where)
            else:
                self.text(element, where, limit=3000)

    def _input(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block.get("label"), f"{pointer}/label", limit=2000, plain_only=True)
        if "hint" in block:
            self.text(block["hint"], f"{pointer}/hint", limit=2000, plain_only=True)
        if "element" not in block:
            self._fail("must provide an object", f"{pointer}/element")
        else:
            self.element(block["element"], f"{pointer}/element", allowed=_INPUT_ELEMENTS)

    def _image_block(self, block: dict[str, Any], pointer: str) -> None:
        self._image(block, pointer)
        if "title" in block:
            self.text(block["title"], f"{pointer}/title", limit=2000, plain_only=True)

    def _image(self, obj: dict[str, Any], pointer: str) -> None:
        if "image_url" not in obj and "slack_file" not in obj:
            self._fail("must provide either `image_url` or `slack_file`", pointer)
        self._length(obj.get("image_url"), f"{pointer}/image_url", 3000)
        if not isinstance(obj.get("alt_text"), str) or not obj["alt_text"]:
            self._fail("must be more than 0 characters", f"{pointer}/alt_text")
        self._length(obj.get("alt_text"), f"{pointer}/alt_text", 2000)

    def _rich_text(self, block: dict[str, Any], pointer: str) -> None:
        if not isinstance(block.get("elements"), list):
            self._fail("must provide an array", f"{pointer}/elements")

    def _markdown(self, block: dict[str, Any], pointer: str) -> None:
        text = block.get("text")
        if not isinstance(text, str) or not text:
            self._fail("must be more than 0 characters", f"{pointer}/text")
        self._length(text, f"{pointer}/text", 12_000)

    _BLOCK_CHECKS: Mapping[str, Callable[[BlockKitValidator, dict[str, Any], str], None]] = {
        "section": _section,
        "header": _header,
        "actions": _actions,
        "context": _context,
        "input": _input,
        "image": _image_block,
        "rich_text": _rich_text,
        "markdown": _markdown,
    }

    def _items(self, items: Any, pointer: str, *, maximum: int, minimum: int = 1) -> None:
        if not isinstance(items, list):
            self._fail("must provide an array", pointer)
        elif len(items) < minimum:
            self._fail(f"must provide at least {minimum} items", pointer)
        elif len(items) > maximum:
            self._fail(f"no more than {maximum} items allowed", pointer)

    def element(self, element: Any, pointer: str, *, allowed: frozenset[str]) -> None:
        """An interactive element (or an image accessory) allowed in this position."""
        if not isinstance(element, dict):
            self._fail("must provide an object", pointer)
            return
        kind = element.get("type")
        if kind not in allowed:
            self._fail(f"element type `{kind}` is not allowed here", f"{pointer}/type")
            return
        if kind == "image":
            self._image(element, pointer)
            return
        self._action_id(element.get("action_id"), f"{pointer}/action_id")
        if "placeholder" in element:
            self.text(element["placeholder"], f"{pointer}/placeholder", limit=150, plain_only=True)
        if kind == "button":
            self._button(element, pointer)
        if kind in _OPTION_LIMITS or "options" in element:
            self._options(element, pointer, kind=str(kind))
        if "confirm" in element:
            self._confirm(element["confirm"], f"{pointer}/confirm")
        if kind == "plain_text_input":
            self._text_input(element, pointer)

    def _action_id(self, action_id: Any, pointer: str) -> None:
        self._unique(action_id, pointer, seen=self._action_ids, label="action_id")

    def _button(self, button: dict[str, Any], pointer: str) -> None:
        self.text(button.get("text"), f"{pointer}/text", limit=75, plain_only=True)
        self._length(button.get("value"), f"{pointer}/value", 2000)
        self._length(button.get("url"), f"{pointer}/url", 3000)
        if button.get("style") not in (None, "primary", "danger"):
            self._fail("must be one of primary, danger", f"{pointer}/style")

    def _options(self, element: dict[str, Any], pointer: str, *, kind: str) -> None:
        if "option_groups" in element and "options" not in element:
            return
        options = element.get("options")
        self._items(options, f"{pointer}/options", maximum=_OPTION_LIMITS.get(kind, 100))
        plain_only = kind not in ("radio_buttons", "checkboxes")
        for index, option in enumerate(options if isinstance(options, list) else []):
            self._option(option, f"{pointer}/options/{index}", plain_only=plain_only)

    def _option(self, option: Any, pointer: str, *, plain_only: bool) -> None:
        if not isinstance(option, dict):
            self._fail("must provide an object", pointer)
            return
        self.text(option.get("text"), f"{pointer}/text", limit=75, plain_only=plain_only)
        value = option.get("value")
        if not isinstance(value, str) or not value:
            self._fail("must be more than 0 characters", f"{pointer}/value")
        self._length(value, f"{pointer}/value", 150)
        if "description" in option:
            self.text(option["description"], f"{pointer}/description", limit=75)
        self._length(option.get("url"), f"{pointer}/url", 3000)

    def _confirm(self, confirm: Any, pointer: str) -> None:
        if not isinstance(confirm, dict):
            self._fail("must provide an object", pointer)
            return
        self.text(confirm.get("title"), f"{pointer}/title", limit=100, plain_only=True)
        self.text(confirm.get("text"), f"{pointer}/text", limit=300)
        self.text(confirm.get("confirm"), f"{pointer}/confirm", limit=30, plain_only=True)
        self.text(confirm.get("deny"), f"{pointer}/deny", limit=30, plain_only=True)

    def _text_input(self, element: dict[str, Any], pointer: str) -> None:
        for key in ("min_length", "max_length"):
            value = element.get(key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
                self._fail("must be an integer between 0 and 3000", f"{pointer}/{key}")
        self._length(element.get("initial_value"), f"{pointer}/initial_value", 3000)

    def view(self, view: Any, pointer: str = "/view") -> None:
        """A modal view: type, title/submit/close, metadata limits and its blocks."""
        if not isinstance(view, dict):
            self._fail("must provide an object", pointer)
            return
        if view.get("type") != "modal":
            self._fail("must be `modal`", f"{pointer}/type")
        self.text(view.get("title"), f"{pointer}/title", limit=24, plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                self.text(view[key], f"{pointer}/{key}", limit=24, plain_only=True)
        self._length(view.get("private_metadata"), f"{pointer}/private_metadata", 3000)
        self._length(view.get("callback_id"), f"{pointer}/callback_id", 255)
        self._length(view.get("external_id"), f"{pointer}/external_id", 255)
        blocks = view.get("blocks")
        self.blocks(blocks, f"{pointer}/blocks", limit=MAX_VIEW_BLOCKS)
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            self._fail("must provide `submit` when the view has input blocks", f"{pointer}/submit")

    def home_view(self, view: Any, pointer: str = "/view") -> None:
        """An App Home view: type ``home``, metadata limits and its blocks (no title or buttons)."""
        if not isinstance(view, dict):
            self._fail("must provide an object", pointer)
            return
        if view.get("type") != "home":
            self._fail("must be `home`", f"{pointer}/type")
        self._length(view.get("private_metadata"), f"{pointer}/private_metadata", 3000)
        self._length(view.get("callback_id"), f"{pointer}/callback_id", 255)
        self._length(view.get("external_id"), f"{pointer}/external_id", 255)
        self.blocks(view.get("blocks"), f"{pointer}/blocks", limit=MAX_VIEW_BLOCKS)


def validate_message_blocks(blocks: Any) -> list[str]:
    """Slack-style errors for a message's ``blocks`` (empty list = valid)."""
    validator = BlockKitValidator()
    validator.blocks(blocks, "/blocks", limit=MAX_MESSAGE_BLOCKS)
    return validator.errors


def validate_view(view: Any) -> list[str]:
    """Slack-style errors for a modal view (empty list = valid)."""
    validator = BlockKitValidator()
    validator.view(view)
    return validator.errors


def validate_home_view(view: Any) -> list[str]:
    """Slack-style errors for an App Home view (empty list = valid)."""
    validator = BlockKitValidator()
    validator.home_view(view)
    return validator.errors


# -- small helpers -------------------------------------------------------------------------


def _ok(**fields: Any) -> Reply:
    return Reply(200, {"ok": True, **fields})


def _error(code: str, **fields: Any) -> Reply:
    return Reply(200, {"ok": False, "error": code, **fields})


def _invalid_arguments(messages: list[str]) -> Reply:
    return _error(
        "invalid_arguments",
        response_metadata={"messages": [f"[ERROR] {m}" for m in messages]},
    )


def _invalid_blocks(errors: list[str]) -> Reply:
    return _error(
        "invalid_blocks",
        errors=errors,
        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _slack_params(request: Request) -> dict[str, Any]:
    """Request params with JSON-string fields (form-encoded ``blocks``, ``view``...) decoded."""
    return _decode_json_fields(request.params)


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = _Unparseable(value)
    return params


class _Unparseable(str):
    """A JSON field that failed to parse; validation reports it."""


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    token = request.params.get("token")
    return str(token) if token else None


def _upload_content(request: Request) -> bytes:
    """The uploaded bytes: the raw body, or the ``file`` part of a multipart form."""
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        part = request.body.get("file")
        if part is None:
            part = next((v for v in request.body.values() if isinstance(v, bytes)), None)
        if isinstance(part, str):
            return part.encode("utf-8")
        if isinstance(part, bytes):
            return part
    return request.raw_body


def _file_list(value: Any) -> list[dict[str, Any]] | Reply:
    """files.completeUploadExternal's ``files``: a JSON array of ``{"id", "title"?}``."""
    if value in (None, ""):
        return _invalid_arguments(["missing required field: files"])
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return _invalid_arguments(["files must be a JSON array [json-pointer:/files]"])
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(f, dict) and f.get("id") for f in value)
    ):
        return _invalid_arguments(["files must be an array of {id, title} [json-pointer:/files]"])
    return [dict(f) for f in value]


def _public_view(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in record.items() if k not in _VIEW_BOOKKEEPING}


class SlackEmulator(EmulatorServer):
    """An in-memory Slack workspace with one bot, served over HTTP and Socket Mode on loopback.

    Events: ``message.posted``, ``message.updated``, ``ephemeral.posted``, ``view.opened``,
    ``view.updated``, ``view.errors``, ``view.closed``, ``response.posted``, ``file.uploaded``,
    ``file.shared``, ``home.published``, ``socket_mode.connected``, ``socket_mode.disconnected``.
    """

    def __init__(
        self,
        *,
        bot_token: str | None = None,
        app_token: str | None = None,
        team_id: str = "T0SANDBOX",
        bot_user_id: str = "U0EARSHOT",
        bot_id: str = "B0EARSHOT",
        app_id: str = "A0EARSHOT",
        channels: Mapping[str, str] | None = None,
        users: Mapping[str, str] | None = None,
        usergroups: Mapping[str, Sequence[str]] | None = None,
        rate_limit_per_channel: float | None = None,
        manifest: AppManifest | None = None,
        scopes: Sequence[str] | None = None,
        rate_limits: Mapping[str, int | None] | None = None,
    ) -> None:
        """``channels`` (name -> id) are public channels the bot is in; ``manifest`` defaults to
        the repository's ``manifest.yaml`` (every scope and feature when there is none, as in an
        installed copy without its source tree); ``scopes`` replaces its bot scopes;
        ``rate_limits`` sets requests per minute for some methods (None: unlimited)."""
        super().__init__()
        self.bot_token, self.app_token = bot_token, app_token
        self.team_id, self.bot_user_id = team_id, bot_user_id
        self.bot_id, self.app_id = bot_id, app_id
        self.rate_limit_per_channel = rate_limit_per_channel
        if manifest is None:
            found = DEFAULT_MANIFEST.is_file()
            manifest = AppManifest.load() if found else AppManifest.unrestricted(EVERY_SCOPE)
        self.manifest = manifest
        self.scopes = frozenset(manifest.scopes if scopes is None else scopes)
        self._limits: dict[str, int | None] = {m: TIER_LIMITS[t] for m, t in METHOD_TIERS.items()}
        self._limits.update(rate_limits or {})
        self._initial_channels = {k.lstrip("#"): v for k, v in (channels or {}).items()}
        self._initial_users = {bot_user_id: "earshot", **(users or {})}
        self._usergroups = {k: list(v) for k, v in (usergroups or {}).items()}
        self._methods: dict[str, Callable[[Request], Reply]] = self._method_table()
        self._ws = WebSocketServer(
            on_open=self._ws_open,
            on_text=self._ws_text,
            on_close=self._ws_close,
            accept=self._ws_accept,
            ping_interval=SOCKET_MODE_PING_INTERVAL,
        )
        self._ws_conn: WebSocketConnection | None = None
        self._ws_tickets: set[str] = set()
        self._acks: dict[str, dict[str, Any]] = {}
        self._reset_state()

    def _reset_state(self) -> None:
        self._channel_ids: dict[str, str] = dict(self._initial_channels)
        self._channel_names: dict[str, str] = {v: k for k, v in self._channel_ids.items()}
        self._private: set[str] = set()  # channel ids
        self._archived: set[str] = set()
        self._outside: set[str] = set()  # channels the bot is not a member of
        self._method_calls: dict[str, deque[float]] = {}
        self._users: dict[str, str] = dict(self._initial_users)
        self._messages: list[dict[str, Any]] = []
        self._user_messages: list[dict[str, Any]] = []
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._used_triggers: set[str] = set()
        self._channel_seq = 0
        self._view_seq = 0
        self._last_ts_us = 0
        self._recent_posts: dict[str, deque[float]] = {}
        self._responses: list[dict[str, Any]] = []
        self._ims: dict[str, str] = {}  # user id -> D… id
        self._im_users: dict[str, str] = {}  # D… id -> user id
        self._files: dict[str, dict[str, Any]] = {}
        self._file_seq = 0
        self._homes: dict[str, dict[str, Any]] = {}
        self._home_publishes: dict[str, int] = {}
        self._acks.clear()

    def _method_table(self) -> dict[str, Callable[[Request], Reply]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._get_permalink,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroup_users,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "apps.connections.open": self._connections_open,
        }

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the Web API server and the Socket Mode WebSocket server (idempotent)."""
        super().start()
        self._ws.start()
        return self

    def stop(self) -> None:
        """Close Socket Mode connections, then the HTTP server (idempotent)."""
        self._ws.stop()
        super().stop()

    @property
    def url(self) -> str:
        """The Web API base URL for ``WebClient(base_url=...)``: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.base_url}/api/"

    # -- routing ------------------------------------------------------------------------------

    def _resolve(self, request: Request) -> tuple[str, Route]:
        if request.path.rstrip("/").endswith(RESPONSE_PATH):
            return "response_url", self._respond
        if request.path.startswith(UPLOAD_PATH):  # pre-signed, like files.slack.com: no token
            return "upload", self._receive_upload
        if request.path.startswith("/api/"):
            method = request.path[len("/api/") :].strip("/")
            handler = self._methods.get(method, self._unknown_method)
            return method, self._authenticated(method, handler)
        if request.path.startswith("/archives/"):
            return f"{request.method} /archives", self._archive_page
        return f"{request.method} {request.path}", lambda _r: Reply(
            404, {"ok": False, "error": "not_found"}
        )

    def _authenticated(self, method: str, handler: Callable[[Request], Reply]) -> Route:
        app_level = method == "apps.connections.open"
        expected = self.app_token if app_level else self.bot_token

        def route(request: Request) -> Reply:
            token = _token(request)
            if expected is not None and not token:
                return _error("not_authed")
            if expected is not None and token != expected:
                return _error("invalid_auth")
            with self._changing():  # events raised inside publish after the lock is released
                reply = self._missing_scope(METHOD_SCOPES.get(method)) or self._rate(method)
                reply = reply or handler(request)
            return reply if app_level else self._with_scopes(reply, method)

        return route

    def _missing_scope(self, needed: str | None) -> Reply | None:
        """Slack's answer when the token lacks ``needed``: the scope and every granted one."""
        if needed is None or needed in self.scopes:
            return None
        return _error("missing_scope", needed=needed, provided=",".join(sorted(self.scopes)))

    def _with_scopes(self, reply: Reply, method: str) -> Reply:
        """Slack says which scopes the token has (and which the method accepts) on every answer:
        ``x-oauth-scopes``, read by ``earshot check --online``."""
        headers = {**reply.headers, "x-oauth-scopes": ",".join(sorted(self.scopes))}
        if method in METHOD_SCOPES:
            headers["x-accepted-oauth-scopes"] = METHOD_SCOPES[method]
        return Reply(reply.status, reply.body, headers)

    def _rate(self, method: str) -> Reply | None:
        """The method's tier, per minute: beyond it, HTTP 429 with ``Retry-After`` (seconds
        until the oldest call in the window leaves it), as Slack answers."""
        limit = self._limits.get(method)
        if limit is None:
            return None
        now = time.monotonic()
        recent = self._method_calls.setdefault(method, deque())
        while recent and recent[0] <= now - RATE_WINDOW:
            recent.popleft()
        if len(recent) >= limit:
            wait = max(1, math.ceil(recent[0] + RATE_WINDOW - now)) if recent else 1
            return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
        recent.append(now)
        return None

    def set_rate_limit(self, method: str, per_minute: int | None) -> None:
        """Allow ``method`` ``per_minute`` calls a minute (None: no limit), e.g. to see a tier
        refuse within a fast test."""
        with self._changing():
            self._limits[method] = per_minute
            self._method_calls.pop(method, None)

    def _fault_reply(self, fault: Fault, request: Request, endpoint: str) -> Reply:
        if fault.status == 429:
            retry = max(1, math.ceil(fault.retry_after if fault.retry_after is not None else 1))
            return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry)})
        headers = {"Retry-After": str(math.ceil(fault.retry_after))} if fault.retry_after else {}
        code = "internal_error" if fault.status >= 500 else f"http_{fault.status}"
        return Reply(fault.status, {"ok": False, "error": code}, headers)

    def _unknown_method(self, _request: Request) -> Reply:
        return _error("unknown_method")

    # -- channels, users, timestamps ----------------------------------------------------------

    def channel_id(self, name: str) -> str:
        """The id of a channel (by name, ``#`` optional, or id); ``KeyError`` if the workspace
        has no such channel: channels exist only once ``create_channel`` made them."""
        with self._cond:
            found = self._channel(name)
            if found is None:
                raise KeyError(f"no channel {name!r} in the workspace; create_channel() first")
            return found

    def create_channel(
        self, name: str, *, private: bool = False, archived: bool = False, member: bool = True
    ) -> str:
        """A channel as someone in the workspace made it (public unless ``private``), with the
        bot in it unless ``member`` is false; its id. An existing channel is left as it is."""
        with self._changing():
            existing = self._channel(name)
            if existing is not None:
                return existing
            channel = self._create_channel(name.removeprefix("#"))
            for flag, ids in ((private, self._private), (archived, self._archived)):
                if flag:
                    ids.add(channel)
            if not member:
                self._outside.add(channel)
            return channel

    def archive_channel(self, channel: str, *, archived: bool = True) -> None:
        """Someone archives (or, with ``archived=False``, unarchives) the channel."""
        with self._changing():
            (self._archived.add if archived else self._archived.discard)(self.channel_id(channel))

    def make_private(self, channel: str) -> None:
        """Someone converts the channel to private (the bot stays in it if it was)."""
        with self._changing():
            self._private.add(self.channel_id(channel))

    def delete_channel(self, channel: str) -> None:
        """An admin deletes the channel: Slack answers channel_not_found from then on."""
        with self._changing():
            channel_id = self.channel_id(channel)
            del self._channel_ids[self._channel_names.pop(channel_id)]

    def invite_bot(self, channel: str, *, member: bool = True) -> None:
        """Someone types ``/invite @Earshot`` in the channel (or removes the bot: ``False``)."""
        with self._changing():
            (self._outside.discard if member else self._outside.add)(self.channel_id(channel))

    def is_member(self, channel: str) -> bool:
        with self._cond:
            return self.channel_id(channel) not in self._outside

    def channel_name(self, channel_id: str) -> str:
        """The name of a known channel id (``"directmessage"`` for a DM, as Slack names it in
        interaction payloads); ``KeyError`` if unknown."""
        with self._cond:
            if channel_id in self._im_users:
                return "directmessage"
            if channel_id not in self._channel_names:
                raise KeyError(f"unknown channel id {channel_id!r}")
            return self._channel_names[channel_id]

    def dm_channel(self, user: str) -> str:
        """The id (``D…``) of the bot's direct-message channel with ``user``, opening it on first
        use; the bot can then post there like any channel."""
        with self._changing():
            if user not in self._ims:
                im_id = f"D{len(self._ims) + 1:07d}"
                self._ims[user], self._im_users[im_id] = im_id, user
            return self._ims[user]

    def user_name(self, user_id: str) -> str:
        """A known user's name as ``users.info`` gives it (the id itself if unknown)."""
        with self._cond:
            return self._users.get(user_id, user_id)

    def add_user(self, user_id: str, name: str) -> None:
        """Make ``users.info`` know a user."""
        with self._changing():
            self._users[user_id] = name

    def _channel(self, value: Any) -> str | None:
        """A known conversation's id, by id or by name; None for anything else."""
        if not isinstance(value, str) or not value.strip():
            return None
        if value in self._channel_names or value in self._im_users:
            return value
        return self._channel_ids.get(value.removeprefix("#"))

    def _target(self, value: Any) -> str | None:
        """chat.postMessage's ``channel``: a conversation, or a person's id for the app's direct
        message with them (its Messages tab)."""
        if isinstance(value, str) and _USER_PATTERN.match(value) and value in self._users:
            return self.dm_channel(value)
        return self._channel(value)

    def _kind(self, channel: str) -> str:
        if channel in self._im_users:
            return "im"
        return "private" if channel in self._private else "public"

    def _refusal(self, method: str, channel: str | None) -> Reply | None:
        """What Slack answers ``method`` for this conversation: unknown, private without the
        bot, archived, or public without the bot; None when the call may go ahead."""
        if self._visible(channel) is None:
            return _error("channel_not_found")
        if channel in self._im_users:
            off = method == "chat.postMessage" and not self.manifest.messages_tab
            return _error("messages_tab_disabled") if off else None
        outside = channel in self._outside
        if channel in self._archived and method in _ARCHIVED:
            return _error(_ARCHIVED[method])
        if outside and method in _MEMBERS_ONLY:
            if method == "chat.postMessage" and POST_PUBLIC in self.scopes:
                return None
            return _error(_MEMBERS_ONLY[method])
        return None

    def _type_scope(self, channel: str, action: str) -> Reply | None:
        """conversations.history/replies/info need the scope of the conversation's type."""
        return self._missing_scope(f"{_TYPE_SCOPE[self._kind(channel)]}:{action}")

    def _create_channel(self, name: str) -> str:
        while True:
            self._channel_seq += 1
            candidate = f"C{self._channel_seq:07d}"
            if candidate not in self._channel_names:
                break
        self._channel_ids[name] = candidate
        self._channel_names[candidate] = name
        return candidate

    def _next_ts(self) -> str:
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def user_says(
        self, *, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A person posts a message (not through the API): returns the ``message`` event Slack
        would deliver to the app. Kept apart from the bot's own messages."""
        with self._changing():
            channel_id = self.channel_id(channel)
            kinds = {"im": "im", "private": "group", "public": "channel"}
            event = {
                "type": "message",
                "channel": channel_id,
                "channel_type": kinds[self._kind(channel_id)],
                "user": user,
                "text": text,
                "ts": self._next_ts(),
                "team": self.team_id,
            }
            if thread_ts:
                event["thread_ts"] = thread_ts
            self._user_messages.append(copy.deepcopy(event))
            return event

    def user_messages(self) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._user_messages)

    def _new_hash(self) -> str:
        return f"{int(time.time())}.{uuid.uuid4().hex[:8]}"

    # -- Web API: auth, users, conversations ---------------------------------------------------

    def _auth_test(self, _request: Request) -> Reply:
        return _ok(
            url=f"{self.base_url}/",
            team="Earshot Sandbox",
            user=self._users.get(self.bot_user_id, "earshot"),
            team_id=self.team_id,
            user_id=self.bot_user_id,
            bot_id=self.bot_id,
            is_enterprise_install=False,
        )

    def _usergroup_users(self, request: Request) -> Reply:
        group = str(request.params.get("usergroup") or "")
        if group not in self._usergroups:
            return _error("no_such_subteam")
        return _ok(users=list(self._usergroups[group]))

    def set_usergroup(self, group: str, members: Sequence[str]) -> None:
        """Who is in a user group (S…), as ``usergroups.users.list`` will say."""
        with self._changing():
            self._usergroups[group] = list(members)

    def _users_info(self, request: Request) -> Reply:
        user_id = request.params.get("user")
        if user_id not in self._users:
            return _error("user_not_found")
        return _ok(user=self._user_object(str(user_id)))

    def _user_object(self, user_id: str) -> dict[str, Any]:
        display = self._users[user_id]
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": display.lower().replace(" ", "."),
            "real_name": display,
            "deleted": False,
            "is_bot": user_id == self.bot_user_id,
            "profile": {
                "display_name": display,
                "display_name_normalized": display,
                "real_name": display,
                "real_name_normalized": display,
            },
        }

    def _conversation(self, channel_id: str) -> dict[str, Any]:
        if channel_id in self._im_users:
            return {
                "id": channel_id,
                "is_im": True,
                "user": self._im_users[channel_id],
                "is_user_deleted": False,
                "is_org_shared": False,
            }
        private = channel_id in self._private
        return {
            "id": channel_id,
            "name": self._channel_names[channel_id],
            "is_channel": not private,
            "is_group": private,
            "is_private": private,
            "is_archived": channel_id in self._archived,
            "is_member": channel_id not in self._outside,
        }

    def _visible(self, channel: str | None) -> str | None:
        """The channel if the bot may know it exists (not a private one it is not in)."""
        hidden = channel in self._private and channel in self._outside
        return None if channel is None or hidden else channel

    def _conversations_info(self, request: Request) -> Reply:
        channel = self._visible(self._channel(request.params.get("channel")))
        if channel is None:
            return _error("channel_not_found")
        return self._type_scope(channel, "read") or _ok(channel=self._conversation(channel))

    def _conversations_list(self, request: Request) -> Reply:
        """Public channels, and the private ones the bot is in, of the requested ``types``
        (default ``public_channel``; each type needs its read scope); ``exclude_archived``."""
        params = request.params
        types = [t.strip() for t in str(params.get("types") or "public_channel").split(",")]
        if unknown := [t for t in types if t not in _LIST_TYPE_SCOPES]:
            return _error("invalid_types", detail=",".join(unknown))
        for kind in types:
            if (missing := self._missing_scope(_LIST_TYPE_SCOPES[kind])) is not None:
                return missing
        wanted = {"public" if t == "public_channel" else "private" for t in types}
        skip_archived = _truthy(params.get("exclude_archived", False))
        channels = [
            self._conversation(cid)
            for cid in self._channel_names
            if self._visible(cid)
            and self._kind(cid) in wanted
            and not (skip_archived and cid in self._archived)
        ]
        return _ok(channels=channels, response_metadata={"next_cursor": ""})

    def _readable(self, method: str, value: Any) -> Reply | str:
        """A channel conversations.history/replies may read, or Slack's refusal."""
        channel = self._visible(self._channel(value))
        if channel is None:
            return _error("channel_not_found")
        return self._type_scope(channel, "history") or self._refusal(method, channel) or channel

    def _conversations_history(self, request: Request) -> Reply:
        """Top-level messages, newest first, ``oldest``/``latest`` exclusive bounds, paged by
        ``limit``/``cursor``; message metadata only with ``include_all_metadata``."""
        params = request.params
        with self._cond:
            channel = self._readable("conversations.history", params.get("channel"))
            if isinstance(channel, Reply):
                return channel
            oldest, latest = float(params.get("oldest") or 0), params.get("latest")
            found = [
                m
                for m in reversed(self._messages)
                if m["channel"] == channel
                and m.get("thread_ts") in (None, m["ts"])
                and float(m["ts"]) > oldest
                and (latest is None or float(m["ts"]) < float(latest))
            ]
            return self._page(found, params)

    def _conversations_replies(self, request: Request) -> Reply:
        """A thread: its parent then the replies, oldest first (``thread_not_found`` if none)."""
        params = request.params
        with self._cond:
            channel = self._readable("conversations.replies", params.get("channel"))
            if isinstance(channel, Reply):
                return channel
            parent = self._find(channel, params.get("ts"))
            if parent is None:
                return _error("thread_not_found")
            thread = [parent] + [
                m
                for m in self._messages
                if m["channel"] == channel and m.get("thread_ts") == parent["ts"] != m["ts"]
            ]
            return self._page(thread, params)

    def _page(self, records: list[dict[str, Any]], params: Mapping[str, Any]) -> Reply:
        start = int(params.get("cursor") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 999))
        with_meta = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        shown = []
        for record in records[start : start + limit]:
            message = self._public_message(record)
            if not with_meta:
                message.pop("metadata", None)
            shown.append(message)
        more = start + limit < len(records)
        cursor = str(start + limit) if more else ""
        return _ok(messages=shown, has_more=more, response_metadata={"next_cursor": cursor})

    # -- Web API: messages -------------------------------------------------------------------

    def _content_error(self, params: Mapping[str, Any], *, require: bool = True) -> Reply | None:
        blocks = params.get("blocks")
        if isinstance(blocks, _Unparseable):
            return _error("invalid_blocks_format")
        text = params.get("text")
        if require and not text and not blocks and not params.get("attachments"):
            return _error("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            return _error("msg_too_long")
        if blocks is not None and (errors := validate_message_blocks(blocks)):
            return _invalid_blocks(errors)
        metadata = params.get("metadata")
        if metadata is not None and not _valid_metadata(metadata):
            return _error("invalid_metadata_format")
        return None

    def _paced_out(self, channel: str) -> bool:
        rate = self.rate_limit_per_channel
        if not rate:
            return False
        window = max(1.0, 1.0 / rate)
        capacity = max(1, int(rate * window))
        now = time.monotonic()
        recent = self._recent_posts.setdefault(channel, deque())
        while recent and recent[0] <= now - window:
            recent.popleft()
        if len(recent) >= capacity:
            return True
        recent.append(now)
        return False

    def _post_message(self, request: Request) -> Reply:
        params = _slack_params(request)
        with self._changing() as events:
            channel = self._target(params.get("channel"))
            if (refused := self._refusal("chat.postMessage", channel)) is not None:
                return refused
            assert channel is not None
            if (problem := self._content_error(params)) is not None:
                return problem
            if self._paced_out(channel):
                return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            record = self._new_message(channel, params)
            self._messages.append(record)
            events.append(("message.posted", copy.deepcopy(record)))
            return _ok(channel=channel, ts=record["ts"], message=self._public_message(record))

    def _new_message(self, channel: str, params: Mapping[str, Any]) -> dict[str, Any]:
        thread_ts = params.get("thread_ts") or None
        return {
            "type": "message",
            "channel": channel,
            "ts": self._next_ts(),
            "text": params.get("text") or "",
            "blocks": copy.deepcopy(params.get("blocks") or []),
            "thread_ts": str(thread_ts) if thread_ts else None,
            "metadata": copy.deepcopy(params.get("metadata")),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "options": {k: params[k] for k in _MESSAGE_OPTIONS if k in params},
            "edits": [],
        }

    def _public_message(self, record: Mapping[str, Any]) -> dict[str, Any]:
        keys = ("type", "text", "user", "bot_id", "app_id", "ts", "team", "blocks", "edited")
        message = {k: copy.deepcopy(record[k]) for k in keys if k in record}
        if record.get("thread_ts"):
            message["thread_ts"] = record["thread_ts"]
        if record.get("metadata") is not None:
            message["metadata"] = copy.deepcopy(record["metadata"])
        if record.get("files"):
            message.update(files=copy.deepcopy(record["files"]), upload=True)
        return message

    def _find(self, channel: str | None, ts: Any) -> dict[str, Any] | None:
        for record in self._messages:
            if record["channel"] == channel and record["ts"] == ts:
                return record
        return None

    def _update_message(self, request: Request) -> Reply:
        params = _slack_params(request)
        with self._changing() as events:
            channel = self._visible(self._channel(params.get("channel")))
            if channel is None:
                return _error("channel_not_found")
            if (refused := self._refusal("chat.update", channel)) is not None:
                return refused
            record = self._find(channel, params.get("ts"))
            if record is None:
                return _error("message_not_found")
            if (problem := self._content_error(params)) is not None:
                return problem
            self._apply_update(record, params)
            events.append(("message.updated", copy.deepcopy(record)))
            return _ok(
                channel=record["channel"],
                ts=record["ts"],
                text=record["text"],
                message=self._public_message(record),
            )

    def _apply_update(self, record: dict[str, Any], params: Mapping[str, Any]) -> None:
        previous = {k: copy.deepcopy(record[k]) for k in ("text", "blocks", "metadata")}
        record["edits"].append(previous)
        if "text" in params:
            record["text"] = params.get("text") or ""
        if "blocks" in params:  # absent keeps the old blocks, [] removes them (as Slack does)
            record["blocks"] = copy.deepcopy(params.get("blocks") or [])
        if "metadata" in params:
            record["metadata"] = copy.deepcopy(params.get("metadata"))
        record["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}

    def _post_ephemeral(self, request: Request) -> Reply:
        params = _slack_params(request)
        with self._changing() as events:
            channel = self._channel(params.get("channel"))
            if (refused := self._refusal("chat.postEphemeral", channel)) is not None:
                return refused
            assert channel is not None
            if not params.get("user"):
                return _invalid_arguments(["missing required field: user"])
            if (problem := self._content_error(params)) is not None:
                return problem
            record = self._new_ephemeral(channel, str(params["user"]), params)
            self._ephemerals.append(record)
            events.append(("ephemeral.posted", copy.deepcopy(record)))
            return _ok(message_ts=record["ts"])

    def _new_ephemeral(self, channel: str, user: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "channel": channel,
            "user": user,
            "ts": self._next_ts(),
            "text": params.get("text") or "",
            "blocks": copy.deepcopy(params.get("blocks") or []),
            "thread_ts": params.get("thread_ts") or None,
        }

    def _get_permalink(self, request: Request) -> Reply:
        channel = self._visible(self._channel(request.params.get("channel")))
        if channel is None:
            return _error("channel_not_found")
        record = self._find(channel, request.params.get("message_ts"))
        if record is None:
            return _error("message_not_found")
        return _ok(channel=channel, permalink=self._permalink(record))

    def _permalink(self, record: Mapping[str, Any]) -> str:
        link = f"{self.base_url}/archives/{record['channel']}/p{record['ts'].replace('.', '')}"
        thread_ts = record.get("thread_ts")
        if thread_ts and thread_ts != record["ts"]:
            link += f"?thread_ts={thread_ts}&cid={record['channel']}"
        return link

    def _archive_page(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if len(parts) == 3 and parts[2].startswith("p") and len(parts[2]) > 7:
            digits = parts[2][1:]
            with self._cond:
                record = self._find(parts[1], f"{digits[:-6]}.{digits[-6:]}")
                if record is not None:
                    return Reply(200, self._public_message(record))
        return Reply(404, {"ok": False, "error": "message_not_found"})

    # -- Web API: files (the files_upload_v2 flow) ----------------------------------------------

    def _get_upload_url(self, request: Request) -> Reply:
        """Step 1: reserve a file id and hand out a pre-signed upload URL for ``length`` bytes."""
        params = request.params
        missing = [f for f in ("filename", "length") if params.get(f) in (None, "")]
        if missing:
            return _invalid_arguments([f"missing required field: {f}" for f in missing])
        try:
            length = int(str(params["length"]))
        except ValueError:
            return _invalid_arguments(["invalid type for field: length"])
        if length == 0:
            return _error("missing_argument")  # Slack's answer for length=0
        if length < 0:
            return _invalid_arguments(["invalid value for field: length"])
        alt_txt = params.get("alt_txt")
        if isinstance(alt_txt, str) and len(alt_txt) > MAX_ALT_TXT:
            return _error("alt_txt_too_large")
        with self._changing():
            self._file_seq += 1
            file_id = f"F{self._file_seq:010d}"
            self._files[file_id] = {
                "id": file_id,
                "name": str(params["filename"]),
                "title": None,
                "declared_length": length,
                "content": None,
                "alt_txt": alt_txt,
                "snippet_type": params.get("snippet_type"),
                "created": int(time.time()),
                "completed": False,
                "channels": [],
                "initial_comment": None,
                "thread_ts": None,
                "ts": None,
                "shares": {},
            }
            return _ok(upload_url=f"{self.base_url}{UPLOAD_PATH}{file_id}", file_id=file_id)

    def _receive_upload(self, request: Request) -> Reply:
        """Step 2: the bytes, POSTed raw (what slack-sdk sends) or as a multipart ``file`` field."""
        file_id = request.path[len(UPLOAD_PATH) :].strip("/")
        if request.method != "POST":
            return Reply(405, "Method Not Allowed", {"Allow": "POST"})
        content = _upload_content(request)
        with self._changing() as events:
            record = self._files.get(file_id)
            if record is None or record["completed"]:
                return Reply(404, "Not Found")
            record["content"] = content
            events.append(("file.uploaded", self._file_entry(record)))
        return Reply(200, f"OK - {len(content)}")

    def _complete_upload(self, request: Request) -> Reply:
        """Step 3: title the uploaded files and share them (one message per channel)."""
        params = _slack_params(request)
        with self._changing() as events:
            entries = _file_list(params.get("files"))
            if isinstance(entries, Reply):
                return entries
            channels = self._share_channels(params)
            if isinstance(channels, Reply):
                return channels
            records = [self._files.get(str(entry.get("id") or "")) for entry in entries]
            if any(r is None or r["content"] is None or r["completed"] for r in records):
                return _error("file_not_found")
            comment = params.get("initial_comment") or None
            blocks = None if comment else params.get("blocks")
            if isinstance(blocks, _Unparseable):
                return _error("invalid_blocks")
            if blocks is not None and (errors := validate_message_blocks(blocks)):
                return _invalid_blocks(errors)
            thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
            shared = [r for r in records if r is not None]
            for record, entry in zip(shared, entries, strict=True):
                record.update(
                    title=str(entry.get("title") or record["name"]),
                    completed=True,
                    channels=list(channels),
                    initial_comment=comment,
                    thread_ts=thread_ts if channels else None,
                )
            content = {"text": comment or "", "blocks": blocks, "thread_ts": thread_ts}
            for channel in channels:
                message = self._new_message(channel, content)
                for record in shared:
                    record["ts"] = record["ts"] or message["ts"]
                    record["shares"][channel] = message["ts"]
                message["files"] = [self._file_object(r) for r in shared]
                self._messages.append(message)
                events.append(("message.posted", copy.deepcopy(message)))
            events.extend(("file.shared", self._file_entry(r)) for r in shared)
            return _ok(files=[self._file_object(r) for r in shared])

    def _share_channels(self, params: Mapping[str, Any]) -> list[str] | Reply:
        """``channel_id`` and/or comma-separated ``channels``, resolved like chat.postMessage."""
        wanted: list[str] = []
        if params.get("channel_id"):
            wanted.append(str(params["channel_id"]))
        if params.get("channels"):
            wanted += [c.strip() for c in str(params["channels"]).split(",") if c.strip()]
        if len(wanted) > MAX_SHARE_CHANNELS:
            return _error("channels_limit_exceeded")
        resolved: list[str] = []
        for value in wanted:
            channel = self._channel(value)
            if (refused := self._refusal("files.completeUploadExternal", channel)) is not None:
                return refused
            assert channel is not None
            if channel not in resolved:
                resolved.append(channel)
        return resolved

    def _file_object(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The file as Slack describes it in API answers and in the share message."""
        name = record["name"]
        filetype = PurePosixPath(name).suffix.lstrip(".").lower() or "binary"
        shares = record.get("shares") or {}
        return {
            "id": record["id"],
            "created": record["created"],
            "timestamp": record["created"],
            "name": name,
            "title": record["title"],
            "mimetype": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": len(record["content"] or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": any(c not in self._im_users for c in record["channels"]),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            **({"alt_txt": record["alt_txt"]} if record.get("alt_txt") else {}),
            "channels": [c for c in record["channels"] if c not in self._im_users],
            "groups": [],
            "ims": [c for c in record["channels"] if c in self._im_users],
            "comments_count": 0,
            "shares": self._shares(shares),
        }

    def _shares(self, shares: Mapping[str, str]) -> dict[str, Any]:
        grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for channel, ts in shares.items():
            kind = "private" if channel in self._im_users else "public"
            share = {"ts": ts, "share_user_id": self.bot_user_id, "team_id": self.team_id}
            if channel in self._channel_names:
                share["channel_name"] = self._channel_names[channel]
            grouped.setdefault(kind, {})[channel] = [share]
        return grouped

    def _file_entry(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """What ``files()`` shows: Slack's view of the file plus the bytes and where it went."""
        content = record["content"]
        channels = list(record["channels"])
        return {
            "id": record["id"],
            "name": record["name"],
            "title": record["title"],
            "length": record["declared_length"] if content is None else len(content),
            "content": b"" if content is None else bytes(content),
            "uploaded": content is not None,
            "completed": record["completed"],
            "channel": channels[0] if channels else None,
            "channels": channels,
            "initial_comment": record["initial_comment"],
            "thread_ts": record["thread_ts"],
            "ts": record["ts"],
        }

    # -- response_url --------------------------------------------------------------------------

    def response_url(
        self, *, channel: str | None = None, user: str | None = None, message_ts: str | None = None
    ) -> str:
        """A ``response_url`` to hand the bot; with context, responses also land as Slack would
        show them (``in_channel`` → message, ``ephemeral`` → ephemeral for ``user``,
        ``replace_original`` → update of ``message_ts``). Without context they are only recorded.
        """
        context = {"channel": channel, "user": user, "message_ts": message_ts}
        query = urlencode({k: v for k, v in context.items() if v})
        return f"{self.base_url}{RESPONSE_PATH}" + (f"?{query}" if query else "")

    def responses(self) -> list[dict[str, Any]]:
        """Everything posted to a response_url: ``{"channel", "user", "message_ts", "payload"}``."""
        with self._cond:
            return copy.deepcopy(self._responses)

    def _respond(self, request: Request) -> Reply:
        body = request.body
        if isinstance(body.get("payload"), str):  # form-encoded ``payload=<json>``
            body = json.loads(body["payload"])
        payload = _decode_json_fields(dict(body))
        with self._changing() as events:
            problem = self._content_error(payload, require=not payload.get("delete_original"))
            if problem is not None:
                return Reply(400, str(problem.body["error"]))
            record = {
                "channel": self._channel(request.query.get("channel")),
                "user": request.query.get("user"),
                "message_ts": request.query.get("message_ts"),
                "payload": copy.deepcopy(payload),
            }
            self._responses.append(record)
            events.append(("response.posted", copy.deepcopy(record)))
            self._deliver_response(record, events=events)
            return Reply(200, "ok")

    def _deliver_response(
        self, record: Mapping[str, Any], *, events: list[tuple[str, dict[str, Any]]]
    ) -> None:
        payload, channel = record["payload"], record["channel"]
        original = self._find(channel, record["message_ts"])
        if payload.get("replace_original") and original is not None:
            self._apply_update(original, payload)
            events.append(("message.updated", copy.deepcopy(original)))
        elif payload.get("response_type") == "in_channel" and channel is not None:
            message = self._new_message(channel, payload)
            self._messages.append(message)
            events.append(("message.posted", copy.deepcopy(message)))
        elif channel is not None and record["user"]:
            ephemeral = self._new_ephemeral(channel, str(record["user"]), payload)
            self._ephemerals.append(ephemeral)
            events.append(("ephemeral.posted", copy.deepcopy(ephemeral)))

    # -- Web API: views ------------------------------------------------------------------------

    def _trigger_error(self, trigger_id: Any) -> Reply | None:
        if not trigger_id:
            return _invalid_arguments(["missing required field: trigger_id"])
        if trigger_id in self._used_triggers:
            return _error("expired_trigger_id")
        return None

    def _view_error(self, view: Any) -> Reply | None:
        if isinstance(view, _Unparseable) or view is None:
            return _invalid_arguments(["must provide an object [json-pointer:/view]"])
        if errors := validate_view(view):
            return _invalid_arguments(errors)
        external_id = view.get("external_id")
        if external_id and any(
            v["external_id"] == external_id and not v["closed"] for v in self._views.values()
        ):
            return _error("duplicate_external_id")
        return None

    def _views_open(self, request: Request) -> Reply:
        params = _slack_params(request)
        with self._changing() as events:
            trigger_id = params.get("trigger_id")
            problem = self._trigger_error(trigger_id) or self._view_error(params.get("view"))
            if problem is not None:
                return problem
            self._used_triggers.add(str(trigger_id))
            record = self._new_view(params["view"], trigger_id=str(trigger_id))
            events.append(("view.opened", copy.deepcopy(record)))
            return _ok(view=_public_view(record))

    def _new_view(
        self,
        view: Mapping[str, Any],
        *,
        trigger_id: str | None,
        previous: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        self._view_seq += 1
        view_id = f"V{self._view_seq:08d}"
        record: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            **self._view_content(view),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": previous["id"] if previous else None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            "closed": False,
            "errors": None,
            "trigger_id": trigger_id,
            "edits": [],
        }
        self._views[view_id] = record
        return record

    @staticmethod
    def _view_content(view: Mapping[str, Any]) -> dict[str, Any]:
        content: dict[str, Any] = {
            "type": view.get("type"),
            "title": None,
            "blocks": [],
            "close": None,
            "submit": None,
            "private_metadata": "",
            "callback_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "external_id": "",
            "submit_disabled": False,
        }
        content.update({k: copy.deepcopy(view[k]) for k in _VIEW_FIELDS if k in view})
        return content

    def _find_view(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        for record in self._views.values():
            if record["closed"]:
                continue
            if (view_id and record["id"] == view_id) or (
                external_id and record["external_id"] == external_id
            ):
                return record
        return None

    def _views_update(self, request: Request) -> Reply:
        params = _slack_params(request)
        with self._changing() as events:
            if not params.get("view_id") and not params.get("external_id"):
                return _invalid_arguments(["must provide either view_id or external_id"])
            record = self._find_view(params)
            if record is None:
                return _error("not_found")
            if params.get("hash") and params["hash"] != record["hash"]:
                return _error("hash_conflict")
            if (problem := self._update_view_error(record, params.get("view"))) is not None:
                return problem
            self._replace_view(record, params["view"])
            events.append(("view.updated", copy.deepcopy(record)))
            return _ok(view=_public_view(record))

    def _update_view_error(self, record: Mapping[str, Any], view: Any) -> Reply | None:
        if isinstance(view, dict) and view.get("external_id") == record["external_id"]:
            view = {k: v for k, v in view.items() if k != "external_id"}
        return self._view_error(view)

    def _replace_view(self, record: dict[str, Any], view: Mapping[str, Any]) -> None:
        record["edits"].append(_public_view(record))
        external_id = record["external_id"]
        record.update(self._view_content(view))
        record["external_id"] = view.get("external_id") or external_id
        record["hash"] = self._new_hash()

    def _top_view(self) -> dict[str, Any] | None:
        open_views = [v for v in self._views.values() if not v["closed"]]
        return open_views[-1] if open_views else None

    def _views_push(self, request: Request) -> Reply:
        params = _slack_params(request)
        with self._changing() as events:
            trigger_id = params.get("trigger_id")
            problem = self._trigger_error(trigger_id) or self._view_error(params.get("view"))
            if problem is not None:
                return problem
            top = self._top_view()
            if top is not None and self._stack_depth(top["root_view_id"]) >= MAX_VIEW_STACK:
                return _error("push_limit_reached")
            self._used_triggers.add(str(trigger_id))
            record = self._new_view(params["view"], trigger_id=str(trigger_id), previous=top)
            events.append(("view.opened", copy.deepcopy(record)))
            return _ok(view=_public_view(record))

    def _stack_depth(self, root_view_id: str) -> int:
        return sum(
            1 for v in self._views.values() if v["root_view_id"] == root_view_id and not v["closed"]
        )

    # -- Web API: App Home -----------------------------------------------------------------------

    def _views_publish(self, request: Request) -> Reply:
        """Publish (or replace) a user's Home tab; it keeps its view id, with a new hash."""
        params = _slack_params(request)
        with self._changing() as events:
            user_id = params.get("user_id")
            if not user_id:
                return _invalid_arguments(["missing required field: user_id"])
            view = params.get("view")
            if isinstance(view, _Unparseable) or view is None:
                return _invalid_arguments(["must provide an object [json-pointer:/view]"])
            if problem := self._home_view_error(view):
                return problem
            if len(json.dumps(view).encode("utf-8")) > MAX_VIEW_BYTES:
                return _error("view_too_large")
            current = self._homes.get(str(user_id))
            if current is not None and params.get("hash") and params["hash"] != current["hash"]:
                return _error("hash_conflict")
            if current is None:
                self._view_seq += 1
            view_id = current["id"] if current else f"V{self._view_seq:08d}"
            record: dict[str, Any] = {
                "id": view_id,
                "team_id": self.team_id,
                **self._view_content(view),
                "state": {"values": {}},
                "hash": self._new_hash(),
                "root_view_id": view_id,
                "previous_view_id": None,
                "app_id": self.app_id,
                "app_installed_team_id": self.team_id,
                "bot_id": self.bot_id,
            }
            self._homes[str(user_id)] = record
            self._home_publishes[str(user_id)] = self._home_publishes.get(str(user_id), 0) + 1
            events.append(("home.published", {"user_id": str(user_id), **copy.deepcopy(record)}))
            return _ok(view=copy.deepcopy(record))

    def _home_view_error(self, view: Any) -> Reply | None:
        if not self.manifest.home_tab:  # "a home view is published but the Home tab isn't
            return _error("not_enabled")  # enabled for the app" (views.publish's errors)
        if errors := validate_home_view(view):
            return _invalid_arguments(errors)
        return None

    # -- what Slack would send the app ----------------------------------------------------

    def check_event(self, event: Mapping[str, Any]) -> None:
        """``NotDelivered`` unless Slack would send this event: the app subscribes to it (with
        its scope), and for a message, the bot is in the channel."""
        subscription = _subscription(event)
        if subscription not in self.manifest.bot_events:
            raise NotDelivered(
                f"Slack sends {subscription} only to apps subscribed to it: add it to "
                "settings.event_subscriptions.bot_events in manifest.yaml"
            )
        needed = EVENT_SCOPES.get(subscription)
        if needed and needed not in self.scopes:
            raise NotDelivered(f"{subscription} needs the {needed} scope")
        channel = event.get("channel")
        with self._cond:
            outside = event.get("type") == "message" and channel in self._outside
        if outside:
            raise NotDelivered(f"Slack sends {subscription} only for channels the app is in")

    def check_command(self, command: str) -> None:
        """``NotDelivered`` unless the manifest declares the slash command."""
        if command not in self.manifest.commands:
            raise NotDelivered(f"{command} is not a slash command of this app (manifest.yaml)")

    def check_interactivity(self) -> None:
        """``NotDelivered`` unless the manifest switches interactivity on."""
        if not self.manifest.interactivity:
            raise NotDelivered("Slack sends clicks and submissions only with interactivity on")

    # -- the "Slack side" of modals --------------------------------------------------------

    @staticmethod
    def new_trigger_id() -> str:
        """A fresh, realistic-looking trigger id for a driver that plays the user."""
        return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"

    def set_view_values(self, view_id: str, values: Mapping[str, Any]) -> None:
        """Pretend the user filled in inputs: set ``view.state.values`` (block_id → action_id)."""
        with self._changing():
            self._require_view(view_id)["state"] = {"values": copy.deepcopy(dict(values))}

    def apply_view_response(
        self, view_id: str, response: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        """Apply the bot's answer to a ``view_submission`` as Slack would.

        ``update`` replaces the view in place (same id, new hash), ``push`` stacks a new view,
        ``errors`` keeps the view open and records the errors (Slack shows them next to the
        inputs), ``clear`` closes the whole stack and an empty answer closes this view. Returns
        the view open afterwards (updated, pushed, the same one with errors, or the one a closed
        pushed view sat on), or None when the modal is gone.
        ``ValueError`` if the bot's view is invalid (Slack would reject it too).
        """
        action = (response or {}).get("response_action")
        with self._changing() as events:
            record = self._require_view(view_id)
            if action in ("update", "push"):
                return self._respond_with_view(
                    record, response or {}, push=action == "push", events=events
                )
            if action == "errors":
                record["errors"] = copy.deepcopy((response or {}).get("errors") or {})
                events.append(("view.errors", copy.deepcopy(record)))
                return _public_view(record)
            if action == "clear":
                self._close(record["root_view_id"], events=events, whole_stack=True)
                return None
            if action is None:
                return self._pop_view(record, events=events)
            raise ValueError(f"unknown response_action {action!r} for view {view_id}")

    def _pop_view(
        self, record: Mapping[str, Any], *, events: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, Any] | None:
        """Close one view; the view it was pushed onto (if still open) is shown again."""
        self._close(record["id"], events=events)
        previous = self._views.get(record["previous_view_id"] or "")
        return _public_view(previous) if previous and not previous["closed"] else None

    def _respond_with_view(
        self,
        record: dict[str, Any],
        response: Mapping[str, Any],
        *,
        push: bool,
        events: list[tuple[str, dict[str, Any]]],
    ) -> dict[str, Any]:
        view = response.get("view")
        if errors := validate_view(view):
            raise ValueError(f"bot answered view {record['id']} with an invalid view: {errors}")
        assert isinstance(view, dict)
        if push:
            if self._stack_depth(record["root_view_id"]) >= MAX_VIEW_STACK:
                raise ValueError("push_limit_reached: a modal stack holds at most 3 views")
            pushed = self._new_view(view, trigger_id=None, previous=record)
            events.append(("view.opened", copy.deepcopy(pushed)))
            return _public_view(pushed)
        self._replace_view(record, view)
        record["errors"] = None
        events.append(("view.updated", copy.deepcopy(record)))
        return _public_view(record)

    def close_view(self, view_id: str) -> None:
        """The user closed the view (Cancel / X)."""
        with self._changing() as events:
            self._require_view(view_id)
            self._close(view_id, events=events)

    def _close(
        self, view_id: str, *, events: list[tuple[str, dict[str, Any]]], whole_stack: bool = False
    ) -> None:
        for record in self._views.values():
            hit = record["root_view_id"] == view_id if whole_stack else record["id"] == view_id
            if hit and not record["closed"]:
                record["closed"] = True
                events.append(("view.closed", copy.deepcopy(record)))

    def _require_view(self, view_id: str) -> dict[str, Any]:
        if view_id not in self._views:
            raise KeyError(f"unknown view id {view_id!r}")
        return self._views[view_id]

    # -- state accessors ---------------------------------------------------------------------

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Channel messages posted by the bot, oldest first (channel by id or name)."""
        with self._cond:
            wanted = None if channel is None else self._channel(channel)
            if channel is not None and wanted is None:
                return []
            return [copy.deepcopy(m) for m in self._messages if wanted in (None, m["channel"])]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message by channel (id or name) and ts, or None."""
        with self._cond:
            record = self._find(self._channel(channel), ts)
            return copy.deepcopy(record) if record is not None else None

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages, oldest first, optionally only those shown to ``user``."""
        with self._cond:
            return [copy.deepcopy(e) for e in self._ephemerals if user in (None, e["user"])]

    def views(self) -> list[dict[str, Any]]:
        """Every view ever opened or pushed (Slack fields + closed/errors/trigger_id/edits)."""
        with self._cond:
            return [copy.deepcopy(v) for v in self._views.values()]

    def view(self, view_id: str) -> dict[str, Any]:
        """One view by id; ``KeyError`` if unknown."""
        with self._cond:
            return copy.deepcopy(self._require_view(view_id))

    def files(self) -> list[dict[str, Any]]:
        """Every file the bot started uploading, oldest first: ``{"id", "name", "title", "length",
        "content" (bytes), "uploaded", "completed", "channel" (first share, None if private),
        "channels", "initial_comment", "thread_ts", "ts" (of the share message)}``."""
        with self._cond:
            return [self._file_entry(record) for record in self._files.values()]

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes uploaded for ``file_id`` (``b""`` until uploaded); ``KeyError`` if unknown."""
        with self._cond:
            if file_id not in self._files:
                raise KeyError(f"unknown file id {file_id!r}")
            return bytes(self._files[file_id]["content"] or b"")

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab view last published for ``user_id`` (Slack's view fields), or None."""
        with self._cond:
            record = self._homes.get(user_id)
            return copy.deepcopy(record) if record is not None else None

    def home_publishes(self, user_id: str) -> int:
        """How many times ``views.publish`` succeeded for ``user_id``."""
        with self._cond:
            return self._home_publishes.get(user_id, 0)

    # -- Socket Mode --------------------------------------------------------------------------

    def _connections_open(self, _request: Request) -> Reply:
        ticket = uuid.uuid4().hex
        self._ws_tickets.add(ticket)
        url = f"ws://127.0.0.1:{self._ws.port}/link/?ticket={ticket}&app_id={self.app_id}"
        return _ok(url=url)

    def _ws_accept(self, target: str) -> bool:
        tickets = parse_qs(urlsplit(target).query).get("ticket", [])
        with self._cond:
            return bool(tickets) and tickets[0] in self._ws_tickets

    def _ws_open(self, conn: WebSocketConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "sandbox-applink", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        conn.send_text(json.dumps(hello))
        with self._changing() as events:
            self._ws_conn = conn
            self._calls.append(self._ws_call("SEND", conn, hello))
            events.append(("socket_mode.connected", {"connection": conn.number}))

    def _ws_text(self, conn: WebSocketConnection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = {"_raw": text}
        with self._changing():
            self._calls.append(self._ws_call("RECV", conn, message))
            if isinstance(message, dict) and "envelope_id" in message:
                self._acks[str(message["envelope_id"])] = message

    def _ws_close(self, conn: WebSocketConnection) -> None:
        with self._changing() as events:
            if self._ws_conn is conn:
                self._ws_conn = None
            events.append(("socket_mode.disconnected", {"connection": conn.number}))

    @staticmethod
    def _ws_call(direction: str, conn: WebSocketConnection, message: Any) -> Call:
        params = message if isinstance(message, dict) else {"_json": message}
        return Call(
            direction, conn.path, "socket_mode", copy.deepcopy(params), {}, 200, time.time()
        )

    def socket_mode_connected(self, timeout: float = 10.0) -> None:
        """Wait until a Socket Mode client is connected and has been sent ``hello``."""
        self.wait_for(lambda: self._ws_conn is not None, timeout=timeout)

    def socket_mode_send(
        self, envelope_type: str, payload: Mapping[str, Any], *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send an envelope to the connected app and return its ack ``{"envelope_id", "payload"?}``.

        ``envelope_type`` is ``"slash_commands"``, ``"interactive"`` or ``"events_api"``.
        """
        conn = self._connection(timeout)
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "type": envelope_type,
            "payload": copy.deepcopy(dict(payload)),
            "accepts_response_payload": envelope_type != "events_api",
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        with self._changing():
            self._calls.append(self._ws_call("SEND", conn, envelope))
        conn.send_text(json.dumps(envelope))
        return self._await_ack(str(envelope["envelope_id"]), envelope_type, timeout=timeout)

    def _connection(self, timeout: float) -> WebSocketConnection:
        conn = self.wait_for(lambda: self._ws_conn, timeout=timeout)
        assert conn is not None  # wait_for only returns a truthy value
        return conn

    def _await_ack(self, envelope_id: str, envelope_type: str, *, timeout: float) -> dict[str, Any]:
        try:
            ack = self.wait_for(lambda: self._acks.get(envelope_id) or {}, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no ack for {envelope_type} envelope {envelope_id} within {timeout}s "
                "(did a listener match and call ack()?)"
            ) from None
        return copy.deepcopy(ack)

    def socket_mode_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the connected client to reconnect, as Slack does before rotating servers."""
        conn = self._connection(1.0)
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "sandbox"}}
        with self._changing():
            self._calls.append(self._ws_call("SEND", conn, message))
        conn.send_text(json.dumps(message))


def _subscription(event: Mapping[str, Any]) -> str:
    """The bot event subscription an event arrives under: ``message`` by channel type."""
    kind = str(event.get("type") or "")
    if kind != "message":
        return kind
    by_type = {"channel": "channels", "group": "groups", "im": "im", "mpim": "mpim"}
    return f"message.{by_type.get(str(event.get('channel_type') or 'channel'), 'channels')}"


def _valid_metadata(metadata: Any) -> bool:
    return (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and bool(metadata["event_type"])
        and isinstance(metadata.get("event_payload", {}), dict)
    )
