"""Learn playbooks from past mention → reply pairs: cluster the replies a brand keeps sending.

Per brand, each reply is normalised (the customer's leading @handles and the agent's signature
go, a greeting name becomes ``{customer}``), near-duplicates are grouped by greedy leader
clustering (rapidfuzz ``ratio`` against the leaders, in C), and every group with at least
``min_cluster`` replies becomes a template: the group's medoid, with the spans that vary across
the group turned into fill-in slots (``{reference?}``, ``{time?}``, ``{date?}``, ``{detail?}``),
a help link that recurs in the group kept as ``{link}``, the mentions it answered as
examples and triggers, and the group's size as ``uses`` (how often the brand sent it: the
suggester's popularity prior).

Pure apart from ``write_playbooks``: no network, deterministic (same pairs, same templates).
"""

from __future__ import annotations

import difflib
import html
import json
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from bot.decide import lengths
from bot.decide.playbooks import Template, parse_playbook, worst_case_length
from bot.decide.triage import detect_language
from bot.models import Mention
from bot.problems import Problem
from bot.sources.jsonl import BadLine, json_lines, mention_from_dict

DEFAULT_MIN_CLUSTER = 2
DEFAULT_SIMILARITY = 80.0  # rapidfuzz ratio (0-100) between a reply and its cluster's leader
SCORER = fuzz.ratio  # how alike two normalised replies are (0-100); token order matters
MAX_EXAMPLES = 8
MAX_TRIGGERS = 5
MAX_EXAMPLE_CHARS = 280
MAX_SLOTTED = 0.34  # at most this share of a template's words may be fill-in slots
MEDOID_SAMPLE = 300  # members looked at to pick a medoid and find varying spans
CHUNK = 256  # replies scored against the cluster leaders in one call
PROGRESS_EVERY = 500  # pairs between two progress calls

_HANDLES = re.compile(r"^(?:[.]?@\w+[\s,:]*)+")
_ANY_HANDLE = re.compile(r"(?<!\w)[.]?@\w+")
_URL = re.compile(r"https?://[^\s<>\"]+?(?=[.,;:!?)\]\"'’]*(?:\s|$))", re.IGNORECASE)
_TRAILING_URLS = re.compile(r"(?:\s+https?://\S+)+\s*$", re.IGNORECASE)
_CONTINUED = re.compile(r"\s*(?:>{2,}|»)\s*$")  # "… more in the next tweet >>"
_PAGE = re.compile(r"\s*[(\[]?\b(?P<page>[1-9])/(?P<of>[1-9])[)\]]?\s*$")  # 1/2, (2/3)
_SIGNATURE = re.compile(
    r"\s*(?:[\^*~]\s?[A-Za-z][\w.'’-]{0,24}"  # ^JK  *TRR  ~Sam  ^ab
    r"|(?:(?<=[\s.!?,;:)])|^)[-–—/]\s?[A-Z][A-Za-z'’-]{0,24}(?:\s[A-Z]\.?)?)"  # -Becky / AB
    r"\s*[.]?\s*$"
)
_GREETING = re.compile(
    r"^(?P<hello>(?:hi|hey|hello|hiya|heya|howdy|dear|good (?:morning|afternoon|evening)))"
    r"(?P<comma>,?)\s+(?P<name>@\w+|[A-Z][^\W\d_]*(?:['’-][^\W\d_]+)?)(?P<end>\s*[,!.:;]|\s*$)",
    re.IGNORECASE,
)
_GREETINGS = frozenset("hi hey hello hiya heya howdy dear hola bonjour hallo ciao ola olá".split())
_GREETING_LEAD = re.compile(
    rf"^(?:(?:{'|'.join(sorted(_GREETINGS))}|good \w+),?)?\s*\{{customer\}}[,!.:;]?\s*", re.I
)
_NOT_NAMES = frozenset(
    "there all again everyone everybody folks friend friends team guys y'all you".split()
)
_SPACE = re.compile(r"\s+")
_PUNCT = "\"'’‘“”()[]<>.,;:!?#*-–—/&…"
_DIGITS = re.compile(r"\d+")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\??\}")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?")
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s?(?:[ap]\.?m\.?)(?!\w)|^[ap]\.?m\.?$", re.I)
_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b"
    r"|\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)\b|\b\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_STOPWORDS = frozenset(
    (
        "a an the and or but if to of in on at for from by with is are was were be been am i me "
        "my we our you your it its this that these those so do does did have has had can could "
        "will would just get got im i'm there their they them he she his her as up out about "
        "what when where why how who which all any some than then too very not no dont don't "
        "cant can't it's its ive i've u ur us pls please hi hey hello thanks thank amp rt via "
        "also still now one"
    ).split()
)
_ID_STOPWORDS = _STOPWORDS | frozenset(
    "customer link reference detail time date url sorry we're we'll we'd let know here "
    "happy help".split()
)


