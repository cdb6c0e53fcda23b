"""The digest chart: daily volume as bars, first-response median as a line, one PNG.

Drawn with matplotlib's object API on the Agg canvas, never pyplot: no global figure state, so
charts can be drawn from worker threads and nothing tries to open a window.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import BinaryIO

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.operations.reports import Report, percent

WIDTH_IN, HEIGHT_IN, DPI = 9.0, 4.5, 100  # 900 x 450 px, readable in a Slack preview
BAR_COLOR = "#4C78A8"
LINE_COLOR = "#E45756"
MAX_DAY_LABELS = 10  # more days than this and only every n-th day is labelled


def digest_chart(report: Report, path: Path, *, title: str | None = None) -> Path:
    """Draw the report's daily series into a PNG at ``path``; return the path. Its folder and
    the PNG are readable by their owner only (``write_private``): a digest names customers."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(title or _title(report), fontsize=14, parse_math=False)
    ax = fig.add_subplot()
    if report.volume == 0 or not report.daily:
        _draw_empty(ax)
    else:
        _draw_series(ax, report)
    with write_private(path) as out:
        fig.savefig(out, format="png", dpi=DPI)
    return path


@contextmanager
def write_private(path: Path) -> Iterator[BinaryIO]:
    """Open ``path`` for writing, readable by its owner only, whatever the umask: its folder is
    made (or made again) 0700, and must be ours; the file 0600, never through a symlink."""
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user; choose another folder")
    folder.chmod(0o700)
    flags = os.O_CREAT | os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(path, flags, 0o600), "wb") as out:
        os.fchmod(out.fileno(), 0o600)  # a file that was there before keeps no wider mode
        yield out


def _title(report: Report) -> str:
    """Brand, period and SLA met, e.g. "Skylark Air — last 7 days · SLA met 91%"."""
    head = f"{report.brand or 'All brands'} — {report.period.label}"
    pct = report.total.sla_met_pct
    return head if pct is None else f"{head} · SLA met {percent(pct)}"


def _draw_empty(ax: Axes) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No mentions", ha="center", va="center", fontsize=18, color="#666666")


def _draw_series(ax: Axes, report: Report) -> None:
    """Bars for volume on the left axis, FRT median in minutes on the right; gaps for no FRT."""
    days = [day for day, _, _ in report.daily]
    volumes = [volume for _, volume, _ in report.daily]
    xs = list(range(len(days)))
    ax.bar(xs, volumes, color=BAR_COLOR, label="Mentions")
    ax.set_ylim(0, max(volumes) * 1.25 + 0.5)  # headroom for the legend
    ax.set_ylabel("Mentions per day", fontsize=11)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ticks, labels = _day_ticks(days)
    ax.set_xticks(ticks, labels, fontsize=10)
    ax.set_xlim(-0.6, len(days) - 0.4)
    ax.spines[["top"]].set_visible(False)
    right = ax.twinx()
    right.set_ylabel("First response median (min)", fontsize=11, color=LINE_COLOR)
    right.tick_params(axis="y", colors=LINE_COLOR)
    right.spines[["top"]].set_visible(False)
    minutes = [math.nan if frt is None else frt / 60 for _, _, frt in report.daily]
    if all(math.isnan(m) for m in minutes):
        right.set_ylim(0, 1)
    else:
        right.plot(xs, minutes, color=LINE_COLOR, marker="o", linewidth=2, label="FRT median")
        right.set_ylim(0, max(m for m in minutes if not math.isnan(m)) * 1.25)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    right.legend(handles=handles, loc="upper left", framealpha=0.9)  # above bars and line


def _day_ticks(days: list[date]) -> tuple[list[int], list[str]]:
    """Positions and labels for at most MAX_DAY_LABELS days, counted back from the last day.

    "Mon 3 Nov" for a week or less, "3 Nov" for longer periods so labels never overlap.
    """
    step = max(1, math.ceil(len(days) / MAX_DAY_LABELS))
    ticks = list(range(len(days) - 1, -1, -step))[::-1]
    style = "{:%a} {} {:%b}" if len(days) <= 7 else "{1} {2:%b}"
    return ticks, [style.format(days[n], days[n].day, days[n]) for n in ticks]
