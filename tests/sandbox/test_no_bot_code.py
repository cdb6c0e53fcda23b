"""The emulators share no code with the bot: a bug in the bot's counting must not be copied into
the emulator that judges it. Every module in ``bot/sandbox/`` is parsed, and an emulator may import
from Earshot only ``bot.sandbox.http`` and ``bot.sandbox.websocket``, or another emulator-side
module of ``bot/sandbox/`` (``manifest``, the Slack emulator's), which this test checks the same
way; the wiring that starts them (``harness``, ``driver``, ``__init__``) and the demo may import
the bot, so no emulator may import those. The emulators' own
length judgments are checked here against the bot's cases too, and in the conformance lane
against npm twitter-text itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import tweepy
from mastodon import Mastodon, MastodonAPIError
from test_voice import TWITTER_TEXT_CASES

import bot.sandbox
from bot.decide import lengths
from bot.sandbox import x as x_emulator
from bot.sandbox.mastodon import MastodonEmulator, status_length
from bot.sandbox.x import XEmulator
from bot.sources.xclient import make_x_client

SANDBOX = Path(bot.sandbox.__file__).resolve().parent
ALLOWED = {"bot.sandbox.http", "bot.sandbox.websocket"}
EXEMPT = {"harness.py", "driver.py", "__init__.py"}


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, relative imports resolved inside ``bot.sandbox``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = ["bot", "sandbox"][: max(0, 3 - node.level)]
                base = ".".join([*package, *([base] if base else [])])
            found += [f"{base}.{alias.name}" if base else alias.name for alias in node.names]
            found.append(base)
    return found


def _earshot(name: str) -> bool:
    return name.split(".", maxsplit=1)[0] in {"bot", "handlers"}


EMULATORS = sorted(
    path
    for path in SANDBOX.glob("*.py")
    if path.name not in EXEMPT and not path.name.startswith("demo")
)
EMULATOR_SIDE = {f"bot.sandbox.{path.stem}" for path in EMULATORS}


def _allowed(name: str) -> bool:
    if name in {"bot", "bot.sandbox"}:
        return True  # the package part of "from bot.sandbox import x": x is checked on its own
    module = ".".join(name.split(".")[:3])
    return module in ALLOWED or module in EMULATOR_SIDE


def test_the_emulators_are_all_checked() -> None:
    names = {path.name for path in EMULATORS}
    assert {"x.py", "mastodon.py", "bluesky.py", "slack.py", "http.py"} <= names


@pytest.mark.parametrize("path", EMULATORS, ids=lambda path: path.name)
def test_an_emulator_imports_no_bot_code(path: Path) -> None:
    imported = [name for name in _imports(path) if _earshot(name) and not _allowed(name)]
    assert imported == [], f"{path.name} imports bot code: {imported}"


def test_the_check_catches_an_import_of_the_bot(tmp_path: Path) -> None:
    for line in [
        "from bot import voice",
        "import bot.voice",
        "from bot.voice import weighted_length",
        "from handlers.blocks import x",
        "from .. import voice",
        "from ..sources import x",
    ]:
        module = tmp_path / "fake.py"
        module.write_text(line + "\n")
        assert [name for name in _imports(module) if _earshot(name) and not _allowed(name)], line
    for line in ["from bot.sandbox import harness", "from bot.sandbox.driver import SlackDriver"]:
        module.write_text(line + "\n")
        assert [name for name in _imports(module) if _earshot(name) and not _allowed(name)], line
    module.write_text("from bot.sandbox.http import Reply\nfrom .websocket import x\n")
    assert not [name for name in _imports(module) if _earshot(name) and not _allowed(name)]


# ---- their own length judgments -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected", "valid"), TWITTER_TEXT_CASES)
def test_the_x_emulator_counts_as_twitter_text_does(text: str, expected: int, valid: bool) -> None:
    length, accepted = x_emulator._parse_tweet(text)
    assert length == expected
    assert (length <= x_emulator.MAX_TWEET_LENGTH and accepted) == valid


def _x_client(x: XEmulator) -> tweepy.Client:
    return make_x_client(
        api_url=x.url,
        bearer_token="b",
        consumer_key="ck",
        consumer_secret="cs",
        access_token="at",
        access_token_secret="ats",
    )


def test_the_x_emulator_refuses_what_x_refuses_and_takes_a_long_link() -> None:
    with XEmulator(bearer_token="b") as x:
        client = _x_client(x)
        with pytest.raises(tweepy.Forbidden, match="invalid characters") as refused:
            client.create_tweet(text="Sorry about that\ufeff")
        assert refused.value.response.status_code == 403
        assert refused.value.response.json()["title"] == "Forbidden"
        with pytest.raises(tweepy.Forbidden, match="too long"):
            client.create_tweet(text="故" * 141)
        fits = "a" * 256 + " bit.ly/" + "x" * 200  # a bare country domain with a path: 23
        assert client.create_tweet(text=fits).json()["data"]["text"] == fits


def test_the_mastodon_emulator_counts_as_the_bot_does() -> None:
    texts = [
        "see https://example.com/" + "a" * 80,
        "http://192.168.1.1/admin/settings",
        "https://help.skylark.example/x",
        "@ana@social.example hi",
        "@Ana.B@x.social",
        "mail ana@social.example",
        "@ana@social.example://",
        "https://t.co/abc/def",
        "https://😀.com/x",
        "https://example.jp/パス/ü",
        "  hi 👍🏽 \n",
    ]
    assert [status_length(text) for text in texts] == [lengths.mastodon_length(t) for t in texts]


def test_the_mastodon_emulator_counts_an_ip_address_link_in_full() -> None:
    link = "http://192.168.1.1/admin/" + "settings/" * 5 + "network"
    named = "https://example.com/" + "x" * (len(link) - 20)  # as long, but a link to Mastodon
    tail = " and check the DNS. "
    filler = "a" * (500 - len("@ana Please open ") - 23 - len(tail))
    text = "@ana@social.example Please open " + link + tail + filler
    assert status_length(text) == 500 - 23 + len(link) > 500
    with MastodonEmulator() as masto:
        client = Mastodon(access_token=masto.access_token, api_base_url=masto.url)
        with pytest.raises(MastodonAPIError) as refused:
            client.status_post(text)
        assert refused.value.args[1:] == (
            422,
            "Unprocessable Entity",
            "Validation failed: Text character limit of 500 exceeded",
        )
        assert client.status_post(text.replace(link, named)).id
