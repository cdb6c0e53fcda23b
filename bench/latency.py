"""Latency: a mention available on X -> its card in Slack, at a normal pace (one a second,
routed by the sandbox's rules to their channels), Slack emulator at one message per second per
channel.

    python bench/latency.py [--mentions 60] [--poll 1.0]

Goal: p95 <= poll interval + 2 s.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
from pathlib import Path

from burst import Failures, Watch, delays, feed, generated, pct, sandbox_one_channel, settle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=60)
    parser.add_argument("--poll", type=float, default=1.0, help="x.poll_interval_seconds")
    args = parser.parse_args()
    texts = generated(args.mentions, seed=11)
    failures = Failures()
    logging.getLogger("bot").addHandler(failures)
    tmp = tempfile.TemporaryDirectory()
    with tmp, sandbox_one_channel(Path(tmp.name), poll_seconds=args.poll, one_channel=False) as sb:
        watch = Watch()
        sb.slack.subscribe(watch.on_slack)
        sb.x.subscribe(watch.on_x)
        sb.start_bot()
        feed(sb, texts, seconds=float(args.mentions))  # one a second
        settle(sb, watch, len(texts), timeout=30)
        visible, lost = delays(sb, watch)
    goal = args.poll + 2
    print(f"latency: {args.mentions} mentions, one a second; poll interval {args.poll:g} s")
    failed = failures.ratelimited + failures.other
    print(f"visible: {len(visible)} · lost: {lost} · failed Slack calls: {failed}")
    if visible:
        print(
            f"X -> card: p50 {statistics.median(visible):.2f} s · p95 {pct(visible, 0.95):.2f} s "
            f"· max {max(visible):.2f} s (goal p95 <= {goal:g} s)"
        )


if __name__ == "__main__":
    main()
