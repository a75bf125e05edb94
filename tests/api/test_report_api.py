"""POST /api/v1/runs and /api/v1/runs/batch: idempotent, converging, and every 4xx changes nothing."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from bot.api_requests import ID_RULE
from store.filters import RunFilter
from store.records import ReportResult
from store.reports import RunReport
from store.run_store import RunStore
from tests.conftest import API_TOKEN
from tests.support.snapshot import snapshot

Client = TestClient[Any, Any]

WORKFLOW = {
    "id": "hubspot-salesforce",
    "source": "HubSpot",
    "destination": "Salesforce",
    "name": "Deals → Opportunities",
}
FAILED = {
    "id": "run_2Q8acme",
    "workflow": WORKFLOW,
    "reference": "ACME Corp — Renewal 2027",
    "status": "failed",
    "started_at": "2026-11-20T10:02:03Z",
    "finished_at": "2026-11-20T10:02:09Z",
    "error": {"message": "401 Unauthorized: token expired", "step": "Create opportunity"},
    "payload": {"deal_id": 9918, "amount": 120000},
    "steps": [
        {
            "name": "Fetch deal",
            "status": "finished",
            "started_at": "2026-11-20T10:02:03Z",
            "finished_at": "2026-11-20T10:02:04Z",
            "detail": "Deal 9918",
            "error": None,
        },
        {"name": "Create opportunity", "status": "failed", "error": "401 Unauthorized"},
    ],
    "event_id": "evt-77",
}


async def post(api: Client, body: Any, path: str = "/api/v1/runs") -> tuple[int, Any]:
    response = await api.post(path, json=body)
    return response.status, await response.json()


async def get_run(api: Client, run_id: str) -> Any:
    response = await api.get(f"/api/v1/runs/{run_id}")
    assert response.status == 200
    return await response.json()


async def test_a_report_creates_the_run_and_returns_it(api: Client) -> None:
    status, run = await post(api, FAILED)
    assert status == 201
    assert run["id"] == "run_2Q8acme"
    assert run["workflow"] == WORKFLOW
    assert run["error"] == {
        "message": "401 Unauthorized: token expired",
        "step": "Create opportunity",
    }
    assert run["started_at"] == "2026-11-20T10:02:03Z"
    assert [step["name"] for step in run["steps"]] == ["Fetch deal", "Create opportunity"]
    fetched = await (await api.get("/api/v1/runs/run_2Q8acme")).json()
    assert fetched["payload"] == {"deal_id": 9918, "amount": 120000}
    assert fetched["status"] == "failed"


async def test_runsbot_makes_a_sortable_run_id_when_the_engine_gives_none(api: Client) -> None:
    body = {key: value for key, value in FAILED.items() if key not in ("id", "event_id")}
    status, first = await post(api, body)
    _, second = await post(api, body)
    assert status == 201
    assert first["id"].startswith("run_") and len(first["id"]) == 30
    assert first["id"] < second["id"]


async def test_offsets_are_stored_as_utc(api: Client) -> None:
    status, run = await post(api, {**FAILED, "started_at": "2026-11-20T23:30:00-08:00"})
    assert status == 201
    assert run["started_at"] == "2026-11-21T07:30:00Z"


async def test_a_repeated_event_id_answers_200_and_changes_nothing(
    api: Client, store: RunStore
) -> None:
    await post(api, FAILED)
    before = await snapshot(store)
    status, run = await post(api, {**FAILED, "status": "finished", "result": "changed?"})
    assert status == 200
    assert run["status"] == "failed"
    assert await snapshot(store) == before


@pytest.mark.parametrize(
    "repeat",
    [
        {"id": None},  # no run ID: runsbot made the first one's
        {},  # the same run ID (filled in below)
    ],
    ids=["no-id", "same-id"],
)
async def test_a_repeated_event_id_answers_with_the_run_it_named(
    api: Client, store: RunStore, repeat: dict[str, Any]
) -> None:
    first_status, first = await post(api, {**FAILED, "id": None})
    repeat = {"id": first["id"], **repeat}
    before = await snapshot(store)
    status, run = await post(api, {**FAILED, **repeat, "status": "finished"})
    assert (first_status, status) == (201, 200)
    assert run == first
    assert await snapshot(store) == before
    # In a batch too, twice over: each answer names the run the event made.
    batch = {"runs": [{**FAILED, **repeat}, {**FAILED, "id": None, "event_id": "evt-new"}] * 2}
    status, body = await post(api, batch, "/api/v1/runs/batch")
    ids = [result["id"] for result in body["results"]]
    assert [result["status"] for result in body["results"]] == [200, 201, 200, 200]
    assert ids[0] == ids[2] == first["id"] and ids[1] == ids[3] != first["id"]
    for run_id in ids:
        assert (await api.get(f"/api/v1/runs/{run_id}")).status == 200


@pytest.mark.parametrize(
    "other_id",
    ["run_other", "run_known"],  # a run ID the store does not hold; another stored run
    ids=["unknown-id", "other-run"],
)
async def test_an_event_id_used_for_another_run_is_409_naming_that_run(
    api: Client, store: RunStore, other_id: str
) -> None:
    await post(api, {**FAILED, "id": "run_known", "event_id": "evt-known"})
    _, first = await post(api, FAILED)
    before = await snapshot(store)
    status, error = await post(api, {**FAILED, "id": other_id, "status": "finished"})
    assert (status, error["field"]) == (409, "event_id")
    assert error["error"] == (
        f"event_id evt-77 was already used for run run_2Q8acme, not {other_id}: "
        "give each report its own event_id"
    )
    assert error["run"] == first  # the run it was used for, as a 200 answer shows it
    assert await snapshot(store) == before
    # In a batch it falls alone, and the others stand.
    batch = {
        "runs": [
            {**FAILED, "id": other_id, "status": "finished"},
            {**FAILED, "id": "run_new", "event_id": "evt-new"},
        ]
    }
    status, body = await post(api, batch, "/api/v1/runs/batch")
    conflict, created = body["results"]
    assert status == 200 and created == {"id": "run_new", "status": 201, "error": None}
    assert conflict == {
        "id": other_id,
        "status": 409,
        "error": error["error"],
        "field": "runs.0.event_id",
        "run": first,
    }
    assert (await api.get(f"/api/v1/runs/{other_id}")).status == (
        200 if other_id == "run_known" else 404
    )
    assert (await get_run(api, "run_2Q8acme"))["status"] == "failed"


async def test_an_event_id_used_twice_in_one_batch_for_two_runs_is_409_the_second_time(
    api: Client, store: RunStore
) -> None:
    first = {**FAILED, "id": "run_a", "event_id": "evt-same"}
    second = {**FAILED, "id": "run_b", "event_id": "evt-same", "reference": "Other deal"}
    again = {**FAILED, "id": None, "event_id": "evt-same", "status": "finished"}
    status, body = await post(api, {"runs": [first, second, again]}, "/api/v1/runs/batch")
    created, conflict, repeated = body["results"]
    assert (created["status"], created["id"]) == (201, "run_a")
    assert (conflict["status"], conflict["id"]) == (409, "run_b")
    assert conflict["field"] == "runs.1.event_id"
    assert conflict["error"].startswith("event_id evt-same was already used for run run_a, ")
    assert conflict["run"]["id"] == "run_a" and conflict["run"]["reference"] == FAILED["reference"]
    assert (repeated["status"], repeated["id"]) == (200, "run_a")
    assert (await api.get("/api/v1/runs/run_b")).status == 404
    assert (await get_run(api, "run_a"))["status"] == "failed"
    listed = await (await api.get("/api/v1/runs")).json()
    assert [run["id"] for run in listed["runs"]] == ["run_a"]


async def test_replicas_racing_to_use_one_event_id_for_two_runs_store_one(
    database_url: str,
) -> None:
    """Two stores on one database (as two replicas): the event_id's uniqueness is the
    database's, so whichever commits second is told it is a conflict, and nothing is lost."""
    replicas = [RunStore.open(database_url) for _ in range(2)]
    try:
        batches = [
            [
                RunReport.model_validate({**FAILED, "id": f"run_{side}{n}", "event_id": f"evt-{n}"})
                for n in range(30)
            ]
            for side in "ab"
        ]
        results = await asyncio.gather(
            *(replica.report_runs(batch) for replica, batch in zip(replicas, batches, strict=True))
        )
        for n, pair in enumerate(zip(*results, strict=True)):
            kinds = sorted(outcome.result for outcome in pair)
            assert kinds == [ReportResult.CONFLICT, ReportResult.CREATED], (n, kinds)
            stored = next(o for o in pair if o.result is ReportResult.CREATED).run_id
            assert all(outcome.run_id == stored for outcome in pair)
        page = await replicas[0].list_runs(RunFilter(limit=200))
        assert page.total == 30
    finally:
        for replica in replicas:
            await replica.close()


