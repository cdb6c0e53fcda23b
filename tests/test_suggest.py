"""bot/suggest.py: rank reply templates, cut off, filter by language and brand, break ties by id,
learn from sent replies, attribute typed replies."""

from __future__ import annotations

import random
import threading
from dataclasses import replace

import pytest

from bot.decide import suggest
from bot.decide.matching import Via, clean
from bot.decide.playbooks import Template
from bot.decide.suggest import Sent, Suggester


def _template(id_: str, *triggers: str, lang: str = "en") -> Template:
    return Template(id=id_, title=id_.title(), text=f"text of {id_}", triggers=triggers, lang=lang)


TEMPLATES = (
    _template("refund-status", "where is my refund", "still waiting for my money back"),
    _template("baggage-missing", "my bag did not arrive", "lost luggage"),
    _template("delay-apology", "flight delayed again", "delayed for hours"),
    _template("thanks", "thank you so much", "great crew today"),
    _template("ko-refund", "환불 언제 되나요", lang="ko"),
    _template("any-lang-dm", "please contact me", lang=""),
)


@pytest.fixture
def suggester() -> Suggester:
    return Suggester.build(TEMPLATES, top=3, min_score=60.0)


def _ids(ranked: list) -> list[str]:  # type: ignore[type-arg]
    return [r.template.id for r in ranked]


def test_best_template_comes_first(suggester: Suggester) -> None:
    ranked = suggester.suggest("@SkylarkAir still waiting for my refund money", lang="en")
    assert _ids(ranked)[0] == "refund-status"
    assert ranked == sorted(ranked, key=lambda r: -r.score)


@pytest.mark.parametrize(
    ("text", "best"),
    [
        ("my bag did not arrive in Seoul", "baggage-missing"),
        ("flight delayed for hours, again", "delay-apology"),
        ("Thank you so much to the crew!", "thanks"),
    ],
)
def test_each_mention_finds_its_template(suggester: Suggester, text: str, best: str) -> None:
    assert _ids(suggester.suggest(text, lang="en"))[0] == best


def test_at_most_top_suggestions() -> None:
    many = [_template(f"t{i}", "refund please") for i in range(6)]
    suggester = Suggester.build(many, top=3)
    assert len(suggester.suggest("refund please", lang="en")) == 3
    assert len(suggester.suggest("refund please", lang="en", top=5)) == 5


def test_nothing_below_min_score() -> None:
    text = "my bag arrived but the flight was delayed"
    loose = Suggester.build(TEMPLATES, top=5, min_score=0.0).suggest(text, lang="en")
    weakest = loose[-1]
    cutoff = weakest.score + 0.5
    strict = Suggester.build(TEMPLATES, top=5, min_score=cutoff).suggest(text, lang="en")
    assert weakest.template.id not in _ids(strict)
    assert strict
    assert all(r.score >= cutoff for r in strict)


def test_an_unrelated_mention_gets_no_suggestions(suggester: Suggester) -> None:
    assert suggester.suggest("wifi password onboard", lang="en") == []


def test_templates_in_another_language_are_left_out(suggester: Suggester) -> None:
    assert "ko-refund" not in _ids(suggester.suggest("환불 언제 되나요", lang="en"))
    assert "refund-status" not in _ids(suggester.suggest("where is my refund", lang="ko"))


def test_a_template_in_the_mention_language_is_suggested(suggester: Suggester) -> None:
    assert _ids(suggester.suggest("환불 언제 되나요?", lang="ko")) == ["ko-refund"]


@pytest.mark.parametrize("lang", ["en", "ko", "ja"])
def test_language_neutral_templates_stay_for_every_language(
    suggester: Suggester, lang: str
) -> None:
    assert "any-lang-dm" in _ids(suggester.suggest("please contact me", lang=lang))


def test_ties_are_broken_by_template_id() -> None:
    twins = [_template(i, "refund please") for i in ("zulu", "alpha", "mike")]
    ranked = Suggester.build(twins).suggest("refund please", lang="en")
    assert [r.score for r in ranked] == [100.0, 100.0, 100.0]
    assert _ids(ranked) == ["alpha", "mike", "zulu"]


