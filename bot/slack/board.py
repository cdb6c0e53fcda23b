"""The Slack side of cases: case cards, storm cards, thread notes, private notes to one person.

Only slack-sdk's ``WebClient`` talks to Slack; rendering is done by the pure builders in
``bot.slack.views``. Cards are rendered from the database inside a per-card lock, so a click
that races the first post never posts a second card, and the last update always shows the
latest state.
A channel Slack refuses (missing, private without Earshot, archived) is told to the leads once;
its cards wait in the fallback channel and move once Slack takes them (``bot.slack.refusals``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.decide.playbooks import Template, placeholder_values, render
from bot.live.directory import Directory
from bot.models import Case, Mention, OutboxState, Reply
from bot.slack.client import ChannelPacer
from bot.slack.lookup import card_metadata, find_card
from bot.slack.lookup import channel_id as find_channel
from bot.slack.port import BoardError, ChannelRefused
from bot.slack.refusals import REFUSALS, Refusals, leads_text, marker, working_text
from bot.slack.views.approvals import ApprovalView, approval_message
from bot.slack.views.cards import (
    BurstView,
    CardView,
    Linked,
    SuggestionButton,
    Unsent,
    burst_message,
    case_card,
    moved_card,
)
from bot.slack.views.kit import escape, quote, slack_time
from bot.slack.views.sla import time_left, what
from bot.slack.views.storms import StormView, storm_card
from bot.storage.cases import Storm
from bot.storage.store import Store

log = logging.getLogger(__name__)

MAX_BLOCKS = 50  # in one message


class SlackBoard:
    def __init__(
        self,
        *,
        client: WebClient,
        store: Store,
        directory: Directory,
        clock: Clock,
        channels: Callable[[], tuple[str, ...]] = tuple,
        leads_channel: str = "",
        pacer: ChannelPacer | None = None,
        fallback: str = "",
        refusals: Refusals | None = None,
    ) -> None:
        """``fallback``: where a card goes when Slack refuses its channel (default: the routing
        fallback of the live rules, else the case's brand's)."""
        self._leads_channel = leads_channel
        self._fallback = fallback
        self.refusals = refusals or Refusals(store=store, clock=clock)
        self.pacer = pacer or ChannelPacer()
        self._channel_names: dict[str, str] = {}  # id -> "#name", learned from Slack's answers
        self._client = client
        self._store = store
        self._directory = directory
        self._clock = clock
        self._channels = channels  # where a case can be moved: the routing channels
        self._stripes = tuple(threading.Lock() for _ in range(64))

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        with self._stripes[hash(key) % len(self._stripes)]:
            yield

    # ---- case cards --------------------------------------------------------------------------

    def card_view(self, case_id: int) -> CardView:
        store, directory = self._store, self._directory
        case = store.case(case_id)
        mention = store.mention(case.mention_id)
        brand = directory.brand_of(case.brand).name
        templates = (
            (directory.library.get(s["template"], case.lang), s)
            for s in store.case_suggestions(case_id)
        )
        buttons = tuple(
            SuggestionButton(
                t.id, t.label, s["score"], _filled(t, mention, brand), s.get("why", "")
            )
            for t, s in templates
            if t
        )
        latest = store.latest_from_customer(case_id) if case.follow_ups else None
        reply = store.latest_reply(case_id)
        return CardView(
            case=case,
            mention=mention,
            brand=brand,
            suggestions=buttons,
            agents=directory.agents,
            reply=reply,
            latest=latest,
            joined=self._linked_case(case.joined_case),
            storm=self._linked_storm(case.storm_id),
            move_to=self._channels(),
            approval=store.pending_approval(case_id),
            notes=store.count_notes(case_id),
            sla=self._sla_text(case),
            history=tuple(
                store.customer_cases(
                    network=mention.network,
                    author_id=mention.author.id,
                    handle=mention.author.handle,
                    before=case.id,
                )
            ),
            customer_tags=tuple(store.customer_tags(mention.network, mention.author.handle)),
            now=self._clock.now(),
            blocked=directory.api_reply_blocked(latest or mention),
            unsent=self._unsent(reply),
        )

    def _unsent(self, reply: Reply | None) -> Unsent | None:
        """A thread refused after its first part: what is left to post by hand."""
        if reply is None or reply.state is not OutboxState.FAILED or reply.part == 1:
            return None
        parts = self._store.thread_parts(reply)
        before = parts[reply.part - 2].post_id
        later = tuple(p.text for p in parts if p.part >= reply.part)
        return Unsent(after=before, texts=later) if before else None

    def _sla_text(self, case: Case) -> str:
        left = time_left(case, self._directory, self._clock.now())
        if not left or case.sla_due is None:
            return ""
        due = slack_time(case.sla_due)
        mark = "🚨 " if case.sla_notified == "breached" else ""
        return f"{mark}{what(case).capitalize()}: {left} (due {due})"

    def _linked_case(self, case_id: int | None) -> Linked | None:
        if case_id is None:
            return None
        other = self._store.case(case_id)
        handle = self._store.mention(other.mention_id).author.handle
        return Linked(case_id, other.permalink, f" (@{handle}'s conversation)" if handle else "")

    def _linked_storm(self, storm_id: int | None) -> Linked | None:
        return None if storm_id is None else Linked(storm_id, self._store.storm(storm_id).permalink)

    def post_card(self, case_id: int, *, thread: str | None = None) -> None:
        """Post the case's card once: in its storm's thread, in ``thread`` (a burst message's),
        or at the top of its channel."""
        with self._lock(f"case:{case_id}"):
            self._post(case_id, thread=thread)

    def _post(self, case_id: int, *, thread: str | None = None) -> None:
        case = self._store.case(case_id)
        if case.card_ts:
            return  # already posted (a sweep and the pipeline may both try)
        refused = self.refusals.blocked(case.channel)  # lately: no need to ask Slack again
        if refused is None and self._found_in_slack(case):
            return
        text, blocks = case_card(self.card_view(case_id))
        if case.storm_id:
            thread = self._store.storm(case.storm_id).card_ts or thread
        meta = card_metadata(case_id)
        if refused is not None:
            self._park(case, refused, text=text, blocks=blocks, meta=meta)
            return
        self._store.card_attempt(case_id, at=self._clock.now(), thread=thread)
        try:
            channel, ts, link = self._send(
                case.channel,
                text=text,
                blocks=blocks,
                thread_ts=thread,
                metadata=meta,
                what=f"the card for case {case_id}",
            )
        except ChannelRefused as exc:
            self._park(case, exc.code, text=text, blocks=blocks, meta=meta)
            return
        self._store.set_card(case_id, channel_id=channel, ts=ts, permalink=link)

    # ---- cards for channels Slack refuses ----------------------------------------------------

    def fallback_for(self, case: Case) -> str:
        """Where a card waits while Slack refuses its channel: the case's brand's fallback, else
        the routing fallback."""
        return self._directory.brand_of(case.brand).fallback_channel or self._routing_fallback()

    def _routing_fallback(self) -> str:
        """The live rules' fallback channel (a lead may change it from Slack at any time)."""
        rules = self._store.latest_ruleset()
        return rules.fallback if rules is not None and rules.fallback else self._fallback

    def _park(
        self,
        case: Case,
        code: str,
        *,
        text: str,
        blocks: list[dict[str, Any]],
        meta: dict[str, Any],
    ) -> None:
        """Post the card to the fallback channel, marked with where it belongs; it moves there
        once Slack takes it (``retry_parked``)."""
        fallback = self.fallback_for(case)
        if not fallback or self.channel_key(fallback) == self.channel_key(case.channel):
            raise ChannelRefused(
                f"Slack refuses {case.channel} ({code}), the fallback itself: case {case.id} waits",
                channel=case.channel,
                code=code,
            )
        self.refusals.park(case.id, channel=case.channel, code=code)
        try:
            channel, ts, link = self._send(
                fallback,
                text=f"[for {case.channel}] {text}",
                blocks=[marker(case.channel, code), *blocks][:MAX_BLOCKS],
                metadata=meta,
                what=f"the card for case {case.id} (meant for {case.channel})",
            )
        except BoardError:
            self.refusals.unpark(case.id)
            raise
        self._store.set_card(case.id, channel_id=channel, ts=ts, permalink=link)
        log.info(
            "case %s's card waits in %s: Slack refuses %s (%s)",
            case.id,
            fallback,
            case.channel,
            code,
        )

    def retry_parked(self) -> int:
        """Cards waiting in the fallback channel try their own channel again (each channel at
        most every ``refusals.retry_seconds``); those Slack takes move there, and the fallback
        card points to them. How many moved."""
        moved: dict[str, int] = {}
        for case_id, (channel, _) in sorted(self.refusals.parked().items()):
            if self.refusals.blocked(channel) is not None:
                continue
            try:
                if self._unpark(case_id, channel):
                    moved[channel] = moved.get(channel, 0) + 1
            except BoardError as exc:
                log.info("case %s's card still waits: %s", case_id, exc)
        for channel, count in moved.items():
            self._tell_leads(working_text(channel, count))
        return sum(moved.values())

    def _unpark(self, case_id: int, channel: str) -> bool:
        with self._lock(f"case:{case_id}"):
            case = self._store.case(case_id)
            if case.channel != channel or not case.card_ts or not case.channel_id:
                self.refusals.unpark(case_id)  # a lead moved it meanwhile, or it has no card
                return False
            text, blocks = case_card(self.card_view(case_id))
            new_channel, ts, link = self._send(
                channel,
                text=text,
                blocks=blocks,
                metadata=card_metadata(case_id),
                what=f"the card for case {case_id}",
            )
            self._store.set_card(case_id, channel_id=new_channel, ts=ts, permalink=link)
            self.refusals.unpark(case_id)
            text, blocks = moved_card(
                by="Earshot, now that Slack takes cards there",
                channel=channel,
                permalink=link,
                text=self._store.mention(case.mention_id).text,
            )
        try:
            self._update(case.channel_id, case.card_ts, text, blocks, what="a parked card")
        except BoardError as exc:
            log.warning(
                "the card left in the fallback channel still shows case %s: %s", case_id, exc
            )
        return True

    def _refused(self, channel: str, code: str) -> None:
        """Slack refused ``channel``: leave it alone for a while; tell the leads, once."""
        if self.refusals.refused(channel, code):
            shown = self._channel_names.get(channel, channel)
            self._tell_leads(leads_text(shown, code, fallback=self._routing_fallback()))

    def _tell_leads(self, text: str) -> None:
        """A word to the leads in their channel (else the fallback channel); never raises."""
        for channel in (self._leads_channel, self._routing_fallback()):
            if channel and self.refusals.blocked(channel) is None:
                try:
                    self._send(channel, text=text, what="a note to the leads")
                    return
                except BoardError as exc:
                    log.warning("could not tell the leads in %s: %s", channel, exc)
        log.error("no channel takes a note to the leads: %s", text)

    def _found_in_slack(self, case: Case) -> bool:
        """A send whose answer was never recorded (crash, timeout) may have reached Slack: if the
        card is there, record it instead of posting it twice. If Slack cannot say, post."""
        attempt = self._store.card_attempted(case.id)
        if attempt is None:
            return False
        parked = self.refusals.parked_for(case.id) is not None  # sent to the fallback instead
        where = self.fallback_for(case) if parked else case.channel
        try:
            channel_id = self._store.channel_id_of(where) or find_channel(self._client, where)
            if channel_id is None:
                return False
            ts = find_card(
                self._client,
                channel_id=channel_id,
                since=attempt.at,
                thread=attempt.thread,
                case_id=case.id,
            )
        except (SlackApiError, OSError) as exc:
            log.warning("could not look for case %s's card in Slack: %s", case.id, _why(exc))
            return False
        if ts is not None:
            link = self._permalink(channel_id, ts)
            self._store.set_card(case.id, channel_id=channel_id, ts=ts, permalink=link)
            log.info("case %s's card was already in Slack; recorded it", case.id)
        return ts is not None

    def refresh_card(self, case_id: int) -> None:
        with self._lock(f"case:{case_id}"):
            case = self._store.case(case_id)
            if not case.card_ts or not case.channel_id:
                self._post(case_id)
                return
            text, blocks = case_card(self.card_view(case_id))
            if (parked := self.refusals.parked_for(case_id)) is not None:
                text, blocks = f"[for {parked[0]}] {text}", [marker(*parked), *blocks][:MAX_BLOCKS]
            self._update(case.channel_id, case.card_ts, text, blocks, what=f"case {case_id}")

    def move_card(self, case_id: int, *, old_channel_id: str, old_ts: str, by: str) -> None:
        """Post the case's card where it now belongs; leave a pointer where it was."""
        self.post_card(case_id)
        case = self._store.case(case_id)
        text, blocks = moved_card(
            by=escape(by),
            channel=case.channel,
            permalink=case.permalink,
            text=self._store.mention(case.mention_id).text,
        )
        self._update(old_channel_id, old_ts, text, blocks, what=f"the old card of case {case_id}")

    # ---- thread notes and announcements ------------------------------------------------------

    def follow_up(self, case_id: int, mention: Mention, *, raised: Sequence[str] = ()) -> None:
        """The customer wrote again: a note in the card's thread (saying what the follow-up
        raised, pinging whoever the rule names), and the card brought up to date."""
        case = self._store.case(case_id)
        thread = self._thread_of(case)
        if thread is not None and case.channel_id:
            text = f"↩ @{escape(mention.author.handle)} wrote again:\n{quote(mention.text)}"
            if raised:
                text += f"\n⚠️ This follow-up raised the case: {escape('; '.join(raised))}."
                if case.notify:
                    text += f" {_mention_of(case.notify)}"
            self._send(case.channel_id, text=text, thread_ts=thread, what="a follow-up note")
        self.refresh_card(case_id)

    def _thread_of(self, case: Case) -> str | None:
        """Where notes about a case go: its card's thread, or its storm's when the card is in
        one (Slack threads have one level)."""
        if case.storm_id is not None:
            storm = self._store.storm(case.storm_id)
            if storm.card_ts and storm.card_ts != case.card_ts and self._in_thread(case, storm):
                return storm.card_ts
        return case.card_ts

    def _in_thread(self, case: Case, storm: Storm) -> bool:
        return bool(case.card_ts and storm.card_ts and case.card_ts > storm.card_ts)

    def notify(self, case_id: int) -> None:
        """Ping the user group (or person) a rule names, in the card's thread."""
        case = self._store.case(case_id)
        if not (case.notify and case.card_ts and case.channel_id):
            return
        rule = escape(case.rule or "")
        text = f"{_mention_of(case.notify)} heads-up: rule “{rule}” matched case #{case.id}."
        self._send(
            case.channel_id, text=text, thread_ts=self._thread_of(case), what="a notification"
        )

    def announce(self, channel: str, text: str) -> None:
        self._send(channel, text=text, what="an announcement")

    def tell(self, *, user: str, channel: str | None, text: str) -> None:
        """A private note to one person: ephemeral in the channel, else a direct message."""
        try:
            if channel:
                self._client.chat_postEphemeral(channel=channel, user=user, text=text)
            else:
                self._client.chat_postMessage(channel=user, text=text)
        except (SlackApiError, OSError) as exc:
            raise BoardError(f"Slack did not take a note for {user}: {_why(exc)}") from exc

    def upload(self, channel: str, *, path: Path, text: str, title: str) -> str:
        """Post ``text`` and then the file (files_upload_v2) to ``channel``; the file's id."""
        channel_id, _, _ = self._send(channel, text=text, what="a report")
        try:
            answer = self._client.files_upload_v2(
                channel=channel_id, file=str(path), filename=path.name, title=title
            )
        except (SlackApiError, OSError) as exc:
            raise BoardError(f"Slack did not take the file {path.name}: {_why(exc)}") from exc
        files = answer.get("files") or [answer.get("file") or {}]
        return str(files[0].get("id", ""))

    def publish_home(self, user: str, view: dict[str, Any]) -> None:
        try:
            self._client.views_publish(user_id=user, view=view)
        except (SlackApiError, OSError) as exc:
            raise BoardError(f"Slack did not take the Home tab for {user}: {_why(exc)}") from exc

    def case_note(self, case_id: int, *, text: str) -> None:
        """Earshot's own note in the card's thread (internal, like every thread message)."""
        case = self._store.case(case_id)
        thread = self._thread_of(case)
        if thread is not None and case.channel_id:
            self._send(case.channel_id, text=text, thread_ts=thread, what="a note on a case")

    # ---- approvals ---------------------------------------------------------------------------

    def show_approval(self, approval_id: int) -> None:
        """Post a reply waiting for approval to the leads (their channel, else the card's
        thread), or update that message once a lead decided."""
        with self._lock(f"approval:{approval_id}"):
            approval = self._store.approval(approval_id)
            case = self._store.case(approval.case_id)
            view = ApprovalView(
                approval=approval,
                mention=self._store.mention(approval.mention_id),
                agent=self._directory.name(approval.agent_id),
                decided_by=self._directory.name(approval.decided_by),
                card=case.permalink,
            )
            text, blocks = approval_message(view)
            if approval.channel_id and approval.message_ts:
                self._update(
                    approval.channel_id, approval.message_ts, text, blocks, what="an approval"
                )
                return
            where = self._leads_channel or case.channel_id or case.channel
            thread = None if self._leads_channel else self._thread_of(case)
            channel, ts, _ = self._send(
                where, text=text, blocks=blocks, thread_ts=thread, what="an approval request"
            )
            self._store.update_approval(approval_id, channel_id=channel, message_ts=ts)

    # ---- storms ------------------------------------------------------------------------------

    def refresh_storm(self, storm_id: int) -> None:
        """Post the storm card, or update its count, mix and examples."""
        with self._lock(f"storm:{storm_id}"):
            storm = self._store.storm(storm_id)
            members = tuple(self._store.storm_members(storm_id))
            view = StormView(storm_id, storm.channel, members, storm.created_at, self._clock.now())
            text, blocks = storm_card(view)
            meta = _metadata("earshot_storm", storm_id, [c.id for c, _ in members])
            if storm.card_ts and storm.channel_id:
                self._update(
                    storm.channel_id, storm.card_ts, text, blocks, what="a storm card", meta=meta
                )
                return
            channel, ts, link = self._send(
                storm.channel, text=text, blocks=blocks, metadata=meta, what="a storm card"
            )
            self._store.set_storm_card(storm_id, channel_id=channel, ts=ts, permalink=link)

    # ---- bursts ------------------------------------------------------------------------------

    def post_burst(self, view: BurstView) -> tuple[str, str]:
        """Post a burst message listing ``view.members``; its (channel id, ts)."""
        text, blocks = burst_message(view)
        meta = _metadata("earshot_burst", view.number, [c.id for c, _ in view.members])
        channel, ts, _ = self._send(
            view.channel, text=text, blocks=blocks, metadata=meta, what="a burst message"
        )
        return channel, ts

    def update_burst(self, view: BurstView, *, channel_id: str, ts: str) -> None:
        text, blocks = burst_message(view)
        meta = _metadata("earshot_burst", view.number, [c.id for c, _ in view.members])
        self._update(channel_id, ts, text, blocks, what="a burst message", meta=meta)

    def open_card(self, case_id: int, *, thread: str) -> str:
        """A card asked for from a burst message: posted in its thread now if it is not in
        Slack yet; its permalink."""
        self.post_card(case_id, thread=thread)
        return self._store.case(case_id).permalink or ""

    # ---- Slack calls -------------------------------------------------------------------------

    def _send(self, channel: str, *, text: str, what: str, **extra: Any) -> tuple[str, str, str]:
        """chat.postMessage (+ permalink), paced per channel; returns (channel id, ts, link).
        A channel Slack refuses raises ``ChannelRefused`` (and is left alone for a while)."""
        if (code := self.refusals.blocked(channel)) is not None:
            raise ChannelRefused(
                f"Slack refused {channel} lately ({code}): not sending {what}",
                channel=channel,
                code=code,
            )
        args = {k: v for k, v in extra.items() if v is not None}
        self.pacer.wait(self.channel_key(channel))
        try:
            posted = self._client.chat_postMessage(
                channel=channel, text=text, unfurl_links=False, unfurl_media=False, **args
            )
        except (SlackApiError, OSError) as exc:
            if (code := _why(exc)) in REFUSALS:
                self._refused(channel, code)
                message = f"Slack refuses {channel} ({code}): not sending {what}"
                raise ChannelRefused(message, channel=channel, code=code) from exc
            raise BoardError(f"Slack did not take {what}: {_why(exc)}") from exc
        if self.refusals.works(channel):
            log.info("Slack takes posts in %s again", channel)
        channel_id, ts = str(posted["channel"]), str(posted["ts"])
        if channel != channel_id:
            self._channel_names.setdefault(channel_id, channel)
        return channel_id, ts, self._permalink(channel_id, ts)

    def channel_key(self, channel: str) -> str:
        """One pacing key per channel, whether it is named ("#care") or given by id."""
        return self._channel_names.get(channel, channel)

    def _permalink(self, channel: str, ts: str) -> str:
        """The message's link, or "" if Slack will not say now: the message is posted either way."""
        try:
            return str(self._client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except (SlackApiError, OSError) as exc:
            log.warning("no permalink for %s/%s: %s", channel, ts, _why(exc))
            return ""

    def _update(
        self,
        channel: str,
        ts: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        what: str,
        meta: dict[str, Any] | None = None,
    ) -> None:
        extra: dict[str, Any] = {"metadata": meta} if meta else {}
        try:
            self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks, **extra)
        except (SlackApiError, OSError) as exc:
            raise BoardError(f"Slack did not update {what}: {_why(exc)}") from exc


def _filled(template: Template, mention: Mention, brand: str) -> str:
    """The template as an agent would get it for this post: placeholders and its help link
    filled in; slots and ``{agent}`` stay for a person."""
    values = placeholder_values(mention, brand=brand, agent=None, link=template.link)
    return render(template.text, values)


def _metadata(kind: str, number: int, cases: Sequence[int]) -> dict[str, Any]:
    """Message metadata naming the cases a storm card or burst message shows."""
    return {"event_type": kind, "event_payload": {"id": number, "cases": list(cases)}}


def _mention_of(who: str) -> str:
    """Slack mrkdwn that pings a user group (S…) or a person (U…)."""
    return f"<!subteam^{who}>" if who.startswith("S") else f"<@{who}>"


def _why(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or exc)
    return f"{type(exc).__name__}: {exc}"
