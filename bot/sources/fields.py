"""Reading a network's payload fields at the edge without ever crashing on an odd value: every
adapter turns what it is sent into ``Mention`` fields through these, and hands on only what
``storable`` returns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.models import Mention

_SURROGATE = re.compile("[\ud800-\udfff]")


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


def mend(text: str) -> str:
    """``text`` as it can be stored and shown: each lone surrogate (JSON may carry ``"\\ud800"``
    escapes, and the JSON decoders of tweepy, atproto and Mastodon.py pass them through) becomes
    U+FFFD; a pair split over two code points is joined. Anything else is kept as it is."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def escaped(value: Any) -> Any:
    """A payload kept for debugging, made storable without losing anything: a string (value or
    key) holding a surrogate is written with backslash escapes instead (``\\ud800``)."""
    if isinstance(value, str):
        return (
            value.encode("utf-8", "backslashreplace").decode()
            if _SURROGATE.search(value)
            else value
        )
    if isinstance(value, Mapping):
        return {escaped(k) if isinstance(k, str) else k: escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [escaped(v) for v in value]
    return value


def storable(mention: Mention) -> Mention:
    """The mention every adapter hands on: every text field mended (``mend``) and the raw
    payload ``escaped``, so that text never stops a page from being stored. (What the database
    still refuses, say a follower count past 64 bits, the store quarantines.)"""
    a = mention.author
    author = replace(a, id=mend(a.id), handle=mend(a.handle), name=mend(a.name))
    return replace(
        mention,
        id=mend(mention.id),
        network=mend(mention.network),
        text=mend(mention.text),
        author=author,
        brand=_mend_optional(mention.brand),
        lang=_mend_optional(mention.lang),
        conversation_id=_mend_optional(mention.conversation_id),
        in_reply_to=_mend_optional(mention.in_reply_to),
        url=mend(mention.url),
        visibility=mend(mention.visibility),
        raw=escaped(mention.raw),
    )


def _mend_optional(text: str | None) -> str | None:
    return mend(text) if isinstance(text, str) else text
