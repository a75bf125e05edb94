"""runsbot with Slack off, sending retriggers to the fake engine: the API and the retrigger
dispatcher over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.config import Settings
from bot.retrigger_dispatcher import RetriggerDispatcher
from bot.web import RETRIGGER_DISPATCHER, create_web_app, open_store
from store.models import Retrigger
from store.run_store import RunStore
from tests.conftest import API_TOKEN
from tests.fake_engine import TRIGGER_SECRET, FakeEngine
from tests.fake_slack.waiting import WAIT_TIMEOUT

T = TypeVar("T")

WORKFLOW = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}
PAYLOAD = {"deal_id": 9918, "amount": 120000, "owner": "Zoë Müller"}


@dataclass
class RetriggerBot:
    api: TestClient[Any, Any]
    store: RunStore
    dispatcher: RetriggerDispatcher

    async def report(self, **fields: Any) -> dict[str, Any]:
        response = await self.api.post("/api/v1/runs", json=fields)
        assert response.status in (200, 201), await response.text()
        body: dict[str, Any] = await response.json()
        return body

    async def failed_run(self, run_id: str = "run_original", **fields: Any) -> None:
        await self.report(
            id=run_id,
            workflow=WORKFLOW,
            reference=f"ACME Corp — {run_id}",
            status="failed",
            error={"message": "504 Gateway Timeout", "step": "Create opportunity"},
            payload=PAYLOAD,
            **fields,
        )

    async def retrigger(self, run_id: str, requested_by: str = "api:ops") -> tuple[int, Any]:
        response = await self.api.post(
            f"/api/v1/runs/{run_id}/retrigger", json={"requested_by": requested_by}
        )
        return response.status, await response.json()

    async def run(self, run_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/api/v1/runs/{run_id}")
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    async def retrigger_states(self) -> dict[str, str]:
        """new run ID -> the retrigger's state."""
        async with self.store.engine.connect() as connection:
            rows = await connection.execute(select(Retrigger.new_run_id, Retrigger.state))
            return {new_run_id: state for new_run_id, state in rows}

    async def close(self) -> None:
        await self.api.close()


def engine_settings(database_url: str, engine: FakeEngine, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "RUNSBOT_DATABASE_URL": database_url,
        "RUNSBOT_API_TOKEN": API_TOKEN,
        "RUNSBOT_TRIGGER_URL": engine.trigger_url,
        "RUNSBOT_TRIGGER_SECRET": TRIGGER_SECRET,
    }
    values.update(extra)
    return Settings(**{k: v for k, v in values.items() if v is not None})


async def start_retrigger_bot(settings: Settings, engine: FakeEngine) -> RetriggerBot:
    store = open_store(settings)
    await store.upgrade()
    app = create_web_app(settings, store)
    client: TestClient[Any, Any] = TestClient(
        TestServer(app, host="127.0.0.1", port=0),
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    await client.start_server()
    engine.connect(str(client.make_url("")).rstrip("/"), API_TOKEN)
    return RetriggerBot(api=client, store=store, dispatcher=app[RETRIGGER_DISPATCHER])


def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sweep every 0.1 s and retry after 0.1 s (doubling): the waits are the dispatcher's."""
    monkeypatch.setattr("bot.scheduler.RETRIGGER_SWEEP_SECONDS", 0.1)
    monkeypatch.setattr("bot.retrigger_dispatcher.FIRST_BACKOFF", 0.1)


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = WAIT_TIMEOUT, what: str = ""
) -> T:
    """Poll an async `check` (bounded) until it gives something truthy, and return that."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"not true within {timeout} s: {what}".rstrip(": "))
        await asyncio.sleep(0.02)
