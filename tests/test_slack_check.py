"""`earshot check --online` asks Slack what the installed app may do; a bad or wrong-kind token
at start-up is one line with the fix and exit 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.sandbox.harness import SANDBOX_ENV, Sandbox
from bot.slack.scopes import needed_scopes

ROOT = Path(__file__).resolve().parent.parent
TOKEN_VAR = "EARSHOT_SANDBOX_SLACK_BOT_TOKEN"


def check_online(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, list[str]]:
    for name, value in SANDBOX_ENV.items():
        monkeypatch.setenv(name, os.environ.get(f"TEST_{name}", value))
    code = main(["check", "--config", str(sandbox.workdir / "earshot.toml"), "--online"])
    captured = capsys.readouterr()
    return code, [line for line in (captured.out + captured.err).splitlines() if line]


def test_check_online_passes_for_the_manifests_app_and_the_configs_channels(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, lines = check_online(sandbox, capsys, monkeypatch)

    assert code == 0, lines
    assert lines[-1].startswith("Slack: OK")
    assert sandbox.slack.calls("auth.test") and sandbox.slack.calls("conversations.list")


def test_check_online_lists_each_problem_with_its_fix(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = sandbox.slack
    slack.scopes = needed_scopes() - {"files:write"}  # the old manifest's gap
    slack.archive_channel("#care-delays")
    slack.make_private("#care-korea")
    slack.invite_bot("#care-korea", member=False)
    slack.invite_bot("#care-booking", member=False)
    slack.delete_channel("#care-leads")

    code, lines = check_online(sandbox, capsys, monkeypatch)

    assert code == 1
    assert lines[-1] == "Slack: 5 problem(s)."
    by_where = {line.split(":", 1)[0]: line for line in lines[:-1]}
    assert "files:write" in by_where["Slack app"] and "reinstall" in by_where["Slack app"]
    assert "archived" in by_where["#care-delays"] and "unarchive" in by_where["#care-delays"]
    assert "`/invite @Earshot` in #care-korea" in by_where["#care-korea"]  # private: unseen
    assert "not in it" in by_where["#care-booking"]
    assert "leads.channel" in by_where["#care-leads"]
    assert all(". Fix: " in line for line in lines[:-1])


@pytest.mark.parametrize(
    ("token", "said"),
    [
        ("xoxp-1-user-token", "user token (xoxp-"),
        ("xapp-1-app-token", "app-level token (xapp-"),
        ("xoxb-not-this-workspace", "invalid_auth"),
    ],
)
def test_check_online_says_what_is_wrong_with_the_token(
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    token: str,
    said: str,
) -> None:
    monkeypatch.setenv(f"TEST_{TOKEN_VAR}", token)

    code, lines = check_online(sandbox, capsys, monkeypatch)

    assert code == 1
    assert said in lines[0] and "Fix: " in lines[0] and TOKEN_VAR in lines[0]


def test_check_online_without_the_token_is_bad_usage(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"TEST_{TOKEN_VAR}", "")

    code, lines = check_online(sandbox, capsys, monkeypatch)

    assert code == 2
    assert TOKEN_VAR in "\n".join(lines)


@pytest.mark.parametrize(
    ("token", "said"),
    [
        ("xoxb-revoked-or-wrong", "invalid_auth"),
        ("xoxp-1-user-token", "user token"),
        ("xapp-1-app-token", "app-level token"),
    ],
)
def test_run_with_a_bad_token_says_one_line_and_exits_2(
    sandbox: Sandbox, token: str, said: str
) -> None:
    env = {**os.environ, **SANDBOX_ENV, TOKEN_VAR: token, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(sandbox.workdir / "earshot.toml")],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert said in lines[0] and "Fix: " in lines[0] and "Traceback" not in done.stderr
    assert sandbox.slack.calls("chat.postMessage") == []  # nothing started


def test_run_in_socket_mode_with_a_bot_token_as_app_token_exits_2(sandbox: Sandbox) -> None:
    env = {
        **os.environ,
        **SANDBOX_ENV,
        "EARSHOT_SANDBOX_SLACK_APP_TOKEN": SANDBOX_ENV[TOKEN_VAR],
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(sandbox.workdir / "earshot.toml")],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "xapp-" in done.stderr and len(done.stderr.strip().splitlines()) == 1
