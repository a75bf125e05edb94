"""The Slack app: the Bolt AsyncApp, its Web API clients, and how it reaches Slack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings, SlackMode
from handlers import register_all
from store.run_store import RunStore

# Slack answers within a few seconds or not at all; a post that timed out is
# looked for before it is retried (bot/outbox.py).
TIMEOUT_SECONDS = 10


def _client(settings: Settings, retry_handlers: list[AsyncRetryHandler]) -> AsyncWebClient:
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=retry_handlers,
    )


def create_slack_client(settings: Settings) -> AsyncWebClient:
    """The app's client: waits out rate limits, retries connection and server errors."""
    return _client(
        settings,
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_posting_client(settings: Settings) -> AsyncWebClient:
    """The alert dispatcher's client: it retries nothing.

    Retrying a post after a lost answer could post it twice; the outbox instead looks for
    the message and retries itself. A 429 too is the outbox's: its Retry-After is stored
    with the delivery, so it still holds after a restart.
    """
    return _client(settings, [])


def create_slack_app(
    settings: Settings,
    store: RunStore,
    client: AsyncWebClient,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncApp:
    """The Bolt app with every listener registered; listeners get `store`,
    `settings` and `clock` injected by name."""
    http_mode = settings.slack_mode is SlackMode.HTTP
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        # Passed explicitly: Bolt would otherwise read SLACK_SIGNING_SECRET itself.
        signing_secret=secret.get_secret_value() if secret is not None else "",
        # AsyncApp calls auth.test lazily, on the first request, not at start.
        request_verification_enabled=http_mode,
    )

    async def provide_dependencies(
        context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]
    ) -> None:
        # Only long-lived objects: the listener body runs after the ack.
        context["store"] = store
        context["settings"] = settings
        context["clock"] = clock
        await next()

    app.middleware(provide_dependencies)
    register_all(app)
    return app


def slack_events_handler(app: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    """`POST /slack/events`: commands, interactivity and events on one path (HTTP mode)."""

    async def slack_events(request: web.Request) -> web.Response:
        response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    return slack_events


def create_socket_mode_handler(settings: Settings, app: AsyncApp) -> AsyncSocketModeHandler:
    """Socket Mode over the app's own client, so SLACK_API_URL reaches apps.connections.open."""
    assert settings.slack_app_token is not None
    return AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