@dataclass(frozen=True, slots=True)
class Pair:
    """A past mention and the brand's reply to it."""

    mention: Mention
    reply_text: str
    replied_at: datetime | None
    agent: str | None


@dataclass(frozen=True, slots=True)
class Learned:
    """What learning found: templates per brand and how much evidence each one has."""

    by_brand: dict[str, list[Template]]
    support: dict[str, dict[str, int]]  # brand -> template id -> replies in its cluster
    answered: dict[str, list[tuple[str, str]]]  # brand -> (template id, mention text) learned
    pairs: int  # pairs used (with a brand and a non-empty reply)
    clusters: int  # clusters with at least min_cluster replies
    dropped: int  # clusters that made no valid template (too long for X, mostly slots)
    trimmed: int  # templates shortened (trailing sentences cut) to fit X's limit


# ---- reading --------------------------------------------------------------------------------


def read_pairs(
    lines: Iterable[str], *, source: str = "<pairs>"
) -> tuple[list[Pair], list[Problem]]:
    """``{"mention": {...}, "reply": {"text", "created_at", "agent"}}`` per line.

    Bad lines become problems with their line number and a fix; the good ones are kept.
    """
    pairs: list[Pair] = []
    problems: list[Problem] = []
    for item in json_lines(lines):
        if isinstance(item, BadLine):
            fix = "write one JSON object per line"
            problems.append(Problem(source, "", item.message, fix, item.number))
            continue
        number, data = item
        try:
            pairs.append(_pair(data))
        except _BadPair as exc:
            problems.append(Problem(source, exc.where, exc.message, _PAIR_FIX, number))
    return pairs, problems


_PAIR_FIX = 'write {"mention": {"id": "…", "text": "…", …}, "reply": {"text": "…"}}'


class _BadPair(ValueError):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where, self.message = where, message


