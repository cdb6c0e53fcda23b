"""bot/sources/jsonl.py: one JSON object per line becomes a Mention, or a BadLine saying why not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bot.models import Author, Mention, MentionKind
from bot.sources.jsonl import BadLine, mention_from_dict, read_mentions

FULL = {
    "id": "1790000000000000001",
    "network": "x",
    "brand": "skylark",
    "text": "@SkylarkAir my bag never made it to Seoul",
    "author": {
        "id": "777",
        "handle": "traveller",
        "name": "Ann Lee",
        "followers": 1234,
        "verified": True,
    },
    "created_at": "2024-05-01T10:00:00Z",
    "lang": "en",
    "conversation_id": "1790000000000000001",
}


def _read(*objects: Any) -> list[Mention | BadLine]:
    lines = [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objects]
    return list(read_mentions(lines))


def test_a_good_line_becomes_a_mention() -> None:
    [mention] = _read(FULL)
    assert isinstance(mention, Mention)
    assert mention.id == "x:1790000000000000001"
    assert mention.native_id == "1790000000000000001"
    assert mention.network == "x"
    assert mention.brand == "skylark"
    assert mention.text == FULL["text"]
    assert mention.author == Author(
        id="777", handle="traveller", name="Ann Lee", followers=1234, verified=True
    )
    assert mention.lang == "en"
    assert mention.conversation_id == "1790000000000000001"
    assert mention.kind is MentionKind.MENTION
    assert mention.raw == FULL


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00+00:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T19:00:00+09:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),  # naive means UTC
    ],
)
def test_created_at_is_timezone_aware(written: str, expected: datetime) -> None:
    [mention] = _read({"id": "1", "text": "hi", "created_at": written})
    assert isinstance(mention, Mention)
    assert mention.created_at is not None
    assert mention.created_at.tzinfo is not None
    assert mention.created_at == expected


def test_an_explicit_offset_is_kept() -> None:
    [mention] = _read({"id": "1", "text": "hi", "created_at": "2024-05-01T19:00:00+09:00"})
    assert isinstance(mention, Mention)
    assert mention.created_at is not None
    assert mention.created_at.utcoffset() == timedelta(hours=9)
    assert mention.created_at.tzinfo == timezone(timedelta(hours=9))


def test_only_id_and_text_are_required() -> None:
    [mention] = _read({"id": "5", "text": "hello"})
    assert mention == Mention(id="x:5", network="x", text="hello", author=Author(id=""))


@pytest.mark.parametrize(
    ("data", "mention_id", "network"),
    [
        ({"id": 1790000000000000001, "text": "hi"}, "x:1790000000000000001", "x"),
        ({"id": "mastodon:99", "text": "hi"}, "mastodon:99", "mastodon"),
        ({"id": "99", "network": "mastodon", "text": "hi"}, "mastodon:99", "mastodon"),
    ],
)
def test_ids_are_prefixed_with_the_network(
    data: dict[str, Any], mention_id: str, network: str
) -> None:
    mention = mention_from_dict(data)
    assert (mention.id, mention.network) == (mention_id, network)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"id": "1", "text": "RT @SkylarkAir: new routes!"}, MentionKind.RETWEET),
        ({"id": "1", "text": "thanks!", "in_reply_to": "x:9"}, MentionKind.REPLY),
        ({"id": "1", "text": "RT @a: hi", "in_reply_to": "x:9"}, MentionKind.RETWEET),
        ({"id": "1", "text": "I love RT @ events"}, MentionKind.MENTION),
    ],
)
def test_kind_follows_the_text_and_reply_link(data: dict[str, Any], kind: MentionKind) -> None:
    assert mention_from_dict(data).kind is kind


def test_author_id_falls_back_to_the_handle() -> None:
    mention = mention_from_dict({"id": "1", "text": "hi", "author": {"handle": "ann"}})
    assert mention.author == Author(id="ann", handle="ann")


@pytest.mark.parametrize(
    ("line", "in_message"),
    [
        ("{not json", "not valid JSON"),
        ('{"id": "1", "text": "hi"', "not valid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('"just text"', "expected a JSON object, got str"),
        ('{"id": "1"}', '"text" is missing'),
        ('{"text": "hi"}', '"id" is missing'),
        ('{"id": "1", "text": "   "}', '"text" is empty'),
        ('{"id": "1", "text": 5}', '"text" must be a string, got int'),
        ('{"id": true, "text": "hi"}', '"id" must be a string, got bool'),
        ('{"id": "1", "text": "hi", "author": "ann"}', '"author" must be an object, got str'),
        ('{"id": "1", "text": "hi", "author": {"followers": -3}}', '"author.followers"'),
        ('{"id": "1", "text": "hi", "author": {"followers": "9"}}', '"author.followers"'),
        ('{"id": "1", "text": "hi", "created_at": "yesterday"}', '"created_at" is not an ISO'),
        ('{"id": "1", "text": "hi", "lang": 3}', '"lang" must be a string, got int'),
    ],
)
def test_a_bad_line_says_what_is_wrong(line: str, in_message: str) -> None:
    [bad] = _read(line)
    assert isinstance(bad, BadLine)
    assert bad.number == 1
    assert in_message in bad.message


def test_every_problem_of_a_line_is_in_one_message() -> None:
    line = '{"id": true, "text": 5, "author": "ann", "created_at": "soon", "lang": 3}'
    [bad] = _read(line)
    assert isinstance(bad, BadLine)
    for part in ('"id"', '"text"', '"author"', '"created_at"', '"lang"'):
        assert part in bad.message
    assert bad.message.count(";") == 4


def test_bad_lines_carry_their_line_number_and_good_lines_still_parse() -> None:
    results = _read({"id": "1", "text": "first"}, "", "{broken", "   ", {"id": "2", "text": "last"})
    assert [type(r).__name__ for r in results] == ["Mention", "BadLine", "Mention"]
    bad = results[1]
    assert isinstance(bad, BadLine)
    assert bad.number == 3
    assert str(bad).startswith("line 3: not valid JSON")


@pytest.mark.parametrize("blank", ["", "   ", "\n", "\t \n"])
def test_blank_lines_are_skipped(blank: str) -> None:
    assert _read(blank) == []


def test_mention_from_dict_raises_value_error_naming_every_problem() -> None:
    with pytest.raises(ValueError, match=r'"id" is missing; "text" is missing'):
        mention_from_dict({})
