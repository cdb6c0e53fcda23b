"""Builders for the values unit tests share (the end-to-end steps live in ``support``): one
mention factory, with defaults that say nothing in particular, so a test names only the fields
it is about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.models import Author, Mention


def make_mention(
    text: str = "hi",
    *,
    native_id: str | int = 1,
    network: str = "x",
    author: Author | None = None,
    author_id: str = "42",
    handle: str = "traveller",
    name: str = "",
    followers: int = 0,
    verified: bool = False,
    created: datetime | None = None,
    brand: str | None = None,
    lang: str | None = None,
    url: str = "",
    entities: dict[str, Any] | None = None,
    **more: Any,
) -> Mention:
    """A post of ``text`` on ``network``, id ``"<network>:<native_id>"``.

    Its author is ``author`` when given, else one built from ``author_id``, ``handle``,
    ``name``, ``followers`` and ``verified``. ``entities`` is X's own parse of the post: when
    given (``{}`` for a post X found nothing in), ``raw`` holds the tweet as the X source keeps
    it. ``more`` sets any other field of ``Mention`` (``kind``, ``raw``, ``in_reply_to``,
    ``conversation_id``, ``visibility``).
    """
    if author is None:
        author = Author(
            id=author_id, handle=handle, name=name, followers=followers, verified=verified
        )
    if entities is not None:
        tweet = {"id": str(native_id), "text": text, **({"entities": entities} if entities else {})}
        more = {"raw": {"tweet": tweet}, **more}
    return Mention(
        id=f"{network}:{native_id}",
        network=network,
        text=text,
        author=author,
        created_at=created,
        brand=brand,
        lang=lang,
        url=url,
        **more,
    )
