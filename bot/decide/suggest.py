"""Suggest the best reply templates for a mention: scored, ranked, cut off, ties broken by id.

A template is matched on three kinds of text, its *documents*: its trigger phrases, its example
mentions, and past mentions agents answered with it (``history`` at build time, ``learn`` later).

Scoring: rapidfuzz on content words (``clean``, minus one-letter leftovers such as the "t" of
"didn't"). A trigger scores ``token_set_ratio`` (a phrase the mention contains scores 100); an
example or past mention, a whole post, scores the mean of ``token_set_ratio`` and
``token_sort_ratio`` (a long post merely containing the mention's two words is not "similar").
A template scores its best document. Only a match at or above ``min_score`` is suggested; it then
gets ``TEAM_BONUS`` points when the case's channel is one of the template's teams, and up to
``USAGE_BONUS`` when it is popular here. Ranking uses that sum, the score shown is capped at 100,
ties go to the lower template id, and a template id appears once (translations share an id).

Popularity: how many past replies a template id stands for, per brand: the ``uses`` of its
templates (learned playbooks write their cluster sizes there; a template for every brand counts
for each) plus every ``learn``-ed send for the brand. The usage bonus also counts the sends in the
case's channel once more, and is log-scaled against the most popular template here. When fewer
than ``top`` templates pass the cutoff, the free places go to the most popular eligible
templates (made for the case's channel first, then most used, ties to the lower id), shown as
``Via.POPULAR`` with score 0: they matched nothing, so they rank below every match. Only a
template with a popularity above 0 pads, so hand-written playbooks without history never do. A
mention without content words matches nothing and gets only such padding.

Speed: rapidfuzz over every document is too slow for thousands of templates, so documents are
found through an inverted index of terms (a light stem of each word, and character bigrams of
Korean/CJK words, which are often run together without spaces). Each document's shared terms are
counted (in C) and turned into an estimate of its rapidfuzz score. Documents are re-scored best
estimate first, ties to the lower template id; after ``candidates`` of them, a document whose
estimate (plus its possible error and bonus) cannot beat the last suggestion is skipped. A
template sharing no term with the mention is only looked at when the cutoff is too low for that
to be safe. A word of five letters or more that the playbooks never use also finds the documents
of their word one typo away ("refnud": "refund"); rapidfuzz then scores the word as written.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.decide.matching import (
    CHANCE,
    CJK,
    GONE,
    PLACEHOLDER,
    Doc,
    Popularity,
    Prior,
    Query,
    Scored,
    TermIndex,
    Via,
    letter_grams,
    make_doc,
    plain_text,
    shorten,
    similarity,
    stem_word,
    template_fits,
    term_set,
    tier_of,
    tiers,
    word_list,
)
from bot.decide.playbooks import Template

CANDIDATES = 40  # documents re-scored with rapidfuzz per mention
PER_TEMPLATE = 8  # of which at most this many for one template id
TEAM_BONUS = 6.0  # points for a template made for the case's team channel
USAGE_BONUS = 3.0  # at most this many points for the template agents send most here
TYPO_MIN_LENGTH = 5  # shorter unknown words are left alone: too many real words are one typo apart
ATTRIBUTE_CUTOFF = 80.0  # rapidfuzz ratio for a typed reply to count as a template's text
HISTORY_PER_TEMPLATE = 200  # past mentions kept per template id; the oldest go first
PRIOR_SMOOTHING = 0.5  # added to each popular template's count before its log is taken
EVIDENCE_WEIGHT = 2.0  # how far a post's likeness (TF-IDF cosine, 0..1) moves a popular template
_SLACK = 12.0  # how far below a document's score its estimate may fall (p99 is about 14)
_STRANGER = 100 * CHANCE + _SLACK  # the best a document sharing no term may score
_REFRESH = 8  # re-scored documents between updates of the score to beat
_WIDEN = 4  # re-score at most this many times ``candidates`` documents
_CACHE_LIMIT = 50_000  # typo corrections remembered
_ELIGIBLE_LIMIT = 1024  # (language, brand, team) eligibility tables remembered


@dataclass(frozen=True, slots=True)
class Sent:
    """A mention an agent answered with a template: every sent reply teaches the ranking."""

    text: str  # the customer's mention text
    template_id: str
    brand: str = ""
    team: str = ""  # Slack channel of the case, e.g. "#billing"
    lang: str = ""


@dataclass(frozen=True, slots=True)
class Ranked:
    """A suggested template, its score, and the text that earned it."""

    template: Template
    score: float  # 0..100
    trigger: str  # the trigger, example or past mention that matched best
    via: Via = Via.TRIGGER
    made_for: str = ""  # the case's channel, when the template is made for it (a bonus)
    uses: int = 0  # Via.POPULAR: past replies it stands for, for ``brand``
    brand: str = ""  # Via.POPULAR: the brand it is popular for ("" every brand)

    @property
    def why(self) -> str:
        """A short reason for the agent: what matched, how well, and any team bonus."""
        if self.via is Via.POPULAR:
            times = f"{self.uses} time{'s' if self.uses != 1 else ''}"
            reason = (
                f"often sent for {self.brand} ({times})" if self.brand else f"often sent ({times})"
            )
        elif self.via is Via.HISTORY:
            reason = f"agents sent it for a similar post ({self.score:.0f})"
        else:
            reason = f"close to “{shorten(self.trigger)}” ({self.score:.0f})"
        return f"{reason}, made for {self.made_for}" if self.made_for else reason


# ---- text -> words, terms and forms ------------------------------------------------------------


# ---- scoring -----------------------------------------------------------------------------------


class Suggester:
    """Ranks a fixed set of templates for mentions, and keeps learning from sent replies.

    A service object rather than a frozen value: ``learn`` adds to the index while ``suggest``
    reads it, from different threads, so both hold ``_lock`` (a suggestion takes about a
    millisecond). The templates never change after ``build``; their text index (for
    ``attribute``) is read without the lock.
    """

    def __init__(
        self, templates: Sequence[Template], *, top: int, min_score: float, candidates: int
    ) -> None:
        self._templates = tuple(templates)
        self.top, self.min_score, self.candidates = top, min_score, candidates
        self._lock = threading.Lock()
        self._groups: dict[str, int] = {}  # template id -> group
        self._group_of = [self._groups.setdefault(t.id, len(self._groups)) for t in templates]
        self._variants: list[list[int]] = [[] for _ in self._groups]  # group -> template indexes
        for index, group in enumerate(self._group_of):
            self._variants[group].append(index)
        ranks = {template_id: rank for rank, template_id in enumerate(sorted(self._groups))}
        self._id_order = [ranks[template_id] for template_id in self._groups]  # per group
        self._index, self._docs, self._live = TermIndex(), list[Doc](), 0
        self._order: list[int] = []  # per document: its template id's rank, for ties
        self._slot: list[int] = []  # per document: its eligibility slot
        self._history: dict[int, deque[int]] = {}  # group -> past mention documents, oldest first
        self._seen: set[tuple[int, str]] = set()  # (group, form) of the past mentions kept
        self._uses: dict[tuple[str, str], dict[int, int]] = {}  # (brand, team) -> group -> sends
        self._everywhere, self._static = self._template_uses()
        self._popularity: dict[str, Popularity] = {}  # brand -> its popularity, until ``learn``
        self._priors: dict[tuple[str, str], Prior] = {}  # (brand, team) -> prior, until ``learn``
        self._flags: dict[tuple[str, str, str], bytearray] = {}
        self._languages: dict[str, bytearray] = {}
        self._scoped = [i for i, t in enumerate(self._templates) if t.brands]
        self._teamed: dict[str, list[int]] = {}  # team -> indexes of the templates made for it
        for index, template in enumerate(self._templates):
            for team in template.teams:
                self._teamed.setdefault(team, []).append(index)
        self._typos: dict[str, str | None] = {}
        self._stems, self._spellings = self._index_templates()
        self._plain = [plain_text(t.text) for t in self._templates]
        self._text_terms = [
            term_set(word_list(PLACEHOLDER.sub(" ", t.text))) for t in self._templates
        ]
        self._text_postings: dict[str, list[int]] = {}
        for index, terms in enumerate(self._text_terms):
            for term in terms:
                self._text_postings.setdefault(term, []).append(index)

    @classmethod
    def build(
        cls,
        templates: Sequence[Template],
        *,
        top: int = 3,
        min_score: float = 60.0,
        history: Iterable[Sent] = (),
        candidates: int = CANDIDATES,
    ) -> Suggester:
        """Index the templates' triggers and examples, then the past mentions in ``history``.

        ``candidates`` is how many documents rapidfuzz re-scores per mention (more: slower, and
        closer to scoring every document).
        """
        suggester = cls(templates, top=top, min_score=min_score, candidates=candidates)
        for sent in history:
            suggester.learn(sent)
        return suggester

    @property
    def templates(self) -> tuple[Template, ...]:
        return self._templates

    def _template_uses(self) -> tuple[dict[int, int], dict[str, dict[int, int]]]:
        """Uses per group of the templates for every brand, and per brand of the others
        (brand "" holds every template's uses: a mention without a brand may get any)."""
        everywhere: dict[int, int] = {}
        by_brand: dict[str, dict[int, int]] = {}
        for index, template in enumerate(self._templates):
            if template.uses <= 0:
                continue
            group = self._group_of[index]
            brands = {b.casefold() for b in template.brands}
            places = [by_brand.setdefault(b, {}) for b in sorted(brands | {""})]
            for counts in places if brands else [*places, everywhere]:
                counts[group] = counts.get(group, 0) + template.uses
        return everywhere, by_brand

    def _index_templates(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Index triggers and examples; return the playbooks' stems and spellings (for typos)."""
        spellings: set[str] = set()
        for index, template in enumerate(self._templates):
            group = self._group_of[index]
            for via, texts in ((Via.TRIGGER, template.triggers), (Via.EXAMPLE, template.examples)):
                for text in texts:
                    if words := word_list(text):
                        spellings.update(w for w in words if w.isalpha() and not CJK.search(w))
                        self._add(make_doc(text, words, group=group, slot=index, via=via))
        stems = frozenset(stem_word(w) for w in spellings)
        return stems, tuple(sorted(w for w in spellings if len(w) >= TYPO_MIN_LENGTH - 1))

    def _add(self, doc: Doc) -> int:
        doc_id = len(self._docs)
        self._docs.append(doc)
        self._order.append(self._id_order[doc.group])
        self._slot.append(doc.slot)
        self._index.add(doc_id, doc.terms, doc.bucket)
        self._live += 1
        return doc_id

    # ---- learning ------------------------------------------------------------------------------

    def learn(self, sent: Sent) -> None:
        """Teach from a sent reply: the mention becomes a past post of its template, and the
        send counts towards the template's use for the brand and team. Thread-safe."""
        group = self._groups.get(sent.template_id)
        if group is None:
            return  # a template no longer in the playbooks
        words = word_list(sent.text)
        with self._lock:
            self._count_use(sent, group)
            self._forget_prior(sent.brand.casefold())
            form = " ".join(words)
            if not words or (group, form) in self._seen:
                return
            slot = len(self._templates) + group
            doc_id = self._add(make_doc(sent.text, words, group=group, slot=slot, via=Via.HISTORY))
            self._seen.add((group, form))
            kept = self._history.setdefault(group, deque())
            kept.append(doc_id)
            if len(kept) > HISTORY_PER_TEMPLATE:
                self._forget(kept.popleft())

    def _forget(self, doc_id: int) -> None:
        doc = self._docs[doc_id]
        self._index.remove(doc_id, doc.terms, doc.bucket)
        self._live -= 1
        self._seen.discard((doc.group, doc.form))
        self._docs[doc_id] = GONE

    def _count_use(self, sent: Sent, group: int) -> None:
        brand = sent.brand.casefold()
        for key in {(brand, sent.team), (brand, "")}:
            counts = self._uses.setdefault(key, {})
            counts[group] = counts.get(group, 0) + 1

    def _forget_prior(self, brand: str) -> None:
        """A send for ``brand`` changed its popularity (and no other brand's)."""
        self._popularity.pop(brand, None)
        self._priors = {key: prior for key, prior in self._priors.items() if key[0] != brand}

    def _prior(self, brand: str, team: str) -> Prior:
        """Popularity for the brand and channel; cached until a send for the brand."""
        key = (brand.casefold(), team)
        if (prior := self._priors.get(key)) is None:
            popular = self._brand_popularity(key[0])
            here = self._uses.get(key, {}) if team else {}
            most = max((popular.counts.get(g, 0) + n for g, n in here.items()), default=0)
            most = max(most, popular.most)
            prior = Prior(popular, here, USAGE_BONUS / math.log1p(most) if most else 0.0)
            if len(self._priors) >= _ELIGIBLE_LIMIT:
                self._priors.clear()
            self._priors[key] = prior
        return prior

    def _brand_popularity(self, brand: str) -> Popularity:
        """Uses of the templates for every brand (unless ``brand`` is ""), of the brand's own
        templates, and sends for the brand."""
        if (found := self._popularity.get(brand)) is None:
            counts = dict(self._everywhere) if brand else {}
            for more in (self._static.get(brand, {}), self._uses.get((brand, ""), {})):
                for group, n in more.items():
                    counts[group] = counts.get(group, 0) + n
            order = self._id_order
            ranked = [g for _, _, g in sorted((-n, order[g], g) for g, n in counts.items())]
            found = Popularity(counts, max(counts.values(), default=0), ranked)
            if len(self._popularity) >= _ELIGIBLE_LIMIT:
                self._popularity.clear()
            self._popularity[brand] = found
        return found

    # ---- suggesting ----------------------------------------------------------------------------

    def suggest(
        self, text: str, *, lang: str, brand: str = "", team: str = "", top: int | None = None
    ) -> list[Ranked]:
        """The best templates for ``text``, at most ``top``: those at or above the cutoff, then
        (when fewer) the most popular ones here, with score 0 (see the module docstring).

        Eligible: templates in ``lang`` or language-neutral, and (unless ``brand`` is empty)
        those for every brand or for ``brand``. ``team`` is the case's channel.
        """
        limit = self.top if top is None else top
        if limit <= 0:
            return []
        words = word_list(text)
        with self._lock:
            flags = self._eligible(lang, brand, team)
            prior = self._prior(brand, team)
            chosen = self._matches(
                words, lang=lang, team=team, flags=flags, prior=prior, limit=limit
            )
            ranked = [
                self._ranked(total, index, doc_id, fits=flags[index] == 2, team=team)
                for total, index, doc_id in chosen
            ]
            if len(ranked) < limit and prior.brand.ranked:
                taken = {self._group_of[index] for _, index, _ in chosen}
                ranked += self._popular(
                    prior,
                    flags,
                    taken=taken,
                    limit=limit - len(ranked),
                    lang=lang,
                    brand=brand,
                    team=team,
                    terms=term_set(words),
                )
            return ranked

    def _matches(
        self, words: list[str], *, lang: str, team: str, flags: bytearray, prior: Prior, limit: int
    ) -> list[tuple[float, int, int]]:
        """(score with bonuses, template index, document) of the best matches at or above the
        cutoff, best first, ties to the lower template id."""
        if not words:
            return []
        query = self._query(words)
        bonus = (TEAM_BONUS if team in self._teamed else 0.0) + (
            USAGE_BONUS if prior.scale else 0.0
        )
        best = self._shortlist(query, flags, limit=limit, prior=prior, bonus=bonus)
        totals = [
            self._total(found, lang=lang, flags=flags, prior=prior)
            for found in best.values()
            if found.score >= self.min_score
        ]
        return heapq.nsmallest(limit, totals, key=lambda t: (-t[0], self._order[t[2]]))

    def _popular(
        self,
        prior: Prior,
        flags: bytearray,
        *,
        taken: set[int],
        limit: int,
        lang: str,
        brand: str,
        team: str,
        terms: frozenset[str],
    ) -> list[Ranked]:
        """Up to ``limit`` eligible templates not ``taken``, by popularity: those made for
        ``team`` first, then the rest; within each, the most used for the brand first, moved by
        how like this post the posts they answered (and their own text) are."""
        ids = len(self._templates)
        likeness = self._likeness(terms, flags, prior.brand.counts) if terms else {}
        picks: list[Ranked] = []
        for wanted in (2, 1) if team in self._teamed else (1,):
            groups = [g for g in prior.brand.ranked if flags[ids + g] == wanted and g not in taken]
            groups.sort(key=lambda g: -self._pull(prior.brand.counts[g], likeness.get(g, 0.0)))
            for group in groups[: limit - len(picks)]:
                index = self._variant(group, lang, flags)
                template = self._templates[index]
                name = next((b for b in template.brands if b.casefold() == brand.casefold()), brand)
                made_for = team if flags[index] == 2 else ""
                uses = prior.brand.counts[group]
                picks.append(Ranked(template, 0.0, "", Via.POPULAR, made_for, uses, name))
        return picks

    @staticmethod
    def _pull(uses: int, likeness: float) -> float:
        """A popular template's rank: the log of its uses, plus the post's likeness to it."""
        return math.log(uses + PRIOR_SMOOTHING) + EVIDENCE_WEIGHT * likeness

    def _likeness(
        self, terms: frozenset[str], flags: bytearray, popular: dict[int, int]
    ) -> dict[int, float]:
        """Per popular template id: the TF-IDF cosine (over term sets) of the post with the
        nearest of its documents (triggers, examples, past posts) or its own text. Case-based
        memory: the posts agents answered with a template vote for it."""
        documents = max(self._live, 1)
        known: dict[str, float] = {}

        def weight(term: str) -> float:
            if (found := known.get(term)) is None:
                found = known[term] = self._index.weight(term, documents=documents) ** 2
            return found

        norm = math.sqrt(sum(weight(t) for t in terms)) or 1.0
        best: dict[int, float] = {}
        for doc_id, shared in self._index.overlap(terms, documents=documents).items():
            doc = self._docs[doc_id]
            if doc.group in popular and flags[self._slot[doc_id]]:
                size = math.sqrt(sum(weight(t) for t in doc.terms)) or 1.0
                best[doc.group] = max(best.get(doc.group, 0.0), shared / (norm * size))
        holding = {i for t in terms for i in self._text_postings.get(t, ())}
        for index in holding:
            group = self._group_of[index]
            if group in popular and flags[index]:
                own = self._text_terms[index]
                shared = sum(weight(t) for t in own & terms)
                size = math.sqrt(sum(weight(t) for t in own)) or 1.0
                best[group] = max(best.get(group, 0.0), shared / (norm * size))
        return best

    def _query(self, words: list[str]) -> Query:
        """The mention as rapidfuzz compares it (its words as written: a wrong correction must
        not make a match), and its terms, typo corrections included, to find candidates by."""
        fixed = (self._correct(w) for w in words)
        return Query(
            " ".join(words), letter_grams(words), term_set(words) | term_set(w for w in fixed if w)
        )

    def _correct(self, word: str) -> str | None:
        """The playbooks' word one typo away (two for long words) from a word of five letters
        or more that they never use; cached. None when there is none, or no need."""
        if len(word) < TYPO_MIN_LENGTH or not word.isalpha() or CJK.search(word):
            return None
        if stem_word(word) in self._stems:
            return None
        if word not in self._typos:
            typos = 1 if len(word) < 8 else 2
            hit = process.extractOne(word, self._spellings, scorer=OSA.distance, score_cutoff=typos)
            if len(self._typos) >= _CACHE_LIMIT:
                self._typos.clear()
            self._typos[word] = hit[0] if hit else None
        return self._typos[word]

    def _eligible(self, lang: str, brand: str, team: str) -> bytearray:
        """Per template, then per template id (for past mentions): 0 not eligible, 1 eligible,
        2 eligible and made for ``team``. Cached: templates never change."""
        team = team if team in self._teamed else ""
        key = (lang, brand.casefold(), team)
        if (flags := self._flags.get(key)) is None:
            flags = self._eligible(lang, brand, "")[:] if team else self._brand_flags(lang, brand)
            ids = len(self._templates)  # where the template ids' flags start
            for index in self._teamed.get(team, ()):
                if flags[index]:
                    flags[index] = flags[ids + self._group_of[index]] = 2
            if len(self._flags) >= _ELIGIBLE_LIMIT:
                self._flags.clear()
            self._flags[key] = flags
        return flags

    def _brand_flags(self, lang: str, brand: str) -> bytearray:
        """Eligibility for a brand: the language's, plus the brand's own templates."""
        flags = self._language_flags(lang)[:]
        ids = len(self._templates)
        for index in self._scoped:
            if template_fits(self._templates[index], lang=lang, brand=brand):
                flags[index] = 1
                flags[ids + self._group_of[index]] |= 1
        return flags

    def _language_flags(self, lang: str) -> bytearray:
        """Eligibility of the templates for every brand, in ``lang`` or language-neutral."""
        if (flags := self._languages.get(lang)) is None:
            ids = len(self._templates)
            flags = bytearray(ids + len(self._groups))
            for index, template in enumerate(self._templates):
                if not template.brands and template.lang in ("", lang):
                    flags[index] = flags[ids + self._group_of[index]] = 1
            self._languages[lang] = flags
        return flags

    def _shortlist(
        self, query: Query, flags: bytearray, *, limit: int, prior: Prior, bonus: float
    ) -> dict[int, Scored]:
        """Re-score documents, best estimate first, ties to the lower template id, and keep each
        template id's best. Once ``candidates`` are re-scored, a document is skipped when its
        estimate (plus the estimate's error and the bonuses its template can get, at most
        ``bonus``) cannot beat the ``limit``-th best score so far (or the cutoff); never more
        than ``_WIDEN`` times ``candidates`` are re-scored."""
        found = self._index.count(query.terms)
        best: dict[int, Scored] = {}
        per_group: dict[int, int] = {}
        rescored, bar = 0, -1.0  # nothing is skipped until ``candidates`` are re-scored
        for estimate, cells in tiers(found, len(query.terms)):
            plain = min(100.0, 100 * estimate + _SLACK)  # the best this tier may score
            if plain + bonus <= bar:
                break
            for doc_id in tier_of(cells, found, self._order):
                doc, flag = self._docs[doc_id], flags[self._slot[doc_id]]
                if not flag or per_group.get(doc.group, 0) >= PER_TEMPLATE:
                    continue
                if plain <= bar and plain + self._bonus(doc.group, flag, prior) <= bar:
                    continue  # only a bonus could lift it, and its bonus is too small
                per_group[doc.group] = per_group.get(doc.group, 0) + 1
                score = similarity(query, doc)
                if doc.group not in best or score > best[doc.group].score:
                    best[doc.group] = Scored(doc_id, score)
                rescored += 1
                if rescored >= self.candidates and rescored % _REFRESH == 0:
                    bar = self._bar(best, limit)
                if rescored >= self.candidates * _WIDEN:
                    return best
            if rescored >= self.candidates:
                bar = self._bar(best, limit)
        if self._bar(best, limit) < _STRANGER:
            self._strangers(query, flags, best, budget=self.candidates * _WIDEN - rescored)
        return best

    def _strangers(
        self, query: Query, flags: bytearray, best: dict[int, Scored], *, budget: int
    ) -> None:
        """With a low cutoff and too few matches, documents sharing no term with the mention
        (rapidfuzz may still find letters in common), in index order, up to ``budget``."""
        for doc_id, doc in enumerate(self._docs):
            if budget <= 0:
                return
            if doc is GONE or doc.group in best or not flags[self._slot[doc_id]]:
                continue
            best[doc.group] = Scored(doc_id, similarity(query, doc))
            budget -= 1

    @staticmethod
    def _bonus(group: int, flag: int, prior: Prior) -> float:
        """The most a template id's bonuses can add (the usage bonus, and the team bonus when
        one of its translations is made for the case's channel)."""
        return prior.lift(group) + (TEAM_BONUS if flag == 2 else 0.0)

    def _bar(self, best: dict[int, Scored], limit: int) -> float:
        """The score to beat: the ``limit``-th best so far, or the cutoff while there are fewer."""
        scores = heapq.nlargest(limit, (s.score for s in best.values()))
        return max(self.min_score, scores[-1]) if len(scores) == limit else self.min_score

    def _total(
        self, found: Scored, *, lang: str, flags: bytearray, prior: Prior
    ) -> tuple[float, int, int]:
        """(score with bonuses, template index, document) for a template id's best document."""
        doc = self._docs[found.doc_id]
        index = self._variant(doc.group, lang, flags) if doc.via is Via.HISTORY else doc.slot
        total = found.score + (TEAM_BONUS if flags[index] == 2 else 0.0)
        return total + prior.lift(doc.group), index, found.doc_id

    def _ranked(self, total: float, index: int, doc_id: int, *, fits: bool, team: str) -> Ranked:
        """The suggestion, showing its score with bonuses capped at 100."""
        doc = self._docs[doc_id]
        return Ranked(
            self._templates[index], min(100.0, total), doc.text, doc.via, team if fits else ""
        )

    def _variant(self, group: int, lang: str, flags: bytearray) -> int:
        """The eligible translation of a template id: in the mention's language first."""
        eligible = [i for i in self._variants[group] if flags[i]]
        return min(eligible, key=lambda i: (self._templates[i].lang != lang, -flags[i]))

    # ---- attributing ---------------------------------------------------------------------------

    def attribute(self, reply_text: str, *, brand: str = "", lang: str = "") -> Template | None:
        """The template a reply an agent typed (or edited) is a near-duplicate of, else None.

        Compared with each template's text without its placeholders and slots, so the names
        and references the agent filled in barely count. ``lang=""`` accepts any language.
        Ties go to the lower template id.
        """
        terms = term_set(word_list(reply_text))
        if not terms:
            return None
        counts = Counter(chain.from_iterable(self._text_postings.get(t, ()) for t in terms))
        eligible = (
            (2 * shared / (len(self._text_terms[i]) + len(terms)), i)
            for i, shared in counts.items()
            if template_fits(self._templates[i], lang=lang, brand=brand, any_lang=not lang)
        )
        plain = plain_text(reply_text)
        scored = [
            (fuzz.ratio(plain, self._plain[index], score_cutoff=ATTRIBUTE_CUTOFF), index)
            for _, index in heapq.nlargest(self.candidates, eligible)
        ]
        hits = [(-score, self._templates[index].id, index) for score, index in scored if score]
        return self._templates[min(hits)[2]] if hits else None