def _pair(data: Any) -> Pair:
    if not isinstance(data, dict):
        raise _BadPair("", f"expected a JSON object, got {type(data).__name__}")
    try:
        mention = mention_from_dict(data.get("mention"))
    except ValueError as exc:
        raise _BadPair("mention", str(exc)) from None
    reply = data.get("reply")
    if not isinstance(reply, dict):
        raise _BadPair("reply", '"reply" must be an object with a "text"')
    text = reply.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _BadPair("reply.text", '"reply.text" is missing or empty')
    agent = reply.get("agent")
    if agent is not None and not isinstance(agent, str):
        raise _BadPair("reply.agent", f'"agent" must be a string, got {type(agent).__name__}')
    return Pair(mention, text, _moment(reply.get("created_at")), agent or None)


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _BadPair("reply.created_at", f"not an ISO-8601 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---- normalising ----------------------------------------------------------------------------


def normalise_reply(text: str, *, agent: str | None = None, customer: str = "") -> str:
    """The reply as a template would say it: no leading @handles, no signature, one space.

    A greeting name ("Hi Sarah," "Hey @sam!") and the customer's first name, when known, become
    ``{customer}``. Links stay. Braces become parentheses so the text is a safe template.
    """
    text = html.unescape(text).replace("{", "(").replace("}", ")")
    text = _SPACE.sub(" ", _HANDLES.sub("", text.strip())).strip()
    text = strip_signature(text, agent=agent)
    if customer.strip():
        text = re.sub(rf"(?<!\w){re.escape(customer.strip())}(?!\w)", "{customer}", text)
    return _greeting(text)


def strip_signature(text: str, *, agent: str | None = None) -> str:
    """Drop the agent's sign-off (``^JK``, ``-Becky``, ``*TRR``, ``/AB``, ``~Sam``, ``^JK 1/2``).

    Trailing links after a signature ("… /AB https://t.co/x") are kept, after the text.
    """
    links = _TRAILING_URLS.search(text)
    tail = links.group(0).strip() if links else ""
    body = text[: links.start()] if links else text
    hint = _agent_pattern(agent)
    while True:
        before = body
        body = _CONTINUED.sub("", _PAGE.sub(_no_page, body))
        body = _SIGNATURE.sub("", body)
        if hint is not None:
            body = hint.sub("", body)
        body = body.rstrip()
        if body == before:
            break
    return f"{body} {tail}".strip() if body else tail


def _no_page(found: re.Match[str]) -> str:
    return "" if found.group("page") <= found.group("of") else found.group(0)


def _agent_pattern(agent: str | None) -> re.Pattern[str] | None:
    name = (agent or "").strip()
    if not name or not _WORD.fullmatch(name):
        return None
    return re.compile(rf"(?:\s*[-–—/^*~]\s*|\s+){re.escape(name)}\.?\s*$", re.IGNORECASE)


def _greeting(text: str) -> str:
    found = _GREETING.match(text)
    if not found or found.group("name").casefold() in _NOT_NAMES:
        return text
    hello, comma, end = found.group("hello", "comma", "end")
    return f"{hello}{comma} {{customer}}{end}{text[found.end() :]}"


def mention_text(text: str) -> str:
    """A mention as an example: no handles, no links, one space between words."""
    text = _URL.sub(" ", _ANY_HANDLE.sub(" ", html.unescape(text)))
    return _SPACE.sub(" ", text).strip()


def links(text: str) -> list[str]:
    """Web addresses in ``text``, trailing punctuation left out (t.co links stay opaque)."""
    return _URL.findall(text)


def comparable(text: str) -> str:
    """Text for likeness: lowercase, placeholders, slots and links as marks, digits as 0."""
    text = _PLACEHOLDER.sub(lambda m: "" if m.group(0).endswith("?}") else m.group(0), text)
    text = _DIGITS.sub("0", _URL.sub("<url>", text.casefold()))
    return _SPACE.sub(" ", text).strip()


# ---- learning -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Reply:
    index: int  # position in the brand's pairs
    text: str  # normalised
    key: str  # comparable(text)
    urls: tuple[str, ...]


@dataclass(slots=True)
class _Cluster:
    members: list[_Reply] = field(default_factory=list)


def learn_playbooks(
    pairs: Sequence[Pair],
    *,
    min_cluster: int = DEFAULT_MIN_CLUSTER,
    similarity: float = DEFAULT_SIMILARITY,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[Template]]:
    """Templates per brand, learned from the replies each brand sent more than once."""
    found = learn(pairs, min_cluster=min_cluster, similarity=similarity, progress=progress)
    return found.by_brand


def learn(
    pairs: Sequence[Pair],
    *,
    min_cluster: int = DEFAULT_MIN_CLUSTER,
    similarity: float = DEFAULT_SIMILARITY,
    progress: Callable[[int, int], None] | None = None,
) -> Learned:
    """Like ``learn_playbooks``, with each template's support and counts of what was dropped."""
    by_brand: dict[str, list[Pair]] = {}
    for pair in pairs:
        if pair.mention.brand and pair.reply_text.strip():
            by_brand.setdefault(pair.mention.brand, []).append(pair)
    tick = _Ticker(progress, sum(len(group) for group in by_brand.values()))
    result = Learned({}, {}, {}, tick.total, 0, 0, 0)
    counts = Counter[str]()
    for brand in sorted(by_brand):
        group = by_brand[brand]
        replies = _replies(group)
        known = Counter(u for r in replies for u in set(r.urls))  # links the brand reuses
        clusters = _clusters(replies, similarity=similarity, tick=tick)
        big = [c for c in clusters if len(c.members) >= min_cluster]
        counts["clusters"] += len(big)
        made = [(_template(c, group, brand=brand, known=known, counts=counts), c) for c in big]
        kept = _unique_ids([(t, c) for t, c in made if t])
        if kept:
            result.by_brand[brand] = [t for t, _ in kept]
            result.support[brand] = {t.id: t.uses for t, _ in kept}
            result.answered[brand] = [
                (t.id, group[m.index].mention.text) for t, c in kept for m in c.members
            ]
    tick.done()
    return replace(
        result, clusters=counts["clusters"], dropped=counts["dropped"], trimmed=counts["trimmed"]
    )


class _Ticker:
    def __init__(self, progress: Callable[[int, int], None] | None, total: int) -> None:
        self.progress, self.total, self.count, self.last = progress, total, 0, 0

    def add(self, n: int) -> None:
        self.count += n
        if self.progress is not None and self.count - self.last >= PROGRESS_EVERY:
            self.last = self.count
            self.progress(self.count, self.total)

    def done(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


def _replies(group: Sequence[Pair]) -> list[_Reply]:
    replies = []
    for index, pair in enumerate(group):
        first = pair.mention.author.name.split()[0] if pair.mention.author.name.strip() else ""
        text = normalise_reply(pair.reply_text, agent=pair.agent, customer=first)
        if text:
            replies.append(_Reply(index, text, comparable(text), tuple(links(text))))
    return replies


def _clusters(replies: Sequence[_Reply], *, similarity: float, tick: _Ticker) -> list[_Cluster]:
    """Greedy leader clustering: most repeated replies lead; each reply joins its best leader.

    Replies are taken in chunks: a chunk is scored against the leaders so far in one ``cdist``
    call (all cores), then each reply also against the leaders its own chunk made, in order, so
    the result is the one-at-a-time greedy result (ties go to the older leader).
    """
    by_key: dict[str, list[_Reply]] = {}
    for reply in replies:
        by_key.setdefault(reply.key, []).append(reply)
    order = sorted(by_key, key=lambda k: (-len(by_key[k]), k))
    leaders: list[str] = []
    clusters: list[_Cluster] = []
    for start in range(0, len(order), CHUNK):
        chunk = order[start : start + CHUNK]
        first_new = len(leaders)
        for key, old in zip(chunk, _best_leaders(chunk, leaders, similarity), strict=True):
            new = process.extractOne(
                key, leaders[first_new:], scorer=SCORER, processor=None, score_cutoff=similarity
            )
            best = (
                old if new is None or (old and old[1] >= new[1]) else (first_new + new[2], new[1])
            )
            if best is None:
                leaders.append(key)
                clusters.append(_Cluster())
            clusters[len(clusters) - 1 if best is None else best[0]].members.extend(by_key[key])
            tick.add(len(by_key[key]))
    for cluster in clusters:
        cluster.members.sort(key=lambda r: r.index)
    return clusters


def _best_leaders(
    keys: Sequence[str], leaders: Sequence[str], similarity: float
) -> list[tuple[int, float] | None]:
    """For each key, (index, score) of its most similar leader at or above ``similarity``."""
    if not leaders:
        return [None] * len(keys)
    scores = process.cdist(
        keys, leaders, scorer=SCORER, processor=None, score_cutoff=similarity, workers=-1
    )
    best = scores.argmax(axis=1)  # the first of equal scores: the oldest leader
    return [
        (int(j), float(scores[i, j])) if scores[i, j] >= similarity and scores[i, j] > 0 else None
        for i, j in enumerate(best)
    ]


def _unique_ids(made: Sequence[tuple[Template, _Cluster]]) -> list[tuple[Template, _Cluster]]:
    """Most used first; ids start with the brand (ids are unique across every playbook file,
    and several brands learn the same "thanks" reply); a repeated id gets -2, -3 in order."""
    ranked = sorted(made, key=lambda tc: (-len(tc[1].members), tc[0].id))
    used: set[str] = set()
    return [(replace(t, id=_unique_id(_branded(t), used)), c) for t, c in ranked]


def _branded(template: Template) -> str:
    brand = _file_slug(template.brands[0]) if template.brands else ""
    return f"{brand}-{template.id}"[:58].strip("-") if brand else template.id


def _template(
    cluster: _Cluster,
    group: Sequence[Pair],
    *,
    brand: str,
    known: Counter[str],
    counts: Counter[str],
) -> Template | None:
    members = cluster.members
    sample = members[:MEDOID_SAMPLE]
    closeness = _closeness(sample)
    medoid = sample[max(range(len(sample)), key=lambda i: (closeness[i], -i))]
    text, link = _slotted(medoid, sample, known=known)
    if text is None:
        counts["dropped"] += 1
        return None
    nearest = [m for _, m in sorted(zip(closeness, sample, strict=True), key=_nearest_first)]
    mentions = [group[m.index].mention for m in nearest]
    examples = _examples(mentions)
    template = Template(
        id="-".join(_slug_words(medoid.text, members)) or "reply",
        title=_title(text),
        text=text,
        triggers=tuple(_triggers([mention_text(m.text) for m in mentions], examples)),
        lang=_language(mentions),
        tags=("learned",),
        examples=tuple(examples),
        brands=(brand,),
        link=link,
        uses=len(members),
    )
    fitted = _fit(template, brand=brand, counts=counts)
    if fitted is None or _problems(fitted, brand=brand):
        counts["dropped"] += 1
        return None
    return fitted


def _nearest_first(item: tuple[float, _Reply]) -> tuple[float, int]:
    return (-item[0], item[1].index)


def _closeness(sample: Sequence[_Reply]) -> list[float]:
    """Each member's summed likeness to the others (the medoid has the most)."""
    keys = [m.key for m in sample]
    return [
        sum(score for _, score, j in process.extract(k, keys, scorer=SCORER, limit=None) if j != i)
        for i, k in enumerate(keys)
    ]


# ---- slots ----------------------------------------------------------------------------------


def _slotted(
    medoid: _Reply, members: Sequence[_Reply], *, known: Counter[str]
) -> tuple[str | None, str]:
    """The medoid's text with varying spans as slots and a recurring link as ``{link}``."""
    tokens = medoid.text.split(" ")
    varies = _variation(tokens, [m.text.split(" ") for m in members if m is not medoid])
    here = Counter(u for m in members for u in set(m.urls))
    recurring = here + Counter({u: n for u, n in known.items() if n >= 2})
    link = _link(tokens, here, recurring)
    once = [(i, i + 1, "url") for i, t in enumerate(tokens) if _one_off(t, recurring)]
    runs = sorted(_runs(tokens, varies, size=len(members)) + once)
    words = sum(1 for t in tokens if _WORD.search(t))
    kept = [r for r in runs if r[2] != "detail"]
    for candidate in (runs, kept):
        slotted = sum(end - start for start, end, _ in candidate)
        if slotted <= MAX_SLOTTED * max(words, 1):
            return _compose(tokens, candidate, link=link), link
    return None, ""


def _link(tokens: list[str], here: Counter[str], recurring: Counter[str]) -> str:
    """The help link: the medoid's first link the group or brand reuses, else the group's most
    reused link put in place of the medoid's own (``tokens`` is changed then)."""
    for token in tokens:
        for url in _URL.findall(token):
            if recurring[url] >= 2:
                return str(url)
    shared = sorted((u for u, n in here.items() if n >= 2), key=lambda u: (-here[u], u))
    for i, token in enumerate(tokens):
        if shared and (found := _URL.search(token)):
            tokens[i] = token[: found.start()] + shared[0] + token[found.end() :]
            return shared[0]
    return ""


def _one_off(token: str, recurring: Counter[str]) -> bool:
    """A link no other reply has (a tweet's own t.co link): the agent supplies one."""
    return any(recurring[u] < 2 for u in _URL.findall(token))


def _variation(tokens: Sequence[str], others: Sequence[Sequence[str]]) -> list[int]:
    """For each medoid token, in how many other members it is replaced or missing."""
    varies = [0] * len(tokens)
    low = [t.casefold() for t in tokens]
    for other in others:
        matcher = difflib.SequenceMatcher(None, low, [t.casefold() for t in other], autojunk=False)
        for op, i1, i2, _j1, _j2 in matcher.get_opcodes():
            if op in ("replace", "delete"):
                for i in range(i1, i2):
                    varies[i] += 1
    return varies


def _runs(tokens: Sequence[str], varies: Sequence[int], *, size: int) -> list[tuple[int, int, str]]:
    """(start, end, kind) of token runs that vary in enough members to become a slot."""
    runs: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        if not _slottable(tokens[i], varies[i], size):
            i += 1
            continue
        j = i
        while j < len(tokens) and _slottable(tokens[j], varies[j], size):
            j += 1
        kind = _kind(" ".join(tokens[i:j]))
        if kind == "detail" and j - i == 1 and _vocative(tokens, i):
            kind = "customer"  # "Hi Sarah," "Sorry, Sam!": the name varies from reply to reply
        most = min(varies[i:j]) * 2 > size >= 3  # a word varying in half the replies is no slot
        if j - i <= 3 and (kind != "detail" or (most and _phrase(tokens[i:j]))):
            runs.append((i, j, kind))
        i = j
    return runs


def _phrase(tokens: Sequence[str]) -> bool:
    """One or two words inside one phrase: a short detail, not a run across a sentence."""
    return len(tokens) <= 2 and not any(t[-1:] in ",.!?;:" for t in tokens[:-1])


def _vocative(tokens: Sequence[str], i: int) -> bool:
    """A capitalised word after a greeting or a comma, ending a phrase: someone's name."""
    word = tokens[i].strip(_PUNCT)
    after_greeting = i == 1 and tokens[0].strip(_PUNCT).casefold() in _GREETINGS
    after_comma = i > 0 and tokens[i - 1].endswith(",")
    ends = tokens[i][-1:] in (",", ".", "!", "?", ";", ":") or i == len(tokens) - 1
    return word[:1].isupper() and (after_greeting or after_comma) and ends


def _slottable(token: str, varied: int, size: int) -> bool:
    fixed = "{" in token or _URL.search(token) or not _WORD.search(token)
    return varied * 2 >= size and not fixed


def _kind(span: str) -> str:
    if _TIME.search(span):
        return "time"
    if _DATE.search(span):
        return "date"
    if any(c.isdigit() for c in span):
        return "reference"
    return "detail"


def _compose(tokens: Sequence[str], runs: Sequence[tuple[int, int, str]], *, link: str) -> str:
    out = [_link_token(t, link) for t in tokens]
    seen = Counter[str]()
    named: dict[tuple[int, int], str] = {}
    for start, end, kind in sorted(runs):
        if kind == "customer":
            named[(start, end)] = kind
            continue
        seen[kind] += 1
        named[(start, end)] = kind if seen[kind] == 1 else f"{kind}_{seen[kind]}"
    for (start, end), name in sorted(named.items(), reverse=True):
        if name == "customer":
            out[start:end] = [f"{_lead(tokens[start])}{{customer}}{_trail(tokens[start])}"]
            continue
        if name.startswith("url"):
            found = _URL.search(tokens[start])
            assert found is not None
            lead, trail = tokens[start][: found.start()], tokens[start][found.end() :]
        else:
            lead, trail = _lead(tokens[start]), _trail(tokens[end - 1])
        out[start:end] = [f"{lead}{{{name}?}}{trail}"]
    return " ".join(out)


def _link_token(token: str, link: str) -> str:
    if link and link in _URL.findall(token):
        return token.replace(link, "{link}", 1)
    return token


def _lead(token: str) -> str:
    return token[: len(token) - len(token.lstrip(_PUNCT))]


def _trail(token: str) -> str:
    return token[len(token.rstrip(_PUNCT)) :]


# ---- examples, triggers, language, names ------------------------------------------------------


def _examples(mentions: Sequence[Mention]) -> list[str]:
    """The mentions nearest the template first, cleaned, shortened, without repeats."""
    seen: set[str] = set()
    examples: list[str] = []
    for mention in mentions:
        text = _shorten(mention_text(mention.text), MAX_EXAMPLE_CHARS)
        if _content_words(text) and text.casefold() not in seen:
            seen.add(text.casefold())
            examples.append(text)
        if len(examples) == MAX_EXAMPLES:
            break
    return examples


def _triggers(texts: Sequence[str], examples: Sequence[str]) -> list[str]:
    """Word pairs and triples the mentions share most; then the examples' first words."""
    found = Counter[str]()
    for text in texts:
        words = _content_words(text)
        grams = {" ".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1)}
        found.update(grams)
    common = sorted(
        (g for g, n in found.items() if n >= 2), key=lambda g: (-found[g], -len(g.split()), g)
    )
    triggers: list[str] = []
    for gram in common:
        if not any(gram in chosen for chosen in triggers):
            triggers.append(gram)
    for text in examples:
        short = " ".join(_content_words(text)[:8])
        if short and short not in triggers:
            triggers.append(short)
    return triggers[:MAX_TRIGGERS]


def _content_words(text: str) -> list[str]:
    words = (w.casefold() for w in _WORD.findall(text))
    return [w for w in words if w not in _STOPWORDS and not w.isdigit()]


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _language(mentions: Sequence[Mention]) -> str:
    """The language most of the answered mentions are in ("" when nothing tells)."""
    votes = Counter(detect_language(m.text) for m in mentions[:MEDOID_SAMPLE])
    votes.pop("und", None)
    if not votes:
        return ""
    return min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _slug_words(medoid: str, members: Sequence[_Reply]) -> list[str]:
    """Up to three words most of the group's replies use, in the medoid's order."""
    df = Counter[str]()
    for member in members[:MEDOID_SAMPLE]:
        df.update({_ascii(w) for w in _WORD.findall(_URL.sub(" ", member.text).casefold())})
    medoid = _URL.sub(" ", medoid)
    order = {
        w: i
        for i, w in reversed(list(enumerate(_ascii(w) for w in _WORD.findall(medoid.casefold()))))
    }
    words = [w for w in order if w and w not in _ID_STOPWORDS and not w.isdigit() and len(w) > 1]
    words = words or [w for w in order if w and not w.isdigit()]
    best = sorted(words, key=lambda w: (-df[w], order[w]))[:3]
    return sorted(best, key=lambda w: order[w])


def _ascii(word: str) -> str:
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())[:18]  # three words and "-99" fit an id


