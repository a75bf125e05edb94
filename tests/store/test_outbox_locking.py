"""On PostgreSQL, a report and the alert dispatcher write the same rows at once: both must
get through (no deadlock), whatever order the server lets them in."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from store.alert_planning import GroupingRules
from store.deliveries import PostTarget
from store.records import AlertRouting
from store.reports import RunReport
from store.run_store import RunStore
from tests.fake_slack import ALERTS_CHANNEL
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

WORKFLOW = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}


def report(status: str) -> RunReport:
    body = {"id": "run_locks", "workflow": WORKFLOW, "reference": "ACME Corp", "status": status}
    if status == "failed":
        body["error"] = {"message": "504 Gateway Timeout"}
    return RunReport.model_validate(body)


@pytest.fixture
async def alerting_store(
    postgres: PostgresServer, postgres_template: str
) -> AsyncIterator[RunStore]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres.psql(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    store = RunStore.open(postgres.url_for(name), alert_routing=AlertRouting(ALERTS_CHANNEL))
    yield store
    await store.close()


async def test_a_report_and_the_recording_of_its_alert_at_once_both_get_through(
    alerting_store: RunStore,
) -> None:
    store = alerting_store
    await store.report_runs([report("failed")])
    await store.plan_alerts(GroupingRules(), runs_per_thread_post=100)
    (post,) = await store.due_alert_posts(ALERTS_CHANNEL)
    await store.record_post_attempt(PostTarget.ALERT, post.alert_id)

    async def until_waiting_for_locks(count: int) -> None:
        """Poll (bounded) until `count` sessions of this database wait for a lock."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        async with store.engine.connect() as watcher:
            while True:
                waiting = await watcher.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                await watcher.rollback()  # a fresh snapshot of the activity each time
                if int(waiting or 0) >= count:
                    return
                assert loop.time() < deadline, f"{waiting} sessions waiting, wanted {count}"
                await asyncio.sleep(0.01)

    # Let both in at the same moment: each first waits for the alert row another holds.
    async with store.engine.connect() as holder:
        await holder.execute(
            text("SELECT id FROM alert_messages WHERE id = :id FOR UPDATE"), {"id": post.alert_id}
        )
        recording = asyncio.create_task(
            store.record_posted(PostTarget.ALERT, post.alert_id, "1796000000.000100")
        )
        await until_waiting_for_locks(1)
        reporting = asyncio.create_task(store.report_runs([report("finished")]))
        await until_waiting_for_locks(2)
        await holder.rollback()
    outcomes = await asyncio.gather(recording, reporting, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
