"""Retriggers reach the engine (CONTRACT.md section 5): signed, once, retried with backoff
through the outbox, surviving a restart, paced per trigger URL, given up after the window."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.retrigger_dispatcher import LEASE
from store.run_store import RunStore
from tests.fake_engine import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TRIGGER_SECRET,
    FakeEngine,
    Hang,
    Status,
)
from tests.fake_slack.waiting import holds_for
from tests.support.retrigger_bot import (
    PAYLOAD,
    RetriggerBot,
    engine_settings,
    eventually,
    quick_retries,
    start_retrigger_bot,
)


@pytest.fixture
async def bot(
    database_url: str, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RetriggerBot]:
    quick_retries(monkeypatch)
    started = await start_retrigger_bot(engine_settings(database_url, fake_engine), fake_engine)
    yield started
    await started.close()


async def test_a_retrigger_is_sent_once_signed_and_ends_with_the_engines_report(
    bot: RetriggerBot, fake_engine: FakeEngine
) -> None:
    await bot.failed_run()
    status, new_run = await bot.retrigger("run_original", "slack:U024BE7LH")
    assert status == 202, new_run

    (sent,) = await fake_engine.wait_for_requests(1)
    fake_engine.assert_no_violations()  # the signature and the body, checked on their own
    assert sent.body == {
        "run_id": new_run["id"],
        "retry_of": "run_original",
        "workflow_id": "hubspot-salesforce",
        "reference": "ACME Corp — run_original",
        "payload": PAYLOAD,
        "requested_by": "slack:U024BE7LH",
    }
    assert sent.headers[TIMESTAMP_HEADER].isdigit()
    assert sent.headers[SIGNATURE_HEADER].startswith("v1=")
    await eventually(
        lambda: _state_is(bot, new_run["id"], "accepted"), what="the retrigger is accepted"
    )

    await fake_engine.report(new_run["id"], status="finished", result="Created opportunity")
    assert (await bot.run(new_run["id"]))["status"] == "finished"
    assert await bot.retrigger_states() == {new_run["id"]: "ended"}
    await bot.dispatcher.dispatch()
    await bot.dispatcher.idle()
    assert fake_engine.count_by_run_id() == {new_run["id"]: 1}


async def _state_is(bot: RetriggerBot, new_run_id: str, state: str) -> bool:
    return (await bot.retrigger_states()).get(new_run_id) == state


async def test_an_engine_that_answers_500_then_202_gets_the_same_request_twice(
    bot: RetriggerBot, fake_engine: FakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    fake_engine.script(fake_engine.trigger_url, [Status(500)])
    await bot.failed_run()
    status, new_run = await bot.retrigger("run_original")
    assert status == 202

    first, second = await fake_engine.wait_for_requests(2)
    assert (first.status, second.status) == (500, 202)
    assert first.raw_body == second.raw_body  # the same run_id and body every attempt
    await eventually(lambda: _state_is(bot, new_run["id"], "accepted"), what="accepted")
    fake_engine.assert_no_violations()
    original = await bot.run("run_original")
    assert original["retried_as"] == [new_run["id"]]
    exposed = await (await bot.api.get("/metrics")).text()
    assert 'runsbot_retriggers_total{result="refused"} 1.0' in exposed
    assert 'runsbot_retriggers_total{result="accepted"} 1.0' in exposed
    logged = caplog.text
    assert "HTTP 500" in logged  # the refusal is logged...
    for secret in (TRIGGER_SECRET, "deal_id", "Zoë Müller", "v1="):
        assert secret not in logged  # ...but not the secret, the body or the signature


async def test_an_engine_that_never_answers_is_given_up_and_the_new_run_fails(
    bot: RetriggerBot, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.retrigger_dispatcher.SEND_TIMEOUT", 0.2)
    monkeypatch.setattr("bot.retrigger_dispatcher.RETRY_WINDOW", timedelta(seconds=1.5))
    fake_engine.script(fake_engine.trigger_url, [Hang()] * 20)
    await bot.failed_run()
    _, new_run = await bot.retrigger("run_original")

    async def failed() -> dict[str, object] | None:
        run = await bot.run(new_run["id"])
        return run if run["status"] == "failed" else None

    run = await eventually(failed, what="the new run is marked failed")
    message = run["error"]["message"]  # type: ignore[index]
    assert "did not accept this retrigger within" in message
    assert "no answer within 0.2 s" in message
    assert await bot.retrigger_states() == {new_run["id"]: "given_up"}
    tried = len(fake_engine.requests(run_id=new_run["id"]))
    assert tried >= 2
    # Nothing more is sent for it, and the run may be retriggered again.
    await bot.dispatcher.dispatch()
    await holds_for(0.3, lambda: len(fake_engine.requests(run_id=new_run["id"])) == tried)
    status, _ = await bot.retrigger("run_original")
    assert status == 202


async def test_a_restart_between_the_request_and_the_send_sends_it_exactly_once(
    database_url: str, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_retries(monkeypatch)
    settings = engine_settings(database_url, fake_engine)
    # Another replica holds the dispatcher's lease: this one takes the request but sends nothing.
    other = RunStore.open(database_url)
    assert await other.acquire_lease(LEASE, "other-replica", ttl=timedelta(minutes=5))
    await other.close()
    first = await start_retrigger_bot(settings, fake_engine)
    try:
        await first.failed_run()
        status, new_run = await first.retrigger("run_original")
        assert status == 202
        await first.dispatcher.dispatch()
        await holds_for(0.3, lambda: not fake_engine.received)
    finally:
        await first.close()
    # The other replica went away (its lease released); runsbot starts again.
    second = await start_retrigger_bot(settings, fake_engine)
    try:
        await second.store.release_lease(LEASE, "other-replica")
        await fake_engine.wait_for_requests(1)
        await eventually(lambda: _state_is(second, new_run["id"], "accepted"), what="accepted")
        await second.dispatcher.dispatch()
        await second.dispatcher.idle()
        assert fake_engine.count_by_run_id() == {new_run["id"]: 1}
        fake_engine.assert_no_violations()
    finally:
        await second.close()


async def test_retry_after_holds_every_request_to_that_url(
    bot: RetriggerBot, fake_engine: FakeEngine
) -> None:
    fake_engine.script(fake_engine.trigger_url, [Status(503, retry_after=1)])
    await bot.failed_run("run_a")
    await bot.failed_run("run_b")
    _, retry_a = await bot.retrigger("run_a")
    (refused,) = await fake_engine.wait_for_requests(1)
    assert refused.status == 503
    _, retry_b = await bot.retrigger("run_b")
    later = (await fake_engine.wait_for_requests(3))[1:]
    assert {r.run_id for r in later} == {retry_a["id"], retry_b["id"]}
    for request in later:
        assert request.received_at - refused.received_at >= 0.95, fake_engine.gaps()
    fake_engine.assert_no_violations()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_requests_to_one_url_are_paced_at_the_retrigger_rate(
    database_url: str, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_retries(monkeypatch)
    settings = engine_settings(database_url, fake_engine, RUNSBOT_RETRIGGER_RATE="5")
    bot = await start_retrigger_bot(settings, fake_engine)
    try:
        runs = [f"run_{n}" for n in range(8)]
        for run_id in runs:
            await bot.failed_run(run_id)
        answers = await asyncio.gather(*(bot.retrigger(run_id) for run_id in runs))
        assert [status for status, _ in answers] == [202] * 8
        received = await fake_engine.wait_for_requests(8)
        assert len({r.run_id for r in received}) == 8
        # 5 a second: at most 5 (6 with the network's jitter) in any second, 8 take 1.4 s.
        assert fake_engine.max_in_window(window=1.0) <= 6, fake_engine.gaps()
        assert received[-1].received_at - received[0].received_at >= 1.2, fake_engine.gaps()
        fake_engine.assert_no_violations()
    finally:
        await bot.close()


def test_the_stored_body_is_the_contracts_compact_json() -> None:
    from store.retriggers import request_body

    body = request_body(
        run_id="run_new",
        retry_of="run_old",
        workflow_id="wf",
        reference="Zoë",
        payload=None,
        requested_by="api:ops",
    )
    assert body == (
        '{"run_id":"run_new","retry_of":"run_old","workflow_id":"wf",'
        '"reference":"Zoë","payload":null,"requested_by":"api:ops"}'
    )
    assert json.loads(body)["payload"] is None


async def test_two_replicas_on_one_database_send_each_retrigger_once(
    database_url: str, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_retries(monkeypatch)
    settings = engine_settings(database_url, fake_engine, RUNSBOT_RETRIGGER_RATE="20")
    first = await start_retrigger_bot(settings, fake_engine)
    second = await start_retrigger_bot(settings, fake_engine)
    try:
        runs = [f"run_{n}" for n in range(6)]
        for run_id in runs:
            await first.failed_run(run_id)
        # Asked on both replicas at once: each wakes its own dispatcher.
        answers = await asyncio.gather(
            *((first if n % 2 else second).retrigger(run_id) for n, run_id in enumerate(runs))
        )
        new_runs = {body["id"] for status, body in answers if status == 202}
        assert len(new_runs) == 6
        await fake_engine.wait_for_requests(6)
        for bot in (first, second):
            await bot.dispatcher.dispatch()
            await bot.dispatcher.idle()
        assert fake_engine.count_by_run_id() == dict.fromkeys(new_runs, 1)
        fake_engine.assert_no_violations()
    finally:
        await first.close()
        await second.close()
