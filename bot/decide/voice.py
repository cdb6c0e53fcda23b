"""The brand's voice on X: X's weighted length, signatures, threads, and the checks before a reply
goes public. Pure functions, no I/O.

X counts characters as npm twitter-text 3.1.0's ``parseTweet`` does (v3 config), and this module
does exactly that: most Latin text weighs 1, CJK, Hangul syllables and other heavy code points 2,
an emoji twemoji knows 2 however many code points it has, and every link 23 whatever its length.
A link is what twitter-text links: a URL with ``http(s)://`` whose domain ends in one of its
top-level domains (``example.com``, ``d.рф``, not ``192.168.1.1``), or the ASCII part of a bare
domain (``bit.ly``, ``google.fr``, ``amazon.de/x``), but not right after "-", "_", "." or "/";
an underscore may stand in a subdomain, never in the name before the top-level domain. ``\r\n``
weighs 2, and U+FEFF, U+FFFE and U+FFFF make X refuse the post (``x_refused_characters``).
A long reply becomes a numbered thread: "… 1/2", then "… ^JK 2/2".

Truth comes from outside: ``scripts/conformance-lane.sh`` installs npm twitter-text 3.1.0 and
compares ``weighted_length`` and validity with ``parseTweet`` on 12,000 generated texts (0
disagreements), and the data at the end of this module (twitter-text's top-level domains,
twemoji-parser 11.0.2's emoji regex) with the packages'. Emoji newer than twemoji-parser 11
(Unicode 13 on: 🫶🏽, 🐦‍🔥) therefore count as twitter-text counts them, 4 to 8, where X's
site may count 2: the preview may call a reply a few characters longer than X will, never
shorter. Mastodon's length follows Mastodon's own server code (``mastodon_length``).
"""

from __future__ import annotations

import re
import stringprep
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import regex

from bot.models import Mention

X_LIMIT = 280
URL_WEIGHT = 23
MAX_PARTS = 9
SIGNATURE_FORMATS = ("^{initials}", "-{first_name}", "*{initials}", "/{initials}", "")

_UNFILLED = re.compile(r"\{[a-z_]+\??\}")
_PICTO = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff\u3030\u303d"
_MODIFIERS = "(?:\ufe0f|\ufe0e|[\U0001f3fb-\U0001f3ff]|[\U000e0020-\U000e007f])*"
_EMOJI = re.compile(
    "[0-9#*]\ufe0f?\u20e3"  # keycaps
    "|[\U0001f1e6-\U0001f1ff]{2}"  # flags: two regional indicators
    f"|[{_PICTO}]{_MODIFIERS}(?:\u200d[{_PICTO}]{_MODIFIERS})*"  # ZWJ sequences, skin tones, tags
)

# ---- X's weighted length ------------------------------------------------------------------------
# npm twitter-text 3.1.0's parseTweet (v3 config), rebuilt: the conformance lane compares the two
# on 10,000+ generated texts. Like twitter-text, it reads the text as UTF-16 code units, so an
# astral character (most emoji) is two surrogates to its regexes, and its case-insensitive
# matching is JavaScript's (upper-case, never folding a non-ASCII letter into an ASCII one): the
# classes below spell out what that matches, and the lane checks them code unit by code unit.

