"""Earshot wired to the emulators on loopback: used by `earshot demo`, the tests and benchmarks.

The bot runs exactly as in production (same config loading, same ``Runtime``); only the base
URLs point at the emulators and the secrets are sandbox values that never leave this process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from bot.app import Runtime
from bot.clock import Clock
from bot.config.settings import BUNDLED_PLAYBOOKS, Config, Secrets, load_config, resolve_secrets
from bot.sandbox.bluesky import BlueskyEmulator
from bot.sandbox.driver import SlackDriver
from bot.sandbox.mastodon import MastodonEmulator
from bot.sandbox.slack import SlackEmulator
from bot.sandbox.x import XEmulator
from bot.slack.check import configured_channels

BRAND_USER_ID = "1500000000000000001"
JANE = "U0JANEKIM1"  # agent Jane Kim ^JK
MINJUN = "U0MINJUN01"  # agent Min-jun Park ^MP (both signatures from the brand's format)
THEO = "U0THEOTRN1"  # trainee agent Theo Lane ^TL: a lead approves his replies
SAM = "U0SAMGUEST"  # a workspace member who is not an agent
ROSA = "U0ROSALEAD"  # a lead (steers routing; not an agent)
KAI = "U0KAILEAD1"  # a lead through the leads' user group S0CARELEAD
SIGNING_SECRET = "sandbox-signing-secret"
SANDBOX_ENV = {
    "EARSHOT_SANDBOX_SLACK_BOT_TOKEN": "xoxb-sandbox-bot-token",
    "EARSHOT_SANDBOX_SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "EARSHOT_SANDBOX_X_BEARER_TOKEN": "sandbox-bearer-token",
    "EARSHOT_SANDBOX_X_CONSUMER_KEY": "sandbox-consumer-key",
    "EARSHOT_SANDBOX_X_CONSUMER_SECRET": "sandbox-consumer-secret",
    "EARSHOT_SANDBOX_X_ACCESS_TOKEN": "sandbox-access-token",
    "EARSHOT_SANDBOX_X_ACCESS_TOKEN_SECRET": "sandbox-access-token-secret",
    "EARSHOT_SANDBOX_BLUESKY_APP_PASSWORD": "sandbox-app-password",
    "EARSHOT_SANDBOX_MASTODON_ACCESS_TOKEN": "sandbox-mastodon-token",
}
BLUESKY_HANDLE = "skylarkair.bsky.social"
MASTODON_DOMAIN = "social.example"
OPEN_NETWORKS = """
[bluesky]
handle = "$bluesky_handle"
app_password_env = "EARSHOT_SANDBOX_BLUESKY_APP_PASSWORD"
service_url = "$bluesky_url"
poll_interval_seconds = $poll_seconds

