"""`GET /api/v1/runs` answers `total_exact` beside `total` (CONTRACT.md section 3), over real
HTTP on a SQLite file and on PostgreSQL holding more runs than the store counts exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings
from bot.web import create_web_app
from store.records import TOTAL_CAP
from store.run_store import RunStore
from tests.conftest import API_TOKEN
from tests.support.many_runs import FAILED_EVERY, HUBSPOT_RUNS, MANY, ManyRuns, newest_first

Client = TestClient[Any, Any]


@pytest.fixture
async def api(many_runs: ManyRuns) -> AsyncIterator[Client]:
    settings = Settings(RUNSBOT_DATABASE_URL=many_runs.url, RUNSBOT_API_TOKEN=API_TOKEN)
    store = RunStore.open(settings.database_url)
    client: Client = TestClient(
        TestServer(create_web_app(settings, store), host="127.0.0.1", port=0),
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    await client.start_server()
    yield client
    await client.close()
    await store.close()


async def runs(api: Client, **params: Any) -> dict[str, Any]:
    response = await api.get("/api/v1/runs", params=params)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


@pytest.mark.parametrize(
    ("params", "total", "exact"),
    [
        ({}, TOTAL_CAP, False),
        ({"status": "finished"}, TOTAL_CAP, False),
        ({"q": "renewal"}, TOTAL_CAP, False),
        ({"status": "failed"}, MANY // FAILED_EVERY, True),
        ({"workflow": "hubspot-salesforce"}, HUBSPOT_RUNS, True),  # exactly the cap
    ],
)
async def test_total_exact_says_whether_the_total_stopped_counting(
    api: Client, params: dict[str, str], total: int, exact: bool
) -> None:
    body = await runs(api, **params)
    assert (body["total"], body["total_exact"]) == (total, exact)
    assert set(body) == {"runs", "next_cursor", "total", "total_exact"}


async def test_later_pages_show_the_first_pages_total_and_its_exactness(api: Client) -> None:
    """A client that reads only `total` still gets a number, at least 1,000, on every page."""
    body = await runs(api, limit=200)
    seen = [run["id"] for run in body["runs"]]
    while body["next_cursor"] is not None:
        body = await runs(api, limit=200, cursor=body["next_cursor"])
        assert (body["total"], body["total_exact"]) == (TOTAL_CAP, False)
        seen.extend(run["id"] for run in body["runs"])
    assert seen == newest_first()
