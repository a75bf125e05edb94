"""The Slack app: the Bolt AsyncApp, its Web API clients, and how it reaches Slack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.config import Settings, SlackMode
from bot.response_urls import ResponseUrls
from bot.retrigger_access import SlackRetriggerAccess
from bot.slack_errors import backoff, slack_error_code, slack_retry_after
from bot.slack_health import SlackCallObserver, SlackHealth
from bot.time_zones import SlackTimeZones
from handlers import register_all
from store.run_store import RunStore

log = logging.getLogger(__name__)

# Slack answers within a few seconds or not at all; a post that timed out is
# looked for before it is retried (bot/post_lookup.py).
TIMEOUT_SECONDS = 10
# While Slack cannot be reached at start: a second, doubling up to a minute.
FIRST_RETRY = 1.0
LONGEST_RETRY = 60.0


def _client(
    settings: Settings, health: SlackHealth | None, retry_handlers: list[AsyncRetryHandler]
) -> AsyncWebClient:
    """A client whose every call is reported to `health` (if any)."""
    assert settings.slack_bot_token is not None
    observers = [] if health is None else [SlackCallObserver(health)]
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[*observers, *retry_handlers],
    )


def create_slack_client(settings: Settings, health: SlackHealth | None = None) -> AsyncWebClient:
    """The app's client: waits out rate limits, retries connection and server errors. Its
    calls are reported to `health`; without one (an app only inspected, never served), not."""
    return _client(
        settings,
        health,
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_posting_client(settings: Settings, health: SlackHealth) -> AsyncWebClient:
    """The alert dispatcher's client: it retries nothing.

    Retrying a post after a lost answer could post it twice; the outbox instead looks for
    the message and retries itself. A 429 too is the outbox's: its Retry-After is stored
    with the delivery, so it still holds after a restart.
    """
    return _client(settings, health, [])


def create_slack_app(
    settings: Settings,
    store: RunStore,
    client: AsyncWebClient,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    response_urls: ResponseUrls | None = None,
) -> AsyncApp:
    """The Bolt app with every listener registered; listeners get `store`, `settings`,
    `clock`, `time_zones` (people's zones from Slack, cached) and `retrigger_access` (who
    may retrigger, user groups from Slack, cached) injected by name, and a
    `respond` that answers over `response_urls`' one session (whoever made it closes it)."""
    http_mode = settings.slack_mode is SlackMode.HTTP
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        # Passed explicitly: Bolt would otherwise read SLACK_SIGNING_SECRET itself.
        signing_secret=secret.get_secret_value() if secret is not None else "",
        # AsyncApp calls auth.test lazily, on the first request, not at start.
        request_verification_enabled=http_mode,
    )
    time_zones = SlackTimeZones(client)
    retrigger_access = SlackRetriggerAccess(client, settings.retrigger_users)
    responses = response_urls or ResponseUrls()

    async def provide_dependencies(
        context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]
    ) -> None:
        # Only long-lived objects: the listener body runs after the ack.
        context["store"] = store
        context["settings"] = settings
        context["clock"] = clock
        context["time_zones"] = time_zones
        context["retrigger_access"] = retrigger_access
        if context.response_url is not None:
            context["respond"] = responses.respond(context.response_url)
        await next()

    app.middleware(provide_dependencies)
    register_all(app)
    return app


