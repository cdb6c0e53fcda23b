"""The one place that wires Earshot together: config + secrets -> services -> Slack -> runtime."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    JobEvent,
    JobExecutionEvent,
)
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

import handlers
from bot.clock import Clock, SystemClock
from bot.config.settings import Config, Secrets
from bot.decide.assess import TriageFn, routing_clock, triage_with
from bot.decide.learned import Example, LearnedRouter
from bot.decide.triage import detect_language
from bot.desk.access import Access
from bot.desk.approvals import Approvals
from bot.desk.desk import Desk
from bot.desk.outbox import AfterSent, Outbox
from bot.desk.steering import Steering
from bot.inbound.alerts import Alerts
from bot.inbound.pipeline import Brand, Inbound
from bot.inbound.storms import Storms
from bot.live.directory import Directory
from bot.live.library import Answered, Library, playbook_problems_text
from bot.live.rulebook import RuleBook, Trainer
from bot.models import Reply
from bot.operations.assign import Assigner
from bot.operations.audit import PostRecord
from bot.operations.health import Health
from bot.operations.sla_watch import SlaWatch
from bot.operations.stats import Digest, Stats
from bot.problems import Problem, ProblemsError
from bot.scheduler import (
    DIGEST_SECONDS,
    PARKED_SECONDS,
    SILENCE_SECONDS,
    SLA_SECONDS,
    Job,
    build_scheduler,
)
from bot.services import Services
from bot.slack.board import SlackBoard
from bot.slack.check import check_start
from bot.slack.client import ChannelPacer, make_web_client, usergroup_members
from bot.slack.dedupe import OncePerEvent
from bot.slack.delivery import Deliveries
from bot.slack.web import HttpServer
from bot.sources import Publisher, Source
from bot.sources.accounts import accounts
from bot.storage.store import Store

log = logging.getLogger(__name__)
# These log OAuth keys and access tokens at DEBUG: never below INFO, whatever the root level.
TOKEN_LOGGERS = ("tweepy", "oauthlib", "requests_oauthlib", "httpx", "httpcore", "mastodon")


@dataclass(frozen=True, slots=True)
class _Base:
    """What every part of the core is built from."""

    config: Config
    clock: Clock
    store: Store
    directory: Directory
    rulebook: RuleBook
    board: SlackBoard
    access: Access
    triage: TriageFn


def build_services(
    config: Config,
    secrets: Secrets,
    *,
    clock: Clock | None = None,
    sender: ThreadPoolExecutor,
    digest_dir: Path | None = None,
) -> Services:
    base = _base(config, secrets, clock=clock or SystemClock())
    built = accounts(base.config, secrets, store=base.store, clock=base.clock)
    publishers: dict[str, Publisher] = {}
    for source, publisher in built:  # the first brand's account is its network's default
        publishers.setdefault(source.network, publisher)
        publishers[f"{source.network}:{source.brand}"] = publisher
    ops = _operations(base, digest_dir=digest_dir)
    delivery = Deliveries(
        board=base.board, store=base.store, clock=base.clock, interval=base.board.pacer.interval
    )
    outbox = Outbox(
        store=base.store,
        publishers=publishers,
        board=base.board,
        clock=base.clock,
        pacing=timedelta(seconds=config.storms.reply_interval_seconds),
        after_sent=AfterSent(
            teach=_teacher(base.store, base.directory.library),
            record=PostRecord(store=base.store, directory=base.directory),
            count=ops.health.posted,
        ),
    )
    steering = Steering(
        store=base.store,
        rulebook=base.rulebook,
        access=base.access,
        clock=base.clock,
        triage=base.triage,
        dry_run_size=config.dry_run_mentions,
    )
    approvals = Approvals(
        store=base.store,
        directory=base.directory,
        board=base.board,
        clock=base.clock,
        require_lead=steering.require_lead,
    )
    return Services(
        config=config,
        clock=base.clock,
        store=base.store,
        directory=base.directory,
        board=base.board,
        outbox=outbox,
        desk=_desk(base, outbox=outbox, sender=sender, approvals=approvals),
        approvals=approvals,
        inbound=_inbound(base, [source for source, _ in built], ops, delivery),
        sources=tuple(source for source, _ in built),
        access=base.access,
        steering=steering,
        rulebook=base.rulebook,
        sla=ops.sla,
        assigner=ops.assigner,
        health=ops.health,
        stats=ops.stats,
        digest=ops.digest,
        delivery=delivery,
    )


@dataclass(frozen=True, slots=True)
class _Operations:
    sla: SlaWatch
    assigner: Assigner
    health: Health
    stats: Stats
    digest: Digest


def _operations(base: _Base, *, digest_dir: Path | None) -> _Operations:
    config, leads = base.config, base.config.leads.channel
    stats = Stats(store=base.store, directory=base.directory, clock=base.clock)
    return _Operations(
        sla=SlaWatch(
            store=base.store,
            board=base.board,
            directory=base.directory,
            clock=base.clock,
            leads_channel=leads,
            escalate_to=config.escalation.to,
        ),
        assigner=Assigner(
            store=base.store,
            board=base.board,
            directory=base.directory,
            clock=base.clock,
            settings=config.assignment,
        ),
        health=Health(
            store=base.store,
            board=base.board,
            directory=base.directory,
            clock=base.clock,
            settings=config.health,
            costs=config.x_costs,
            leads_channel=leads,
        ),
        stats=stats,
        digest=Digest(
            stats=stats,
            store=base.store,
            board=base.board,
            clock=base.clock,
            settings=config.reports,
            channel=leads,
            out_dir=digest_dir or config.database.parent / "digests",
        ),
    )


def _base(config: Config, secrets: Secrets, *, clock: Clock) -> _Base:
    store = _open_store(config)
    library = Library(
        folder=config.playbooks_dir,
        brand=config.brand.name,
        languages=config.brand.languages,
        top=config.top_suggestions,
        min_score=config.min_score,
        history=lambda: [Answered(*row) for row in store.answered()],
    )
    store.sync_agents(config.agents, now=clock.now())
    directory = Directory.of(
        config.brand,
        config.agents,
        library,
        others=config.more_brands,
        x_restricted=config.x.restricted_replies,
    )
    slack_client = make_web_client(token=secrets.slack_bot_token, base_url=config.slack.api_url)
    rulebook = RuleBook(
        store=store,
        clock=clock,
        fallback=config.fallback_channel,
        routing_clock=routing_clock(
            timezone=config.brand.timezone, business_hours=config.brand.business_hours
        ),
        trainer=_trainer(config.learned_min_confidence),
    )
    rulebook.seed(config.rules)
    rulebook.relearn()
    board = SlackBoard(
        client=slack_client,
        store=store,
        directory=directory,
        clock=clock,
        channels=lambda: _team_channels(rulebook, store),
        leads_channel=config.leads.channel,
        pacer=ChannelPacer(config.slack.post_interval_seconds),
    )
    access = Access(
        agents=directory.agents, leads=config.leads, group_members=usergroup_members(slack_client)
    )
    triage = triage_with(**asdict(config.triage))
    return _Base(config, clock, store, directory, rulebook, board, access, triage)


def _desk(base: _Base, *, outbox: Outbox, sender: ThreadPoolExecutor, approvals: Approvals) -> Desk:
    return Desk(
        approvals=approvals,
        store=base.store,
        directory=base.directory,
        outbox=outbox,
        board=base.board,
        clock=base.clock,
        access=base.access,
        rulebook=base.rulebook,
        sender=sender,
        pacing=timedelta(seconds=base.config.storms.reply_interval_seconds),
    )


def _inbound(
    base: _Base, sources: Sequence[Source], ops: _Operations, delivery: Deliveries
) -> Inbound:
    config = base.config
    return Inbound(
        delivery=delivery,
        clocks=ops.sla,
        fallbacks={b.name: b.fallback_channel for b in config.brands if b.fallback_channel},
        assigner=ops.assigner,
        health=ops.health,
        store=base.store,
        rulebook=base.rulebook,
        board=base.board,
        clock=base.clock,
        library=base.directory.library,
        triage=base.triage,
        brands=tuple(
            Brand(s.brand_handle, s.user_id, config.quotes, name=s.brand, network=s.network)
            for s in sources
        ),
        storms=Storms(base.store, config.storms, base.clock),
        alerts=Alerts(
            store=base.store,
            board=base.board,
            settings=config.alerts,
            clock=base.clock,
            channel=config.leads.channel,
        ),
    )


def _teacher(store: Store, library: Library) -> Callable[[Reply], None]:
    """Every public reply teaches the suggestions what agents send for posts like that one."""

    def teach(reply: Reply) -> None:
        mention, case = store.mention(reply.mention_id), store.case(reply.case_id)
        library.teach(
            Answered(
                mention.text,
                reply.text,
                reply.template or "",
                mention.brand or "",
                case.channel,
                case.lang,
            )
        )

    return teach


def _open_store(config: Config) -> Store:
    try:
        return Store(config.database)
    except OSError as exc:
        fix = "point earshot.database at a folder Earshot can write to"
        problem = Problem(config.source, "earshot.database", f"cannot open it ({exc})", fix)
        raise ProblemsError([problem]) from None


def _trainer(min_confidence: float) -> Trainer:
    def train(examples: Sequence[tuple[str, str]]) -> LearnedRouter | None:
        if not examples or min_confidence >= 1:
            return None
        labelled = [Example(text, channel) for text, channel in examples]
        return LearnedRouter.train(labelled, min_confidence=min_confidence)

    return train


def _team_channels(rulebook: RuleBook, store: Store) -> tuple[str, ...]:
    """Where a case can be moved: the routing channels, the fallback, and learned ones."""
    channels = [r.channel for r in rulebook.current().rules] + [rulebook.fallback]
    channels += store.example_channels()
    return tuple(dict.fromkeys(channels))


def create_bolt_app(
    services: Services, *, secrets: Secrets, executor: ThreadPoolExecutor, api_url: str
) -> App:
    """Listeners get a client that never sleeps on rate limits: they must ack within 3 s."""
    client = WebClient(token=secrets.slack_bot_token, base_url=api_url, timeout=10)
    app = App(
        client=client,
        signing_secret=secrets.slack_signing_secret,
        request_verification_enabled=not secrets.socket_mode,
        process_before_response=False,
        listener_executor=executor,
        name="earshot",
        logger=logging.getLogger("earshot.bolt"),
    )
    app.use(OncePerEvent(store=services.store, clock=services.clock))  # Slack's retries, once
    handlers.register(app, services)
    return app


def operations_jobs(s: Services) -> list[Job]:
    """SLA reminders and escalations, snoozes that end, round-robin assignment, silent sources
    and the daily digest: each reads its state from the database, so restarts lose nothing."""
    return [
        Job("sla", s.sla.check, SLA_SECONDS),
        Job("snoozes", s.desk.wake_snoozed, SLA_SECONDS),
        Job("assign", s.assigner.sweep, SLA_SECONDS),
        Job("silence", s.health.check_silence, SILENCE_SECONDS),
        Job("digest", s.digest.run, DIGEST_SECONDS),
        Job("parked", s.board.retry_parked, PARKED_SECONDS),  # cards whose channel refused
    ]


class Runtime:
    """A running Earshot: Slack (Socket Mode or HTTP) plus scheduler jobs. Start once, stop once."""

    def __init__(self, config: Config, secrets: Secrets, *, clock: Clock | None = None) -> None:
        for name in TOKEN_LOGGERS:
            logging.getLogger(name).setLevel(max(logging.INFO, logging.root.level))
        slack = config.slack  # a refused or wrong-kind token: one line with the fix, nothing built
        check_start(
            token=secrets.slack_bot_token,
            variable=slack.bot_token_env,
            base_url=slack.api_url,
            app_token=secrets.slack_app_token,
        )
        detect_language("warm up the language model now, not on the first mention")
        self._sender = ThreadPoolExecutor(max_workers=2, thread_name_prefix="earshot-outbox")
        self.services = build_services(config, secrets, clock=clock, sender=self._sender)
        self._secrets = secrets
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="earshot-listener")
        self.app = create_bolt_app(
            self.services, secrets=secrets, executor=self._executor, api_url=config.slack.api_url
        )
        s = self.services
        self._scheduler = build_scheduler(
            inbound=s.inbound,
            outbox=s.outbox,
            sources=s.sources,
            poll_seconds=config.x.poll_interval_seconds,
            playbooks=self._reload_playbooks,
            jobs=operations_jobs(s),
        )
        self._http: HttpServer | None = None
        self._socket: SocketModeHandler | None = None

    def _reload_playbooks(self) -> None:
        """A playbook file changed: use it now, or tell the leads what is wrong with it."""
        s = self.services
        result = s.directory.library.reload_if_changed()
        if result is None:
            return
        if result.ok:
            log.info("playbooks reloaded: %d templates", result.templates)
            return
        text = playbook_problems_text(result.problems, kept=result.templates)
        log.warning("%s", text)
        if s.config.leads.channel:
            s.board.announce(s.config.leads.channel, text)

    @property
    def http_url(self) -> str | None:
        return self._http.url if self._http else None

    def start(self) -> None:
        """Take the HTTP port first (a busy port fails before any work starts), catch up on what
        a previous run left (replies to reconcile, mentions, cards) before any click is served,
        then serve Slack and start the jobs."""
        self._bind()
        s = self.services
        s.outbox.recover()  # before any click can arrive: a send in flight is never doubled
        s.access.warm()
        s.inbound.process_pending()
        s.inbound.post_missing_cards()
        self._serve()
        self._scheduler.start()

    def _bind(self) -> None:
        if self._secrets.socket_mode:
            return  # Socket Mode opens no port; it connects in _serve
        slack = self.services.config.slack
        try:
            self._http = HttpServer(self.app, host=slack.http_host, port=slack.http_port)
        except OSError as exc:
            where = f"{slack.http_host}:{slack.http_port}"
            fix = "stop what uses the port, or set slack.http_port to a free one"
            message = f"cannot listen on {where} ({exc.strerror})"
            problem = Problem(self.services.config.source, "slack.http_port", message, fix)
            raise ProblemsError([problem]) from None

    def _serve(self) -> None:
        if self._http is not None:
            self._http.start()
            log.info("listening for Slack on %s", self._http.url)
            return
        self._socket = SocketModeHandler(self.app, self._secrets.slack_app_token)
        self._socket.connect()  # type: ignore[no-untyped-call]
        log.info("connected to Slack in Socket Mode")

    def run_now(self, job_id: str, *, timeout: float = 30.0) -> None:
        """Run a scheduled job (e.g. "sla", "digest") now rather than at its next interval, and
        wait until that run is over. It runs on the scheduler's thread, so never beside its timed
        run: if that one is under way, it is asked again once that finishes."""
        ran: queue.SimpleQueue[JobEvent] = queue.SimpleQueue()

        def seen(event: JobEvent) -> None:
            if event.job_id == job_id:
                ran.put(event)

        self._scheduler.add_listener(
            seen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES
        )
        deadline = time.monotonic() + timeout
        try:
            asked = self._ask(job_id)
            while True:
                event = ran.get(timeout=max(deadline - time.monotonic(), 0.01))
                if event.code == EVENT_JOB_MAX_INSTANCES:
                    time.sleep(0.1)
                    asked = self._ask(job_id)
                elif isinstance(event, JobExecutionEvent) and event.scheduled_run_time >= asked:
                    return
        except queue.Empty:
            raise TimeoutError(f"job {job_id!r} did not run within {timeout:.0f} s") from None
        finally:
            self._scheduler.remove_listener(seen)

    def _ask(self, job_id: str) -> datetime:
        moment = datetime.now(UTC)
        self._scheduler.modify_job(job_id, next_run_time=moment)
        return moment

    def stop(self) -> None:
        """Stop taking work, let in-flight sends finish, then close the database."""
        if self._socket is not None:
            self._socket.close()  # type: ignore[no-untyped-call]
        if self._http is not None:
            self._http.stop()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        self._sender.shutdown(wait=True)
        if self.services.delivery is not None:
            self.services.delivery.stop()
        self.services.store.close()
