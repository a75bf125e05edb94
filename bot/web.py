"""The one aiohttp server: the run API, health, metrics and (when on) Slack's events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from aiohttp import web

from bot import api
from bot.config import Settings
from bot.metrics import Metrics
from bot.scheduler import create_scheduler
from store.run_store import RunStore


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


def create_web_app(settings: Settings, store: RunStore) -> web.Application:
    """The HTTP app; starting it starts the scheduler, stopping it closes the store."""
    app = web.Application(
        middlewares=[timing, api.api_errors, api.api_auth],
        # Bodies are capped per route (1 MiB, 16 MiB for batches) with the contract's 413.
        client_max_size=api.MAX_BATCH_BODY + 1,
    )
    app[api.SETTINGS] = settings
    app[api.STORE] = store
    app[api.METRICS] = Metrics()
    api.add_routes(app)
    app.cleanup_ctx.append(_scheduled_jobs)
    app.cleanup_ctx.append(_store_lifetime)
    return app


async def _store_lifetime(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[api.STORE].close()


async def _scheduled_jobs(app: web.Application) -> AsyncIterator[None]:
    scheduler = create_scheduler(app[api.STORE])
    scheduler.start()
    yield
    scheduler.shutdown(wait=False)