def slack_events_handler(
    app: AsyncApp, signing_secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """`POST /slack/events`: commands, interactivity and events on one path (HTTP mode).

    A signed slash command is acked here, before Bolt sees it, and Bolt runs it afterwards:
    /runs answers through its response_url, so its ack carries nothing, and Bolt's own ack
    (a listener task polled every 10 ms, behind the middleware) cost 4 times as long alone
    and far more with 32 commands at once (bench/command_bench.py). Anything else, and a
    request whose signature fails, goes through Bolt as it comes.
    """
    verifier = SignatureVerifier(signing_secret)
    in_flight: set[asyncio.Task[Any]] = set()  # kept, so that no running task is collected

    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        if _is_slash_command(bolt_request.body) and verifier.is_valid_request(
            bolt_request.raw_body, dict(request.headers)
        ):
            task = asyncio.create_task(app.async_dispatch(bolt_request))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            return web.Response(status=200)
        response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    return slack_events


def _is_slash_command(body: dict[str, Any]) -> bool:
    return "command" in body and "response_url" in body


def create_socket_mode_handler(settings: Settings, app: AsyncApp) -> AsyncSocketModeHandler:
    """Socket Mode over the app's own client, so SLACK_API_URL reaches apps.connections.open."""
    assert settings.slack_app_token is not None
    return AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())


class SlackConnection:
    """Reaches Slack beside the run API, which never waits for it.

    Checks the bot token (auth.test), then in Socket Mode connects. While Slack cannot be
    reached, each step is tried again with backoff, one log line per failed attempt; once
    Slack refuses a token it stops, and `health` has said which token and what to do.
    """

    def __init__(self, settings: Settings, app: AsyncApp, health: SlackHealth) -> None:
        self._settings = settings
        self._app = app
        self._health = health
        # Each step has its own backoff, so the client retries nothing.
        self._client = _client(settings, health, [])
        self._socket_mode: AsyncSocketModeHandler | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._settings.slack_mode is SlackMode.SOCKET:
            self._socket_mode = create_socket_mode_handler(self._settings, self._app)
        self._task = asyncio.get_running_loop().create_task(self._connect())
        self._task.add_done_callback(_log_failure)

    async def close(self) -> None:
        """Stop trying (even mid-backoff) and close the Socket Mode connection, if any."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._socket_mode is not None:
            # Bolt's Socket Mode handler is not annotated.
            await self._socket_mode.close_async()  # type: ignore[no-untyped-call]

    async def _connect(self) -> None:
        me = await self._until_answered("auth.test", self._client.auth_test)
        if me is None:
            return
        log.info("Slack accepts SLACK_BOT_TOKEN: bot @%s in %s", me.get("user"), me.get("team"))
        if self._socket_mode is None:
            return
        app_token = self._socket_mode.app_token
        opened = await self._until_answered(
            "apps.connections.open",
            lambda: self._client.apps_connections_open(app_token=app_token),
        )
        if opened is None:
            return
        # Connecting with the URL just issued: slack_sdk asks for one only when it has none,
        # and its own retries would log a traceback every 10 s.
        self._socket_mode.client.wss_uri = str(opened["url"])
        await self._socket_mode.connect_async()  # type: ignore[no-untyped-call]

    async def _until_answered(
        self, method: str, call: Callable[[], Awaitable[AsyncSlackResponse]]
    ) -> AsyncSlackResponse | None:
        """What `call` answered, once Slack takes it; None once Slack has refused a token."""
        attempt = 0
        while True:
            try:
                return await call()
            except SlackApiError as error:
                if self._health.refused:
                    return None
                delay = max(self._backoff(attempt), slack_retry_after(error) or 0.0)
                log.warning(
                    "Slack answered %s with %s; trying again in %.0f s",
                    method,
                    slack_error_code(error) or f"HTTP {error.response.status_code}",
                    delay,
                )
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                delay = self._backoff(attempt)
                log.warning(
                    "Slack is unreachable at %s (%s: %s); trying again in %.0f s",
                    self._settings.slack_api_url,
                    method,
                    str(error) or type(error).__name__,
                    delay,
                )
            await asyncio.sleep(delay)
            attempt += 1

    @staticmethod
    def _backoff(attempt: int) -> float:
        return backoff(attempt, first=FIRST_RETRY, longest=LONGEST_RETRY)


def _log_failure(task: asyncio.Task[None]) -> None:
    """A connection task that failed in a way not foreseen says so at once, not at exit."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("connecting to Slack failed", exc_info=error)