def _unique_id(base: str, used: set[str]) -> str:
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate


def _title(text: str) -> str:
    """A short label: the template's opening words, greeting and placeholders left out."""
    plain = _PLACEHOLDER.sub("…", _GREETING_LEAD.sub("", text))
    plain = _SPACE.sub(" ", plain).strip(" ,.!") or text
    return _shorten(plain[:1].upper() + plain[1:], 48)


# ---- checking ---------------------------------------------------------------------------------


def _fit(template: Template, *, brand: str, counts: Counter[str]) -> Template | None:
    """The template, its trailing sentences cut until it fits X's limit; None if it never does."""
    if worst_case_length(template, brand=brand) <= lengths.X_LIMIT:
        return template
    sentences = _SENTENCE_END.split(template.text)
    while len(sentences) > 1:
        sentences.pop()
        text = " ".join(sentences)
        link = template.link if "{link}" in text else ""
        shorter = replace(template, text=text, link=link)
        if worst_case_length(shorter, brand=brand) <= lengths.X_LIMIT:
            counts["trimmed"] += 1
            return shorter
    return None


def _problems(template: Template, *, brand: str) -> list[Problem]:
    _templates, problems = parse_playbook(
        playbook_toml([template]), source="<learned>", brand=brand
    )
    return problems


