"""Configuration: one TOML file, validated in one place, every problem reported at once.

Secrets never live in the file; it names the environment variables that hold them. ``load_config``
raises ``ProblemsError`` listing every problem (file, line, key, what, fix); only the CLI exits.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import networks as nets
from bot.config import operations as ops
from bot.config.fields import SCHEMA
from bot.decide import voice
from bot.decide.learned import DEFAULT_MIN_CONFIDENCE
from bot.decide.playbooks import Template, duplicate_ids, parse_playbook
from bot.decide.rules import RULE_SCHEMA, RuleSpec
from bot.decide.sla import DEFAULT_POLICY, Policy
from bot.decide.voice import Voice
from bot.models import Agent
from bot.problems import Problem, ProblemsError, line_index
from bot.schema import (
    validate,
)

BUNDLED_PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


# ---- schema -----------------------------------------------------------------------------------


# ---- values -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    handle: str
    timezone: str = "UTC"
    business_hours: str = "Mon-Fri 09:00-17:30"
    languages: tuple[str, ...] = ()  # every template should be translated into these
    voice: Voice = field(default_factory=Voice)
    holidays: tuple[str, ...] = ()  # ISO dates without business hours (SLAs pause)
    fallback_channel: str = ""  # "" = routing.fallback_channel
    x: ops.XAccount = field(default_factory=ops.XAccount)
    sla: Policy = DEFAULT_POLICY
    bluesky: nets.BlueskyAccount | None = None  # also listen and answer on Bluesky
    mastodon: nets.MastodonAccount | None = None  # and on Mastodon

    @property
    def networks(self) -> tuple[str, ...]:
        """Where this brand listens: X always, the open networks when configured."""
        return ("x", *(n for n in ("bluesky", "mastodon") if getattr(self, n) is not None))


@dataclass(frozen=True, slots=True)
class Leads:
    users: tuple[str, ...] = ()
    usergroup: str = ""
    channel: str = ""


@dataclass(frozen=True, slots=True)
class TriageSettings:
    vip_handles: tuple[str, ...] = ()
    high_reach: int = 10_000
    huge_reach: int = 250_000


@dataclass(frozen=True, slots=True)
class StormSettings:
    window_minutes: int = 30
    min_size: int = 3
    similarity: float = 80.0
    reply_interval_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class AlertSettings:
    volume_factor: float = 3.0
    min_count: int = 10
    baseline_days: int = 7


@dataclass(frozen=True, slots=True)
class SlackSettings:
    api_url: str
    bot_token_env: str
    signing_secret_env: str
    app_token_env: str
    http_host: str
    http_port: int
    post_interval_seconds: float = 1.1  # chat.postMessage: about one per second per channel


@dataclass(frozen=True, slots=True)
class XSettings:
    api_url: str
    user_id: str
    bearer_token_env: str
    consumer_key_env: str
    consumer_secret_env: str
    access_token_env: str
    access_token_secret_env: str
    poll_interval_seconds: float
    page_size: int
    search_queries: tuple[str, ...]
    api_tier: str = "pay-per-use"  # "enterprise" may reply by API to any post
    reconcile_after_seconds: float = 30.0  # X may publish a post it got before a crash late

    @property
    def restricted_replies(self) -> bool:
        """Since 2026-02-24 X takes an API reply only to a post whose author @mentions or quotes
        the replying account, on every tier but Enterprise (and Public Utility apps)."""
        return self.api_tier != "enterprise"


@dataclass(frozen=True, slots=True)
class Config:
    source: str
    database: Path
    playbooks_dir: Path
    log_level: str
    brand: Brand
    slack: SlackSettings
    x: XSettings
    fallback_channel: str
    rules: tuple[RuleSpec, ...]
    top_suggestions: int
    min_score: float
    agents: tuple[Agent, ...]
    leads: Leads = Leads()
    triage: TriageSettings = TriageSettings()
    learned_min_confidence: float = DEFAULT_MIN_CONFIDENCE
    dry_run_mentions: int = 200
    quotes: str = "case"
    storms: StormSettings = StormSettings()
    alerts: AlertSettings = AlertSettings()
    more_brands: tuple[Brand, ...] = ()  # [[brands]]: each with its own X account
    escalation: ops.Escalation = field(default_factory=ops.Escalation)
    assignment: ops.Assignment = field(default_factory=ops.Assignment)
    health: ops.HealthSettings = field(default_factory=ops.HealthSettings)
    reports: ops.ReportSettings = field(default_factory=ops.ReportSettings)
    x_costs: ops.XCosts = field(default_factory=ops.XCosts)

    @property
    def brands(self) -> tuple[Brand, ...]:
        """Every brand of this install; the first is [brand]."""
        return (self.brand, *self.more_brands)


@dataclass(frozen=True, slots=True)
class Secrets:
    """Never printed: ``repr`` shows no values, so a logged object leaks nothing."""

    slack_bot_token: str = field(repr=False)
    slack_signing_secret: str = field(repr=False)
    slack_app_token: str = field(repr=False)  # "" means HTTP mode
    x_bearer_token: str = field(repr=False)
    x_consumer_key: str = field(repr=False)
    x_consumer_secret: str = field(repr=False)
    x_access_token: str = field(repr=False)
    x_access_token_secret: str = field(repr=False)

    more_x: Mapping[str, XKeys] = field(default_factory=dict, repr=False)  # by brand name
    # Bluesky app passwords and Mastodon tokens, by "<network>:<brand name>"
    networks: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def network_secret(self, network: str, brand: str) -> str:
        """A brand's Bluesky app password or Mastodon access token."""
        return self.networks.get(f"{network}:{brand}", "")

    def x_keys(self, brand: str = "") -> XKeys:
        """The X keys of ``brand`` ([brand]'s are the [x] ones)."""
        if brand in self.more_x:
            return self.more_x[brand]
        return XKeys(
            self.x_bearer_token,
            self.x_consumer_key,
            self.x_consumer_secret,
            self.x_access_token,
            self.x_access_token_secret,
        )


