"""A case's SLA clock as people read it ("2h 05m left"), shared by cards, reminders and lists."""

from __future__ import annotations

from datetime import datetime

from bot.decide import sla
from bot.live.directory import Directory
from bot.models import Case


def timer_of(case: Case) -> sla.Timer | None:
    """The clock stored on the case, if one runs."""
    if not (case.sla_kind and case.sla_started and case.sla_remind and case.sla_due):
        return None
    return sla.Timer(sla.Kind(case.sla_kind), case.sla_started, case.sla_remind, case.sla_due)


def time_left(case: Case, directory: Directory, now: datetime) -> str:
    """ "2h 05m left" (business time when the brand's SLAs count it) or "overdue by 12m"."""
    timer = timer_of(case)
    if timer is None:
        return ""
    brand = directory.brand_of(case.brand)
    left = sla.time_left(
        timer, now, directory.calendar(case.brand), business_hours=brand.sla.business_hours
    )
    return sla.describe(left)


def what(case: Case) -> str:
    return "next response" if case.sla_kind == "next" else "first response"
