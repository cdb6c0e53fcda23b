"""The brand's voice: each network's rules for a reply (``Medium``), signatures, numbered threads,
and the checks before a reply goes public. Pure functions, no I/O. Lengths are counted as each
network counts them (``bot.decide.lengths``). A long reply becomes a numbered thread: "… 1/2",
then "… ^JK 2/2".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.decide.lengths import (
    _EMOJI,
    X_LIMIT,
    _link_spans,
    _normalise,
    grapheme_count,
    mastodon_length,
    weighted_length,
    x_refused_characters,
)
from bot.models import Mention

MAX_PARTS = 9

SIGNATURE_FORMATS = ("^{initials}", "-{first_name}", "*{initials}", "/{initials}", "")

_UNFILLED = re.compile(r"\{[a-z_]+\??\}")


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
