"""Noise: spam and bot-like posts, flagged with a short reason ("promotional", "link drop",
"hashtag spam", "repeats an earlier post"). A flagged post stays visible, never dropped: the
reason is shown on its card, and an agent decides. Pure (no I/O).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from bot.decide.sentiment import (
    NEGATIVE_AT,
    POSITIVE_AT,
    inflections,
    sentiment_points,
)
from bot.decide.text import matchable
from bot.models import Mention

# ---- language ---------------------------------------------------------------------------------


_TERM_WORD = re.compile(r"[a-z0-9']+|&")


class Terms:
    """Whole-word matching for a term list, with -s/-ed/-ing forms of single words; a set lookup
    per word, much faster than one big regular expression. Korean terms match inside words."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.words: set[str] = set()
        self.phrases: dict[str, list[tuple[str, ...]]] = {}
        self.substrings: list[str] = []
        for term in terms:
            if not term.isascii():
                self.substrings.append(term)
            elif " " in term:
                parts = tuple(_TERM_WORD.findall(term))
                self.phrases.setdefault(parts[0], []).append(parts)
            else:
                self.words.update((term, *inflections(term)))
        for options in self.phrases.values():
            options.sort(key=len, reverse=True)

    def find(self, lowered: str) -> str | None:
        """The first term in the lower-cased text, as it is written there."""
        words: list[str] = _TERM_WORD.findall(lowered)
        for position, word in enumerate(words):
            for phrase in self.phrases.get(word, ()):
                if tuple(words[position : position + len(phrase)]) == phrase:
                    return " ".join(phrase)
            if word in self.words:
                return word
        return next((term for term in self.substrings if term in lowered), None)


# Phrases that are promotion wherever they appear.
_PROMO = (
    "giveaway", "airdrop", "follow for follow", "f4f", "follow4follow", "followback",
    "dm for promo", "dm for promotion", "dm for collab", "link in bio", "free followers",
    "buy followers", "gain followers", "onlyfans", "investment opportunity", "retweet to win",
    "rt to win", "rt & follow", "rt and follow", "free spins", "sugar daddy", "whatsapp me",
    "telegram me", "make money", "earn money", "work from home", "passive income",
)  # fmt: skip


# Phrases that are promotion when the post also pushes a link or hashtags, and asks for no DM
# ("follow back so I can DM you" is a customer, not a bot).
_PROMO_WITH_LINK = (
    "crypto", "bitcoin", "btc", "nft", "nfts", "forex", "casino", "check out my", "click the link",
    "click here", "follow back", "follow me",
)  # fmt: skip
_LINK = re.compile(r"https?://\S+|\bwww\.\S+")
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_SENTENCE = re.compile(r"[^.!?\n]+")
_TEXT_WORD = re.compile(r"[^\W\d_]{2,}")
_ASKS_FOR_DM = re.compile(r"\b(?:dm|pm|direct message|message)\b", re.IGNORECASE)
SPAM_HASHTAGS = 5  # at least this many hashtags, and as many as half the words
SPAM_HANDLES = 6  # at least this many distinct accounts tagged, with fewer words than tags
LINK_DROP_WORDS = 8  # a link with at most this many words from a 0-follower account
_PROMO_TERMS = Terms(_PROMO)
_PROMO_WITH_LINK_TERMS = Terms(_PROMO_WITH_LINK)


def noise_reason(mention: Mention, *, recent_texts: Iterable[str] = ()) -> str | None:
    """Why a post looks like spam or a bot, in a few words ("spam: 6 hashtags and a link"), or None.

    Flagged posts are shown with the reason, never dropped. ``recent_texts`` are the same author's
    earlier posts, when the caller has them. Anger is not noise: a complaint is never flagged for
    shouting, hashtags or tagging many accounts, because that is what upset customers do.
    """
    text = matchable(mention.text)
    if promo := _promotional(text):
        return f"promotional: “{promo}”"
    if _repeats(text, [matchable(t) for t in recent_texts]):
        return "bot-like: repeats the same text"
    points = sentiment_points(mention.text)  # as triage() scored it (cached)
    return None if points <= NEGATIVE_AT else _spam_shape(mention, praise=points >= POSITIVE_AT)


def _promotional(text: str) -> str | None:
    lowered = html.unescape(_LINK.sub(" ", text)).lower()
    if found := _PROMO_TERMS.find(lowered):
        return found
    pushes = _LINK.search(text) or len(_HASHTAG.findall(text)) >= 2
    if pushes and not _ASKS_FOR_DM.search(text):
        return _PROMO_WITH_LINK_TERMS.find(lowered)
    return None


def _spam_shape(mention: Mention, *, praise: bool) -> str | None:
    """Density signals: hashtags, tagged accounts; for plain posts, all-caps links, link drops."""
    text = mention.text
    links = len(_LINK.findall(text))
    hashtags = len(_HASHTAG.findall(text))
    handles = len({h.lower() for h in _HANDLE.findall(text)})
    words = _TEXT_WORD.findall(_HASHTAG.sub(" ", _HANDLE.sub(" ", _LINK.sub(" ", text))))
    and_links = f" and {links} links" if links > 1 else " and a link" if links else ""
    if hashtags >= SPAM_HASHTAGS and hashtags * 2 >= len(words):
        return f"spam: {hashtags} hashtags{and_links}"
    if handles >= SPAM_HANDLES and len(words) < handles:
        return f"spam: tags {handles} accounts{and_links}"
    if not links or praise or "?" in text:
        return None
    if words and len(words) <= 6 and _shouted(words):
        return "spam: all-caps post with a link"
    quiet = not mention.author.followers and not mention.author.verified
    return "bot-like: 0 followers and a link" if quiet and len(words) <= LINK_DROP_WORDS else None


def _shouted(words: list[str]) -> bool:
    letters = "".join(words)
    return sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _repeats(text: str, recent_texts: Iterable[str]) -> bool:
    """The same post again, or one sentence three times over inside it."""
    normal = " ".join(_LINK.sub(" ", text).lower().split())
    if normal and any(normal == " ".join(_LINK.sub(" ", t).lower().split()) for t in recent_texts):
        return True
    sentences = [" ".join(s.lower().split()) for s in _SENTENCE.findall(text)]
    sentences = [s for s in sentences if len(s) > 3]
    return any(sentences.count(s) >= 3 for s in set(sentences))
