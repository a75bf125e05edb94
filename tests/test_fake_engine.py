"""The fake engine checks retrigger requests as CONTRACT.md section 5 says, answers as scripted,
and reports runs to a real runsbot run API. Requests here are signed by the test's own code (and
one known answer from `openssl dgst`), not by the fake's helper, so the fake's check is tested
against the contract rather than against itself."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import API_TOKEN
from tests.fake_engine import (
    TRIGGER_SECRET,
    FakeEngine,
    Hang,
    Received,
    Slow,
    Status,
    signed_headers,
)
from tests.fake_engine.recording import Recording
from tests.fake_engine.signing import signature
from tests.fake_slack import wait_until

Client = TestClient[Any, Any]

RETRIGGER = {
    "run_id": "run_retry1",
    "retry_of": "run_orig1",
    "workflow_id": "hubspot-salesforce",
    "reference": "ACME Corp — Renewal 2027",
    "payload": {"deal_id": 9918, "amount": 120000},
    "requested_by": "slack:U024BE7LH",
}


def contract_headers(
    body: bytes, *, secret: str = TRIGGER_SECRET, at: int | None = None
) -> dict[str, str]:
    """The section 5 headers, computed here from the contract's words."""
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "X-Runsbot-Timestamp": stamp,
        "X-Runsbot-Signature": f"v1={digest}",
        "Content-Type": "application/json",
    }


async def send(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float = 5.0
) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status, dict(response.headers)


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


async def send_signed(url: str, body: dict[str, Any] = RETRIGGER, **kw: Any) -> int:
    raw = encode(body)
    status, _ = await send(url, raw, contract_headers(raw), **kw)
    return status


# -- signatures ------------------------------------------------------------------------


def test_the_signature_matches_an_independent_hmac() -> None:
    # printf '%s' '1764000000.{"run_id":"run_b","retry_of":"run_a"}' \
    #   | openssl dgst -sha256 -hmac test-trigger-secret
    body = b'{"run_id":"run_b","retry_of":"run_a"}'
    expected = "v1=136ba3eec464ea1e332fe279c52d5942511797c119304e8facf2c01c195658e3"
    assert signature("test-trigger-secret", "1764000000", body) == expected
    assert (
        signed_headers("test-trigger-secret", body, 1764000000)["X-Runsbot-Signature"] == expected
    )


async def test_a_signed_request_is_accepted_and_recorded(fake_engine: FakeEngine) -> None:
    raw = encode(RETRIGGER)
    headers = contract_headers(raw)
    status, _ = await send(fake_engine.trigger_url, raw, headers)
    assert status == 202
    (received,) = fake_engine.requests()
    assert received.url == fake_engine.trigger_url
    assert received.signature_ok and received.problem is None and received.accepted
    assert received.body == RETRIGGER and received.raw_body == raw
    assert received.headers["X-Runsbot-Signature"] == headers["X-Runsbot-Signature"]
    assert abs(received.wall_time - time.time()) < 60
    assert fake_engine.count_by_run_id() == {"run_retry1": 1}
    fake_engine.assert_no_violations()


def _wrong_secret(raw: bytes) -> tuple[bytes, dict[str, str]]:
    return raw, contract_headers(raw, secret="not-the-secret")


def _changed_body(raw: bytes) -> tuple[bytes, dict[str, str]]:
    return raw.replace(b"9918", b"9919"), contract_headers(raw)


def _stale(raw: bytes) -> tuple[bytes, dict[str, str]]:
    return raw, contract_headers(raw, at=int(time.time()) - 301)


def _future(raw: bytes) -> tuple[bytes, dict[str, str]]:
    return raw, contract_headers(raw, at=int(time.time()) + 301)


def _unsigned(raw: bytes) -> tuple[bytes, dict[str, str]]:
    headers = contract_headers(raw)
    del headers["X-Runsbot-Signature"]
    return raw, headers


def _uppercase_hex(raw: bytes) -> tuple[bytes, dict[str, str]]:
    headers = contract_headers(raw)
    headers["X-Runsbot-Signature"] = "v1=" + headers["X-Runsbot-Signature"][3:].upper()
    return raw, headers


