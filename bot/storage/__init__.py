"""SQLite through sqlite-utils: the one gateway, and what each kind of record needs."""