@dataclass(frozen=True, slots=True)
class XKeys:
    """One X account's keys. Never printed."""

    bearer_token: str = field(repr=False)
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)


# ---- loading ----------------------------------------------------------------------------------


def load_config(path: Path) -> Config:
    """Read and validate ``path``; raise ``ProblemsError`` with every problem found."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fix = "pass --config PATH, or copy config.example.toml to config.toml"
        problem = Problem(name, "", f"cannot read the file ({exc.strerror})", fix)
        raise ProblemsError([problem]) from None
    except UnicodeDecodeError as exc:
        raise ProblemsError([_not_utf8(name, exc)]) from None
    return parse_config(text, source=name, base_dir=path.resolve().parent)


def _not_utf8(name: str, exc: UnicodeDecodeError) -> Problem:
    return Problem(name, "", f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8")


def parse_config(text: str, *, source: str, base_dir: Path) -> Config:
    """Validate TOML text against the schema and build a ``Config``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = Problem(source, "", f"not valid TOML ({exc})", "fix the syntax")
        raise ProblemsError([problem]) from None
    values, problems = validate(data, SCHEMA)
    problems.extend(_cross_checks(values))
    if problems:
        lines = line_index(text)
        placed = (_placed(p, source, lines) for p in problems)
        raise ProblemsError(sorted(placed, key=lambda p: p.line or 0))
    return _build(values, source=source, base_dir=base_dir)


def _placed(problem: Problem, source: str, lines: dict[str, int]) -> Problem:
    where = problem.where
    line = lines.get(where) or lines.get(where.rsplit(".", 1)[0]) if where else None
    return Problem(source, where, problem.message, problem.fix, line)


