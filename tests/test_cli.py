"""The `earshot` command: check, triage, demo and run, as a user calls them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.sandbox.harness import SANDBOX_ENV, open_sandbox

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"

BROKEN = """\
[earshot]
log_level = "LOUD"

[brand]
name = "Skylark Air"
handle = "@SkylarkAir"

[slack]
api_ur = "https://slack.com/api/"
http_port = "3000"

[x]
poll_interval_seconds = 0

[routing]
fallback_channel = "General"

[[routing.rules]]
name = "refunds"
channel = "#care-billing"
regex = "(refund"

[[agents]]
slack_id = "jane"
name = "Jane Kim"
signature = "^JK"
"""


def test_check_accepts_the_example_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "7 routing rule(s)" in out and "3 agent(s)" in out


def test_check_lists_every_problem_at_once_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(BROKEN)
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "Found 8 problem(s)" in err
    for expected in (
        f"{config}:2: earshot.log_level",
        f"{config}:6: brand.handle",
        f'{config}:9: slack.api_ur: unknown key. Fix: did you mean "api_url"?',
        f"{config}:10: slack.http_port: expected a whole number",
        f"{config}:13: x.poll_interval_seconds: 0 is out of range",
        f"{config}:16: routing.fallback_channel",
        f"{config}:21: routing.rules[1].regex",
        f"{config}:24: agents[1].slack_id",
    ):
        assert expected in err
    assert "Traceback" not in err


def test_check_reports_playbook_problems_with_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    books = tmp_path / "books"
    books.mkdir()
    (books / "care.toml").write_text(
        '[[template]]\nid = "hi"\ntriggers = ["hello"]\ntext = "Hi {custmer}!"\n'
    )
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text().replace('playbooks = "playbooks"', 'playbooks = "books"'))
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "care.toml:4: template[1].text" in err and 'did you mean "customer"?' in err


def test_check_of_a_missing_file_says_how_to_start(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", "/nonexistent/config.toml"]) == 2
    assert "copy config.example.toml" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["check"],
        ["run"],
        ["demo"],
        ["triage"],
        ["routing"],
        ["routing", "teach"],
        ["routing", "export"],
    ],
)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert "usage: earshot" in capsys.readouterr().out


def test_run_without_secrets_names_every_missing_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "X_CONSUMER_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run", "--config", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "X_CONSUMER_KEY", "X_ACCESS_TOKEN"):
        assert f"variable {name} is not set" in err


def test_triage_prints_one_json_object_per_mention(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        {
            "id": "x:1",
            "text": "@SkylarkAir my bag never arrived in Lisbon",
            "author": {"handle": "a"},
        },
        "this line is not json",
        {"id": "x:2", "text": "@SkylarkAir 환불 언제 되나요? 아직 안 들어왔어요", "lang": "ko"},
        {"text": "no id here"},
    ]
    source = tmp_path / "mentions.jsonl"
    source.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines))
    code = main(["triage", "--jsonl", str(source), "--config", str(EXAMPLE), "--top", "2"])
    out, err = capsys.readouterr()
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == ["x:1", "x:2"]
    keys = {
        "id",
        "channel",
        "rule",
        "why",
        "sentiment",
        "sentiment_score",
        "priority",
        "lang",
        "suggestions",
    }
    assert all(keys <= set(r) for r in records)
    assert records[0]["channel"] == "#care-baggage" and records[0]["rule"] == "baggage"
    assert records[0]["suggestions"][0]["template"] == "baggage-missing"
    assert records[0]["suggestions"][0]["text"].startswith("So sorry your bag")
    assert records[1]["channel"] == "#care-korea" and records[1]["lang"] == "ko"
    assert "line 2: not valid JSON" in err and 'line 4: "id" is missing' in err
    assert "triaged 2 mention(s), skipped 2 bad line(s)" in err


def test_triage_renders_every_suggestion_and_says_why_the_priority(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `earshot triage` prints is what an agent would get: the help link filled in, a
    popular template labelled as such (no score), and the reasons for the priority."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "skylark.toml").write_text(
        '[[template]]\nid = "damaged"\ntriggers = ["my bag was damaged"]\n'
        'text = "Sorry, {customer}! Start a claim here: {link}"\n'
        'link = "https://help.skylark.example/claim"\nuses = 4\n'
        '[[template]]\nid = "dm-us"\ntriggers = ["please help me"]\n'
        'text = "Please DM us: {link}"\nlink = "https://help.skylark.example/dm"\nuses = 9\n'
    )
    source = tmp_path / "m.jsonl"
    mention = {"id": "5", "text": "URGENT my bag was damaged", "author": {"name": "Dana Ruiz"}}
    source.write_text(json.dumps(mention) + "\n")
    assert main(["triage", "--jsonl", str(source), "--playbooks", str(book)]) == 0
    [first, second] = json.loads(capsys.readouterr().out)["suggestions"]
    assert first["text"] == "Sorry, Dana! Start a claim here: https://help.skylark.example/claim"
    assert first["via"] == "trigger" and first["score"] >= 60
    assert second == {
        "template": "dm-us",
        "score": None,
        "via": "popular",
        "why": "often sent (9 times)",
        "text": "Please DM us: https://help.skylark.example/dm",
    }


def test_triage_says_why_a_mention_has_its_priority(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "m.jsonl"
    text = "@SkylarkAir URGENT you charged me twice, I want a refund now. Worst airline ever!!"
    source.write_text(json.dumps({"id": "9", "text": text}) + "\n")
    assert main(["triage", "--jsonl", str(source)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["priority"] in ("high", "urgent")
    assert record["priority_reasons"] == ["very negative", "asks for “refund”"]


def test_triage_without_config_uses_the_fallback_and_bundled_playbooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "m.jsonl"
    source.write_text(json.dumps({"id": "7", "text": "thank you so much, great crew!"}) + "\n")
    assert main(["triage", "--jsonl", str(source)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["id"] == "x:7" and record["channel"] == "#care-general"
    assert record["rule"] is None and record["sentiment"] == "positive"


def test_demo_once_runs_the_whole_loop_and_exits_0(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--once"],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    public = [line for line in done.stdout.splitlines() if "posted publicly" in line]
    assert len(public) == 3
    assert public[0].rstrip("”").endswith("today. ^JK") and public[1].rstrip("”").endswith("^MP")
    assert public[2].rstrip("”").endswith("^TL")  # the trainee's, once a lead approved it
    assert "Only agents configured for Skylark Air" in done.stdout
    assert "internal note" in done.stdout and "Send for approval" in done.stdout
    _later_that_day(done.stdout, tmp_path)


def _later_that_day(out: str, tmp_path: Path) -> None:
    """The clock jumps ahead: an SLA reminder pings the agent, the breach pages the leads, a lead
    reads /mentions stats, and the digest's chart is written where the transcript says."""
    lines = out.splitlines()
    [reminder] = [line for line in lines if "⏰" in line and "@Jane Kim Case #3" in line]
    assert "nearing its first response target" in reminder
    breaches = [line for line in lines if "🚨 Slack #care-leads  @care-leads SLA breached" in line]
    assert any("case #3" in line and "Claimed by Jane Kim" in line for line in breaches)
    assert "/mentions stats today" in out and "first response median" in out
    [chart] = [line.split("chart written to ", 1)[1] for line in lines if "chart written" in line]
    assert Path(chart).parent == tmp_path / "earshot-demo"
    assert Path(chart).read_bytes().startswith(b"\x89PNG")


def test_run_serves_slack_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with open_sandbox(tmp_path) as sandbox:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--config", str(tmp_path / "earshot.toml")],
            cwd=ROOT,
            env={**os.environ, **SANDBOX_ENV, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        try:
            assert "Earshot is running for @SkylarkAir" in process.stdout.readline()
            sandbox.x.add_post(text="@SkylarkAir my bag is lost", author={"handle": "dana"})
            sandbox.slack.wait_for(sandbox.slack.messages, timeout=30)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
            assert "Stopped." in process.stdout.read()
        finally:
            process.kill()
            process.wait()


LABELLED = [
    {
        "mention": {"id": "x:11", "text": "the seat pitch on this aircraft is tiny"},
        "channel": "#care-inflight",
    },
    {
        "mention": {"id": "x:12", "text": "tiny seat and no legroom on the aircraft"},
        "channel": "#care-inflight",
    },
    {
        "mention": {"id": "x:13", "text": "aircraft seat broken, no legroom"},
        "channel": "#care-inflight",
    },
    {
        "mention": {"id": "x:14", "text": "the lounge staff were rude at the gate"},
        "channel": "#care-service",
    },
    {
        "mention": {"id": "x:15", "text": "rude staff at the lounge desk"},
        "channel": "#care-service",
    },
    {
        "mention": {"id": "x:16", "text": "gate staff rude and unhelpful"},
        "channel": "#care-service",
    },
]


def test_routing_teach_imports_labelled_examples_and_reports_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "labelled.jsonl"
    lines = [json.dumps(x) for x in LABELLED] + ['{"mention": {"id": "x:9"}, "channel": "#a"}', "{"]
    source.write_text("\n".join(lines))
    db = tmp_path / "earshot.db"
    assert main(["routing", "teach", "--jsonl", str(source), "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert "taught 6 example(s), skipped 2 bad line(s)" in out
    assert 'line 7: mention: "text" is missing' in err and "line 8: not valid JSON" in err


def test_triage_with_a_database_uses_learned_routing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, db = tmp_path / "labelled.jsonl", tmp_path / "earshot.db"
    source.write_text("\n".join(json.dumps(x) for x in LABELLED))
    main(["routing", "teach", "--jsonl", str(source), "--db", str(db)])
    mentions = tmp_path / "m.jsonl"
    mentions.write_text(json.dumps({"id": "1", "text": "no legroom on this aircraft at all"}))
    capsys.readouterr()
    args = ["triage", "--jsonl", str(mentions), "--config", str(EXAMPLE), "--db", str(db)]
    assert main(args) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["channel"] == "#care-inflight" and record["via"] == "learned"
    assert record["rule"] is None and "learned from 6 examples" in record["why"]


def test_routing_export_writes_the_live_rules_as_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import tomllib

    from bot.config.settings import load_config

    with open_sandbox(tmp_path) as sandbox:
        sandbox.start_bot()
        sandbox.stop_bot()
    out = tmp_path / "rules.toml"
    assert main(["routing", "export", "--db", str(tmp_path / "earshot.db"), "--out", str(out)]) == 0
    exported = tomllib.loads(out.read_text())
    names = [rule["name"] for rule in exported["routing"]["rules"]]
    assert names[:3] == ["legal", "vip", "korean"]
    config = load_config(tmp_path / "earshot.toml")
    assert [r.name for r in config.rules] == names


def test_routing_without_a_database_says_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["routing", "export"]) == 2
    assert "pass --db earshot.db or --config config.toml" in capsys.readouterr().err
