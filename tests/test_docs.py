"""Docs are part of the code: README, CI, config example and manifest stay in step with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli.main import _parser
from bot.config.fields import SCHEMA
from bot.schema import Key
from handlers.commands import SUBCOMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _fenced_commands() -> list[str]:
    return re.findall(r"```sh\n(python3 -m venv[^\n]+)\n```", README)


def test_the_readme_has_the_two_commands_for_a_fresh_machine() -> None:
    demo, tests = _fenced_commands()
    assert demo.endswith("earshot demo") and "pip install -e ." in demo
    assert "'.[test]'" in tests and "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _fenced_commands()[1] in ci.splitlines()


def test_every_cli_command_is_in_the_readme() -> None:
    commands = _parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"earshot {name}" in README


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_every_slash_subcommand_is_in_the_readme(sub: str) -> None:
    assert f"/mentions {sub}" in README


def _keys(schema: dict[str, Key], prefix: str = "") -> list[str]:
    found: list[str] = []
    for name, key in schema.items():
        if key.schema is not None:
            found += _keys(dict(key.schema), f"{prefix}{name}.")
        else:
            found.append(f"{prefix}{name}")
    return found


def _optional(key: str) -> bool:
    """Whether the key lies in an optional table (one that is None when absent)."""
    schema: dict[str, Key] | None = dict(SCHEMA)
    for part in key.split(".")[:-1]:
        spec = (schema or {})[part]
        if spec.kind == "table" and spec.default is None:
            return True
        schema = dict(spec.schema) if spec.schema else None
    return False


@pytest.mark.parametrize("key", _keys(SCHEMA))
def test_every_config_key_is_documented_in_the_example(key: str) -> None:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    name = key.rsplit(".", 1)[-1]
    # a key is set in the example, or (rule keys) explained in the comment above the rules, or
    # (optional sections such as [bluesky]) shown commented out
    optional = _optional(key)
    written = rf"^{name} = " if not key.startswith("routing.rules.") else rf"^(#\s+)?{name}\b"
    written = rf"^(# )?{name} = " if optional else written
    assert re.search(written, example, re.M), f"{key} missing from config.example.toml"
    assert name in README, f"{key} missing from the README's configuration reference"


def test_the_manifest_declares_what_the_bot_uses() -> None:
    manifest = (ROOT / "manifest.yaml").read_text(encoding="utf-8")
    for needed in (
        "- chat:write",
        "- chat:write.public",
        "- commands",
        "command: /mentions",
        "is_enabled: true",
        "/slack/events",
    ):
        assert needed in manifest


def test_the_changelog_has_an_unreleased_section() -> None:
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
