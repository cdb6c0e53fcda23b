"""X errors: a 503 storm costs a bounded number of calls (circuit breaker), refusals only a person
can fix (402 credits, 403 access) are told to the leads once, and a reply X refuses because the
customer limited who can reply says so on the card, with what to do instead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import card_for, card_text, eventually, fresh, post

from bot.clock import ManualClock
from bot.models import OutboxState
from bot.sandbox import Fault, XEmulator
from bot.sandbox.harness import JANE, ROSA, Sandbox, open_sandbox
from bot.slack.views import ids
from bot.sources import Outgoing, PublishError
from bot.sources.x import XPublisher, XSource
from bot.sources.xclient import make_x_client

BRAND = "1500000000000000001"
MENTIONS = "GET /2/users/:id/mentions"
SEARCH = "GET /2/tweets/search/recent"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def x() -> Iterator[XEmulator]:
    with XEmulator(brand_user_id=BRAND, brand_username="SkylarkAir", bearer_token="b") as emu:
        yield emu


def _source(url: str, clock: ManualClock) -> XSource:
    client = make_x_client(api_url=url, bearer_token="b", timeout=5)
    return XSource(
        client=client,
        user_id=BRAND,
        brand="Skylark Air",
        clock=clock,
        queries=("skylark",),
        interval=MINUTE,
    )


def test_a_503_storm_costs_a_bounded_number_of_calls_then_the_breaker_closes(
    x: XEmulator,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    x.inject(Fault(endpoint="*", status=503, times=10_000))
    source = _source(x.url, clock)
    changes = []
    for _ in range(60):  # an hour of one-minute poll ticks
        changes.append(source.fetch({}).circuit)
        clock.advance(minutes=1)
    # Three failed polls (minutes 0, 1, 2) open the breaker; then one trial call after pauses
    # of 4, 8 and 15 minutes (the cap): minutes 6, 14, 29, 44 and 59. Never a hot loop.
    assert len(x.calls()) <= 8
    assert len(x.calls(SEARCH)) <= 1  # a trial call is one request, not one per stream
    assert changes.count("opened") == 1 and "closed" not in changes
    assert source.breaker.is_open
    mention = post_on(x, "@SkylarkAir is the app down?")
    x.clear_faults()
    searched = len(x.calls(SEARCH))
    _to_due(source, clock)
    recovered = source.fetch({})
    assert recovered.circuit == "closed" and recovered.error is None
    assert mention in [m.native_id for m in recovered.mentions]
    assert len(x.calls(SEARCH)) == searched + 1  # every stream is read again


def _to_due(source: XSource, clock: ManualClock) -> None:
    """Move the clock to when the source may call X again."""
    if source.not_before is not None and source.not_before > clock.now():
        clock.advance(seconds=(source.not_before - clock.now()).total_seconds())


def post_on(x: XEmulator, text: str) -> str:
    return x.add_post(text=text, author={"handle": "casey"})


def test_connection_errors_open_the_breaker_too(x: XEmulator) -> None:
    clock = ManualClock(datetime.now(UTC))
    url = x.url
    x.stop()  # nothing listens there any more: connection refused
    source = _source(url, clock)
    fetches = []
    for _ in range(3):
        fetches.append(source.fetch({}))
        _to_due(source, clock)
    assert [f.circuit for f in fetches] == ["", "", "opened"]
    assert "circuit open" in (fetches[-1].error or "")


# ---- through the running bot, polls driven by hand --------------------------------------------

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[tuple[Sandbox, ManualClock]]:
    """The bot with a manual clock and an hourly poll: the test drives each poll itself."""
    with open_sandbox(tmp_path, poll_seconds=3600) as sandbox:
        clock = ManualClock(MONDAY_10)
        sandbox.start_bot(clock=clock)
        services = sandbox.runtime.services  # type: ignore[union-attr]
        eventually(lambda: services.store.source_health("x:Skylark Air"))  # the start-up poll
        yield sandbox, clock


def _poll_due(sandbox: Sandbox, clock: ManualClock) -> None:
    """Move the clock to when the source may call X again, and poll."""
    services = sandbox.runtime.services  # type: ignore[union-attr]
    source = services.sources[0]
    _to_due(source, clock)
    services.inbound.poll(source)


def _leads(sandbox: Sandbox) -> list[str]:
    return [str(m.get("text", "")) for m in sandbox.slack.messages("#care-leads")]


def _status(sandbox: Sandbox) -> str:
    assert sandbox.driver is not None
    answer = sandbox.driver.command(user=ROSA, text="status")
    assert answer.status == 200, answer
    return str(answer.json().get("text", ""))


def test_the_breaker_shows_in_status_and_tells_the_leads_once_each_way(
    quiet: tuple[Sandbox, ManualClock],
) -> None:
    sandbox, clock = quiet
    sandbox.x.inject(Fault(endpoint=MENTIONS, status=503, times=10_000))
    for _ in range(5):
        _poll_due(sandbox, clock)
    opened = sandbox.slack.wait_for(lambda: [t for t in _leads(sandbox) if "keeps failing" in t])
    assert len(opened) == 1 and "503" in opened[0]
    assert not [t for t in _leads(sandbox) if "failed 3 polls" in t]  # said once, in one way
    status = _status(sandbox)
    assert "circuit open" in status and "paused (circuit open) until" in status
    sandbox.x.clear_faults()
    post(sandbox, "@SkylarkAir my booking page shows an error", handle="gil")
    _poll_due(sandbox, clock)
    closed = sandbox.slack.wait_for(lambda: [t for t in _leads(sandbox) if "answers again" in t])
    assert len(closed) == 1
    card_for(sandbox, "gil")
    assert "🟢" in _status(sandbox)


@pytest.mark.parametrize(
    ("status", "words"),
    [(402, "credits are used up"), (403, "refused access")],
)
def test_a_refusal_only_a_lead_can_fix_is_told_once_with_the_fix(
    quiet: tuple[Sandbox, ManualClock], status: int, words: str
) -> None:
    sandbox, clock = quiet
    sandbox.x.inject(Fault(endpoint=MENTIONS, status=status, times=10_000))
    for _ in range(4):
        _poll_due(sandbox, clock)
    told = sandbox.slack.wait_for(lambda: [t for t in _leads(sandbox) if words in t])
    assert len(told) == 1 and ("top up" in told[0].lower() or "Project" in told[0])
    assert len(sandbox.x.calls(MENTIONS)) <= 5  # one start-up poll and four slow retries


# ---- replies X refuses -------------------------------------------------------------------------


def test_a_reply_the_customer_restricted_says_so_and_suggests_a_dm(x: XEmulator) -> None:
    tweet = x.add_post(
        text="@SkylarkAir lost my bag", author={"handle": "ivy"}, reply_settings="following"
    )
    client = make_x_client(
        api_url=x.url, consumer_key="k", consumer_secret="s", access_token="t",
        access_token_secret="ts",
    )  # fmt: skip
    with pytest.raises(PublishError) as refused:
        XPublisher(client=client, user_id=BRAND, handle="SkylarkAir").publish(
            Outgoing(text="Sorry, Ivy! DM us. ^JK", in_reply_to=tweet)
        )
    assert not refused.value.retryable and not refused.value.uncertain
    assert "limit who can reply" in str(refused.value) and "DM" in str(refused.value)
    assert x.replies() == []


def test_a_mentioned_brand_may_reply_where_only_mentioned_accounts_may(x: XEmulator) -> None:
    tweet = x.add_post(
        text="@SkylarkAir hi", author={"handle": "ivy"}, reply_settings="mentionedUsers"
    )
    client = make_x_client(
        api_url=x.url, consumer_key="k", consumer_secret="s", access_token="t",
        access_token_secret="ts",
    )  # fmt: skip
    XPublisher(client=client, user_id=BRAND, handle="SkylarkAir").publish(
        Outgoing(text="Hello Ivy ^JK", in_reply_to=tweet)
    )
    assert len(x.replies()) == 1


def test_the_card_explains_a_restricted_reply_and_offers_retry(bot: Sandbox) -> None:
    assert bot.runtime is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana", reply_settings="following")
    card = card_for(bot, "dana")
    desk, store = bot.runtime.services.desk, bot.runtime.services.store
    case_id = store.open_cases()[0].id
    draft = desk.draft(case_id, JANE, template_id="delay-apology")
    reply = desk.confirm(key="k1", case_id=case_id, user_id=JANE, body=draft.body, template=None)
    assert desk.send(reply.id).state is OutboxState.FAILED
    shown = bot.slack.wait_for(lambda: "was not sent" in card_text(m := fresh(bot, card)) and m)
    assert "limit who can reply" in card_text(shown) and "Reply on X" in card_text(shown)
    assert ids.RETRY_ACTION in card_text(shown)
    assert bot.x.replies() == []
