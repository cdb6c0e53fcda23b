"""``python -m bot.cli``: the ``earshot`` command, as a module (the tests run it so)."""

from __future__ import annotations

import os
import sys

from bot.cli.main import main

os.environ.setdefault("PYTHONUNBUFFERED", "1")
sys.exit(main())
