"""BlueskyEmulator driven by the real atproto Client (and urllib for the control endpoint)."""

from __future__ import annotations

import ast
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from atproto import Client, models
from atproto_client.exceptions import (
    BadRequestError,
    NetworkError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError

from bot.sandbox import bluesky as bluesky_module
from bot.sandbox.bluesky import (
    CREATE_RECORD,
    CREATE_SESSION,
    GET_POSTS,
    GET_PROFILE,
    GET_RECORD,
    LIKE,
    LIST_NOTIFICATIONS,
    LIST_RECORDS,
    POST,
    REFRESH_SESSION,
    SEARCH_POSTS,
    TID_ALPHABET,
    BlueskyEmulator,
)
from bot.sandbox.http import Fault

BRAND = "skylarkair.bsky.social"
PASSWORD = "sandbox-app-password"
ANA = "ana.bsky.social"
BO = "bo.example.com"


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[BlueskyEmulator, Client]]:
    """One emulator and one logged-in client for the module (tokens survive ``reset``)."""
    with BlueskyEmulator() as emulator:
        sdk = Client(base_url=emulator.xrpc_url)
        sdk.login(BRAND, PASSWORD)
        yield emulator, sdk
        sdk.request.close()


@pytest.fixture
def bs(shared: tuple[BlueskyEmulator, Client]) -> BlueskyEmulator:
    emulator, _ = shared
    emulator.reset()
    return emulator


@pytest.fixture
def client(shared: tuple[BlueskyEmulator, Client], bs: BlueskyEmulator) -> Client:
    return shared[1]


@pytest.fixture
def fresh() -> Iterator[tuple[BlueskyEmulator, Client]]:
    """An emulator and client of their own, for tests that spoil the session's tokens."""
    with BlueskyEmulator() as emulator:
        sdk = Client(base_url=emulator.xrpc_url)
        sdk.login(BRAND, PASSWORD, fetch_bsky_profile=False)
        yield emulator, sdk
        sdk.request.close()


def _error(exc: Exception) -> XrpcError:
    """The XRPC error body the SDK parsed out of a failed response."""
    response = getattr(exc, "response", None)
    assert response is not None
    assert isinstance(response.content, XrpcError)
    return response.content


def _strong_ref(uri: str, bs: BlueskyEmulator) -> models.ComAtprotoRepoStrongRef.Main:
    [post] = [p for p in bs.posts() if p["uri"] == uri]
    return models.ComAtprotoRepoStrongRef.Main(uri=post["uri"], cid=post["cid"])


def _reply_ref(parent: str, root: str, bs: BlueskyEmulator) -> models.AppBskyFeedPost.ReplyRef:
    return models.AppBskyFeedPost.ReplyRef(
        parent=_strong_ref(parent, bs), root=_strong_ref(root, bs)
    )