[mastodon]
api_base_url = "$mastodon_url"
access_token_env = "EARSHOT_SANDBOX_MASTODON_ACCESS_TOKEN"
poll_interval_seconds = $poll_seconds
"""
APP_TOKEN = "xapp-sandbox-app-token"


@dataclass(frozen=True, slots=True)
class BlueskyLogin:
    """A real Bluesky account for the brand (the real-server lane's PDS), instead of the
    emulator's: where its PDS answers, its handle and an app password."""

    service_url: str
    handle: str
    app_password: str


def demo_mentions() -> Path:
    """The bundled demo mentions (written by us; no third-party data)."""
    return Path(str(resources.files("bot.sandbox").joinpath("demo_mentions.jsonl")))


@dataclass
class Sandbox:
    workdir: Path
    slack: SlackEmulator
    x: XEmulator
    config: Config
    secrets: Secrets
    bluesky: BlueskyEmulator
    mastodon: MastodonEmulator
    runtime: Runtime | None = None
    driver: SlackDriver | None = field(default=None)

    def start_bot(self, *, clock: Clock | None = None) -> Runtime:
        """Start (or restart) the bot on the same database, as a real process would."""
        self.stop_bot()
        runtime = Runtime(self.config, self.secrets, clock=clock)
        runtime.start()
        self.runtime = runtime
        if runtime.http_url:
            self.driver = SlackDriver(
                bot_url=runtime.http_url, signing_secret=SIGNING_SECRET, slack=self.slack
            )
        return runtime

    def stop_bot(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None

    def close(self) -> None:
        self.stop_bot()
        for emulator in (self.slack, self.x, self.bluesky, self.mastodon):
            emulator.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_sandbox(
    workdir: Path,
    *,
    poll_seconds: float = 1.0,
    playbooks: Path | None = None,
    socket_mode: bool = False,
    reply_interval: float = 1.0,
    extra_config: str = "",
    extra_env: Mapping[str, str] | None = None,
    slack_rate_limit: float | None = None,
    post_interval: float | None = None,
    open_networks: bool = False,
    bluesky_login: BlueskyLogin | None = None,
) -> Sandbox:
    """Start both emulators and write a sandbox config; the bot starts with ``start_bot()``.
    ``slack_rate_limit`` makes the Slack emulator refuse (429) chat.postMessage calls beyond
    that many per second per channel, as Slack does; the bot then paces its posts as for Slack
    (``post_interval``, default 1.1 s per channel), else quickly (0.02 s: the emulator has no
    limit unless asked, and tests and the demo need not wait). The Bluesky and Mastodon
    emulators always run; ``open_networks`` connects the brand's accounts there too, or, with
    ``bluesky_login``, connects its Bluesky account to a real PDS instead."""
    if post_interval is None:
        post_interval = 1.1 if slack_rate_limit else 0.02
    env = dict(SANDBOX_ENV) | dict(extra_env or {})
    if bluesky_login is not None:
        env["EARSHOT_SANDBOX_BLUESKY_APP_PASSWORD"] = bluesky_login.app_password
    if socket_mode:
        env["EARSHOT_SANDBOX_SLACK_APP_TOKEN"] = APP_TOKEN
    slack = SlackEmulator(
        bot_token=env["EARSHOT_SANDBOX_SLACK_BOT_TOKEN"],
        app_token=APP_TOKEN,
        users={
            JANE: "Jane Kim",
            MINJUN: "Min-jun Park",
            THEO: "Theo Lane",
            SAM: "Sam Guest",
            ROSA: "Rosa Diaz",
            KAI: "Kai Moana",
        },
        usergroups={"S0CARELEAD": [KAI]},
        rate_limit_per_channel=slack_rate_limit,
    ).start()
    x = XEmulator(
        brand_user_id=BRAND_USER_ID,
        brand_username="SkylarkAir",
        brand_name="Skylark Air",
        bearer_token=env["EARSHOT_SANDBOX_X_BEARER_TOKEN"],
        brand_access_token=env["EARSHOT_SANDBOX_X_ACCESS_TOKEN"],
    ).start()
    bluesky = BlueskyEmulator(
        brand_handle=BLUESKY_HANDLE,
        brand_password=env["EARSHOT_SANDBOX_BLUESKY_APP_PASSWORD"],
    ).start()
    mastodon = MastodonEmulator(
        domain=MASTODON_DOMAIN, access_token=env["EARSHOT_SANDBOX_MASTODON_ACCESS_TOKEN"]
    ).start()
    text = resources.files("bot.sandbox").joinpath("demo.toml").read_text("utf-8")
    text = text.replace("\n[routing]\n", OPEN_NETWORKS + "\n[routing]\n") if open_networks else text
    path = workdir / "earshot.toml"
    path.write_text(
        Template(text).substitute(
            database=(workdir / "earshot.db").as_posix(),
            playbooks=(playbooks or BUNDLED_PLAYBOOKS).as_posix(),
            slack_url=slack.url,
            x_url=x.url,
            bluesky_url=bluesky_login.service_url if bluesky_login else bluesky.base_url,
            bluesky_handle=bluesky_login.handle if bluesky_login else BLUESKY_HANDLE,
            mastodon_url=mastodon.url,
            brand_user_id=BRAND_USER_ID,
            poll_seconds=poll_seconds,
            reply_interval=reply_interval,
            post_interval=post_interval,
        )
        + extra_config,
        encoding="utf-8",
    )
    config = load_config(path)
    for channel in configured_channels(config):  # a workspace has only the channels made in it
        slack.create_channel(channel)
    secrets = resolve_secrets(config, env)
    return Sandbox(workdir, slack, x, config, secrets, bluesky=bluesky, mastodon=mastodon)
