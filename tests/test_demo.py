"""Demo data: as many runs as asked, realistic, repeatable, and searchable through the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from ulid import ULID

from bot.demo.failures import FAILURE_MESSAGES
from bot.demo.runs import DemoRuns, fill_demo_data
from bot.demo.workflows import WORKFLOWS
from store.causes import FailureCause, classify_failure
from store.filters import RunFilter
from store.models import Run
from store.run_store import RunStore
from store.types import RunStatus

RUNS = 3000
DAYS = 30
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday afternoon


@pytest.fixture(scope="module")
async def store(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunStore]:
    path = tmp_path_factory.mktemp("demo") / "t.db"
    run_store = RunStore.open(f"sqlite+aiosqlite:///{path}")
    await run_store.upgrade()
    made = await fill_demo_data(run_store, runs=RUNS, days=DAYS, seed=7, now=NOW)
    assert made == RUNS
    yield run_store
    await run_store.close()


@pytest.fixture(scope="module")
async def rows(store: RunStore) -> list[Any]:
    async with store.engine.connect() as connection:
        result = await connection.execute(select(Run).order_by(Run.started_at, Run.id))
        return list(result.all())


async def test_makes_as_many_runs_as_asked(store: RunStore, rows: list[Any]) -> None:
    assert len(rows) == RUNS
    counts = await store.count_by_status(since=NOW - timedelta(days=DAYS), until=NOW)
    assert sum(counts.values()) == RUNS
    assert all(counts[status] > 0 for status in RunStatus), counts


async def test_statuses_are_mostly_finished_and_in_flight_only_lately(rows: list[Any]) -> None:
    shares = Counter(row.status for row in rows)
    assert shares["finished"] / RUNS > 0.72
    assert 0.04 < shares["failed"] / RUNS < 0.14
    assert 0.04 < shares["skipped"] / RUNS < 0.11
    for row in rows:
        if row.status in ("running", "pending"):
            assert NOW - row.started_at < timedelta(hours=1)
            assert row.finished_at is None and row.result is None


async def test_failures_name_their_step_and_every_cause_occurs(rows: list[Any]) -> None:
    steps = {workflow.id: [name for name, _ in workflow.steps] for workflow in WORKFLOWS}
    failed = [row for row in rows if row.status == "failed"]
    for row in failed:
        assert row.error_message and row.error_step in steps[row.workflow_id]
        assert row.steps[-1]["name"] == row.error_step
        assert row.steps[-1]["status"] == "failed"
        assert row.steps[-1]["error"] == row.error_message
        assert all(step["status"] == "finished" for step in row.steps[:-1])
    messages = {row.error_message for row in failed}
    for cause in FailureCause:
        assert messages & FAILURE_MESSAGES[cause], f"no {cause} failure"
    for message in ("401 Unauthorized: token expired", "504 Gateway Timeout"):
        assert message in messages


async def test_runs_look_like_an_integration_platform(rows: list[Any]) -> None:
    for row in rows:
        assert NOW - timedelta(days=DAYS) <= row.started_at <= NOW
        assert row.created_at == row.started_at
        assert row.updated_at == (row.finished_at or row.started_at)
        assert row.finished_at is None or row.finished_at >= row.started_at
        assert 0 < len(row.reference) <= 255
        assert isinstance(row.payload, dict) and row.payload
        assert row.versions == {}
        if row.status == "finished":
            assert row.result and len(row.steps) >= 2
            assert all(step["status"] == "finished" for step in row.steps)
            assert row.steps[0]["started_at"].endswith("Z")
        if row.status == "skipped":
            assert row.skip_reason and row.steps[-1]["detail"] == row.skip_reason
        else:
            assert row.skip_reason is None
        if row.status != "failed":
            assert row.error_message is None and row.error_step is None
    references = Counter(row.reference for row in rows)
    non_ascii = sum(n for reference, n in references.items() if not reference.isascii())
    assert non_ascii / RUNS > 0.2
    assert any("\N{PARTY POPPER}" in reference or "🔥" in reference for reference in references)
    assert sum(n for n in references.values() if n > 1) > RUNS * 0.05  # the same record again
    assert any(key in row.payload for row in rows for key in ("api_key", "password"))
    assert len({row.workflow_id for row in rows}) == len(WORKFLOWS)
    busiest = Counter(row.workflow_id for row in rows).most_common()
    assert busiest[0][1] > 5 * busiest[-1][1]


async def test_retriggers_repeat_a_failed_run(rows: list[Any]) -> None:
    by_id = {row.id: row for row in rows}
    retries = [row for row in rows if row.retry_of is not None]
    assert retries
    for row in retries:
        original = by_id[row.retry_of]
        assert original.status == "failed" and original.started_at < row.started_at
        assert (original.reference, original.payload) == (row.reference, row.payload)


async def test_run_ids_are_ulids_of_the_start_time(rows: list[Any]) -> None:
    for row in rows:
        assert row.id.startswith("run_") and len(row.id) == 30
        assert ULID.from_str(row.id[4:]).datetime == row.started_at
    ids = [row.id for row in rows]
    assert ids == sorted(ids)


def test_the_same_seed_makes_the_same_runs() -> None:
    def first(seed: int) -> list[dict[str, Any]]:
        return DemoRuns(runs=200, days=3, seed=seed, now=NOW).chunk(200)

    assert first(3) == first(3)
    assert first(3) != first(4)


async def test_failed_runs_list_newest_first(store: RunStore, rows: list[Any]) -> None:
    page = await store.list_runs(RunFilter(statuses=frozenset({RunStatus.FAILED})))
    failed = [row for row in rows if row.status == "failed"]
    assert page.total == len(failed)
    assert [run.id for run in page.runs] == [row.id for row in reversed(failed)][:20]
    assert page.next_cursor is not None


@pytest.mark.parametrize("word", ["société", "SOCIÉTÉ", "müller", "Ørsted", "株式会社"])
async def test_reference_search_finds_non_ascii_words_in_any_case(
    store: RunStore, rows: list[Any], word: str
) -> None:
    expected = [row.id for row in rows if word.casefold() in row.reference.casefold()]
    assert expected, f"no reference holds {word}"
    page = await store.list_runs(RunFilter(words=(word,), limit=200))
    assert page.total == len(expected)
    assert {run.id for run in page.runs} == set(expected[-200:])


def test_every_demo_failure_reads_as_the_cause_it_was_made_for() -> None:
    misread = [
        (cause, message)
        for cause, messages in FAILURE_MESSAGES.items()
        for message in messages
        if classify_failure(message) is not cause
    ]
    assert misread == []
