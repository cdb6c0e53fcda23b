"""The Bluesky and Mastodon adapters' pure edges: payloads into ``Mention``, HTML into text,
and the shared poller's back-off, breaker and cursors (with a fake reader passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from atproto import Client
from factories import make_mention
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.models import Author, MentionKind
from bot.sandbox import BlueskyEmulator
from bot.sources import bluesky, mastodon
from bot.sources.poller import Failure, Poller, Read, Trouble

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
URI = "at://did:plc:ana234567abcdefghijklmno/app.bsky.feed.post/3lb2cd4ef5gh2"
ROOT = "at://did:plc:brand34567abcdefghijklmn/app.bsky.feed.post/3la2cd4ef5gh2"


# ---- Mastodon HTML ------------------------------------------------------------------------------


def test_mastodon_html_becomes_plain_text() -> None:
    content = (
        '<p><span class="h-card"><a href="https://social.example/@skylarkair" class="u-url '
        'mention">@<span>skylarkair</span></a></span> my bag &amp; my coat are lost&lt;3</p>'
        "<p>line one<br>line two</p>"
        '<p>see <a href="https://help.example.com/a/very/long/path"><span class="invisible">'
        'https://</span><span class="ellipsis">help.example.com/a/very</span><span '
        'class="invisible">/long/path</span></a></p>'
    )
    assert mastodon.html_to_text(content) == (
        "@skylarkair my bag & my coat are lost<3\n\n"
        "line one\nline two\n\n"
        "see https://help.example.com/a/very/long/path"
    )


def test_mastodon_html_drops_scripts_and_never_renders_markup() -> None:
    text = mastodon.html_to_text("<p>hi<script>alert(1)</script><style>p{}</style> &lt;b&gt;</p>")
    assert text == "hi <b>"


@given(st.text(max_size=200))
def test_any_html_gives_text_without_crashing(content: str) -> None:
    assert isinstance(mastodon.html_to_text(content), str)


def _status(**extra: object) -> dict[str, object]:
    return {
        "id": "113000000000000042",
        "content": "<p>@skylarkair where is my refund?</p>",
        "visibility": "public",
        "language": "en",
        "created_at": NOW,
        "url": "https://other.example/@ana/113000000000000042",
        "account": {
            "id": "7",
            "acct": "ana@other.example",
            "display_name": "Ana",
            "followers_count": 12,
        },
        **extra,
    }


def test_a_mastodon_mention_keeps_its_instance_visibility_and_thread() -> None:
    note = {"id": "55", "type": "mention", "status": _status(in_reply_to_id="113000000000000001")}
    mention = mastodon.to_mention(note, brand="Skylark Air", host="social.example")
    assert mention is not None
    assert mention.id == "mastodon:113000000000000042@social.example"
    assert mention.in_reply_to == "mastodon:113000000000000001@social.example"
    assert mention.kind is MentionKind.REPLY
    assert mention.author == Author(id="7", handle="ana@other.example", name="Ana", followers=12)
    assert mention.text == "@skylarkair where is my refund?"
    assert (mention.visibility, mention.private, mention.created_at) == ("public", False, NOW)


def test_a_direct_message_is_private_and_a_content_warning_is_shown() -> None:
    note = {"id": "56", "type": "mention", "status": _status(visibility="direct", spoiler_text="x")}
    mention = mastodon.to_mention(note, brand="Skylark Air", host="social.example")
    assert mention is not None and mention.private
    assert mention.text.startswith("CW: x\n")


@pytest.mark.parametrize("status", [None, {}, {"id": ""}, "text"])
def test_a_notification_without_a_status_is_not_a_mention(status: object) -> None:
    note = {"id": "57", "type": "mention", "status": status}
    assert mastodon.to_mention(note, brand="b", host="h") is None


# ---- Bluesky ------------------------------------------------------------------------------------


def _notification(**record: object) -> dict[str, object]:
    return {
        "uri": URI,
        "cid": "bafyreiabc",
        "reason": "reply",
        "indexedAt": "2026-11-23T10:00:00.123Z",
        "author": {"did": "did:plc:ana234567abcdefghijklmno", "handle": "ana.bsky.social"},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "still no bag",
            "createdAt": "2026-11-23T09:59:59.000Z",
            "langs": ["en"],
            **record,
        },
    }


def test_a_bluesky_reply_keeps_root_and_parent() -> None:
    reply = {"root": {"uri": ROOT, "cid": "a"}, "parent": {"uri": ROOT, "cid": "a"}}
    item = _notification(reply=reply)
    mention = bluesky.to_mention(item, brand="Skylark Air", reason="reply")
    assert mention is not None
    assert mention.id == f"bluesky:{URI}"
    assert (mention.conversation_id, mention.in_reply_to) == (ROOT, f"bluesky:{ROOT}")
    assert mention.kind is MentionKind.REPLY
    assert mention.lang == "en"
    assert mention.url == "https://bsky.app/profile/ana.bsky.social/post/3lb2cd4ef5gh2"
    assert mention.created_at == datetime(2026, 11, 23, 9, 59, 59, tzinfo=UTC)


def test_a_bluesky_post_that_starts_a_thread_is_its_own_root() -> None:
    mention = bluesky.to_mention(_notification(), brand="b", reason="mention")
    assert mention is not None
    assert (mention.conversation_id, mention.in_reply_to, mention.kind) == (
        URI,
        None,
        MentionKind.MENTION,
    )


@pytest.mark.parametrize(
    "item",
    [{}, {"uri": "at://did:plc:x/app.bsky.feed.like/1"}, {"uri": 3, "record": "no"}],
)
def test_what_is_not_a_post_is_not_a_mention(item: dict[str, object]) -> None:
    assert bluesky.to_mention(item, brand="b") is None


# ---- the poller ---------------------------------------------------------------------------------


def _judge(exc: Exception) -> Failure:
    if isinstance(exc, TimeoutError):
        return Failure(Trouble.TRANSIENT, "timed out")
    if isinstance(exc, PermissionError):
        return Failure(Trouble.PERSON, "token refused")
    return Failure(Trouble.RATE, "rate limited", NOW + timedelta(minutes=5))


def _poller(clock: ManualClock, keys: tuple[str, ...] = ("a", "b")) -> Poller:
    return Poller(name="Test", keys=keys, clock=clock, interval=timedelta(seconds=30), judge=_judge)


def test_the_poller_orders_mentions_and_keeps_each_streams_cursor() -> None:
    poller = _poller(ManualClock(NOW))
    author = Author(id="1")
    later = make_mention(
        native_id="2", network="mastodon", author=author, created=NOW + timedelta(minutes=2)
    )
    earlier = make_mention(
        native_id="1", network="mastodon", author=author, created=NOW + timedelta(minutes=1)
    )
    reads = {"a": Read([later], cursor="20"), "b": Read([earlier])}
    fetch = poller.poll({"a": "10"}, lambda key, since: reads[key])
    assert [m.id for m in fetch.mentions] == ["mastodon:1", "mastodon:2"]
    assert fetch.cursors == {"a": "20"}
    assert fetch.error is None and not fetch.skipped


def test_a_transient_failure_spares_the_other_streams_and_opens_the_breaker() -> None:
    clock = ManualClock(NOW)
    poller = _poller(clock)
    called: list[str] = []

    def down(key: str, since: str | None) -> Read:
        called.append(key)
        raise TimeoutError

    fetches = []
    for _ in range(3):
        fetches.append(poller.poll({}, down))
        clock.advance(minutes=20)
    assert called == ["a", "a", "a"]
    assert fetches[-1].circuit == "opened"
    assert "circuit open after 3 failed calls" in (fetches[-1].error or "")
    clock.advance(minutes=20)
    assert poller.poll({}, lambda k, s: Read()).circuit == "closed"


def test_a_rate_limit_waits_for_the_reset_and_a_refusal_is_for_a_person() -> None:
    clock = ManualClock(NOW)
    poller = _poller(clock)

    def limited(key: str, since: str | None) -> Read:
        raise (LookupError if key == "a" else PermissionError)

    fetch = poller.poll({}, limited)
    assert fetch.blocked == "token refused"
    assert fetch.not_before == NOW + timedelta(minutes=5)
    assert poller.poll({}, limited).skipped  # both wait


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_ITEM = st.fixed_dictionaries(
    {},
    optional={
        "uri": st.sampled_from([URI, ROOT, "", "at://x"]) | st.text(max_size=10),
        "id": st.text(max_size=5),
        "author": _JSON,
        "account": _JSON,
        "record": _JSON,
        "status": _JSON,
        "indexedAt": _JSON,
        "created_at": _JSON,
        "content": _JSON,
    },
)


@given(_ITEM)
def test_odd_payloads_never_crash_the_edge(item: dict[str, object]) -> None:
    """Whatever a network sends, the adapters give a mention or None, never a traceback."""
    bluesky.to_mention(item, brand="b", reason="mention")
    mastodon.to_mention({"id": "1", "type": "mention", "status": item}, brand="b", host="h")


# ---- the sources against their emulators ---------------------------------------------------------


def test_bluesky_search_finds_the_brand_named_without_the_at_and_resumes() -> None:
    with BlueskyEmulator() as emulator:
        saved: list[str] = []
        session = bluesky.BlueskySession(
            client=Client(base_url=emulator.xrpc_url),
            handle=emulator.brand_handle,
            password="sandbox-app-password",
            saved=lambda: saved[-1] if saved else None,
            save=saved.append,
        )
        session.start()
        source = bluesky.BlueskySource(
            session=session,
            brand="Skylark Air",
            brand_handle=emulator.brand_handle,
            clock=ManualClock(NOW),
            queries=("skylark air",),
        )
        emulator.add_post("ana.bsky.social", "flying skylark air tomorrow, any tips?")
        first = source.fetch({})
        assert [m.text for m in first.mentions] == ["flying skylark air tomorrow, any tips?"]
        assert set(first.cursors) == {"bluesky:search:skylark air"}
        emulator.add_post("bo.bsky.social", "skylark air lost my bag")
        again = source.fetch(first.cursors)
        assert [m.text for m in again.mentions] == ["skylark air lost my bag"]
        assert saved and session.logins == 1  # the session was stored for the next start
