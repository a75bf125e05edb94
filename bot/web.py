"""The one aiohttp server: the run API, health, metrics and (when on) Slack's events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot import api
from bot.alert_dispatcher import POST_INTERVAL, AlertDispatcher
from bot.config import Settings, SlackMode
from bot.metrics import Metrics
from bot.response_urls import ResponseUrls
from bot.retrigger_dispatcher import RetriggerDispatcher
from bot.scheduler import create_scheduler
from bot.slack_app import (
    SlackConnection,
    create_posting_client,
    create_slack_app,
    create_slack_client,
    slack_events_handler,
)
from bot.slack_health import SlackHealth
from store.alert_planning import GroupingRules
from store.records import AlertRouting, RetriggerRouting
from store.run_store import RunStore

DISPATCHER = web.AppKey("dispatcher", AlertDispatcher)
RETRIGGER_DISPATCHER = web.AppKey("retrigger_dispatcher", RetriggerDispatcher)
SLACK_CONNECTION = web.AppKey("slack_connection", SlackConnection)
RESPONSE_URLS = web.AppKey("response_urls", ResponseUrls)


class StoreSignal:
    """Passes the store's word that a commit did something (queued alerts, with their number;
    requested a retrigger) on to the dispatchers. The store is opened, and told whom to tell,
    before the app that makes the dispatchers: this comes first, and the app connects them."""

    def __init__(self) -> None:
        self._listeners: list[Callable[..., None]] = []

    def connect(self, listener: Callable[..., None]) -> None:
        self._listeners.append(listener)

    def __call__(self, *count: int) -> None:
        for listener in self._listeners:
            listener(*count)


def open_store(settings: Settings) -> RunStore:
    """The run store; with Slack on, failures are queued for alerts as they are stored, and
    the app made with this store wakes its alert dispatcher for them. Retriggers go to
    RUNSBOT_TRIGGER_URL (or the workflow's own) with Slack on or off, and wake the
    retrigger dispatcher."""
    slack_on = settings.slack_mode is not SlackMode.OFF
    return RunStore.open(
        settings.database_url,
        alert_routing=AlertRouting(settings.alert_channel) if slack_on else None,
        on_alerts_queued=StoreSignal() if slack_on else None,
        retrigger_routing=RetriggerRouting(
            default_trigger_url=settings.trigger_url, can_sign=settings.trigger_secret is not None
        ),
        on_retrigger_requested=StoreSignal(),
    )


@web.middleware
async def timing(request: web.Request, handler: api.Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        request.app[api.METRICS].requests.labels(route, str(status)).observe(
            time.perf_counter() - started
        )


def create_web_app(
    settings: Settings,
    store: RunStore,
    *,
    posting_client: AsyncWebClient | None = None,
    grouping: GroupingRules | None = None,
    post_interval: float = POST_INTERVAL,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> web.Application:
    """The HTTP app. Starting it starts the dispatcher and the scheduled jobs, and connects
    Slack in the background (the API never waits for Slack); stopping it stops them and
    closes the store. `clock` is the Slack listeners' "now" (tests fix it)."""
    app = web.Application(
        middlewares=[timing, api.api_errors, api.api_auth],
        # Bodies are capped per route (1 MiB, 16 MiB for batches) with the contract's 413.
        client_max_size=api.MAX_BATCH_BODY + 1,
    )
    app[api.SETTINGS] = settings
    app[api.STORE] = store
    metrics = app[api.METRICS] = Metrics()
    health = app[api.SLACK_HEALTH] = SlackHealth(settings.slack_mode, metrics)
    api.add_routes(app)
    retriggers = app[RETRIGGER_DISPATCHER] = RetriggerDispatcher(
        store,
        secret=settings.trigger_secret.get_secret_value() if settings.trigger_secret else None,
        rate=settings.retrigger_rate,
        metrics=metrics,
    )
    if isinstance(store.on_retrigger_requested, StoreSignal):
        store.on_retrigger_requested.connect(retriggers.wake)
    if settings.slack_mode is not SlackMode.OFF:
        responses = app[RESPONSE_URLS] = ResponseUrls()
        client = create_slack_client(settings, health)
        bolt = create_slack_app(settings, store, client, clock=clock, response_urls=responses)
        if settings.slack_mode is SlackMode.HTTP:
            assert settings.slack_signing_secret is not None
            secret = settings.slack_signing_secret.get_secret_value()
            app.router.add_post("/slack/events", slack_events_handler(bolt, secret))
        app[SLACK_CONNECTION] = SlackConnection(settings, bolt, health)
        dispatcher = AlertDispatcher(
            store,
            posting_client or create_posting_client(settings, health),
            health=health,
            metrics=metrics,
            rules=grouping,
            post_interval=post_interval,
        )
        if isinstance(store.on_alerts_queued, StoreSignal):
            store.on_alerts_queued.connect(dispatcher.queued)
        if isinstance(store.on_retrigger_requested, StoreSignal):
            # The original's alert now says who retriggered it: re-render it soon.
            store.on_retrigger_requested.connect(dispatcher.wake)
        app[DISPATCHER] = dispatcher
    # Stopped in reverse order: jobs, then Slack, then the store they use.
    app.cleanup_ctx.extend((_store_lifetime, _slack_connection, _scheduled_jobs))
    return app


async def _store_lifetime(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[api.STORE].close()


async def _slack_connection(app: web.Application) -> AsyncIterator[None]:
    connection = app.get(SLACK_CONNECTION)
    if connection is not None:
        connection.start()
    yield
    if connection is not None:
        await connection.close()
        await app[RESPONSE_URLS].close()


async def _scheduled_jobs(app: web.Application) -> AsyncIterator[None]:
    dispatcher = app.get(DISPATCHER)
    retriggers = app[RETRIGGER_DISPATCHER]
    scheduler = create_scheduler(app[api.STORE], dispatcher, retriggers)
    scheduler.start()
    if dispatcher is not None:
        dispatcher.wake()  # deliver what an earlier run left undelivered
    retriggers.wake()  # and send what it left unsent
    yield
    # The dispatchers first: a sweep cancelled mid-pass by the scheduler's shutdown
    # would be logged as a failed job.
    if dispatcher is not None:
        await dispatcher.close()
    await retriggers.close()
    scheduler.shutdown(wait=False)
