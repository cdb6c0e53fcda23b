"""Leads steer routing from Slack, end to end over signed HTTP: list, add with a dry-run, apply,
test, history, undo, menus; plus Move to…, conversations, storms, approvals and tags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import (
    card_for,
    card_text,
    cards_for,
    eventually,
    fresh,
    open_modal,
    post,
    reply_through_slack,
)

from bot.models import CaseState
from bot.sandbox.harness import JANE, KAI, ROSA, Sandbox
from bot.slack.views import ids
from bot.slack.views import rules as rb


def _route_list(bot: Sandbox, user: str) -> dict[str, Any]:
    """`/mentions route` as a message the driver can click on (an ephemeral reply)."""
    assert bot.driver is not None
    answer = bot.driver.command(user=user, text="route", channel="#care-general")
    return {
        "channel": bot.slack.channel_id("#care-general"),
        "ts": "1.000001",
        "blocks": answer.json()["blocks"],
    }


def _editor_state(**fields: str) -> dict[str, dict[str, Any]]:
    return {
        name: {name: {"type": "plain_text_input", "value": value}} for name, value in fields.items()
    }


def _add_rule(bot: Sandbox, user: str, **fields: str) -> dict[str, Any]:
    """Lead clicks Add rule, fills the editor, submits: returns the dry-run view."""
    assert bot.driver is not None
    before = {v["id"] for v in bot.slack.views()}
    bot.driver.click(user=user, message=_route_list(bot, user), action_id=rb.RULE_ADD)
    editor = eventually(lambda: next((v for v in bot.slack.views() if v["id"] not in before), None))
    answer, after = bot.driver.submit(
        user=user, view_id=editor["id"], state=_editor_state(**fields)
    )
    assert answer.status == 200, answer.body
    assert after is not None, answer.body
    return after


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_everyone_sees_the_rules_but_only_leads_get_the_controls(bot: Sandbox) -> None:
    agent_view = json.dumps(_route_list(bot, JANE)["blocks"], ensure_ascii=False)
    lead_view = json.dumps(_route_list(bot, ROSA)["blocks"], ensure_ascii=False)
    assert "1. legal" in agent_view and "Only leads can change rules" in agent_view
    assert rb.RULE_ADD not in agent_view
    assert rb.RULE_ADD in lead_view and f"{rb.RULE_MENU}_1" in lead_view


def test_a_lead_adds_a_rule_sees_the_dry_run_applies_it_and_new_mentions_follow(
    bot: Sandbox,
) -> None:
    assert bot.driver is not None
    bot.slack.create_channel("#care-billing")  # a team channel made for the new rule
    post(bot, "@SkylarkAir my refund from March never arrived", handle="ana")
    card_for(bot, "ana")  # stored, routed by "booking" (keyword refund)
    dry_run = _add_rule(
        bot,
        ROSA,
        name="refunds",
        channel="#care-billing",
        keywords="refund, chargeback",
        position="1",
    )
    shown = _text(dry_run)
    assert dry_run["callback_id"] == rb.RULE_APPLY
    assert "add “refunds” at 1" in shown
    assert "1 of the last 1 mentions would be routed differently" in shown
    assert "#care-booking → *#care-billing*" in shown
    assert bot.runtime is not None and bot.runtime.services.steering.rules().version == 1
    _, done = bot.driver.submit(user=ROSA, view_id=dry_run["id"])
    assert done is not None and "routing is now version 2" in _text(done)
    post(bot, "@SkylarkAir still waiting on my refnud", handle="bo")
    card = card_for(bot, "bo")
    assert bot.slack.channel_name(card["channel"]) == "care-billing"
    assert "keyword “refund” (≈ “refnud”)" in card_text(card)


def test_bad_rule_input_is_reported_next_to_the_field(bot: Sandbox) -> None:
    assert bot.driver is not None
    before = {v["id"] for v in bot.slack.views()}
    bot.driver.click(user=ROSA, message=_route_list(bot, ROSA), action_id=rb.RULE_ADD)
    editor = eventually(lambda: next((v for v in bot.slack.views() if v["id"] not in before), None))
    state = _editor_state(name="x", channel="General", regex="(", when_custom="Funday")
    answer, view = bot.driver.submit(user=ROSA, view_id=editor["id"], state=state)
    errors = answer.json()["errors"]
    assert "is not a Slack channel" in errors["channel"]
    assert "not a valid regular expression" in errors["regex"]
    assert "Funday" in errors["when_custom"]
    assert view is not None and view["callback_id"] == rb.RULE_EDITOR  # nothing half-done


def test_an_agent_cannot_change_rules_and_the_attempt_is_audited(bot: Sandbox) -> None:
    assert bot.driver is not None and bot.runtime is not None
    lead_list = _route_list(bot, ROSA)  # Jane replays a lead's button: still refused
    bot.driver.click(user=JANE, message=lead_list, action_id=rb.RULE_ADD)
    refusal = eventually(lambda: bot.slack.ephemerals(JANE))[0]
    assert "Only leads can change routing" in refusal["text"]
    audit = bot.runtime.services.store.audit_log()
    assert any(r["action"] == "refused" and r["actor"] == JANE for r in audit)
    assert (
        "Only leads can change routing"
        in bot.driver.command(user=JANE, text="route undo").json()["text"]
    )
    assert bot.runtime.services.steering.rules().version == 1


def test_route_test_says_which_rule_fires_and_why(bot: Sandbox) -> None:
    assert bot.driver is not None
    text = bot.driver.command(user=JANE, text="route test where is my luggage??").json()["text"]
    assert "#care-baggage" in text and "rule 4 “baggage”: keyword “luggage”" in text


def test_history_and_undo_from_slack(bot: Sandbox) -> None:
    assert bot.driver is not None and bot.runtime is not None
    dry_run = _add_rule(bot, ROSA, name="pets", channel="#care-booking", keywords="dog, cat")
    bot.driver.submit(user=ROSA, view_id=dry_run["id"])
    history = json.dumps(
        bot.driver.command(user=JANE, text="route history").json()["blocks"], ensure_ascii=False
    )
    assert "*v2* · Rosa Diaz" in history and "+ added “pets” at 8" in history
    before = {v["id"] for v in bot.slack.views()}
    asked = bot.driver.command(user=ROSA, text="route undo").json()["text"]
    assert "Dry-run opened for: undo v2 (add “pets” at 8)" in asked
    dry_run = eventually(
        lambda: next((v for v in bot.slack.views() if v["id"] not in before), None)
    )
    assert "− removed “pets”" in _text(dry_run)
    _, done = bot.driver.submit(user=ROSA, view_id=dry_run["id"])
    assert done is not None and "routing is now version 3" in _text(done)
    assert [r.name for r in bot.runtime.services.steering.rules().rules][-1] == "digital"


def test_a_rule_menu_disables_a_rule_after_a_dry_run(bot: Sandbox) -> None:
    assert bot.driver is not None and bot.runtime is not None
    listing = _route_list(bot, ROSA)
    before = {v["id"] for v in bot.slack.views()}
    bot.driver.choose(
        user=ROSA, message=listing, action_id=f"{rb.RULE_MENU}_7", value="toggle|digital"
    )
    dry_run = eventually(
        lambda: next((v for v in bot.slack.views() if v["id"] not in before), None)
    )
    assert "disable “digital”" in _text(dry_run)
    bot.driver.submit(user=ROSA, view_id=dry_run["id"])
    digital = next(r for r in bot.runtime.services.steering.rules().rules if r.name == "digital")
    assert digital.enabled is False
    post(bot, "@SkylarkAir the app crashed", handle="cy")
    assert bot.slack.channel_name(card_for(bot, "cy")["channel"]) == "care-general"


def test_members_of_the_leads_user_group_are_leads(bot: Sandbox) -> None:
    assert bot.runtime is not None
    dry_run = _add_rule(bot, KAI, name="press", channel="#care-escalations", keywords="journalist")
    assert dry_run["callback_id"] == rb.RULE_APPLY


# ---- Move to… and learned routing ---------------------------------------------------------


def test_move_to_re_routes_the_case_and_teaches_routing(bot: Sandbox) -> None:
    assert bot.driver is not None and bot.runtime is not None
    post(bot, "@SkylarkAir the crew uniform smelled of smoke", handle="di")
    card = card_for(bot, "di")
    assert bot.slack.channel_name(card["channel"]) == "care-general"
    case_id = bot.runtime.services.store.open_cases()[0].id
    bot.driver.choose(
        user=JANE, message=card, action_id=ids.MOVE_ACTION, value=f"{case_id}|#care-delays"
    )
    old = eventually(lambda: "Moved to" in card_text(m := fresh(bot, card)) and m)
    assert "Moved to <" in card_text(old) and "by Jane Kim" in card_text(old)
    moved = eventually(
        lambda: [m for m in bot.slack.messages("#care-delays") if "@di" in m["text"]]
    )
    assert len(moved) == 1
    assert bot.runtime.services.store.examples()[-1] == (
        "@SkylarkAir the crew uniform smelled of smoke",
        "#care-delays",
    )


def test_learned_routing_takes_over_when_no_rule_matches(bot: Sandbox) -> None:
    assert bot.runtime is not None
    services = bot.runtime.services
    for team in ("#care-inflight", "#care-service"):  # the taught channels exist in Slack
        bot.slack.create_channel(team)
    examples = [
        ("the seat pitch on this aircraft is tiny", "#care-inflight"),
        ("tiny seat and no legroom on the aircraft", "#care-inflight"),
        ("aircraft seat broken no legroom", "#care-inflight"),
        ("the lounge staff were rude at the gate", "#care-service"),
        ("rude staff at the lounge desk", "#care-service"),
        ("gate staff rude and unhelpful", "#care-service"),
    ]
    services.store.add_examples(examples, source="teach", actor="test", now=services.clock.now())
    services.rulebook.relearn()
    post(bot, "@SkylarkAir no legroom at all on this aircraft, the pitch is tiny", handle="ed")
    card = card_for(bot, "ed")
    assert bot.slack.channel_name(card["channel"]) == "care-inflight"
    assert "learned from 6 examples" in card_text(card)


# ---- conversations ----------------------------------------------------------------------------


def test_a_follow_up_by_the_same_customer_joins_the_case(bot: Sandbox) -> None:
    assert bot.runtime is not None
    first = post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    follow = post(
        bot, "@SkylarkAir any update? still at the gate", handle="dana", in_reply_to=first
    )
    updated = eventually(lambda: "wrote again" in card_text(m := fresh(bot, card)) and m)
    assert "any update? still at the gate" in card_text(updated)
    assert len(cards_for(bot, "dana")) == 1  # no new card
    note = eventually(lambda: [m for m in bot.slack.messages() if m.get("thread_ts") == card["ts"]])
    assert "wrote again" in note[0]["text"]
    case = bot.runtime.services.store.open_cases()[0]
    assert case.follow_ups == 1
    assert bot.runtime.services.store.latest_from_customer(case.id).native_id == follow


def test_a_follow_up_after_the_reply_reopens_the_case_and_the_reply_answers_it(
    bot: Sandbox,
) -> None:
    assert bot.runtime is not None
    from support import reply_through_slack

    first = post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    reply_through_slack(bot, user=JANE, card=card)
    eventually(lambda: "Replied by" in card_text(fresh(bot, card)))
    follow = post(
        bot, "@SkylarkAir thanks but the new flight is late too", handle="dana", in_reply_to=first
    )
    reopened = eventually(
        lambda: "Answered earlier by Jane Kim" in card_text(m := fresh(bot, card)) and m
    )
    assert bot.runtime.services.store.open_cases()[0].state is CaseState.OPEN
    reply_through_slack(
        bot,
        user=JANE,
        card=reopened,
        action_id=ids.WRITE_ACTION,
        body="So sorry, Dana. We've moved you to the 18:05.",
    )
    second = eventually(lambda: len(r := bot.x.replies()) == 2 and r)
    assert second[1]["referenced_tweets"] == [{"type": "replied_to", "id": follow}]


def test_a_third_party_joining_a_conversation_is_marked(bot: Sandbox) -> None:
    first = post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card_for(bot, "dana")
    post(bot, "@SkylarkAir same for me on this flight", handle="lee", in_reply_to=first)
    other = card_for(bot, "lee")
    assert "↪ joins" in card_text(other) and "case #1" in card_text(other)


# ---- storms -------------------------------------------------------------------------------------


def test_near_duplicates_form_a_storm_that_can_be_answered_with_one_template(
    bot: Sandbox,
) -> None:
    assert bot.driver is not None and bot.runtime is not None
    texts = [
        "@SkylarkAir the app is down, cannot check in online",
        "@SkylarkAir app down again? cannot check in online at all",
        "@SkylarkAir cannot check in online, the app is down",
        "@SkylarkAir is the app down? cannot check in online",
    ]
    for i, text in enumerate(texts):
        post(bot, text, handle=f"fan{i}")
        card_for(bot, f"fan{i}")
    storm = eventually(
        lambda: next((m for m in bot.slack.messages() if "Storm #" in card_text(m)), None)
    )
    storm = eventually(lambda: "4 similar mentions" in card_text(m := fresh(bot, storm)) and m)
    threaded = [m for m in cards_for(bot, "fan3")]
    assert threaded[0].get("thread_ts") == storm["ts"]  # no flood: inside the storm's thread
    modal = open_modal(bot, user=JANE, card=storm, action_id=ids.STORM_ANSWER_ACTION)
    assert "app-outage" in json.dumps(modal["blocks"]) and "^JK" in json.dumps(modal["blocks"])
    _, done = bot.driver.submit(user=JANE, view_id=modal["id"])
    assert done is not None and "Queuing 4 replies" in _text(done)
    replies = eventually(lambda: len(r := bot.x.replies()) == 4 and r, timeout=30)
    assert all(r["requested_text"].endswith("^JK") for r in replies)
    assert len({r["referenced_tweets"][0]["id"] for r in replies}) == 4  # each their own reply
    eventually(lambda: "answered 4/4" in card_text(fresh(bot, storm)), timeout=30)


# ---- approvals, notifications, tags -------------------------------------------------------------


def test_a_rule_can_require_a_leads_approval_and_notify_a_group(bot: Sandbox) -> None:
    assert bot.driver is not None and bot.runtime is not None
    tagged = bot.driver.command(user=JANE, text="tag @marta +vip").json()["text"]
    assert "@marta now has vip" in tagged
    post(bot, "@SkylarkAir my flight is delayed again", handle="marta")
    card = card_for(bot, "marta")
    assert bot.slack.channel_name(card["channel"]) == "care-escalations"
    assert "replies need a lead's approval" in card_text(card)
    ping = eventually(lambda: [m for m in bot.slack.messages() if m.get("thread_ts") == card["ts"]])
    assert "<!subteam^S0CARELEAD>" in ping[0]["text"]
    reply_through_slack(bot, user=JANE, card=card)  # an agent's reply waits for a lead
    request = eventually(
        lambda: [m for m in bot.slack.messages("#care-leads") if "Approval needed" in m["text"]]
    )
    assert "rule “vip”" in card_text(request[0])
    assert bot.x.replies() == []
    bot.driver.click(user=ROSA, message=request[0], action_id=ids.APPROVE_ACTION)
    sent = eventually(bot.x.replies)
    assert sent[0]["requested_text"].endswith("^JK")


def test_a_lead_answering_a_case_that_needs_approval_posts_at_once(bot: Sandbox) -> None:
    assert bot.driver is not None
    bot.driver.command(user=JANE, text="tag @marta +vip")
    post(bot, "@SkylarkAir my flight is delayed again", handle="marta")
    card = card_for(bot, "marta")
    body = "Marta, we're on it. DM us your booking code, please."
    reply_through_slack(bot, user=ROSA, card=card, action_id=ids.WRITE_ACTION, body=body)
    sent = eventually(bot.x.replies)
    assert sent[0]["requested_text"].endswith("^RD")


def test_a_volume_spike_alerts_the_leads_channel(bot: Sandbox) -> None:
    words = ["bag", "luggage", "suitcase", "baggage"]
    for i in range(10):
        post(
            bot,
            f"@SkylarkAir my {words[i % 4]} number {i} went to the wrong city {i}",
            handle=f"b{i}",
        )
    alert = eventually(lambda: bot.slack.messages("#care-leads"), timeout=30)
    assert "Volume alert: rule “baggage”" in alert[0]["text"]


# ---- regressions from review ------------------------------------------------------------------


def _storm_of_three(bot: Sandbox) -> dict[str, Any]:
    for i, text in enumerate(
        [
            "@SkylarkAir the app is down, cannot check in online",
            "@SkylarkAir app down again? cannot check in online at all",
            "@SkylarkAir cannot check in online, the app is down",
        ]
    ):
        post(bot, text, handle=f"fan{i}")
        card_for(bot, f"fan{i}")
    return eventually(
        lambda: next((m for m in bot.slack.messages() if "Storm #" in card_text(m)), None)
    )


def test_a_queued_reply_is_not_sent_to_a_dismissed_case_or_to_an_older_post(
    tmp_path: Any,
) -> None:
    """Bug: queued storm replies went out after their case was dismissed, and answered a
    customer's older post after they wrote again (closing the case on their new post)."""
    from bot.sandbox.harness import open_sandbox

    with open_sandbox(tmp_path, reply_interval=6.0) as bot:  # room to act between sends
        bot.start_bot()
        assert bot.runtime is not None
        _storm_of_three(bot)
        services = bot.runtime.services
        answer = services.desk.answer_storm(storm_id(bot), JANE, template_id="app-outage")
        assert len(answer.queued) == 3
        cases = {
            services.store.mention(c.mention_id).author.handle: c
            for c in services.store.open_cases()
        }
        services.desk.dismiss(cases["fan1"].id, JANE)  # before its paced reply goes out
        first = bot.x.posts(author="fan2")[0]["id"]
        post(bot, "@SkylarkAir still down, any news?", handle="fan2", in_reply_to=first)
        eventually(lambda: services.store.case(cases["fan2"].id).follow_ups == 1)
        eventually(
            lambda: all(
                services.store.latest_reply(c.id).state.value in ("sent", "cancelled")  # type: ignore[union-attr]
                for c in cases.values()
            ),
            timeout=40,
        )
        answered = {r["referenced_tweets"][0]["id"] for r in bot.x.replies()}
        assert first not in answered  # no reply to fan2's older post
        assert services.store.case(cases["fan2"].id).state is CaseState.OPEN
        assert services.store.case(cases["fan1"].id).state is CaseState.DISMISSED
        assert len(bot.x.replies()) == 1  # only fan0 got one


