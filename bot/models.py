"""Value types shared by the core. Frozen dataclasses; nothing here does I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

PRIVATE_VISIBILITIES = frozenset({"private", "direct"})
NETWORK_NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}  # as people know them


class MentionKind(StrEnum):
    """How a post relates to the brand; retweets and the brand's own posts never become cases."""

    MENTION = "mention"
    REPLY = "reply"
    QUOTE = "quote"
    RETWEET = "retweet"


class MentionState(StrEnum):
    NEW = "new"  # stored, not yet triaged
    CASED = "cased"  # a case exists for it
    SKIPPED = "skipped"  # deliberately not a case (own post, retweet); reason kept


class CaseState(StrEnum):
    OPEN = "open"
    REPLIED = "replied"
    DISMISSED = "dismissed"
    RESOLVED = "resolved"  # handled without a public reply (say, by DM or phone)


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # not sent on purpose: the case changed before it went out


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


@dataclass(frozen=True, slots=True)
class Author:
    id: str
    handle: str = ""
    name: str = ""
    followers: int = 0
    verified: bool = False


@dataclass(frozen=True, slots=True)
class Mention:
    """A post about the brand, normalised at the edge by its source adapter."""

    id: str  # "<network>:<native id>", unique across networks
    network: str
    text: str
    author: Author
    created_at: datetime | None = None
    brand: str | None = None
    lang: str | None = None
    conversation_id: str | None = None
    in_reply_to: str | None = None  # mention id of the post this one answers
    kind: MentionKind = MentionKind.MENTION
    url: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    visibility: str = "public"  # Mastodon: public, unlisted, private (followers) or direct

    @property
    def private(self) -> bool:
        """Written for the brand's eyes only (a Mastodon direct message or followers-only post):
        the answer must never be public."""
        return self.visibility in PRIVATE_VISIBILITIES

    @property
    def native_id(self) -> str:
        return self.id.split(":", 1)[1] if ":" in self.id else self.id


@dataclass(frozen=True, slots=True)
class Triage:
    lang: str
    sentiment: Sentiment
    sentiment_score: float  # -1.0 (angry) .. 1.0 (delighted)
    priority: Priority
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteDecision:
    channel: str
    rule: str | None  # None when no rule matched (learned routing or the fallback)
    why: str
    tags: tuple[str, ...] = ()
    priority: Priority | None = None  # after the rule's bump; None = as triaged
    notify: str = ""  # Slack user group (S…) or user (U…) to alert
    require_approval: bool = False
    via: str = "rule"  # rule | learned | fallback


@dataclass(frozen=True, slots=True)
class Agent:
    slack_id: str
    name: str
    signature: str
    trainee: bool = False  # every public reply needs a lead's approval first
    capacity: int = 0  # open cases auto-assignment may give them; 0 = the install's default
    initials: str = ""  # to sign for brands whose format uses initials
    own_signature: str = ""  # set in config: used for every brand

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    mention_id: str
    channel: str
    rule: str | None
    why: str
    state: CaseState
    priority: Priority
    sentiment: Sentiment
    created_at: datetime
    claimed_by: str | None = None
    channel_id: str | None = None
    card_ts: str | None = None
    permalink: str | None = None
    replied_by: str | None = None
    reply_url: str | None = None
    closed_by: str | None = None
    tags: tuple[str, ...] = ()
    notify: str = ""
    require_approval: bool = False
    via: str = "rule"
    follow_ups: int = 0
    joined_case: int | None = None  # a third party joined the conversation of this case
    storm_id: int | None = None
    noise: str | None = None  # why it looks like spam or a bot; shown, never dropped
    lang: str = ""  # as triaged
    brand: str = ""
    sla_kind: str = ""  # "first" or "next": which response the SLA clock is waiting for
    sla_started: datetime | None = None
    sla_remind: datetime | None = None
    sla_due: datetime | None = None
    sla_notified: str = ""  # "", "near" (reminded) or "breached" (escalated)
    first_response_at: datetime | None = None
    snoozed_until: datetime | None = None
    assigned_by: str | None = None  # "auto" (round-robin), or who claimed it for whom
    priority_reasons: tuple[str, ...] = ()  # why it has its priority, for the card


@dataclass(frozen=True, slots=True)
class Reply:
    """A public reply an agent confirmed; lives in the outbox until the network accepts it."""

    id: int
    key: str  # idempotency key: one confirmed preview, one reply
    case_id: int
    mention_id: str
    agent_id: str
    text: str  # exactly what goes public, signature included
    state: OutboxState
    template: str | None = None
    attempts: int = 0
    post_id: str | None = None
    post_url: str | None = None
    error: str | None = None
    send_after: datetime | None = None  # paced or waiting for a rate-limit reset
    part: int = 1  # a long reply goes out as a numbered thread, one outbox row per part
    parts: int = 1
    parent_id: int | None = None  # the part this one answers; sent only after it
    approved_by: str | None = None
    created_at: datetime | None = None  # when the row was written: the same on every retry
    updated_at: datetime | None = None  # its last change (for a doubtful send: when it failed)


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Approval:
    """A reply waiting for a lead: it goes public only once a lead approves it."""

    id: int
    key: str  # one confirmed preview, one request
    case_id: int
    mention_id: str
    agent_id: str
    body: str  # what the agent wrote, before the signature
    parts: tuple[str, ...]  # exactly what would go public: one post or a numbered thread
    template: str | None
    state: ApprovalState
    reason: str  # why it needs approval
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""
    channel_id: str | None = None  # where the request was posted for the leads
    message_ts: str | None = None
    reply_id: int | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """A message in a card's Slack thread: internal, never public."""

    case_id: int
    author: str
    text: str
    ts: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Posted:
    """What a publisher returns once a reply is public."""

    post_id: str
    url: str


@dataclass(frozen=True, slots=True)
class StormPlan:
    storm_id: int
    total: int
    to_answer: int
    template: str
    templates: tuple[tuple[str, str], ...]  # (id, label)
    sample: str  # the first customer's reply, exactly as it would go public
    pacing_seconds: float


@dataclass(frozen=True, slots=True)
class StormAnswer:
    queued: tuple[Reply, ...]
    skipped: tuple[tuple[int, str], ...]  # (case id, why not)
