"""Pure Block Kit builders: data in, Slack JSON out. No I/O, easy to test.

Customer text is shown literally. Posts and names go in rich text (``said``, ``words``), where
Slack applies no mrkdwn: ``*x*`` stays ``*x*``, ``<!channel>`` pings no one, a link is only
text. Slack's "Formatting text for app surfaces" documents escapes for ``&``, ``<`` and ``>``
alone, and none for ``*``, ``_``, ``~``, `` ` `` or a leading ``>``
(https://api.slack.com/reference/surfaces/formatting#escaping), and its rich text block reference
says to use rich text for user-defined text
(https://docs.slack.dev/reference/block-kit/blocks/rich-text-block). So mrkdwn is kept for
Earshot's own words; the few customer strings still inside mrkdwn (the queue, a preview's
handle, notification text) are ``escape``d. Everywhere, bidi overrides and isolates are made
visible (``shown``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.decide.x_rules import message_intent, reply_intent
from bot.models import (
    NETWORK_NAMES,
    Agent,
    Approval,
    ApprovalState,
    Case,
    CaseState,
    Mention,
    OutboxState,
    Priority,
    Reply,
    Sentiment,
    StormAnswer,
    StormPlan,
)
from bot.storage.operations import PastCase

Block = dict[str, Any]

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
SUGGEST_ACTION = "earshot_suggest"  # suffixed _1.._n: action ids must be unique in a message
WRITE_ACTION = "earshot_write"
CLAIM_ACTION = "earshot_claim"
DISMISS_ACTION = "earshot_dismiss"
REOPEN_ACTION = "earshot_reopen"
RETRY_ACTION = "earshot_retry"
RELEASE_ACTION = "earshot_release"
TAKE_OVER_ACTION = "earshot_take_over"
MOVE_ACTION = "earshot_move"
STORM_ANSWER_ACTION = "earshot_storm_answer"
EDIT_ACTION = "earshot_edit"
MARK_ANSWERED_ACTION = "earshot_mark_answered"
REPLY_ON_X_ACTION = "earshot_reply_on_x"  # link buttons: Slack still sends the click
DM_ON_X_ACTION = "earshot_dm_on_x"
REPLY_BLOCK = "reply"
REPLY_INPUT = "earshot_reply_text"
COMPOSE_VIEW = "earshot_compose"
CONFIRM_VIEW = "earshot_confirm"

_PRIORITY = {
    Priority.URGENT: "🔴 *Urgent*",
    Priority.HIGH: "🟠 *High*",
    Priority.NORMAL: "🟢 Normal",
    Priority.LOW: "⚪ Low",
}
_SENTIMENT = {
    Sentiment.NEGATIVE: "😠 negative",
    Sentiment.NEUTRAL: "😐 neutral",
    Sentiment.POSITIVE: "🙂 positive",
}


def slack_time(moment: datetime) -> str:
    """A moment Slack shows each reader in their own time zone (UTC as the fallback)."""
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


# Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """Text as Slack surfaces show it: each bidi embedding, override or isolate is replaced by
    a visible marker naming it (``\\u202eevil`` shows as ``[U+202E]evil``), so customer text
    cannot reverse or reorder the text around it on a card. Nothing else changes."""
    return _BIDI.sub(lambda found: f"[U+{ord(found.group()):04X}]", text)


def escape(text: str) -> str:
    """Escape text for Slack mrkdwn: &, < and > become entities (no pings, no hidden links);
    bidi controls are made visible (``shown``). Formatting characters cannot be escaped in
    mrkdwn: show customer text with ``said``/``words`` instead."""
    return shown(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def words(text: str, *, bold: bool = False, italic: bool = False) -> dict[str, Any]:
    """A rich text element shown literally, styled only as asked: Slack parses no mrkdwn,
    mention or link inside it (https://docs.slack.dev/reference/block-kit/blocks/rich-text-block).
    Bidi controls are made visible (``shown``)."""
    element: dict[str, Any] = {"type": "text", "text": shown(text)}
    style = {name: True for name, on in (("bold", bold), ("italic", italic)) if on}
    if style:
        element["style"] = style
    return element


def said(*texts: str, limit: int = 2800, head: Sequence[dict[str, Any]] = ()) -> Block:
    """Customer posts, each in a quote and shown literally (rich text), under an optional first
    line of ``words``. An empty post says so."""
    elements: list[dict[str, Any]] = []
    if first := [part for part in head if part.get("text")]:  # Slack takes no empty text
        elements.append({"type": "rich_text_section", "elements": first})
    for text in texts:
        body = words(_cut(text, limit)) if text.strip() else words("(no text)", italic=True)
        elements.append({"type": "rich_text_quote", "elements": [body]})
    return {"type": "rich_text", "elements": elements}


def literal(text: str, limit: int) -> dict[str, Any]:
    """Customer text as a plain_text object (for fields where rich text cannot go): shown as
    written, ``:emoji:`` codes included, bidi controls made visible."""
    body = shown(_cut(text, limit)) if text.strip() else "(no text)"
    return {"type": "plain_text", "text": body, "emoji": False}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(text: str, limit: int = 2800) -> str:
    body = escape(text if len(text) <= limit else text[: limit - 1] + "…")
    return "\n".join(f"> {line}" if line else ">" for line in body.splitlines() or [""])


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…"}


def reach(followers: int) -> str:
    if followers >= 1_000_000:
        return f"{followers / 1_000_000:.1f}M followers"
    if followers >= 1_000:
        return f"{followers / 1_000:.1f}k followers"
    return f"{followers} followers"


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button = {"type": "button", "text": plain(text, 75), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def link_button(text: str, action_id: str, url: str, *, style: str | None = None) -> dict[str, Any]:
    """A button that opens ``url`` in the browser (Slack caps a button's URL at 3000)."""
    found = {"type": "button", "text": plain(text, 75), "action_id": action_id, "url": url[:3000]}
    if style:
        found["style"] = style
    return found


def context(*texts: str) -> Block:
    """Small print; each part cut to Slack's 3000 characters (a customer's name can be long)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t[:3000]} for t in texts]}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


# ---- case card --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SuggestionButton:
    template: str
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class Linked:
    """Another case or a storm this card points to."""

    id: int
    permalink: str | None
    label: str = ""

    def link(self, text: str) -> str:
        return f"<{self.permalink}|{text}>" if self.permalink else text


@dataclass(frozen=True, slots=True)
class Unsent:
    """The parts of a thread still to post when the network refused one after the first: the
    agent posts them by hand, each answering the one before (the first answers ``after``)."""

    after: str  # the native id of the last part that went out
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CardView:
    case: Case
    mention: Mention
    brand: str
    suggestions: tuple[SuggestionButton, ...] = ()
    agents: Mapping[str, Agent] | None = None
    reply: Reply | None = None  # the latest reply in the outbox, if any
    latest: Mention | None = None  # the customer's latest follow-up, when there is one
    joined: Linked | None = None  # the case whose conversation this third party joined
    storm: Linked | None = None  # the storm this case is part of
    move_to: tuple[str, ...] = ()  # channels the case can be moved to
    approval: Approval | None = None  # a reply waiting for a lead
    notes: int = 0  # internal notes in the card's thread
    sla: str = ""  # "First response: 2h 05m left (due …)", "" when no clock runs
    history: tuple[PastCase, ...] = ()  # the customer's earlier cases with us, newest first
    customer_tags: tuple[str, ...] = ()
    now: datetime | None = None
    blocked: str = ""  # why the network takes no reply by API to this post (X's restriction)
    unsent: Unsent | None = None  # the rest of a thread the network refused part of

    def name(self, user_id: str | None) -> str:
        """Mrkdwn for a person: the agent's (escaped) name, else a Slack mention of the id."""
        agent = (self.agents or {}).get(user_id or "")
        if agent:
            return escape(agent.name)
        return f"<@{user_id}>" if user_id and _USER_ID.match(user_id) else "someone"


def case_card(view: CardView) -> tuple[str, list[Block]]:
    """The card for a case: fallback text (notifications) and blocks."""
    m = view.mention
    who = f"@{m.author.handle}" if m.author.handle else (m.author.name or "someone")
    text = f"{NETWORK_NAMES.get(m.network, m.network)} mention from {who[:100]}: {m.text[:150]}"
    blocks = [_headline(view), _author_and_text(m), *_follow_up(view), _where(view)]
    if badges := _badges(view):
        blocks.append(context(" · ".join(badges)))
    if customer := customer_context(view):
        blocks.append(context(customer))
    if view.sla and view.case.state is CaseState.OPEN:
        blocks.append(context(f"⏱ {view.sla}"))
    return escape(text), [*blocks, *_state_blocks(view)]


_TREND = {"negative": "😠", "neutral": "😐", "positive": "🙂"}


def customer_context(view: CardView) -> str:
    """The customer's history with us: earlier cases (linked), last contact, sentiment trend,
    tags and internal notes. "" for a first contact without tags."""
    history, tags = view.history, view.customer_tags
    parts: list[str] = []
    if history:
        count = len(history)
        latest = history[0]
        ago = _age(latest.created_at, view.now or latest.created_at)
        parts.append(f"👤 {count} earlier case{'s' if count > 1 else ''} · last contact {ago} ago")
        oldest_first = list(reversed(history[:5]))
        trend = "→".join(_TREND.get(c.sentiment, "•") for c in oldest_first)
        parts.append(f"mood {trend}{_direction(oldest_first)}")
        links = [f"<{c.permalink}|#{c.id}>" if c.permalink else f"#{c.id}" for c in history[:5]]
        parts.append(" ".join(links))
        notes = sum(c.notes for c in history)
        if notes:
            parts.append(f"🗒 {notes} note{'s' if notes > 1 else ''} on them")
        past_tags = sorted({t for c in history for t in c.tags})
        if past_tags:
            parts.append("earlier tags " + escape(", ".join(past_tags[:6])))
    elif tags:
        parts.append("👤 first case with us")
    if tags:
        parts.append("customer " + escape(", ".join(sorted(tags))))
    return " · ".join(parts)


def _direction(cases: Sequence[PastCase]) -> str:
    if len(cases) < 2:
        return ""
    change = cases[-1].sentiment_score - cases[0].sentiment_score
    return " (improving)" if change > 0.2 else (" (worsening)" if change < -0.2 else "")


def _follow_up(view: CardView) -> list[Block]:
    if view.latest is None or not view.case.follow_ups:
        return []
    count = view.case.follow_ups
    heading = [
        words("↩ "),
        words("The customer wrote again", bold=True),
        words(f" ({count} follow-up{'s' if count > 1 else ''}):"),
    ]
    return [said(view.latest.text, limit=1500, head=heading)]


def _badges(view: CardView) -> list[str]:
    case = view.case
    badges = [f"🏷 {escape(', '.join(case.tags))}"] if case.tags else []
    if case.require_approval:
        badges.append("🛡 replies need a lead's approval")
    if case.noise:
        badges.append(f"⚠️ {escape(case.noise)}")
    if view.joined is not None:
        badges.append(
            "↪ joins " + view.joined.link(f"case #{view.joined.id}") + escape(view.joined.label)
        )
    if view.storm is not None:
        badges.append("🌩 part of " + view.storm.link(f"storm #{view.storm.id}"))
    return badges


def _headline(view: CardView) -> Block:
    case, network = view.case, NETWORK_NAMES.get(view.mention.network, view.mention.network)
    private = " · 🔒 *direct message*" if view.mention.private else ""
    return context(
        f"{_PRIORITY[case.priority]} · {_SENTIMENT[case.sentiment]} · {network}{private} · "
        f"*{escape(view.brand)}* · case #{case.id}"
    )


def _author_and_text(m: Mention) -> Block:
    """Who wrote, and what, shown literally (a name like ``*VIP*`` is not made bold)."""
    name = _cut(m.author.name or m.author.handle or "Unknown author", 200)
    handle = f" (@{_cut(m.author.handle, 100)})" if m.author.handle and m.author.name else ""
    badge = " ✓ verified" if m.author.verified else ""
    first = [words(name, bold=True), words(f"{handle} · {reach(m.author.followers)}{badge}")]
    return said(m.text, head=first)


def _where(view: CardView) -> Block:
    m, case = view.mention, view.case
    link = f"<{m.url}|Open on {NETWORK_NAMES.get(m.network, m.network)}>" if m.url else "no link"
    return context(f"{link} · {escape(case.why)}")


def _state_blocks(view: CardView) -> list[Block]:
    case, reply = view.case, view.reply
    if case.state is CaseState.REPLIED:
        return [_replied(view)]
    if case.state in (CaseState.DISMISSED, CaseState.RESOLVED):
        by = view.name(case.closed_by)
        reopen = button("Reopen", REOPEN_ACTION, str(case.id))
        verb = "🗂 Dismissed" if case.state is CaseState.DISMISSED else "☑️ Resolved without a reply"
        return [context(f"{verb} by {by}"), {"type": "actions", "elements": [reopen]}]
    if reply and reply.state in {OutboxState.PENDING, OutboxState.SENDING}:
        who = view.name(reply.agent_id)
        if reply.error:
            return [context(f"⏳ {who}'s reply will be retried: {escape(reply.error)}")]
        part = f" (part {reply.part} of {reply.parts})" if reply.parts > 1 else ""
        return [context(f"⏳ Sending {who}'s reply{part}…")]
    if view.approval is not None:
        who = view.name(view.approval.agent_id)
        return [context(f"🛡 {who}'s reply is waiting for a lead's approval", _internal(view))]
    blocks = _open_actions(view)
    blocks.append(context(_internal(view)))
    if reply and reply.state is OutboxState.CANCELLED:
        who = view.name(reply.agent_id)
        blocks.append(section(f"⚠️ {who}'s reply was not sent: {escape(reply.error or '')}"))
    if reply and reply.state is OutboxState.FAILED:
        retry = button("Retry send", RETRY_ACTION, str(reply.id), style="danger")
        who = view.name(reply.agent_id)
        failed = f"⚠️ Reply by {who} was not sent: {escape(reply.error or '')}"
        blocks += [section(failed), {"type": "actions", "elements": [retry]}]
        if view.unsent is not None:
            blocks += _unsent(view.case.id, view.unsent)
    return blocks


def _unsent(case_id: int, unsent: Unsent) -> list[Block]:
    """The rest of a thread X refused part of: nothing is lost, the agent posts it by hand."""
    first = unsent.texts[0]
    rest = "\n".join(f"> {escape(text)}" for text in unsent.texts)
    post = link_button("↩️ Post it on X", REPLY_ON_X_ACTION, reply_intent(unsent.after, first))
    mark = button("✅ Mark answered", MARK_ANSWERED_ACTION, str(case_id))
    return [
        section(f"📝 Still to post, each answering the one before:\n{rest}"[:3000]),
        {"type": "actions", "elements": [post, mark]},
    ]


def _internal(view: CardView) -> str:
    notes = f" · {view.notes} note{'s' if view.notes != 1 else ''}" if view.notes else ""
    return f"🔒 Thread replies are internal notes{notes}; only *Post publicly* reaches the customer"


def _replied(view: CardView) -> Block:
    reply, case = view.reply, view.case
    agent = (view.agents or {}).get(case.replied_by or "")
    who = escape(f"{agent.name} {agent.signature}") if agent else view.name(case.replied_by)
    link = f" · <{case.reply_url}|View public reply>" if case.reply_url else ""
    said = f"\n{quote(reply.text)}" if reply else ""
    return section(f"✅ *Replied by {who}*{link}{said}")


def _open_actions(view: CardView) -> list[Block]:
    case = view.case
    blocks: list[Block] = []
    if view.suggestions:
        buttons = [
            button(f"💬 {s.label}", f"{SUGGEST_ACTION}_{i}", f"{case.id}|{s.template}")
            for i, s in enumerate(view.suggestions, start=1)
        ]
        blocks += [section("*Suggested replies*"), {"type": "actions", "elements": buttons}]
    controls = [button("✍️ Write reply", WRITE_ACTION, str(case.id), style="primary")]
    if view.blocked:
        blocks.append(context(f"🚫 {view.blocked}"))
        controls = _answer_on_x(view)
    if not case.claimed_by:
        controls.append(button("🙋 Claim", CLAIM_ACTION, str(case.id)))
    controls.append(button("Dismiss", DISMISS_ACTION, str(case.id)))
    if choices := [c for c in view.move_to if c != case.channel][:100]:
        controls.append(_move_menu(case.id, choices))
    blocks.append({"type": "actions", "elements": controls})
    if case.claimed_by:
        release = button("Release", RELEASE_ACTION, str(case.id))
        take = button("Take over", TAKE_OVER_ACTION, str(case.id))
        how = " (assigned round-robin)" if case.assigned_by == "auto" else ""
        blocks.append(context(f"🔒 {view.name(case.claimed_by)} is replying{how}"))
        blocks.append({"type": "actions", "elements": [release, take]})
    if case.snoozed_until and view.now and case.snoozed_until > view.now:
        blocks.append(context(f"💤 Snoozed until {slack_time(case.snoozed_until)}"))
    if case.replied_by:
        earlier = f"Answered earlier by {view.name(case.replied_by)}; the customer wrote again."
        blocks.append(context(f"💬 {earlier}"))
    return blocks


def _answer_on_x(view: CardView) -> list[dict[str, Any]]:
    """Where X takes no reply by API: answer in the brand's own X session, then say so."""
    latest = view.latest or view.mention
    reply = link_button(
        "↩️ Reply on X", REPLY_ON_X_ACTION, reply_intent(latest.native_id), style="primary"
    )
    mark = button("✅ Mark answered", MARK_ANSWERED_ACTION, str(view.case.id))
    message = link_button("✉️ DM on X", DM_ON_X_ACTION, message_intent(latest.author.id))
    return [reply, mark, message]


def answer_on_x_modal(*, case_id: int, mention: Mention, parts: Sequence[str]) -> dict[str, Any]:
    """The reply is ready but X takes it only from the brand's own X session: open it there
    with the text filled in (each part of a thread answers the one before), then mark the case
    answered."""
    post = link_button(
        "↩️ Reply on X with this text",
        REPLY_ON_X_ACTION,
        reply_intent(mention.native_id, parts[0]),
        style="primary",
    )
    mark = button("✅ Mark answered", MARK_ANSWERED_ACTION, str(case_id))
    later = [section(f"*Then, answering it:*\n{quote(part)}") for part in parts[1:]]
    why = (
        f"X lets us answer @{escape(mention.author.handle)} by API only if they @mention the "
        "brand. Post this from the brand's X session, then mark the case answered:"
    )
    return {
        "type": "modal",
        "title": plain("Answer on X", 24),
        "close": plain("Done", 24),
        "blocks": [
            section(why),
            section(quote(parts[0])),
            *later,
            {"type": "actions", "elements": [post, mark]},
        ],
    }


def _move_menu(case_id: int, channels: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": MOVE_ACTION,
        "placeholder": plain("Move to…", 150),
        "options": [
            {"text": plain(channel, 75), "value": f"{case_id}|{channel}"} for channel in channels
        ],
    }


def moved_card(
    *, by: str, channel: str, permalink: str | None, text: str
) -> tuple[str, list[Block]]:
    """What is left where a case used to be: a pointer to its new card."""
    where = f"<{permalink}|{escape(channel)}>" if permalink else escape(channel)
    line = f"➡️ Moved to {where} by {by}."
    return escape(f"Moved to {channel}"), [section(line), said(text, limit=300)]


# ---- storms -------------------------------------------------------------------------------------


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


STORM_ANSWER_VIEW = "earshot_storm_answer_view"
STORM_TEMPLATE_BLOCK = "template"
STORM_TEMPLATE_INPUT = "earshot_storm_template"


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


# ---- reply modals -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComposeView:
    case_id: int
    template: str | None
    mention: Mention
    agent: Agent
    body: str
    meter: str  # "Signed ^JK · 212 characters left"
    network_label: str = "X"
    slots: tuple[str, ...] = ()  # fields to fill in, one input each
    approval: str = ""  # why a lead approves it first, or ""


SLOT_BLOCK = "slot_"  # + slot name
SLOT_INPUT = "earshot_slot"  # + _<slot name>: action ids are unique within a view


def slot_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _slot_input(name: str) -> Block:
    return {
        "type": "input",
        "block_id": f"{SLOT_BLOCK}{name}",
        "optional": True,
        "label": plain(f"{slot_label(name)} — fills {{{name}?}}", 2000),
        "element": {"type": "plain_text_input", "action_id": f"{SLOT_INPUT}_{name}"},
    }


def _values(view: Mapping[str, Any]) -> Mapping[str, Any]:
    """A submitted modal's input state, block by block ({} when absent or malformed)."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def state_of(view: Mapping[str, Any], block: str, action: str) -> Mapping[str, Any]:
    """One input's state in a submitted modal ({} when absent or malformed)."""
    fields = _values(view).get(block)
    state = fields.get(action) if isinstance(fields, Mapping) else None
    return state if isinstance(state, Mapping) else {}


def input_value(view: Mapping[str, Any], block: str, action: str) -> str:
    """What was typed into one input of a submitted modal ("" if nothing)."""
    return str(state_of(view, block, action).get("value") or "")


def slot_values(view: Mapping[str, Any]) -> dict[str, str]:
    """What the agent typed into each slot field of a submitted compose modal."""
    return {
        name: input_value(view, block, f"{SLOT_INPUT}_{name}")
        for block in _values(view)
        if str(block).startswith(SLOT_BLOCK) and (name := str(block)[len(SLOT_BLOCK) :])
    }


def compose_modal(view: ComposeView) -> dict[str, Any]:
    """Step 1: edit the reply. Shows what it answers, the signature and the characters left;
    one field per slot the template leaves for the agent to fill in."""
    m = view.mention
    meta = {"case": view.case_id, "template": view.template or ""}
    element = {
        "type": "plain_text_input",
        "action_id": REPLY_INPUT,
        "multiline": True,
        "initial_value": view.body,
        "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]},
    }
    return {
        "type": "modal",
        "callback_id": COMPOSE_VIEW,
        "private_metadata": json.dumps(meta, ensure_ascii=False),
        "title": plain(f"Reply on {view.network_label}", 24),
        "submit": plain("Preview", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            said(
                m.text,
                limit=1500,
                head=[words("Replying to "), words(f"@{m.author.handle}", bold=True), words(":")],
            ),
            {
                "type": "input",
                "block_id": REPLY_BLOCK,
                "dispatch_action": True,
                "label": plain("Your reply", 2000),
                "element": element,
            },
            {**context(view.meter), "block_id": METER_BLOCK},
            *(_slot_input(name) for name in view.slots),
            *_approval_note(view.approval),
            context(INTERNAL_NOTE),
        ],
    }


def _approval_note(reason: str) -> list[Block]:
    if not reason:
        return []
    return [context(f"🛡 A lead approves this reply before it goes public: {escape(reason)}.")]


INTERNAL_NOTE = (
    "🔒 Only *Post publicly* reaches the customer. Messages in a card's thread are internal notes."
)


_VIEW_KEYS = ("type", "callback_id", "private_metadata", "title", "submit", "close", "blocks")
METER_BLOCK = "meter"


def with_meter(view: Mapping[str, Any], text: str) -> dict[str, Any]:
    """The same modal with a new meter line, minus the read-only keys Slack added."""
    updated = {key: view[key] for key in _VIEW_KEYS if key in view}
    updated["blocks"] = [
        {**context(text), "block_id": METER_BLOCK} if b.get("block_id") == METER_BLOCK else b
        for b in view.get("blocks", [])
    ]
    return updated


def meter(*, signature: str, left: int) -> str:
    if left < 0:
        return f"Signed *{escape(signature)}* · ⚠️ *{-left} characters over* the limit"
    return f"Signed *{escape(signature)}* · {left} characters left"


@dataclass(frozen=True, slots=True)
class PreviewView:
    case_id: int
    template: str | None
    body: str
    public_text: str
    key: str
    mention: Mention
    brand_handle: str
    length: int
    limit: int
    network_label: str = "X"
    private: bool = False  # a direct message: only the customer sees it
    parts: tuple[str, ...] = ()  # a thread when more than one
    warnings: tuple[str, ...] = ()
    approval: str = ""  # why a lead approves it first, or ""


def _public_parts(view: PreviewView) -> list[Block]:
    parts = view.parts or (view.public_text,)
    if len(parts) == 1:
        return [
            section(quote(parts[0])),
            context(f"{view.length}/{view.limit} characters · signature included"),
        ]
    blocks: list[Block] = [
        context(
            f"🧵 Too long for one post: it goes out as a thread of {len(parts)} replies, "
            "numbered, your signature on the last."
        )
    ]
    for number, part in enumerate(parts, start=1):
        blocks.append(section(f"*{number}/{len(parts)}*\n{quote(part)}"))
    return blocks


def preview_modal(view: PreviewView) -> dict[str, Any]:
    """Step 2: exactly what goes public, signed (one post or a numbered thread), what to look
    at again; the agent confirms, or goes back to edit."""
    meta = {
        "case": view.case_id,
        "template": view.template or "",
        "body": view.body,
        "key": view.key,
        "answering": view.mention.id,
    }
    how = "posted *publicly*"
    if view.private:
        how = "sent *privately* (a direct message only they see)"
    where = (
        f"This will be {how} on {view.network_label} as *@{escape(view.brand_handle)}*,"
        f" replying to @{escape(view.mention.author.handle)}:"
    )
    if view.approval:
        where = f"🛡 A lead approves it first ({escape(view.approval)}). Then t" + where[1:]
    edit = button("✏️ Edit", EDIT_ACTION, str(view.case_id))
    warnings = (
        [section("\n".join(f"⚠️ {escape(w)}" for w in view.warnings))] if view.warnings else []
    )
    return {
        "type": "modal",
        "callback_id": CONFIRM_VIEW,
        "private_metadata": json.dumps(meta, ensure_ascii=False),
        "title": plain("Confirm public reply", 24),
        "submit": plain(_submit_label(view), 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(where),
            *_public_parts(view),
            *warnings,
            {"type": "actions", "elements": [edit]},
        ],
    }


def _submit_label(view: PreviewView) -> str:
    if view.approval:
        return "Send for approval"
    return "Send privately" if view.private else "Post publicly"


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something. ``text`` is Earshot's own mrkdwn, shown as written."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close", 24),
        "blocks": [section(text)],
    }


# ---- approvals ----------------------------------------------------------------------------------

APPROVE_ACTION = "earshot_approve"
APPROVE_EDIT_ACTION = "earshot_approve_edit"
REJECT_ACTION = "earshot_reject"
APPROVE_EDIT_VIEW = "earshot_approve_edit_view"
REJECT_VIEW = "earshot_reject_view"
NOTE_BLOCK = "note"
NOTE_INPUT = "earshot_note"


@dataclass(frozen=True, slots=True)
class ApprovalView:
    approval: Approval
    mention: Mention
    agent: str  # display name
    decided_by: str = ""  # display name
    card: str | None = None  # the case card's permalink


def approval_message(view: ApprovalView) -> tuple[str, list[Block]]:
    """The request a lead sees: who wants to say what to whom, and why it needs approval."""
    a, m = view.approval, view.mention
    case = f"<{view.card}|case #{a.case_id}>" if view.card else f"case #{a.case_id}"
    head = f"🛡 *Approval needed* · {case} · {escape(a.reason)}"
    asks = [
        words(view.agent, bold=True),
        words(f" wants to reply publicly to @{m.author.handle}:"),
    ]
    reply = "\n".join(quote(p, 2800 // max(1, len(a.parts))) for p in a.parts)
    blocks: list[Block] = [section(head), said(m.text, limit=600, head=asks)]
    blocks.append(section(f"*Their reply*{' (a thread)' if len(a.parts) > 1 else ''}:\n{reply}"))
    blocks.append(_approval_outcome(view))
    text = f"Approval needed: {view.agent}'s reply to case #{a.case_id}"
    return escape(text), blocks


def _approval_outcome(view: ApprovalView) -> Block:
    a, who = view.approval, escape(view.decided_by)
    if a.state is ApprovalState.APPROVED:
        return context(f"✅ Approved by {who}; sent through the outbox")
    if a.state is ApprovalState.REJECTED:
        return context(f"↩ Sent back by {who}: “{escape(a.note)}”")
    value = str(a.id)
    return {
        "type": "actions",
        "elements": [
            button("Approve", APPROVE_ACTION, value, style="primary"),
            button("Edit…", APPROVE_EDIT_ACTION, value),
            button("Reject…", REJECT_ACTION, value, style="danger"),
        ],
    }


def approve_edit_modal(approval: Approval) -> dict[str, Any]:
    """A lead changes the reply's text, then approves it in one step (it is checked again)."""
    element = {
        "type": "plain_text_input",
        "action_id": REPLY_INPUT,
        "multiline": True,
        "initial_value": approval.body,
    }
    return {
        "type": "modal",
        "callback_id": APPROVE_EDIT_VIEW,
        "private_metadata": json.dumps({"approval": approval.id}),
        "title": plain("Edit and approve", 24),
        "submit": plain("Approve and post", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            context("The agent's signature is added as before. Approving posts it publicly."),
            {
                "type": "input",
                "block_id": REPLY_BLOCK,
                "label": plain("Reply", 2000),
                "element": element,
            },
        ],
    }


def reject_modal(approval: Approval) -> dict[str, Any]:
    """Send the reply back with a note the agent will see."""
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "private_metadata": json.dumps({"approval": approval.id}),
        "title": plain("Send back", 24),
        "submit": plain("Send back", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "label": plain("What should change?", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_INPUT,
                    "multiline": True,
                },
            },
        ],
    }


# ---- /mentions --------------------------------------------------------------------------------

HELP = (
    "*Earshot* — public mentions of the brand, triaged and routed into team channels.\n"
    "• `/mentions queue` — open cases per channel, oldest first, with links to their cards\n"
    "• `/mentions route` — the routing rules in order; leads add, edit, move, switch off and "
    "remove them (each change shows a dry-run first)\n"
    "• `/mentions route test <text>` — which rule a post like this would hit, and why\n"
    "• `/mentions route history` — every change: who, when, what\n"
    "• `/mentions route undo` — put the rules back as before the last change (leads)\n"
    "• `/mentions tag @handle +vip -press` — tag a customer (rules can route on tags)\n"
    "• `/mentions playbooks` — the reply templates in use; `/mentions playbooks reload` "
    "picks up edited playbook files now (leads; saved files are also picked up by themselves)\n"
    "• `/mentions mine` — your open cases, most urgent SLA first\n"
    "• `/mentions claim <id>` — take a case (the card shows you are replying); "
    "`/mentions release <id>` lets it go; `/mentions take <id>` — a lead takes it over\n"
    "• `/mentions snooze <id> 2h` — out of the queue and without reminders until then "
    "(30m, 2h, 1d…; the SLA target does not move)\n"
    "• `/mentions resolve <id>` — handled without a public reply (DM, phone…)\n"
    "• `/mentions duty on|off` — whether round-robin assignment gives you cases\n"
    "• `/mentions status` — each source's last poll, mentions today, errors, rate limits, "
    "X reads and posts this month against the budget\n"
    "• `/mentions stats [today|7d|30d]` — volume, first-response median and p90, SLA met, "
    "per team and agent, sentiment, top tags\n"
    "• `/mentions search <words>` — mentions holding those words, newest first, with their cases\n"
    "• `/mentions help` — this help\n"
    "On a card: pick a suggested reply or *Write reply*, check the preview (your signature is "
    "added), then *Post publicly*. Long replies go out as a numbered thread. Replies of "
    "trainees, and on cases a rule protects, wait for a lead's approval. Messages in a card's "
    "thread are internal notes: they never go public. *Move to…* re-routes a case and teaches "
    "routing. Only configured agents can post."
)


@dataclass(frozen=True, slots=True)
class QueueItem:
    case: Case
    mention: Mention
    claimed_by: str | None  # display name


def queue_blocks(
    items: Sequence[QueueItem], *, now: datetime, per_channel: int = 15
) -> list[Block]:
    """Open cases grouped by channel, oldest first."""
    if not items:
        return [section("🎉 No open cases. The queue is empty.")]
    channels: dict[str, list[QueueItem]] = {}
    for item in items:
        channels.setdefault(item.case.channel, []).append(item)
    blocks: list[Block] = [section(f"*{len(items)} open case(s)*, oldest first")]
    for channel, group in sorted(channels.items()):
        lines = [_queue_line(item, now) for item in group[:per_channel]]
        if len(group) > per_channel:
            lines.append(f"…and {len(group) - per_channel} more")
        blocks.append(section(f"*{escape(channel)}* ({len(group)})\n" + "\n".join(lines)))
    return blocks[:50]


def _queue_line(item: QueueItem, now: datetime) -> str:
    case, m = item.case, item.mention
    label = f"<{case.permalink}|#{case.id}>" if case.permalink else f"#{case.id}"
    snippet = escape(m.text[:80] + ("…" if len(m.text) > 80 else "")).replace("\n", " ")
    claimed = f" · 🔒 {escape(item.claimed_by)}" if item.claimed_by else ""
    return (
        f"• {label} {_age(case.created_at, now)} · @{escape(m.author.handle)}: {snippet}{claimed}"
    )


def _age(then: datetime, now: datetime) -> str:
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h {minutes % 60}m"
    return f"{minutes // 1440}d"


# ---- burst message ----------------------------------------------------------------------------

OPEN_CARD_ACTION = "earshot_open_card"  # suffixed _<case id>: unique in the message
BURST_ROWS = 40  # rows per burst message: Slack allows 50 blocks in a message


@dataclass(frozen=True, slots=True)
class BurstView:
    """More mentions than Slack lets us post one by one (about one message per second per
    channel): listed together in one message, each with a button that brings up its card."""

    number: int
    channel: str
    members: Sequence[tuple[Case, Mention]]
    started: datetime


def burst_message(view: BurstView) -> tuple[str, list[Block]]:
    count = len(view.members)
    urgent = sum(c.priority is Priority.URGENT for c, _ in view.members)
    head = f"📣 *Burst* · {count} new mention{'s' if count != 1 else ''} in {view.channel}"
    blocks = [
        section(head + (f" · 🔴 {urgent} urgent" if urgent else "")),
        context(
            f"Since {slack_time(view.started)}: more mentions than Slack lets Earshot post one "
            "by one. Each is its own case; its card follows in this thread, or now with *Card*."
        ),
        *(_burst_row(case, mention) for case, mention in view.members[:BURST_ROWS]),
    ]
    text = f"Burst: {count} new mentions in {view.channel}"
    return escape(text), blocks


def _burst_row(case: Case, mention: Mention) -> Block:
    """Earshot's line in mrkdwn; who wrote and what in plain_text fields, shown literally."""
    who = f"@{mention.author.handle}" if mention.author.handle else (mention.author.name or "?")
    link = f" · <{mention.url}|on X>" if mention.url else ""
    row = section(f"{_PRIORITY[case.priority]} · case #{case.id}{link}")
    row["fields"] = [literal(who, 100), literal(mention.text, 140)]
    row["accessory"] = button("Card", f"{OPEN_CARD_ACTION}_{case.id}", str(case.id))
    return row