async def test_conflicts_are_counted_in_the_metrics(api: Client) -> None:
    await post(api, FAILED)
    await post(api, {**FAILED, "id": "run_other"})
    text = await (await api.get("/metrics")).text()
    assert 'runsbot_reports_total{result="conflict"} 1.0' in text


async def test_a_later_report_updates_and_a_late_lower_one_only_fills_gaps(api: Client) -> None:
    running = {
        "id": "run_x",
        "workflow": WORKFLOW,
        "reference": "Deal",
        "status": "running",
        "updated_at": "2026-11-20T10:00:00Z",
        "payload": {"a": 1},
    }
    finished = {
        "id": "run_x",
        "workflow": WORKFLOW,
        "reference": "Deal (renamed)",
        "status": "finished",
        "updated_at": "2026-11-20T10:05:00Z",
        "result": "Created 0068c",
    }
    assert (await post(api, finished))[0] == 201  # out of order: the end arrives first
    status, run = await post(api, running)
    assert status == 200
    assert run["status"] == "finished"
    assert run["result"] == "Created 0068c"
    assert run["payload"] == {"a": 1}  # filled in: the finished report did not carry it
    assert run["reference"] == "Deal (renamed)"  # the higher report's value stays


async def test_a_batch_answers_each_report_in_order(api: Client) -> None:
    reports = [
        FAILED,
        {**FAILED, "event_id": None, "status": "failed", "error": None},  # failed without message
        {
            "id": "run_new",
            "workflow": {"id": "hubspot-salesforce"},
            "reference": "B",
            "status": "pending",
        },
        {**FAILED, "event_id": "evt-78", "status": "finished"},
        "not an object",
    ]
    status, body = await post(api, {"runs": reports}, "/api/v1/runs/batch")
    assert status == 200
    results = body["results"]
    assert [r["status"] for r in results] == [201, 422, 201, 200, 422]
    assert results[1]["field"] == "runs.1.error" or results[1]["field"] == "runs.1.error.message"
    assert results[0]["id"] == "run_2Q8acme" and results[2]["id"] == "run_new"
    assert results[0]["error"] is None