def storm_id(bot: Sandbox) -> int:
    """The one storm the open cases are in."""
    assert bot.runtime is not None
    [storm] = {case.storm_id for case in bot.runtime.services.store.open_cases()}
    assert storm is not None
    return storm


def test_a_lead_can_step_in_on_a_claimed_case_and_anyone_can_release_their_own(
    bot: Sandbox,
) -> None:
    assert bot.driver is not None and bot.runtime is not None
    post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    bot.driver.click(user=JANE, message=card, action_id=ids.CLAIM_ACTION)
    claimed = eventually(lambda: "Jane Kim is replying" in card_text(m := fresh(bot, card)) and m)
    bot.driver.click(user=JANE, message=claimed, action_id=ids.RELEASE_ACTION)
    eventually(lambda: "is replying" not in card_text(fresh(bot, card)))
    bot.driver.click(user=JANE, message=fresh(bot, card), action_id=ids.CLAIM_ACTION)
    eventually(lambda: "Jane Kim is replying" in card_text(fresh(bot, card)))
    from support import reply_through_slack

    reply_through_slack(
        bot,
        user=ROSA,
        card=fresh(bot, card),
        action_id=ids.WRITE_ACTION,
        body="Dana, Rosa here: we've rebooked you on the 18:05.",
    )
    eventually(lambda: "Replied by Rosa Diaz ^RD" in card_text(fresh(bot, card)))
    audit = bot.runtime.services.store.audit_log()
    assert any(r["action"] == "case.stepped_in" and r["actor"] == ROSA for r in audit)