def test_same_input_gives_the_same_ranking(suggester: Suggester) -> None:
    text = "still waiting for a refund, my bag is lost too"
    assert suggester.suggest(text, lang="en") == suggester.suggest(text, lang="en")


@pytest.mark.parametrize(
    "text",
    [
        "@SkylarkAir the my is",
        "@SkylarkAir @crew",
        "https://t.co/abc123 http://example.com/where/is/my/refund",
        "the and is to my for of it you",
        "#",
        "",
    ],
)
def test_handles_urls_and_stopwords_alone_never_make_a_match(
    suggester: Suggester, text: str
) -> None:
    assert suggester.suggest(text, lang="en") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@SkylarkAir Where is MY refund?!", "refund"),
        ("https://t.co/x #delayed flight", "delayed flight"),
    ],
)
def test_clean_keeps_content_words_only(text: str, expected: str) -> None:
    assert clean(text) == expected


def test_a_template_scores_its_best_trigger_once(suggester: Suggester) -> None:
    ranked = suggester.suggest("still waiting for my money back, where is my refund", lang="en")
    assert _ids(ranked).count("refund-status") == 1


def test_why_names_the_trigger_and_score(suggester: Suggester) -> None:
    [top, *_] = suggester.suggest("lost luggage at the airport", lang="en")
    assert top.trigger == "lost luggage"
    assert top.why == f"close to “lost luggage” ({top.score:.0f})"


# ---- scope: brand, language, translations --------------------------------------------------------


_LOUNGE = Template(
    id="lounge-access",
    title="Lounge",
    text="Lounge text",
    triggers=("lounge access denied",),
    lang="en",
    brands=("Skylark Air",),
)


def test_a_brand_template_is_only_suggested_for_its_brand() -> None:
    suggester = Suggester.build([*TEMPLATES, _LOUNGE])
    text = "lounge access denied at the gate"
    assert _ids(suggester.suggest(text, lang="en", brand="skylark air"))[:1] == ["lounge-access"]
    assert "lounge-access" not in _ids(suggester.suggest(text, lang="en", brand="Other Air"))


def test_without_a_brand_every_template_is_eligible() -> None:
    suggester = Suggester.build([*TEMPLATES, _LOUNGE])
    assert _ids(suggester.suggest("lounge access denied", lang="en", brand=""))[:1] == [
        "lounge-access"
    ]


def test_translations_share_an_id_and_the_mention_language_picks_one() -> None:
    english = _template("refund", "where is my refund")
    korean = _template("refund", "환불 언제 되나요", lang="ko")
    suggester = Suggester.build([english, korean])
    [en] = suggester.suggest("where is my refund", lang="en")
    [ko] = suggester.suggest("환불 언제 되나요", lang="ko")
    assert (en.template.lang, ko.template.lang) == ("en", "ko")


# ---- signals: examples, team, usage --------------------------------------------------------------


def test_an_example_mention_finds_its_template() -> None:
    parcel = Template(
        id="parcel-not-delivered",
        title="Parcel",
        text="Parcel text",
        triggers=("courier never came",),
        examples=("tracking says my parcel was delivered but there is nothing at my door",),
    )
    suggester = Suggester.build([*TEMPLATES, parcel])
    [top, *_] = suggester.suggest("parcel marked as delivered yet nothing at the door", lang="en")
    assert top.template.id == "parcel-not-delivered"
    assert top.via is Via.EXAMPLE
    assert top.why.startswith("close to “tracking says my parcel")


def test_the_case_team_lifts_a_template_made_for_it() -> None:
    general = _template("a-general", "charged twice for one ticket")
    billing = Template(
        id="b-billing",
        title="Billing",
        text="Billing text",
        triggers=("charged twice for one ticket",),
        lang="en",
        teams=("#billing",),
    )
    suggester = Suggester.build([general, billing])
    text = "you charged twice for one ticket"
    assert _ids(suggester.suggest(text, lang="en")) == ["a-general", "b-billing"]
    ranked = suggester.suggest(text, lang="en", team="#billing")
    assert _ids(ranked) == ["b-billing", "a-general"]
    assert ranked[0].score == 100.0
    assert ranked[0].why.endswith("made for #billing")


