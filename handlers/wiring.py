"""How ``register(app, services)`` hands a top-level listener the few services it needs.

A listener takes what Slack sends (``ack``, ``body``, ``action``, ``view``, ``client``, …) as
ordinary parameters and its services as keyword-only ones, e.g.
``def approve_clicked(ack, body, action, *, approvals, desk)``. ``register`` fills the services in
with ``functools.partial``; Bolt reads the listener's ordinary parameter names (keyword-only ones
are not among them) and passes those by name. So a listener can be imported and called without
Slack, with whatever services a test builds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

Listener = Callable[..., None]

_NAMES = ("__module__", "__name__", "__qualname__", "__doc__")


def named(listener: Listener) -> Listener:
    """A listener given its services by ``functools.partial``, under its function's name: a bare
    partial has none, and Bolt's logs say which listener ran by it. Anything else is returned
    as it is."""
    if isinstance(listener, functools.partial):
        for name in _NAMES:
            setattr(listener, name, getattr(listener.func, name))
    return listener
