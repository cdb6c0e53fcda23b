"""bot/storms.py, bot/alerts.py: near-duplicate bursts become storms; volume spikes alert leads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import count
from typing import cast

import pytest
from factories import make_mention

from bot.clock import ManualClock
from bot.config.settings import AlertSettings, StormSettings
from bot.inbound.alerts import Alerts, Spike
from bot.inbound.storms import Storms
from bot.models import Case, CaseState, Priority, RouteDecision, Sentiment, Triage
from bot.slack.port import Board, BoardError
from bot.storage.store import Store

CRASH = (
    "The app crashes every time I open my boarding pass",
    "app crashes when I open the boarding pass again",
    "Your app crashes opening boarding pass, help",
    "the app crashes when I open my boarding pass",
)
UNRELATED = "Lovely crew on the flight to Porto yesterday"
TRIAGE = Triage("en", Sentiment.NEGATIVE, -0.5, Priority.NORMAL)


@dataclass
class Desk:
    """A store and a clock, and a quick way to open cases the way the inbound flow does."""

    store: Store
    clock: ManualClock
    ids: Iterator[int] = field(default_factory=lambda: count(1))

    def case(
        self,
        text: str,
        *,
        channel: str = "#care-app",
        rule: str | None = "app",
        tags: tuple[str, ...] = (),
        noise: str | None = None,
        at: datetime | None = None,
    ) -> Case:
        now = at or self.clock.now()
        mention = make_mention(
            f"@SkylarkAir {text}",
            native_id=next(self.ids),
            author_id="a1",
            handle="traveller",
            created=now,
            lang="en",
        )
        self.store.save_mentions([mention], received_at=now, cursors={})
        decision = RouteDecision(channel, rule, "for the test", tags=tags)
        return self.store.open_case(
            mention, triage=TRIAGE, decision=decision, suggestions=[], now=now, noise=noise
        )


@pytest.fixture
def desk(store: Store) -> Desk:
    return Desk(store, ManualClock())


# ---- storms ------------------------------------------------------------------------------------


@pytest.fixture
def storms(desk: Desk) -> Storms:
    return Storms(
        desk.store, StormSettings(window_minutes=30, min_size=3, similarity=80), desk.clock
    )


def member_ids(desk: Desk, storm_id: int) -> list[int]:
    return [case.id for case, _ in desk.store.storm_members(storm_id)]


def test_the_third_similar_case_starts_a_storm_of_all_three(desk: Desk, storms: Storms) -> None:
    first, second = desk.case(CRASH[0]), desk.case(CRASH[1])
    assert storms.place(first) is None
    assert storms.place(second) is None
    third = desk.case(CRASH[2])
    storm_id = storms.place(third)
    assert storm_id is not None
    assert member_ids(desk, storm_id) == [first.id, second.id, third.id]
    assert desk.store.storm(storm_id).channel == "#care-app"


def test_a_fourth_similar_case_joins_the_same_storm(desk: Desk, storms: Storms) -> None:
    cases = [desk.case(text) for text in CRASH[:3]]
    storm_id = None
    for case in cases:
        storm_id = storms.place(case)
    assert storm_id is not None
    fourth = desk.case(CRASH[3])
    assert storms.place(fourth) == storm_id
    assert member_ids(desk, storm_id) == [*(c.id for c in cases), fourth.id]


def test_storm_members_are_still_open_cases_of_their_own(desk: Desk, storms: Storms) -> None:
    cases = [desk.case(text) for text in CRASH[:3]]
    storm_id = [storms.place(case) for case in cases][-1]
    assert storm_id is not None
    assert all(desk.store.case(c.id).state is CaseState.OPEN for c in cases)
    assert {desk.store.case(c.id).storm_id for c in cases} == {storm_id}


def test_a_larger_min_size_needs_more_similar_cases(desk: Desk) -> None:
    settings = StormSettings(window_minutes=30, min_size=4, similarity=80)
    storms = Storms(desk.store, settings, desk.clock)
    placed = [storms.place(desk.case(text)) for text in CRASH]
    assert placed[:3] == [None, None, None]
    assert placed[3] is not None


def test_a_dissimilar_case_does_not_join(desk: Desk, storms: Storms) -> None:
    storm_id = [storms.place(desk.case(text)) for text in CRASH[:3]][-1]
    other = desk.case(UNRELATED)
    assert storms.place(other) is None
    assert storm_id is not None
    assert other.id not in member_ids(desk, storm_id)


def test_dissimilar_cases_do_not_start_a_storm(desk: Desk, storms: Storms) -> None:
    texts = [CRASH[0], UNRELATED, "Where can I buy extra legroom for my next trip"]
    assert [storms.place(desk.case(text)) for text in texts] == [None, None, None]


def test_a_case_in_another_channel_does_not_join(desk: Desk, storms: Storms) -> None:
    storm_id = [storms.place(desk.case(text)) for text in CRASH[:3]][-1]
    elsewhere = desk.case(CRASH[3], channel="#care-general")
    assert storms.place(elsewhere) is None
    assert storm_id is not None
    assert elsewhere.id not in member_ids(desk, storm_id)


def test_similar_cases_spread_over_channels_make_no_storm(desk: Desk, storms: Storms) -> None:
    channels = ["#care-app", "#care-general", "#care-app"]
    placed = [storms.place(desk.case(t, channel=c)) for t, c in zip(CRASH, channels, strict=False)]
    assert placed == [None, None, None]


def test_a_case_older_than_the_window_does_not_count(desk: Desk, storms: Storms) -> None:
    old = desk.case(CRASH[0])
    storms.place(old)
    desk.clock.advance(minutes=31)
    second, third = desk.case(CRASH[1]), desk.case(CRASH[2])
    assert storms.place(second) is None
    assert storms.place(third) is None


def test_a_case_just_inside_the_window_counts(desk: Desk, storms: Storms) -> None:
    first = desk.case(CRASH[0])
    desk.clock.advance(minutes=30)
    desk.case(CRASH[1])
    third = desk.case(CRASH[2])
    storm_id = storms.place(third)
    assert storm_id is not None
    assert first.id in member_ids(desk, storm_id)


def test_a_storm_older_than_the_window_is_not_joined(desk: Desk, storms: Storms) -> None:
    old_storm = [storms.place(desk.case(text)) for text in CRASH[:3]][-1]
    desk.clock.advance(minutes=45)
    late = desk.case(CRASH[3])
    assert storms.place(late) is None
    assert old_storm is not None
    assert late.id not in member_ids(desk, old_storm)


def test_a_noise_case_does_not_join(desk: Desk, storms: Storms) -> None:
    storm_id = [storms.place(desk.case(text)) for text in CRASH[:3]][-1]
    spam = desk.case(CRASH[3], noise="posted 40 times in an hour")
    assert storms.place(spam) is None
    assert storm_id is not None
    assert spam.id not in member_ids(desk, storm_id)


# Regression (fixed): open noise cases count as similar cases and are pulled into a storm a real
# case starts, though a noise case never joins a storm by itself
def test_noise_cases_do_not_make_or_join_a_storm(desk: Desk, storms: Storms) -> None:
    spam = [desk.case(text, noise="looks automated") for text in CRASH[:2]]
    for case in spam:
        storms.place(case)
    real = desk.case(CRASH[2])
    assert storms.place(real) is None
    assert all(desk.store.case(c.id).storm_id is None for c in spam)


@pytest.mark.parametrize("short", ["app crashed", "@SkylarkAir help!!", "the app is down"])
def test_texts_under_three_content_words_do_not_join(
    desk: Desk, storms: Storms, short: str
) -> None:
    storm_id = [storms.place(desk.case(text)) for text in CRASH[:3]][-1]
    brief = desk.case(short)
    assert storms.place(brief) is None
    assert storm_id is not None
    assert brief.id not in member_ids(desk, storm_id)


def test_short_texts_do_not_start_a_storm_together(desk: Desk, storms: Storms) -> None:
    assert [storms.place(desk.case("app crashed")) for _ in range(4)] == [None] * 4


def test_closed_cases_do_not_count_toward_a_storm(desk: Desk, storms: Storms) -> None:
    first = desk.case(CRASH[0])
    desk.store.close_case(first.id, state=CaseState.DISMISSED, by="U0AGENT", now=desk.clock.now())
    desk.case(CRASH[1])
    assert storms.place(desk.case(CRASH[2])) is None


# ---- alerts ------------------------------------------------------------------------------------


@dataclass
class FakeBoard:
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False

    def announce(self, channel: str, text: str) -> None:
        if self.fail:
            raise BoardError("Slack said no")
        self.calls.append((channel, text))


SETTINGS = AlertSettings(volume_factor=3, min_count=3, baseline_days=7)


def alerts(
    desk: Desk, board: FakeBoard, *, channel: str = "#leads", baseline_days: int = 7
) -> Alerts:
    settings = replace(SETTINGS, baseline_days=baseline_days)
    return Alerts(
        store=desk.store,
        board=cast(Board, board),
        settings=settings,
        clock=desk.clock,
        channel=channel,
    )


def burst(
    desk: Desk,
    n: int,
    *,
    minutes_ago: int = 10,
    rule: str | None = "outage",
    tags: tuple[str, ...] = (),
) -> list[Case]:
    """``n`` cases opened ``minutes_ago`` before now (by default within the last hour)."""
    at = desk.clock.now() - timedelta(minutes=minutes_ago)
    return [
        desk.case(f"the app crashes on screen {i}", at=at, rule=rule, tags=tags) for i in range(n)
    ]


def test_an_alert_goes_out_when_a_rule_reaches_the_threshold(desk: Desk) -> None:
    board = FakeBoard()
    cases = burst(desk, 3, rule="outage")
    spikes = alerts(desk, board).check(cases[-1])
    assert spikes == [Spike("rule “outage”", 3, 0.0)]
    [(channel, text)] = board.calls
    assert channel == "#leads"
    assert "rule “outage” has 3 mentions in the last hour" in text
    assert "usually 0.0 an hour" in text
    assert f"case #{cases[-1].id} in #care-app" in text


def test_no_alert_below_the_minimum_count(desk: Desk) -> None:
    board = FakeBoard()
    cases = burst(desk, 2, rule="outage")
    assert alerts(desk, board).check(cases[-1]) == []
    assert board.calls == []


def test_an_alert_goes_out_only_once_in_the_same_hour(desk: Desk) -> None:
    board = FakeBoard()
    watcher = alerts(desk, board)
    cases = burst(desk, 3, rule="outage")
    assert watcher.check(cases[-1])
    more = burst(desk, 2, minutes_ago=5, rule="outage")
    desk.clock.advance(minutes=20)
    assert watcher.check(more[-1]) == []
    assert len(board.calls) == 1


def test_the_alert_may_go_out_again_in_the_next_hour(desk: Desk) -> None:
    board = FakeBoard()
    watcher = alerts(desk, board)
    watcher.check(burst(desk, 3, rule="outage")[-1])
    desk.clock.advance(hours=1)
    again = watcher.check(burst(desk, 3, rule="outage")[-1])
    assert [s.subject for s in again] == ["rule “outage”"]
    assert len(board.calls) == 2


def test_an_alert_goes_out_for_a_tag(desk: Desk) -> None:
    board = FakeBoard()
    cases = burst(desk, 3, rule=None, tags=("refunds",))
    spikes = alerts(desk, board).check(cases[-1])
    assert [(s.subject, s.last_hour) for s in spikes] == [("tag “refunds”", 3)]
    assert "tag “refunds”" in board.calls[0][1]


def test_the_rule_and_each_tag_are_checked_on_their_own(desk: Desk) -> None:
    board = FakeBoard()
    burst(desk, 2, rule="outage", tags=("app",))
    cases = burst(desk, 1, rule="other", tags=("app", "refunds"))
    spikes = alerts(desk, board).check(cases[-1])
    assert [s.subject for s in spikes] == ["tag “app”"]


def test_other_rules_do_not_add_to_the_count(desk: Desk) -> None:
    board = FakeBoard()
    burst(desk, 2, rule="other")
    cases = burst(desk, 2, rule="outage")
    assert alerts(desk, board).check(cases[-1]) == []


def test_cases_older_than_an_hour_are_baseline_not_last_hour(desk: Desk) -> None:
    board = FakeBoard()
    burst(desk, 2, minutes_ago=70, rule="outage")
    cases = burst(desk, 2, rule="outage")
    assert alerts(desk, board).check(cases[-1]) == []


def test_no_alert_when_the_baseline_is_high(desk: Desk) -> None:
    board = FakeBoard()
    # A day of baseline is 23 hours before the last hour: 24 cases make 1.04 an hour, so the
    # threshold is 3 x 1.04 = 3.1 and 3 cases in the last hour are business as usual.
    burst(desk, 24, minutes_ago=6 * 60, rule="outage")
    cases = burst(desk, 3, rule="outage")
    assert alerts(desk, board, baseline_days=1).check(cases[-1]) == []
    assert board.calls == []


def test_a_spike_well_over_the_baseline_alerts_with_the_baseline(desk: Desk) -> None:
    board = FakeBoard()
    burst(desk, 23, minutes_ago=6 * 60, rule="outage")  # exactly 1.0 an hour over 23 hours
    cases = burst(desk, 3, rule="outage")
    [spike] = alerts(desk, board, baseline_days=1).check(cases[-1])
    assert (spike.last_hour, spike.hourly_baseline) == (3, 1.0)
    assert "usually 1.0 an hour" in board.calls[0][1]


def test_cases_before_the_baseline_days_are_ignored(desk: Desk) -> None:
    board = FakeBoard()
    burst(desk, 24, minutes_ago=2 * 24 * 60, rule="outage")
    cases = burst(desk, 3, rule="outage")
    assert [s.hourly_baseline for s in alerts(desk, board, baseline_days=1).check(cases[-1])] == [
        0.0
    ]


def test_without_a_channel_nothing_is_announced_but_the_spike_is_returned(desk: Desk) -> None:
    board = FakeBoard()
    cases = burst(desk, 3, rule="outage")
    spikes = alerts(desk, board, channel="").check(cases[-1])
    assert [s.subject for s in spikes] == ["rule “outage”"]
    assert board.calls == []


def test_a_board_failure_does_not_lose_the_spike(desk: Desk) -> None:
    board = FakeBoard(fail=True)
    cases = burst(desk, 3, rule="outage")
    spikes = alerts(desk, board).check(cases[-1])
    assert [s.subject for s in spikes] == ["rule “outage”"]


def test_a_case_without_rule_or_tags_never_alerts(desk: Desk) -> None:
    board = FakeBoard()
    cases = burst(desk, 5, rule=None)
    assert alerts(desk, board).check(cases[-1]) == []


# Regression (fixed): the last hour was counted as [now-1h, now), so the case that triggers the
# check was left out when the clock had not moved since it was opened.
def test_the_case_just_opened_counts_toward_the_last_hour(desk: Desk) -> None:
    board = FakeBoard()
    cases = [desk.case(text, rule="outage") for text in CRASH[:3]]  # all opened "now"
    assert [s.last_hour for s in alerts(desk, board).check(cases[-1])] == [3]
