"""`GET /api/v1/runs` for the store benchmark's query shapes, beside the store's own figures.

The real web app (bot/web.py create_web_app, Slack off) serves the benchmark's database file on
127.0.0.1, port 0, in the benchmark's process; an aiohttp client asks it, one request at a time,
so each figure is the store's work plus the API's own (request parsing, JSON, HTTP).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.web import create_web_app
from store.filters import RunFilter
from store.run_store import RunStore

HOST = "127.0.0.1"

# How many runs a page says matched, and whether that is exact.
Matched = tuple[int, bool]


def api_params(flt: RunFilter) -> list[tuple[str, str]]:
    """The API's query parameters for the runs `flt` selects. The API has no `ref:`: a
    reference is searched as text (`q`), which also matches run IDs."""
    params = [("status", status.value) for status in sorted(flt.statuses)]
    if flt.workflow is not None:
        params.append(("workflow", flt.workflow))
    words = [*flt.words, *([flt.reference] if flt.reference else [])]
    if words:
        params.append(("q", " ".join(f'"{word}"' if " " in word else word for word in words)))
    for name, moment in (("since", flt.since), ("until", flt.until)):
        if moment is not None:
            params.append((name, moment.isoformat()))
    params.append(("limit", str(flt.limit)))
    return params


class ApiReads:
    """The web app over `database`, and a client of it."""

    def __init__(self, database: Path) -> None:
        token = secrets.token_urlsafe(24)
        url = f"sqlite+aiosqlite:///{database}"
        self.settings = Settings(RUNSBOT_DATABASE_URL=url, RUNSBOT_API_TOKEN=token)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.runner: web.AppRunner | None = None
        self.session: aiohttp.ClientSession | None = None
        self.url = ""

    async def __aenter__(self) -> ApiReads:
        store = RunStore.open(self.settings.database_url)
        await store.upgrade()
        self.runner = web.AppRunner(create_web_app(self.settings, store), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, HOST, 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://{HOST}:{port}/api/v1/runs"
        self.session = aiohttp.ClientSession(headers=self.headers)
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self.session is not None:
            await self.session.close()
        if self.runner is not None:
            await self.runner.cleanup()  # closes the store too

    async def get(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        assert self.session is not None
        async with self.session.get(self.url, params=params) as response:
            body: dict[str, Any] = await response.json()
            if response.status != 200:
                raise RuntimeError(f"GET /api/v1/runs {params}: {response.status} {body}")
            return body

    async def call(self, flt: RunFilter, page: int) -> Callable[[], Awaitable[Matched]]:
        """A call that asks the API for page `page` of `flt` and says how many runs matched."""
        params = api_params(flt)
        for _ in range(page - 1):
            cursor = (await self.get(params))["next_cursor"]
            params = [*api_params(flt), ("cursor", cursor)]

        async def one() -> Matched:
            body = await self.get(params)
            return int(body["total"]), bool(body.get("total_exact", True))

        return one
