"""The port between the core and Slack: what the inbound pipeline, the desk and the operations
may ask of Slack (``Board``), and the errors it raises. ``SlackBoard`` is the real one; tests and
the demo use the same one against the Slack emulator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.models import Mention


class BoardError(Exception):
    """Slack did not take a card; the case keeps no card and a job posts it later."""


class ChannelRefused(BoardError):
    """Slack refuses the channel itself (missing, private without Earshot, archived): trying
    again soon is pointless; the leads have been told the fix."""

    def __init__(self, message: str, *, channel: str, code: str) -> None:
        super().__init__(message)
        self.channel, self.code = channel, code


class Board(Protocol):
    def post_card(self, case_id: int, *, thread: str | None = None) -> None: ...

    def refresh_card(self, case_id: int) -> None: ...

    def refresh_storm(self, storm_id: int) -> None: ...

    def follow_up(self, case_id: int, mention: Mention, *, raised: Sequence[str] = ()) -> None: ...

    def notify(self, case_id: int) -> None: ...

    def announce(self, channel: str, text: str) -> None: ...

    def tell(self, *, user: str, channel: str | None, text: str) -> None: ...

    def case_note(self, case_id: int, *, text: str) -> None: ...

    def show_approval(self, approval_id: int) -> None: ...
