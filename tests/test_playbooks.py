"""bot/playbooks.py and bot/config.py:load_playbooks: templates as TOML, checked before use."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import make_mention

from bot.config.settings import BUNDLED_PLAYBOOKS, load_playbooks
from bot.decide import lengths, voice
from bot.decide.playbooks import Template, fill_slots, parse_playbook, placeholder_values, render
from bot.live.library import check_playbooks

BUNDLED_FILES = sorted(BUNDLED_PLAYBOOKS.glob("*.toml"))

GOOD = """\
[[template]]
id = "refund-status"
title = "Refund status"
lang = "en"
triggers = ["where is my refund"]
text = "Hi {customer}, sorry for the wait. Could you DM us your booking code?"
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- the bundled playbooks --------------------------------------------------------------------


def test_there_are_bundled_playbook_files() -> None:
    assert BUNDLED_FILES, f"no *.toml in {BUNDLED_PLAYBOOKS}"


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=lambda p: p.name)
def test_every_bundled_playbook_file_loads_with_zero_problems(path: Path) -> None:
    templates, problems = parse_playbook(
        path.read_text(encoding="utf-8"), source=str(path), brand="Skylark Air"
    )
    assert [str(p) for p in problems] == []
    assert templates


def test_the_bundled_folder_loads_as_a_whole_with_unique_ids_per_language() -> None:
    templates, problems = check_playbooks(BUNDLED_PLAYBOOKS, brand="Skylark Air")
    assert [str(p) for p in problems] == []
    assert len({(t.id, t.lang) for t in templates}) == len(templates)
    assert any(t.lang == "ko" for t in templates)  # translations share the English ids


def _bundled_templates() -> list[Template]:
    templates, _ = load_playbooks(BUNDLED_PLAYBOOKS, brand="Skylark Air")
    return templates


@pytest.mark.parametrize("template", _bundled_templates(), ids=lambda t: t.id)
def test_every_bundled_template_renders_within_x_limit_for_a_long_name(template: Template) -> None:
    mention = make_mention(
        author_id="1", name="Wolfeschlegelsteinhausenberger Smith", handle="a_very_long_hand"
    )
    values = placeholder_values(
        mention, brand="Skylark Air", agent="Maximiliana", link=template.link
    )
    filled = fill_slots(render(template.text, values), {s: "x" * 20 for s in template.slots})
    public = voice.sign(filled, "^MP")
    assert lengths.weighted_length(public) <= lengths.X_LIMIT
    assert "{" not in public


# ---- problems in a playbook file --------------------------------------------------------------


def test_a_good_playbook_parses_into_templates() -> None:
    templates, problems = parse_playbook(GOOD, source="care.toml")
    assert problems == []
    assert templates == [
        Template(
            id="refund-status",
            title="Refund status",
            text="Hi {customer}, sorry for the wait. Could you DM us your booking code?",
            triggers=("where is my refund",),
            lang="en",
            source="care.toml",
        )
    ]


@pytest.mark.parametrize(("typo", "meant"), [("custmer", "customer"), ("agnt", "agent")])
def test_unknown_placeholder_is_reported_with_file_line_and_did_you_mean(
    typo: str, meant: str
) -> None:
    text = GOOD.replace("{customer}", "{" + typo + "}")
    templates, problems = parse_playbook(text, source="care.toml")
    assert templates == []
    [problem] = problems
    assert problem.source == "care.toml"
    assert problem.where == "template[1].text"
    assert problem.line == 6
    assert f"{{{typo}}}" in problem.message
    assert f'did you mean "{meant}"' in problem.fix


def test_unknown_placeholder_without_a_close_spelling_lists_the_known_ones() -> None:
    text = GOOD.replace("{customer}", "{zzzz}")
    [problem] = parse_playbook(text, source="care.toml")[1]
    assert "{customer}" in problem.fix
    assert "{brand}" in problem.fix


def test_duplicate_ids_across_two_files_are_reported(tmp_path: Path) -> None:
    _write(tmp_path, "a.toml", GOOD)
    _write(tmp_path, "b.toml", GOOD.replace("where is my refund", "money back"))
    templates, problems = load_playbooks(tmp_path)
    assert len(templates) == 2
    [problem] = problems
    assert problem.source.endswith("b.toml")
    assert 'template id "refund-status"' in problem.message
    assert "a.toml" in problem.message
    assert problem.fix


def test_toml_syntax_error_is_reported_not_raised(tmp_path: Path) -> None:
    _write(tmp_path, "broken.toml", "[[template]\nid = 'x'\n")
    _write(tmp_path, "good.toml", GOOD)
    templates, problems = load_playbooks(tmp_path)
    assert [t.id for t in templates] == ["refund-status"]
    [problem] = problems
    assert problem.source.endswith("broken.toml")
    assert "not valid TOML" in problem.message
    assert "line 1" in problem.message