def _get(url: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.load(error)


# -- sessions --------------------------------------------------------------------------------


def test_xrpc_url_login_and_profile(bs: BlueskyEmulator) -> None:
    assert bs.xrpc_url == f"http://127.0.0.1:{bs.port}/xrpc"
    assert bs.url == bs.xrpc_url
    sdk = Client(base_url=bs.base_url)  # the SDK appends /xrpc itself

    me = sdk.login(BRAND, PASSWORD)

    assert me is not None
    assert (me.did, me.handle, me.display_name) == (bs.brand_did, BRAND, "Skylark Air")
    assert re.fullmatch(r"did:plc:[a-z2-7]{24}", bs.brand_did)
    assert bs.logins(BRAND) == 1
    assert [c.status for c in bs.calls(GET_PROFILE)] == [200]
    ana = bs.add_user(ANA, name="Ana", followers=42)
    profile = sdk.get_profile(ANA)
    assert (profile.did, profile.display_name, profile.followers_count) == (ana, "Ana", 42)
    assert sdk.get_profile(ana).handle == ANA
    sdk.request.close()


def test_tokens_are_decodable_jwts(client: Client, bs: BlueskyEmulator) -> None:
    session = client._session
    assert session is not None
    access, refresh = session.access_jwt_payload, session.refresh_jwt_payload

    assert (access.scope, refresh.scope) == ("com.atproto.appPass", "com.atproto.refresh")
    assert access.sub == refresh.sub == bs.brand_did
    assert access.exp is not None and access.iat is not None
    assert access.exp - access.iat == 7200
    assert access.jti != refresh.jti
    assert client.com.atproto.server.get_session().handle == BRAND


def test_session_string_is_reused_without_a_new_login(client: Client, bs: BlueskyEmulator) -> None:
    exported = client.export_session_string()
    again = Client(base_url=bs.xrpc_url)
    logins = bs.logins(BRAND)

    profile = again.login(session_string=exported)

    assert profile is not None and profile.did == bs.brand_did
    assert bs.logins(BRAND) == logins
    assert bs.calls(CREATE_SESSION) == []
    assert again.com.atproto.server.get_session().did == bs.brand_did
    again.request.close()


def test_short_lived_tokens_make_the_sdk_refresh() -> None:
    with BlueskyEmulator(access_ttl=60) as bs:
        sdk = Client(base_url=bs.xrpc_url)
        sdk.login(BRAND, PASSWORD, fetch_bsky_profile=False)
        first = sdk.export_session_string()

        sdk.get_profile(BRAND)  # exp is within the SDK's 15-minute margin: it refreshes first

        assert bs.refreshes(BRAND) == 1
        assert [c.status for c in bs.calls(REFRESH_SESSION)] == [200]
        assert bs.calls(REFRESH_SESSION)[0].headers["authorization"].endswith(first.split(":::")[3])
        assert sdk.export_session_string() != first
        assert bs.calls(GET_PROFILE)[-1].status == 200
        sdk.request.close()


def test_expired_access_token_is_400_expired_token(
    fresh: tuple[BlueskyEmulator, Client],
) -> None:
    bs, client = fresh
    bs.expire_tokens()

    with pytest.raises(BadRequestError) as error:
        client.app.bsky.notification.list_notifications()

    assert (_error(error.value).error, _error(error.value).message) == (
        "ExpiredToken",
        "Token has expired",
    )
    client._refresh_and_set_session()  # the refresh token still works
    assert client.app.bsky.notification.list_notifications().notifications == []


def test_unknown_token_and_refresh_token_misuse(fresh: tuple[BlueskyEmulator, Client]) -> None:
    bs, client = fresh
    session = client._session
    assert session is not None
    headers = {"Authorization": f"Bearer {session.refresh_jwt}"}
    with pytest.raises(BadRequestError) as misuse:
        client.com.atproto.server.get_session(headers=headers)
    assert _error(misuse.value).error == "InvalidToken"

    with pytest.raises(UnauthorizedError) as unknown:
        client.com.atproto.server.get_session(headers={"Authorization": "Bearer a.b.c"})
    assert _error(unknown.value).error == "AuthenticationRequired"

    bs.expire_tokens(refresh=True)
    with pytest.raises(BadRequestError, match="ExpiredToken"):
        client._refresh_and_set_session()


def test_wrong_password_is_401(bs: BlueskyEmulator) -> None:
    sdk = Client(base_url=bs.xrpc_url)

    with pytest.raises(UnauthorizedError) as error:
        sdk.login(BRAND, "not-the-password")

    assert error.value.response is not None
    assert error.value.response.status_code == 401
    assert _error(error.value).message == "Invalid identifier or password"
    assert bs.logins(BRAND) == 0
    sdk.request.close()


def test_login_rate_limit_per_handle() -> None:
    with BlueskyEmulator(login_limit=2) as bs:
        sdk = Client(base_url=bs.xrpc_url)
        for _ in range(2):
            sdk.login(BRAND, PASSWORD, fetch_bsky_profile=False)

        with pytest.raises(RateLimitExceededError) as error:
            sdk.login(BRAND, PASSWORD, fetch_bsky_profile=False)

        assert (error.value.limit, error.value.remaining, error.value.policy) == (2, 0, "2;w=300")
        assert error.value.reset_at is not None
        assert error.value.reset_at > datetime.now(UTC)
        assert bs.logins(BRAND) == 2
        sdk.request.close()


def test_second_brand_logs_in_and_brands_survive_reset(bs: BlueskyEmulator) -> None:
    did = bs.add_brand(handle="larkcargo.bsky.social", password="pw2", name="Lark Cargo")
    bs.reset()
    sdk = Client(base_url=bs.xrpc_url)

    me = sdk.login("larkcargo.bsky.social", "pw2")

    assert me is not None and me.did == did
    assert [b["handle"] for b in bs.brands()][:2] == [BRAND, "larkcargo.bsky.social"]
    with pytest.raises(ValueError, match="already a brand"):
        bs.add_brand(handle="larkcargo.bsky.social", password="x")
    sdk.request.close()


# -- notifications ---------------------------------------------------------------------------


def test_notifications_reasons_newest_first_and_paging(client: Client, bs: BlueskyEmulator) -> None:
    """A reply that also mentions the brand arrives as a "mention": the real AppView notifies
    mentions first, then quotes, then replies, each account once. Pages are cut at the sortAt
    of the last item, an ISO time, with no cursor after the last page."""
    launch = bs.add_post(BRAND, "New route to Lisbon")
    mention = bs.add_post(ANA, f"@{BRAND} my bag is lost")
    reply = bs.add_post(BO, f"yay @{BRAND}", reply_to=launch)  # the mention comes first
    quote = bs.add_post(ANA, "finally", quote=launch)
    like = bs.add_like(BO, launch)
    bs.add_post(BRAND, f"@{BRAND} talking to myself")
    bs.add_post(ANA, "@someone.else.social unrelated")

    first = client.app.bsky.notification.list_notifications({"limit": 3})
    rest = client.app.bsky.notification.list_notifications({"limit": 3, "cursor": first.cursor})

    items = first.notifications + rest.notifications
    assert [(n.uri, n.reason) for n in items] == [
        (like, "like"),
        (quote, "quote"),
        (reply, "mention"),
        (mention, "mention"),
    ]
    assert first.cursor == first.notifications[-1].indexed_at
    assert rest.cursor is None
    assert [n.reason_subject for n in items] == [launch, launch, None, None]
    stamps = [n.indexed_at for n in items]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == 4
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s) for s in stamps)
    assert items[2].record.reply.root.uri == launch
    assert items[2].author.handle == BO