def test_templates_agents_send_often_here_rank_first_among_equals() -> None:
    twins = [_template(i, "seat upgrade request") for i in ("alpha", "zulu")]
    suggester = Suggester.build(twins)
    for _ in range(3):
        suggester.learn(Sent("totally different words", "zulu", brand="Skylark", team="#vip"))
    text = "seat upgrade request"
    assert _ids(suggester.suggest(text, lang="en", brand="Skylark", team="#vip")) == [
        "zulu",
        "alpha",
    ]
    assert _ids(suggester.suggest(text, lang="en", brand="Other", team="#vip")) == [
        "alpha",
        "zulu",
    ]


def test_more_uses_break_a_tie_between_equal_matches() -> None:
    alpha = _template("alpha", "seat upgrade request")
    zulu = replace(_template("zulu", "seat upgrade request"), uses=5)
    ranked = Suggester.build([alpha, zulu]).suggest("seat upgrade request", lang="en")
    assert _ids(ranked) == ["zulu", "alpha"]
    assert all(r.via is Via.TRIGGER for r in ranked)


def test_uses_are_only_a_bonus_not_a_match() -> None:
    refund = _template("refund", "where is my refund")
    popular = replace(_template("popular", "lost luggage"), uses=500)
    ranked = Suggester.build([refund, popular]).suggest("where is my refund", lang="en")
    assert _ids(ranked) == ["refund", "popular"]
    assert ranked[0].score == 100.0
    assert ranked[1].via is Via.POPULAR


# ---- popularity: filling the free places ---------------------------------------------------------


def _used(
    id_: str,
    uses: int,
    *,
    brands: tuple[str, ...] = ("Skylark Air",),
    lang: str = "en",
    teams: tuple[str, ...] = (),
) -> Template:
    """A template its words alone match, standing for ``uses`` past replies."""
    template = _template(id_, id_.replace("-", " "), lang=lang)
    return replace(template, uses=uses, brands=brands, teams=teams)


POPULAR = (
    _used("apology", 12),
    _used("dm-us", 40),
    _used("thanks-note", 3),
    _used("nimbus-only", 99, brands=("Nimbus Mobile",)),
    _used("ko-sorry", 50, lang="ko"),
)


def test_without_matches_the_brands_most_used_templates_fill_the_places() -> None:
    ranked = Suggester.build(POPULAR).suggest("unrelated", lang="en", brand="skylark air")
    assert _ids(ranked) == ["dm-us", "apology", "thanks-note"]
    assert {r.via for r in ranked} == {Via.POPULAR}
    assert [r.score for r in ranked] == [0.0, 0.0, 0.0]
    assert ranked[0].why == "often sent for Skylark Air (40 times)"


def test_padding_follows_the_matches_and_never_repeats_one() -> None:
    suggester = Suggester.build(POPULAR, min_score=60.0)
    ranked = suggester.suggest("a thanks note please", lang="en", brand="Skylark Air")
    assert _ids(ranked) == ["thanks-note", "dm-us", "apology"]
    assert ranked[0].via is Via.TRIGGER
    assert ranked[0].score >= 60.0
    assert [r.via for r in ranked[1:]] == [Via.POPULAR, Via.POPULAR]


def test_among_popular_templates_the_one_whose_past_posts_are_like_this_one_comes_first() -> None:
    """Case-based memory: no example scores the cutoff, but the posts a template answered still
    vote for it against a template sent a little more often."""
    bags = replace(
        _used("bag-trace", 5), examples=("my suitcase never arrived at the carousel in Lisbon",)
    )
    app = replace(_used("app-help", 8), examples=("the app crashes when I open my booking",))
    suggester = Suggester.build((bags, app), min_score=101.0)  # nothing counts as a match
    ranked = suggester.suggest("where is my suitcase", lang="en", brand="Skylark Air")
    assert _ids(ranked) == ["bag-trace", "app-help"]
    assert {r.via for r in ranked} == {Via.POPULAR}
    unrelated = suggester.suggest("hello there", lang="en", brand="Skylark Air")
    assert _ids(unrelated) == ["app-help", "bag-trace"]  # nothing alike: the most used first


