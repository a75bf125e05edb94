"""Reading runs, notes, workflows, health and metrics through the run API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings
from bot.web import create_web_app
from store.run_store import RunStore
from tests.support.snapshot import snapshot

Client = TestClient[Any, Any]
HUBSPOT = {
    "id": "hubspot-salesforce",
    "source": "HubSpot",
    "destination": "Salesforce",
    "name": "Deals → Opportunities",
}
SHOPIFY = {"id": "shopify-netsuite", "source": "Shopify", "destination": "NetSuite"}


def report(number: int, day: str, time: str = "12:00:00", **fields: Any) -> dict[str, Any]:
    body = {
        "id": f"run_{number:03d}",
        "workflow": HUBSPOT,
        "reference": f"Deal {number}",
        "status": "finished",
        "started_at": f"{day}T{time}Z",
    }
    body.update(fields)
    if body["status"] == "failed":
        body.setdefault("error", {"message": "504 Gateway Timeout"})
    return body


async def load(api: Client, reports: list[dict[str, Any]]) -> None:
    response = await api.post("/api/v1/runs/batch", json={"runs": reports})
    results = (await response.json())["results"]
    assert all(result["status"] == 201 for result in results), results


async def get(api: Client, path: str, **params: Any) -> tuple[int, Any]:
    response = await api.get(path, params=params)
    return response.status, await response.json()


async def test_list_filters_by_status_workflow_and_text(api: Client) -> None:
    await load(
        api,
        [
            report(1, "2026-11-18", status="failed", reference="ACME Corp — Renewal 2027"),
            report(2, "2026-11-19", status="failed", workflow=SHOPIFY, reference="Order #1001"),
            report(3, "2026-11-20", status="skipped", skip_reason="Deal stage is not Closed Won"),
            report(4, "2026-11-20", time="13:00:00", reference="acme corp upsell"),
        ],
    )
    status, body = await get(api, "/api/v1/runs", status="failed")
    assert status == 200
    assert [run["id"] for run in body["runs"]] == ["run_002", "run_001"]
    assert body["total"] == 2 and body["next_cursor"] is None
    _, body = await get(api, "/api/v1/runs", status=["failed", "skipped"])
    assert [run["id"] for run in body["runs"]] == ["run_003", "run_002", "run_001"]
    _, body = await get(api, "/api/v1/runs", workflow="Shopify → NetSuite")
    assert [run["id"] for run in body["runs"]] == ["run_002"]
    _, body = await get(api, "/api/v1/runs", q="ACME corp")
    assert [run["id"] for run in body["runs"]] == ["run_004", "run_001"]
    _, body = await get(api, "/api/v1/runs", q="acme renewal")
    assert [run["id"] for run in body["runs"]] == ["run_001"]
    run = body["runs"][0]
    assert run["workflow"] == HUBSPOT and run["note_count"] == 0 and run["error"]["message"]
    _, body = await get(api, "/api/v1/runs", q="27")  # two characters: from the index too
    assert [run["id"] for run in body["runs"]] == ["run_001"] and body["total"] == 1
    _, body = await get(api, "/api/v1/runs", q="ACME UP")
    assert [run["id"] for run in body["runs"]] == ["run_004"]


async def test_a_day_is_a_utc_day_and_until_takes_all_of_it(api: Client) -> None:
    await load(
        api,
        [
            report(1, "2026-11-19", time="23:59:59"),
            report(2, "2026-11-20", time="00:00:00"),
            report(3, "2026-11-20", time="23:59:59.999"),
            report(4, "2026-11-21", time="00:00:00"),
        ],
    )
    _, body = await get(api, "/api/v1/runs", since="2026-11-20", until="2026-11-20")
    assert [run["id"] for run in body["runs"]] == ["run_003", "run_002"]
    _, body = await get(api, "/api/v1/runs", since="2026-11-20T01:00:00+02:00")  # 2026-11-19T23:00Z
    assert body["total"] == 4
    _, body = await get(api, "/api/v1/runs", until="2026-11-19T23:59:59Z")
    assert [run["id"] for run in body["runs"]] == ["run_001"]


async def test_pages_follow_the_cursor_and_name_each_run_once(api: Client) -> None:
    await load(api, [report(n, "2026-11-20", time=f"10:{n % 3:02d}:00") for n in range(1, 46)])
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 20}
    while True:
        _, body = await get(api, "/api/v1/runs", **params)
        assert body["total"] == 45
        seen += [run["id"] for run in body["runs"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert len(seen) == len(set(seen)) == 45


async def test_q_reads_quotes_as_runs_does(api: Client) -> None:
    await load(
        api,
        [
            report(1, "2026-11-18", reference="ACME Corp — Renewal 2027"),
            report(2, "2026-11-19", reference="Corp of ACME"),
            report(3, "2026-11-20", reference="PO:4711 for O'Brien"),
        ],
    )
    for q, found in [
        ('"ACME Corp"', ["run_001"]),  # a phrase
        ("ACME Corp", ["run_002", "run_001"]),  # two words
        ("“acme corp” renewal", ["run_001"]),
        ("PO:4711", ["run_003"]),  # q is all text: no filter keys in it
        ('"foo:bar"', []),
        ("o'brien", ["run_003"]),
    ]:
        status, body = await get(api, "/api/v1/runs", q=q)
        assert status == 200, body
        assert [run["id"] for run in body["runs"]] == found, q


async def test_an_unclosed_quote_in_q_is_422_showing_where(api: Client, store: RunStore) -> None:
    before = await snapshot(store)
    status, body = await get(api, "/api/v1/runs", q='renewal "ACME Corp')
    assert (status, body["field"]) == (422, "q")
    assert body["error"] == (
        'The quote in `"ACME` is never closed: end the phrase with a quote too.'
    )
    assert await snapshot(store) == before


@pytest.mark.parametrize(
    "other",
    [
        {"status": "failed"},
        {"status": "finished,failed"},
        {"workflow": "shopify-netsuite"},
        {"q": "deal 1"},
        {"since": "2026-11-19"},
        {"until": "2026-11-20T10:30:00Z"},
    ],
)
async def test_a_cursor_of_another_query_is_422_not_the_old_total(
    api: Client, other: dict[str, str]
) -> None:
    await load(api, [report(n, "2026-11-20", time=f"10:{n:02d}:00") for n in range(1, 31)])
    query = {"status": "finished", "workflow": "hubspot-salesforce", "q": "deal"}
    query |= {"since": "2026-11-20", "limit": "5"}
    _, first = await get(api, "/api/v1/runs", **query)
    assert first["total"] == 30
    status, body = await get(api, "/api/v1/runs", **query, cursor=first["next_cursor"])
    assert status == 200 and body["total"] == 30
    status, body = await get(api, "/api/v1/runs", **query | other, cursor=first["next_cursor"])
    assert (status, body["field"]) == (422, "cursor")
    assert body["error"] == (
        "cursor: is from another search (other statuses, workflow, text or times): "
        "start again without it"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "exploded"}, "status"),
        ({"limit": "201"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"since": "last tuesday"}, "since"),
        ({"until": "2026-11-20T10:00:00"}, "until"),
        ({"cursor": "garbage"}, "cursor"),
        ({"since": "2026-11-21", "until": "2026-11-20"}, "since"),
    ],
)
async def test_bad_query_parameters_are_422_naming_them(
    api: Client, params: dict[str, str], field: str
) -> None:
    status, body = await get(api, "/api/v1/runs", **params)
    assert (status, body["field"]) == (422, field)
    assert body["error"].startswith(f"{field}: "), body["error"]  # one voice, the field first


async def test_run_detail_has_steps_notes_and_retries(api: Client) -> None:
    await load(
        api,
        [
            report(
                1,
                "2026-11-20",
                status="failed",
                payload={"deal_id": 1},
                steps=[
                    {"name": "Fetch", "status": "finished"},
                    {"name": "Create", "status": "failed", "error": {"message": "401"}},
                ],
            )
        ],
    )
    response = await api.post(
        "/api/v1/runs/run_001/notes", json={"author": "ana", "text": "Token rotated, retrying"}
    )
    assert response.status == 201
    note = await response.json()
    assert (
        note["author"] == "ana" and note["run_id"] == "run_001" and note["created_at"].endswith("Z")
    )
    status, run = await get(api, "/api/v1/runs/run_001")
    assert status == 200
    assert [step["name"] for step in run["steps"]] == ["Fetch", "Create"]
    assert run["steps"][1]["error"] == "401"
    assert [n["text"] for n in run["notes"]] == ["Token rotated, retrying"]
    assert run["retry_of"] is None and run["retried_as"] == []
    assert run["payload"] == {"deal_id": 1}


async def test_unknown_runs_are_404(api: Client, store: RunStore) -> None:
    before = await snapshot(store)
    assert (await get(api, "/api/v1/runs/run_nope"))[0] == 404
    response = await api.post("/api/v1/runs/run_nope/notes", json={"author": "a", "text": "t"})
    assert response.status == 404 and "run_nope" in (await response.json())["error"]
    assert await snapshot(store) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"author": "ana"}, "text"),
        ({"author": "ana", "text": "   "}, "text"),
        ({"text": "x"}, "author"),
        ({"author": "ana", "text": "x" * 3001}, "text"),
    ],
)
async def test_invalid_notes_are_422_and_change_nothing(
    api: Client, store: RunStore, body: dict[str, Any], field: str
) -> None:
    await load(api, [report(1, "2026-11-20")])
    before = await snapshot(store)
    response = await api.post("/api/v1/runs/run_001/notes", json=body)
    assert response.status == 422 and (await response.json())["field"] == field
    assert await snapshot(store) == before


async def test_workflows_are_registered_updated_and_listed(api: Client, store: RunStore) -> None:
    body = {
        "source": "Zendesk",
        "destination": "Jira",
        "name": "Tickets",
        "trigger_url": "http://127.0.0.1:9/hook",
        "alert_channel": "C0ALERTS1",
    }
    response = await api.put("/api/v1/workflows/zendesk-jira", json=body)
    assert response.status == 201
    response = await api.put(
        "/api/v1/workflows/zendesk-jira", json={**body, "name": "Support tickets"}
    )
    assert response.status == 200 and (await response.json())["name"] == "Support tickets"
    _, listed = await get(api, "/api/v1/workflows")
    assert [(w["id"], w["alert_channel"], w["trigger_url"]) for w in listed["workflows"]] == [
        ("zendesk-jira", "C0ALERTS1", "http://127.0.0.1:9/hook")
    ]
    before = await snapshot(store)
    for bad, field in (
        ({**body, "trigger_url": "ftp://x"}, "trigger_url"),
        ({**body, "alert_channel": "#alerts"}, "alert_channel"),
        ({"source": "A"}, "destination"),
    ):
        response = await api.put("/api/v1/workflows/zendesk-jira", json=bad)
        assert response.status == 422 and (await response.json())["field"] == field
    assert await snapshot(store) == before


async def test_health_and_metrics_need_no_token(api: Client) -> None:
    await load(api, [report(1, "2026-11-20")])
    response = await api.get("/healthz", headers={"Authorization": ""})
    assert (response.status, await response.json()) == (200, {"status": "ok", "slack": "off"})
    response = await api.get("/metrics", headers={"Authorization": ""})
    assert response.status == 200
    text = await response.text()
    assert 'runsbot_reports_total{result="created"} 1.0' in text


async def test_health_is_503_when_the_store_does_not_answer(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "runs.db"
    settings = Settings(
        RUNSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{missing}", RUNSBOT_API_TOKEN="t"
    )
    client: Client = TestClient(
        TestServer(create_web_app(settings, RunStore.open(settings.database_url)), host="127.0.0.1")
    )
    await client.start_server()
    try:
        response = await client.get("/healthz")
        assert response.status == 503
    finally:
        await client.close()


async def test_without_an_api_token_the_api_is_503_naming_the_variable(tmp_path: Path) -> None:
    settings = Settings(RUNSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/r.db")
    client: Client = TestClient(
        TestServer(create_web_app(settings, RunStore.open(settings.database_url)), host="127.0.0.1")
    )
    await client.start_server()
    try:
        response = await client.get("/api/v1/runs", headers={"Authorization": "Bearer anything"})
        assert response.status == 503
        assert "RUNSBOT_API_TOKEN" in (await response.json())["error"]
    finally:
        await client.close()