async def test_a_run_moving_to_a_new_workflow_needs_its_source_and_destination(
    api: Client, store: RunStore
) -> None:
    await post(api, FAILED)
    before = await snapshot(store)
    moved = {"id": FAILED["id"], "workflow": {"id": "brand-new"}, "status": "finished"}
    status, error = await post(api, moved)
    assert (status, error["field"]) == (422, "workflow.source")
    assert await snapshot(store) == before
    # In a batch it falls alone.
    other = {**FAILED, "id": "run_other", "event_id": None}
    status, body = await post(api, {"runs": [moved, other]}, "/api/v1/runs/batch")
    assert [result["status"] for result in body["results"]] == [422, 201]
    assert body["results"][0]["field"] == "runs.0.workflow.source"


async def test_out_of_range_times_fall_alone_in_a_batch(api: Client) -> None:
    early = {**FAILED, "id": "run_early", "started_at": "0001-01-01T00:00:00+01:00"}
    status, body = await post(api, {"runs": [early, FAILED]}, "/api/v1/runs/batch")
    assert [result["status"] for result in body["results"]] == [422, 201]
    assert body["results"][0]["field"] == "runs.0.started_at"


async def test_batches_over_1000_reports_are_refused_whole(api: Client, store: RunStore) -> None:
    before = await snapshot(store)
    report = {"workflow": WORKFLOW, "reference": "r", "status": "pending"}
    status, body = await post(api, {"runs": [report] * 1001}, "/api/v1/runs/batch")
    assert (status, body["field"]) == (422, "runs")
    assert await snapshot(store) == before


def _without(field: str) -> dict[str, Any]:
    return {key: value for key, value in FAILED.items() if key != field}