# ---- writing ----------------------------------------------------------------------------------


def write_playbooks(
    by_brand: Mapping[str, Sequence[Template]],
    out: Path,
    *,
    pairs: int | None = None,
    learned_on: datetime | None = None,
) -> list[Path]:
    """One ``<brand>.toml`` per brand in ``out``; the paths written, in brand order.

    The header says the file was learned, from how many pairs (``pairs``: all brands together)
    and on which day (``learned_on``, default today; the same pairs on the same day give the
    same bytes).
    """
    out.mkdir(parents=True, exist_ok=True)
    day = (learned_on or datetime.now(UTC)).date().isoformat()
    source = f"{pairs:,} mention → reply pairs" if pairs is not None else "past replies"
    written: list[Path] = []
    names: set[str] = set()
    for brand in sorted(by_brand):
        templates = by_brand[brand]
        if not templates:
            continue
        name = _unique_id(_file_slug(brand), names)
        header = (
            f"Reply templates for {brand}, learned by earshot from {source} on {day}.\n"
            f"{len(templates)} template(s), most used first. Review them before use:\n"
            "fill-in slots such as {reference?} mark what varied between the replies."
        )
        path = out / f"{name}.toml"
        path.write_text(playbook_toml(templates, header=header), encoding="utf-8")
        written.append(path)
    return written