def test_reasons_filter_drops_likes_and_follows(client: Client, bs: BlueskyEmulator) -> None:
    launch = bs.add_post(BRAND, "Hello Bluesky")
    bs.add_like(ANA, launch)
    bs.add_follow(ANA)
    mention = bs.add_post(ANA, f"Hey @{BRAND}!")

    answer = client.app.bsky.notification.list_notifications(
        {"reasons": ["mention", "reply", "quote"]}
    )

    assert [n.uri for n in answer.notifications] == [mention]
    assert bs.calls(LIST_NOTIFICATIONS)[-1].params["reasons"] == ["mention", "reply", "quote"]
    every = client.app.bsky.notification.list_notifications()
    assert [n.reason for n in every.notifications] == ["mention", "follow", "like"]


def test_mention_facet_uses_utf8_byte_offsets(bs: BlueskyEmulator) -> None:
    text = f"Café ✈️ @{BRAND} see https://example.com/a."
    uri = bs.add_post(ANA, text)

    [post] = bs.posts(ANA)
    facets = post["record"]["facets"]
    encoded = text.encode()
    spans = [encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets]

    assert post["uri"] == uri
    assert spans == [f"@{BRAND}", "https://example.com/a"]
    assert facets[0]["features"] == [
        {"$type": "app.bsky.richtext.facet#mention", "did": bs.brand_did}
    ]
    rkey = uri.rsplit("/", 1)[1]
    assert len(rkey) == 13 and set(rkey) <= set(TID_ALPHABET)
    assert post["cid"].startswith("bafyrei")


def test_limit_out_of_range_is_invalid_request(client: Client) -> None:
    with pytest.raises(BadRequestError) as error:
        client.invoke_query(
            "app.bsky.notification.listNotifications", params=models.dot_dict.DotDict({"limit": 0})
        )

    assert _error(error.value).error == "InvalidRequest"


# -- AppView reads ---------------------------------------------------------------------------


def test_search_posts_words_phrases_and_paging(client: Client, bs: BlueskyEmulator) -> None:
    old = bs.add_post(ANA, "Lost bag at LIS", created_at=datetime(2025, 1, 1, tzinfo=UTC))
    new = bs.add_post(BO, "My bag was lost again")
    bs.add_post(ANA, "baggage claim was fine")

    found = client.app.bsky.feed.search_posts({"q": "BAG lost", "sort": "latest", "limit": 1})
    more = client.app.bsky.feed.search_posts({"q": "bag lost", "cursor": found.cursor})
    phrase = client.app.bsky.feed.search_posts({"q": '"lost again"'})
    recent = client.app.bsky.feed.search_posts({"q": "bag", "since": "2025-06-01T00:00:00Z"})

    assert [p.uri for p in found.posts + more.posts] == [new, old]
    assert found.hits_total == 2 and more.cursor is None
    assert [p.uri for p in phrase.posts] == [new]
    assert [p.uri for p in recent.posts] == [new]
    assert found.posts[0].author.handle == BO
    assert [c.status for c in bs.calls(SEARCH_POSTS)] == [200] * 4


def test_get_posts_skips_unknown_uris(client: Client, bs: BlueskyEmulator) -> None:
    first = bs.add_post(ANA, "one")
    second = bs.add_post(BO, "two", quote=first)
    missing = f"at://{bs.brand_did}/app.bsky.feed.post/3zzzzzzzzzzzz"

    answer = client.get_posts([second, missing, first])

    assert [p.uri for p in answer.posts] == [second, first]
    assert answer.posts[1].quote_count == 1
    assert answer.posts[0].embed is not None
    assert bs.calls(GET_POSTS)[-1].params["uris"] == [second, missing, first]