def test_padding_fills_only_up_to_top() -> None:
    suggester = Suggester.build(POPULAR, top=1)
    assert _ids(suggester.suggest("unrelated", lang="en", brand="Skylark Air")) == ["dm-us"]
    assert suggester.suggest("unrelated", lang="en", brand="Skylark Air", top=0) == []


def test_padding_keeps_to_the_brand_and_language() -> None:
    suggester = Suggester.build(POPULAR)
    assert _ids(suggester.suggest("unrelated", lang="en", brand="Nimbus Mobile")) == ["nimbus-only"]
    assert _ids(suggester.suggest("unrelated", lang="en", brand="Other Air")) == []
    assert "ko-sorry" not in _ids(suggester.suggest("unrelated", lang="en", brand="Skylark Air"))


def test_a_template_for_every_brand_pads_for_each_brand() -> None:
    everyone = _used("everyone", 7, brands=())
    suggester = Suggester.build([*POPULAR, everyone])
    [ranked] = suggester.suggest("unrelated", lang="en", brand="Other Air")
    assert ranked.template.id == "everyone"
    assert ranked.why == "often sent for Other Air (7 times)"
    assert _ids(suggester.suggest("unrelated", lang="en", brand="Skylark Air"))[2] == "everyone"


def test_without_a_brand_every_templates_uses_count() -> None:
    [ranked, *_] = Suggester.build(POPULAR).suggest("unrelated", lang="en")
    assert ranked.template.id == "nimbus-only"
    assert ranked.why == "often sent (99 times)"


def test_templates_made_for_the_case_team_pad_first() -> None:
    billing = _used("billing-note", 2, teams=("#billing",))
    suggester = Suggester.build([*POPULAR, billing])
    ranked = suggester.suggest("unrelated", lang="en", brand="Skylark Air", team="#billing")
    assert _ids(ranked) == ["billing-note", "dm-us", "apology"]
    assert ranked[0].why == "often sent for Skylark Air (2 times), made for #billing"
    elsewhere = suggester.suggest("unrelated", lang="en", brand="Skylark Air", team="#social")
    assert _ids(elsewhere) == ["dm-us", "apology", "thanks-note"]


def test_sent_replies_make_a_template_popular_for_their_brand() -> None:
    suggester = Suggester.build(TEMPLATES)
    assert suggester.suggest("wifi password onboard", lang="en", brand="Skylark") == []
    for _ in range(2):
        suggester.learn(Sent("my bag is gone", "baggage-missing", brand="Skylark"))
    suggester.learn(Sent("thank you", "thanks", brand="Skylark"))
    ranked = suggester.suggest("wifi password onboard", lang="en", brand="skylark")
    assert _ids(ranked) == ["baggage-missing", "thanks"]
    assert ranked[0].why == "often sent for skylark (2 times)"
    assert ranked[1].why == "often sent for skylark (1 time)"
    assert suggester.suggest("wifi password onboard", lang="en", brand="Other") == []


def test_sends_and_uses_add_up() -> None:
    suggester = Suggester.build(POPULAR)
    for _ in range(30):
        suggester.learn(Sent("hello", "apology", brand="Skylark Air"))
    [top, *_] = suggester.suggest("unrelated", lang="en", brand="Skylark Air")
    assert (top.template.id, top.why) == ("apology", "often sent for Skylark Air (42 times)")


def test_a_mention_without_content_words_gets_only_the_popular_templates() -> None:
    suggester = Suggester.build(POPULAR)
    ranked = suggester.suggest("@SkylarkAir", lang="en", brand="Skylark Air")
    assert _ids(ranked) == ["dm-us", "apology", "thanks-note"]


def test_hand_written_playbooks_without_history_are_never_padded() -> None:
    suggester = Suggester.build(TEMPLATES, top=3, min_score=60.0)
    ranked = suggester.suggest("where is my refund", lang="en", brand="Skylark")
    assert _ids(ranked) == ["refund-status"]


# ---- learning ------------------------------------------------------------------------------------

_PET = Sent(
    "can my small dog travel with me in the cabin on the morning flight",
    "thanks",
    brand="Skylark",
    team="#social",
    lang="en",
)
_LATER = "is a small dog allowed to travel in the cabin with me"


