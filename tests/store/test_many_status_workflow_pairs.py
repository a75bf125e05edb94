"""Filters on many statuses × workflows: past MAX_UNION_ARMS pairs the page query merges its
index scans into one; either way the pages hold exactly the runs a plain filter would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.filters import RunFilter
from store.queries import MAX_UNION_ARMS
from store.reports import RunReport
from store.run_store import RunStore
from store.types import RunStatus

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# Seven workflows share one route, so `HubSpot → Salesforce` names them all; one does not.
ROUTE_WORKFLOWS = [f"hubspot-salesforce-{n}" for n in range(7)]
OTHER_WORKFLOW = "shopify-netsuite"


def reports() -> list[RunReport]:
    """Two runs of each workflow in each status, starting at the same time (a tie the run ID
    breaks)."""
    made = []
    for n, (workflow_id, status, copy) in enumerate(
        (workflow_id, status, copy)
        for workflow_id in [*ROUTE_WORKFLOWS, OTHER_WORKFLOW]
        for status in RunStatus
        for copy in range(2)
    ):
        source, destination = (
            ("Shopify", "NetSuite") if workflow_id == OTHER_WORKFLOW else ("HubSpot", "Salesforce")
        )
        body = {
            "id": f"run_{n:03d}",
            "workflow": {"id": workflow_id, "source": source, "destination": destination},
            "reference": f"Deal {n} ({copy})",
            "status": status.value,
            "started_at": (T0 - timedelta(minutes=n // 2)).isoformat(),
        }
        if status is RunStatus.FAILED:
            body["error"] = {"message": "503 Service Unavailable"}
        made.append(RunReport.model_validate(body))
    return made


async def pages(store: RunStore, flt: RunFilter) -> tuple[list[str], int]:
    """Every run ID across the pages, newest first, and the first page's total."""
    page = await store.list_runs(flt)
    total, ids = page.total, [run.id for run in page.runs]
    while page.next_cursor is not None:
        page = await store.list_runs(RunFilter(**{**flt.__dict__, "cursor": page.next_cursor}))
        ids += [run.id for run in page.runs]
    return ids, total


def by_hand(
    made: list[RunReport], statuses: frozenset[RunStatus], since: datetime | None
) -> list[str]:
    """The same filter over the same runs, in plain Python."""
    matching = [
        report
        for report in made
        if report.workflow.id in ROUTE_WORKFLOWS
        and RunStatus(report.status) in statuses
        and (since is None or (report.started_at is not None and report.started_at >= since))
    ]
    matching.sort(key=lambda report: (report.started_at, report.id), reverse=True)
    return [str(report.id) for report in matching]


async def test_many_status_workflow_pairs_page_like_a_plain_filter(store: RunStore) -> None:
    made = reports()
    outcomes = await store.report_runs(made)
    assert all(outcome.error is None for outcome in outcomes)
    many = frozenset(RunStatus) - {RunStatus.RUNNING}
    few = frozenset({RunStatus.FAILED, RunStatus.SKIPPED})
    assert len(many) * len(ROUTE_WORKFLOWS) > MAX_UNION_ARMS  # one merged scan
    assert len(few) * len(ROUTE_WORKFLOWS) <= MAX_UNION_ARMS  # a union of scans
    for statuses in (many, few):
        for since in (None, T0 - timedelta(minutes=20)):
            flt = RunFilter(
                statuses=statuses, workflow="HubSpot → Salesforce", since=since, limit=6
            )
            expected = by_hand(made, statuses, since)
            assert await pages(store, flt) == (expected, len(expected)), (statuses, since)
