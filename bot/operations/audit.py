"""The audit trail's public-post record and its CSV export.

Every public post gets one ``reply.posted`` entry once all its parts are out: who sent it, their
signature, the template and how the sent text differs from it, who approved it, the X post ids,
and when it was confirmed and sent. Routing, playbook and permission changes are audited where
they happen; ``export_csv`` writes the whole trail (or a period of it) for compliance reviews.
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TextIO

from bot.decide.playbooks import placeholder_values, render
from bot.live.directory import Directory
from bot.models import Agent, Reply
from bot.storage.store import Store

FIELDS = (
    "at",
    "actor",
    "actor_name",
    "action",
    "case_id",
    "brand",
    "signature",
    "template",
    "changed_from_template",
    "approved_by",
    "post_ids",
    "confirmed_at",
    "sent_at",
    "detail",
)


def template_diff(template_text: str, sent: str) -> tuple[int, str]:
    """How much of the template survived (0-100) and the words removed and added."""
    if not template_text:
        return 0, "written freely"
    a, b = template_text.split(), sent.split()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    changes: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            changes.append("-“" + " ".join(a[i1:i2]) + "”")
        if op in ("insert", "replace"):
            changes.append("+“" + " ".join(b[j1:j2]) + "”")
    same = round(matcher.ratio() * 100)
    return same, "; ".join(changes) if changes else "as written"


class PostRecord:
    """An outbox listener: the audit entry of a public reply, written once it is all out."""

    def __init__(self, *, store: Store, directory: Directory) -> None:
        self._store = store
        self._directory = directory

    def __call__(self, first: Reply) -> None:
        parts = self._store.thread_parts(first) if first.parts > 1 else [first]
        mention = self._store.mention(first.mention_id)
        brand = self._directory.brand_of(mention.brand)
        agent = self._directory.agents.get(first.agent_id)
        signature = self._directory.signature(agent, brand.name) if agent else ""
        sent = " ".join(_unsigned(p.text, signature) for p in parts)
        base = self._template_text(first.template, mention, agent, brand.name)
        same, changes = template_diff(base, sent)
        times = self._store.reply_times(first.id)
        self._store.audit(
            actor=first.agent_id,
            action="reply.posted",
            now=times["sent_at"] or datetime.fromisoformat(times["created_at"]),
            case_id=first.case_id,
            brand=brand.name,
            network=mention.network,
            signature=signature,
            template=first.template,
            template_same_pct=same if base else None,
            changed_from_template=changes,
            approved_by=first.approved_by,
            post_ids=[p.post_id for p in parts],
            post_url=first.post_url,
            confirmed_at=times["created_at"],
            sent_at=str(times["sent_at"] or ""),
            text="\n".join(p.text for p in parts),
        )

    def _template_text(
        self, template_id: str | None, mention: Any, agent: Agent | None, brand: str
    ) -> str:
        if not template_id:
            return ""
        template = self._directory.library.get(template_id, mention.lang or "")
        if template is None:
            return ""
        values = placeholder_values(
            mention, brand=brand, agent=agent.first_name if agent else "", link=template.link
        )
        return render(template.text, values)


def _unsigned(text: str, signature: str) -> str:
    """The part's words without its numbering and signature (they are not the agent's edits)."""
    words = text.split()
    while words and (words[-1] == signature or _counter(words[-1])):
        words.pop()
    return " ".join(words)


def _counter(word: str) -> bool:
    head, _, tail = word.partition("/")
    return head.isdigit() and tail.isdigit()


def export_csv(
    entries: Iterable[Mapping[str, Any]], out: TextIO, *, names: Mapping[str, str]
) -> int:
    """The audit trail as CSV, one row per entry; public posts fill the post columns."""
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    rows = 0
    for entry in entries:
        detail = dict(entry.get("detail") or {})
        writer.writerow(
            {
                "at": entry["at"],
                "actor": entry["actor"],
                "actor_name": names.get(entry["actor"], ""),
                "action": entry["action"],
                "case_id": entry.get("case_id") or "",
                "brand": detail.pop("brand", ""),
                "signature": detail.pop("signature", ""),
                "template": detail.pop("template", "") or "",
                "changed_from_template": detail.pop("changed_from_template", ""),
                "approved_by": detail.pop("approved_by", "") or "",
                "post_ids": " ".join(str(p) for p in detail.pop("post_ids", []) or []),
                "confirmed_at": detail.pop("confirmed_at", ""),
                "sent_at": detail.pop("sent_at", ""),
                "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else "",
            }
        )
        rows += 1
    return rows