def test_a_sent_reply_teaches_the_ranking() -> None:
    suggester = Suggester.build(TEMPLATES)
    assert "thanks" not in _ids(suggester.suggest(_LATER, lang="en"))
    suggester.learn(_PET)
    [top, *_] = suggester.suggest(_LATER, lang="en")
    assert top.template.id == "thanks"
    assert top.via is Via.HISTORY
    assert top.trigger == _PET.text
    assert top.why == f"agents sent it for a similar post ({top.score:.0f})"


def test_what_was_learned_persists_through_build_with_history() -> None:
    learned = Suggester.build(TEMPLATES)
    learned.learn(_PET)
    rebuilt = Suggester.build(TEMPLATES, history=[_PET])
    assert rebuilt.suggest(_LATER, lang="en") == learned.suggest(_LATER, lang="en")


def test_only_the_latest_past_mentions_of_a_template_are_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(suggest, "HISTORY_PER_TEMPLATE", 2)
    suggester = Suggester.build(TEMPLATES, min_score=0.0)
    texts = ["purple umbrella forgotten onboard", "green scarf left at gate", "blue hat on seat"]
    for text in texts:
        suggester.learn(Sent(text, "thanks"))
    ranked = suggester.suggest(texts[0], lang="en", top=10)
    assert all(r.trigger and r.trigger != texts[0] for r in ranked)
    assert suggester.suggest(texts[2], lang="en")[0].trigger == texts[2]


def test_a_sent_reply_for_an_unknown_template_is_ignored() -> None:
    suggester = Suggester.build(TEMPLATES)
    suggester.learn(Sent(_LATER, "no-such-template"))
    assert suggester.suggest(_LATER, lang="en") == []


def test_learning_while_suggesting_from_another_thread_is_safe() -> None:
    suggester = Suggester.build(TEMPLATES)
    sends = [Sent(f"{_LATER} {n}", "thanks", brand="Skylark") for n in range(300)]
    errors: list[BaseException] = []

    def teach() -> None:
        try:
            for sent in sends:
                suggester.learn(sent)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=teach)
    thread.start()
    while thread.is_alive():
        suggester.suggest(_LATER, lang="en")
        suggester.suggest("where is my refund", lang="en", brand="Skylark")
    thread.join()
    assert errors == []
    assert _ids(suggester.suggest(_LATER, lang="en"))[:1] == ["thanks"]


# ---- attributing free-text replies ---------------------------------------------------------------

_REPLY_TEMPLATES = (
    Template(
        id="refund-wait",
        title="Refund wait",
        text="Sorry for the wait on your refund, {customer}. Refunds reach your card within 7 "
        "business days. DM us {booking_ref?} and we'll check it.",
        triggers=("where is my refund",),
        lang="en",
    ),
    Template(
        id="bag-trace",
        title="Bag trace",
        text="So sorry your bag hasn't arrived, {customer}. Please DM us your bag tag number "
        "and we'll trace it for you.",
        triggers=("lost my bag",),
        lang="en",
    ),
)


def test_a_typed_reply_close_to_a_template_is_attributed_to_it() -> None:
    suggester = Suggester.build(_REPLY_TEMPLATES)
    typed = (
        "So sorry your bag hasn't arrived yet, Dana! Please DM us your bag tag number and we "
        "will trace it for you."
    )
    found = suggester.attribute(typed, lang="en")
    assert found is not None
    assert found.id == "bag-trace"


def test_a_filled_in_reply_is_attributed_despite_names_and_slots() -> None:
    suggester = Suggester.build(_REPLY_TEMPLATES)
    sent = (
        "Sorry for the wait on your refund, Minji. Refunds reach your card within 7 business "
        "days. DM us QX7P2L and we'll check it."
    )
    found = suggester.attribute(sent)
    assert found is not None
    assert found.id == "refund-wait"


def test_an_unrelated_reply_is_attributed_to_no_template() -> None:
    suggester = Suggester.build(_REPLY_TEMPLATES)
    assert suggester.attribute("Happy birthday! Enjoy the flight and the free dessert.") is None
    assert suggester.attribute("") is None