_LIGHT = "\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037"  # weight 1; the rest weigh 2
_HEAVY = re.compile(f"[^{_LIGHT}]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")  # one astral character: weighs 2, not 4
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_INVALID_CHARS = "\ufffe\ufeff\uffff"  # X refuses a post holding any of these
_X_INVALID = re.compile(f"[{_INVALID_CHARS}]")
_SPACES = "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_DIRECTIONAL = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_PUNCT = r"!#-/:-@\[-_{-~"  # ASCII punctuation but " and `, which twitter-text left out
_LATIN_ACCENTS = (
    "\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268"
    "\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
# What JavaScript's /i adds to those accents: letters whose upper case is one of them (ɠ: Ɠ),
# and the upper cases of U+0345 (Ι, ι, ι) and of ⱥ ⱦ ȿ ɀ ƛ, which lie outside them.
_ACCENT_CASES = (
    "\u0260\u0269\u0275\u0280\u0283\u0288\u028a\u028c\u0292\u0399\u03b9\u1fbe"
    "\u2c65\u2c66\u2c7e\u2c7f\ua7dc"
)
_CYRILLIC = "\u0400-\u04ff\u1c80-\u1c87"  # and the old letter forms that upper-case into it
_DOMAIN_CHAR = f"[^{_PUNCT}{_SPACES}{_INVALID_CHARS}{_DIRECTIONAL}]"
_PATH_CHAR = (
    f"[a-zA-Z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~@|&{_LATIN_ACCENTS}{_ACCENT_CASES}]"
)
_PATH_END_CHAR = f"[+\\-a-zA-Z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}{_ACCENT_CASES}]"
_QUERY_CHAR = r"[a-zA-Z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
_QUERY_END_CHAR = r"[a-zA-Z0-9\-_&=#/]"
_ASCII_LABEL_CHAR = f"[\\-a-zA-Z0-9{_LATIN_ACCENTS}{_ACCENT_CASES}]"
_URL_PRECEDING = f"(?:[^A-Za-z0-9@\uff20$#\uff03{_INVALID_CHARS}]|[{_DIRECTIONAL}]|^)"
# Upper-case forms JavaScript also matches to a top-level domain's lower-case letters (с: ᲃ),
# beyond str.upper()'s.
_TLD_CASES = {"в": "ᲀ", "д": "ᲁ", "о": "ᲂ", "с": "ᲃ", "т": "ᲄᲅ", "ε": "ϵ"}
_MAX_URL_LENGTH = 4096
_MAX_LABEL_LENGTH = 63
_MAX_TCO_SLUG_LENGTH = 40
_TCO = re.compile(
    f"[hH][tT][tT][pP][sS]?://[tT]\\.[cC][oO]/([a-zA-Z0-9]+)(?:\\?{_QUERY_CHAR}*{_QUERY_END_CHAR})?"
)
_IDNA_SEPARATORS = re.compile("[.\u3002\uff0e\uff61]")
_DOTTED_RUN = re.compile(f"(?<![^{_SPACES}])[^{_SPACES}.]*+\\.[^{_SPACES}]*+")  # where links can be
_EMOJI_UNITS = re.compile(r"(\\u[0-9a-fA-F]{4})(?:-(\\u[0-9a-fA-F]{4}))?")


def weighted_length(text: str) -> int:
    """Length as X counts it (twitter-text 3.1.0's ``parseTweet``, v3): NFC first; each link
    23, each emoji twemoji knows 2, a code point in twitter-text's light ranges (Latin, Greek,
    Cyrillic, Hangul Jamo, some punctuation) 1, every other (CJK, Hangul syllables, astral) 2."""
    return _x_weight(_utf16(unicodedata.normalize("NFC", text)))


def x_refused_characters(text: str) -> list[str]:
    """The characters that make X refuse a post outright (twitter-text's invalid characters:
    U+FEFF, U+FFFE, U+FFFF), in order of first appearance."""
    return list(dict.fromkeys(_X_INVALID.findall(text)))


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _utf16(text: str) -> str:
    """``text`` as twitter-text sees it: each astral character as its two surrogates."""
    return text if text.isascii() else _ASTRAL.sub(_surrogates, text)


def _surrogates(match: re.Match[str]) -> str:
    offset = ord(match[0]) - 0x10000
    return chr(0xD800 + (offset >> 10)) + chr(0xDC00 + (offset & 0x3FF))


def _x_weight(units: str) -> int:
    """parseTweet's walk over the code units: a link where one starts (23, then past it),
    else an emoji where one starts (2, then past it), else the character's weight."""
    links = dict(_links(units)) if "." in units else {}
    emoji: dict[int, int] = {}
    if not units.isascii() and _emoji_characters().search(units):
        emoji = {match.start(): len(match[0]) for match in _emoji().finditer(units)}
    if not links and not emoji:
        return _plain_weight(units)
    total = position = 0
    for start in sorted(links.keys() | emoji.keys()):
        if start < position:
            continue  # inside a link or an emoji already counted
        total += _plain_weight(units[position:start])
        total += URL_WEIGHT if start in links else 2
        position = start + (links[start] if start in links else emoji[start])
    return total + _plain_weight(units[position:])


def _plain_weight(units: str) -> int:
    """Weight of code units outside links and emoji: 1 each in the light ranges, else 2, an
    astral character's two surrogates 2 together. The fast path for most replies: no heavy."""
    if units.isascii():
        return len(units)
    heavy = len(_HEAVY.findall(units))
    return len(units) + heavy - (2 * len(_PAIR.findall(units)) if heavy else 0)


# ---- other networks' lengths ---------------------------------------------------------------------

_GRAPHEME = regex.compile(r"\X")


def grapheme_count(text: str) -> int:
    """Length as Bluesky and Mastodon count it: user-perceived characters, the extended
    grapheme clusters of Unicode's UAX #29 (an emoji sequence, a letter with its marks, an
    Indic conjunct, a Hangul syllable in jamo, CR LF: one each), as the maintained ``regex``
    module finds them. It agrees with the Bluesky PDS on every text of the real-server lane
    (tests/real); our own counter, before it, disagreed on 54 of 85."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    return len(_GRAPHEME.findall(text))


# Mastodon's StatusLengthValidator (app/validators/status_length_validator.rb), rebuilt: the text
# with each link Mastodon's Extractor finds counted 23 ("x" * 23) and each mention as its @user
# alone, in grapheme clusters. A link is what twitter-text's Ruby gem extracts with Mastodon's
# patterns (config/initializers/twitter_regex.rb): a scheme, a domain ending in a known top-level
# domain (an IP address or an intranet name counts in full), an optional port, a path far more
# liberal than X's, a query; and one whose domain IDNA 2003 turns down (an emoji domain) is none.
# A mention is Account::MENTION_RE not followed by "@", a Latin accent or "://".
_RUBY_WORD = r"\p{L}\p{M}\p{Nd}\p{Pc}"  # Ruby's [[:word:]]
_MASTODON_DOMAIN_CHAR = (
    r"[^\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069!-/:-@\[-`{-~\x00-\x20\x7f\x85\xa0\u1680"
    r"\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufffe\ufeff\uffff]"
)
_MASTODON_SCHEMES = r"(?i:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"
_MASTODON_PATH_CHAR = r"[^\p{White_Space}<>()?]"
_GEM_PATH_CHAR = rf"(?i:[a-z\p{{Cyrillic}}0-9!*';:=+,.$/%#\[\]\p{{Pd}}_~&|@{_LATIN_ACCENTS}])"
_MASTODON_QUERY_EXTRA = (  # Mastodon's UCHARS: what RFC 3987 allows in an IRI
    r"\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    r"\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    r"\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    r"\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    r"\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_MASTODON_MENTION = regex.compile(
    rf"(?<![=/{_RUBY_WORD}])@((?i:[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)"
    rf"(?:@[{_RUBY_WORD}]+(?:[.-]+[{_RUBY_WORD}]+)*)?)"
)
_MENTION_END = regex.compile(rf"[@\uff20]|(?i:[{_LATIN_ACCENTS}])|://")


def mastodon_length(text: str, spoiler_text: str = "") -> int:
    """Length as a Mastodon server counts a status (StatusLengthValidator): the text, stripped,
    with each link Mastodon links counted 23 and each mention without its server (``@ana`` for
    ``@ana@example.social``), plus the content warning, in grapheme clusters."""
    text = text.strip("\t\n\v\f\r \0")
    if text.strip() == "":
        text = ""
    entities = sorted(_mastodon_links(text) + _mastodon_mentions(text))
    pieces: list[str] = []
    position = 0
    for start, end, replacement in entities:
        if start < position:
            continue  # overlaps the entity before it: Extractor.remove_overlapping_entities
        pieces += [text[position:start], replacement]
        position = end
    countable = "".join([*pieces, text[position:]])
    return grapheme_count(spoiler_text.strip("\t\n\v\f\r \0") + countable)


def _mastodon_links(text: str) -> list[tuple[int, int, str]]:
    """Extractor.extract_urls_with_indices(text, extract_url_without_protocol: false)."""
    links: list[tuple[int, int, str]] = []
    for run in _SCHEMED_RUN.finditer(text) if "://" in text else ():
        links += _mastodon_links_in(text, max(0, run.start() - 1), run.end())
    return links


def _mastodon_links_in(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """The links in ``text[start:end]``, a run without ASCII white space (no link holds any)
    that holds "://", after the character before it: only links with a scheme count."""
    links = []
    for match in _mastodon_url_regex().finditer(text, start, end):
        url, scheme, domain = match.group("url", "scheme", "domain")
        if not scheme:
            continue  # found, but Mastodon wants a scheme
        start = match.start("url")
        if tco := _MASTODON_TCO.match(url):
            if len(tco[1]) > _MAX_TCO_SLUG_LENGTH:
                continue
            url = tco[0]
        if not _idna_2003_fits(domain, len(url)):
            continue
        links.append((start, start + len(url), "x" * URL_WEIGHT))
    return links


def _idna_2003_fits(domain: str, length: int) -> bool:
    """twitter-text's is_valid_domain: IDN::Idna.toASCII (IDNA 2003, as Python's "idna" codec)
    must take the domain, and the URL, with the domain so encoded, be at most 4,096."""
    try:
        encoded = domain.encode("idna")
    except UnicodeError:
        return False
    if any(stringprep.in_table_a1(char) for char in domain if not char.isascii()):
        return False  # unassigned in Unicode 3.2 (emoji): libidn refuses, Python's codec not
    return length + max(0, len(encoded) - len(domain)) <= _MAX_URL_LENGTH


def _mastodon_mentions(text: str) -> list[tuple[int, int, str]]:
    """Extractor.extract_mentions_or_lists_with_indices with Account::MENTION_RE."""
    if "@" not in text and "\uff20" not in text:
        return []
    return [
        (match.start(), match.end(), "@" + match[1].split("@")[0])
        for match in _MASTODON_MENTION.finditer(text)
        if not _MENTION_END.match(text, match.end())
    ]


_SCHEMED_RUN = re.compile(r"[^ \t\n\r\f\v]*://[^ \t\n\r\f\v]*")
_MASTODON_TCO = regex.compile(r"(?i:https?://t\.co/([a-z0-9]+))")


@cache
def _mastodon_url_regex() -> regex.Pattern[str]:
    """twitter-text's valid_url as Mastodon patches it (Ruby semantics: code points, Unicode
    case folding for the top-level domains)."""
    char = _MASTODON_DOMAIN_CHAR
    subdomain = rf"(?:(?:{char}(?:[_-]|{char})*)?{char}\.)"
    domain_name = rf"(?:(?:{char}(?:-|{char})*)?{char}\.)"
    names = sorted({*_GTLDS, *_CCTLDS}, key=lambda name: (-len(name), name))
    tld = rf"(?i:(?:{'|'.join(map(regex.escape, names))})(?=[^0-9a-z@+\-]|$)|xn--[0-9a-z]+)"
    path_char = _MASTODON_PATH_CHAR
    parens = rf"\((?:{path_char}+|(?:{path_char}*\({path_char}+\){path_char}*))\)"
    gem_parens = (
        rf"\((?:{_GEM_PATH_CHAR}+|(?:{_GEM_PATH_CHAR}*\({_GEM_PATH_CHAR}+\){_GEM_PATH_CHAR}*))\)"
    )
    path_end = rf"(?:[^\p{{White_Space}}()?!*\"'「」<>;:=,.$%\[\]~&|@]|{gem_parens})"
    path = rf"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:{path_char}+/))"
    query = rf"(?i:\?[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_MASTODON_QUERY_EXTRA}]*"
    query += rf"[a-z0-9_&=#/\-{_MASTODON_QUERY_EXTRA}])"
    return regex.compile(
        r"(?:(?i:[^A-Z0-9@\uff20$#\uff03\ufffe\ufeff\uffff])|[\u061c\u200e\u200f\u202a-\u202e"
        r"\u2066-\u2069]|^)"
        rf"(?P<url>(?P<scheme>{_MASTODON_SCHEMES})?(?P<domain>{subdomain}*{domain_name}{tld})"
        rf"(?::[0-9]+)?(?:/{path}*)?{query}?)",
        regex.MULTILINE,
    )


@dataclass(frozen=True, slots=True)
class Medium:
    """One network's rules for a public post: how its length is counted and up to what, how
    to say so to an agent, whether a long reply may become a thread, and what every post must
    start with (Mastodon: the customer's @address, or they are not told of the reply)."""

    network: str = "x"
    name: str = "X"  # in limits: "Mastodon (social.example)"
    limit: int = X_LIMIT
    counting: str = "weighted"  # weighted (X) | graphemes (Bluesky) | mastodon
    threads: bool = True
    address: str = ""
    account: str = ""  # the brand account that posts, as agents know it ("" = the brand's X)
    private: bool = False  # goes out as a direct message: only the customer sees it
    max_bytes: int = 0  # a cap on the text's UTF-8 bytes as well (Bluesky: 3,000); 0 = none
    blocked: str = ""  # why the network takes no reply by API to this post, and what to do

    @property
    def label(self) -> str:
        """The network's short name, for titles."""
        return self.name.split(" (")[0]

    def length(self, text: str) -> int:
        return _COUNTERS[self.counting](text)

    def size(self, text: str) -> int:
        """The length that must stay within ``limit``: the network's count, or more when the
        text's bytes pass the byte cap. Bluesky allows 300 graphemes and 3,000 bytes, so a text
        fits when both do: its size is the larger of its graphemes and its bytes / 10."""
        length = self.length(text)
        if not self.max_bytes:
            return length
        return max(length, -(-len(text.encode()) * self.limit // self.max_bytes))

    def bytes_over(self, text: str) -> int:
        """How many UTF-8 bytes ``text`` has past the byte cap (0: within it, or no cap)."""
        return max(0, len(text.encode()) - self.max_bytes) if self.max_bytes else 0

    def public(self, body: str, signature: str) -> str:
        """The text of a single post, exactly as it goes public."""
        return sign(f"{self.address} {body.strip()}" if self.address else body, signature)

    def hint(self) -> str:
        return _HINTS[self.counting]

    def addressed(self, address: str, *, private: bool = False) -> Medium:
        return replace(self, address=address, private=private)


_COUNTERS: dict[str, Callable[[str], int]] = {
    "weighted": weighted_length,
    "graphemes": grapheme_count,
    "mastodon": mastodon_length,
}
_HINTS = {
    "weighted": "Korean and emoji count double, links count 23.",
    "graphemes": "Each emoji counts as one; links count in full.",
    "mastodon": "Links count 23; a @mention counts without its server.",
}
X = Medium()
# Bluesky's post lexicon (app.bsky.feed.post): text maxGraphemes 300 and maxLength 3,000, the
# latter in UTF-8 bytes; the PDS refuses either ("string too big (maximum 3000, got 3254)").
BLUESKY = Medium(network="bluesky", name="Bluesky", limit=300, counting="graphemes", max_bytes=3000)


def mastodon(limit: int = 500, *, instance: str = "") -> Medium:
    """Mastodon on one instance: its own limit (read from the instance), no threads, since every
    post must carry the customer's address and a thread of those would read oddly."""
    name = f"Mastodon ({instance})" if instance else "Mastodon"
    return Medium(network="mastodon", name=name, limit=limit, counting="mastodon", threads=False)


def has_link(text: str) -> bool:
    """Whether X would count a link in ``text`` (a post with a link costs more to send)."""
    return bool(_link_spans(_normalise(text)))


def _link_spans(text: str) -> list[tuple[int, int]]:
    """Where the links X shortens to t.co are, as (start, end) indexes into ``text``."""
    units = _utf16(text)
    if "." not in units:
        return []
    spans = [(start, start + length) for start, length in _links(units)]
    if len(units) == len(text):
        return spans
    return [(_code_points(units, start), _code_points(units, end)) for start, end in spans]


def _code_points(units: str, index: int) -> int:
    """The code point index of code unit ``index``."""
    return index - len(_PAIR.findall(units, 0, index))


def _links(units: str) -> list[tuple[int, int]]:
    """twitter-text's extractUrlsWithIndices: (start, length) of each link in the code units.
    The length is what parseTweet skips, the link's text; for a bare domain with a path whose
    domain holds labels before its ASCII part, that is shorter than the span, as there."""
    links: list[tuple[int, int]] = []
    for run in _DOTTED_RUN.finditer(units):
        if _dot_and_tld().search(units, run.start(), run.end()):  # no domain without a TLD
            links += _links_in(units, max(0, run.start() - 1), run.end())
    return links


def _links_in(units: str, start: int, end: int) -> list[tuple[int, int]]:
    """The links in ``units[start:end]``: a run without spaces, after the character before it
    (twitter-text scans the whole text, but a link holds no space, nor does anything it skips)."""
    links: list[tuple[int, int]] = []
    for match in _url_regex().finditer(units, start, end):
        before, url, protocol, domain, path = match.group(1, 2, 3, 4, 5)
        start, end = match.end() - len(url), match.end()
        if not _valid_url(url, protocol or "https://", domain):
            continue
        if protocol:
            if tco := _TCO.match(url):
                if len(tco[1]) > _MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco[0]
            links.append((start, len(url)))
            continue
        if before[-1:] in ("-", "_", ".", "/") and before:
            continue  # a bare domain right after one of these is no link
        last: tuple[int, str] | None = None
        found_end = 0
        for ascii_domain in _ascii_domain_regex().findall(domain):
            offset = domain.find(ascii_domain, found_end)
            found_end = offset + len(ascii_domain)
            last = (start + offset, ascii_domain)
            links.append((last[0], len(ascii_domain)))
        if last and path:  # the last ASCII domain takes the path and query with it
            links[-1] = (last[0], len(url.replace(domain, last[1], 1)))
    return links


def _valid_url(url: str, protocol: str, domain: str) -> bool:
    """twitter-text's isValidUrl: a domain that encodes (idna.toAscii) and a URL of at most
    4,096 code units with its protocol (https:// when it has none)."""
    if domain.startswith("xn--") and not _ascii_domain_regex().search(domain):
        return False
    for label in domain.split("."):
        encoded = ".".join(map(_punycode, _IDNA_SEPARATORS.split(_from_utf16(label))))
        if not 0 < len(encoded) <= _MAX_LABEL_LENGTH:
            return False
    return len(protocol) + len(url) <= _MAX_URL_LENGTH


def _punycode(label: str) -> str:
    """punycode.toASCII for one label: "xn--" and RFC 3492 when it holds a non-ASCII character."""
    if label.isascii():
        return label
    return "xn--" + label.encode("punycode", "surrogatepass").decode("ascii")


def _from_utf16(units: str) -> str:
    return (
        units
        if units.isascii()
        else units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    )


@cache
def _url_regex() -> re.Pattern[str]:
    """twitter-text's extractUrl: a preceding character, then the URL (protocol, domain, port,
    path, query). Compiled on first use (the top-level domains make it long)."""
    domain_char = _DOMAIN_CHAR
    subdomain = f"(?:(?:{domain_char}(?:[_-]|{domain_char})*)?{domain_char}\\.)"
    domain_name = f"(?:(?:{domain_char}(?:-|{domain_char})*)?{domain_char}\\.)"
    parens = f"\\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\\({_PATH_CHAR}+\\){_PATH_CHAR}*))\\)"
    path_end = f"(?:{_PATH_END_CHAR}|{parens})"
    path = f"(?:(?:{_PATH_CHAR}*(?:{parens}{_PATH_CHAR}*)*{path_end})|(?:@{_PATH_CHAR}+/))"
    # At most 127 labels before the top-level domain, as DNS allows: twitter-text sets no bound,
    # and a text of thousands of dotted labels would take it (and us) quadratic time.
    return re.compile(
        f"({_URL_PRECEDING})"
        "("
        "([hH][tT][tT][pP][sS]?://)?"
        f"({subdomain}{{0,126}}{domain_name}{_tld()})"
        "(?::[0-9]+)?"
        f"(/{path}*)?"
        f"(?:\\?{_QUERY_CHAR}*{_QUERY_END_CHAR})?"
        ")"
    )


@cache
def _dot_and_tld() -> re.Pattern[str]:
    return re.compile(f"\\.{_tld()}")


@cache
def _ascii_domain_regex() -> re.Pattern[str]:
    """twitter-text's validAsciiDomain: what of a bare domain is linked."""
    return re.compile(f"(?:{_ASCII_LABEL_CHAR}+\\.)+{_tld()}")


@cache
def _tld() -> str:
    """A top-level domain twitter-text knows, not followed by what would lengthen it, or a
    punycode one ("xn--…"). One trie of both lists: no two of their names can both match at the
    same place, bar 嘉里/嘉里大酒店 and भारत/भारतम्, where the trie tries the longer first as
    twitter-text's order does."""
    trie: dict[str, Any] = {}
    for name in (*_GTLDS, *_CCTLDS):
        node = trie
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}
    end = r"(?=[^0-9a-zA-Z@+\-]|\Z)"
    return f"(?:{_trie_pattern(trie)}{end}|[xX][nN]--[\\-0-9a-zA-Z]+)"


def _trie_pattern(node: dict[str, Any]) -> str:
    branches = [_char_class(char) + _trie_pattern(child) for char, child in node.items() if char]
    if "" in node:
        branches.append("")  # the name may end here, once the longer ones are tried
    if len(branches) == 1:
        return branches[0]
    return f"(?:{'|'.join(branches)})"


def _char_class(char: str) -> str:
    """``char`` and what JavaScript's /i matches to it, as a regex."""
    cases = _tld_cases(char)
    return re.escape(char) if len(cases) == 1 else f"[{''.join(sorted(cases))}]"


def _tld_cases(char: str) -> set[str]:
    """What JavaScript's /i matches to a top-level domain's ``char``: its upper case (never an
    ASCII one for a non-ASCII letter), and those listed in ``_TLD_CASES``."""
    upper = char.upper()
    cases = {char, char.lower()}
    if len(upper) == 1 and (char.isascii() or not upper.isascii()):
        cases.add(upper)
    return cases | set(_TLD_CASES.get(char, ""))


@cache
def _emoji() -> re.Pattern[str]:
    """twemoji-parser 11.0.2's regex (twitter-text's emoji), on UTF-16 code units as there."""
    return re.compile(_TWEMOJI_SOURCE)


@cache
def _emoji_characters() -> re.Pattern[str]:
    """Any code unit the emoji regex names but the zero-width joiner (which joins others) and
    ASCII (keycaps hold U+20E3): text with none of them holds no emoji, and needs no scan."""
    found: set[int] = set()
    for low, high in _EMOJI_UNITS.findall(_TWEMOJI_SOURCE):
        found.update(range(int(low[2:], 16), int((high or low)[2:], 16) + 1))
    found.update(ord(char) for char in _TWEMOJI_SOURCE if not char.isascii())
    found.difference_update(range(0xD800, 0xE000), [0x200D])
    ranges = "".join(re.escape(chr(unit)) for unit in sorted(found))
    return re.compile(f"[{ranges}\ud800-\udfff]")


# ---- signing and the character meter ------------------------------------------------------------


def sign(body: str, signature: str) -> str:
    """The public text: the body with the agent's signature appended, as customers expect."""
    body = body.strip()
    return f"{body} {signature}" if signature else body


def chars_left(body: str, signature: str, medium: Medium = X) -> int:
    """Room left in one post on that network, signature (and address) included."""
    return medium.limit - medium.size(medium.public(body, signature))


def reply_problems(body: str, signature: str, medium: Medium = X) -> list[str]:
    """What stops this reply from going public as one post, in words an agent understands."""
    problems = [_EMPTY] if not body.strip() else []
    if (left := chars_left(body, signature, medium)) < 0:
        single = medium.public(body, signature)
        problems.append(_over_limit(-left, medium=medium, signature=signature, text=single))
    if unfilled := _unfilled(body):
        problems.append(unfilled)
    if refused := _refused(medium.public(body, signature), medium):
        problems.append(refused)
    return problems


_EMPTY = "The reply is empty. Write something first."


def _over_limit(over: int, *, medium: Medium, signature: str, text: str) -> str:
    signed = f" (with your signature {signature})" if signature else ""
    if extra := medium.bytes_over(text):
        cap = f"{medium.name}'s cap of {medium.max_bytes:,} bytes of text"
        return f"{extra:,} bytes over {cap}{signed}. {_BYTES_HINT}"
    limit = f"{medium.name}'s limit of {medium.limit}"
    return f"{over} characters over {limit}{signed}. {medium.hint()}"


_BYTES_HINT = "Emoji sequences take many bytes (👨‍👩‍👧‍👦 is 25): use fewer."


def _refused(text: str, medium: Medium) -> str:
    """X refuses a post holding U+FEFF, U+FFFE or U+FFFF, which copied text may carry unseen."""
    if medium.counting != "weighted" or not (found := x_refused_characters(text)):
        return ""
    named = " and ".join(_REFUSED_NAMES[char] for char in found)
    return (
        f"The reply holds {named}, invisible here, which X refuses to post. Delete the words "
        "around where it was pasted and type them again."
    )


_REFUSED_NAMES = {
    "\ufeff": "a byte-order mark (U+FEFF)",
    "\ufffe": "the non-character U+FFFE",
    "\uffff": "the non-character U+FFFF",
}


def _unfilled(body: str) -> str:
    found = _UNFILLED.findall(body)
    return f"Fill in or remove {', '.join(sorted(set(found)))} before sending." if found else ""


# ---- signatures ---------------------------------------------------------------------------------


def initials_of(name: str) -> str:
    """Initials to sign with: "Jane Kim" -> "JK", "Min-jun Park" -> "MP", "Ludwig van Beethoven"
    -> "LB": the first letter of each capitalised word, at most three (first two and last). Names
    in scripts without capitals (박민준, 山田 太郎) have no initials in use, so they sign with the
    whole name, unspaced."""
    words = [word for word in name.split() if _first_letter(word)]
    if not any(_cased(char) for word in words for char in word):
        return "".join(words)
    chosen = [word for word in words if not _first_letter(word).islower()] or words
    if len(chosen) > 3:
        chosen = [*chosen[:2], chosen[-1]]
    return "".join(_first_letter(word).upper() for word in chosen)


def signature_for(fmt: str, *, name: str, initials: str = "") -> str:
    """The agent's signature in the brand's format: "^JK", "-Jane", "*JK", "/JK" or "" (none).
    ``initials`` overrides the ones worked out from ``name``; a format without anything to fill
    in gives no signature rather than a lone "^"."""
    if fmt not in SIGNATURE_FORMATS:
        choices = ", ".join(f'"{choice}"' for choice in SIGNATURE_FORMATS)
        raise ValueError(f"Unknown signature format {fmt!r}; use one of {choices}.")
    values = {"initials": initials.strip() or initials_of(name), "first_name": _first_name(name)}
    needed = "initials" if "{initials}" in fmt else "first_name"
    return fmt.format(**values) if fmt and values[needed] else ""


def _first_name(name: str) -> str:
    """The first word with a letter in it; names in scripts without capitals whole, unspaced."""
    words = [word for word in name.split() if _first_letter(word)]
    if not any(_cased(char) for word in words for char in word):
        return "".join(words)
    return words[0].strip("()\"'“”‘’,.")


def _first_letter(word: str) -> str:
    return next((char for char in word if char.isalpha()), "")


def _cased(char: str) -> bool:
    """Letters of scripts with capitals (Latin, Cyrillic, Greek…); Hangul and Han have none."""
    return char.isupper() or char.islower()


# ---- threads ------------------------------------------------------------------------------------

Measure = Callable[[str], int]
_COUNTER_WEIGHT = len(" 9/9")  # the numbering " 1/3" ends every part; at most 9 parts, one digit
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_CJK_BREAK = re.compile(r"(?<=[。！？、，])(?=\S)")  # CJK runs without spaces break after these
_ATOM = re.compile(
    f"{_EMOJI.pattern}|.[\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff\ufe00-\ufe2f]*", re.S
)


@dataclass(frozen=True, slots=True)
class _Token:
    """A word (or a piece of a word too long for one post) and the whitespace before it."""

    text: str
    weight: int
    sep: str  # as it will be posted: "" (first, or inside a CJK run), " ", "\n" or "\n\n"
    sentence: bool = False  # the break before this token is a sentence boundary
    cut: bool = False  # this token continues a word too long for a post: a break here cuts it


def split_thread(
    body: str, signature: str, *, limit: int = X_LIMIT, measure: Measure = weighted_length
) -> list[str]:
    """The body as X posts, exactly as they go public: one post if it fits with the signature,
    else a numbered thread ("… 1/2", "… ^JK 2/2": the counter always ends a part, the signature
    sits before it on the last). Splits at sentence boundaries where that costs no extra part,
    else between words, and cuts a word only when it alone is too long, never inside a link or
    an emoji. ``measure`` is the network's length (X's weighted length by default). Raises
    ValueError (agent-facing) past ``MAX_PARTS`` parts."""
    if measure(single := sign(body, signature)) <= limit:
        return [single]
    signed = 1 + measure(signature) if signature else 0
    room, last_room = limit - _COUNTER_WEIGHT, limit - _COUNTER_WEIGHT - signed
    if last_room < 2 or measure(body) > MAX_PARTS * room:
        raise ValueError(_TOO_LONG)
    tokens = _tokens(body.strip(), room=last_room, measure=measure)
    if measure(compact := sign(_text(tokens), signature)) <= limit:
        return [compact]  # it fits once runs of spaces and blank lines are squeezed
    starts = _part_starts(tokens, room=room, last_room=last_room)
    if len(starts) > MAX_PARTS:
        raise ValueError(_TOO_LONG)
    parts = _render(tokens, starts, signature=signature)
    if any(measure(part) > limit for part in parts):  # a safety net; never seen to fire
        raise ValueError(_TOO_LONG)
    return parts


_TOO_LONG = f"Too long even for a thread of {MAX_PARTS} posts. Shorten it."


def _tokens(body: str, *, room: int, measure: Measure) -> list[_Token]:
    """Words with the whitespace before each, as posted: runs of spaces become one space, line
    breaks are kept (two at most). Words longer than ``room`` are cut into pieces."""
    tokens: list[_Token] = []
    end = 0
    for match in re.finditer(r"\S+", body):
        space = body[end : match.start()]
        sep = "\n" * min(space.count("\n"), 2) or (" " if tokens else "")
        for index, word in enumerate(_CJK_BREAK.split(match[0])):
            before = sep if index == 0 else ""
            ends = bool(tokens and (_SENTENCE_END.search(tokens[-1].text) or "\n" in before))
            tokens += _pieces(word, sep=before, sentence=ends, room=room, measure=measure)
        end = match.end()
    return tokens


def _pieces(word: str, *, sep: str, sentence: bool, room: int, measure: Measure) -> list[_Token]:
    """One token for the word or, when it alone outweighs ``room``, one per character, emoji
    or link, so a part may end inside it (never inside a link or an emoji)."""
    if (weight := measure(word)) <= room:
        return [_Token(word, weight, sep, sentence)]
    atoms = [_Token(atom, measure(atom), "", cut=True) for atom in _atoms(_normalise(word))]
    if any(atom.weight > room for atom in atoms):
        raise ValueError(_TOO_LONG)
    return [_Token(atoms[0].text, atoms[0].weight, sep, sentence), *atoms[1:]]


def _atoms(word: str) -> list[str]:
    """The word as atoms: each link whole, the rest emoji by emoji and character by character."""
    atoms: list[str] = []
    start = 0
    for begin, end in _link_spans(word):
        atoms += [*_ATOM.findall(word[start:begin]), word[begin:end]]
        start = end
    return atoms + _ATOM.findall(word[start:])


def _part_starts(tokens: list[_Token], *, room: int, last_room: int) -> list[int]:
    """Where each part starts: fewest parts, then fewest words cut, then fewest breaks inside a
    sentence, then the earlier parts fuller. Dynamic programming over the tokens, from the end."""
    count = len(tokens)
    prefix = [0]
    for token in tokens:
        prefix.append(prefix[-1] + len(token.sep) + token.weight)
    best: list[tuple[int, int, int] | None] = [None] * count + [(0, 0, 0)]
    following = [count] * (count + 1)
    for start in range(count - 1, -1, -1):
        for stop in range(start + 1, count + 1):
            weight = prefix[stop] - prefix[start] - len(tokens[start].sep)
            if weight > room:
                break
            rest = best[stop]
            if rest is None or weight > (last_room if stop == count else room):
                continue
            cost = (
                (rest[0] + 1, rest[1], rest[2])
                if stop == count
                else _break_cost(tokens[stop], rest)
            )
            if (current := best[start]) is None or cost <= current:
                best[start], following[start] = cost, stop
    if best[0] is None:
        raise ValueError(_TOO_LONG)
    starts = [0]
    while following[starts[-1]] < count:
        starts.append(following[starts[-1]])
    return starts


def _break_cost(token: _Token, rest: tuple[int, int, int]) -> tuple[int, int, int]:
    """The cost of a part that ends right before ``token``, followed by ``rest``."""
    return (rest[0] + 1, rest[1] + token.cut, rest[2] + (not token.sentence))


def _text(tokens: list[_Token]) -> str:
    return tokens[0].text + "".join(token.sep + token.text for token in tokens[1:])


def _render(tokens: list[_Token], starts: list[int], *, signature: str) -> list[str]:
    total = len(starts)
    parts = []
    for number, (start, stop) in enumerate(zip(starts, [*starts[1:], len(tokens)], strict=True), 1):
        text = _text(tokens[start:stop])
        if number == total and signature:
            text += f" {signature}"
        parts.append(f"{text} {number}/{total}")
    return parts


# ---- checks before a reply goes public ----------------------------------------------------------

_EMAIL = re.compile(r"[\w.%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w#@/=.:])\+?\(?\d(?:[ \u00a0.\-()]{0,3}\d){8,}(?![\w/:])")
_NOT_A_PHONE = re.compile(  # numbers introduced like this are references, safe to repeat
    r"(?:order|booking|ref|reference|case|ticket|invoice|tracking|confirmation|주문|예약)\W{0,4}$",
    re.IGNORECASE,
)
_MENTION = re.compile(r"(?<![\w@])@\w{1,15}")
_TRAILING = re.compile(rf"(?:[\s.,!?…。！？~:;)]|{_EMOJI.pattern})+$")
_LINK_WARNING = (
    "Under X's pay-per-use pricing a post with a link costs about 13× more; "
    "leave it out unless the customer needs it."
)


@dataclass(frozen=True, slots=True)
class Voice:
    """How a brand sounds in public, from its config: checked before every reply goes out."""

    signature: str = "^{initials}"  # one of SIGNATURE_FORMATS
    banned: tuple[str, ...] = ()  # phrases never to say publicly (case-insensitive, whole words)
    greetings: tuple[str, ...] = ()  # if set, the reply must start with one of these
    closings: tuple[str, ...] = ()  # if set, the body must end with one of these
    warn_links: bool = True


@dataclass(frozen=True, slots=True)
class Check:
    """What would go public and what stands in the way; the preview shows all three."""

    parts: tuple[str, ...]  # exactly what goes public: one post, or a numbered thread
    blocks: tuple[str, ...]  # reasons it must not go out: each says the problem and the fix
    warnings: tuple[str, ...]  # shown in the preview; they do not block


_PLAIN_VOICE = Voice()
_Found = tuple[str, str]  # ("phone number", "020 7946 0958")


def check_answer(
    body: str, *, signature: str, voice: Voice, mention: Mention | None, medium: Medium = X
) -> Check:
    """``check_reply`` for a reply to ``mention``: its text and author's name are what the
    privacy and greeting checks compare against; ``medium`` is the mention's network."""
    return check_reply(
        body,
        signature=signature,
        voice=voice,
        customer_text=mention.text if mention else "",
        customer_name=mention.author.name if mention else "",
        medium=medium,
    )


def check_reply(
    body: str,
    *,
    signature: str,
    voice: Voice = _PLAIN_VOICE,
    customer_text: str = "",
    customer_name: str = "",
    allow_thread: bool = True,
    medium: Medium = X,
) -> Check:
    """Everything to check before ``body`` goes public as the brand: the text itself, the
    brand's voice, the customer's privacy, and the network's length (as a thread when the
    network and the caller allow)."""
    if not body.strip():
        return Check((medium.public(body, signature),), (_EMPTY,), ())
    echoed, other = _contact_details(body, customer_text)
    parts, too_long = _parts(
        body, signature, medium=medium, allow_thread=allow_thread and medium.threads
    )
    blocks = [
        medium.blocked,
        _unfilled(body),
        *_voice_problems(body, voice),
        *(_echo_problem(noun, found) for noun, found in echoed),
        too_long,
        _refused(medium.public(body, signature), medium),
    ]
    warnings = [
        f"This goes out as a thread of {len(parts)} posts; shorten it to send one."
        if len(parts) > 1
        else "",
        _LINK_WARNING if _costly_link(body, voice=voice, medium=medium) else "",
        _name_warning(body, customer_name),
        *(_other_contact(noun, found) for noun, found in other),
    ]
    return Check(tuple(parts), tuple(filter(None, blocks)), tuple(filter(None, warnings)))


def _costly_link(body: str, *, voice: Voice, medium: Medium) -> bool:
    """Only X charges more for a post with a link; the open networks cost nothing to post to."""
    return voice.warn_links and medium.network == "x" and bool(_link_spans(_normalise(body)))


def _parts(
    body: str, signature: str, *, medium: Medium, allow_thread: bool
) -> tuple[list[str], str]:
    """What goes public, and why it cannot (over the limit with threads off, or over 9 parts)."""
    single = medium.public(body, signature)
    if (over := medium.size(single) - medium.limit) > 0 and not allow_thread:
        too_long = _over_limit(over, medium=medium, signature=signature, text=single)
        return [single], f"{too_long} Shorten it."
    if over <= 0:
        return [single], ""
    try:
        return split_thread(body, signature, limit=medium.limit, measure=medium.size), ""
    except ValueError as error:
        return [single], str(error)


def _voice_problems(body: str, voice: Voice) -> list[str]:
    """Banned phrases, and the brand's required greeting and closing."""
    problems = [
        f"“{phrase}” is on the brand's banned list. Reword it."
        for phrase in voice.banned
        if re.search(_phrase(phrase), body, re.IGNORECASE)
    ]
    opening = _MENTION.sub("", body).lstrip(" \t\n,")
    if voice.greetings and not any(
        re.match(_phrase(greeting), opening, re.IGNORECASE) for greeting in voice.greetings
    ):
        problems.append(f"The reply has no greeting. Start it with {_either(voice.greetings)}.")
    ending = _TRAILING.sub("", body)
    if voice.closings and not any(
        re.search(_phrase(_TRAILING.sub("", closing)) + "$", ending, re.IGNORECASE)
        for closing in voice.closings
    ):
        problems.append(f"The reply has no closing. End it with {_either(voice.closings)}.")
    return problems


def _phrase(phrase: str) -> str:
    """A pattern for a whole phrase, any spacing: word boundaries where it starts or ends with a
    letter of a spaced script, none beside Hangul or Han, whose particles attach (환불은)."""
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    before = r"(?<!\w)" if phrase[:1].isascii() or _cased(phrase[:1]) else ""
    after = r"(?!\w)" if phrase[-1:].isascii() or _cased(phrase[-1:]) else ""
    return f"{before}{words}{after}"


def _either(options: tuple[str, ...]) -> str:
    quoted = [f"“{option}”" for option in options]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _contact_details(body: str, customer_text: str) -> tuple[list[_Found], list[_Found]]:
    """Emails and phone numbers in the reply, split into the customer's own (echoed back from
    ``customer_text``) and others. Phones match on their last 9 digits, so "+44 20 7946 0958"
    and "020 7946 0958" are the same number."""
    their_emails = {email.lower() for email in _EMAIL.findall(customer_text)}
    their_phones = {_digits(phone)[-9:] for phone in _phones(customer_text)}
    echoed: list[_Found] = []
    other: list[_Found] = []
    for email in _EMAIL.findall(body):
        (echoed if email.lower() in their_emails else other).append(("email address", email))
    for phone in _phones(_EMAIL.sub(" ", body)):
        (echoed if _digits(phone)[-9:] in their_phones else other).append(("phone number", phone))
    return echoed, other


def _phones(text: str) -> list[str]:
    """Phone-like numbers: 9 to 15 digits, written with +, a leading 0, brackets or separators
    (so a bare 123456789 is not one), not inside a link, not after "order", "booking", "ref"…"""
    for begin, end in _link_spans(text):
        text = text[:begin] + " " * (end - begin) + text[end:]
    return [
        match[0]
        for match in _PHONE.finditer(text)
        if 9 <= len(_digits(match[0])) <= 15
        and (match[0][0] in "+(0" or not match[0].isdigit())
        and not _NOT_A_PHONE.search(text, 0, match.start())
    ]


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _echo_problem(noun: str, found: str) -> str:
    return (
        f"This would publish the customer's {noun} ({found}) for everyone to see. "
        "Remove it and ask them to DM it instead."
    )


def _other_contact(noun: str, found: str) -> str:
    article = "an" if noun[0] in "aeiou" else "a"
    return f"The reply contains {article} {noun} ({found}); make sure it is the brand's own."


def _name_warning(body: str, customer_name: str) -> str:
    """Suggest greeting the customer by name when we know it and the reply uses neither their
    name nor a handle. Korean and other unspaced names match inside words (민지님)."""
    name = _given_name(customer_name)
    if not name or _MENTION.search(body):
        return ""
    body = _EMAIL.sub(" ", body)
    if _cased(name[0]):
        used = bool(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", body, re.IGNORECASE))
    else:
        used = name in body or (len(name) >= 3 and name[1:] in body)
    return "" if used else f"The reply doesn't use the customer's name. Greet {name} by name."


def _given_name(display_name: str) -> str:
    """The name to greet a customer by, from their X display name: "ann lee 🌸" -> "Ann",
    "Min-jun Park" -> "Min-jun", "김민지" -> "김민지"."""
    name = _first_name(display_name)
    match = re.search(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", name)
    if not match:
        return ""
    return match[0][0].upper() + match[0][1:] if _cased(match[0][0]) else match[0]


# ---- data: twitter-text 3.1.0's top-level domains, twemoji-parser 11.0.2's emoji ----------------
# Written by tests/conformance/derive.py from the npm packages (Apache-2.0 and MIT); the
# conformance lane checks they still match. The lists in twitter-text's order.

_GTLDS = """
삼성 닷컴 닷넷 香格里拉 餐厅 食品 飞利浦 電訊盈科 集团 通販 购物 谷歌 诺基亚 联通 网络 网站
网店 网址 组织机构 移动 珠宝 点看 游戏 淡马锡 机构 書籍 时尚 新闻 政府 政务 招聘 手表 手机
我爱你 慈善 微博 广东 工行 家電 娱乐 天主教 大拿 大众汽车 在线 嘉里大酒店 嘉里 商标 商店 商城
公益 公司 八卦 健康 信息 佛山 企业 中文网 中信 世界 ポイント ファッション セール ストア コム
グーグル クラウド みんな คอม संगठन नेट कॉम همراه موقع موبايلي كوم كاثوليك عرب شبكة بيتك بازار
العليان ارامكو اتصالات ابوظبي קום сайт рус орг онлайн москва ком католик дети zuerich zone
zippo zip zero zara zappos yun youtube you yokohama yoga yodobashi yandex yamaxun yahoo yachts
xyz xxx xperia xin xihuan xfinity xerox xbox wtf wtc wow world works work woodside
wolterskluwer wme winners wine windows win williamhill wiki wien whoswho weir weibo wedding wed
website weber webcam weatherchannel weather watches watch warman wanggou wang walter walmart
wales vuelos voyage voto voting vote volvo volkswagen vodka vlaanderen vivo viva vistaprint
vista vision visa virgin vip vin villas viking vig video viajes vet versicherung
vermögensberatung vermögensberater verisign ventures vegas vanguard vana vacations ups uol uno
university unicom uconnect ubs ubank tvs tushu tunes tui tube trv trust travelersinsurance
travelers travelchannel travel training trading trade toys toyota town tours total toshiba
toray top tools tokyo today tmall tkmaxx tjx tjmaxx tirol tires tips tiffany tienda tickets
tiaa theatre theater thd teva tennis temasek telefonica telecity tel technology tech team tdk
tci taxi tax tattoo tatar tatamotors target taobao talk taipei tab systems symantec sydney
swiss swiftcover swatch suzuki surgery surf support supply supplies sucks style study studio
stream store storage stockholm stcgroup stc statoil statefarm statebank starhub star staples
stada srt srl spreadbetting spot sport spiegel space soy sony song solutions solar sohu
software softbank social soccer sncf smile smart sling skype sky skin ski site singles sina
silk shriram showtime show shouji shopping shop shoes shiksha shia shell shaw sharp shangrila
sfr sexy sex sew seven ses services sener select seek security secure seat search scot scor
scjohnson science schwarz schule school scholarships schmidt schaeffler scb sca sbs sbi saxo
save sas sarl sapo sap sanofi sandvikcoromant sandvik samsung samsclub salon sale sakura safety
safe saarland ryukyu rwe run ruhr rugby rsvp room rogers rodeo rocks rocher rmit rip rio ril
rightathome ricoh richardli rich rexroth reviews review restaurant rest republican report
repair rentals rent ren reliance reit reisen reise rehab redumbrella redstone red recipes
realty realtor realestate read raid radio racing qvc quest quebec qpon pwc pub prudential pru
protection property properties promo progressive prof productions prod pro prime press praxi
pramerica post porn politie poker pohl pnc plus plumbing playstation play place pizza pioneer
pink ping pin pid pictures pictet pics piaget physio photos photography photo phone philips phd
pharmacy pfizer pet pccw pay passagens party parts partners pars paris panerai panasonic
pamperedchef page ovh ott otsuka osaka origins orientexpress organic org orange oracle open ooo
onyourside online onl ong one omega ollo oldnavy olayangroup olayan okinawa office off observer
obi nyc ntt nrw nra nowtv nowruz now norton northwesternmutual nokia nissay nissan ninja nikon
nike nico nhk ngo nfl nexus nextdirect next news newholland new neustar network netflix netbank
net nec nba navy natura nationwide name nagoya nadex nab mutuelle mutual museum mtr mtpc mtn
msd movistar movie mov motorcycles moto moscow mortgage mormon mopar montblanc monster money
monash mom moi moe moda mobily mobile mobi mma mls mlb mitsubishi mit mint mini mil microsoft
miami metlife merckmsd meo menu men memorial meme melbourne meet media med mckinsey mcdonalds
mcd mba mattel maserati marshalls marriott markets marketing market map mango management man
makeup maison maif madrid macys luxury luxe lupin lundbeck ltda ltd lplfinancial lpl love lotto
lotte london lol loft locus locker loans loan llp llc lixil living live lipsy link linde
lincoln limo limited lilly like lighting lifestyle lifeinsurance life lidl liaison lgbt lexus
lego legal lefrak leclerc lease lds lawyer law latrobe latino lat lasalle lanxess landrover
land lancome lancia lancaster lamer lamborghini ladbrokes lacaixa kyoto kuokgroup kred krd kpn
kpmg kosher komatsu koeln kiwi kitchen kindle kinder kim kia kfh kerryproperties kerrylogistics
kerryhotels kddi kaufen juniper juegos jprs jpmorgan joy jot joburg jobs jnj jmp jll jlc jio
jewelry jetzt jeep jcp jcb java jaguar iwc iveco itv itau istanbul ist ismaili iselect irish
ipiranga investments intuit international intel int insure insurance institute ink ing info
infiniti industries inc immobilien immo imdb imamat ikano iinet ifm ieee icu ice icbc ibm
hyundai hyatt hughes htc hsbc how house hotmail hotels hoteles hot hosting host hospital horse
honeywell honda homesense homes homegoods homedepot holiday holdings hockey hkt hiv hitachi
hisamitsu hiphop hgtv hermes here helsinki help healthcare health hdfcbank hdfc hbo haus
hangout hamburg hair guru guitars guide guge gucci guardian group grocery gripe green gratis
graphics grainger gov got gop google goog goodyear goodhands goo golf goldpoint gold godaddy
gmx gmo gmbh gmail globo global gle glass glade giving gives gifts gift ggee george genting
gent gea gdn gbiz gay garden gap games game gallup gallo gallery gal fyi futbol furniture fund
fun fujixerox fujitsu ftr frontier frontdoor frogans frl fresenius free fox foundation forum
forsale forex ford football foodnetwork food foo fly flsmidth flowers florist flir flights
flickr fitness fit fishing fish firmdale firestone fire financial finance final film fido
fidelity fiat ferrero ferrari feedback fedex fast fashion farmers farm fans fan family faith
fairwinds fail fage extraspace express exposed expert exchange everbank events eus eurovision
etisalat esurance estate esq erni ericsson equipment epson epost enterprises engineering
engineer energy emerck email education edu edeka eco eat earth dvr dvag durban dupont duns
dunlop duck dubai dtv drive download dot doosan domains doha dog dodge doctor docs dnp diy dish
discover discount directory direct digital diet diamonds dhl dev design desi dentist dental
democrat delta deloitte dell delivery degree deals dealer deal dds dclk day datsun dating date
data dance dad dabur cyou cymru cuisinella csc cruises cruise crs crown cricket creditunion
creditcard credit cpa courses coupons coupon country corsica coop cool cookingchannel cooking
contractors contact consulting construction condos comsec computer compare company community
commbank comcast com cologne college coffee codes coach clubmed club cloud clothing clinique
clinic click cleaning claims cityeats city citic citi citadel cisco circle cipriani church
chrysler chrome christmas chloe chintai cheap chat chase charity channel chanel cfd cfa cern
ceo center ceb cbs cbre cbn cba catholic catering cat casino cash caseih case casa cartier cars
careers career care cards caravan car capitalone capital capetown canon cancerresearch camp
camera cam calvinklein call cal cafe cab bzh buzz buy business builders build bugatti budapest
brussels brother broker broadway bridgestone bradesco box boutique bot boston bostik bosch
boots booking book boo bond bom bofa boehringer boats bnpparibas bnl bmw bms blue bloomberg
blog blockbuster blanco blackfriday black biz bio bingo bing bike bid bible bharti bet bestbuy
best berlin bentley beer beauty beats bcn bcg bbva bbt bbc bayern bauhaus basketball baseball
bargains barefoot barclays barclaycard barcelona bar bank band bananarepublic banamex baidu
baby azure axa aws avianca autos auto author auspost audio audible audi auction attorney
athleta associates asia asda arte art arpa army archi aramco arab aquarelle apple app
apartments aol anz anquan android analytics amsterdam amica amfam amex americanfamily
americanexpress alstom alsace ally allstate allfinanz alipay alibaba alfaromeo akdn airtel
airforce airbus aigo aig agency agakhan africa afl afamilycompany aetna aero aeg adult ads adac
actor active aco accountants accountant accenture academy abudhabi abogado able abc abbvie
abbott abb abarth aarp aaa onion
""".split()
_CCTLDS = """
한국 香港 澳門 新加坡 台灣 台湾 中國 中国 გე ລາວ ไทย ලංකා ഭാരതം ಭಾರತ భారత్ சிங்கப்பூர் இலங்கை
இந்தியா ଭାରତ ભારત ਭਾਰਤ ভাৰত ভারত বাংলা भारोत भारतम् भारत ڀارت پاکستان موريتانيا مليسيا مصر قطر
فلسطين عمان عراق سورية سودان تونس بھارت بارت ایران امارات المغرب السعودية الجزائر البحرين
الاردن հայ қаз укр срб рф мон мкд ею бел бг ευ ελ zw zm za yt ye ws wf vu vn vi vg ve vc va uz
uy us um uk ug ua tz tw tv tt tr tp to tn tm tl tk tj th tg tf td tc sz sy sx sv su st ss sr so
sn sm sl sk sj si sh sg se sd sc sb sa rw ru rs ro re qa py pw pt ps pr pn pm pl pk ph pg pf pe
pa om nz nu nr np no nl ni ng nf ne nc na mz my mx mw mv mu mt ms mr mq mp mo mn mm ml mk mh mg
mf me md mc ma ly lv lu lt ls lr lk li lc lb la kz ky kw kr kp kn km ki kh kg ke jp jo jm je it
is ir iq io in im il ie id hu ht hr hn hm hk gy gw gu gt gs gr gq gp gn gm gl gi gh gg gf ge gd
gb ga fr fo fm fk fj fi eu et es er eh eg ee ec dz do dm dk dj de cz cy cx cw cv cu cr co cn cm
cl ck ci ch cg cf cd cc ca bz by bw bv bt bs br bq bo bn bm bl bj bi bh bg bf be bd bb ba az ax
aw au at as ar aq ao an am al ai ag af ae ad ac
""".split()
_TWEMOJI_SOURCE = (
    r"(?:\ud83d[\udc68\udc69])(?:\ud83c[\udffb-\udfff])?\u200d(?:\u2695\ufe0f|\u2696\ufe0f|\u2"
    r"708\ufe0f|\ud83c[\udf3e\udf73\udf93\udfa4\udfa8\udfeb\udfed]|\ud83d[\udcbb\udcbc\udd27\u"
    r"dd2c\ude80\ude92]|\ud83e[\uddb0-\uddb3])|(?:\ud83c[\udfcb\udfcc]|\ud83d[\udd74\udd75]|\u"
    r"26f9)((?:\ud83c[\udffb-\udfff]|\ufe0f)\u200d[\u2640\u2642]\ufe0f)|(?:\ud83c[\udfc3\udfc4"
    r"\udfca]|\ud83d[\udc6e\udc71\udc73\udc77\udc81\udc82\udc86\udc87\ude45-\ude47\ude4b\ude4d"
    r"\ude4e\udea3\udeb4-\udeb6]|\ud83e[\udd26\udd35\udd37-\udd39\udd3d\udd3e\uddb8\uddb9\uddd"
    r"6-\udddd])(?:\ud83c[\udffb-\udfff])?\u200d[\u2640\u2642]\ufe0f|(?:\ud83d\udc68\u200d\u27"
    r"64\ufe0f\u200d\ud83d\udc8b\u200d\ud83d\udc68|\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d"
    r"\udc66\u200d\ud83d\udc66|\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d\udc67\u200d\ud83d[\u"
    r"dc66\udc67]|\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\ud"
    r"c68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\u27"
    r"64\ufe0f\u200d\ud83d\udc8b\u200d\ud83d[\udc68\udc69]|\ud83d\udc69\u200d\ud83d\udc69\u200"
    r"d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\u"
    r"d83d[\udc66\udc67]|\ud83d\udc68\u200d\u2764\ufe0f\u200d\ud83d\udc68|\ud83d\udc68\u200d\u"
    r"d83d\udc66\u200d\ud83d\udc66|\ud83d\udc68\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|\u"
    r"d83d\udc68\u200d\ud83d\udc68\u200d\ud83d[\udc66\udc67]|\ud83d\udc68\u200d\ud83d\udc69\u2"
    r"00d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\u2764\ufe0f\u200d\ud83d[\udc68\udc69]|\ud83d"
    r"\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\u"
    r"dc66\udc67]|\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d[\udc66\udc67]|\ud83c\udff3\ufe0f"
    r"\u200d\ud83c\udf08|\ud83c\udff4\u200d\u2620\ufe0f|\ud83d\udc41\u200d\ud83d\udde8|\ud83d"
    r"\udc68\u200d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\ud83d[\udc66\udc67]|\ud83d\udc6f\u20"
    r"0d\u2640\ufe0f|\ud83d\udc6f\u200d\u2642\ufe0f|\ud83e\udd3c\u200d\u2640\ufe0f|\ud83e\udd3"
    r"c\u200d\u2642\ufe0f|\ud83e\uddde\u200d\u2640\ufe0f|\ud83e\uddde\u200d\u2642\ufe0f|\ud83e"
    r"\udddf\u200d\u2640\ufe0f|\ud83e\udddf\u200d\u2642\ufe0f)|[#*0-9]\ufe0f?\u20e3|(?:[\u00a9"
    r"\u00ae\u2122\u265f]\ufe0f)|(?:\ud83c[\udc04\udd70\udd71\udd7e\udd7f\ude02\ude1a\ude2f\ud"
    r"e37\udf21\udf24-\udf2c\udf36\udf7d\udf96\udf97\udf99-\udf9b\udf9e\udf9f\udfcd\udfce\udfd"
    r"4-\udfdf\udff3\udff5\udff7]|\ud83d[\udc3f\udc41\udcfd\udd49\udd4a\udd6f\udd70\udd73\udd7"
    r"6-\udd79\udd87\udd8a-\udd8d\udda5\udda8\uddb1\uddb2\uddbc\uddc2-\uddc4\uddd1-\uddd3\uddd"
    r"c-\uddde\udde1\udde3\udde8\uddef\uddf3\uddfa\udecb\udecd-\udecf\udee0-\udee5\udee9\udef0"
    r"\udef3]|[\u203c\u2049\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23ed-\u23e"
    r"f\u23f1\u23f2\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u2604\u260e"
    r"\u2611\u2614\u2615\u2618\u2620\u2622\u2623\u2626\u262a\u262e\u262f\u2638-\u263a\u2640\u2"
    r"642\u2648-\u2653\u2660\u2663\u2665\u2666\u2668\u267b\u267f\u2692-\u2697\u2699\u269b\u269"
    r"c\u26a0\u26a1\u26aa\u26ab\u26b0\u26b1\u26bd\u26be\u26c4\u26c5\u26c8\u26cf\u26d1\u26d3\u2"
    r"6d4\u26e9\u26ea\u26f0-\u26f5\u26f8\u26fa\u26fd\u2702\u2708\u2709\u270f\u2712\u2714\u2716"
    r"\u271d\u2721\u2733\u2734\u2744\u2747\u2757\u2763\u2764\u27a1\u2934\u2935\u2b05-\u2b07\u2"
    r"b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299])(?:\ufe0f|(?!\ufe0e))|(?:(?:\ud83c[\udfcb"
    r"\udfcc]|\ud83d[\udd74\udd75\udd90]|[\u261d\u26f7\u26f9\u270c\u270d])(?:\ufe0f|(?!\ufe0e)"
    r")|(?:\ud83c[\udf85\udfc2-\udfc4\udfc7\udfca]|\ud83d[\udc42\udc43\udc46-\udc50\udc66-\udc"
    r"69\udc6e\udc70-\udc78\udc7c\udc81-\udc83\udc85-\udc87\udcaa\udd7a\udd95\udd96\ude45-\ude"
    r"47\ude4b-\ude4f\udea3\udeb4-\udeb6\udec0\udecc]|\ud83e[\udd18-\udd1c\udd1e\udd1f\udd26\u"
    r"dd30-\udd39\udd3d\udd3e\uddb5\uddb6\uddb8\uddb9\uddd1-\udddd]|[\u270a\u270b]))(?:\ud83c["
    r"\udffb-\udfff])?|(?:\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc65\udb40\udc6e\udb40\u"
    r"dc67\udb40\udc7f|\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc73\udb40\udc63\udb40\udc7"
    r"4\udb40\udc7f|\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc77\udb40\udc6c\udb40\udc73\u"
    r"db40\udc7f|\ud83c\udde6\ud83c[\udde8-\uddec\uddee\uddf1\uddf2\uddf4\uddf6-\uddfa\uddfc\u"
    r"ddfd\uddff]|\ud83c\udde7\ud83c[\udde6\udde7\udde9-\uddef\uddf1-\uddf4\uddf6-\uddf9\uddfb"
    r"\uddfc\uddfe\uddff]|\ud83c\udde8\ud83c[\udde6\udde8\udde9\uddeb-\uddee\uddf0-\uddf5\uddf"
    r"7\uddfa-\uddff]|\ud83c\udde9\ud83c[\uddea\uddec\uddef\uddf0\uddf2\uddf4\uddff]|\ud83c\ud"
    r"dea\ud83c[\udde6\udde8\uddea\uddec\udded\uddf7-\uddfa]|\ud83c\uddeb\ud83c[\uddee-\uddf0"
    r"\uddf2\uddf4\uddf7]|\ud83c\uddec\ud83c[\udde6\udde7\udde9-\uddee\uddf1-\uddf3\uddf5-\udd"
    r"fa\uddfc\uddfe]|\ud83c\udded\ud83c[\uddf0\uddf2\uddf3\uddf7\uddf9\uddfa]|\ud83c\uddee\ud"
    r"83c[\udde8-\uddea\uddf1-\uddf4\uddf6-\uddf9]|\ud83c\uddef\ud83c[\uddea\uddf2\uddf4\uddf5"
    r"]|\ud83c\uddf0\ud83c[\uddea\uddec-\uddee\uddf2\uddf3\uddf5\uddf7\uddfc\uddfe\uddff]|\ud8"
    r"3c\uddf1\ud83c[\udde6-\udde8\uddee\uddf0\uddf7-\uddfb\uddfe]|\ud83c\uddf2\ud83c[\udde6\u"
    r"dde8-\udded\uddf0-\uddff]|\ud83c\uddf3\ud83c[\udde6\udde8\uddea-\uddec\uddee\uddf1\uddf4"
    r"\uddf5\uddf7\uddfa\uddff]|\ud83c\uddf4\ud83c\uddf2|\ud83c\uddf5\ud83c[\udde6\uddea-\udde"
    r"d\uddf0-\uddf3\uddf7-\uddf9\uddfc\uddfe]|\ud83c\uddf6\ud83c\udde6|\ud83c\uddf7\ud83c[\ud"
    r"dea\uddf4\uddf8\uddfa\uddfc]|\ud83c\uddf8\ud83c[\udde6-\uddea\uddec-\uddf4\uddf7-\uddf9"
    r"\uddfb\uddfd-\uddff]|\ud83c\uddf9\ud83c[\udde6\udde8\udde9\uddeb-\udded\uddef-\uddf4\udd"
    r"f7\uddf9\uddfb\uddfc\uddff]|\ud83c\uddfa\ud83c[\udde6\uddec\uddf2\uddf3\uddf8\uddfe\uddf"
    r"f]|\ud83c\uddfb\ud83c[\udde6\udde8\uddea\uddec\uddee\uddf3\uddfa]|\ud83c\uddfc\ud83c[\ud"
    r"deb\uddf8]|\ud83c\uddfd\ud83c\uddf0|\ud83c\uddfe\ud83c[\uddea\uddf9]|\ud83c\uddff\ud83c["
    r"\udde6\uddf2\uddfc]|\ud83c[\udccf\udd8e\udd91-\udd9a\udde6-\uddff\ude01\ude32-\ude36\ude"
    r"38-\ude3a\ude50\ude51\udf00-\udf20\udf2d-\udf35\udf37-\udf7c\udf7e-\udf84\udf86-\udf93\u"
    r"dfa0-\udfc1\udfc5\udfc6\udfc8\udfc9\udfcf-\udfd3\udfe0-\udff0\udff4\udff8-\udfff]|\ud83d"
    r"[\udc00-\udc3e\udc40\udc44\udc45\udc51-\udc65\udc6a-\udc6d\udc6f\udc79-\udc7b\udc7d-\udc"
    r"80\udc84\udc88-\udca9\udcab-\udcfc\udcff-\udd3d\udd4b-\udd4e\udd50-\udd67\udda4\uddfb-\u"
    r"de44\ude48-\ude4a\ude80-\udea2\udea4-\udeb3\udeb7-\udebf\udec1-\udec5\uded0-\uded2\udeeb"
    r"\udeec\udef4-\udef9]|\ud83e[\udd10-\udd17\udd1d\udd20-\udd25\udd27-\udd2f\udd3a\udd3c\ud"
    r"d40-\udd45\udd47-\udd70\udd73-\udd76\udd7a\udd7c-\udda2\uddb4\uddb7\uddc0-\uddc2\uddd0\u"
    r"ddde-\uddff]|[\u23e9-\u23ec\u23f0\u23f3\u267e\u26ce\u2705\u2728\u274c\u274e\u2753-\u2755"
    r"\u2795-\u2797\u27b0\u27bf\ue50a])|\ufe0f"
)
