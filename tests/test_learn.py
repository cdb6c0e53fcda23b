"""bot/learn.py: playbooks learned from past mention → reply pairs, written as checked TOML.

All pairs here are invented for two fictional brands, Skylark Air and Nimbus Mobile.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import make_mention

from bot.cli.learn import read_pairs, write_playbooks
from bot.decide import lengths
from bot.decide.distill import Pair, learn, learn_playbooks
from bot.decide.playbooks import Template, parse_playbook, worst_case_length
from bot.decide.reply_text import normalise_reply
from bot.live.library import check_playbooks
from bot.models import Author

SKYLARK = "Skylark Air"
NIMBUS = "Nimbus Mobile"
LEARNED_ON = datetime(2024, 6, 1, tzinfo=UTC)
_NUMBERS = itertools.count(1)


def _pair(
    brand: str, mention: str, reply: str, *, handle: str = "flyer", agent: str | None = None
) -> Pair:
    number = next(_NUMBERS)
    return Pair(
        mention=make_mention(
            mention,
            native_id=number,
            author_id=str(number),
            handle=handle,
            created=datetime(2024, 5, 1, 9, number % 60, tzinfo=UTC),
            brand=brand,
        ),
        reply_text=reply,
        replied_at=datetime(2024, 5, 1, 10, number % 60, tzinfo=UTC),
        agent=agent,
    )


def _skylark() -> list[Pair]:
    return [
        _pair(
            SKYLARK,
            "@SkylarkAir my flight to Lisbon is delayed again, what is going on",
            "@amy_k Hi Amy, sorry about the delay! Please DM us your booking code and we'll "
            "check your connection. ^JK",
            handle="amy_k",
            agent="JK",
        ),
        _pair(
            SKYLARK,
            "@SkylarkAir delayed three hours at the gate, any news?",
            "@bob22 Hi Bob, sorry about the delay! Please DM us your booking code and we'll "
            "check your connection. -Becky",
            handle="bob22",
            agent="Becky",
        ),
        _pair(
            SKYLARK,
            "@SkylarkAir is the morning flight delayed? nobody at the desk",
            "@cara @friend Hey Cara! Sorry about the delay! Please DM us your booking code and "
            "we'll check your connection. *TRR",
            handle="cara",
            agent="TRR",
        ),
        _pair(
            SKYLARK,
            "@SkylarkAir where is my refund for the cancelled flight",
            "@dan Your refund for order 4829137 is on its way and should arrive within "
            "five days. /AB",
            handle="dan",
        ),
        _pair(
            SKYLARK,
            "@SkylarkAir still no refund after three weeks",
            "@eve Your refund for order 5512004 is on its way and should arrive within "
            "five days. ~Sam",
            handle="eve",
        ),
        _pair(
            SKYLARK,
            "@SkylarkAir my suitcase did not arrive in Porto",
            "@fay We're sorry your bag is late. Please file a report here: "
            "https://help.skylark.example/bags ^JK 1/2",
            handle="fay",
        ),
        _pair(
            SKYLARK,
            "@SkylarkAir lost bag again, second time this year",
            "@gus We're sorry your bag is late. Please file a report here: "
            "https://help.skylark.example/bags - Becky",
            handle="gus",
        ),
        _pair(
            SKYLARK,
            "@SkylarkAir thanks for the birthday cake on board!",
            "@hal Happy birthday from all of us up here! ^JK",
            handle="hal",
        ),
    ]


def _nimbus() -> list[Pair]:
    return [
        _pair(
            NIMBUS,
            "@NimbusMobile no signal at home since yesterday",
            "@ivy Have you tried restarting your phone? If the signal is still weak, "
            "let us know your postcode. ^MB",
        ),
        _pair(
            NIMBUS,
            "@NimbusMobile signal keeps dropping in the city centre",
            "@jon Have you tried restarting your phone? If the signal is still weak, "
            "let us know your postcode. ^MB",
        ),
        _pair(
            NIMBUS,
            "@NimbusMobile my bill is double this month",
            "@kim Sorry about the bill! A specialist will call you at 3:15pm today. ^MB",
        ),
        _pair(
            NIMBUS,
            "@NimbusMobile charged twice on my bill",
            "@lea Sorry about the bill! A specialist will call you at 10:40am today. ^MB",
        ),
    ]


def _templates(pairs: Sequence[Pair], **kwargs: Any) -> dict[str, list[Template]]:
    return learn_playbooks(pairs, **kwargs)


def _only(templates: Sequence[Template], word: str) -> Template:
    [found] = [t for t in templates if word in t.text]
    return found


# ---- normalising --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "agent"),
    [
        ("@sam We'll look into it. ^JK", None),
        ("@sam We'll look into it. -Becky", None),
        ("@sam We'll look into it. - Becky", None),
        ("@sam We'll look into it. *TRR", None),
        ("@sam We'll look into it. /AB", None),
        ("@sam We'll look into it. ~Sam", None),
        ("@sam We'll look into it. ^JK 1/2", None),
        ("@sam We'll look into it. (2/2) ^mv", None),
        ("@sam We'll look into it. &gt;&gt; 1/3", None),
        ("@sam @other We'll look into it.-PD", None),
        ("@sam We'll look into it. Thanks-Rio", "Rio"),
    ],
)
def test_handles_and_every_signature_format_are_stripped(reply: str, agent: str | None) -> None:
    expected = "We'll look into it." + (" Thanks" if agent else "")
    assert normalise_reply(reply, agent=agent) == expected


def test_a_signature_before_a_trailing_link_is_stripped_and_the_link_kept() -> None:
    text = normalise_reply("@sam Can you DM us? /QT https://t.co/AbC123")
    assert text == "Can you DM us? https://t.co/AbC123"


def test_numbers_that_look_like_pages_are_kept_when_they_are_not() -> None:
    assert normalise_reply("@sam We are open 24/7 ^JK") == "We are open 24/7"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("@sam Hi Sarah, we're on it.", "Hi {customer}, we're on it."),
        ("@sam Hey Sarah! We're on it.", "Hey {customer}! We're on it."),
        ("@sam Hello, Marta. We're on it.", "Hello, {customer}. We're on it."),
        ("@sam Hi there, we're on it.", "Hi there, we're on it."),
    ],
)
def test_a_greeting_name_becomes_the_customer_placeholder(reply: str, expected: str) -> None:
    assert normalise_reply(reply) == expected


def test_the_customers_known_first_name_becomes_the_placeholder_anywhere() -> None:
    text = normalise_reply("@sam Thanks for waiting, Priya.", customer="Priya")
    assert text == "Thanks for waiting, {customer}."


def test_html_entities_are_decoded_and_braces_cannot_become_placeholders() -> None:
    assert normalise_reply("@sam Tea &amp; {coffee}") == "Tea & (coffee)"


# ---- learning -----------------------------------------------------------------------------------


def test_near_duplicate_replies_become_one_template_per_cluster() -> None:
    by_brand = _templates(_skylark() + _nimbus())
    assert sorted(by_brand) == [NIMBUS, SKYLARK]
    delay = _only(by_brand[SKYLARK], "delay")
    assert delay.text == (
        "Hi {customer}, sorry about the delay! Please DM us your booking code and we'll "
        "check your connection."
    )
    assert delay.brands == (SKYLARK,)
    assert delay.tags == ("learned",)
    assert delay.lang == "en"
    assert len(by_brand[SKYLARK]) == 3  # delay, refund, bag; the birthday reply was sent once


def test_a_template_keeps_its_mentions_as_examples_and_triggers() -> None:
    delay = _only(_templates(_skylark())[SKYLARK], "delay")
    assert len(delay.examples) == 3
    assert all("@" not in e for e in delay.examples)
    assert any("delayed" in t for t in delay.triggers)
    assert 1 <= len(delay.triggers) <= 5


def test_varying_order_numbers_become_a_reference_slot() -> None:
    refund = _only(_templates(_skylark())[SKYLARK], "refund")
    assert refund.text.startswith("Your refund for order {reference?} is on its way")
    assert refund.slots == ("reference",)


def test_varying_times_become_a_time_slot() -> None:
    bill = _only(_templates(_nimbus())[NIMBUS], "bill")
    assert bill.text == "Sorry about the bill! A specialist will call you at {time?} today."


def test_a_help_link_the_cluster_shares_is_kept_as_the_link_placeholder() -> None:
    bags = _only(_templates(_skylark())[SKYLARK], "bag")
    assert bags.text == "We're sorry your bag is late. Please file a report here: {link}"
    assert bags.link == "https://help.skylark.example/bags"


def test_a_link_each_reply_has_alone_becomes_a_slot_for_the_agent() -> None:
    pairs = [
        _pair(SKYLARK, f"@SkylarkAir seat problem {n}", f"@x Tell us more at {url} ^JK")
        for n, url in enumerate(("https://t.co/aaa111", "https://t.co/bbb222"))
    ]
    [template] = _templates(pairs)[SKYLARK]
    assert template.text == "Tell us more at {url?}"
    assert template.link == ""


def test_a_short_span_that_varies_in_most_replies_becomes_a_detail_slot() -> None:
    pairs = [
        _pair(
            NIMBUS,
            f"@NimbusMobile my {item} broke",
            f"@x Sorry your {item} stopped working. "
            "Please visit a store and we will swap it for free. ^MB",
        )
        for item in ("phone", "tablet", "router", "watch")
    ]
    [template] = _templates(pairs)[NIMBUS]
    assert template.text == (
        "Sorry your {detail?} stopped working. Please visit a store and we will swap it for free."
    )


def test_a_name_that_varies_after_a_comma_becomes_the_customer_placeholder() -> None:
    pairs = [
        _pair(
            SKYLARK, "@SkylarkAir best crew ever", f"@x Glad you enjoyed it, {name}! See you soon."
        )
        for name in ("Tomas", "Dana")
    ]
    [template] = _templates(pairs)[SKYLARK]
    assert template.text == "Glad you enjoyed it, {customer}! See you soon."


def test_min_cluster_is_respected_by_replies_without_a_link() -> None:
    pairs = _skylark()
    linked = _only(_templates(pairs)[SKYLARK], "{link}")
    assert len(_templates(pairs, min_cluster=2)[SKYLARK]) == 3
    assert [t.text for t in _templates(pairs, min_cluster=3)[SKYLARK]] == [
        _only(_templates(pairs)[SKYLARK], "delay").text,
        linked.text,
    ]
    # a help link the brand sent is kept however few replies carried it
    assert [t.text for t in _templates(pairs, min_cluster=4)[SKYLARK]] == [linked.text]


def test_replies_sending_the_same_link_make_one_template_whatever_their_wording() -> None:
    link = "https://help.skylark.example/bags"
    pairs = [
        _pair(SKYLARK, "@SkylarkAir my bag never arrived", f"@a So sorry! File a report: {link}"),
        _pair(SKYLARK, "@SkylarkAir where is my suitcase", f"@b Please start a trace here {link}"),
        _pair(SKYLARK, "@SkylarkAir lost luggage at LIS", f"@c Let's find it together: {link} ^JK"),
    ]
    [template] = _templates(pairs)[SKYLARK]
    assert template.link == link and "{link}" in template.text and template.uses == 3
    assert len(template.examples) == 3  # every answered post is remembered


def test_a_link_sent_once_is_kept_and_one_sent_per_customer_becomes_a_slot() -> None:
    pairs = [
        _pair(SKYLARK, "@SkylarkAir pets in cabin?", "@a Our pet rules: https://sky.example/pets"),
        _pair(SKYLARK, "@SkylarkAir my refund?", "@b Track your refund here: https://t.co/aaa1"),
        _pair(SKYLARK, "@SkylarkAir refund status", "@c Track your refund here: https://t.co/bbb2"),
    ]
    templates = _templates(pairs)[SKYLARK]
    assert _only(templates, "pet").link == "https://sky.example/pets"
    assert "{url?}" in _only(templates, "refund").text  # a different link for each customer


def test_a_stricter_similarity_splits_clusters() -> None:
    loose, strict = learn(_skylark(), similarity=80), learn(_skylark(), similarity=99)
    delay = _only(loose.by_brand[SKYLARK], "delay")
    assert loose.support[SKYLARK][delay.id] == 3
    assert strict.support[SKYLARK][delay.id] == 2  # "Hey Cara! Sorry…" is no longer alike


def test_ids_are_slugs_unique_per_brand() -> None:
    pairs = [
        _pair(SKYLARK, "@SkylarkAir where is my bag", "@x Please DM us your bag tag. ^JK"),
        _pair(SKYLARK, "@SkylarkAir bag missing", "@x Please DM us your bag tag. ^JK"),
        _pair(SKYLARK, "@SkylarkAir where is my bag", "@x Please DM us the bag tag number. ^JK"),
        _pair(SKYLARK, "@SkylarkAir bag missing", "@x Please DM us the bag tag number. ^JK"),
    ]
    templates = _templates(pairs, similarity=95)[SKYLARK]
    ids = [t.id for t in templates]
    assert len(ids) == 2 == len(set(ids))
    assert all(i.startswith("skylark-air-dm-bag-tag") for i in ids)  # brand first: unique


def test_mention_language_decides_the_template_language() -> None:
    pairs = [
        _pair(SKYLARK, text, "@x Hola, por favor envíanos un mensaje directo. ^JK")
        for text in (
            "@SkylarkAir mi vuelo está retrasado y nadie me dice nada",
            "@SkylarkAir perdieron mi maleta en el aeropuerto de Madrid",
        )
    ]
    [template] = _templates(pairs)[SKYLARK]
    assert template.lang == "es"


def test_a_template_too_long_for_x_is_trimmed_or_dropped_and_counted() -> None:
    long_tail = " ".join(["This sentence only pads the reply out."] * 5)
    one_sentence = "x" * 250
    pairs = [
        _pair(SKYLARK, "@SkylarkAir help", f"@x Hi Ann, sorry! We are on it. {long_tail} ^JK"),
        _pair(SKYLARK, "@SkylarkAir help", f"@x Hi Bo, sorry! We are on it. {long_tail} ^JK"),
        _pair(NIMBUS, "@NimbusMobile help", f"@x Hi Ann, {one_sentence}"),
        _pair(NIMBUS, "@NimbusMobile help", f"@x Hi Bo, {one_sentence}"),
    ]
    found = learn(pairs)
    [template] = found.by_brand[SKYLARK]
    assert worst_case_length(template, brand=SKYLARK) <= lengths.X_LIMIT
    assert template.text.startswith("Hi {customer}, sorry! We are on it.")
    assert (found.trimmed, found.dropped) == (1, 1)
    assert NIMBUS not in found.by_brand


def test_pairs_without_a_brand_are_left_out() -> None:
    pairs = [
        Pair(
            make_mention("help", native_id=n, author=Author(id="1")),
            "@a Hi!",
            None,
            None,
        )
        for n in range(3)
    ]
    assert learn(pairs).pairs == 0


def test_progress_is_reported_up_to_the_total() -> None:
    calls: list[tuple[int, int]] = []
    pairs = _skylark() + _nimbus()
    learn_playbooks(pairs, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(pairs), len(pairs))


def test_support_counts_the_replies_behind_each_template() -> None:
    found = learn(_skylark())
    delay = _only(found.by_brand[SKYLARK], "delay")
    assert found.support[SKYLARK][delay.id] == 3
    assert found.by_brand[SKYLARK][0] == delay  # most used first


def test_each_learned_template_carries_its_cluster_size_as_uses() -> None:
    found = learn(_skylark() + _nimbus())
    for brand, templates in found.by_brand.items():
        assert {t.id: t.uses for t in templates} == found.support[brand]
    assert _only(found.by_brand[SKYLARK], "delay").uses == 3


# ---- writing ------------------------------------------------------------------------------------


def test_one_file_per_brand_reloads_with_zero_problems(tmp_path: Path) -> None:
    by_brand = _templates(_skylark() + _nimbus())
    paths = write_playbooks(by_brand, tmp_path, pairs=12, learned_on=LEARNED_ON)
    assert [p.name for p in paths] == ["nimbus-mobile.toml", "skylark-air.toml"]
    for path, brand in zip(paths, (NIMBUS, SKYLARK), strict=True):
        text = path.read_text(encoding="utf-8")
        templates, problems = parse_playbook(text, source=path.name, brand=brand)
        assert [str(p) for p in problems] == []
        assert [replace(t, source="") for t in templates] == by_brand[brand]


def test_the_header_says_learned_from_how_many_pairs_and_when(tmp_path: Path) -> None:
    [path] = write_playbooks(_templates(_nimbus()), tmp_path, pairs=1234, learned_on=LEARNED_ON)
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("# Reply templates for Nimbus Mobile, learned")
    assert "1,234 mention → reply pairs" in header
    assert "2024-06-01" in header


def test_the_same_pairs_give_the_same_files(tmp_path: Path) -> None:
    contents = []
    for run in ("one", "two"):
        paths = write_playbooks(
            _templates(_skylark() + _nimbus()), tmp_path / run, pairs=12, learned_on=LEARNED_ON
        )
        contents.append([p.read_bytes() for p in paths])
    assert contents[0] == contents[1]


def test_awkward_text_survives_the_toml_round_trip(tmp_path: Path) -> None:
    reply = '@x Tap "Help" \\ then "Refunds"\u007f \u2014 ça marche 😊 ^JK'
    pairs = [_pair(SKYLARK, f"@SkylarkAir how do I get a refund {n}", reply) for n in range(2)]
    by_brand = _templates(pairs)
    [path] = write_playbooks(by_brand, tmp_path, learned_on=LEARNED_ON)
    templates, problems = parse_playbook(
        path.read_text(encoding="utf-8"), source="x", brand=SKYLARK
    )
    assert problems == []
    assert templates[0].text == by_brand[SKYLARK][0].text


def test_uses_are_written_and_read_back(tmp_path: Path) -> None:
    by_brand = _templates(_skylark())
    [path] = write_playbooks(by_brand, tmp_path, learned_on=LEARNED_ON)
    text = path.read_text(encoding="utf-8")
    assert "\nuses = 3\n" in text
    templates, problems = parse_playbook(text, source=path.name, brand=SKYLARK)
    assert problems == []
    assert [t.uses for t in templates] == [t.uses for t in by_brand[SKYLARK]]
    assert templates[0].uses == 3


def test_a_template_without_uses_writes_no_uses_line(tmp_path: Path) -> None:
    template = Template(id="hello", title="Hello", text="Hi {customer}!", triggers=("hello",))
    [path] = write_playbooks({SKYLARK: [template]}, tmp_path, learned_on=LEARNED_ON)
    text = path.read_text(encoding="utf-8")
    assert "uses" not in text
    [parsed], problems = parse_playbook(text, source=path.name)
    assert (parsed.uses, problems) == (0, [])


@pytest.mark.parametrize(
    ("value", "message"),
    [("-1", "-1 is out of range"), ('"12"', "expected a whole number, got str")],
)
def test_bad_uses_are_a_problem_with_a_fix(value: str, message: str) -> None:
    text = f'[[template]]\nid = "hi"\ntext = "Hi"\ntriggers = ["hi"]\nuses = {value}\n'
    templates, [problem] = parse_playbook(text, source="x.toml")
    assert templates == []
    assert (problem.where, problem.message) == ("template[1].uses", message)
    assert problem.fix


# ---- reading ------------------------------------------------------------------------------------


def _line(pair: dict[str, Any]) -> str:
    return json.dumps(pair, ensure_ascii=False)


GOOD = {
    "mention": {
        "id": "x:1",
        "network": "x",
        "brand": SKYLARK,
        "text": "@SkylarkAir my bag is lost",
        "author": {"id": "9", "handle": "nia"},
        "created_at": "2024-05-01T09:00:00+00:00",
    },
    "reply": {
        "text": "@nia Sorry! DM us. ^JK",
        "created_at": "2024-05-01T09:05:00Z",
        "agent": "JK",
    },
}


def test_good_lines_become_pairs() -> None:
    pairs, problems = read_pairs([_line(GOOD)])
    assert problems == []
    [pair] = pairs
    assert pair.mention.brand == SKYLARK
    assert pair.reply_text == "@nia Sorry! DM us. ^JK"
    assert pair.replied_at == datetime(2024, 5, 1, 9, 5, tzinfo=UTC)
    assert pair.agent == "JK"


def test_bad_lines_are_reported_with_line_numbers_and_good_ones_kept() -> None:
    no_reply = {"mention": GOOD["mention"]}
    bad_time = {**GOOD, "reply": {"text": "ok", "created_at": "yesterday"}}
    no_text = {**GOOD, "mention": {"id": "x:2"}}
    lines = [_line(GOOD), "{not json", "", _line(no_reply), _line(bad_time), _line(no_text), "[1]"]
    pairs, problems = read_pairs(lines, source="history.jsonl")
    assert len(pairs) == 1
    assert [p.line for p in problems] == [2, 4, 5, 6, 7]
    assert all(p.source == "history.jsonl" and p.fix for p in problems)
    assert "not valid JSON" in problems[0].message
    assert problems[1].where == "reply"
    assert problems[2].where == "reply.created_at"
    assert problems[3].where == "mention" and '"text" is missing' in problems[3].message
    assert str(problems[0]).startswith("history.jsonl:2:")


# Regression: two brands learning the same reply wrote the same id, so the folder failed lint.
def test_two_brands_learning_the_same_reply_write_a_folder_that_lints_clean(
    tmp_path: Path,
) -> None:
    thanks = "@x You're welcome, have a great day! ^JK"
    pairs = [
        _pair(brand, f"@{brand} thanks {i}", thanks) for brand in (SKYLARK, NIMBUS) for i in (1, 2)
    ]
    write_playbooks(learn_playbooks(pairs), tmp_path)
    _, problems = check_playbooks(tmp_path)
    assert problems == []
