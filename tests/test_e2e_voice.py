"""End to end for playbooks and the brand's voice, over real HTTP to the emulators: a slot-filling
reply, a reply split into a thread, a reply blocked for echoing the customer's phone number, a
trainee's reply approved (and one sent back) by a lead, thread messages kept internal, and
playbooks reloaded (and learned from history) without a restart.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import card_for, card_text, eventually, fresh, open_modal, post, reply_through_slack

from bot.cli.main import main
from bot.config.settings import BUNDLED_PLAYBOOKS
from bot.models import ApprovalState, OutboxState
from bot.sandbox.harness import JANE, MINJUN, ROSA, THEO, Sandbox, open_sandbox
from bot.slack.views import ids

SUGGEST_1 = f"{ids.SUGGEST_ACTION}_1"


def _button(card: dict[str, object], label: str) -> str:
    """The action id of the suggestion button whose label contains ``label``."""
    for block in card.get("blocks") or []:  # type: ignore[union-attr]
        for element in block.get("elements") or []:
            if label in json.dumps(element.get("text"), ensure_ascii=False):
                return str(element["action_id"])
    raise AssertionError(f"no button “{label}” on the card: {card_text(card)}")  # type: ignore[arg-type]


def _submit(bot: Sandbox, *, user: str, view_id: str, values: dict[str, dict[str, str]]):  # type: ignore[no-untyped-def]
    assert bot.driver is not None
    return bot.driver.submit(user=user, view_id=view_id, values=values)


# ---- slots -----------------------------------------------------------------------------------


def test_a_template_slot_is_a_field_the_agent_fills_in(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir has my refund been processed for the cancelled flight?", handle="lee")
    card = card_for(bot, "lee")
    modal = open_modal(bot, user=JANE, card=card, action_id=_button(card, "Refund issued"))
    shown = json.dumps(modal["blocks"], ensure_ascii=False)
    assert "Booking ref" in shown and "Refund date" in shown  # one field per slot
    answer, preview = _submit(
        bot,
        user=JANE,
        view_id=modal["id"],
        values={
            f"{ids.SLOT_BLOCK}booking_ref": {f"{ids.SLOT_INPUT}_booking_ref": "SKY7QX"},
            f"{ids.SLOT_BLOCK}refund_date": {f"{ids.SLOT_INPUT}_refund_date": "3 March"},
        },
    )
    assert preview is not None and preview["callback_id"] == ids.CONFIRM_VIEW, answer.body
    assert bot.driver is not None
    bot.driver.submit(user=JANE, view_id=modal["id"])
    [reply] = bot.x.wait_for(bot.x.replies, timeout=10)
    assert "booking SKY7QX was issued on 3 March" in reply["text"]
    assert reply["text"].endswith("^JK")


def test_an_unfilled_slot_is_named_on_its_field_and_nothing_is_sent(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir has my refund been processed for the cancelled flight?", handle="lee")
    card = card_for(bot, "lee")
    modal = open_modal(bot, user=JANE, card=card, action_id=_button(card, "Refund issued"))
    values = {f"{ids.SLOT_BLOCK}booking_ref": {f"{ids.SLOT_INPUT}_booking_ref": "SKY7QX"}}
    answer, after = _submit(bot, user=JANE, view_id=modal["id"], values=values)
    errors = answer.json()["errors"]
    assert list(errors) == [f"{ids.SLOT_BLOCK}refund_date"]
    assert after is not None and after["callback_id"] == ids.COMPOSE_VIEW
    assert bot.x.replies() == []


# ---- a long reply becomes a thread ---------------------------------------------------------------

LONG = (
    "Hi Pat! Small pets up to 8 kg can travel in the cabin in a soft carrier under the seat in "
    "front of you. Add the pet to your booking under My Trips at least 48 hours before departure. "
    "Bigger pets travel in the hold on most routes, but not in summer heat or on connections "
    "shorter than two hours. Assistance dogs always fly free in the cabin with their papers."
)


def test_a_reply_over_the_limit_goes_out_as_a_numbered_thread(bot: Sandbox) -> None:
    tweet = post(bot, "@SkylarkAir what are the rules for flying with my dog?", handle="pat")
    card = card_for(bot, "pat")
    preview = reply_through_slack(
        bot, user=MINJUN, card=card, body=LONG, action_id=ids.WRITE_ACTION
    )
    assert "thread of 2" in json.dumps(preview["blocks"], ensure_ascii=False)
    replies = bot.x.wait_for(lambda: len(bot.x.replies()) == 2 and bot.x.replies(), timeout=10)
    first, second = sorted(replies, key=lambda r: int(r["id"]))
    assert first["referenced_tweets"] == [{"type": "replied_to", "id": tweet}]
    assert second["referenced_tweets"] == [{"type": "replied_to", "id": first["id"]}]
    assert "1/2" in first["text"] and "^MP" not in first["text"]
    assert "2/2" in second["text"] and "^MP" in second["text"]
    done = eventually(lambda: "Replied by Min-jun Park" in card_text(m := fresh(bot, card)) and m)
    assert first["id"] in card_text(done)  # the card links the thread's first post


# ---- blocked: the customer's phone number echoed back -------------------------------------------


def test_a_reply_echoing_the_customers_phone_number_is_blocked_with_the_reason(
    bot: Sandbox,
) -> None:
    post(bot, "@SkylarkAir call me back on +44 7700 900123 about my booking", handle="ash")
    card = card_for(bot, "ash")
    modal = open_modal(bot, user=JANE, card=card, action_id=ids.WRITE_ACTION)
    body = "Hi Ash, we'll call you on 07700 900123 within the hour."
    answer, after = _submit(
        bot, user=JANE, view_id=modal["id"], values={ids.REPLY_BLOCK: {ids.REPLY_INPUT: body}}
    )
    error = answer.json()["errors"][ids.REPLY_BLOCK]
    assert "phone number" in error and "DM" in error
    assert after is not None and after["callback_id"] == ids.COMPOSE_VIEW
    assert bot.x.replies() == []
    assert bot.runtime is not None
    assert bot.runtime.services.store.count("outbox") == 0


# ---- approvals -------------------------------------------------------------------------------


def _approval_message(bot: Sandbox) -> dict[str, object]:
    def find() -> dict[str, object] | None:
        found = [m for m in bot.slack.messages("#care-leads") if "Approval needed" in m["text"]]
        return found[-1] if found else None

    return bot.slack.wait_for(find, timeout=10)


def test_a_trainees_reply_waits_for_a_lead_and_goes_public_once_approved(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir my flight is delayed again, stuck at the gate", handle="dana")
    card = card_for(bot, "dana")
    preview = reply_through_slack(bot, user=THEO, card=card)
    assert "A lead approves it first" in json.dumps(preview["blocks"], ensure_ascii=False)
    request = _approval_message(bot)
    assert "Theo Lane" in card_text(request) and "^TL" in card_text(request)  # type: ignore[arg-type]
    assert bot.x.replies() == []  # nothing public yet
    waiting = eventually(lambda: "waiting for a lead" in card_text(m := fresh(bot, card)) and m)
    assert ids.WRITE_ACTION not in card_text(waiting)
    assert bot.driver is not None
    bot.driver.click(user=JANE, message=request, action_id=ids.APPROVE_ACTION)  # not a lead
    bot.driver.click(user=ROSA, message=request, action_id=ids.APPROVE_ACTION)
    [reply] = bot.x.wait_for(bot.x.replies, timeout=10)
    assert reply["text"].endswith("^TL")  # signed by the agent who wrote it
    decided = bot.slack.wait_for(
        lambda: "Approved by Rosa Diaz" in card_text(m := fresh(bot, request)) and m  # type: ignore[arg-type]
    )
    assert ids.APPROVE_ACTION not in card_text(decided)
    store = bot.runtime.services.store  # type: ignore[union-attr]
    actions = [row["action"] for row in store.audit_log(None) if "approval" in row["action"]]
    assert actions[:2] == ["approval.requested", "approval.approved"]
    refused = [r for r in store.audit_log(None) if r["action"] == "refused" and r["actor"] == JANE]
    assert refused  # Jane tried, and was refused
    sent = eventually(lambda: (r := store.latest_reply(1)) and r.state is OutboxState.SENT and r)
    assert sent.approved_by == ROSA


def test_a_lead_can_edit_the_reply_before_approving_it(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir my flight is delayed again, stuck at the gate", handle="dana")
    card = card_for(bot, "dana")
    reply_through_slack(bot, user=THEO, card=card)
    request = _approval_message(bot)
    modal = open_modal(bot, user=ROSA, card=request, action_id=ids.APPROVE_EDIT_ACTION)  # type: ignore[arg-type]
    edited = "Dana, we're so sorry about the delay. DM us your booking reference for options."
    values = {ids.REPLY_BLOCK: {ids.REPLY_INPUT: edited}}
    answer, after = _submit(bot, user=ROSA, view_id=modal["id"], values=values)
    assert answer.status == 200 and after is None, answer.body
    [reply] = bot.x.wait_for(bot.x.replies, timeout=10)
    assert reply["requested_text"] == f"{edited} ^TL"


def test_a_lead_can_send_a_reply_back_with_a_note(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir my flight is delayed again, stuck at the gate", handle="dana")
    card = card_for(bot, "dana")
    reply_through_slack(bot, user=THEO, card=card)
    request = _approval_message(bot)
    modal = open_modal(bot, user=ROSA, card=request, action_id=ids.REJECT_ACTION)  # type: ignore[arg-type]
    values = {ids.NOTE_BLOCK: {ids.NOTE_INPUT: "Offer the lounge voucher too"}}
    answer, after = _submit(bot, user=ROSA, view_id=modal["id"], values=values)
    assert answer.status == 200 and after is None, answer.body
    note = bot.slack.wait_for(
        lambda: next(
            (m for m in bot.slack.messages() if "Offer the lounge voucher" in m["text"]), None
        )
    )
    assert note["thread_ts"] == card["ts"]  # in the card's thread, for the agent
    assert bot.x.replies() == []
    store = bot.runtime.services.store  # type: ignore[union-attr]
    approval = store.approval(1)
    assert approval.state is ApprovalState.REJECTED and approval.decided_by == ROSA
    reopened = eventually(lambda: ids.WRITE_ACTION in card_text(m := fresh(bot, card)) and m)
    assert "waiting for a lead" not in card_text(reopened)


def test_a_rule_that_requires_approval_applies_to_agents_but_not_to_leads(bot: Sandbox) -> None:
    assert bot.driver is not None
    bot.driver.command(user=JANE, text="tag @vipvera +vip")
    post(bot, "@SkylarkAir my flight is delayed again", handle="vipvera")
    card = card_for(bot, "vipvera")
    reply_through_slack(bot, user=JANE, card=card)
    _approval_message(bot)
    assert bot.x.replies() == []


# ---- internal notes --------------------------------------------------------------------------


def test_messages_in_a_cards_thread_are_internal_notes_and_never_go_public(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir my flight is delayed again, stuck at the gate", handle="dana")
    card = card_for(bot, "dana")
    assert "internal notes" in card_text(card)
    assert bot.driver is not None
    text = "Customer is on SK204, gate changed to B12"
    answer = bot.driver.say_in_thread(
        user=JANE, channel=card["channel"], thread_ts=card["ts"], text=text
    )
    assert answer.status == 200
    store = bot.runtime.services.store  # type: ignore[union-attr]
    [note] = eventually(lambda: store.notes(1))
    assert (note.author, note.text) == (JANE, text)
    eventually(lambda: "1 note" in card_text(fresh(bot, card)))
    assert bot.x.replies() == [] and store.count("outbox") == 0


# ---- playbooks change while the bot runs -------------------------------------------------------

NEW_PLAYBOOK = """\
[[template]]
id = "pets-in-cabin"
title = "Pets in the cabin"
lang = "en"
triggers = ["can my dog fly in the cabin", "travelling with my cat"]
text = "Hi {customer}! Pets up to 8 kg fly in the cabin in a soft carrier. Add them in My Trips."
"""


@pytest.fixture
def own_playbooks(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    shutil.copytree(BUNDLED_PLAYBOOKS, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


def test_a_new_playbook_file_is_used_after_playbooks_reload(
    tmp_path: Path, own_playbooks: Path
) -> None:
    with open_sandbox(tmp_path, playbooks=own_playbooks) as bot:
        bot.start_bot()
        (own_playbooks / "pets.toml").write_text(NEW_PLAYBOOK, encoding="utf-8")
        assert bot.driver is not None
        answer = bot.driver.command(user=ROSA, text="playbooks reload")
        assert "Reloaded" in answer.body
        post(bot, "@SkylarkAir can my dog fly in the cabin with me?", handle="pat")
        assert "Pets in the cabin" in card_text(card_for(bot, "pat"))


def test_a_broken_playbook_is_refused_whole_and_the_problems_are_listed(
    tmp_path: Path, own_playbooks: Path
) -> None:
    with open_sandbox(tmp_path, playbooks=own_playbooks) as bot:
        bot.start_bot()
        broken = NEW_PLAYBOOK.replace("{customer}", "{custmer}").replace('lang = "en"', "lang = 7")
        (own_playbooks / "pets.toml").write_text(broken, encoding="utf-8")
        assert bot.driver is not None
        answer = bot.driver.command(user=ROSA, text="playbooks reload")
        assert "not reloaded" in answer.body
        assert "{custmer}" in answer.body and "did you mean" in answer.body.lower()
        assert "lang" in answer.body
        denied = bot.driver.command(user=JANE, text="playbooks reload")
        assert "Only leads" in denied.body


def test_a_saved_playbook_file_is_picked_up_without_any_command(
    tmp_path: Path, own_playbooks: Path
) -> None:
    with open_sandbox(tmp_path, playbooks=own_playbooks) as bot:
        runtime = bot.start_bot()
        (own_playbooks / "pets.toml").write_text(NEW_PLAYBOOK, encoding="utf-8")
        library = runtime.services.directory.library
        eventually(lambda: library.get("pets-in-cabin"), timeout=20)


def _pair(text: str, reply: str, n: int) -> str:
    mention = {
        "id": f"x:{900 + n}",
        "network": "x",
        "brand": "Skylark Air",
        "text": text,
        "author": {"id": str(n), "handle": f"flyer{n}"},
        "created_at": f"2026-01-0{n}T10:00:00+00:00",
    }
    answer = {"text": reply, "created_at": f"2026-01-0{n}T10:05:00+00:00", "agent": "AB"}
    return json.dumps({"mention": mention, "reply": answer})


def test_a_playbook_learned_from_past_replies_is_suggested(
    tmp_path: Path, own_playbooks: Path
) -> None:
    pairs = tmp_path / "history.jsonl"
    asks = [
        "is there wifi on the plane to Porto",
        "do your planes have wifi onboard",
        "wifi on board for my flight tomorrow?",
    ]
    reply = (
        "@flyer{n} Yes! Free Wi-Fi is on all our planes: connect to SkylarkSky once airborne. ^AB"
    )
    lines = [_pair(ask, reply.format(n=n), n) for n, ask in enumerate(asks, start=1)]
    pairs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["playbooks", "learn", "--jsonl", str(pairs), "--out", str(own_playbooks)]) == 0
    with open_sandbox(tmp_path, playbooks=own_playbooks) as bot:
        bot.start_bot()
        post(bot, "@SkylarkAir hi, is there wifi on the plane?", handle="robin")
        card = card_for(bot, "robin")
        modal = open_modal(bot, user=JANE, card=card, action_id=SUGGEST_1)
        assert "Free Wi-Fi is on all our planes" in json.dumps(modal["blocks"])
