"""The case card (priority, the post, why it was routed, suggestions, actions, its state), the
card left behind when a case moves, and the burst message that lists cards under load."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.decide.routing import BestGuess
from bot.decide.x_rules import message_intent, reply_intent
from bot.models import (
    NETWORK_NAMES,
    Agent,
    Approval,
    Case,
    CaseState,
    Mention,
    OutboxState,
    Priority,
    Reply,
)
from bot.slack.views.ids import (
    CLAIM_ACTION,
    DISMISS_ACTION,
    DM_ON_X_ACTION,
    MARK_ANSWERED_ACTION,
    MOVE_ACTION,
    MOVE_TO_GUESS_ACTION,
    OPEN_CARD_ACTION,
    RELEASE_ACTION,
    REOPEN_ACTION,
    REPLY_ON_X_ACTION,
    RETRY_ACTION,
    SUGGEST_ACTION,
    TAKE_OVER_ACTION,
    WRITE_ACTION,
)
from bot.slack.views.kit import (
    _PRIORITY,
    _SENTIMENT,
    _USER_ID,
    Block,
    _cut,
    button,
    context,
    escape,
    link_button,
    literal,
    plain,
    quote,
    reach,
    said,
    section,
    slack_time,
    words,
)
from bot.slack.views.queue import _age
from bot.storage.operations import PastCase


@dataclass(frozen=True, slots=True)
class SuggestionButton:
    template: str
    label: str
    score: float
    text: str = ""  # the reply as the agent gets it: placeholders and the help link filled in
    why: str = ""  # what matched, or "often sent …" for a popular template (no score then)


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
    if view.case.priority_reasons:
        blocks.append(context(_priority_why(view.case)))
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


def _suggested(number: int, suggestion: SuggestionButton) -> str:
    """One suggestion as it would go out (shortened), and why it is here."""
    text = suggestion.text if len(suggestion.text) <= 140 else suggestion.text[:139] + "…"
    why = f" — _{escape(suggestion.why)}_" if suggestion.why else ""
    return f"{number}. {escape(text)}{why}"


def _priority_why(case: Case) -> str:
    """Why the case has its priority, in triage's words ("very negative", "urgent term …")."""
    return f"⚑ {case.priority.value.capitalize()} because " + escape(
        "; ".join(case.priority_reasons)
    )


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
    blocks: list[Block] = _best_guess(case)
    if view.suggestions:
        buttons = [
            button(f"💬 {s.label}", f"{SUGGEST_ACTION}_{i}", f"{case.id}|{s.template}")
            for i, s in enumerate(view.suggestions, start=1)
        ]
        blocks += [section("*Suggested replies*"), {"type": "actions", "elements": buttons}]
        if lines := [_suggested(i, s) for i, s in enumerate(view.suggestions, start=1) if s.text]:
            blocks.append(context("\n".join(lines)[:2900]))
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


def _best_guess(case: Case) -> list[Block]:
    """A case in the fallback because learned routing was not sure enough: where it would have
    gone, with a button that moves it there (as *Move to…* does: the move also teaches)."""
    guess = BestGuess.told_in(case.why) if case.via == "fallback" else None
    if guess is None or guess.channel == case.channel:
        return []
    where = escape(guess.channel)
    line = section(
        f"🧭 *Best guess: {where}* (confidence {guess.confidence:.2f}, below the threshold "
        "for routing it there)"
    )
    value = f"{case.id}|{guess.channel}"
    line["accessory"] = button(f"Move to {guess.channel}", MOVE_TO_GUESS_ACTION, value)
    return [line]


def _answer_on_x(view: CardView) -> list[dict[str, Any]]:
    """Where X takes no reply by API: answer in the brand's own X session, then say so."""
    latest = view.latest or view.mention
    reply = link_button(
        "↩️ Reply on X", REPLY_ON_X_ACTION, reply_intent(latest.native_id), style="primary"
    )
    mark = button("✅ Mark answered", MARK_ANSWERED_ACTION, str(view.case.id))
    message = link_button("✉️ DM on X", DM_ON_X_ACTION, message_intent(latest.author.id))
    return [reply, mark, message]


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
