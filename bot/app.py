"""The one place that wires Earshot together: config + secrets -> services -> Slack -> runtime."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import tweepy
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

import handlers
from bot.clock import Clock, SystemClock
from bot.config import Config, Secrets, load_playbooks
from bot.desk import Desk
from bot.directory import Directory
from bot.inbound import Inbound
from bot.outbox import Outbox
from bot.problems import Problem, ProblemsError
from bot.routing import Router
from bot.scheduler import build_scheduler
from bot.services import Services
from bot.slack import SlackBoard, make_web_client
from bot.sources.x import XPublisher, XSource, resolve_user_id
from bot.sources.xclient import make_x_client
from bot.store import Store
from bot.suggest import Suggester
from bot.web import HttpServer

log = logging.getLogger(__name__)


def build_services(config: Config, secrets: Secrets, *, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    templates, problems = load_playbooks(config.playbooks_dir, brand=config.brand.name)
    if problems:
        raise ProblemsError(problems)
    store = Store(config.database)
    store.sync_agents(config.agents, now=clock.now())
    directory = Directory.of(config.brand, config.agents, templates)
    slack_client = make_web_client(token=secrets.slack_bot_token, base_url=config.slack.api_url)
    x_client = make_x_client(
        api_url=config.x.api_url,
        bearer_token=secrets.x_bearer_token or None,
        consumer_key=secrets.x_consumer_key,
        consumer_secret=secrets.x_consumer_secret,
        access_token=secrets.x_access_token,
        access_token_secret=secrets.x_access_token_secret,
    )
    user_id = _brand_user_id(config, store, x_client, clock)
    source = XSource(
        client=x_client,
        user_id=user_id,
        brand=config.brand.name,
        clock=clock,
        queries=config.x.search_queries,
        page_size=config.x.page_size,
        interval=timedelta(seconds=config.x.poll_interval_seconds),
        user_auth=not secrets.x_bearer_token,
    )
    publisher = XPublisher(client=x_client, user_id=user_id, handle=config.brand.handle)
    board = SlackBoard(client=slack_client, store=store, directory=directory)
    outbox = Outbox(store=store, publishers={"x": publisher}, board=board, clock=clock)
    inbound = Inbound(
        store=store,
        router=Router.from_specs(config.rules, fallback=config.fallback_channel),
        suggester=Suggester.build(
            templates, top=config.top_suggestions, min_score=config.min_score
        ),
        board=board,
        clock=clock,
        brand_handle=config.brand.handle,
        brand_user_id=user_id,
    )
    return Services(
        config=config,
        clock=clock,
        store=store,
        directory=directory,
        board=board,
        outbox=outbox,
        desk=Desk(store=store, directory=directory, outbox=outbox, board=board, clock=clock),
        inbound=inbound,
        sources=(source,),
        slack_client=slack_client,
    )


def _brand_user_id(config: Config, store: Store, client: tweepy.Client, clock: Clock) -> str:
    """The brand account's numeric id: from config, from an earlier lookup, or asked of X once."""
    if config.x.user_id:
        return config.x.user_id
    key = f"meta:x_user_id:{config.brand.handle.lower()}"
    if cached := store.cursor(key):
        return cached
    try:
        user_id = resolve_user_id(client, config.brand.handle)
    except tweepy.TweepyException as exc:
        fix = "check brand.handle and the X credentials, or set x.user_id"
        problem = Problem(
            "X API", "brand.handle", f"cannot look up @{config.brand.handle} ({exc})", fix
        )
        raise ProblemsError([problem]) from None
    store.set_cursor(key, user_id, now=clock.now())
    return user_id


def create_bolt_app(services: Services, secrets: Secrets, executor: ThreadPoolExecutor) -> App:
    app = App(
        client=services.slack_client,
        signing_secret=secrets.slack_signing_secret,
        request_verification_enabled=not secrets.socket_mode,
        process_before_response=False,
        listener_executor=executor,
        name="earshot",
        logger=logging.getLogger("earshot.bolt"),
    )
    handlers.register(app, services)
    return app


class Runtime:
    """A running Earshot: scheduler jobs plus Slack (Socket Mode or HTTP). Start once, stop once."""

    def __init__(self, config: Config, secrets: Secrets, *, clock: Clock | None = None) -> None:
        self.services = build_services(config, secrets, clock=clock)
        self._secrets = secrets
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="earshot-listener")
        self.app = create_bolt_app(self.services, secrets, self._executor)
        s = self.services
        self._scheduler = build_scheduler(
            inbound=s.inbound,
            outbox=s.outbox,
            sources=s.sources,
            poll_seconds=config.x.poll_interval_seconds,
        )
        self._http: HttpServer | None = None
        self._socket: SocketModeHandler | None = None

    @property
    def http_url(self) -> str | None:
        return self._http.url if self._http else None

    def start(self) -> None:
        s = self.services
        s.outbox.recover()
        s.inbound.process_pending()
        s.inbound.post_missing_cards()
        self._scheduler.start()
        if self._secrets.socket_mode:
            self._socket = SocketModeHandler(self.app, self._secrets.slack_app_token)
            self._socket.connect()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode")
        else:
            slack = s.config.slack
            self._http = HttpServer(self.app, host=slack.http_host, port=slack.http_port)
            self._http.start()
            log.info("listening for Slack on %s", self._http.url)

    def stop(self) -> None:
        """Stop taking work, let in-flight sends finish, then close the database."""
        if self._socket is not None:
            self._socket.close()  # type: ignore[no-untyped-call]
        if self._http is not None:
            self._http.stop()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        self.services.store.close()
