"""Asking for a retrigger: one transaction, one in flight per run, nothing written when it
cannot be sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from store import retriggers
from store.errors import RetriggerInFlight, RetriggerNotConfigured, RunNotFound
from store.models import Note, Retrigger, Run
from store.records import RetriggerRequested, RetriggerRouting
from store.reports import RunReport
from store.run_store import RunStore
from store.types import NoteSource, RetriggerState, RunStatus

TRIGGER_URL = "http://127.0.0.1:9/trigger"
WORKFLOW = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}
PAYLOAD = {"deal_id": 9918, "name": "Ünïcode — 株式会社", "nested": {"api_key": "k"}}


def failed(run_id: str = "run_original", **fields: Any) -> RunReport:
    return RunReport.model_validate(
        {
            "id": run_id,
            "workflow": WORKFLOW,
            "reference": "ACME Corp — Renewal 2027",
            "status": "failed",
            "error": {"message": "504 Gateway Timeout", "step": "Create opportunity"},
            "payload": PAYLOAD,
            **fields,
        }
    )


@pytest.fixture
async def retrigger_store(database_url: str) -> AsyncIterator[RunStore]:
    store = RunStore.open(
        database_url,
        retrigger_routing=RetriggerRouting(default_trigger_url=TRIGGER_URL, can_sign=True),
    )
    await store.upgrade()
    yield store
    await store.close()


async def count(store: RunStore, model: type[Any]) -> int:
    async with store.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(model)) or 0)


async def retrigger_states(store: RunStore) -> dict[str, str]:
    async with store.engine.connect() as connection:
        rows = await connection.execute(select(Retrigger.new_run_id, Retrigger.state))
        return {new_run_id: state for new_run_id, state in rows}


async def test_a_retrigger_makes_the_new_run_its_outbox_row_and_an_audit_note(
    retrigger_store: RunStore,
) -> None:
    store = retrigger_store
    await store.report_runs([failed()])
    requested = await store.request_retrigger("run_original", requested_by="slack:U024BE7LH")

    assert isinstance(requested, RetriggerRequested)
    assert (requested.run_id, requested.reference) == ("run_original", "ACME Corp — Renewal 2027")
    assert requested.requested_by == "slack:U024BE7LH"
    new_id = requested.new_run_id
    assert new_id.startswith("run_") and len(new_id) == 30

    detail = await store.get_run(new_id)
    assert detail is not None and detail.payload == PAYLOAD
    new = detail.summary
    assert (new.status, new.retry_of) == (RunStatus.PENDING, "run_original")
    assert new.reference == "ACME Corp — Renewal 2027"
    assert new.workflow.id == "hubspot-salesforce"
    original = await store.get_run("run_original")
    assert original is not None and original.retried_as == (new_id,)
    (note,) = original.notes
    assert (note.author, note.source) == ("slack:U024BE7LH", NoteSource.RUNSBOT)
    assert new_id in note.text

    async with store.engine.connect() as connection:
        row = (await connection.execute(select(Retrigger))).one()
    assert (row.run_id, row.new_run_id, row.state) == ("run_original", new_id, "pending")
    assert row.trigger_url == TRIGGER_URL
    assert json.loads(row.body) == {
        "run_id": new.id,
        "retry_of": "run_original",
        "workflow_id": "hubspot-salesforce",
        "reference": "ACME Corp — Renewal 2027",
        "payload": PAYLOAD,
        "requested_by": "slack:U024BE7LH",
    }
    assert ": " not in row.body and "株式会社" in row.body  # compact, UTF-8 as it is

    with pytest.raises(RetriggerInFlight) as raised:
        await store.request_retrigger("run_original", requested_by="api:ops")
    assert (raised.value.new_run_id, raised.value.requested_by) == (new.id, "slack:U024BE7LH")
    assert await count(store, Run) == 2


async def test_five_at_once_make_one_new_run_and_the_others_are_told_the_same_winner(
    retrigger_store: RunStore,
) -> None:
    store = retrigger_store
    await store.report_runs([failed()])
    outcomes = await asyncio.gather(
        *(
            store.request_retrigger("run_original", requested_by=f"slack:U00000000{n}")
            for n in range(5)
        ),
        return_exceptions=True,
    )
    (won,) = [o for o in outcomes if isinstance(o, RetriggerRequested)]
    lost = [o for o in outcomes if isinstance(o, RetriggerInFlight)]
    assert len(lost) == 4, outcomes
    assert {(e.new_run_id, e.requested_by) for e in lost} == {(won.new_run_id, won.requested_by)}
    assert await count(store, Run) == 2
    assert await count(store, Retrigger) == 1
    assert await count(store, Note) == 1


async def test_the_unique_index_alone_keeps_one_in_flight(
    retrigger_store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the early look for a retrigger in flight, every loser meets the unique
    index at insert, and is still told the winner: the rule is the database's."""
    real_in_flight = retriggers.in_flight
    looked: set[asyncio.Task[Any] | None] = set()

    async def blind_first_look(session: Any, run_id: str) -> RetriggerInFlight | None:
        task = asyncio.current_task()
        if task not in looked:  # each request's early look sees nothing
            looked.add(task)
            return None
        return await real_in_flight(session, run_id)

    monkeypatch.setattr(retriggers, "in_flight", blind_first_look)
    store = retrigger_store
    await store.report_runs([failed()])
    outcomes = await asyncio.gather(
        *(store.request_retrigger("run_original", requested_by=f"api:{n}") for n in range(5)),
        return_exceptions=True,
    )
    (won,) = [o for o in outcomes if isinstance(o, RetriggerRequested)]
    lost = [o for o in outcomes if isinstance(o, RetriggerInFlight)]
    assert len(lost) == 4, outcomes
    assert {e.new_run_id for e in lost} == {won.new_run_id}
    assert (await count(store, Run), await count(store, Retrigger)) == (2, 1)


