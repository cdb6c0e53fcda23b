"""bot/library.py: live playbooks — translations by language, reload all-or-nothing, on change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.live.library import Answered, Library
from bot.problems import ProblemsError

EN = """\
[[template]]
id = "refund-status"
title = "Refund status"
lang = "en"
triggers = ["where is my refund"]
text = "Hi {customer}, DM us your booking code and we'll check your refund."
"""
KO = EN.replace('lang = "en"', 'lang = "ko"').replace('title = "Refund status"', 'title = "환불"')


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


def test_a_translation_is_picked_by_the_mentions_language(tmp_path: Path) -> None:
    library = Library(folder=_folder(tmp_path, en=EN, ko=KO), brand="Skylark Air")
    assert library.get("refund-status", "ko").title == "환불"  # type: ignore[union-attr]
    assert library.get("refund-status", "en").title == "Refund status"  # type: ignore[union-attr]
    assert library.get("refund-status", "fr") is not None  # some translation beats none
    assert library.get("nope") is None
    assert library.choices() == (("refund-status", "Refund status"),)


def test_a_broken_folder_at_start_up_raises_every_problem(tmp_path: Path) -> None:
    broken = EN.replace("{customer}", "{custmer}")
    with pytest.raises(ProblemsError) as caught:
        Library(folder=_folder(tmp_path, en=broken), brand="Skylark Air")
    assert "custmer" in str(caught.value.problems[0])


def test_a_broken_reload_keeps_the_templates_in_use(tmp_path: Path) -> None:
    folder = _folder(tmp_path, en=EN)
    library = Library(folder=folder, brand="Skylark Air")
    (folder / "more.toml").write_text(EN.replace("refund-status", "x").replace("{c", "{k"), "utf-8")
    result = library.reload()
    assert not result.ok and result.templates == 1
    assert library.get("refund-status") is not None and library.get("x") is None


def test_reload_if_changed_notices_a_saved_file_once(tmp_path: Path) -> None:
    folder = _folder(tmp_path, en=EN)
    library = Library(folder=folder, brand="Skylark Air")
    assert library.reload_if_changed() is None
    path = folder / "en.toml"
    path.write_text(EN.replace("Refund status", "Refunds"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    result = library.reload_if_changed()
    assert result is not None and result.ok
    assert library.get("refund-status").title == "Refunds"  # type: ignore[union-attr]
    assert library.reload_if_changed() is None


def test_a_missing_translation_is_a_problem_when_the_brand_names_its_languages(
    tmp_path: Path,
) -> None:
    with pytest.raises(ProblemsError) as caught:
        Library(folder=_folder(tmp_path, en=EN), brand="B", languages=("en", "ko"))
    assert "no ko translation" in str(caught.value.problems[0])


def test_history_and_teaching_rank_a_template_for_similar_posts(tmp_path: Path) -> None:
    other = (
        EN.replace("refund-status", "lost-bag")
        .replace("where is my refund", "my bag is lost")
        .replace("DM us your booking code and we'll check your refund.", "we'll trace your bag.")
    )
    folder = _folder(tmp_path, en=EN, bag=other)
    said = "Hi Dana, DM us your booking code and we'll check your refund."
    history = [Answered("the money never came back to my card", said, "", "B", "#billing", "en")]
    library = Library(folder=folder, brand="B", history=lambda: history)
    [top, *_] = library.suggester.suggest("money never came back to my card", lang="en", brand="B")
    assert top.template.id == "refund-status"  # taught by a freely typed, matching reply
