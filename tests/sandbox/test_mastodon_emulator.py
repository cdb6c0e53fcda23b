"""MastodonEmulator driven by the real Mastodon.py client (urllib only for the control endpoint)."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServiceUnavailableError,
    MastodonUnauthorizedError,
)

from bot.sandbox.http import Fault, Gate
from bot.sandbox.mastodon import (
    CONTROL_STATUS,
    INSTANCE_V1,
    INSTANCE_V2,
    NOTIFICATIONS,
    POST_STATUS,
    MastodonEmulator,
    status_length,
)

SECOND_TOKEN = "second-brand-token"


@pytest.fixture
def masto() -> Iterator[MastodonEmulator]:
    with MastodonEmulator() as emulator:
        yield emulator


def _client(emulator: MastodonEmulator, token: str | None = None) -> Mastodon:
    return Mastodon(
        access_token=token or emulator.access_token,
        api_base_url=emulator.url,
        ratelimit_method="throw",
        request_timeout=5,
    )


@pytest.fixture
def client(masto: MastodonEmulator) -> Mastodon:
    return _client(masto)


def _request(url: str, *, body: dict[str, Any] | None = None) -> tuple[int, Any, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST" if data else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.load(error), error.headers


def _mentions(emulator: MastodonEmulator, count: int, *, author: str = "alice") -> list[str]:
    return [emulator.add_status(author, f"@skylarkair question {n}") for n in range(count)]


# -- instance and account --------------------------------------------------------------------


def test_url_is_loopback_without_trailing_slash(masto: MastodonEmulator) -> None:
    assert masto.url.startswith("http://127.0.0.1:")
    assert not masto.url.endswith("/")


def test_no_request_at_construction_and_instance_reads_v2(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    assert masto.calls() == []
    instance = client.instance()
    assert instance.configuration.statuses.max_characters == 500
    assert instance.configuration.statuses.characters_reserved_per_url == 23
    assert instance.domain == "social.example"
    assert instance.configuration.urls.streaming == f"ws://{masto.url.removeprefix('http://')}"
    assert client.instance_v1().configuration.statuses.max_characters == 500
    endpoints = [c.endpoint for c in masto.calls()]
    assert endpoints[:3] == [INSTANCE_V1, INSTANCE_V2, INSTANCE_V2]  # version check, then v2


def test_non_default_limit_and_version_check_without_warnings() -> None:
    with MastodonEmulator(max_characters=1000, version="4.3.2") as emulator:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            checked = Mastodon(
                access_token=emulator.access_token,
                api_base_url=emulator.url,
                ratelimit_method="throw",
                version_check_mode="created",
            )
        assert (checked.mastodon_major, checked.mastodon_minor, checked.mastodon_patch) == (4, 3, 2)
        assert checked.mastodon_api_version == 2
        assert checked.instance_v2().configuration.statuses.max_characters == 1000
        posted = checked.status_post("a" * 1000)
        assert posted.content == f"<p>{'a' * 1000}</p>"


def test_verify_credentials_is_the_token_owner(masto: MastodonEmulator, client: Mastodon) -> None:
    second = masto.add_brand(
        username="skylarkcargo", name="Skylark Cargo", access_token=SECOND_TOKEN
    )
    me = client.account_verify_credentials()
    assert (me.id, me.username, me.acct, me.display_name) == (
        masto.brand_id,
        "skylarkair",
        "skylarkair",
        "Skylark Air",
    )
    assert me.url == "https://social.example/@skylarkair"
    assert me.source.privacy == "public"
    assert _client(masto, SECOND_TOKEN).account_verify_credentials().id == second


def test_bad_token_is_unauthorized(masto: MastodonEmulator) -> None:
    with pytest.raises(MastodonUnauthorizedError) as caught:
        _client(masto, "not-a-token").account_verify_credentials()
    assert caught.value.args[1:] == (401, "Unauthorized", "The access token is invalid")


# -- notifications -----------------------------------------------------------------------------


def test_mentions_are_filtered_by_type_newest_first(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    masto.add_user("alice", name="Alice", followers=12)
    own = masto.add_status("skylarkair", "Boarding now")
    first, second = _mentions(masto, 2)
    masto.add_favourite("alice", own)
    masto.add_follow("bob@other.example")
    masto.add_status("alice", "no mention of anyone here")

    mentions = client.notifications(types=["mention"])
    assert [n.status.id for n in mentions] == [second, first]
    assert {n.type for n in mentions} == {"mention"}
    assert mentions[0].account.acct == "alice"
    assert mentions[0].account.followers_count == 12
    assert [n.type for n in client.notifications()] == ["follow", "favourite", "mention", "mention"]
    excluded = client.notifications(exclude_types=["follow", "favourite"])
    assert [n.type for n in excluded] == ["mention", "mention"]
    assert masto.calls(NOTIFICATIONS)[-1].params["exclude_types[]"] == ["follow", "favourite"]


def test_min_id_pages_ascending_through_every_mention(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    posted = _mentions(masto, 5)
    masto.add_follow("carol")  # not a mention: never in these pages
    seen: list[str] = []
    page = client.notifications(types=["mention"], min_id=0, limit=2)
    pages = 0
    while page:
        assert [int(n.id) for n in page] == sorted((int(n.id) for n in page), reverse=True)
        seen += [n.status.id for n in reversed(page)]
        page = client.fetch_previous(page)
        pages += 1
    assert seen == posted
    assert pages == 3
    link = masto.calls(NOTIFICATIONS)[0]
    assert link.params["types[]"] == ["mention"]


def test_since_id_is_the_newest_page_above_and_max_id_goes_back(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    _mentions(masto, 5)
    ids = [n.id for n in client.notifications(types=["mention"])]  # newest first
    oldest = ids[-1]
    assert [n.id for n in client.notifications(since_id=oldest, limit=2)] == ids[:2]
    assert [n.id for n in client.notifications(min_id=oldest, limit=2)] == ids[-3:-1]
    newest = client.notifications(limit=2)
    assert [n.id for n in newest] == ids[:2]
    assert [n.id for n in client.fetch_next(newest)] == ids[2:4]
    assert client.notifications(since_id=ids[0]) == []


def test_mentions_are_per_brand(masto: MastodonEmulator, client: Mastodon) -> None:
    masto.add_brand(username="skylarkcargo", name="Skylark Cargo", access_token=SECOND_TOKEN)
    masto.add_status("alice", "@skylarkcargo where is my crate?")
    assert client.notifications() == []
    [cargo] = _client(masto, SECOND_TOKEN).notifications(types=["mention"])
    assert cargo.status.mentions[0].acct == "skylarkcargo"


def test_reply_to_the_brand_is_prefixed_and_is_a_mention(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    post = masto.add_status("skylarkair", "New route to the coast!")
    masto.add_status("bob@other.example", "any discounts?", in_reply_to=post)
    [note] = client.notifications(types=["mention"])
    assert note.status.in_reply_to_id == post
    assert note.status.in_reply_to_account_id == masto.brand_id
    assert masto.statuses(author="bob@other.example")[0]["text"] == (
        "@skylarkair@social.example any discounts?"
    )


def test_private_mentions_notify_by_default(masto: MastodonEmulator, client: Mastodon) -> None:
    masto.add_status("alice", "@skylarkair psst, my booking code", visibility="direct")
    [note] = client.notifications(types=["mention"])
    assert note.status.visibility == "direct"


def test_mastodon_policy_filters_private_mentions_from_strangers() -> None:
    with MastodonEmulator(filter_private_mentions=True) as emulator:
        client = _client(emulator)
        stranger = emulator.add_status("alice", "@skylarkair my code is X1", visibility="direct")
        assert client.notifications() == []
        assert emulator.notifications()[0]["filtered"] is True
        answer = client.status_post(
            "@alice thanks, checking", in_reply_to_id=stranger, visibility="direct"
        )
        emulator.add_status("alice", "here it is again", in_reply_to=answer.id, visibility="direct")
        [note] = client.notifications()
        assert note.status.in_reply_to_id == answer.id
        emulator.add_follow("skylarkair", target="bob")
        emulator.add_status("bob", "@skylarkair hi from a followed account", visibility="direct")
        assert len(client.notifications()) == 2


# -- statuses ------------------------------------------------------------------------------------


def test_status_html_shape(masto: MastodonEmulator, client: Mastodon) -> None:
    masto.add_user("bob@other.example")
    text = (
        "@skylarkair @bob@other.example my bag <script>alert('x')</script> & more\n"
        "see https://www.example.com/a/very/long/path/to/the/claim/form?id=42. #LostBag\n\n"
        "thanks"
    )
    status = client.status(masto.add_status("alice", text))
    assert status.content == (
        '<p><span class="h-card" translate="no"><a href="https://social.example/@skylarkair" '
        'class="u-url mention">@<span>skylarkair</span></a></span> '
        '<span class="h-card" translate="no"><a href="https://other.example/@bob" '
        'class="u-url mention">@<span>bob</span></a></span> my bag '
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more<br />see "
        '<a href="https://www.example.com/a/very/long/path/to/the/claim/form?id=42" '
        'target="_blank" rel="nofollow noopener" translate="no">'
        '<span class="invisible">https://www.</span>'
        '<span class="ellipsis">example.com/a/very/long/path/t</span>'
        '<span class="invisible">o/the/claim/form?id=42</span></a>. '
        '<a href="https://social.example/tags/LostBag" class="mention hashtag" rel="tag">'
        "#<span>LostBag</span></a></p><p>thanks</p>"
    )
    assert [(m.acct, m.username) for m in status.mentions] == [
        ("skylarkair", "skylarkair"),
        ("bob@other.example", "bob"),
    ]
    assert [t.name for t in status.tags] == ["lostbag"]
    assert status.account.acct == "alice"
    assert status.visibility == "public"
    assert status.reblog is None


def test_unknown_mentions_stay_text_and_short_links_have_no_ellipsis(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    status = client.status(masto.add_status("alice", "hi @nobody see http://example.com/x"))
    assert status.mentions == []
    assert status.content == (
        '<p>hi @nobody see <a href="http://example.com/x" target="_blank" rel="nofollow noopener" '
        'translate="no"><span class="invisible">http://</span><span class="">example.com/x</span>'
        '<span class="invisible"></span></a></p>'
    )


def test_hostile_html_is_served_verbatim(masto: MastodonEmulator, client: Mastodon) -> None:
    hostile = (
        "<p>@<span>skylarkair</span> <script>steal()</script><b><i>x</b></i> &amp;&#x1F600;</p>"
    )
    status_id = masto.add_status_html("mallory@evil.example", hostile, mentions=["skylarkair"])
    [note] = client.notifications(types=["mention"])
    assert note.status.id == status_id
    assert note.status.content == hostile
    assert masto.statuses(author="mallory@evil.example")[0]["text"] is None


def test_direct_status_is_hidden_from_others(masto: MastodonEmulator, client: Mastodon) -> None:
    masto.add_brand(username="skylarkcargo", name="Skylark Cargo", access_token=SECOND_TOKEN)
    secret = masto.add_status("alice", "@skylarkair my passport number", visibility="direct")
    public = masto.add_status("alice", "hello world")
    assert client.status(secret).visibility == "direct"
    for other in (
        _client(masto, SECOND_TOKEN),
        Mastodon(api_base_url=masto.url, ratelimit_method="throw"),
    ):
        with pytest.raises(MastodonNotFoundError) as caught:
            other.status(secret)
        assert caught.value.args[3] == "Record not found"
        assert other.status(public).id == public
    with pytest.raises(MastodonNotFoundError):
        _client(masto, SECOND_TOKEN).status_post("@alice hi", in_reply_to_id=secret)


def test_direct_reply_keeps_thread_and_is_recorded(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    masto.subscribe(lambda kind, payload: events.append((kind, payload)))
    alice = masto.add_user("alice")
    question = masto.add_status("alice", "@skylarkair where is my bag?")
    reply = client.status_post(
        "@alice It is on the next flight.",
        in_reply_to_id=question,
        visibility="direct",
        language="en",
    )
    assert (reply.in_reply_to_id, reply.in_reply_to_account_id) == (question, alice)
    assert masto.account("alice") is not None
    assert reply.visibility == "direct"
    assert reply.application.name == "Earshot"
    assert [m.acct for m in reply.mentions] == ["alice"]
    [record] = masto.replies()
    assert record["id"] == reply.id
    assert record["brand"] == "skylarkair"
    assert record["requested"]["status"] == "@alice It is on the next flight."
    assert record["requested"]["visibility"] == "direct"
    assert record["idempotency_key"] is None
    assert masto.replies(brand="skylarkcargo") == []
    assert [kind for kind, _ in events] == ["post.added", "post.added", "reply.created"]
    assert masto.wait_for(lambda: masto.replies(brand="skylarkair"), timeout=1)


def test_idempotency_key_posts_once(masto: MastodonEmulator, client: Mastodon) -> None:
    first = client.status_post("We are on it.", idempotency_key="reply-42")
    again = client.status_post("We are on it.", idempotency_key="reply-42")
    other = client.status_post("We are on it.", idempotency_key="reply-43")
    assert again.id == first.id
    assert other.id != first.id
    assert [r["idempotency_key"] for r in masto.replies()] == ["reply-42", "reply-43"]
    assert masto.calls(POST_STATUS)[0].headers["idempotency-key"] == "reply-42"


def test_idempotency_key_expires_after_an_hour() -> None:
    now = [1_750_000_000.0]
    with MastodonEmulator(clock=lambda: now[0]) as emulator:
        client = _client(emulator)
        first = client.status_post("hello", idempotency_key="k")
        now[0] += 3601
        assert client.status_post("hello", idempotency_key="k").id != first.id


def test_length_limit_counts_links_as_23(masto: MastodonEmulator, client: Mastodon) -> None:
    with pytest.raises(MastodonAPIError) as caught:
        client.status_post("a" * 501)
    assert type(caught.value) is MastodonAPIError
    assert caught.value.args[1:] == (
        422,
        "Unprocessable Entity",
        "Validation failed: Text character limit of 500 exceeded",
    )
    link = "https://example.com/" + "x" * 80
    text = "@bob@other.example " + link + " " + "b" * (500 - 5 - 23 - 1)
    assert status_length(text) == 500
    masto.add_user("bob@other.example")
    assert client.status_post(text).mentions[0].acct == "bob@other.example"
    assert client.status_post("👍🏽" * 500).id
    with pytest.raises(MastodonAPIError) as blank:
        client.status_post("   \n ")
    assert blank.value.args[3] == "Validation failed: Text can't be blank"
    with pytest.raises(MastodonAPIError) as warned:
        client.status_post("a" * 490, spoiler_text="c" * 11)
    assert warned.value.args[1] == 422
    assert len(masto.replies()) == 2


def test_reply_to_an_unknown_status_is_not_found(client: Mastodon) -> None:
    with pytest.raises(MastodonNotFoundError) as caught:
        client.status_post("hi", in_reply_to_id="113000000000999999")
    assert caught.value.args[1:] == (
        404,
        "Not Found",
        "The post you are trying to reply to does not appear to exist.",
    )


def test_context_lists_the_brand_reply_in_thread_order(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    root = masto.add_status("alice", "@skylarkair my flight was cancelled")
    reply = client.status_post("@alice Sorry! Rebooking you now.", in_reply_to_id=root)
    follow_up = masto.add_status("alice", "thank you!", in_reply_to=reply.id)
    aside = masto.add_status("dave", "@alice same here", in_reply_to=root)
    context = client.status_context(root)
    assert context.ancestors == []
    assert [s.id for s in context.descendants] == [reply.id, follow_up, aside]
    below = client.status_context(follow_up)
    assert [s.id for s in below.ancestors] == [root, reply.id]
    assert masto.statuses(author="alice")[1]["text"] == "@skylarkair thank you!"


# -- faults, rate limits, transport ---------------------------------------------------------------


def test_injected_server_errors_surface_as_mastodon_errors(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    masto.inject(Fault(NOTIFICATIONS, status=503))
    with pytest.raises(MastodonServiceUnavailableError) as caught:
        client.notifications()
    assert caught.value.args[1] == 503
    masto.inject(Fault("*", status=500))
    with pytest.raises(MastodonInternalServerError):
        client.account_verify_credentials()
    masto.inject(Fault(NOTIFICATIONS, status=429, retry_after=120))
    with pytest.raises(MastodonRatelimitError):
        client.notifications()
    assert client.ratelimit_remaining == 0
    assert client.ratelimit_reset is not None and client.ratelimit_reset > time.time() + 60
    assert client.notifications() == []


def test_applied_fault_posts_but_the_client_sees_an_error(
    masto: MastodonEmulator, client: Mastodon
) -> None:
    masto.inject(Fault(POST_STATUS, status=503, applied=True))
    with pytest.raises(MastodonServiceUnavailableError):
        client.status_post("Sorry about that.", idempotency_key="retry-safe")
    [posted] = masto.replies()
    assert client.status_post("Sorry about that.", idempotency_key="retry-safe").id == posted["id"]
    assert len(masto.replies()) == 1


def test_gated_post_is_held_until_opened(masto: MastodonEmulator, client: Mastodon) -> None:
    gate = Gate()
    masto.inject(Fault(POST_STATUS, status=200, gate=gate))
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(client.status_post("held").id))
    worker.start()
    gate.wait_held(timeout=5)
    assert masto.replies() == []
    gate.open()
    worker.join(timeout=5)
    assert [r["id"] for r in masto.replies()] == result


def test_rate_limit_window_is_exhausted_then_429() -> None:
    with MastodonEmulator(rate_limits={NOTIFICATIONS: (2, 60.0)}) as emulator:
        client = _client(emulator)
        client.notifications()
        assert (client.ratelimit_limit, client.ratelimit_remaining) == (2, 1)
        client.notifications()
        assert client.ratelimit_remaining == 0  # no exception yet: "throw" acts on the 429
        with pytest.raises(MastodonRatelimitError):
            client.notifications()
        assert emulator.calls(NOTIFICATIONS)[-1].status == 429
        client.account_verify_credentials()  # other endpoints share the default budget
        assert client.ratelimit_limit == 300


def test_rate_limit_headers_are_mastodon_shaped(masto: MastodonEmulator) -> None:
    status, body, headers = _request(f"{masto.url}/api/v2/instance")
    assert status == 200 and body["domain"] == "social.example"
    assert headers["X-RateLimit-Limit"] == "300"
    assert headers["X-RateLimit-Remaining"] == "299"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", headers["X-RateLimit-Reset"])


def test_unknown_path_is_not_found(masto: MastodonEmulator) -> None:
    status, body, _ = _request(f"{masto.url}/api/v1/timelines/home")
    assert (status, body) == (404, {"error": "Not Found"})


def test_connection_refused_is_a_network_error() -> None:
    emulator = MastodonEmulator().start()
    client = _client(emulator)
    emulator.stop()
    with pytest.raises(MastodonNetworkError):
        client.instance_v2()


# -- control, reset ------------------------------------------------------------------------------


def test_control_endpoint_adds_a_status(masto: MastodonEmulator, client: Mastodon) -> None:
    status, body, _ = _request(
        f"{masto.url}/_sandbox/statuses",
        body={
            "author": "erin@other.example",
            "text": "@skylarkair hello",
            "visibility": "unlisted",
        },
    )
    assert status == 201
    [note] = client.notifications()
    assert (note.status.id, note.status.visibility) == (body["id"], "unlisted")
    assert masto.calls(CONTROL_STATUS)[0].status == 201
    status, body, _ = _request(f"{masto.url}/_sandbox/statuses", body={"author": "erin"})
    assert status == 422


def test_reset_keeps_brands_and_forgets_the_rest(masto: MastodonEmulator) -> None:
    cargo = masto.add_brand(
        username="skylarkcargo", name="Skylark Cargo", access_token=SECOND_TOKEN
    )
    _mentions(masto, 2)
    masto.reset()
    assert masto.statuses() == [] and masto.notifications() == [] and masto.calls() == []
    assert [b["id"] for b in masto.brands()] == [masto.brand_id, cargo]
    assert _client(masto, SECOND_TOKEN).account_verify_credentials().id == cargo
    with pytest.raises(ValueError):
        masto.add_brand(username="SkylarkCargo", name="again", access_token="t3")
