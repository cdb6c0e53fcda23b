"""Distil playbooks from past mention → reply pairs: cluster the replies a brand keeps sending.

Per brand, each reply is normalised (the customer's leading @handles and the agent's signature
go, a greeting name becomes ``{customer}``), near-duplicates are grouped by greedy leader
clustering (rapidfuzz ``ratio`` against the leaders, in C), and every group with at least
``min_cluster`` replies becomes a template: the group's medoid, with the spans that vary across
the group turned into fill-in slots (``{reference?}``, ``{time?}``, ``{date?}``, ``{detail?}``),
a help link that recurs in the group kept as ``{link}``, the mentions it answered as
examples and triggers, and the group's size as ``uses`` (how often the brand sent it: the
suggester's popularity prior).

Pure: no I/O, deterministic (same pairs, same templates). Reading the pairs and writing the
playbook files is ``bot.cli.learn``'s job.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from rapidfuzz import fuzz, process

from bot.decide import lengths
from bot.decide.playbooks import (
    Template,
    file_slug,
    parse_playbook,
    playbook_toml,
    worst_case_length,
)
from bot.decide.reply_text import (
    GREETINGS,
    PLACEHOLDER,
    SPACE,
    STOPWORDS,
    URL,
    WORD,
    comparable,
    links,
    mention_text,
    normalise_reply,
)
from bot.decide.triage import detect_language
from bot.models import Mention
from bot.problems import Problem

DEFAULT_MIN_CLUSTER = 2
DEFAULT_SIMILARITY = 80.0  # rapidfuzz ratio (0-100) between a reply and its cluster's leader
SCORER = fuzz.ratio  # how alike two normalised replies are (0-100); token order matters
MAX_EXAMPLES = 50  # case-based memory: the posts a template answered, nearest first
MAX_TRIGGERS = 5
MAX_EXAMPLE_CHARS = 280
MAX_SLOTTED = 0.34  # at most this share of a template's words may be fill-in slots
MEDOID_SAMPLE = 300  # members looked at to pick a medoid and find varying spans
CHUNK = 256  # replies scored against the cluster leaders in one call
PROGRESS_EVERY = 500  # pairs between two progress calls
_GREETING_LEAD = re.compile(
    rf"^(?:(?:{'|'.join(sorted(GREETINGS))}|good \w+),?)?\s*\{{customer\}}[,!.:;]?\s*", re.I
)
_PUNCT = "\"'’‘“”()[]<>.,;:!?#*-–—/&…"
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s?(?:[ap]\.?m\.?)(?!\w)|^[ap]\.?m\.?$", re.I)
_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b"
    r"|\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)\b|\b\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_ID_STOPWORDS = STOPWORDS | frozenset(
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
        kept_groups = _groups(replies, known, similarity=similarity, min_cluster=min_cluster)
        tick.add(len(replies))
        counts["clusters"] += len(kept_groups)
        made = [
            (_template(c, group, brand=brand, known=known, counts=counts, keep=keep), c)
            for c, keep in kept_groups
        ]
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


def _groups(
    replies: Sequence[_Reply], known: Counter[str], *, similarity: float, min_cluster: int
) -> list[tuple[_Cluster, frozenset[str]]]:
    """The brand's replies grouped by what is reusable in them, with the links each group keeps.

    In care history the reusable part is often the help link, not the wording: replies that
    send the same article are phrased many ways, and replies with different articles look
    alike. So a link the brand sent more than once makes one group, whatever the wording. A
    link sent once is kept too (a brand with little history still has its links), unless the
    same wording went out with a different link each time: that link is per customer, and the
    group's template gets a ``{url?}`` slot. Replies without a link are grouped by wording, and
    need ``min_cluster`` members.
    """
    by_link: dict[str, list[_Reply]] = {}
    once: list[_Reply] = []
    plain: list[_Reply] = []
    for reply in replies:
        if not reply.urls:
            plain.append(reply)
        elif known[reply.urls[0]] >= 2:
            by_link.setdefault(reply.urls[0], []).append(reply)
        else:
            once.append(reply)
    found: list[tuple[_Cluster, frozenset[str]]] = [
        (_Cluster(members), frozenset()) for members in by_link.values()
    ]
    for cluster in _clusters(once, similarity=similarity):
        single = len(cluster.members) == 1
        found.append((cluster, frozenset(cluster.members[0].urls[:1]) if single else frozenset()))
    found += [
        (c, frozenset())
        for c in _clusters(plain, similarity=similarity)
        if len(c.members) >= min_cluster
    ]
    return found


def _clusters(replies: Sequence[_Reply], *, similarity: float) -> list[_Cluster]:
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
    return [(replace(t, id=unique_id(_branded(t), used)), c) for t, c in ranked]


def _branded(template: Template) -> str:
    brand = file_slug(template.brands[0]) if template.brands else ""
    return f"{brand}-{template.id}"[:58].strip("-") if brand else template.id


def _template(
    cluster: _Cluster,
    group: Sequence[Pair],
    *,
    brand: str,
    known: Counter[str],
    counts: Counter[str],
    keep: frozenset[str] = frozenset(),
) -> Template | None:
    members = sorted(cluster.members, key=lambda r: r.index)
    sample = members[:MEDOID_SAMPLE]
    closeness = _closeness(sample)
    medoid = sample[max(range(len(sample)), key=lambda i: (closeness[i], -i))]
    text, link = _slotted(medoid, sample, known=known + Counter(dict.fromkeys(keep, 2)))
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
    words = sum(1 for t in tokens if WORD.search(t))
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
        for url in URL.findall(token):
            if recurring[url] >= 2:
                return str(url)
    shared = sorted((u for u, n in here.items() if n >= 2), key=lambda u: (-here[u], u))
    for i, token in enumerate(tokens):
        if shared and (found := URL.search(token)):
            tokens[i] = token[: found.start()] + shared[0] + token[found.end() :]
            return shared[0]
    return ""


def _one_off(token: str, recurring: Counter[str]) -> bool:
    """A link no other reply has (a tweet's own t.co link): the agent supplies one."""
    return any(recurring[u] < 2 for u in URL.findall(token))


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
    after_greeting = i == 1 and tokens[0].strip(_PUNCT).casefold() in GREETINGS
    after_comma = i > 0 and tokens[i - 1].endswith(",")
    ends = tokens[i][-1:] in (",", ".", "!", "?", ";", ":") or i == len(tokens) - 1
    return word[:1].isupper() and (after_greeting or after_comma) and ends


def _slottable(token: str, varied: int, size: int) -> bool:
    fixed = "{" in token or URL.search(token) or not WORD.search(token)
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
            found = URL.search(tokens[start])
            assert found is not None
            lead, trail = tokens[start][: found.start()], tokens[start][found.end() :]
        else:
            lead, trail = _lead(tokens[start]), _trail(tokens[end - 1])
        out[start:end] = [f"{lead}{{{name}?}}{trail}"]
    return " ".join(out)


def _link_token(token: str, link: str) -> str:
    if link and link in URL.findall(token):
        return token.replace(link, "{link}", 1)
    return token


def _lead(token: str) -> str:
    return token[: len(token) - len(token.lstrip(_PUNCT))]


def _trail(token: str) -> str:
    return token[len(token.rstrip(_PUNCT)) :]


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
    words = (w.casefold() for w in WORD.findall(text))
    return [w for w in words if w not in STOPWORDS and not w.isdigit()]


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
        df.update({_ascii(w) for w in WORD.findall(URL.sub(" ", member.text).casefold())})
    medoid = URL.sub(" ", medoid)
    order = {
        w: i
        for i, w in reversed(list(enumerate(_ascii(w) for w in WORD.findall(medoid.casefold()))))
    }
    words = [w for w in order if w and w not in _ID_STOPWORDS and not w.isdigit() and len(w) > 1]
    words = words or [w for w in order if w and not w.isdigit()]
    best = sorted(words, key=lambda w: (-df[w], order[w]))[:3]
    return sorted(best, key=lambda w: order[w])


def _ascii(word: str) -> str:
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())[:18]  # three words and "-99" fit an id


def unique_id(base: str, used: set[str]) -> str:
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate


def _title(text: str) -> str:
    """A short label: the template's opening words, greeting and placeholders left out."""
    plain = PLACEHOLDER.sub("…", _GREETING_LEAD.sub("", text))
    plain = SPACE.sub(" ", plain).strip(" ,.!") or text
    return _shorten(plain[:1].upper() + plain[1:], 48)


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
