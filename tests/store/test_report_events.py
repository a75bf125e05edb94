"""Engine event_ids are remembered for a window, then forgotten (the hourly job)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from store.records import ReportResult
from store.reports import RunReport
from store.run_store import RunStore

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)


def report(run_id: str, event_id: str, **fields: Any) -> RunReport:
    return RunReport.model_validate(
        {
            "id": run_id,
            "workflow": {
                "id": "hubspot-salesforce",
                "source": "HubSpot",
                "destination": "Salesforce",
            },
            "reference": f"Deal {run_id}",
            "status": "running",
            "event_id": event_id,
            **fields,
        }
    )


async def test_an_event_id_older_than_the_window_is_forgotten_and_then_taken_as_new(
    database_url: str,
) -> None:
    now = [T0]
    store = RunStore.open(database_url, clock=lambda: now[0])
    try:
        await store.report_runs([report("run_old", "evt-old")])
        now[0] = T0 + timedelta(days=5)
        await store.report_runs([report("run_new", "evt-new")])
        finished = {"status": "finished", "result": "Created opportunity 0068c"}
        # Within the window, a repeated event_id changes nothing.
        (repeated,) = await store.report_runs([report("run_old", "evt-old", **finished)])
        assert repeated.result is ReportResult.DUPLICATE

        now[0] = T0 + WINDOW + timedelta(hours=1)
        assert await store.forget_report_events(older_than=WINDOW) == 1

        (kept,) = await store.report_runs([report("run_new", "evt-new", **finished)])
        assert kept.result is ReportResult.DUPLICATE
        (forgotten,) = await store.report_runs([report("run_old", "evt-old", **finished)])
        assert forgotten.result is ReportResult.UPDATED
        detail = await store.get_run("run_old")
        assert detail is not None and detail.summary.status.value == "finished"
        assert await store.forget_report_events(older_than=WINDOW) == 0
    finally:
        await store.close()
