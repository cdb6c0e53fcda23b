"""The brand's voice on X: signatures, X's weighted length, and checks before anything goes public.

Pure functions. X counts characters by weight: most Latin text weighs 1, CJK (Korean included) and
emoji weigh 2, and every URL counts as 23 whatever its length (twitter-text v3 rules).
"""

from __future__ import annotations

import re
import unicodedata

X_LIMIT = 280
URL_WEIGHT = 23
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"]+")
_JOINERS = {0x200D, 0xFE0E, 0xFE0F}
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_UNFILLED = re.compile(r"\{[a-z_]+\??\}")


def _weight(code: int) -> int:
    return 1 if any(low <= code <= high for low, high in _LIGHT_RANGES) else 2


def _is_emoji(code: int) -> bool:
    return code >= 0x1F000 or 0x2600 <= code <= 0x27BF


def weighted_length(text: str) -> int:
    """Length as X counts it (NFC, URLs = 23, CJK and emoji = 2, emoji sequences count once)."""
    text = unicodedata.normalize("NFC", text)
    total = len(_URL.findall(text)) * URL_WEIGHT
    in_emoji = False
    joined = False
    for char in _URL.sub("", text):
        code = ord(char)
        if in_emoji and (code in _JOINERS or code in _SKIN_TONES):
            joined = joined or code == 0x200D
            continue
        if in_emoji and joined and _is_emoji(code):
            joined = False
            continue
        in_emoji, joined = _is_emoji(code), False
        total += _weight(code)
    return total


def sign(body: str, signature: str) -> str:
    """The public text: the body with the agent's signature appended, as customers expect."""
    body = body.strip()
    return f"{body} {signature}" if signature else body


def chars_left(body: str, signature: str) -> int:
    return X_LIMIT - weighted_length(sign(body, signature))


def reply_problems(body: str, signature: str) -> list[str]:
    """What stops this reply from going public, in words an agent understands."""
    problems: list[str] = []
    if not body.strip():
        problems.append("The reply is empty. Write something first.")
    left = chars_left(body, signature)
    if left < 0:
        problems.append(
            f"{-left} characters over X's limit of {X_LIMIT} (with your signature {signature}). "
            "Korean and emoji count double, links count 23."
        )
    if unfilled := _UNFILLED.findall(body):
        problems.append(f"Fill in or remove {', '.join(sorted(set(unfilled)))} before sending.")
    return problems