async def test_a_retrigger_that_ended_lets_the_run_be_retriggered_again(
    retrigger_store: RunStore,
) -> None:
    store = retrigger_store
    await store.report_runs([failed()])
    first = await store.request_retrigger("run_original", requested_by="api:ops")
    running = RunReport.model_validate(
        {"id": first.new_run_id, "workflow": {"id": WORKFLOW["id"]}, "status": "running"}
    )
    await store.report_runs([running])
    assert await retrigger_states(store) == {first.new_run_id: RetriggerState.ACCEPTED}
    await store.report_runs([failed(first.new_run_id, reference=None)])
    second = await store.request_retrigger("run_original", requested_by="api:ops")
    assert second.new_run_id != first.new_run_id
    assert await retrigger_states(store) == {
        first.new_run_id: RetriggerState.ENDED,
        second.new_run_id: RetriggerState.PENDING,
    }


@pytest.mark.parametrize(
    ("routing", "variable"),
    [
        (RetriggerRouting(default_trigger_url=None, can_sign=True), "RUNSBOT_TRIGGER_URL"),
        (
            RetriggerRouting(default_trigger_url=TRIGGER_URL, can_sign=False),
            "RUNSBOT_TRIGGER_SECRET",
        ),
    ],
)
async def test_a_retrigger_that_cannot_be_sent_writes_nothing(
    database_url: str, routing: RetriggerRouting, variable: str
) -> None:
    store = RunStore.open(database_url, retrigger_routing=routing)
    try:
        await store.report_runs([failed()])
        with pytest.raises(RetriggerNotConfigured) as raised:
            await store.request_retrigger("run_original", requested_by="api:ops")
        assert raised.value.variable == variable
        if variable == "RUNSBOT_TRIGGER_URL":
            assert raised.value.workflow_id == "hubspot-salesforce"
        assert (await count(store, Run), await count(store, Retrigger)) == (1, 0)
        assert await count(store, Note) == 0
        with pytest.raises(RunNotFound):
            await store.request_retrigger("run_unknown", requested_by="api:ops")
    finally:
        await store.close()