def test_thread_holds_the_brand_reply(client: Client, bs: BlueskyEmulator) -> None:
    root = bs.add_post(ANA, f"@{BRAND} where is my bag?")
    follow_up = bs.add_post(ANA, "still waiting", reply_to=root)

    created = client.send_post("We are on it!", reply_to=_reply_ref(follow_up, root, bs))

    thread = client.get_post_thread(root).thread
    assert isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost)
    [child] = thread.replies or []
    assert isinstance(child, models.AppBskyFeedDefs.ThreadViewPost)
    assert child.post.uri == follow_up
    [brand_reply] = child.replies or []
    assert isinstance(brand_reply, models.AppBskyFeedDefs.ThreadViewPost)
    assert brand_reply.post.uri == created.uri
    assert brand_reply.post.author.did == bs.brand_did
    leaf = client.get_post_thread(created.uri).thread
    assert isinstance(leaf, models.AppBskyFeedDefs.ThreadViewPost)
    assert isinstance(leaf.parent, models.AppBskyFeedDefs.ThreadViewPost)
    assert leaf.parent.post.uri == follow_up


def test_unknown_thread_is_not_found(client: Client, bs: BlueskyEmulator) -> None:
    uri = f"at://{bs.brand_did}/app.bsky.feed.post/3zzzzzzzzzzzz"

    with pytest.raises(BadRequestError) as error:
        client.get_post_thread(uri)

    assert (_error(error.value).error, _error(error.value).message) == (
        "NotFound",
        f"Post not found: {uri}",
    )


# -- writes ----------------------------------------------------------------------------------


def test_send_post_reply_sets_root_and_parent(client: Client, bs: BlueskyEmulator) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    bs.subscribe(lambda kind, payload: events.append((kind, payload)))
    root = bs.add_post(ANA, f"@{BRAND} flight delayed")
    parent = bs.add_post(BO, "same here", reply_to=root)

    created = client.send_post("Sorry, DM us", reply_to=_reply_ref(parent, root, bs))

    [reply] = bs.replies()
    assert reply["uri"] == created.uri and reply["cid"] == created.cid
    assert (reply["did"], reply["handle"]) == (bs.brand_did, BRAND)
    assert reply["record"]["reply"]["root"]["uri"] == root
    assert reply["record"]["reply"]["parent"]["uri"] == parent
    assert reply["requested"]["repo"] == bs.brand_did
    assert bs.posts(BO)[0]["record"]["reply"]["root"]["uri"] == root
    assert [k for k, _ in events] == ["post.added", "post.added", "post.added", "reply.created"]
    assert events[-1][1]["uri"] == created.uri
    assert [c.status for c in bs.calls(CREATE_RECORD)] == [200]


def test_reply_to_a_brand_post_notifies_another_brand(bs: BlueskyEmulator) -> None:
    bs.add_brand(handle="larkfreight.bsky.social", password="pw3")
    cargo = Client(base_url=bs.xrpc_url)
    cargo.login("larkfreight.bsky.social", "pw3")
    launch = bs.add_post(BRAND, "We fly to Porto now")

    cargo.send_post("And we carry the cargo!", reply_to=_reply_ref(launch, launch, bs))

    [notice] = bs.notifications()
    assert (notice["reason"], notice["reasonSubject"]) == ("reply", launch)
    assert bs.notifications("larkfreight.bsky.social") == []
    cargo.request.close()


def test_grapheme_limit(client: Client, bs: BlueskyEmulator) -> None:
    """The real PDS's lexicon messages: UTF-8 bytes are checked before graphemes."""
    with pytest.raises(BadRequestError) as error:
        client.send_post("a" * 301)

    assert _error(error.value).error == "InvalidRequest"
    assert _error(error.value).message == (
        "Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301) "
        "at $.record.text"
    )
    client.send_post("\U0001f44d\U0001f3fd" * 300)  # thumbs up, skin tone: one grapheme each
    client.send_post("\U0001f1f5\U0001f1f9" * 150 + "e\u0301" * 150)  # flags, combining marks
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    with pytest.raises(BadRequestError, match="string too big"):
        client.send_post(family * 200)  # 200 graphemes, but 3600 UTF-8 bytes
    assert len(bs.replies()) == 2


def test_unknown_parent_is_rejected(client: Client, bs: BlueskyEmulator) -> None:
    ghost = models.ComAtprotoRepoStrongRef.Main(
        uri=f"at://{bs.brand_did}/app.bsky.feed.post/3zzzzzzzzzzzz", cid="bafyreighost"
    )
    reply_to = models.AppBskyFeedPost.ReplyRef(parent=ghost, root=ghost)

    with pytest.raises(BadRequestError, match="Could not locate record"):
        client.send_post("hello?", reply_to=reply_to)

    assert bs.replies() == []


