"""Reading a network's payload fields at the edge without ever crashing on an odd value: every
adapter turns what it is sent into ``Mention`` fields through these."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def mapping(value: object) -> Mapping[str, Any]:
    """The value if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def count(value: object) -> int:
    """A follower count as sent; anything odd counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def moment(value: object) -> datetime | None:
    """An aware time from an ISO 8601 string (``Z`` or an offset; naive means UTC) or a datetime
    an SDK already parsed; None when missing or unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
