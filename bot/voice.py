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
_UNFILLED = re.compile(r"\{[a-z_]+\??\}")
_PICTO = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff\u3030\u303d"
_MODIFIERS = "(?:\ufe0f|\ufe0e|[\U0001f3fb-\U0001f3ff]|[\U000e0020-\U000e007f])*"
_EMOJI = re.compile(
    "[0-9#*]\ufe0f?\u20e3"  # keycaps
    "|[\U0001f1e6-\U0001f1ff]{2}"  # flags: two regional indicators
    f"|[{_PICTO}]{_MODIFIERS}(?:\u200d[{_PICTO}]{_MODIFIERS})*"  # ZWJ sequences, skin tones, tags
)


def _weight(code: int) -> int:
    return 1 if any(low <= code <= high for low, high in _LIGHT_RANGES) else 2


def weighted_length(text: str) -> int:
    """Length as X counts it: NFC, each URL 23, each emoji (sequence) 2, CJK 2, most else 1."""
    text = unicodedata.normalize("NFC", text)
    total = len(_URL.findall(text)) * URL_WEIGHT
    text = _URL.sub("", text)
    total += len(_EMOJI.findall(text)) * 2
    return total + sum(_weight(ord(char)) for char in _EMOJI.sub("", text))


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
