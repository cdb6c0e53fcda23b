"""bot/suggest.py: rank reply templates, cut off, filter by language, break ties by id."""

from __future__ import annotations

import pytest

from bot.playbooks import Template
from bot.suggest import Suggester, clean


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