def test_a_template_that_can_overflow_280_once_rendered_is_reported() -> None:
    # 230 characters fit alone, but a 50-character name and a signature push it past 280.
    text = GOOD.replace("sorry for the wait. Could you DM us your booking code?", "x" * 230)
    templates, problems = parse_playbook(text, source="care.toml")
    assert templates == []
    [problem] = problems
    assert problem.where == "template[1].text"
    assert "can reach" in problem.message
    assert "280" in problem.message
    assert problem.fix == "shorten the text"


def test_a_long_brand_name_counts_towards_the_overflow_check() -> None:
    text = GOOD.replace(
        "sorry for the wait. Could you DM us your booking code?", "{brand} " + "x" * 180
    )
    assert parse_playbook(text, source="care.toml", brand="Skylark Air")[1] == []
    assert parse_playbook(text, source="care.toml", brand="B" * 60)[1] != []


@pytest.mark.parametrize("key", ["id", "text"])
def test_missing_required_key_is_reported_with_its_key_path(key: str) -> None:
    lines = [line for line in GOOD.splitlines() if not line.startswith(f"{key} =")]
    second = "\n".join(lines).replace('id = "refund-status"', 'id = "second"')
    text = GOOD + "\n" + second + "\n"
    templates, problems = parse_playbook(text, source="care.toml")
    assert [t.id for t in templates] == ["refund-status"]
    [problem] = problems
    assert problem.where == f"template[2].{key}"
    assert "missing" in problem.message
    assert problem.line == 8  # the second [[template]] header


def test_a_template_with_neither_triggers_nor_examples_cannot_be_suggested() -> None:
    text = "\n".join(line for line in GOOD.splitlines() if not line.startswith("triggers"))
    _, [problem] = parse_playbook(text, source="care.toml")
    assert problem.where == "template[1].triggers"
    assert "no triggers" in problem.message


def test_a_problem_in_one_template_keeps_the_others() -> None:
    text = GOOD + GOOD.replace("refund-status", "other").replace("{customer}", "{who}")
    templates, problems = parse_playbook(text, source="care.toml")
    assert [t.id for t in templates] == ["refund-status"]
    assert [p.where for p in problems] == ["template[2].text"]


def test_an_empty_folder_is_one_problem(tmp_path: Path) -> None:
    templates, problems = load_playbooks(tmp_path)
    assert templates == []
    [problem] = problems
    assert "no templates" in problem.message


def test_a_missing_folder_is_one_clear_problem(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    templates, problems = load_playbooks(missing)
    assert templates == []
    [problem] = problems
    assert problem.source == str(missing)
    assert "not found" in problem.message
    assert "earshot.playbooks" in problem.fix


# Regression (fixed): load_playbooks lets UnicodeDecodeError escape for a non-UTF-8 file
def test_a_playbook_file_that_is_not_utf8_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "cp949.toml").write_bytes(GOOD.replace("sorry", "죄송").encode("cp949"))
    templates, problems = load_playbooks(tmp_path)
    assert templates == []
    [problem] = problems
    assert problem.source.endswith("cp949.toml")


# ---- render / placeholder_values --------------------------------------------------------------


def test_render_fills_known_placeholders_and_keeps_unknown_ones_visible() -> None:
    text = "Hi {customer}, about {order_id?} ({agent}) {{literal}}"
    assert render(text, {"customer": "Ann"}) == "Hi Ann, about {order_id?} ({agent}) {literal}"


@pytest.mark.parametrize(
    ("name", "handle", "expected"),
    [
        ("Ann Lee", "annlee", "Ann"),
        ("", "annlee", "@annlee"),
        ("   ", "annlee", "@annlee"),
        ("", "", "there"),
    ],
)
def test_customer_is_first_name_then_handle_then_there(
    name: str, handle: str, expected: str
) -> None:
    values = placeholder_values(
        make_mention(author_id="1", name=name, handle=handle), brand="Skylark", agent="Jane"
    )
    assert values["customer"] == expected


def test_placeholder_values_fill_handle_brand_and_agent() -> None:
    values = placeholder_values(
        make_mention(author_id="1", name="Ann Lee", handle="annlee"), brand="Sky", agent="Jo"
    )
    assert values == {
        "customer": "Ann",
        "customer_handle": "@annlee",
        "brand": "Sky",
        "agent": "Jo",
    }


def test_agent_stays_unfilled_when_there_is_no_agent() -> None:
    values = placeholder_values(
        make_mention(author_id="1", name="Ann", handle=""), brand="Skylark", agent=None
    )
    assert "agent" not in values
    assert render("Thanks {customer}, {agent} here", values) == "Thanks Ann, {agent} here"