def test_attribution_keeps_to_the_brand_and_language() -> None:
    scoped = Template(
        id="scoped",
        title="Scoped",
        text="Welcome aboard the sunrise route, {customer}, we saved you a window seat.",
        triggers=("window seat",),
        lang="en",
        brands=("Skylark",),
    )
    suggester = Suggester.build([scoped])
    typed = "Welcome aboard the sunrise route, Jo, we saved you a window seat."
    assert suggester.attribute(typed, brand="Skylark", lang="en") is scoped
    assert suggester.attribute(typed, brand="Other Air") is None
    assert suggester.attribute(typed, lang="ko") is None


# ---- robustness: typos, Korean, scale ------------------------------------------------------------


def test_a_typo_still_finds_the_template(suggester: Suggester) -> None:
    ranked = suggester.suggest("@SkylarkAir where is my refnud??", lang="en")
    assert _ids(ranked)[:1] == ["refund-status"]


@pytest.mark.parametrize(
    "text",
    [
        "환불언제되나요",  # no spaces at all
        "환불은 언제쯤 되나요?",  # other particles and words in between
        "@SkylarkAir 벌써 3주째인데 환불 언제 되나요",
    ],
)
def test_korean_mentions_match_korean_triggers(suggester: Suggester, text: str) -> None:
    assert _ids(suggester.suggest(text, lang="ko"))[:1] == ["ko-refund"]


def _filler(count: int) -> list[Template]:
    """Many templates sharing common words, so that only some documents get re-scored."""
    words = "flight bag refund seat delay app card gate crew meal".split()
    return [
        _template(
            f"filler-{n:04d}",
            f"{words[n % 10]} {words[(n * 3 + 1) % 10]} problem {n}",
            f"{words[(n * 7 + 2) % 10]} issue today",
        )
        for n in range(count)
    ]


def test_in_a_large_playbook_the_best_template_is_still_found() -> None:
    suggester = Suggester.build([*_filler(2000), *TEMPLATES])
    ranked = suggester.suggest("my bag did not arrive in Seoul", lang="en")
    assert _ids(ranked)[0] == "baggage-missing"


@pytest.mark.parametrize(
    "text",
    ["flight delayed again at the gate", "refund for my seat please", "bag and meal problem"],
)
def test_the_candidate_cut_agrees_with_scoring_every_document(text: str) -> None:
    templates = [*_filler(1500), *TEMPLATES]
    quick = Suggester.build(templates, top=3)
    thorough = Suggester.build(templates, top=3, candidates=100_000)
    assert quick.suggest(text, lang="en") == thorough.suggest(text, lang="en")


def test_many_equal_matches_are_ranked_by_id_whatever_the_playbook_order() -> None:
    ids = [f"same-{n:03d}" for n in range(300)]
    random.Random(7).shuffle(ids)
    suggester = Suggester.build([_template(i, "upgrade my seat") for i in ids], top=3)
    assert _ids(suggester.suggest("can you upgrade my seat", lang="en")) == [
        "same-000",
        "same-001",
        "same-002",
    ]


def test_templates_are_kept_in_playbook_order() -> None:
    assert Suggester.build(TEMPLATES).templates == TEMPLATES


# ---- invisible characters (issue 15) ---------------------------------------------------------


def test_a_suggestion_matches_through_zero_width_characters(suggester: Suggester) -> None:
    """Regression: "re\u200bfund" split the word, so no refund template was suggested."""
    plain = suggester.suggest("still waiting for my refund money", lang="en")
    hidden = suggester.suggest("still wai\u200cting for my re\u200bfund mo\u00adney", lang="en")
    assert _ids(hidden)[0] == "refund-status"
    assert [(r.template.id, r.score) for r in hidden] == [(r.template.id, r.score) for r in plain]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is my re\u200bfund?", "refund"),
        ("ｒｅｆｕｎｄ\u2060 please", "refund please"),
        ("\ufeffde\u200dlayed flight", "delayed flight"),
    ],
)
def test_clean_reads_text_as_the_customer_sees_it(text: str, expected: str) -> None:
    assert clean(text) == expected
