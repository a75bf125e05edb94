"""More runs than the store counts exactly (TOTAL_CAP), stored once per test session on each
database through the store's bulk path, for every test of the capped total.

The tests only read them: `many_runs` is shared. What matches what is stated here, so that a
test can say how many runs a filter matches without reading them back.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from store.records import TOTAL_CAP
from store.reports import RunReport
from store.run_store import RunStore
from tests.support.postgres import PostgresServer

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MANY = TOTAL_CAP + 50
# hubspot-salesforce has exactly TOTAL_CAP runs (an exact total at the cap), shopify the rest.
HUBSPOT_RUNS = TOTAL_CAP
# Every FAILED_EVERY-th run failed, the others finished (more than TOTAL_CAP).
FAILED_EVERY = 30
# The first RENEWALS runs' references say "Renewal" (one more than the cap), the rest do not.
RENEWALS = TOTAL_CAP + 1

_WORKFLOWS = {
    "hubspot-salesforce": {"source": "HubSpot", "destination": "Salesforce"},
    "shopify-netsuite": {"source": "Shopify", "destination": "NetSuite"},
}


def many_run_id(number: int) -> str:
    return f"run_{number:05d}"


def _report(number: int) -> RunReport:
    workflow_id = "hubspot-salesforce" if number <= HUBSPOT_RUNS else "shopify-netsuite"
    failed = number % FAILED_EVERY == 0
    body: dict[str, Any] = {
        "id": many_run_id(number),
        "workflow": {"id": workflow_id, **_WORKFLOWS[workflow_id]},
        "reference": f"ACME Renewal {number}" if number <= RENEWALS else f"Globex order {number}",
        "status": "failed" if failed else "finished",
        # Run 1 is the newest, a minute apart.
        "started_at": (T0 - timedelta(minutes=number)).isoformat(),
    }
    if failed:
        body["error"] = {"message": "503 Service Unavailable", "step": "Create"}
    return RunReport.model_validate(body)


def newest_first() -> list[str]:
    """Every run's ID in the page order."""
    return [many_run_id(number) for number in range(1, MANY + 1)]


@dataclass(frozen=True)
class ManyRuns:
    url: str  # a migrated database holding the MANY runs: read it, never write to it


async def _fill(url: str) -> None:
    store = RunStore.open(url)
    try:
        await store.upgrade()
        reports = [_report(number) for number in range(1, MANY + 1)]
        for start in range(0, len(reports), 500):
            outcomes = await store.report_runs(reports[start : start + 500])
            assert all(outcome.error is None for outcome in outcomes)
    finally:
        await store.close()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def many_runs(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> ManyRuns:
    """Synchronous, like the templates it is copied from: it fills in its own event loop."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("many") / "runs.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        template = request.getfixturevalue("postgres_template")
        name = f"many_{uuid.uuid4().hex[:12]}"
        server.psql(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        url = server.url_for(name)
    asyncio.run(_fill(url))
    return ManyRuns(url)
