"""The total stops counting past TOTAL_CAP (CONTRACT.md section 3), whatever the filter's
shape, on a SQLite file and on PostgreSQL; the pages still name every run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from store.filters import RunFilter, parse_filter
from store.records import TOTAL_CAP
from store.run_store import RunStore
from tests.support.many_runs import (
    FAILED_EVERY,
    HUBSPOT_RUNS,
    MANY,
    RENEWALS,
    T0,
    ManyRuns,
    many_run_id,
)


@pytest.fixture
async def many(many_runs: ManyRuns) -> AsyncIterator[RunStore]:
    store = RunStore.open(many_runs.url)
    yield store
    await store.close()


def query(text: str, limit: int = 20) -> RunFilter:
    return parse_filter(text, tz=ZoneInfo("UTC"), now=T0, limit=limit)


def failed(number: int) -> bool:
    return number % FAILED_EVERY == 0


def hubspot(number: int) -> bool:
    return number <= HUBSPOT_RUNS


def renewal(number: int) -> bool:
    return number <= RENEWALS


CASES: list[tuple[str, Callable[[int], bool]]] = [
    ("", lambda n: True),  # a bare /runs
    ("finished", lambda n: not failed(n)),
    ("failed", failed),
    ("finished failed", lambda n: True),  # two index ranges
    ("wf:hubspot-salesforce", hubspot),  # exactly the cap: exact
    ("wf:hubspot-salesforce finished", lambda n: hubspot(n) and not failed(n)),
    ("since:2026-11-19T00:00", lambda n: True),
    ("renewal", renewal),  # a search alone
    ("ACME", renewal),
    ("run_0", lambda n: True),  # the start of every run ID
    ("globex", lambda n: not renewal(n)),
    ("renewal wf:hubspot-salesforce", lambda n: renewal(n) and hubspot(n)),  # at the cap
    ("renewal finished failed", renewal),  # a search with other filters
    ("renewal finished", lambda n: renewal(n) and not failed(n)),
    ("ref:acme failed", lambda n: renewal(n) and failed(n)),
]


@pytest.mark.parametrize(("text", "matches"), CASES, ids=[text or "all" for text, _ in CASES])
async def test_the_total_is_exact_up_to_the_cap_and_stops_there(
    many: RunStore, text: str, matches: Callable[[int], bool]
) -> None:
    matched = sum(1 for number in range(1, MANY + 1) if matches(number))
    page = await many.list_runs(query(text))
    if matched <= TOTAL_CAP:
        assert (page.total, page.total_exact) == (matched, True)
    else:
        assert (page.total, page.total_exact) == (TOTAL_CAP, False)
    expected = [many_run_id(n) for n in range(1, MANY + 1) if matches(n)]
    assert [run.id for run in page.runs] == expected[:20]


@pytest.mark.parametrize("text", ["", "renewal", "renewal finished failed"])
async def test_every_page_of_a_capped_search_carries_the_first_pages_total(
    many: RunStore, text: str
) -> None:
    """Past the cap the total stays a lower bound on every page, and the pages still go on
    to the last matching run, each run once."""
    flt = query(text, limit=200)
    page = await many.list_runs(flt)
    seen = [run.id for run in page.runs]
    while page.next_cursor is not None:
        page = await many.list_runs(replace(flt, cursor=page.next_cursor))
        assert (page.total, page.total_exact) == (TOTAL_CAP, False)
        seen.extend(run.id for run in page.runs)
    matched = MANY if not text else RENEWALS
    assert seen == [many_run_id(n) for n in range(1, matched + 1)]
