"""The data ``bot/decide/twitter_data.py`` keeps a copy of, derived from the npm packages the lane
installs.

X's counter needs two tables from twitter-text 3.1.0: its top-level domains (what a link may end
with) and twemoji-parser 11.0.2's emoji regex (what counts 2 as one emoji). This module turns
the oracle's ``{"op": "data"}`` answer into the Python block of ``bot/decide/twitter_data.py``;
the lane asserts that block is still what the packages hold. To regenerate it after a version bump,
with the lane's packages installed (``scripts/conformance-lane.sh`` once):

    cd tests && EARSHOT_CONFORMANCE_NODE_MODULES=../.lane/twitter-text/node_modules \\
        ../.venv/bin/python -m conformance.derive [x]   # the block to paste over the old one

The emoji regex is used as twemoji-parser compiled it: twitter-text matches it against UTF-16
code units (an astral emoji is two surrogates), and so does ``lengths.weighted_length``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

_WIDTH = 96  # the block's lines stay within ruff's 100 characters


def width(text: str) -> int:
    """Columns ``text`` takes as ruff measures a line: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def words(items: list[str], indent: str = "") -> list[str]:
    """``items`` space-separated, wrapped at the block's width."""
    lines: list[str] = []
    line = indent
    for item in items:
        if width(line) + width(item) + 1 > _WIDTH and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += item + " "
    if line.strip():
        lines.append(line.rstrip())
    return lines


def ascii_regex(source: str) -> str:
    """The regex source with every non-ASCII character written as ``\\uXXXX``, as Python's
    ``re`` reads it: the same pattern, and a source file that shows no invisible joiners."""
    return "".join(char if char.isascii() else f"\\u{ord(char):04x}" for char in source)


def raw_chunks(source: str) -> list[str]:
    """``source`` cut into raw string literals of the block's width, none ending in a
    backslash (a raw literal cannot), so that concatenated they are ``source`` again."""
    chunks: list[str] = []
    rest = source
    while rest:
        cut = min(len(rest), _WIDTH - 8)
        while rest[:cut].endswith("\\") and cut > 1:
            cut -= 1
        chunks.append(rest[:cut])
        rest = rest[cut:]
    return chunks


def block(data: dict[str, Any]) -> str:
    """The data block of ``bot/decide/twitter_data.py`` for the oracle's answer ``data``."""
    tt, tp = data["twitterText"], data["twemojiParser"]
    title = f"# ---- data: twitter-text {tt}'s top-level domains, twemoji-parser {tp}'s emoji "
    lines = [
        title + "-" * max(3, 99 - len(title)),
        "# Written by tests/conformance/derive.py from the npm packages (Apache-2.0 and MIT); the",
        "# conformance lane checks they still match. The lists in twitter-text's order.",
        "",
        '_GTLDS = """',
        *words(data["gTLDs"]),
        '""".split()',
        '_CCTLDS = """',
        *words(data["ccTLDs"]),
        '""".split()',
        "_TWEMOJI_SOURCE = (",
        *(f'    r"{chunk}"' for chunk in raw_chunks(ascii_regex(data["emoji"]))),
        ")",
    ]
    return "\n".join(lines) + "\n"


def emulator_block(data: dict[str, Any]) -> str:
    """The data block of ``bot/sandbox/x.py``: the same lists and emoji regex, and twitter-text's
    link regexes as its sources have them (the top-level domains cut out), which the emulator
    compiles as they are: a second, independent reading of twitter-text."""
    tt = data["twitterText"]
    title = f"# ---- data: twitter-text {tt}'s, for the length check "
    lines = [
        title + "-" * max(3, 99 - len(title)),
        "# Written by tests/conformance/derive.py from npm twitter-text and twemoji-parser "
        "(Apache-2.0,",
        "# MIT); the conformance lane checks they still match. <GTLD> and <CCTLD> stand for "
        "the lists.",
        "",
        '_GTLDS = """',
        *words(data["gTLDs"]),
        '""".split()',
        '_CCTLDS = """',
        *words(data["ccTLDs"]),
        '""".split()',
    ]
    for name, key in [
        ("_EXTRACT_URL_SOURCE", "extractUrl"),
        ("_VALID_ASCII_DOMAIN_SOURCE", "validAsciiDomain"),
        ("_TWEMOJI_SOURCE", "emoji"),
    ]:
        chunks = raw_chunks(ascii_regex(data[key]))
        lines += [f"{name} = (", *(f'    r"{chunk}"' for chunk in chunks), ")"]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print the block for ``bot/decide/twitter_data.py`` (with ``x``: ``bot/sandbox/x.py``)."""
    import sys

    from conformance.reference import ask, node_modules

    data = ask([{"op": "data"}], node_modules())[0]
    print((emulator_block if sys.argv[1:] == ["x"] else block)(data), end="")


if __name__ == "__main__":
    main()