def _cross_checks(values: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    rules = (values.get("routing") or {}).get("rules") or []
    problems += _duplicates(rules, "name", where="routing.rules", fix="give each rule its own name")
    for i, rule in enumerate(rules, start=1):
        if rule.keys() >= RULE_SCHEMA.keys() and not RuleSpec(**rule).has_condition:
            fix = "add keywords, regex, languages or another condition, or use the fallback"
            problems.append(Problem("", f"routing.rules[{i}]", "the rule has no condition", fix))
    agents = values.get("agents") or []
    problems += _duplicates(agents, "slack_id", where="agents", fix="list each person once")
    signatures = [{"signature": _signature(a, values)} for a in agents]
    fix = 'give each agent a distinct signature (or initials = "…")'
    problems += _duplicates(signatures, "signature", where="agents", fix=fix)
    brands = [values.get("brand") or {}, *(values.get("brands") or [])]
    named = [{"name": str(b.get("name", "")).casefold()} for b in brands]
    problems += _duplicates(named, "name", where="brands", fix="give each brand its own name")
    handles = [{"handle": str(b.get("handle", "")).casefold()} for b in brands]
    problems += _duplicates(handles, "handle", where="brands", fix="each brand has its own handle")
    return problems


def _signature(agent: Mapping[str, Any], values: Mapping[str, Any]) -> str | None:
    """The agent's own signature, else the brand's format filled with their name or initials."""
    if agent.get("signature"):
        return str(agent["signature"])
    fmt = ((values.get("brand") or {}).get("voice") or {}).get("signature", "^{initials}")
    if not isinstance(agent.get("name"), str) or fmt not in voice.SIGNATURE_FORMATS:
        return None
    return (
        voice.signature_for(fmt, name=agent["name"], initials=agent.get("initials") or "") or None
    )


def _agent(agent: Mapping[str, Any], values: Mapping[str, Any]) -> Agent:
    signature = _signature(agent, values) or ""
    return Agent(
        agent["slack_id"],
        agent["name"],
        signature,
        trainee=agent["trainee"],
        capacity=agent["capacity"],
        initials=agent["initials"],
        own_signature=agent["signature"],
    )


def _duplicates(items: list[dict[str, Any]], key: str, *, where: str, fix: str) -> list[Problem]:
    seen: dict[Any, int] = {}
    problems: list[Problem] = []
    for i, item in enumerate(items, start=1):
        value = item.get(key)
        if value is None:
            continue
        if value in seen:
            msg = f"{key} {value!r} repeats {where}[{seen[value]}]"
            problems.append(Problem("", f"{where}[{i}].{key}", msg, fix))
        seen.setdefault(value, i)
    return problems


def _build(values: Mapping[str, Any], *, source: str, base_dir: Path) -> Config:
    core, routing, suggest = values["earshot"], values["routing"], values["suggestions"]
    playbooks = core["playbooks"]
    slack = dict(values["slack"])
    slack["api_url"] = slack["api_url"].rstrip("/") + "/"  # slack-sdk needs the trailing slash
    x = {**values["x"], "api_url": values["x"]["api_url"].rstrip("/")}
    policy = ops.build_policy(values["sla"])
    return Config(
        source=source,
        database=base_dir / core["database"],
        playbooks_dir=(base_dir / playbooks) if playbooks else BUNDLED_PLAYBOOKS,
        log_level=core["log_level"],
        brand=_brand({**values["brand"], **_open(values)}, x=_primary_x(x), policy=policy),
        more_brands=tuple(
            _brand(b, x=ops.XAccount(**b["x"]), policy=ops.build_policy(b["sla"], base=policy))
            for b in values["brands"]
        ),
        escalation=ops.Escalation(values["sla"]["escalate_to"]),
        assignment=ops.Assignment(**values["assignment"]),
        health=ops.HealthSettings(**values["health"]),
        reports=ops.ReportSettings(**values["reports"]),
        x_costs=ops.XCosts(
            budget_alert_at=x["budget_alert_at"],
            per_read=x["cost_per_read"],
            per_user_read=x["cost_per_user_read"],
            per_post=x["cost_per_post"],
            per_post_with_link=x["cost_per_post_with_link"],
        ),
        slack=SlackSettings(**slack),
        x=XSettings(**{k: v for k, v in x.items() if k not in ops.X_COSTS}),
        fallback_channel=routing["fallback_channel"],
        rules=tuple(RuleSpec(**rule) for rule in routing["rules"]),
        top_suggestions=suggest["top"],
        min_score=suggest["min_score"],
        agents=tuple(_agent(agent, values) for agent in values["agents"]),
        leads=Leads(**values["leads"]),
        triage=TriageSettings(**values["triage"]),
        learned_min_confidence=routing["learned_min_confidence"],
        dry_run_mentions=routing["dry_run_mentions"],
        quotes=values["conversations"]["quotes"],
        storms=StormSettings(**values["storms"]),
        alerts=AlertSettings(**values["alerts"]),
    )


def _open(values: Mapping[str, Any]) -> dict[str, Any]:
    """[brand]'s open-network accounts are the top-level [bluesky] and [mastodon] sections."""
    return {"bluesky": values["bluesky"], "mastodon": values["mastodon"]}


def _primary_x(x: Mapping[str, Any]) -> ops.XAccount:
    """[brand]'s X account is the [x] section (kept for installs with one brand)."""
    fields = ops.XAccount.__dataclass_fields__
    return ops.XAccount(**{k: v for k, v in x.items() if k in fields})


def _brand(values: Mapping[str, Any], *, x: ops.XAccount, policy: Policy) -> Brand:
    v = values["voice"]
    brand_voice = Voice(
        signature=v["signature"],
        banned=tuple(v["banned"]),
        greetings=tuple(v["greetings"]),
        closings=tuple(v["closings"]),
        warn_links=v["warn_links"],
    )
    fields = {k: values[k] for k in ("name", "handle", "timezone", "business_hours")}
    return Brand(
        **fields,
        languages=tuple(values["languages"]),
        voice=brand_voice,
        holidays=tuple(values["holidays"]),
        fallback_channel=values.get("fallback_channel", ""),
        x=x,
        sla=policy,
        bluesky=nets.bluesky_account(values.get("bluesky")),
        mastodon=nets.mastodon_account(values.get("mastodon")),
    )


def resolve_secrets(config: Config, environ: Mapping[str, str] | None = None) -> Secrets:
    """Read secrets from the environment; raise ``ProblemsError`` naming every missing variable."""
    env = os.environ if environ is None else environ
    s, x = config.slack, config.x
    socket_mode = bool(env.get(s.app_token_env, "").strip())
    needed = [
        ("slack.bot_token_env", s.bot_token_env),
        ("x.consumer_key_env", x.consumer_key_env),
        ("x.consumer_secret_env", x.consumer_secret_env),
        ("x.access_token_env", x.access_token_env),
        ("x.access_token_secret_env", x.access_token_secret_env),
    ]
    if not socket_mode:
        needed.insert(1, ("slack.signing_secret_env", s.signing_secret_env))
    for i, brand in enumerate(config.more_brands, start=1):
        a = brand.x
        for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
            needed.append((f"brands[{i}].x.{key}_env", getattr(a, f"{key}_env")))
    opened = _open_secrets(config)
    needed += [(where, name) for where, (_, name) in opened.items()]
    problems = [
        Problem("environment", key, f"variable {name} is not set", f"export {name}=...")
        for key, name in needed
        if not env.get(name, "").strip()
    ]
    if problems:
        raise ProblemsError(problems)
    more_x = {
        b.name: XKeys(
            env.get(b.x.bearer_token_env, "") if b.x.bearer_token_env else "",
            env[b.x.consumer_key_env],
            env[b.x.consumer_secret_env],
            env[b.x.access_token_env],
            env[b.x.access_token_secret_env],
        )
        for b in config.more_brands
    }
    return Secrets(
        slack_bot_token=env[s.bot_token_env],
        slack_signing_secret=env.get(s.signing_secret_env, ""),
        slack_app_token=env.get(s.app_token_env, "").strip(),
        x_bearer_token=env.get(x.bearer_token_env, ""),
        x_consumer_key=env[x.consumer_key_env],
        x_consumer_secret=env[x.consumer_secret_env],
        x_access_token=env[x.access_token_env],
        x_access_token_secret=env[x.access_token_secret_env],
        more_x=more_x,
        networks={key: env[name] for key, name in opened.values()},
    )


def _open_secrets(config: Config) -> dict[str, tuple[str, str]]:
    """Each open-network secret: where the config names it -> (secret key, variable name)."""
    found: dict[str, tuple[str, str]] = {}
    for i, brand in enumerate(config.brands):
        where = "" if i == 0 else f"brands[{i}]."
        if brand.bluesky is not None:
            key = (f"bluesky:{brand.name}", brand.bluesky.app_password_env)
            found[f"{where}bluesky.app_password_env"] = key
        if brand.mastodon is not None:
            key = (f"mastodon:{brand.name}", brand.mastodon.access_token_env)
            found[f"{where}mastodon.access_token_env"] = key
    return found


def load_playbooks(directory: Path, *, brand: str = "") -> tuple[list[Template], list[Problem]]:
    """Read every ``*.toml`` playbook in ``directory``; templates that parse, and all problems."""
    if not directory.is_dir():
        fix = "point earshot.playbooks at a folder of *.toml files, or drop it for the bundled ones"
        return [], [Problem(str(directory), "", "playbook folder not found", fix)]
    templates: list[Template] = []
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(_not_utf8(str(path), exc))
            continue
        found, trouble = parse_playbook(text, source=str(path), brand=brand)
        templates += found
        problems += trouble
    problems += duplicate_ids(templates)
    if not templates and not problems:
        problems.append(Problem(str(directory), "", "no templates found", "add a playbook file"))
    return templates, problems
