"""Post lengths as each network counts them, pure: X's weighted length exactly as npm
twitter-text 3.1.0's ``parseTweet`` (v3 config), graphemes (Bluesky, Mastodon), Mastodon's own
length rule, and the links each of them counts as 23.

X: most Latin text weighs 1, CJK, Hangul syllables and other heavy code points 2, an emoji twemoji
knows 2 however many code points it has, and every link 23 whatever its length. A link is what
twitter-text links: a URL with ``http(s)://`` whose domain ends in one of its top-level domains
(``example.com``, ``d.рф``, not ``192.168.1.1``), or the ASCII part of a bare domain
(``bit.ly``, ``google.fr``, ``amazon.de/x``), but not right after "-", "_", "." or "/"; an
underscore may stand in a subdomain, never in the name before the top-level domain. ``\r\n``
weighs 2, and U+FEFF, U+FFFE and U+FFFF make X refuse the post (``x_refused_characters``).

Truth comes from outside: ``scripts/conformance-lane.sh`` installs npm twitter-text 3.1.0 and
compares ``weighted_length`` and validity with ``parseTweet`` on 12,000 generated texts (0
disagreements), and the data in ``bot.decide.twitter_data`` (twitter-text's top-level domains,
twemoji-parser 11.0.2's emoji regex) with the packages'. Emoji newer than twemoji-parser 11
(Unicode 13 on: 🫶🏽, 🐦‍🔥) therefore count as twitter-text counts them, 4 to 8, where X's
site may count 2: the preview may call a reply a few characters longer than X will, never
shorter. Mastodon's length follows Mastodon's own server code (``mastodon_length``).
"""

from __future__ import annotations

import re
import stringprep
import unicodedata
from functools import cache
from typing import Any

import regex

from bot.decide.twitter_data import _CCTLDS, _GTLDS, _TWEMOJI_SOURCE

X_LIMIT = 280
URL_WEIGHT = 23

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