def test_wrong_repo_is_rejected_and_a_used_rkey_is_a_500(
    client: Client, bs: BlueskyEmulator
) -> None:
    """The real PDS answers a record key already used with a bare 500, not a clean conflict,
    and writes nothing."""
    record = models.AppBskyFeedPost.Record(text="hi", created_at=client.get_current_time_iso())
    ana = bs.add_user(ANA)
    with pytest.raises(BadRequestError, match="Invalid repo"):
        client.app.bsky.feed.post.create(ana, record)

    client.app.bsky.feed.post.create(BRAND, record, rkey="3kaaaaaaaaaa2")
    with pytest.raises(RequestException) as error:
        client.app.bsky.feed.post.create(bs.brand_did, record, rkey="3kaaaaaaaaaa2")

    assert error.value.response is not None and error.value.response.status_code == 500
    assert (_error(error.value).error, _error(error.value).message) == (
        "InternalServerError",
        "Internal Server Error",
    )
    assert len(bs.replies()) == 1


# -- faults, limits, control -----------------------------------------------------------------


def test_injected_faults_surface_as_sdk_exceptions(client: Client, bs: BlueskyEmulator) -> None:
    bs.inject(Fault(endpoint=LIST_NOTIFICATIONS, status=503))
    with pytest.raises(RequestException) as unavailable:
        client.app.bsky.notification.list_notifications()
    assert not isinstance(unavailable.value, RateLimitExceededError)
    assert unavailable.value.response is not None
    assert unavailable.value.response.status_code == 503
    assert _error(unavailable.value).error == "NotEnoughResources"

    bs.inject(Fault(endpoint=SEARCH_POSTS, status=429, retry_after=30))
    with pytest.raises(RateLimitExceededError) as limited:
        client.app.bsky.feed.search_posts({"q": "bag"})
    assert limited.value.remaining == 0
    assert limited.value.reset_at is not None
    assert limited.value.reset_at.timestamp() >= time.time() + 29

    bs.inject(Fault(endpoint=GET_POSTS, status=502))
    with pytest.raises(NetworkError):
        client.get_posts([])


def test_applied_fault_creates_the_post_but_fails_the_answer(
    client: Client, bs: BlueskyEmulator
) -> None:
    mention = bs.add_post(ANA, f"@{BRAND} help")
    bs.inject(Fault(endpoint=CREATE_RECORD, status=500, applied=True))

    with pytest.raises(RequestException) as error:
        client.send_post("On it", reply_to=_reply_ref(mention, mention, bs))

    assert _error(error.value).error == "InternalServerError"
    [reply] = bs.replies()
    assert reply["record"]["text"] == "On it"


def test_endpoint_rate_limit_and_headers() -> None:
    with BlueskyEmulator(rate_limits={GET_PROFILE: (2, 60.0)}) as bs:
        url = f"{bs.xrpc_url}/app.bsky.actor.getProfile?actor={BRAND}"
        status, headers, _ = _get(url)
        assert status == 200
        assert (headers["ratelimit-limit"], headers["ratelimit-remaining"]) == ("2", "1")
        assert headers["ratelimit-policy"] == "2;w=60"
        assert int(headers["ratelimit-reset"]) >= time.time()
        _get(url)

        status, headers, body = _get(url)

        assert (status, body["error"], headers["ratelimit-remaining"]) == (
            429,
            "RateLimitExceeded",
            "0",
        )


def test_unknown_method_and_unknown_profile(client: Client, bs: BlueskyEmulator) -> None:
    with pytest.raises(RequestException) as error:
        client.invoke_query("app.bsky.unspecced.getNothing")
    assert _error(error.value).error == "MethodNotImplemented"
    assert error.value.response is not None and error.value.response.status_code == 501

    with pytest.raises(BadRequestError, match="Profile not found"):
        client.get_profile("nobody.bsky.social")


