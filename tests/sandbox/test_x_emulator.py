"""XEmulator driven by the real tweepy Client built by make_x_client."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tweepy

from bot.sandbox import Fault, XEmulator
from bot.sources import Outgoing
from bot.sources.x import XPublisher
from bot.sources.xclient import make_x_client

MENTIONS = "GET /2/users/:id/mentions"


@pytest.fixture
def x() -> Iterator[XEmulator]:
    with XEmulator(bearer_token="b") as emulator:
        yield emulator


@pytest.fixture
def client(x: XEmulator) -> tweepy.Client:
    return make_x_client(
        api_url=x.url,
        bearer_token="b",
        consumer_key="ck",
        consumer_secret="cs",
        access_token="at",
        access_token_secret="ats",
    )


@pytest.fixture
def app_only(x: XEmulator) -> tweepy.Client:
    return make_x_client(api_url=x.url, bearer_token="b")


def _post_json(url: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.load(response)


def test_url_is_loopback_without_trailing_slash(x: XEmulator) -> None:
    assert x.url.startswith("http://127.0.0.1:")
    assert not x.url.endswith("/")


def test_mentions_with_expansions_and_fields(x: XEmulator, client: tweepy.Client) -> None:
    x.add_user(username="alice", name="Alice", followers=120, verified=True)
    original = x.add_post(text="Our new route is live", author="AcmeAir")
    x.add_post(text="@AcmeAir my bag is lost", author="alice", quote_of=original)

    response = client.get_users_mentions(
        x.brand_user_id,
        expansions=["author_id", "referenced_tweets.id"],
        tweet_fields=["created_at", "conversation_id", "lang"],
        user_fields=["public_metrics", "verified"],
    )

    body = response.json()
    [tweet] = body["data"]
    assert set(tweet) == {
        "id",
        "text",
        "edit_history_tweet_ids",
        "author_id",
        "created_at",
        "conversation_id",
        "lang",
        "referenced_tweets",
    }
    [user] = body["includes"]["users"]
    assert user["username"] == "alice"
    assert user["public_metrics"]["followers_count"] == 120
    assert user["verified"] is True
    assert body["includes"]["tweets"][0]["id"] == original
    assert body["meta"]["result_count"] == 1


def test_default_fields_only_without_parameters(x: XEmulator, client: tweepy.Client) -> None:
    x.add_post(text="@AcmeAir hello", author="bob")

    body = client.get_users_mentions(x.brand_user_id).json()

    assert set(body["data"][0]) == {"id", "text", "edit_history_tweet_ids"}
    assert "includes" not in body


def test_responses_carry_rate_limit_headers(x: XEmulator, client: tweepy.Client) -> None:
    headers = client.get_users_mentions(x.brand_user_id).headers

    assert headers["x-rate-limit-limit"] == "10000"
    assert headers["x-rate-limit-remaining"] == "9999"
    assert int(headers["x-rate-limit-reset"]) > time.time()


def test_no_mentions_has_only_meta(x: XEmulator, client: tweepy.Client) -> None:
    assert client.get_users_mentions(x.brand_user_id).json() == {"meta": {"result_count": 0}}


def test_mentions_exclude_the_brand_and_non_mentions(x: XEmulator, client: tweepy.Client) -> None:
    x.add_post(text="@AcmeAir thanks for flying", author="AcmeAir")
    x.add_post(text="flying @AcmeAirline today", author="carol")
    wanted = x.add_post(text="hey @acmeair, where is my bag?", author="carol")

    body = client.get_users_mentions(x.brand_user_id).json()

    assert [t["id"] for t in body["data"]] == [wanted]


def test_mentions_paginate_newest_first(x: XEmulator, client: tweepy.Client) -> None:
    ids = [x.add_post(text=f"@AcmeAir complaint {i}", author="dave") for i in range(12)]

    pages, token = [], None
    while True:
        kwargs = {"pagination_token": token} if token else {}
        body = client.get_users_mentions(x.brand_user_id, max_results=5, **kwargs).json()
        pages.append([t["id"] for t in body["data"]])
        token = body["meta"].get("next_token")
        if token is None:
            break

    assert [len(p) for p in pages] == [5, 5, 2]
    assert [i for page in pages for i in page] == list(reversed(ids))


def test_mentions_since_id_returns_only_newer(x: XEmulator, client: tweepy.Client) -> None:
    old = x.add_post(text="@AcmeAir first", author="erin")
    new = x.add_post(text="@AcmeAir second", author="erin")

    body = client.get_users_mentions(x.brand_user_id, since_id=old).json()

    assert [t["id"] for t in body["data"]] == [new]
    assert body["meta"]["newest_id"] == new


def test_max_results_out_of_range_is_bad_request(x: XEmulator, client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest) as error:
        client.get_users_mentions(x.brand_user_id, max_results=200)

    assert "is not between 5 and 100" in str(error.value)


def test_unknown_tweet_field_is_bad_request(x: XEmulator, client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest):
        client.get_users_mentions(x.brand_user_id, tweet_fields=["mood"])


def test_create_tweet_reply_with_user_auth(x: XEmulator, client: tweepy.Client) -> None:
    mention = x.add_post(text="@AcmeAir my flight is late", author="frank")

    response = client.create_tweet(text="Sorry, DM us", in_reply_to_tweet_id=mention)

    assert response.status_code == 201
    data = response.json()["data"]
    [reply] = x.replies()
    assert reply["id"] == data["id"]
    assert reply["auth"] == "oauth1"
    assert reply["author_id"] == x.brand_user_id
    assert reply["conversation_id"] == mention
    assert reply["referenced_tweets"] == [{"type": "replied_to", "id": mention}]
    assert reply["in_reply_to_user_id"] == x.user("frank")["id"]  # type: ignore[index]
    assert reply["text"] == "@frank Sorry, DM us"


def test_create_tweet_with_bearer_only_is_forbidden(x: XEmulator, app_only: tweepy.Client) -> None:
    with pytest.raises(tweepy.Forbidden) as error:
        app_only.create_tweet(text="hello", user_auth=False)

    assert error.value.response.json()["title"] == "Unsupported Authentication"
    assert x.replies() == []


def test_duplicate_reply_is_forbidden(x: XEmulator, client: tweepy.Client) -> None:
    mention = x.add_post(text="@AcmeAir help", author="gina")
    client.create_tweet(text="On it", in_reply_to_tweet_id=mention)

    with pytest.raises(tweepy.Forbidden, match="duplicate content"):
        client.create_tweet(text="On it", in_reply_to_tweet_id=mention)


def test_reply_to_unknown_tweet_is_refused(client: tweepy.Client) -> None:
    with pytest.raises(tweepy.Forbidden, match="deleted or not visible"):
        client.create_tweet(text="hi", in_reply_to_tweet_id="1859999999999999999")


def test_too_long_tweet_is_refused(client: tweepy.Client) -> None:
    with pytest.raises(tweepy.Forbidden, match="too long"):
        client.create_tweet(text="x" * 281)


def test_rate_limit_fault_raises_too_many_requests(x: XEmulator, client: tweepy.Client) -> None:
    x.inject(Fault(MENTIONS, status=429, retry_after=60))

    with pytest.raises(tweepy.TooManyRequests) as error:
        client.get_users_mentions(x.brand_user_id)
    client.get_users_mentions(x.brand_user_id)

    headers = error.value.response.headers
    assert int(headers["x-rate-limit-reset"]) > time.time()
    assert headers["x-rate-limit-remaining"] == "0"


def test_credits_fault_answers_402(x: XEmulator, client: tweepy.Client) -> None:
    x.inject(Fault("*", status=402))

    with pytest.raises(tweepy.HTTPException) as error:
        client.get_users_mentions(x.brand_user_id)

    assert error.value.response.status_code == 402
    assert error.value.response.json()["title"] == "CreditsDepleted"


def test_server_error_fault(x: XEmulator, client: tweepy.Client) -> None:
    x.inject(Fault("POST /2/tweets", status=503))

    with pytest.raises(tweepy.TwitterServerError):
        client.create_tweet(text="hello")

    assert x.calls("POST /2/tweets")[0].status == 503


def test_rate_limit_window_exhaustion() -> None:
    now = [1_800_000_000.0]
    with XEmulator(rate_limits={MENTIONS: (2, 900.0)}, clock=lambda: now[0]) as x:
        client = make_x_client(api_url=x.url, bearer_token="b")
        remaining = [
            client.get_users_mentions(x.brand_user_id).headers["x-rate-limit-remaining"]
            for _ in range(2)
        ]
        with pytest.raises(tweepy.TooManyRequests) as error:
            client.get_users_mentions(x.brand_user_id)
        now[0] += 901
        after_reset = client.get_users_mentions(x.brand_user_id).headers

    assert remaining == ["1", "0"]
    assert error.value.response.headers["x-rate-limit-reset"] == str(1_800_000_900)
    assert after_reset["x-rate-limit-remaining"] == "1"


def test_wrong_bearer_token_is_unauthorized(x: XEmulator) -> None:
    client = make_x_client(api_url=x.url, bearer_token="nope")

    with pytest.raises(tweepy.Unauthorized):
        client.get_users_mentions(x.brand_user_id)


def test_search_excludes_retweets(x: XEmulator, client: tweepy.Client) -> None:
    original = x.add_post(text="Acme lost my luggage again", author="hank")
    x.add_post(text="", author="ivy", retweet_of=original)

    body = client.search_recent_tweets("luggage -is:retweet").json()

    assert [t["id"] for t in body["data"]] == [original]


def test_search_by_conversation_id(x: XEmulator, client: tweepy.Client) -> None:
    root = x.add_post(text="@AcmeAir delayed 3 hours", author="jack")
    reply = x.add_post(text="and no food vouchers", author="jack", in_reply_to=root)
    x.add_post(text="@AcmeAir unrelated", author="kate")

    body = client.search_recent_tweets(f"conversation_id:{root}").json()

    assert {t["id"] for t in body["data"]} == {root, reply}


def test_search_or_phrases_and_from(x: XEmulator, client: tweepy.Client) -> None:
    a = x.add_post(text="The seat was broken", author="liam")
    b = x.add_post(text="Great crew today", author="mia")
    x.add_post(text="Great crew today too", author="noah")

    body = client.search_recent_tweets('("seat was" OR crew) -from:noah').json()

    assert {t["id"] for t in body["data"]} == {a, b}


def test_search_rejects_unknown_operator(client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest, match="invalid operator 'place'"):
        client.search_recent_tweets("place:paris delay")


def test_search_rejects_only_negations(client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest, match="non-negation"):
        client.search_recent_tweets("-is:retweet")


def test_users_tweets_finds_the_brand_reply(x: XEmulator, client: tweepy.Client) -> None:
    mention = x.add_post(text="@AcmeAir refund please", author="olga")
    client.create_tweet(text="Refund issued", in_reply_to_tweet_id=mention)

    body = client.get_users_tweets(
        x.brand_user_id, tweet_fields=["referenced_tweets", "in_reply_to_user_id"]
    ).json()

    [tweet] = body["data"]
    assert tweet["referenced_tweets"] == [{"type": "replied_to", "id": mention}]


def test_tweet_lookup_and_missing_tweet(x: XEmulator, client: tweepy.Client) -> None:
    post = x.add_post(text="@AcmeAir hi", author="pete")

    found = client.get_tweet(post, tweet_fields=["author_id"]).json()
    missing = client.get_tweet("1859999999999999999").json()

    assert found["data"]["author_id"] == x.user("pete")["id"]  # type: ignore[index]
    assert missing["errors"][0]["title"] == "Not Found Error"


def test_user_lookups(x: XEmulator, client: tweepy.Client) -> None:
    me = client.get_me().json()
    by_name = client.get_user(username="AcmeAir").json()

    assert me["data"] == {"id": x.brand_user_id, "name": "Acme Air", "username": "AcmeAir"}
    assert by_name["data"]["id"] == x.brand_user_id


def test_load_jsonl_assigns_ids_and_threads_replies(x: XEmulator, tmp_path: Path) -> None:
    lines = [
        {
            "id": "x:1",
            "text": "@AcmeAir my suitcase went to Oslo",
            "author": {"id": "x:42", "handle": "quinn", "name": "Quinn", "followers": 9},
            "created_at": "2026-11-22T10:00:00Z",
            "lang": "en",
        },
        {"id": "x:2", "text": "still waiting", "author": {"handle": "quinn"}, "in_reply_to": "x:1"},
        {"text": "@AcmeAir anonymous note"},
        {"network": "mastodon", "text": "elsewhere"},
    ]
    path = tmp_path / "mentions.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")

    ids = x.load_jsonl(path)

    assert len(ids) == 3
    assert ids == sorted(ids, key=int)
    first, second = x.posts(author="quinn")
    assert first["created_at"] == "2026-11-22T10:00:00.000Z"
    assert first["author_id"] == "42"
    assert second["conversation_id"] == first["id"]
    assert second["in_reply_to_user_id"] is not None


def test_control_endpoint_adds_a_mention(x: XEmulator, client: tweepy.Client) -> None:
    status, created = _post_json(f"{x.url}/_sandbox/mentions", {"text": "where is my bag"})

    body = client.get_users_mentions(x.brand_user_id).json()

    assert status == 201
    assert body["data"][0]["id"] == created["id"]
    assert body["data"][0]["text"] == "@AcmeAir where is my bag"


def test_control_state_summarises(x: XEmulator) -> None:
    x.add_post(text="@AcmeAir ping", author="rita")

    with urllib.request.urlopen(f"{x.url}/_sandbox/state", timeout=5) as response:
        state = json.load(response)

    assert state["counts"]["mentions"] == 1
    assert state["replies"] == []


def test_unknown_route_is_404_problem(x: XEmulator) -> None:
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{x.url}/2/spaces", timeout=5)

    assert error.value.code == 404
    assert json.load(error.value)["status"] == 404


def test_wait_for_an_event_driven_post(x: XEmulator) -> None:
    kinds: list[str] = []
    x.subscribe(lambda kind, _payload: kinds.append(kind))

    _post_json(f"{x.url}/_sandbox/mentions", {"text": "@AcmeAir hello"})

    assert x.wait_for(lambda: x.posts(author=None)[-1]["text"] == "@AcmeAir hello")
    assert kinds == ["post.added"]


def test_created_at_override_is_rendered_in_x_format(x: XEmulator) -> None:
    post = x.add_post(
        text="@AcmeAir hi", author="sam", created_at=datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    )

    assert x.posts(author="sam")[0]["id"] == post
    assert x.posts(author="sam")[0]["created_at"] == "2026-11-22T09:30:00.000Z"


# -- several brands, each with its own OAuth 1.0a access token ----------------------------------

NIMBUS = "1500000000000000002"


@pytest.fixture
def brands() -> Iterator[XEmulator]:
    with XEmulator(bearer_token="b", brand_access_token="acme-at") as emulator:
        emulator.add_brand(
            user_id=NIMBUS, username="NimbusRail", name="Nimbus Rail", access_token="nimbus-at"
        )
        yield emulator


def _as(x: XEmulator, access_token: str) -> tweepy.Client:
    return make_x_client(
        api_url=x.url,
        bearer_token="b",
        consumer_key="ck",
        consumer_secret="cs",
        access_token=access_token,
        access_token_secret="ats",
    )


def test_each_brand_replies_as_the_owner_of_its_access_token(brands: XEmulator) -> None:
    events: list[tuple[str, dict[str, object]]] = []
    brands.subscribe(lambda kind, payload: events.append((kind, payload)))
    to_acme = brands.add_post(text="@AcmeAir my bag is lost", author="frank")
    to_nimbus = brands.add_post(text="@NimbusRail my train is late", author="frank")

    _as(brands, "acme-at").create_tweet(text="Sorry, DM us", in_reply_to_tweet_id=to_acme)
    _as(brands, "nimbus-at").create_tweet(text="Sorry, DM us", in_reply_to_tweet_id=to_nimbus)

    acme, nimbus = brands.replies()
    assert (acme["author_id"], acme["username"]) == (brands.brand_user_id, "AcmeAir")
    assert (nimbus["author_id"], nimbus["username"]) == (NIMBUS, "NimbusRail")
    assert nimbus["referenced_tweets"] == [{"type": "replied_to", "id": to_nimbus}]
    assert nimbus["text"] == "@frank Sorry, DM us"
    assert [r["id"] for r in brands.replies(brand="NimbusRail")] == [nimbus["id"]]
    created = [p for kind, p in events if kind == "reply.created"]
    assert [(p["author_id"], p["username"]) for p in created] == [
        (brands.brand_user_id, "AcmeAir"),
        (NIMBUS, "NimbusRail"),
    ]
    added = [p["author_id"] for kind, p in events if kind == "post.added"][2:]
    assert added == [brands.brand_user_id, NIMBUS]


def test_users_me_is_the_owner_of_the_access_token(brands: XEmulator) -> None:
    acme = _as(brands, "acme-at").get_me().json()["data"]
    nimbus = _as(brands, "nimbus-at").get_me().json()["data"]

    assert acme == {"id": brands.brand_user_id, "name": "Acme Air", "username": "AcmeAir"}
    assert nimbus == {"id": NIMBUS, "name": "Nimbus Rail", "username": "NimbusRail"}


def test_unknown_access_token_is_unauthorized_when_the_default_brand_has_one(
    brands: XEmulator,
) -> None:
    stranger = _as(brands, "at")
    mention = brands.add_post(text="@AcmeAir help", author="gina")

    with pytest.raises(tweepy.Unauthorized) as posting:
        stranger.create_tweet(text="On it", in_reply_to_tweet_id=mention)
    with pytest.raises(tweepy.Unauthorized):
        stranger.get_me()
    with pytest.raises(tweepy.Unauthorized):
        stranger.get_users_tweets(brands.brand_user_id, user_auth=True)

    assert posting.value.response.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
    assert brands.replies() == []
    assert brands.posts(author="AcmeAir") == []


def test_unknown_access_token_posts_as_the_default_brand_without_its_token(
    x: XEmulator, client: tweepy.Client
) -> None:
    x.add_brand(user_id=NIMBUS, username="NimbusRail", name="Nimbus Rail", access_token="n-at")

    client.create_tweet(text="Hello from the default")
    _as(x, "n-at").create_tweet(text="Hello from Nimbus")

    assert [(r["username"], r["text"]) for r in x.replies()] == [
        ("AcmeAir", "Hello from the default"),
        ("NimbusRail", "Hello from Nimbus"),
    ]
    assert x.brand_access_token is None
    assert client.get_me().json()["data"]["id"] == x.brand_user_id


def test_mentions_timelines_are_separate_per_brand(brands: XEmulator) -> None:
    acme_only = brands.add_post(text="@AcmeAir lost bag", author="hank")
    nimbus_only = brands.add_post(text="@NimbusRail late train", author="hank")
    both = brands.add_post(text="@AcmeAir @NimbusRail both bad today", author="ivy")
    brands.add_post(text="Hi from @NimbusRail, trains run again", author=NIMBUS)
    _as(brands, "nimbus-at").create_tweet(text="@NimbusRail notes to self")
    reader = _as(brands, "nimbus-at")

    acme = reader.get_users_mentions(brands.brand_user_id).json()
    nimbus = reader.get_users_mentions(NIMBUS).json()

    assert [t["id"] for t in acme["data"]] == [both, acme_only]
    assert [t["id"] for t in nimbus["data"]] == [both, nimbus_only]


def test_a_mention_of_another_brand_is_not_prefixed_with_the_default(
    brands: XEmulator,
) -> None:
    reader = _as(brands, "acme-at")

    _, own = _post_json(f"{brands.url}/_sandbox/mentions", {"text": "@NimbusRail my train…"})
    _, routed = _post_json(
        f"{brands.url}/_sandbox/mentions", {"text": "no wifi", "to": "NimbusRail"}
    )
    _, default = _post_json(f"{brands.url}/_sandbox/mentions", {"text": "where is my bag"})
    added = brands.add_post(text="seat broken", author="jack", to="nimbusrail")
    untouched = brands.add_post(text="trains are fun", author="jack")

    texts = {p["id"]: p["text"] for p in brands.posts()}
    assert texts[str(own["id"])] == "@NimbusRail my train…"
    assert texts[str(routed["id"])] == "@NimbusRail no wifi"
    assert texts[str(default["id"])] == "@AcmeAir where is my bag"
    assert texts[added] == "@NimbusRail seat broken"
    assert texts[untouched] == "trains are fun"
    assert [t["id"] for t in reader.get_users_mentions(brands.brand_user_id).json()["data"]] == [
        default["id"]
    ]
    with pytest.raises(urllib.error.HTTPError) as error:
        _post_json(f"{brands.url}/_sandbox/mentions", {"text": "hi", "to": "nobody"})
    assert error.value.code == 400


def test_duplicate_content_is_checked_per_account(brands: XEmulator) -> None:
    acme, nimbus = _as(brands, "acme-at"), _as(brands, "nimbus-at")

    acme.create_tweet(text="We are on it")
    nimbus.create_tweet(text="We are on it")
    with pytest.raises(tweepy.Forbidden, match="duplicate content"):
        nimbus.create_tweet(text="We are on it")

    assert [r["username"] for r in brands.replies()] == ["AcmeAir", "NimbusRail"]


def test_reconciliation_finds_a_second_brands_reply_on_its_timeline(brands: XEmulator) -> None:
    mention = brands.add_post(text="@NimbusRail refund please", author="olga")
    nimbus = XPublisher(client=_as(brands, "nimbus-at"), user_id=NIMBUS, handle="NimbusRail")
    acme = XPublisher(client=_as(brands, "acme-at"), user_id=brands.brand_user_id, handle="AcmeAir")

    posted = nimbus.publish(Outgoing(text="Refund issued", in_reply_to=mention))

    assert nimbus.find_reply(Outgoing("", mention)) == posted
    assert acme.find_reply(Outgoing("", mention)) is None
    assert brands.replies()[0]["author_id"] == NIMBUS


def test_control_state_per_brand(brands: XEmulator) -> None:
    brands.add_post(text="@AcmeAir ping", author="rita")
    brands.add_post(text="@NimbusRail ping", author="rita")
    brands.add_post(text="@NimbusRail pong", author="sam")
    _as(brands, "nimbus-at").create_tweet(text="Hello")

    def state(query: str = "") -> dict[str, object]:
        with urllib.request.urlopen(f"{brands.url}/_sandbox/state{query}", timeout=5) as reply:
            return dict(json.load(reply))

    default, nimbus = state(), state("?brand=NimbusRail")

    assert default["brand"]["id"] == brands.brand_user_id  # type: ignore[index]
    assert default["counts"] == {"users": 4, "posts": 4, "mentions": 1, "replies": 0}
    assert default["replies"] == []
    assert nimbus["brand"]["username"] == "NimbusRail"  # type: ignore[index]
    assert nimbus["counts"] == {"users": 4, "posts": 4, "mentions": 2, "replies": 1}
    assert [r["text"] for r in nimbus["replies"]] == ["Hello"]  # type: ignore[attr-defined]
    assert [(b["username"], b["mentions"], b["replies"]) for b in nimbus["brands"]] == [  # type: ignore[attr-defined]
        ("AcmeAir", 1, 0),
        ("NimbusRail", 2, 1),
    ]
    with pytest.raises(urllib.error.HTTPError) as error:
        state("?brand=rita")
    assert error.value.code == 404


def test_add_brand_refuses_clashes_and_brands_survive_reset(brands: XEmulator) -> None:
    brands.add_user(username="kate", user_id="42")

    with pytest.raises(ValueError, match="access token"):
        brands.add_brand(user_id="7", username="Other", name="Other", access_token="nimbus-at")
    with pytest.raises(ValueError, match="clashes"):
        brands.add_brand(user_id="8", username="nimbusrail", name="N", access_token="x-at")
    with pytest.raises(ValueError, match="different user"):
        brands.add_brand(user_id="9", username="kate", name="Kate", access_token="k-at")
    brands.reset()

    assert [b["username"] for b in brands.brands()] == ["AcmeAir", "NimbusRail"]
    assert brands.user("NimbusRail")["id"] == NIMBUS  # type: ignore[index]
    assert _as(brands, "nimbus-at").get_me().json()["data"]["id"] == NIMBUS
