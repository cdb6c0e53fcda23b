"""Customer text as the matchers see it: one normalisation for routing keywords and patterns,
rule conditions, suggestions, storm grouping and the triage lexicons.

Invisible characters can split a word without showing: ``re\\u200bfund`` reads "refund" to
a person but matches no keyword. ``matchable`` folds compatibility forms (NFKC: fullwidth
``ｒｅｆｕｎｄ``, ligatures, the non-breaking space) and removes format characters: zero-width
space, non-joiner and joiner, word joiner, byte-order mark, soft hyphen, the invisible math
operators and the bidi marks, embeddings, overrides and isolates. A zero-width joiner between two
emoji (👩‍💻) is kept: it is part of the emoji. Korean compatibility jamo (ㅠㅠ, ㅋㅋ) are kept
as typed, since NFKC would turn them into conjoining jamo the lexicons do not know.

Only matching sees this form; stored and displayed text stays exactly as the customer wrote it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

ZWJ = "\u200d"
# Format characters that hide inside words. (The ZWJ is handled apart: see _joiners.)
INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_DROP = {ord(c): None for c in INVISIBLE}
_JAMO = re.compile(r"([\u3131-\u318e]+)")  # Hangul compatibility jamo: kept out of NFKC
_EMOJI_MODIFIERS = "\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff"


@functools.lru_cache(maxsize=64)  # triage, routing and suggestions read the same post in a row
def matchable(text: str) -> str:
    """``text`` for matching: NFKC, without invisible format characters (see the module)."""
    if text.isascii():
        return text
    folded = "".join(
        part if index % 2 else unicodedata.normalize("NFKC", part)
        for index, part in enumerate(_JAMO.split(text))
    )
    folded = folded.translate(_DROP)
    return _joiners(folded) if ZWJ in folded else folded


def _joiners(text: str) -> str:
    """Drop every zero-width joiner except those joining two emoji."""
    return "".join(
        char
        for index, char in enumerate(text)
        if char != ZWJ or (_emoji(text[index - 1 : index]) and _emoji(text[index + 1 : index + 2]))
    )


def _emoji(char: str) -> bool:
    """An emoji, or the variation selector or skin tone closing one (a close approximation of
    Unicode's Extended_Pictographic, enough to tell an emoji sequence from a word)."""
    if not char:
        return False
    code = ord(char)
    return char in _EMOJI_MODIFIERS or 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF
