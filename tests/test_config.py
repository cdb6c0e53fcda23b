"""bot/config.py, bot/schema.py, bot/problems.py: one TOML file, every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.settings import (
    BUNDLED_PLAYBOOKS,
    Config,
    load_config,
    parse_config,
    resolve_secrets,
)
from bot.problems import Problem, ProblemsError, did_you_mean, line_index

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"

MINIMAL = """\
[brand]
name = "Skylark Air"
handle = "SkylarkAir"

[routing]
fallback_channel = "#care-general"
"""

# Every line number below is asserted by the many-mistakes test; keep them in step.
MANY_MISTAKES = """\
[earshot]
log_levl = "INFO"
database = 5

[slack]
http_port = "3000"

[x]
poll_interval_seconds = true

[routing]
fallback_channel = "#Care General"

[[routing.rules]]
name = "legal"
channel = "#care-legal"
regex = "(unclosed"

[[routing.rules]]
name = "legal"
channel = "#care-other"

[[agents]]
slack_id = "jane"
name = "Jane Kim"
signature = "^JK"

[[agents]]
slack_id = "U0MINJUN01"
name = "Min-jun Park"
signature = "^JK"
"""

ALL_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "signing",
    "X_CONSUMER_KEY": "ck",
    "X_CONSUMER_SECRET": "cs",
    "X_ACCESS_TOKEN": "at",
    "X_ACCESS_TOKEN_SECRET": "ats",
}


def _parse(text: str, base_dir: Path = Path("/srv/earshot")) -> Config:
    return parse_config(text, source="config.toml", base_dir=base_dir)


def _problems(text: str) -> tuple[Problem, ...]:
    with pytest.raises(ProblemsError) as caught:
        _parse(text)
    return caught.value.problems


# ---- loading --------------------------------------------------------------------------------


def test_the_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.brand.handle == "SkylarkAir"
    assert config.rules
    assert config.agents
    assert config.database == EXAMPLE.resolve().parent / "earshot.db"


def test_a_config_with_many_mistakes_lists_all_of_them_sorted_by_line() -> None:
    found = [(p.where, p.line) for p in _problems(MANY_MISTAKES)]
    assert found == [
        ("brand", None),  # a missing section has no line of its own
        ("earshot.log_levl", 2),
        ("earshot.database", 3),
        ("slack.http_port", 6),
        ("x.poll_interval_seconds", 9),
        ("routing.fallback_channel", 12),
        ("routing.rules[1].regex", 17),
        ("routing.rules[2]", 19),
        ("routing.rules[2].name", 20),
        ("agents[1].slack_id", 24),
        ("agents[2].signature", 31),
    ]


@pytest.mark.parametrize(
    ("where", "in_message", "in_fix"),
    [
        ("brand", "required section is missing", "add brand"),
        ("earshot.log_levl", "unknown key", 'did you mean "log_level"'),
        ("earshot.database", "expected a string, got int", "quotes"),
        ("slack.http_port", "expected a whole number, got str", "without quotes"),
        ("x.poll_interval_seconds", "expected a number, got bool", "without quotes"),
        ("routing.fallback_channel", "'#Care General' is not a Slack channel", "lowercase"),
        ("routing.rules[1].regex", "not a valid regular expression", "correct the pattern"),
        ("routing.rules[2]", "the rule has no condition", "add keywords, regex, languages"),
        ("routing.rules[2].name", "name 'legal' repeats routing.rules[1]", "own name"),
        ("agents[1].slack_id", "'jane' is not a Slack user id", "U0123ABCD"),
        ("agents[2].signature", "signature '^JK' repeats agents[1]", "distinct signature"),
    ],
)
def test_each_mistake_says_what_is_wrong_and_how_to_fix_it(
    where: str, in_message: str, in_fix: str
) -> None:
    by_key = {p.where: p for p in _problems(MANY_MISTAKES)}
    assert in_message in by_key[where].message
    assert in_fix in by_key[where].fix
    assert by_key[where].source == "config.toml"


@pytest.mark.parametrize(
    ("change", "where", "in_message"),
    [
        (('handle = "SkylarkAir"', 'handle = "@SkylarkAir"'), "brand.handle", "not an X handle"),
        (('name = "Skylark Air"', 'name = "  "'), "brand.name", "must not be empty"),
        (("[routing]", "[suggestions]\ntop = 9\n[routing]"), "suggestions.top", "out of range"),
        (("[routing]", "[slack]\napi_url = 'slack.com'\n[routing]"), "slack.api_url", "http(s)"),
    ],
)
def test_single_mistakes_in_a_minimal_config(
    change: tuple[str, str], where: str, in_message: str
) -> None:
    [problem] = _problems(MINIMAL.replace(*change))
    assert problem.where == where
    assert in_message in problem.message
    assert problem.line is not None


def test_duplicate_agent_ids_are_reported() -> None:
    agent = '[[agents]]\nslack_id = "U0JANEKIM1"\nname = "Jane"\nsignature = "^{sig}"\n'
    text = MINIMAL + agent.format(sig="A") + agent.format(sig="B")
    [problem] = _problems(text)
    assert problem.where == "agents[2].slack_id"
    assert problem.line == 12


# Regression (fixed): line_index keeps the comment in a '[table]  # ...' header, so keys lose lines
def test_a_table_header_with_a_trailing_comment_still_places_problems() -> None:
    text = MINIMAL.replace("[brand]", "[brand]  # who we are").replace(
        'handle = "SkylarkAir"', 'handle = "@SkylarkAir"'
    )
    [problem] = _problems(text)
    assert problem.line == 3


def test_optional_sections_get_their_defaults() -> None:
    config = _parse(MINIMAL)
    assert config.log_level == "INFO"
    assert config.slack.api_url == "https://slack.com/api/"
    assert config.slack.http_port == 3000
    assert config.x.poll_interval_seconds == 60.0
    assert config.x.page_size == 100
    assert config.x.search_queries == ()
    assert config.rules == ()
    assert config.agents == ()
    assert config.top_suggestions == 3
    assert config.min_score == 60.0


@pytest.mark.parametrize(
    ("written", "slack_url"),
    [
        ("http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api/"),
        ("http://127.0.0.1:8080/api/", "http://127.0.0.1:8080/api/"),
        ("http://127.0.0.1:8080/api//", "http://127.0.0.1:8080/api/"),
    ],
)
def test_slack_api_url_gets_exactly_one_trailing_slash(written: str, slack_url: str) -> None:
    config = _parse(MINIMAL + f'[slack]\napi_url = "{written}"\n')
    assert config.slack.api_url == slack_url


def test_x_api_url_loses_its_trailing_slash() -> None:
    config = _parse(MINIMAL + '[x]\napi_url = "http://127.0.0.1:9090/"\n')
    assert config.x.api_url == "http://127.0.0.1:9090"


def test_relative_database_and_playbooks_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "earshot.toml"
    path.parent.mkdir()
    earshot = '[earshot]\ndatabase = "data/e.db"\nplaybooks = "my-playbooks"\n'
    path.write_text(earshot + MINIMAL, encoding="utf-8")
    config = load_config(path)
    assert config.database == tmp_path / "conf" / "data" / "e.db"
    assert config.playbooks_dir == tmp_path / "conf" / "my-playbooks"


def test_an_absolute_database_path_is_kept(tmp_path: Path) -> None:
    config = _parse(f'[earshot]\ndatabase = "{tmp_path}/e.db"\n' + MINIMAL)
    assert config.database == tmp_path / "e.db"


@pytest.mark.parametrize("earshot", ["", '[earshot]\nplaybooks = ""\n'])
def test_empty_or_missing_playbooks_means_the_bundled_folder(earshot: str) -> None:
    assert _parse(earshot + MINIMAL).playbooks_dir == BUNDLED_PLAYBOOKS


def test_invalid_toml_is_one_problem_naming_the_line() -> None:
    [problem] = _problems(MINIMAL + "fallback = #care\n")
    assert problem.where == ""
    assert "not valid TOML" in problem.message
    assert "line 7" in problem.message
    assert problem.fix


def test_an_unreadable_file_is_one_problem_with_a_fix(tmp_path: Path) -> None:
    missing = tmp_path / "config.toml"
    with pytest.raises(ProblemsError) as caught:
        load_config(missing)
    [problem] = caught.value.problems
    assert problem.source == str(missing)
    assert "cannot read" in problem.message
    assert "--config" in problem.fix


# Regression (fixed): load_config catches OSError only; a non-UTF-8 file raises UnicodeDecodeError
def test_a_config_file_that_is_not_utf8_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(MINIMAL.replace("Skylark Air", "Café Air").encode("latin-1"))
    with pytest.raises(ProblemsError) as caught:
        load_config(path)
    assert len(caught.value.problems) == 1


# ---- secrets --------------------------------------------------------------------------------


def test_resolve_secrets_lists_every_missing_variable_at_once() -> None:
    with pytest.raises(ProblemsError) as caught:
        resolve_secrets(_parse(MINIMAL), {})
    problems = caught.value.problems
    assert [p.where for p in problems] == [
        "slack.bot_token_env",
        "slack.signing_secret_env",
        "x.consumer_key_env",
        "x.consumer_secret_env",
        "x.access_token_env",
        "x.access_token_secret_env",
    ]
    assert all(p.source == "environment" for p in problems)
    assert problems[0].fix == "export SLACK_BOT_TOKEN=..."


def test_http_mode_needs_the_signing_secret() -> None:
    env = {k: v for k, v in ALL_ENV.items() if k != "SLACK_SIGNING_SECRET"}
    with pytest.raises(ProblemsError) as caught:
        resolve_secrets(_parse(MINIMAL), env)
    assert [p.where for p in caught.value.problems] == ["slack.signing_secret_env"]


def test_http_mode_when_no_app_token_is_set() -> None:
    secrets = resolve_secrets(_parse(MINIMAL), ALL_ENV)
    assert not secrets.socket_mode
    assert secrets.slack_signing_secret == "signing"
    assert secrets.x_bearer_token == ""  # optional


def test_socket_mode_when_the_app_token_is_set_and_no_signing_secret_needed() -> None:
    env = {k: v for k, v in ALL_ENV.items() if k != "SLACK_SIGNING_SECRET"}
    secrets = resolve_secrets(_parse(MINIMAL), {**env, "SLACK_APP_TOKEN": "xapp-1"})
    assert secrets.socket_mode
    assert secrets.slack_app_token == "xapp-1"
    assert secrets.slack_signing_secret == ""


def test_secrets_come_from_the_variables_the_config_names() -> None:
    config = _parse(MINIMAL + '[slack]\nbot_token_env = "CARE_BOT_TOKEN"\n')
    env = {**ALL_ENV, "CARE_BOT_TOKEN": "xoxb-care"}
    assert resolve_secrets(config, env).slack_bot_token == "xoxb-care"


def test_a_given_mapping_is_used_instead_of_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ALL_ENV.items():
        monkeypatch.setenv(name, value)
    env = {k: v for k, v in ALL_ENV.items() if k != "X_ACCESS_TOKEN"}
    with pytest.raises(ProblemsError) as caught:
        resolve_secrets(_parse(MINIMAL), env)
    assert [p.where for p in caught.value.problems] == ["x.access_token_env"]


# Regression (fixed): a blank SLACK_APP_TOKEN means HTTP mode when checking, but socket_mode is True
def test_a_blank_app_token_means_http_mode_everywhere() -> None:
    secrets = resolve_secrets(_parse(MINIMAL), {**ALL_ENV, "SLACK_APP_TOKEN": "  "})
    assert not secrets.socket_mode


# ---- problems -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (
            Problem("config.toml", "slack.http_port", "expected a number", "write 3000", 12),
            "config.toml:12: slack.http_port: expected a number. Fix: write 3000",
        ),
        (
            Problem("config.toml", "", "not valid TOML", "fix the syntax"),
            "config.toml: not valid TOML. Fix: fix the syntax",
        ),
        (
            Problem("environment", "x.access_token_env", "variable X is not set"),
            "environment: x.access_token_env: variable X is not set.",
        ),
    ],
)
def test_problem_formats_as_file_line_key_message_fix(problem: Problem, text: str) -> None:
    assert str(problem) == text


def test_problems_error_prints_one_problem_per_line() -> None:
    error = ProblemsError([Problem("a", "k", "one"), Problem("b", "k", "two")])
    assert str(error) == "a: k: one.\nb: k: two."
    assert len(error.problems) == 2


@pytest.mark.parametrize(
    ("word", "choices", "expected"),
    [
        ("log_levl", ["log_level", "database"], 'did you mean "log_level"?'),
        ("custmer", ["customer", "agent", "brand"], 'did you mean "customer"?'),
        ("zzz", ["log_level", "database"], ""),
        ("fallback", [], ""),
    ],
)
def test_did_you_mean_suggests_close_spellings_only(
    word: str, choices: list[str], expected: str
) -> None:
    assert did_you_mean(word, choices) == expected


def test_line_index_maps_tables_arrays_and_keys_to_lines() -> None:
    lines = line_index(MANY_MISTAKES)
    assert lines["earshot"] == 1
    assert lines["earshot.database"] == 3
    assert lines["routing.rules[2]"] == 19
    assert lines["agents[2].signature"] == 31


# ---- the brand's voice and agents ---------------------------------------------------------------

TEAM = """
[[agents]]
slack_id = "U0JANEKIM1"
name = "Jane Kim"

[[agents]]
slack_id = "U0THEOTRN1"
name = "Theo Lane"
trainee = true

[[agents]]
slack_id = "U0MINJUN01"
name = "Min-jun Park"
signature = "~MJ"
"""


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("^{initials}", "^JK"), ("-{first_name}", "-Jane"), ("/{initials}", "/JK"), ("", "")],
)
def test_agents_sign_in_the_brands_format_unless_they_sign_their_own(
    fmt: str, expected: str
) -> None:
    text = MINIMAL.replace("[routing]", f'[brand.voice]\nsignature = "{fmt}"\n\n[routing]') + TEAM
    jane, theo, minjun = _parse(text).agents
    assert jane.signature == expected
    assert minjun.signature == "~MJ" and not jane.trainee and theo.trainee


def test_the_brand_voice_is_read_with_its_defaults() -> None:
    text = MINIMAL.replace(
        "[routing]", '[brand.voice]\nbanned = ["calm down"]\nwarn_links = false\n\n[routing]'
    )
    voice = _parse(text).brand.voice
    assert voice.banned == ("calm down",) and voice.warn_links is False
    assert voice.signature == "^{initials}" and voice.greetings == ()


def test_an_unknown_signature_format_names_the_allowed_ones() -> None:
    text = MINIMAL.replace("[routing]", '[brand.voice]\nsignature = "{initials}!"\n\n[routing]')
    [problem] = _problems(text)
    assert problem.where == "brand.voice.signature" and "^{initials}" in problem.fix


def test_two_agents_whose_derived_signatures_clash_are_told_to_set_initials() -> None:
    text = MINIMAL + TEAM.replace("Theo Lane", "Jenna Kowalski")
    [problem] = _problems(text)
    assert problem.where == "agents[2].signature" and "initials" in problem.fix


# ---- Bluesky and Mastodon -----------------------------------------------------------------------

OPEN = """
[bluesky]
handle = "skylarkair.bsky.social"
search_queries = ["skylark air"]

[mastodon]
api_base_url = "https://mastodon.example/"

[[brands]]
name = "Nimbus Rail"
handle = "NimbusRail"
[brands.x]
consumer_key_env = "N_CK"
consumer_secret_env = "N_CS"
access_token_env = "N_AT"
access_token_secret_env = "N_ATS"
[brands.bluesky]
handle = "nimbusrail.bsky.social"
app_password_env = "NIMBUS_BLUESKY"
"""


def test_the_open_networks_are_optional_per_brand() -> None:
    plain = _parse(MINIMAL)
    assert plain.brand.bluesky is None and plain.brand.mastodon is None
    assert plain.brand.networks == ("x",)
    config = _parse(MINIMAL + OPEN)
    assert config.brand.networks == ("x", "bluesky", "mastodon")
    assert config.brand.bluesky is not None
    assert config.brand.bluesky.search_queries == ("skylark air",)
    assert config.brand.bluesky.service_url == "https://bsky.social"
    assert config.brand.mastodon is not None
    assert config.brand.mastodon.api_base_url == "https://mastodon.example"
    assert config.more_brands[0].networks == ("x", "bluesky")


def test_open_network_secrets_are_named_and_all_missing_ones_listed() -> None:
    config = _parse(MINIMAL + OPEN)
    env = {**ALL_ENV, "N_CK": "1", "N_CS": "2", "N_AT": "3", "N_ATS": "4"}
    with pytest.raises(ProblemsError) as caught:
        resolve_secrets(config, env)
    assert [p.where for p in caught.value.problems] == [
        "bluesky.app_password_env",
        "mastodon.access_token_env",
        "brands[1].bluesky.app_password_env",
    ]
    full = {
        **env,
        "BLUESKY_APP_PASSWORD": "pw",
        "MASTODON_ACCESS_TOKEN": "t",
        "NIMBUS_BLUESKY": "n",
    }
    secrets = resolve_secrets(config, full)
    assert secrets.network_secret("bluesky", "Nimbus Rail") == "n"
    assert secrets.network_secret("mastodon", "Skylark Air") == "t"
    assert "pw" not in repr(secrets)


def test_open_network_mistakes_are_named_with_their_fix() -> None:
    bad = MINIMAL + '[bluesky]\nhandle = "@Skylark"\n[mastodon]\napi_base_url = "mastodon.social"\n'
    found = {p.where: p for p in _problems(bad)}
    assert "full handle in lowercase without @" in found["bluesky.handle"].fix
    assert found["mastodon.api_base_url"].message == "'mastodon.social' is not an http(s) URL"
    assert "mastodon.api_base_url" in {p.where for p in _problems(MINIMAL + "[mastodon]\n")}
