"""The run detail's retry chain, on SQLite and PostgreSQL: the run a run retries, the runs made
from it (oldest first) with their statuses, who asked and how each retrigger stands, read in a
bounded number of queries however long the chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, update

from store.models import Retrigger, Run
from store.records import RetryLink
from store.run_store import RunStore
from store.types import RetriggerState, RunStatus
from tests.store.test_queries import T0, fill, run_report


async def retriggered(
    store: RunStore,
    original: str,
    new_run: str,
    *,
    state: str,
    by: str = "slack:U0ALICE",
    at: datetime = T0,
    last_error: str | None = None,
) -> None:
    """What a retrigger leaves in the store (store/retriggers.py makes it in production): the
    new run linked by retry_of, and the retriggers row naming who asked."""
    async with store.engine.begin() as connection:
        await connection.execute(update(Run).where(Run.id == new_run).values(retry_of=original))
        await connection.execute(
            insert(Retrigger).values(
                run_id=original,
                new_run_id=new_run,
                requested_by=by,
                state=state,
                trigger_url="http://127.0.0.1:9/trigger",
                body="{}",
                attempts=1,
                next_attempt_at=at,
                last_error=last_error,
                requested_at=at,
                updated_at=at,
            )
        )


async def test_the_chain_both_ways_with_statuses_requesters_and_states(store: RunStore) -> None:
    await fill(
        store,
        [
            run_report(1, status="failed"),
            run_report(2, status="failed"),
            run_report(3, status="failed"),
            run_report(4, status="running"),
        ],
    )
    await retriggered(
        store,
        "run_0001",
        "run_0002",
        state="given_up",
        last_error="engine answered 503 for 15 minutes",
    )
    await retriggered(store, "run_0001", "run_0003", state="ended", by="ops-cli", at=T0)
    await retriggered(
        store, "run_0001", "run_0004", state="accepted", by="slack:U0BOB", at=T0 + timedelta(1)
    )

    original = await store.get_run("run_0001")
    assert original is not None
    assert original.retry_of is None
    assert original.retried_as == ("run_0002", "run_0003", "run_0004")
    assert original.retries == (
        RetryLink(
            "run_0002",
            RunStatus.FAILED,
            "slack:U0ALICE",
            T0,
            RetriggerState.GIVEN_UP,
            "engine answered 503 for 15 minutes",
        ),
        RetryLink("run_0003", RunStatus.FAILED, "ops-cli", T0, RetriggerState.ENDED, None),
        RetryLink(
            "run_0004",
            RunStatus.RUNNING,
            "slack:U0BOB",
            T0 + timedelta(1),
            RetriggerState.ACCEPTED,
            None,
        ),
    )
    assert [link.in_flight for link in original.retries] == [False, False, True]

    latest = await store.get_run("run_0004")
    assert latest is not None
    assert latest.retries == () and latest.retried_as == ()
    assert latest.retry_of == RetryLink(
        "run_0001",
        RunStatus.FAILED,
        "slack:U0BOB",
        T0 + timedelta(1),
        RetriggerState.ACCEPTED,
        None,
    )
    assert latest.summary.retry_of == "run_0001"


async def test_a_retry_of_with_no_retrigger_behind_it_still_shows_its_run(
    store: RunStore,
) -> None:
    await fill(store, [run_report(1, status="failed"), run_report(2, status="finished")])
    async with store.engine.begin() as connection:
        await connection.execute(
            update(Run).where(Run.id == "run_0002").values(retry_of="run_0001")
        )
    newer = await store.get_run("run_0002")
    older = await store.get_run("run_0001")
    assert newer is not None and older is not None
    assert newer.retry_of == RetryLink("run_0001", RunStatus.FAILED)
    assert older.retries == (RetryLink("run_0002", RunStatus.FINISHED),)


@contextmanager
def counted_statements(store: RunStore) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)


async def test_the_chain_costs_the_same_queries_however_long(store: RunStore) -> None:
    await fill(store, [run_report(n, status="failed") for n in range(1, 32)])
    await retriggered(store, "run_0001", "run_0002", state="ended")
    with counted_statements(store) as short:
        await store.get_run("run_0001")
    for number in range(3, 32):
        at = datetime(2026, 11, 21, tzinfo=UTC) + timedelta(minutes=number)
        await retriggered(store, "run_0001", f"run_{number:04d}", state="ended", at=at)
    with counted_statements(store) as long:
        detail = await store.get_run("run_0001")
    assert detail is not None and len(detail.retries) == 30
    assert len(long) == len(short) <= 6, long