def test_control_endpoint_adds_a_post(client: Client, bs: BlueskyEmulator) -> None:
    body = json.dumps({"author": ANA, "text": f"@{BRAND} via the control endpoint"}).encode()
    request = urllib.request.Request(
        f"{bs.base_url}/_sandbox/posts",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        uri = json.load(response)["uri"]

    [notice] = client.app.bsky.notification.list_notifications().notifications
    assert (notice.uri, notice.reason) == (uri, "mention")


# -- fidelity to the real stack (measured against @atproto/dev-env 0.6.7) ---------------------


class _Clock:
    """The wall clock plus an offset a test moves forward (tokens stay valid for the SDK)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def lagging() -> Iterator[tuple[BlueskyEmulator, Client, _Clock]]:
    """An emulator whose AppView indexes records 1.5 s (of its clock) after the PDS stores them."""
    clock = _Clock()
    with BlueskyEmulator(clock=clock, appview_lag=1.5) as emulator:
        sdk = Client(base_url=emulator.xrpc_url)
        sdk.login(BRAND, PASSWORD, fetch_bsky_profile=False)
        yield emulator, sdk, clock
        sdk.request.close()


def test_backdated_post_is_dated_and_sorted_by_its_created_at(
    client: Client, bs: BlueskyEmulator
) -> None:
    """The real AppView serves sortAt (the earlier of createdAt and the index time) as
    ``indexedAt`` everywhere and sorts by it: a post from 2020 sits below newer ones."""
    launch = bs.add_post(BRAND, "Lisbon, daily")
    old = bs.add_post(
        ANA, f"@{BRAND} lost bag", reply_to=launch, created_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    new = bs.add_post(BO, f"@{BRAND} lost bag too")

    notices = client.app.bsky.notification.list_notifications().notifications
    [view] = client.get_posts([old]).posts
    found = client.app.bsky.feed.search_posts({"q": "lost bag"}).posts
    thread = client.get_post_thread(launch).thread

    assert [(n.uri, n.indexed_at) for n in notices][1] == (old, "2020-01-01T00:00:00.000Z")
    assert [n.uri for n in notices] == [new, old]
    assert view.indexed_at == "2020-01-01T00:00:00.000Z"
    assert [p.uri for p in found] == [new, old]
    assert found[1].indexed_at == "2020-01-01T00:00:00.000Z"
    assert isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost)
    [child] = thread.replies or []
    assert isinstance(child, models.AppBskyFeedDefs.ThreadViewPost)
    assert child.post.indexed_at == "2020-01-01T00:00:00.000Z"
    assert bs.notifications()[1]["indexedAt"] == "2020-01-01T00:00:00.000Z"


def test_notification_cursor_is_the_last_sort_at_and_pages_strictly_before(
    client: Client, bs: BlueskyEmulator
) -> None:
    """The real cursor is an ISO time (the page's last sortAt); the next page holds what sorts
    strictly before it; the last page has no cursor key at all."""
    uris = [bs.add_post(ANA, f"@{BRAND} number {i}") for i in range(5)]

    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.app.bsky.notification.list_notifications(params)
        pages.append([n.uri for n in page.notifications])
        if page.cursor is None:
            break
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", page.cursor)
        assert page.cursor == page.notifications[-1].indexed_at
        cursor = page.cursor

    assert pages == [uris[4:2:-1], uris[2:0:-1], uris[:1]]
    stamp = bs.notifications()[2]["indexedAt"]  # the third newest: only two sort before it
    after = client.app.bsky.notification.list_notifications({"cursor": stamp})
    assert [n.uri for n in after.notifications] == uris[1::-1]
    with pytest.raises(BadRequestError) as error:
        client.app.bsky.notification.list_notifications({"cursor": "bm90LWEtdGltZQ"})
    assert _error(error.value).error == "InvalidRequest"


def test_appview_reads_lag_behind_the_pds(
    lagging: tuple[BlueskyEmulator, Client, _Clock],
) -> None:
    """On the real stack a post shows in AppView reads 0.2-1.8 s after the PDS stored it;
    the PDS's own repo reads show it at once."""
    bs, client, clock = lagging
    launch = bs.add_post(BRAND, "We fly to Porto")
    clock.offset += 1.5
    reply = bs.add_post(ANA, f"@{BRAND} lost bag, help", reply_to=launch)
    rkey = reply.rsplit("/", 1)[1]

    assert client.app.bsky.notification.list_notifications().notifications == []
    assert client.get_posts([reply]).posts == []
    assert client.get_posts([launch]).posts[0].reply_count == 0
    assert client.app.bsky.feed.search_posts({"q": "lost bag"}).posts == []
    with pytest.raises(BadRequestError, match="Post not found"):
        client.get_post_thread(reply)
    stored = client.com.atproto.repo.get_record({"repo": ANA, "collection": POST, "rkey": rkey})
    assert stored.uri == reply
    listed = client.com.atproto.repo.list_records({"repo": ANA, "collection": POST})
    assert [r.uri for r in listed.records] == [reply]
    assert [p["uri"] for p in bs.posts(ANA)] == [reply]  # inspection: what the PDS holds
    assert bs.posts(ANA, indexed=True) == []
    assert [n["uri"] for n in bs.notifications()] == [reply]
    assert bs.notifications(indexed=True) == []

    clock.offset += 1.5

    [notice] = client.app.bsky.notification.list_notifications().notifications
    assert (notice.uri, notice.reason, notice.indexed_at) == (
        reply,
        "mention",
        bs.posts(ANA)[0]["record"]["createdAt"],
    )
    assert client.get_posts([launch]).posts[0].reply_count == 1
    assert [p.uri for p in client.app.bsky.feed.search_posts({"q": "lost bag"}).posts] == [reply]


def test_brand_reply_through_the_sdk_lags_and_the_lag_can_change(
    lagging: tuple[BlueskyEmulator, Client, _Clock],
) -> None:
    bs, client, clock = lagging
    created = client.send_post("Hello from the brand", profile_identify=bs.brand_did)
    rkey = created.uri.rsplit("/", 1)[1]

    assert client.get_posts([created.uri]).posts == []
    assert client.app.bsky.feed.post.get(BRAND, rkey).uri == created.uri
    assert [r["uri"] for r in bs.replies()] == [created.uri]
    assert bs.replies(indexed=True) == []
    assert bs.appview_lag == 1.5

    bs.appview_lag = 0.0
    now = client.send_post("Seen at once", profile_identify=bs.brand_did)

    assert [p.uri for p in client.get_posts([created.uri, now.uri]).posts] == [now.uri]
    clock.offset += 1.5
    assert len(client.get_posts([created.uri, now.uri]).posts) == 2
    with pytest.raises(ValueError, match="appview_lag"):
        bs.appview_lag = -1.0


def test_a_reply_notifies_its_ancestors_below_height_five(
    client: Client, bs: BlueskyEmulator
) -> None:
    """The real AppView notifies every ancestor of a reply with height < 5 (reason "reply",
    the ancestor as subject): a customer answering another user under the brand's post
    reaches the brand, but not from five levels down."""
    root = bs.add_post(BRAND, "We fly to Porto")
    chain = [root]
    for i, author in enumerate([ANA, BO, ANA, BO, ANA]):
        chain.append(bs.add_post(author, f"level {i + 1}", reply_to=chain[-1]))

    notices = bs.notifications()

    assert [(n["uri"], n["reason"], n["reasonSubject"]) for n in reversed(notices)] == [
        (chain[1], "reply", root),
        (chain[2], "reply", root),
        (chain[3], "reply", root),
        (chain[4], "reply", root),
    ]
    sdk = client.app.bsky.notification.list_notifications().notifications
    assert [n.reason_subject for n in sdk] == [root] * 4


def test_notification_reasons_in_the_real_order(client: Client, bs: BlueskyEmulator) -> None:
    """Mentions first, then the quoted post's author, then ancestors; one notification per
    account and post (the first reason wins); never the post's own author."""
    freight = "larkpost.bsky.social"
    bs.add_brand(handle=freight, password="pw4")
    root = bs.add_post(BRAND, "Porto now")
    under = bs.add_post(freight, f"And cargo, @{BRAND}", reply_to=root)
    quote_and_reply = bs.add_post(ANA, "nice", reply_to=under, quote=root)
    mention_and_quote = bs.add_post(BO, f"@{freight} look", quote=under)
    twice = bs.add_post(ANA, "both of you", reply_to=bs.add_post(BRAND, "yes", reply_to=under))

    mine = [(n["uri"], n["reason"], n.get("reasonSubject")) for n in bs.notifications()]
    theirs = [(n["uri"], n["reason"], n.get("reasonSubject")) for n in bs.notifications(freight)]

    assert mine == [
        (twice, "reply", bs.posts(BRAND)[1]["uri"]),  # the parent, not again the root
        (quote_and_reply, "quote", root),  # the quote comes before the reply
        (under, "mention", None),  # the mention comes before the reply
    ]
    assert theirs == [
        (twice, "reply", under),
        (bs.posts(BRAND)[1]["uri"], "reply", under),
        (mention_and_quote, "mention", None),
        (quote_and_reply, "reply", under),
    ]


def test_get_record_and_list_records_read_the_repo(client: Client, bs: BlueskyEmulator) -> None:
    uris = [bs.add_post(ANA, f"post {i}") for i in range(3)]
    like = bs.add_like(ANA, bs.add_post(BO, "likeable"))
    rkeys = [u.rsplit("/", 1)[1] for u in uris]
    ana = bs.add_user(ANA)

    record = client.com.atproto.repo.get_record({"repo": ana, "collection": POST, "rkey": rkeys[1]})
    newest = client.com.atproto.repo.list_records({"repo": ANA, "collection": POST, "limit": 2})
    older = client.com.atproto.repo.list_records(
        {"repo": ANA, "collection": POST, "limit": 2, "cursor": newest.cursor}
    )
    oldest = client.com.atproto.repo.list_records(
        {"repo": ana, "collection": POST, "reverse": True}
    )
    likes = client.com.atproto.repo.list_records({"repo": ANA, "collection": LIKE})

    assert (record.uri, record.cid) == (uris[1], bs.posts(ANA)[1]["cid"])
    assert record.value.text == "post 1"
    assert [r.uri for r in newest.records] == uris[:0:-1] and newest.cursor == rkeys[1]
    assert [r.uri for r in older.records] == uris[:1] and older.cursor == rkeys[0]
    assert [r.uri for r in oldest.records] == uris
    assert [r.uri for r in likes.records] == [like]
    [call] = bs.calls(GET_RECORD)
    assert "authorization" in call.headers
    assert [c.status for c in bs.calls(LIST_RECORDS)] == [200] * 4


def test_get_record_not_found_and_list_records_of_nobody(bs: BlueskyEmulator) -> None:
    missing = f"at://{bs.brand_did}/{POST}/3zzzzzzzzzzzz"
    status, _, body = _get(
        f"{bs.xrpc_url}/com.atproto.repo.getRecord"
        f"?repo={BRAND}&collection={POST}&rkey=3zzzzzzzzzzzz"
    )
    assert (status, body) == (
        400,
        {"error": "RecordNotFound", "message": f"Could not locate record: {missing}"},
    )
    status, _, body = _get(
        f"{bs.xrpc_url}/com.atproto.repo.listRecords?repo=nobody.bsky.social&collection={POST}"
    )
    assert (status, body["error"]) == (400, "InvalidRequest")
    status, _, body = _get(f"{bs.xrpc_url}/com.atproto.repo.listRecords?repo={BRAND}&limit=101")
    assert (status, body["error"]) == (400, "InvalidRequest")
    status, _, body = _get(
        f"{bs.xrpc_url}/com.atproto.repo.listRecords?repo={BRAND}&collection={POST}"
    )
    assert (status, body) == (200, {"records": []})


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            {"rkey": "notatid"},
            'Invalid record key for app.bsky.feed.post: Invalid TID string (got "notatid") at $',
        ),
        (
            {"rkey": "kaaaaaaaaaaaa"},  # a TID's first character is one of 234567abcdefghij
            'Invalid record key for app.bsky.feed.post: Invalid TID string (got "kaaaaaaaaaaaa")'
            " at $",
        ),
        (
            {"text": "é" * 1625},  # bytes are checked first: 1625 graphemes, 3250 bytes
            "Invalid app.bsky.feed.post record: string too big (maximum 3000, got 3250) "
            "at $.record.text",
        ),
        (
            {"text": "a" * 301},
            "Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301) "
            "at $.record.text",
        ),
        (
            {"langs": ["en", "pt", "es", "fr"]},
            "Invalid app.bsky.feed.post record: array too big (maximum 3, got 4) at $.record.langs",
        ),
    ],
)
def test_create_record_refusals_word_for_word(
    client: Client, bs: BlueskyEmulator, case: dict[str, Any], message: str
) -> None:
    """What the real PDS answers (all 400 InvalidRequest), and nothing is written."""
    record = {"$type": POST, "text": case.get("text", "hi")}
    record["createdAt"] = client.get_current_time_iso()
    if "langs" in case:
        record["langs"] = case["langs"]
    data: dict[str, Any] = {"repo": bs.brand_did, "collection": POST, "record": record}
    if "rkey" in case:
        data["rkey"] = case["rkey"]

    with pytest.raises(BadRequestError) as error:
        client.com.atproto.repo.create_record(data)

    assert (_error(error.value).error, _error(error.value).message) == ("InvalidRequest", message)
    assert bs.replies() == []