@pytest.mark.parametrize(
    "tamper", [_wrong_secret, _changed_body, _stale, _future, _unsigned, _uppercase_hex]
)
async def test_a_bad_signature_is_refused_and_recorded(
    fake_engine: FakeEngine, tamper: Any
) -> None:
    raw, headers = tamper(encode(RETRIGGER))
    status, _ = await send(fake_engine.trigger_url, raw, headers)
    assert status == 401
    (received,) = fake_engine.requests()
    assert not received.signature_ok and not received.accepted and received.problem
    assert len(fake_engine.violations) == 1
    with pytest.raises(AssertionError, match="contract violations"):
        fake_engine.assert_no_violations()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"requested_by": None}, "requested_by"),
        ({"run_id": "run with spaces"}, "run_id"),
        ({"payload": [1, 2]}, "payload"),
        ({"reference": "x" * 256}, "reference"),
    ],
)
async def test_a_malformed_body_is_refused_and_recorded(
    fake_engine: FakeEngine, change: dict[str, Any], problem: str
) -> None:
    assert await send_signed(fake_engine.trigger_url, {**RETRIGGER, **change}) == 422
    (violation,) = fake_engine.violations
    assert violation.problem.startswith(problem)


async def test_a_missing_field_is_refused(fake_engine: FakeEngine) -> None:
    body = {k: v for k, v in RETRIGGER.items() if k != "retry_of"}
    assert await send_signed(fake_engine.trigger_url, body) == 422
    assert fake_engine.violations[0].problem == "retry_of is missing"


# -- scripted answers ------------------------------------------------------------------


async def test_scripted_statuses_come_in_order_then_normal_answers(fake_engine: FakeEngine) -> None:
    url = fake_engine.trigger_url
    fake_engine.script(url, [Status(500), Status(503, retry_after=7), Status(429, retry_after=3)])
    raw = encode(RETRIGGER)
    answers = [await send(url, raw, contract_headers(raw)) for _ in range(4)]
    assert [status for status, _ in answers] == [500, 503, 429, 202]
    assert "Retry-After" not in answers[0][1]
    assert answers[1][1]["Retry-After"] == "7" and answers[2][1]["Retry-After"] == "3"
    assert [r.status for r in fake_engine.requests()] == [500, 503, 429, 202]
    assert fake_engine.count_by_run_id() == {"run_retry1": 4}
    assert fake_engine.bodies("run_retry1") == {raw}
    assert len(fake_engine.accepted()) == 1
    fake_engine.assert_no_violations()


async def test_scripts_are_per_url(fake_engine: FakeEngine) -> None:
    own = fake_engine.url_for("hubspot-salesforce")
    fake_engine.script(own, [Status(500)])
    assert await send_signed(fake_engine.trigger_url) == 202
    assert await send_signed(own) == 500
    assert await send_signed(own) == 202
    assert [r.status for r in fake_engine.requests(own)] == [500, 202]


async def test_a_slow_answer_comes_after_its_wait(fake_engine: FakeEngine) -> None:
    fake_engine.script(fake_engine.trigger_url, [Slow(0.3)])
    started = time.monotonic()
    assert await send_signed(fake_engine.trigger_url) == 202
    assert time.monotonic() - started >= 0.3


async def test_a_slow_answer_the_sender_gave_up_on_is_marked_abandoned(
    fake_engine: FakeEngine,
) -> None:
    fake_engine.script(fake_engine.trigger_url, [Slow(0.4)])
    with pytest.raises(TimeoutError):
        await send_signed(fake_engine.trigger_url, timeout=0.1)
    (received,) = await fake_engine.wait_for_requests(1)
    assert received.abandoned and received.status == 202
    assert await send_signed(fake_engine.trigger_url) == 202


async def test_a_held_request_is_never_answered_until_reset(fake_engine: FakeEngine) -> None:
    fake_engine.script(fake_engine.trigger_url, [Hang()])
    with pytest.raises(TimeoutError):
        await send_signed(fake_engine.trigger_url, timeout=0.3)
    (held,) = fake_engine.requests()
    assert held.status is None
    with pytest.raises(AssertionError, match="1 requests, wanted 1"):
        await fake_engine.wait_for_requests(1, timeout=0.1)
    assert await send_signed(fake_engine.trigger_url) == 202


