"""SQLite storage through sqlite-utils: the one gateway.

Everything that must survive a crash lives here: mentions (stored before anything else happens to
them), cases and their cards, the outbox of public replies, approvals and notes, routing rules,
agents, source cursors, the audit log. ``Store`` joins one mixin per kind of record (each in its
own module beside this one) and the care-operations queries; the schema is ``migrations``.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bot.storage.base import _create_private
from bot.storage.migrations import migrations
from bot.storage.operations import Operations
from bot.storage.rules import RuleRecords


class Store(RuleRecords, Operations):
    """The one gateway to SQLite. Safe to share between threads: each gets its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        _create_private(path)
        db = self.db
        db.enable_wal()
        migrations.apply(db)
