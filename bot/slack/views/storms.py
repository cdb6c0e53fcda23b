"""The storm card, and the modals that answer a storm with one template."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.models import (
    Case,
    CaseState,
    Mention,
    Sentiment,
    StormAnswer,
    StormPlan,
)
from bot.slack.views.ids import (
    STORM_ANSWER_ACTION,
    STORM_ANSWER_VIEW,
    STORM_TEMPLATE_BLOCK,
    STORM_TEMPLATE_INPUT,
)
from bot.slack.views.kit import Block, button, context, escape, plain, quote, said, section, words
from bot.slack.views.modals import notice_modal


@dataclass(frozen=True, slots=True)
class StormView:
    id: int
    channel: str
    members: tuple[tuple[Case, Mention], ...]
    started: datetime
    latest: datetime

    @property
    def answered(self) -> int:
        return sum(case.state is CaseState.REPLIED for case, _ in self.members)


def storm_card(view: StormView) -> tuple[str, list[Block]]:
    """One card for many near-identical mentions; their own cards sit in its thread."""
    count = len(view.members)
    minutes = max(1, int((view.latest - view.started).total_seconds() // 60))
    first = view.members[0][1].text if view.members else ""
    mix = {s: sum(c.sentiment is s for c, _ in view.members) for s in Sentiment}
    examples = [m.text for _, m in view.members[-3:]]
    blocks = [
        section(f"🌩 *Storm #{view.id}* · {count} similar mentions in {minutes} min"),
        said(first, limit=300, head=[words("The first one:", bold=True)]),
        context(
            f"😠 {mix[Sentiment.NEGATIVE]} · 😐 {mix[Sentiment.NEUTRAL]} · "
            f"🙂 {mix[Sentiment.POSITIVE]} · answered {view.answered}/{count} · "
            "each mention is its own case, in this thread"
        ),
        said(*examples, limit=200, head=[words("Latest", bold=True)]),
        {
            "type": "actions",
            "elements": [
                button(
                    "Answer all with a template…",
                    STORM_ANSWER_ACTION,
                    str(view.id),
                    style="primary",
                )
            ],
        },
    ]
    return escape(f"Storm: {count} similar mentions in {view.channel}"), blocks


def storm_answer_modal(plan: StormPlan) -> dict[str, Any]:
    """Pick one template for the whole storm; see exactly what the first customer gets."""
    if not plan.to_answer:
        return storm_queued_modal(plan)  # says there is nothing to send
    options = [
        {"text": plain(label, 75), "value": template_id}
        for template_id, label in plan.templates[:100]
    ]
    chosen = next((o for o in options if o["value"] == plan.template), None)
    select: dict[str, Any] = {
        "type": "static_select",
        "action_id": STORM_TEMPLATE_INPUT,
        "options": options,
    }
    if chosen:
        select["initial_option"] = chosen
    pace = f"one every {plan.pacing_seconds:g} s"
    return {
        "type": "modal",
        "callback_id": STORM_ANSWER_VIEW,
        "private_metadata": json.dumps({"storm": plan.storm_id, "template": plan.template}),
        "title": plain("Answer the storm", 24),
        "submit": plain(f"Post {plan.to_answer} replies", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(
                f"{plan.to_answer} of {plan.total} customers get their own public reply, each "
                f"signed by you, {pace}. Cases claimed by others or already answered are skipped."
            ),
            {
                "type": "input",
                "block_id": STORM_TEMPLATE_BLOCK,
                "dispatch_action": True,
                "label": plain("Template", 2000),
                "element": select,
            },
            section("*The first customer will see:*\n" + quote(plan.sample or "(nothing to send)")),
        ],
    }


STALE_PREVIEW = "The preview below is for another template: pick it again to see its preview."


def storm_queued_modal(plan: StormPlan) -> dict[str, Any]:
    if not plan.to_answer:
        return notice_modal("Nothing to send", "No open case in this storm is yours to answer now.")
    text = (
        f"Queuing {plan.to_answer} replies; they go out one every {plan.pacing_seconds:g} s, "
        "each card updates as its reply is sent."
    )
    return notice_modal("Storm answered", text)


def storm_skipped_text(answer: StormAnswer) -> str:
    skipped = "; ".join(f"case #{case} ({why})" for case, why in answer.skipped[:20])
    return f"Storm answer: {len(answer.queued)} replies queued. Not answered: {skipped}."