REJECTED: list[tuple[str, Any, int, str | None]] = [
    ("failed without error.message", {**FAILED, "error": {"step": "Create"}}, 422, "error.message"),
    ("unknown status", {**FAILED, "status": "exploded"}, 422, "status"),
    ("malformed time", {**FAILED, "started_at": "20/11/2026 10:02"}, 422, "started_at"),
    ("time without offset", {**FAILED, "finished_at": "2026-11-20T10:02:09"}, 422, "finished_at"),
    ("time without seconds", {**FAILED, "started_at": "2026-11-20T10:02Z"}, 422, "started_at"),
    (
        "time before year 1 in UTC",
        {**FAILED, "started_at": "0001-01-01T00:00:00+01:00"},
        422,
        "started_at",
    ),
    (
        "time after 9999 in UTC",
        {**FAILED, "finished_at": "9999-12-31T23:59:59-01:00"},
        422,
        "finished_at",
    ),
    ("run ID outside the characters", {**FAILED, "id": "run/../x"}, 422, "id"),
    ("run ID too long", {**FAILED, "id": "r" * 65}, 422, "id"),
    ("reference over 255", {**FAILED, "reference": "é" * 256}, 422, "reference"),
    ("payload not an object", {**FAILED, "payload": [1, 2, 3]}, 422, "payload"),
    ("payload over 256 KiB", {**FAILED, "payload": {"blob": "x" * 262_144}}, 422, "payload"),
    ("no workflow", _without("workflow"), 422, "workflow"),
    (
        "no workflow id",
        {**FAILED, "workflow": {"source": "A", "destination": "B"}},
        422,
        "workflow.id",
    ),
    (
        "new workflow without source",
        {**FAILED, "workflow": {"id": "new-one", "destination": "B"}},
        422,
        "workflow.source",
    ),
    ("reference missing on create", _without("reference"), 422, "reference"),
    ("body a list", [FAILED], 422, None),
    ("steps not a list", {**FAILED, "steps": {"name": "x"}}, 422, "steps"),
    ("step without name", {**FAILED, "steps": [{"status": "failed"}]}, 422, "steps.0.name"),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "field"), REJECTED, ids=[case[0] for case in REJECTED]
)
async def test_invalid_reports_are_422_naming_the_field_and_change_nothing(
    api: Client, store: RunStore, case: str, body: Any, status: int, field: str | None
) -> None:
    before = await snapshot(store)
    got_status, error = await post(api, body)
    assert got_status == status, error
    assert error.get("field") == field
    assert isinstance(error["error"], str) and error["error"]
    assert await snapshot(store) == before


# Every 422 says "<field>: <what it should be>", in the API's words, never pydantic's.
SENTENCES: list[tuple[str, Any, str]] = [
    ("no workflow", _without("workflow"), "workflow: is required"),
    ("workflow not an object", {**FAILED, "workflow": "x"}, "workflow: should be a JSON object"),
    ("reference over 255", {**FAILED, "reference": "é" * 256}, "reference: should be at most 255 characters"),
    ("reference blank", {**FAILED, "reference": "  "}, "reference: should not be empty"),
    ("reference a number", {**FAILED, "reference": 42}, "reference: should be a string"),
    (
        "unknown status",
        {**FAILED, "status": "exploded"},
        "status: should be one of pending, running, finished, failed, skipped",
    ),
    ("run ID outside the characters", {**FAILED, "id": "run/../x"}, f"id: {ID_RULE}"),
    ("run ID too long", {**FAILED, "id": "r" * 65}, f"id: {ID_RULE}"),
    ("workflow ID outside the characters", {**FAILED, "workflow": {"id": "a b"}}, f"workflow.id: {ID_RULE}"),
    ("payload not an object", {**FAILED, "payload": [1, 2, 3]}, "payload: should be a JSON object"),
    (
        "payload over 256 KiB",
        {**FAILED, "payload": {"blob": "x" * 262_144}},
        "payload: should be at most 256 KiB as JSON",
    ),
    ("steps not a list", {**FAILED, "steps": {"name": "x"}}, "steps: should be a JSON array"),
    ("step without name", {**FAILED, "steps": [{"status": "failed"}]}, "steps.0.name: is required"),
    (
        "time not a string",
        {**FAILED, "started_at": 1763632923},
        "started_at: should be an RFC 3339 time like 2026-11-20T10:02:03Z",
    ),
    (
        "failed without error.message",
        {**FAILED, "error": {"step": "Create"}},
        "error.message: is required when status is failed",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "sentence"), SENTENCES, ids=[s[0] for s in SENTENCES])
async def test_a_422_names_the_field_and_says_what_it_should_be(
    api: Client, case: str, body: Any, sentence: str
) -> None:
    status, error = await post(api, body)
    assert (status, error["error"]) == (422, sentence)
    # In a batch, the same sentence; the field adds the report's place.
    first = {**FAILED, "id": "run_first", "event_id": "evt-first"}
    status, batch = await post(api, {"runs": [first, body]}, "/api/v1/runs/batch")
    assert batch["results"][0]["status"] == 201
    rejected = batch["results"][1]
    assert (rejected["status"], rejected["error"]) == (422, sentence)
    assert rejected["field"] == f"runs.1.{error['field']}"