def test_the_reply_answers_the_post_the_preview_showed_or_is_refused(bot: Sandbox) -> None:
    """Bug: a customer writing again between preview and confirm got the reply meant for the
    post before."""
    assert bot.driver is not None
    first = post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    modal = open_modal(bot, user=JANE, card=card, action_id=f"{ids.SUGGEST_ACTION}_1")
    bot.driver.submit(user=JANE, view_id=modal["id"])  # preview shown
    post(bot, "@SkylarkAir also you lost my dog's crate", handle="dana", in_reply_to=first)
    eventually(lambda: "wrote again" in card_text(fresh(bot, card)))
    _, notice = bot.driver.submit(user=JANE, view_id=modal["id"])
    assert notice is not None and "wrote again after you opened this preview" in _text(notice)
    assert bot.x.replies() == []


def test_answering_a_storm_acks_slack_in_time_even_when_slack_is_slow(bot: Sandbox) -> None:
    """Bug: the storm modal did its card updates before acking and Slack showed an error."""
    from bot.sandbox import Fault

    assert bot.driver is not None
    storm = _storm_of_three(bot)
    modal = open_modal(bot, user=JANE, card=storm, action_id=ids.STORM_ANSWER_ACTION)
    bot.slack.inject(Fault(endpoint="chat.update", status=200, delay=0.8, times=10))
    answer, done = bot.driver.submit(user=JANE, view_id=modal["id"])
    assert answer.status == 200 and done is not None and "Queuing 3 replies" in _text(done)


def test_a_follow_up_that_turns_legal_raises_the_case(bot: Sandbox) -> None:
    first = post(bot, "@SkylarkAir my flight is delayed again", handle="dana")
    card = card_for(bot, "dana")
    post(bot, "@SkylarkAir fine, my lawyer will sue you", handle="dana", in_reply_to=first)
    note = eventually(lambda: [m for m in bot.slack.messages() if "raised the case" in m["text"]])
    assert "priority urgent" in note[0]["text"]
    assert "🔴 *Urgent*" in card_text(
        eventually(lambda: "Urgent" in card_text(m := fresh(bot, card)) and m)
    )


def test_a_dismissed_case_cannot_be_moved(bot: Sandbox) -> None:
    assert bot.runtime is not None
    post(bot, "@SkylarkAir lovely flight", handle="kim")
    card_for(bot, "kim")
    services = bot.runtime.services
    case = services.store.open_cases()[0]
    services.desk.dismiss(case.id, JANE)
    from bot.desk.access import Refused

    with pytest.raises(Refused, match="dismissed"):
        services.desk.move(case.id, JANE, channel="#care-delays")