async def test_release_answers_held_requests(fake_engine: FakeEngine) -> None:
    fake_engine.script(fake_engine.trigger_url, [Hang()])
    held = asyncio.create_task(send_signed(fake_engine.trigger_url))
    await wait_until(fake_engine.requests)
    fake_engine.release()
    assert await held == 503
    assert fake_engine.requests()[0].status is None


async def test_stopping_lets_held_requests_go_at_once() -> None:
    async with FakeEngine(TRIGGER_SECRET) as engine:
        engine.script(engine.trigger_url, [Hang(), Slow(60)])
        held = [asyncio.create_task(send_signed(engine.trigger_url)) for _ in range(2)]
        await wait_until(lambda: len(engine.requests()) == 2)
        started = time.monotonic()
    assert time.monotonic() - started < 2
    assert sorted(await asyncio.gather(*held)) == [503, 503]


# -- pacing ----------------------------------------------------------------------------


def _at(*times: float) -> Recording:
    recording = Recording()
    for at in times:
        body = {"run_id": f"run_{at}"}
        recording.received.append(
            Received("u", at, at, {}, b"", body, signature_ok=True, problem=None, status=202)
        )
    return recording


def test_pacing_is_measured_over_any_window() -> None:
    assert _at(0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2).max_in_window(window=1.0) == 5
    assert _at(0.0, 0.01, 0.02, 2.0).max_in_window() == 3
    assert _at().max_in_window() == 0
    assert _at(0.0, 0.5, 1.5).gaps() == [0.5, 1.0]


# -- the engine's side: reports to runsbot -------------------------------------------------


async def _original_run(api: Client) -> None:
    response = await api.post(
        "/api/v1/runs",
        json={
            "id": "run_orig1",
            "workflow": {
                "id": "hubspot-salesforce",
                "source": "HubSpot",
                "destination": "Salesforce",
            },
            "reference": RETRIGGER["reference"],
            "status": "failed",
            "error": {"message": "401 Unauthorized: token expired"},
            "payload": RETRIGGER["payload"],
        },
    )
    assert response.status == 201, await response.text()


async def _run(api: Client, run_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/runs/{run_id}")
    assert response.status == 200, await response.text()
    run: dict[str, Any] = await response.json()
    return run


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_report_reaches_the_run_api(fake_engine: FakeEngine, api: Client) -> None:
    await _original_run(api)
    assert await send_signed(fake_engine.trigger_url) == 202
    fake_engine.connect(str(api.make_url("/")), API_TOKEN)
    answer = await fake_engine.report("run_retry1", status="failed", error="still 401", result=None)
    assert answer.status == 201, answer.body
    run = await _run(api, "run_retry1")
    assert run["status"] == "failed" and run["error"]["message"] == "still 401"
    assert run["reference"] == RETRIGGER["reference"] and run["payload"] == RETRIGGER["payload"]
    assert run["workflow"]["id"] == "hubspot-salesforce"
    fake_engine.assert_no_violations()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_accepted_runs_are_reported_automatically_once(
    fake_engine: FakeEngine, api: Client
) -> None:
    await _original_run(api)
    fake_engine.connect(str(api.make_url("/")), API_TOKEN)
    fake_engine.auto_report("finished")
    fake_engine.script(fake_engine.trigger_url, [Status(503, retry_after=1)])
    assert await send_signed(fake_engine.trigger_url) == 503
    assert await send_signed(fake_engine.trigger_url) == 202
    assert await send_signed(fake_engine.trigger_url) == 202
    (answer,) = await wait_until(lambda: fake_engine.reports)
    assert answer.run_id == "run_retry1" and answer.status == 201
    assert (await _run(api, "run_retry1"))["status"] == "finished"
    fake_engine.assert_no_violations()


async def test_report_says_what_it_lacks(fake_engine: FakeEngine) -> None:
    with pytest.raises(RuntimeError, match="connect"):
        await fake_engine.report("run_retry1")
    fake_engine.connect("http://127.0.0.1:9", API_TOKEN)
    with pytest.raises(ValueError, match="workflow_id"):
        await fake_engine.report("run_unknown")
    with pytest.raises(ValueError, match="error="):
        fake_engine.auto_report("failed")