@pytest.mark.parametrize(
    ("case", "body", "status", "field"), REJECTED, ids=[case[0] for case in REJECTED]
)
async def test_no_422_speaks_in_pydantic_s_words(
    api: Client, case: str, body: Any, status: int, field: str | None
) -> None:
    _, error = await post(api, body)
    assert not re.search(
        r"Input should|String should|Field required|Value error|dictionary|instance of",
        error["error"],
    ), error["error"]
    if field is not None:  # one voice: "<field>: <what it should be>"
        assert error["error"].startswith(f"{field}: "), error["error"]


async def test_notes_and_workflows_are_refused_in_the_same_words(api: Client) -> None:
    await post(api, FAILED)
    notes = f"/api/v1/runs/{FAILED['id']}/notes"
    refused = [
        (api.post(notes, json={"author": " ", "text": "t"}), "author: should not be empty"),
        (api.post(notes, json={"text": "t"}), "author: is required"),
        (
            api.post(notes, json={"author": "ana", "text": "t" * 3001}),
            "text: should be at most 3000 characters",
        ),
        (api.post(notes, json=["t"]), "the request body should be a JSON object"),
        (
            api.put("/api/v1/workflows/new-one", json={"destination": "B"}),
            "source: is required",
        ),
        (
            api.put(
                "/api/v1/workflows/new-one",
                json={"source": "A", "destination": "B", "trigger_url": "ftp://engine"},
            ),
            "trigger_url: should be an http:// or https:// URL",
        ),
    ]
    for request, sentence in refused:
        response = await request
        assert (response.status, (await response.json())["error"]) == (422, sentence)


README = Path(__file__).parents[2] / "README.md"
# `curl … $RUNSBOT/api/v1/runs[/batch] -H "$AUTH" -d '<body>'`, as the README writes it.
README_REPORT = re.compile(
    r"curl -s -X POST \$RUNSBOT(/api/v1/runs(?:/batch)?) -H \"\$AUTH\" -d '(.*?)'", re.DOTALL
)


async def test_the_readme_s_reports_are_taken_as_written(api: Client) -> None:
    examples = README_REPORT.findall(README.read_text())
    assert sorted(path for path, _ in examples) == ["/api/v1/runs", "/api/v1/runs/batch"]
    for path, body in examples:
        status, answer = await post(api, json.loads(body), path)
        assert status == (200 if path.endswith("batch") else 201), answer
        for result in answer.get("results", []):
            assert (result["status"], result["error"]) == (201, None)


async def test_a_body_that_is_not_json_is_400_and_changes_nothing(
    api: Client, store: RunStore
) -> None:
    before = await snapshot(store)
    response = await api.post(
        "/api/v1/runs", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert "not JSON" in (await response.json())["error"]
    assert await snapshot(store) == before


async def test_bodies_over_the_limits_are_413_and_change_nothing(
    api: Client, store: RunStore
) -> None:
    before = await snapshot(store)
    big = b'{"blob": "' + b"x" * (1024 * 1024) + b'"}'
    response = await api.post(
        "/api/v1/runs", data=io.BytesIO(big), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert "error" in await response.json()
    huge = b'{"runs": ["' + b"x" * (16 * 1024 * 1024) + b'"]}'
    response = await api.post(
        "/api/v1/runs/batch", data=io.BytesIO(huge), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert await snapshot(store) == before


async def test_a_missing_or_wrong_token_is_401_and_changes_nothing(
    api: Client, store: RunStore
) -> None:
    before = await snapshot(store)
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic x"},
    ):
        response = await api.post("/api/v1/runs", json=FAILED, headers=headers)
        assert response.status == 401
        assert "Bearer" in (await response.json())["error"]
    assert await snapshot(store) == before


async def test_the_bearer_scheme_is_read_in_any_case(api: Client) -> None:
    for scheme in ("bearer", "BEARER", "Bearer"):
        response = await api.post(
            "/api/v1/runs", json=FAILED, headers={"Authorization": f"{scheme} {API_TOKEN}"}
        )
        assert response.status in (200, 201), scheme


async def test_a_failure_of_runsbot_itself_is_a_json_500_and_logged(
    api: Client, store: RunStore, caplog: pytest.LogCaptureFixture
) -> None:
    await post(api, FAILED)
    async with store.engine.begin() as connection:  # a broken database: the table is gone
        await connection.execute(text("ALTER TABLE notes RENAME TO notes_gone"))
    path = f"/api/v1/runs/{FAILED['id']}/notes"
    response = await api.post(path, json={"author": "a", "text": "t"})
    assert response.status == 500
    assert "log" in (await response.json())["error"]
    assert f"POST {path} failed" in caplog.text