def test_a_valid_tid_rkey_is_taken(client: Client, bs: BlueskyEmulator) -> None:
    record = models.AppBskyFeedPost.Record(text="hi", created_at=client.get_current_time_iso())

    created = client.app.bsky.feed.post.create(BRAND, record, rkey="3lbbbbbbbbbb2")

    assert created.uri == f"at://{bs.brand_did}/{POST}/3lbbbbbbbbbb2"


def test_emulator_imports_no_bot_code_but_the_sandbox_server() -> None:
    """The emulator must not lean on the code it tests (grapheme counting included)."""
    tree = ast.parse(Path(bluesky_module.__file__).read_text("utf-8"))
    imported = {
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }

    assert {m for m in imported if m == "bot" or m.startswith("bot.")} == {"bot.sandbox.http"}
    assert "regex" in imported


def test_revoked_app_password_as_the_real_pds(fresh: tuple[BlueskyEmulator, Client]) -> None:
    """Access tokens already issued work until they expire; the refresh token is revoked; a
    login with the old password is refused."""
    bs, client = fresh
    bs.revoke_password(BRAND)

    assert client.com.atproto.server.get_session().did == bs.brand_did
    with pytest.raises(BadRequestError) as refused:
        client._refresh_and_set_session()
    assert (_error(refused.value).error, _error(refused.value).message) == (
        "ExpiredToken",
        "Token has been revoked",
    )
    again = Client(base_url=bs.xrpc_url)
    with pytest.raises(UnauthorizedError) as login:
        again.login(BRAND, PASSWORD, fetch_bsky_profile=False)
    assert login.value.response is not None and login.value.response.status_code == 401
    assert (_error(login.value).error, _error(login.value).message) == (
        "AuthenticationRequired",
        "Invalid identifier or password",
    )

    bs.change_password(BRAND, "a-new-app-password")

    again.login(BRAND, "a-new-app-password", fetch_bsky_profile=False)
    again._refresh_and_set_session()
    assert again.com.atproto.server.get_session().handle == BRAND
    with pytest.raises(ValueError, match="not a registered brand"):
        bs.revoke_password(ANA)
    again.request.close()
