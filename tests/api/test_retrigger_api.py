"""POST /api/v1/runs/{id}/retrigger: 202 with the new run, 409 with the run in flight, 404,
422, and 503 naming what to set when retriggers cannot be sent; a refusal writes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from store.models import Note, Retrigger, Run
from tests.fake_engine import FakeEngine
from tests.support.retrigger_bot import (
    PAYLOAD,
    RetriggerBot,
    engine_settings,
    start_retrigger_bot,
)


async def counts(bot: RetriggerBot) -> tuple[int, int, int]:
    async with bot.store.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            [
                int(await connection.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Run, Retrigger, Note)
            ]
        )


async def test_202_with_the_new_run_then_409_with_it_while_in_flight(
    database_url: str, fake_engine: FakeEngine
) -> None:
    bot = await start_retrigger_bot(engine_settings(database_url, fake_engine), fake_engine)
    try:
        await bot.failed_run()
        answers = await asyncio.gather(
            *(bot.retrigger("run_original", f"api:ops-{n}") for n in range(5))
        )
        created = [body for status, body in answers if status == 202]
        conflicts = [body for status, body in answers if status == 409]
        assert len(created) == 1 and len(conflicts) == 4, answers
        (new_run,) = created
        # The same JSON as GET /api/v1/runs/{id}.
        assert new_run == await bot.run(new_run["id"])
        assert new_run["retry_of"] == "run_original"
        assert new_run["payload"] == PAYLOAD
        assert new_run["workflow"]["id"] == "hubspot-salesforce"
        assert new_run["reference"] == "ACME Corp — run_original"
        for conflict in conflicts:
            assert conflict["run"]["id"] == new_run["id"]
            assert new_run["id"] in conflict["error"]
            assert "api:ops-" in conflict["error"]
        original = await bot.run("run_original")
        assert original["retried_as"] == [new_run["id"]]
        (note,) = original["notes"]
        assert note["source"] == "runsbot" and note["author"].startswith("api:ops-")
        await fake_engine.wait_for_requests(1)
        assert await counts(bot) == (2, 1, 1)
    finally:
        await bot.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_404_422_and_what_to_set_when_retriggers_cannot_be_sent(
    database_url: str, fake_engine: FakeEngine
) -> None:
    bot = await start_retrigger_bot(
        engine_settings(database_url, fake_engine, RUNSBOT_TRIGGER_URL=None), fake_engine
    )
    try:
        await bot.failed_run()
        status, body = await bot.retrigger("run_unknown")
        assert status == 404 and "run_unknown" in body["error"]
        path = "/api/v1/runs/run_original/retrigger"
        bad: list[tuple[Any, str]] = [
            ({}, "requested_by"),
            ({"requested_by": ""}, "requested_by"),
            ({"requested_by": 7}, "requested_by"),
            ({"requested_by": "x" * 256}, "requested_by"),
            ([], ""),
        ]
        for payload, field in bad:
            response = await bot.api.post(path, json=payload)
            answer = await response.json()
            assert response.status == 422, (payload, answer)
            assert answer.get("field", "") == field, answer
        response = await bot.api.post(path, data=b"{not json")
        assert response.status == 400

        status, body = await bot.retrigger("run_original")
        assert status == 503, body
        assert "RUNSBOT_TRIGGER_URL" in body["error"]
        assert "PUT /api/v1/workflows/hubspot-salesforce" in body["error"]
        assert body["variable"] == "RUNSBOT_TRIGGER_URL"
        assert await counts(bot) == (1, 0, 0)

        # The workflow's own trigger_url is enough.
        response = await bot.api.put(
            "/api/v1/workflows/hubspot-salesforce",
            json={
                "source": "HubSpot",
                "destination": "Salesforce",
                "trigger_url": fake_engine.url_for("hubspot-salesforce"),
            },
        )
        assert response.status == 200
        status, new_run = await bot.retrigger("run_original")
        assert status == 202, new_run
        (sent,) = await fake_engine.wait_for_requests(1)
        assert sent.url == fake_engine.url_for("hubspot-salesforce")
        fake_engine.assert_no_violations()
    finally:
        await bot.close()

    unsigned = await start_retrigger_bot(
        engine_settings(database_url, fake_engine, RUNSBOT_TRIGGER_SECRET=None), fake_engine
    )
    try:
        await unsigned.failed_run("run_other")
        status, body = await unsigned.retrigger("run_other")
        assert status == 503 and "RUNSBOT_TRIGGER_SECRET" in body["error"], body
        assert await counts(unsigned) == (3, 1, 1)
    finally:
        await unsigned.close()