def _file_slug(brand: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", _fold(brand))) or "brand"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def playbook_toml(templates: Iterable[Template], *, header: str = "") -> str:
    """Playbook file text for ``templates`` (what ``parse_playbook`` reads back)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for template in templates:
        lines += ["", "[[template]]"]
        lines += [f"{key} = {value}" for key, value in _fields(template)]
    text = "\n".join(lines).lstrip("\n") + "\n"
    tomllib.loads(text)  # a bug here must never write a file that does not load
    return text


def _fields(template: Template) -> list[tuple[str, str]]:
    values: list[tuple[str, int | str | Sequence[str]]] = [
        ("id", template.id),
        ("title", template.title),
        ("lang", template.lang),
        ("brands", template.brands),
        ("teams", template.teams),
        ("triggers", template.triggers),
        ("examples", template.examples),
        ("text", template.text),
        ("link", template.link),
        ("tags", template.tags),
        ("uses", template.uses),
    ]
    return [(key, _toml(value)) for key, value in values if value]


def _toml(value: int | str | Sequence[str]) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if len(value) <= 1:
        return "[" + ", ".join(_toml_string(v) for v in value) + "]"
    return "[\n" + "".join(f"  {_toml_string(v)},\n" for v in value) + "]"


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, except DEL, which TOML wants escaped)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
