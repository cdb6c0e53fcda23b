"""The X adapter through real tweepy against the X emulator on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.models import MentionKind
from bot.sandbox import Fault, XEmulator
from bot.sources import Outgoing, PublishError
from bot.sources.x import XPublisher, XSource, resolve_user_id
from bot.sources.xclient import make_x_client

BRAND = "1500000000000000001"
MENTIONS = "GET /2/users/:id/mentions"
KEY = f"x:mentions:{BRAND}"


@pytest.fixture
def x() -> Iterator[XEmulator]:
    with XEmulator(brand_user_id=BRAND, brand_username="SkylarkAir", bearer_token="b") as emu:
        yield emu


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


def _client(x: XEmulator):  # type: ignore[no-untyped-def]
    return make_x_client(
        api_url=x.url,
        bearer_token="b",
        consumer_key="ck",
        consumer_secret="cs",
        access_token="at",
        access_token_secret="ats",
    )


def _source(x: XEmulator, clock: ManualClock, **kw: object) -> XSource:
    return XSource(client=_client(x), user_id=BRAND, brand="Skylark Air", clock=clock, **kw)  # type: ignore[arg-type]


def _post(x: XEmulator, text: str, handle: str = "casey", **kw: object) -> str:
    return x.add_post(
        text=text, author={"handle": handle, "followers": 1234, "verified": True}, **kw
    )  # type: ignore[arg-type]


def test_first_poll_reads_the_latest_page_and_sets_the_cursor(
    x: XEmulator, clock: ManualClock
) -> None:
    ids = [_post(x, f"@SkylarkAir question {i}") for i in range(3)]
    fetch = _source(x, clock).fetch({})
    assert [m.native_id for m in fetch.mentions] == ids  # oldest first
    assert fetch.cursors == {KEY: ids[-1]}


def test_mentions_are_normalised_at_the_edge(x: XEmulator, clock: ManualClock) -> None:
    tweet = _post(x, "@SkylarkAir hello", handle="dana", lang="en")
    mention = _source(x, clock).fetch({}).mentions[0]
    assert mention.id == f"x:{tweet}" and mention.network == "x"
    assert mention.author.handle == "dana" and mention.author.followers == 1234
    assert mention.author.verified
    assert mention.url == f"https://x.com/dana/status/{tweet}"
    assert mention.kind is MentionKind.MENTION and mention.lang == "en"
    assert mention.raw["tweet"]["id"] == tweet  # kept for debugging


def test_replies_quotes_and_retweets_are_told_apart(x: XEmulator, clock: ManualClock) -> None:
    first = _post(x, "@SkylarkAir my bag is lost")
    _post(x, "@SkylarkAir any news?", in_reply_to=first)
    _post(x, "@SkylarkAir same here", handle="lee", quote_of=first)
    x.add_post(text="RT", author={"handle": "echo"}, retweet_of=first)
    kinds = [m.kind for m in _source(x, clock).fetch({}).mentions]
    assert kinds == [MentionKind.MENTION, MentionKind.REPLY, MentionKind.QUOTE, MentionKind.RETWEET]


def test_with_a_cursor_every_page_since_it_is_read(x: XEmulator, clock: ManualClock) -> None:
    old = _post(x, "@SkylarkAir old one")
    new = [_post(x, f"@SkylarkAir burst {i}") for i in range(23)]
    fetch = _source(x, clock, page_size=5).fetch({KEY: old})
    assert [m.native_id for m in fetch.mentions] == new
    assert fetch.cursors == {KEY: new[-1]}
    assert len(x.calls(MENTIONS)) == 5  # 23 posts in pages of 5


def test_search_queries_find_posts_without_the_at(x: XEmulator, clock: ManualClock) -> None:
    found = x.add_post(text="flying skylark air tomorrow, wish me luck", author={"handle": "ana"})
    source = _source(x, clock, queries=('"skylark air" -is:retweet',))
    fetch = source.fetch({})
    assert [m.native_id for m in fetch.mentions] == [found]
    assert fetch.cursors['x:search:"skylark air" -is:retweet'] == found


def test_a_429_waits_for_the_reset_and_makes_no_call_before_it(
    x: XEmulator, clock: ManualClock
) -> None:
    x.inject(Fault(endpoint=MENTIONS, status=429, retry_after=120))
    source = _source(x, clock)
    limited = source.fetch({})
    assert limited.error is not None and "rate limited" in limited.error
    assert limited.not_before is not None
    assert limited.not_before >= clock.now() + timedelta(seconds=100)
    calls = len(x.calls(MENTIONS))
    again = source.fetch({})
    assert again.skipped and len(x.calls(MENTIONS)) == calls  # no tight loop
    clock.advance(seconds=121)
    assert not source.fetch({}).skipped


def test_a_spent_window_is_honoured_before_any_429(clock: ManualClock) -> None:
    limits = {MENTIONS: (1, 900.0)}
    with XEmulator(brand_user_id=BRAND, brand_username="SkylarkAir", rate_limits=limits) as x:
        source = _source(x, clock)
        first = source.fetch({})
        assert first.error is None and first.not_before is not None  # remaining hit 0
        assert source.fetch({}).skipped
        assert len(x.calls(MENTIONS)) == 1


def test_server_errors_back_off_exponentially(x: XEmulator, clock: ManualClock) -> None:
    x.inject(Fault(endpoint=MENTIONS, status=503, times=2))
    source = _source(x, clock, interval=timedelta(seconds=60))
    first = source.fetch({})
    assert first.error is not None and "503" in first.error
    assert first.not_before == clock.now() + timedelta(seconds=60)
    clock.advance(seconds=61)
    second = source.fetch({})
    assert second.not_before == clock.now() + timedelta(seconds=120)
    clock.advance(seconds=121)
    assert source.fetch({}).error is None


def test_the_publisher_replies_as_the_brand(x: XEmulator) -> None:
    tweet = _post(x, "@SkylarkAir where is my refund")
    posted = XPublisher(client=_client(x), user_id=BRAND, handle="SkylarkAir").publish(
        Outgoing(text="Sorry for the wait! DM us. ^JK", in_reply_to=tweet)
    )
    reply = x.replies()[0]
    assert posted.post_id == reply["id"]
    assert posted.url == f"https://x.com/SkylarkAir/status/{reply['id']}"
    assert reply["referenced_tweets"] == [{"type": "replied_to", "id": tweet}]


def test_a_duplicate_refusal_means_look_once_not_send_again(x: XEmulator) -> None:
    """X refuses a post whose text the brand posted recently: it may be this very reply, sent
    before a crash and published late, so the outbox looks on X first (uncertain); sending the
    same text again would only be refused again (not retryable)."""
    tweet = _post(x, "@SkylarkAir hi")
    publisher = XPublisher(client=_client(x), user_id=BRAND, handle="SkylarkAir")
    publisher.publish(Outgoing(text="Hello there ^JK", in_reply_to=tweet))
    with pytest.raises(PublishError) as refused:
        publisher.publish(Outgoing(text="Hello there ^JK", in_reply_to=tweet))  # duplicate content
    assert refused.value.uncertain and not refused.value.retryable
    assert "403" in str(refused.value) and "duplicate" in str(refused.value)


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (429, True), (402, False)])
def test_publish_failures_say_whether_to_retry(x: XEmulator, status: int, retryable: bool) -> None:
    tweet = _post(x, "@SkylarkAir hi")
    x.inject(Fault(endpoint="POST /2/tweets", status=status, retry_after=30))
    with pytest.raises(PublishError) as failed:
        XPublisher(client=_client(x), user_id=BRAND, handle="SkylarkAir").publish(
            Outgoing(text="Hello ^JK", in_reply_to=tweet)
        )
    assert failed.value.retryable is retryable
    if status == 402:
        assert "credits" in str(failed.value)


def test_find_reply_sees_the_brands_existing_reply(x: XEmulator) -> None:
    tweet = _post(x, "@SkylarkAir help")
    other = _post(x, "@SkylarkAir another")
    publisher = XPublisher(client=_client(x), user_id=BRAND, handle="SkylarkAir")
    assert publisher.find_reply(Outgoing("", tweet)) is None
    posted = publisher.publish(Outgoing(text="On it ^JK", in_reply_to=tweet))
    assert publisher.find_reply(Outgoing("", tweet)) == posted
    assert publisher.find_reply(Outgoing("", other)) is None


def test_the_brand_id_is_looked_up_from_the_handle(x: XEmulator) -> None:
    assert resolve_user_id(_client(x), "SkylarkAir") == BRAND


def test_a_burst_beyond_the_page_cap_is_filled_in_by_later_polls(
    x: XEmulator, clock: ManualClock
) -> None:
    """Regression: the cursor jumped past mentions that were never fetched."""
    old = _post(x, "@SkylarkAir the one before")
    burst = [_post(x, f"@SkylarkAir outage report {i}") for i in range(50)]
    source = _source(x, clock, page_size=5)  # 8 pages of 5 = 40 per read
    first = source.fetch({KEY: old})
    assert len(first.mentions) == 40
    assert first.cursors[KEY] == burst[-1]  # new posts keep flowing from here
    cursors = {KEY: old, **first.cursors}
    second = source.fetch(cursors)
    assert sorted(m.native_id for m in first.mentions + second.mentions) == burst
    assert second.cursors[f"{KEY}#gaps"] == ""  # the gap is closed


def test_a_rejected_search_query_only_switches_that_query_off(
    x: XEmulator, clock: ManualClock
) -> None:
    """Regression: one bad query slowed mention polling to once per 15 minutes."""
    source = _source(x, clock, queries=("(skylark OR",))
    first = source.fetch({})
    assert first.error is not None and "fix x.search_queries" in first.error
    _post(x, "@SkylarkAir still here")
    clock.advance(seconds=1)
    second = source.fetch({})
    assert len(second.mentions) == 1 and second.error is None


def test_html_entities_from_x_are_decoded_at_the_edge(x: XEmulator, clock: ManualClock) -> None:
    _post(x, "@SkylarkAir Q&A: is <carry-on> 7kg?")
    assert _source(x, clock).fetch({}).mentions[0].text == "@SkylarkAir Q&A: is <carry-on> 7kg?"


def test_a_server_error_on_publish_is_uncertain_not_retried_blindly(x: XEmulator) -> None:
    tweet = _post(x, "@SkylarkAir hi")
    x.inject(Fault(endpoint="POST /2/tweets", status=503))
    with pytest.raises(PublishError) as failed:
        XPublisher(client=_client(x), user_id=BRAND, handle="SkylarkAir").publish(
            Outgoing(text="Hello ^JK", in_reply_to=tweet)
        )
    assert failed.value.uncertain


def test_find_reply_looks_past_the_newest_hundred_posts(x: XEmulator) -> None:
    """Regression: only the brand's newest 100 posts were checked before resending."""
    tweet = _post(x, "@SkylarkAir help")
    publisher = XPublisher(client=_client(x), user_id=BRAND, handle="SkylarkAir")
    posted = publisher.publish(Outgoing(text="On it ^JK", in_reply_to=tweet))
    for i in range(150):
        x.add_post(text=f"Timetable update {i}", author="SkylarkAir")
    assert publisher.find_reply(Outgoing("", tweet)) == posted


def test_a_search_cursor_older_than_seven_days_restarts_instead_of_switching_off(
    x: XEmulator, clock: ManualClock
) -> None:
    """Recent search answers 400 for a since_id older than its window: start again from now."""
    query = '"skylark air" -is:retweet'
    key = f"x:search:{query}"
    body = {
        "errors": [
            {
                "message": "Invalid 'since_id':'1'. 'since_id' must be a tweet id created "
                "after 2026-11-15T09:00:00Z"
            }
        ],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    x.inject(Fault(endpoint="GET /2/tweets/search/recent", status=400, body=body))
    source = _source(x, clock, queries=(query,))
    first = source.fetch({key: "1"})
    assert first.error is not None and "7-day window" in first.error
    assert first.cursors[key] == "" and first.cursors[f"{key}#gaps"] == ""
    found = x.add_post(text="skylark air lost my bag", author={"handle": "ana"})
    second = source.fetch({})
    assert [m.native_id for m in second.mentions] == [found]
