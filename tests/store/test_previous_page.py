"""Paging back: a page's previous cursor gives the page before it, on a SQLite file and on
PostgreSQL, whatever way the store finds the page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from store.errors import InvalidCursor
from store.filters import RunFilter, parse_filter
from store.records import TOTAL_CAP, RunPage
from store.run_store import RunStore
from tests.store.test_queries import T0, fill, run_report
from tests.support.many_runs import MANY, ManyRuns, newest_first


def query(text: str, limit: int) -> RunFilter:
    return parse_filter(text, tz=ZoneInfo("Europe/Paris"), now=T0, limit=limit)


def ids(page: RunPage) -> list[str]:
    return [run.id for run in page.runs]


async def forward_and_back(store: RunStore, flt: RunFilter) -> list[list[str]]:
    """Every page from the first to the last, then back to the first by previous cursors:
    each page back must be the page that was shown there going forward, under the same
    total, and the first page has no previous cursor."""
    page = await store.list_runs(flt)
    assert page.previous_cursor is None
    first = page
    forward = [page]
    while page.next_cursor is not None:
        page = await store.list_runs(replace(flt, cursor=page.next_cursor))
        assert page.previous_cursor is not None
        forward.append(page)
    for shown in reversed(forward[:-1]):
        assert page.previous_cursor is not None
        page = await store.list_runs(replace(flt, cursor=page.previous_cursor))
        assert ids(page) == ids(shown)
        assert (page.total, page.total_exact) == (first.total, first.total_exact)
        # The page reached going back pages forward again like the one it stands for.
        assert (page.next_cursor is None) == (shown.next_cursor is None)
    assert page.previous_cursor is None
    return [ids(page) for page in forward]


REFERENCES = ["ACME Corp — Renewal", "Müller GmbH", "acme upsell", "Zoë Ltd"]


# The filter, and the search thresholds that make the store find its pages one way or another.
SHAPES = [
    ("", 1000, 2000),  # everything
    ("failed", 1000, 2000),  # one status's index
    ("failed finished wf:hubspot-salesforce", 1000, 2000),  # a union of index ranges
    ("acme", 1000, 2000),  # a search alone, few matches: looked up
    ("acme", 2, 2000),  # many and dense: each run's own text checked
    ("acme", 2, 0),  # many and sparse: walked against the matches
    ("failed acme", 1000, 2000),  # a search with other filters, few
    ("failed acme", 1, 2000),  # many: walked against the matches
    ("zo", 1000, 2000),  # a short word
    ("last:3h", 1000, 2000),  # a time window
]


async def test_paging_forward_to_the_end_and_back_names_each_run_once_in_order(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflows = ["hubspot-salesforce", "shopify-netsuite"]
    reports = [
        run_report(
            n,
            reference=REFERENCES[n % 4],
            status=["failed", "finished", "running"][n % 3],
            workflow=workflows[n % 5 == 0],
        )
        for n in range(1, 41)
    ]
    # Two runs started at the same moment: the run ID breaks the tie, both ways.
    reports.append(
        run_report(41, reference="ACME twin", started_at=reports[9].started_at.isoformat())
    )
    await fill(store, reports)
    # The thresholds are SQLite's own: PostgreSQL takes each filter once.
    sqlite = store.dialect == "sqlite"
    shapes = SHAPES if sqlite else list({text: (text, 0, 0) for text, _, _ in SHAPES}.values())
    for text, walk_index_from, walk_rows_up_to in shapes:
        monkeypatch.setattr("store.search.WALK_INDEX_FROM", walk_index_from)
        monkeypatch.setattr("store.search.WALK_ROWS_UP_TO", walk_rows_up_to)
        for limit in (2, 7):
            flt = query(text, limit)
            pages = await forward_and_back(store, flt)
            every = [run_id for page in pages for run_id in page]
            assert every == await expected_ids(store, flt), (text, limit)
            assert len(every) == len(set(every)) >= 4, (text, limit)


async def expected_ids(store: RunStore, flt: RunFilter) -> list[str]:
    """The same runs from one page as large as can be."""
    page = await store.list_runs(replace(flt, limit=200))
    assert page.next_cursor is None
    return ids(page)


async def test_a_previous_cursor_of_another_search_is_refused(store: RunStore) -> None:
    await fill(store, [run_report(n, status="failed", reference=f"ACME {n}") for n in range(12)])
    flt = query("failed acme", 4)
    second = await store.list_runs(replace(flt, cursor=(await store.list_runs(flt)).next_cursor))
    assert second.previous_cursor is not None
    for other in ["finished", "failed acme corp", "failed acme last:2h", "acme"]:
        with pytest.raises(InvalidCursor, match="another search"):
            await store.list_runs(replace(query(other, 4), cursor=second.previous_cursor))
    back = await store.list_runs(replace(query("acme failed", 4), cursor=second.previous_cursor))
    assert ids(back) == [f"run_{n:04d}" for n in range(4)]


async def test_going_back_keeps_the_first_pages_window_while_time_moves_on(
    store: RunStore,
) -> None:
    """`last:1h` read again half an hour later still pages back through the first page's
    hour, to the first page as it was."""
    await fill(store, [run_report(n) for n in range(0, 120, 2)])  # one every 2 minutes
    flt = query("last:1h", 5)
    page = await store.list_runs(flt)
    pages = [ids(page)]
    while page.next_cursor is not None:
        page = await store.list_runs(replace(flt, cursor=page.next_cursor))
        pages.append(ids(page))
    read_later = parse_filter("last:1h", tz=ZoneInfo("UTC"), now=T0 + timedelta(minutes=30))
    back = []
    while page.previous_cursor is not None:
        page = await store.list_runs(replace(read_later, limit=5, cursor=page.previous_cursor))
        back.append(ids(page))
    assert back == pages[-2::-1] and len(pages) >= 3


async def test_paging_back_over_more_runs_than_are_counted(many_runs: ManyRuns) -> None:
    store = RunStore.open(many_runs.url)
    try:
        for text in ["", "finished failed", "renewal"]:
            pages = await forward_and_back(store, query(text, 200))
            every = [run_id for page in pages for run_id in page]
            assert every == newest_first()[: len(every)] and len(every) > TOTAL_CAP
        assert len(await forward_and_back(store, query("", 200))) == -(-MANY // 200)
    finally:
        await store.close()
