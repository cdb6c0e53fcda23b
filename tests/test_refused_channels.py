"""A channel Slack refuses is an operator problem, said once. Regression: a card for a missing,
private (Earshot not invited) or archived channel was retried every 10 s forever and the leads
never heard of it. Now the leads are told once with the fix, the card waits in the fallback
channel marked with where it belongs, and it moves there once Slack takes it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import operations_jobs
from bot.sandbox.harness import JANE, Sandbox, open_sandbox
from bot.scheduler import PARKED_SECONDS
from bot.slack.board import SlackBoard
from bot.slack.views import ids
from bot.storage.store import Store
from tests.support import card_for, cards_for, eventually, post

DELAYS, FALLBACK, LEADS = "#care-delays", "#care-general", "#care-leads"


def board_of(sandbox: Sandbox) -> SlackBoard:
    assert sandbox.runtime is not None
    return sandbox.runtime.services.board


def board_store(sandbox: Sandbox) -> Store:
    assert sandbox.runtime is not None
    return sandbox.runtime.services.store


def leads_notes(sandbox: Sandbox, about: str = DELAYS) -> list[str]:
    return [m["text"] for m in sandbox.slack.messages(LEADS) if about in m["text"]]


def posts_to(sandbox: Sandbox, channel: str) -> int:
    return sum(c.params.get("channel") == channel for c in sandbox.slack.calls("chat.postMessage"))


def parked_card(sandbox: Sandbox, handle: str) -> dict[str, Any]:
    card = card_for(sandbox, handle)
    assert sandbox.slack.channel_name(card["channel"]) == FALLBACK.lstrip("#")
    return card


def meant_for(card: dict[str, Any]) -> str:
    block = next(b for b in card["blocks"] if b.get("block_id") == "earshot_meant_for")
    return str(block["elements"][0]["text"])


REFUSED: dict[str, tuple[Callable[[Sandbox], None], str]] = {
    "archived": (lambda sb: sb.slack.archive_channel(DELAYS), "unarchive #care-delays"),
    "private, Earshot not invited": (
        lambda sb: (sb.slack.make_private(DELAYS), sb.slack.invite_bot(DELAYS, member=False)),
        "`/invite @Earshot`",
    ),
    "deleted": (lambda sb: sb.slack.delete_channel(DELAYS), "create #care-delays"),
}


@pytest.mark.parametrize("how", REFUSED)
def test_a_refused_channel_is_told_once_and_its_cards_wait_in_the_fallback(
    bot: Sandbox, how: str
) -> None:
    refuse, fix = REFUSED[how]
    refuse(bot)
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    post(bot, "@SkylarkAir three hours late out of Madrid", handle="eli")

    for handle in ("dana", "eli"):
        card = parked_card(bot, handle)
        assert "Meant for *#care-delays*" in meant_for(card)
        assert card["text"].startswith("[for #care-delays] ")
    [note] = leads_notes(bot)
    assert fix in note and FALLBACK in note
    assert posts_to(bot, DELAYS) == 1  # refused once; the next card does not even try


def test_a_parked_card_moves_to_its_channel_once_slack_takes_it(bot: Sandbox) -> None:
    board = board_of(bot)
    board.refusals.retry_seconds = 0.05
    bot.slack.archive_channel(DELAYS)
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    parked = parked_card(bot, "dana")
    assert board.retry_parked() == 0  # still archived: it stays
    assert len(leads_notes(bot)) == 1

    bot.slack.archive_channel(DELAYS, archived=False)  # a lead unarchives it
    eventually(lambda: board.retry_parked() or None, timeout=5)

    [card] = cards_for(bot, "dana")
    assert card["channel"] == bot.slack.channel_id(DELAYS)
    assert not any(b.get("block_id") == "earshot_meant_for" for b in card["blocks"])
    left = bot.slack.message(parked["channel"], parked["ts"])
    assert left is not None and "Moved to" in left["text"]
    assert bot.slack.channel_id(DELAYS) in str(left["blocks"])  # it links to the card
    case = board_store(bot).case(1)
    assert (case.channel_id, case.card_ts) == (card["channel"], card["ts"])
    assert any("again" in text for text in leads_notes(bot))
    assert board.refusals.parked() == {}


def test_a_click_on_a_parked_card_keeps_it_marked(bot: Sandbox) -> None:
    bot.slack.archive_channel(DELAYS)
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = parked_card(bot, "dana")
    assert bot.driver is not None

    assert bot.driver.click(user=JANE, message=card, action_id=ids.CLAIM_ACTION).status == 200

    def claimed() -> dict[str, Any] | None:
        now = bot.slack.message(card["channel"], card["ts"])
        return now if now and now.get("edits") else None

    updated = eventually(claimed)
    assert "Meant for *#care-delays*" in meant_for(updated)


def test_the_leads_hear_once_even_across_a_restart(bot: Sandbox) -> None:
    bot.slack.archive_channel(DELAYS)
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    parked_card(bot, "dana")
    bot.stop_bot()
    bot.start_bot()

    post(bot, "@SkylarkAir three hours late out of Madrid", handle="eli")
    parked_card(bot, "eli")
    assert len(leads_notes(bot)) == 1
    assert set(board_of(bot).refusals.parked()) == {1, 2}


def test_a_burst_for_a_refused_channel_still_brings_every_card(tmp_path: Path) -> None:
    """More cards than the pace allows would be listed in a burst message: Slack refuses that
    too, so each card goes to the fallback channel on its own."""
    with open_sandbox(tmp_path, slack_rate_limit=1.0) as sb:
        sb.slack.archive_channel(DELAYS)
        texts = (  # different customers, different words: no storm, just many at once
            "flight SK101 to Porto delayed and nobody at the gate says why",
            "three hours late out of Madrid, my kids are exhausted",
            "is the Paris connection cancelled? the app shows nothing",
            "delayed again in Berlin. second time this month with you",
            "missed my connection in Rome because of your delay, who pays the hotel?",
            "our Vienna departure got canceled overnight, no email, no rebooking",
        )
        for n, text in enumerate(texts):
            post(sb, f"@SkylarkAir {text}", handle=f"flyer{n}")
        sb.start_bot()
        for n in range(len(texts)):
            parked_card(sb, f"flyer{n}")
        assert len(leads_notes(sb)) == 1
        assert posts_to(sb, DELAYS) == 1  # the burst message was not even tried


def test_parked_cards_look_for_their_channel_on_a_slow_schedule(bot: Sandbox) -> None:
    assert bot.runtime is not None
    jobs = {job.id: job for job in operations_jobs(bot.runtime.services)}
    assert jobs["parked"].run == bot.runtime.services.board.retry_parked
    assert jobs["parked"].seconds == PARKED_SECONDS == 60


def test_when_the_fallback_itself_is_refused_the_case_waits_quietly(bot: Sandbox) -> None:
    """Nowhere to park the card: the leads hear once, and the card sweep does not hammer Slack
    (the channel is left alone for a while) nor lose the case."""
    assert bot.runtime is not None
    services = bot.runtime.services
    bot.slack.archive_channel(FALLBACK)
    post(bot, "@SkylarkAir hello there, just saying hi", handle="hana")  # no rule: the fallback
    eventually(lambda: leads_notes(bot, about=FALLBACK))
    for _ in range(3):
        services.inbound.post_missing_cards()
    eventually(lambda: services.delivery.pending() == 0)

    assert posts_to(bot, FALLBACK) == 1
    assert len(leads_notes(bot, about=FALLBACK)) == 1
    assert [c.id for c in services.store.cases_without_card()] == [1]
