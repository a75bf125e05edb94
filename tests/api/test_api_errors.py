"""What the run API answers to a request it cannot route, or a batch that is not one:
the contract's JSON error, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from store.run_store import RunStore
from tests.support.snapshot import snapshot

Client = TestClient[Any, Any]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nope", 404),
        ("POST", "/api/v1/runs/run_1/nope", 404),
        ("GET", "/api/v2/runs", 404),
        ("DELETE", "/api/v1/runs", 405),
        ("PUT", "/api/v1/runs/batch", 405),
        ("GET", "/api/v1/runs/batch/x", 404),
        ("POST", "/api/v1/workflows", 405),
    ],
)
async def test_an_unknown_path_or_a_wrong_method_is_a_json_error(
    api: Client, method: str, path: str, status: int
) -> None:
    response = await api.request(method, path)
    assert response.status == status
    assert response.content_type == "application/json"
    body = await response.json()
    assert isinstance(body["error"], str) and body["error"]


@pytest.mark.parametrize(
    "body",
    [[], {}, {"runs": {}}, {"runs": "x"}, {"runs": None}, {"reports": []}, "runs"],
    ids=["a list", "no runs", "runs an object", "runs a string", "runs null", "other key", "text"],
)
async def test_a_batch_that_is_not_a_list_of_runs_is_422_naming_runs_and_changes_nothing(
    api: Client, store: RunStore, body: Any
) -> None:
    before = await snapshot(store)
    response = await api.post("/api/v1/runs/batch", json=body)
    assert response.status == 422
    error = await response.json()
    assert error["field"] == "runs"
    assert '{"runs": [' in error["error"]  # it shows the shape it takes
    assert await snapshot(store) == before


async def test_a_wrong_method_says_which_methods_the_path_takes(api: Client) -> None:
    response = await api.request("DELETE", "/api/v1/runs")
    assert response.status == 405
    assert set(response.headers.get("Allow", "").split(",")) >= {"GET", "POST"}
