"""The conformance lane: Earshot's platform rules against the platforms' own reference code.

It runs only when ``scripts/conformance-lane.sh`` has installed the references (npm
twitter-text 3.1.0) and names them in ``EARSHOT_CONFORMANCE_NODE_MODULES``; the README's test
command collects nothing here. Nothing skips: without node or the packages the lane fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

collect_ignore_glob = [] if os.environ.get("EARSHOT_CONFORMANCE_NODE_MODULES") else ["test_*.py"]


@pytest.fixture(scope="session")
def modules() -> Path:
    from conformance.reference import node_modules

    return node_modules()
