"""The one query engine, on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from store.errors import InvalidCursor, NaiveDatetimeError, RunNotFound
from store.filters import RunFilter, parse_filter
from store.records import WorkflowSpec
from store.reports import RunReport
from store.run_store import RunStore
from store.types import RunStatus

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WORKFLOWS = {
    "hubspot-salesforce": ("HubSpot", "Salesforce", "Deals → Opportunities"),
    "shopify-netsuite": ("Shopify", "NetSuite", None),
}


def run_report(number: int, **fields: Any) -> RunReport:
    workflow_id = fields.pop("workflow", "hubspot-salesforce")
    source, destination, name = WORKFLOWS[workflow_id]
    body: dict[str, Any] = {
        "id": f"run_{number:04d}",
        "workflow": {"id": workflow_id, "source": source, "destination": destination, "name": name},
        "reference": f"Deal {number}",
        "status": "finished",
        "started_at": (T0 - timedelta(minutes=number)).isoformat(),
    }
    body.update(fields)
    if body["status"] == "failed":
        body.setdefault("error", {"message": "503 Service Unavailable", "step": "Create"})
    return RunReport.model_validate(body)


async def fill(store: RunStore, reports: list[RunReport]) -> None:
    outcomes = await store.report_runs(reports)
    assert all(outcome.error is None for outcome in outcomes)


async def all_pages(store: RunStore, flt: RunFilter) -> list[str]:
    ids: list[str] = []
    page = await store.list_runs(flt)
    while True:
        ids.extend(run.id for run in page.runs)
        if page.next_cursor is None:
            return ids
        page = await store.list_runs(RunFilter(**{**flt.__dict__, "cursor": page.next_cursor}))


async def test_pages_are_newest_first_and_name_each_run_once(store: RunStore) -> None:
    # Equal start times too: ties are broken by run ID.
    await fill(
        store,
        [run_report(n, started_at=T0.isoformat() if n % 5 == 0 else None) for n in range(1, 48)],
    )
    page = await store.list_runs(RunFilter(limit=10))
    assert page.total == 47
    ids = await all_pages(store, RunFilter(limit=10))
    assert len(ids) == len(set(ids)) == 47
    detail_times = [(await store.get_run(run_id)) for run_id in ids[:12]]
    keys = [(d.summary.started_at, d.id) for d in detail_times if d is not None]
    assert keys == sorted(keys, reverse=True)


async def test_statuses_and_workflows_filter_through_the_union_of_index_scans(
    store: RunStore,
) -> None:
    reports = [
        run_report(
            n, status=["failed", "finished", "skipped"][n % 3], workflow=list(WORKFLOWS)[n % 2]
        )
        for n in range(1, 61)
    ]
    await fill(store, reports)
    failed = await all_pages(store, RunFilter(statuses=frozenset({RunStatus.FAILED}), limit=7))
    assert failed == [r.id for r in reports if r.status == "failed"]
    failed_or_skipped = await all_pages(
        store, RunFilter(statuses=frozenset({RunStatus.FAILED, RunStatus.SKIPPED}), limit=4)
    )
    assert failed_or_skipped == [r.id for r in reports if r.status in ("failed", "skipped")]
    for name in ("shopify-netsuite", "SHOPIFY → netsuite", "Shopify->NetSuite", "shopify>netsuite"):
        ids = await all_pages(store, RunFilter(workflow=name, limit=9))
        assert ids == [r.id for r in reports if r.workflow.id == "shopify-netsuite"], name
    by_name = await store.list_runs(
        RunFilter(workflow="deals → opportunities", statuses=frozenset({RunStatus.FAILED}))
    )
    assert by_name.total == len(
        [r for r in reports if r.workflow.id == "hubspot-salesforce" and r.status == "failed"]
    )
    assert (await store.list_runs(RunFilter(workflow="nope"))).total == 0


async def test_time_range_is_inclusive_at_both_ends(store: RunStore) -> None:
    await fill(store, [run_report(n) for n in range(0, 10)])
    flt = RunFilter(since=T0 - timedelta(minutes=5), until=T0 - timedelta(minutes=2))
    page = await store.list_runs(flt)
    assert [run.id for run in page.runs] == ["run_0002", "run_0003", "run_0004", "run_0005"]
    assert page.total == 4


async def test_text_search_is_case_insensitive_substring_and_all_words_must_match(
    store: RunStore,
) -> None:
    references = [
        "Müller GmbH — Renewal 2027",
        "ACME Corp renewal",
        "Zoë's Café",
        "株式会社トヨタ 見積",
        "ab",
    ]
    await fill(store, [run_report(n, reference=ref) for n, ref in enumerate(references, start=1)])

    async def found(*words: str, reference: str | None = None) -> list[str]:
        return [
            run.reference
            for run in (await store.list_runs(RunFilter(words=words, reference=reference))).runs
        ]

    assert await found("RENEWAL") == ["Müller GmbH — Renewal 2027", "ACME Corp renewal"]
    assert await found("renewal", "acme") == ["ACME Corp renewal"]
    assert await found("MÜLLER") == ["Müller GmbH — Renewal 2027"]
    assert await found("トヨタ") == ["株式会社トヨタ 見積"]
    assert await found("zoë") == ["Zoë's Café"]
    assert await found("ab") == ["ab"]  # shorter than a trigram: still found
    assert await found("run_0003") == ["Zoë's Café"]  # the run ID is searched too
    assert await found("0003", reference="café") == ["Zoë's Café"]
    assert await found(reference="run_0003") == []  # ref: is the reference only
    assert await found("renewal", "nothing-like-this") == []
    assert await found('"quoted"') == []


@pytest.mark.parametrize("walk_rows_up_to", [2000, 0], ids=["check-rows", "read-matches"])
async def test_short_words_and_unicode_case_are_found_from_the_index(
    store: RunStore, monkeypatch: pytest.MonkeyPatch, walk_rows_up_to: int
) -> None:
    """Words of one or two characters, in any case and script, at either end of a value."""
    monkeypatch.setattr("store.search.WALK_ROWS_UP_TO", walk_rows_up_to)
    references = [
        "ÖQ Handel — Angebot",  # 1
        "Bazooka",  # 2
        "Enzo",  # 3: the word ends the value
        "Zo",  # 4: the whole value is the word
        "ΣΟΦΊΑ Εκδόσεις",  # 5
        "50% off [draft]*?",  # 6: GLOB and LIKE wildcards are text
        "é",  # 7: one character
    ]
    await fill(store, [run_report(n, reference=ref) for n, ref in enumerate(references, start=1)])

    async def found(*words: str, reference: str | None = None, **fields: Any) -> list[int]:
        page = await store.list_runs(RunFilter(words=words, reference=reference, **fields))
        numbers = [int(run.id.removeprefix("run_")) for run in page.runs]
        assert page.total == len(numbers)
        return sorted(numbers)

    assert await found("öq") == [1]
    assert await found("Öq") == [1]
    assert await found("qh") == []  # words are not joined across the space
    assert await found("zo") == [2, 3, 4]
    assert await found(reference="ZO") == [2, 3, 4]
    assert await found("zo", "ba") == [2]
    assert await found("σο") == [5]
    assert await found("ΕΚΔΌΣΕ") == [5]
    assert await found("É") == [7]
    assert await found("é", statuses=frozenset({RunStatus.FINISHED})) == [7]
    assert await found("0%") == [6]
    assert await found("]*?") == [6]
    assert await found("[draft]") == [6]
    assert await found("f_") == []  # `_` is not a wildcard
    assert await found("%") == [6]
    assert await found("r_") == []
    assert await found("n_") == [1, 2, 3, 4, 5, 6, 7]  # every run ID: run_000N
    assert await found("RUN_0005") == [5]  # a run ID, or its start, in any case
    assert await found("run_000") == [1, 2, 3, 4, 5, 6, 7]
    assert await found(reference="n_") == []
    assert await found("\x01") == [] and await found("o\x01") == []  # the index's end mark


async def test_a_word_starting_too_many_trigrams_is_still_found(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("store.search.MAX_SHORT_TERMS", 1)
    references = ["Zoë", "Enzo", "ZEBRA ÄPFEL", "ärger", "Ölwerk [50%] Öl"]
    await fill(store, [run_report(n, reference=ref) for n, ref in enumerate(references, 1)])

    async def found(*words: str, reference: str | None = None) -> list[int]:
        """The total, then the runs' numbers."""
        page = await store.list_runs(RunFilter(words=words, reference=reference))
        return [page.total, *(int(run.id.removeprefix("run_")) for run in page.runs)]

    assert await found("zo") == [2, 1, 2]
    assert await found(reference="ZO") == [2, 1, 2]
    # In any case, beyond ASCII too.
    assert await found("ä") == await found("Ä") == [2, 3, 4]
    assert await found(reference="ö") == await found(reference="Ö") == [1, 5]
    assert await found("%") == [1, 5]  # GLOB's and LIKE's wildcards are text


@pytest.mark.parametrize("walk_index_from", [1000, 1], ids=["from-matches", "walk-index"])
async def test_a_search_with_other_filters_counts_every_match_across_pages(
    store: RunStore, monkeypatch: pytest.MonkeyPatch, walk_index_from: int
) -> None:
    monkeypatch.setattr("store.search.WALK_INDEX_FROM", walk_index_from)
    reports = [
        run_report(
            n,
            reference=["ACME Corp — Renewal", "Müller GmbH", "acme upsell"][n % 3],
            status=["failed", "finished"][n % 2],
            workflow=list(WORKFLOWS)[n % 5 == 0],
        )
        for n in range(1, 61)
    ]
    await fill(store, reports)
    for words, statuses, workflow in [
        (("acme",), {RunStatus.FAILED}, None),
        (("ACME", "renewal"), {RunStatus.FAILED, RunStatus.FINISHED}, "hubspot-salesforce"),
        (("mü",), set(), "hubspot-salesforce"),
    ]:
        expected = [
            r.id
            for r in reports
            if all(word.lower() in (r.reference or "").lower() for word in words)
            and (not statuses or r.status in statuses)
            and (workflow is None or r.workflow.id == workflow)
        ]
        flt = RunFilter(words=words, statuses=frozenset(statuses), workflow=workflow, limit=3)
        assert (await store.list_runs(flt)).total == len(expected) > 3, words
        assert await all_pages(store, flt) == expected, words


@pytest.mark.parametrize(
    ("walk_index_from", "walk_rows_up_to"),
    [(1000, 2000), (2, 2000), (2, 0)],
    ids=["read-matches-once", "check-rows", "walk-index"],
)
async def test_a_search_alone_counts_every_match_across_pages(
    store: RunStore, monkeypatch: pytest.MonkeyPatch, walk_index_from: int, walk_rows_up_to: int
) -> None:
    """However the first page is found (from the few matches read once, or walking the page
    order), the total and the pages name each matching run exactly once."""
    monkeypatch.setattr("store.search.WALK_INDEX_FROM", walk_index_from)
    monkeypatch.setattr("store.search.WALK_ROWS_UP_TO", walk_rows_up_to)
    reports = [
        run_report(n, reference=["ACME Corp — Renewal", "Müller GmbH", "acme upsell"][n % 3])
        for n in range(1, 31)
    ]
    await fill(store, reports)
    for words in [("acme",), ("RENEWAL",), ("müller gmbh",), ("run_001",)]:
        expected = [
            r.id
            for r in reports
            if all(w.lower() in f"{r.reference}\n{r.id}".lower() for w in words)
        ]
        flt = RunFilter(words=words, limit=3)
        assert (await store.list_runs(flt)).total == len(expected) > 3, words
        assert await all_pages(store, flt) == expected, words


async def test_a_changed_reference_is_searched_by_its_new_text(store: RunStore) -> None:
    await fill(store, [run_report(1, reference="Old Name", status="running")])
    await fill(store, [run_report(1, reference="New Co", status="finished")])
    assert [run.id for run in (await store.list_runs(RunFilter(words=("new co",)))).runs] == [
        "run_0001"
    ]
    assert (await store.list_runs(RunFilter(words=("old",)))).total == 0
    assert (await store.list_runs(RunFilter(words=("ol",)))).total == 0


async def test_exact_run_id(store: RunStore) -> None:
    await fill(store, [run_report(n) for n in range(1, 4)])
    page = await store.list_runs(RunFilter(run_id="run_0002"))
    assert [run.id for run in page.runs] == ["run_0002"]


async def test_a_foreign_cursor_is_refused(store: RunStore) -> None:
    with pytest.raises(InvalidCursor):
        await store.list_runs(RunFilter(cursor="not-a-cursor"))


async def test_counts_by_status(store: RunStore) -> None:
    await fill(store, [run_report(n, status=["failed", "finished"][n % 2]) for n in range(0, 9)])
    counts = await store.count_by_status(since=T0 - timedelta(minutes=8), until=T0)
    assert counts == {
        RunStatus.FAILED: 5,
        RunStatus.FINISHED: 4,
        RunStatus.PENDING: 0,
        RunStatus.RUNNING: 0,
        RunStatus.SKIPPED: 0,
    }
    only_shopify = await store.count_by_status(
        since=T0 - timedelta(days=1), until=T0, workflow="shopify-netsuite"
    )
    assert sum(only_shopify.values()) == 0


async def test_notes_are_stored_on_the_run(store: RunStore) -> None:
    await fill(store, [run_report(1, status="failed")])
    await store.add_note("run_0001", author="ana", text="Token rotated", source="api")
    await store.add_note("run_0001", author="bo", text="Retrying", source="slack_modal")
    detail = await store.get_run("run_0001")
    assert detail is not None
    assert [(n.author, n.text) for n in detail.notes] == [
        ("ana", "Token rotated"),
        ("bo", "Retrying"),
    ]
    assert (await store.list_runs(RunFilter())).runs[0].note_count == 2
    with pytest.raises(RunNotFound):
        await store.add_note("run_missing", author="ana", text="x", source="api")


async def test_workflows_register_and_update(store: RunStore) -> None:
    record, created = await store.put_workflow(
        "zendesk-jira", WorkflowSpec("Zendesk", "Jira", alert_channel="C0ALERTS")
    )
    assert created and record.route == "Zendesk → Jira"
    record, created = await store.put_workflow(
        "zendesk-jira", WorkflowSpec("Zendesk", "Jira Cloud", name="Tickets")
    )
    assert not created and record.destination == "Jira Cloud" and record.alert_channel is None
    assert [w.id for w in await store.list_workflows()] == ["zendesk-jira"]


async def test_times_are_utc_in_and_out(store: RunStore) -> None:
    await fill(store, [run_report(1, started_at="2026-11-20T23:30:00-08:00")])
    detail = await store.get_run("run_0001")
    assert detail is not None
    assert detail.summary.started_at == datetime(2026, 11, 21, 7, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        RunFilter(since=datetime(2026, 11, 20))
    with pytest.raises(StatementError) as caught:
        await store.count_by_status(since=datetime(2026, 11, 20), until=T0)
    assert isinstance(caught.value.orig, NaiveDatetimeError)


async def test_reference_search_uses_an_index_not_a_table_scan(store: RunStore) -> None:
    await fill(store, [run_report(n) for n in range(1, 5)])
    async with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            plan = (
                await connection.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT rowid FROM runs_search WHERE runs_search MATCH '\"deal\"'"
                    )
                )
            ).all()
            assert any("VIRTUAL TABLE INDEX" in str(row) for row in plan)
        else:
            await connection.execute(text("SET enable_seqscan = off"))
            plan = (
                await connection.execute(
                    text("EXPLAIN SELECT id FROM runs WHERE reference ILIKE '%deal%'")
                )
            ).all()
            assert any("ix_runs_reference_trgm" in str(row) for row in plan)


async def test_replicas_writing_the_same_new_runs_at_once_converge(database_url: str) -> None:
    """Two stores on one database (as two replicas): racing creates of the same runs all land."""
    replicas = [RunStore.open(database_url) for _ in range(2)]
    try:
        batches = [
            [run_report(n, status=status) for n in range(1, 40)] for status in ("running", "failed")
        ]
        results = await asyncio.gather(
            *(replica.report_runs(batch) for replica, batch in zip(replicas, batches, strict=True))
        )
        assert all(outcome.error is None for outcomes in results for outcome in outcomes)
        page = await replicas[0].list_runs(RunFilter(limit=200))
        assert page.total == 39
        assert {run.status for run in page.runs} == {RunStatus.FAILED}
    finally:
        for replica in replicas:
            await replica.close()


async def pages_of(store: RunStore, first: RunFilter, later: list[RunFilter]) -> list[list[str]]:
    """The first page of `first`, then one page for each of `later` with the cursor so far."""
    page = await store.list_runs(first)
    pages, totals = [[run.id for run in page.runs]], {page.total}
    for flt in later:
        assert page.next_cursor is not None
        page = await store.list_runs(replace(flt, cursor=page.next_cursor))
        pages.append([run.id for run in page.runs])
        totals.add(page.total)
    assert len(totals) == 1, totals  # the first page's total, on every page
    return pages


def words(text: str, now: datetime = T0, limit: int = 4) -> RunFilter:
    return parse_filter(text, tz=ZoneInfo("Europe/Paris"), now=now, limit=limit)


async def test_a_cursor_goes_on_with_the_same_words_in_any_order(store: RunStore) -> None:
    await fill(store, [run_report(n, status="failed", reference=f"ACME {n}") for n in range(12)])
    same = ["failed wf:hubspot-salesforce acme ref:a", "ref:a acme wf:hubspot-salesforce failed"]
    pages = await pages_of(store, words(same[0]), [words(same[1]), words(same[0])])
    assert [run_id for page in pages for run_id in page] == [f"run_{n:04d}" for n in range(12)]


@pytest.mark.parametrize(
    "other",
    [
        "finished",  # another status
        "failed skipped",
        "failed wf:shopify-netsuite acme",  # another workflow
        "failed acme corp",  # other text
        "failed ref:acme",
        "failed acme last:2h",  # another time
        "failed acme since:2026-11-01",
        "failed acme id:run_0001",
    ],
)
async def test_a_cursor_of_another_search_is_refused(store: RunStore, other: str) -> None:
    await fill(store, [run_report(n, status="failed", reference=f"ACME {n}") for n in range(12)])
    page = await store.list_runs(words("failed acme"))
    assert page.total == 12 and page.next_cursor is not None
    with pytest.raises(InvalidCursor) as excinfo:
        await store.list_runs(replace(words(other), cursor=page.next_cursor))
    assert str(excinfo.value) == (
        "is from another search (other statuses, workflow, text or times)"
    )


async def test_a_cursor_of_the_api_is_refused_for_other_instants(store: RunStore) -> None:
    await fill(store, [run_report(n) for n in range(12)])
    flt = RunFilter(since=T0 - timedelta(hours=1), until=T0, limit=4)
    page = await store.list_runs(flt)
    assert page.next_cursor is not None
    assert (await store.list_runs(replace(flt, cursor=page.next_cursor))).runs
    for moved in ({"since": T0 - timedelta(hours=2)}, {"until": None}):
        with pytest.raises(InvalidCursor, match="another search"):
            await store.list_runs(replace(flt, cursor=page.next_cursor, **moved))


@pytest.mark.parametrize(
    ("text", "later", "limit"),
    [
        ("last:1h", timedelta(minutes=20), 8),  # the hour has moved on by a third
        ("failed since:30m", timedelta(hours=5), 2),
        ("today", timedelta(hours=12), 100),  # read again tomorrow, in Paris
        ("yesterday failed", timedelta(days=3), 100),
    ],
)
async def test_relative_times_read_again_later_page_through_the_first_pages_window(
    store: RunStore, text: str, later: timedelta, limit: int
) -> None:
    """The first page's window is the search: later pages keep to it whatever "now" is,
    so each run of it comes once, none drops out and none comes in."""
    # A run every two minutes over the two days before T0 (13:00 in Paris), every other failed.
    await fill(
        store,
        [run_report(n, status=["failed", "finished"][n % 4 // 2]) for n in range(0, 2880, 2)],
    )
    first = words(text, now=T0, limit=limit)
    expected = await all_pages(store, first)
    pages = -(-len(expected) // limit)
    assert pages >= 3, len(expected)
    read_later = words(text, now=T0 + later, limit=limit)
    assert (read_later.since, read_later.until) != (first.since, first.until)
    got = await pages_of(store, first, [read_later] * (pages - 1))
    assert [run_id for page in got for run_id in page] == expected


async def test_failed_runs_are_searched_as_they_enter_and_leave_failed(store: RunStore) -> None:
    """On SQLite `failed TEXT` reads an index of the failed runs alone (migration 0005),
    kept as runs enter and leave that status and change their text."""

    async def failed_acme(text: str = "failed acme") -> list[str]:
        page = await store.list_runs(words(text, limit=10))
        return [run.id for run in page.runs]

    # Later than the first reports, which rank by when runsbot received them.
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    latest = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    await fill(
        store,
        [
            run_report(1, reference="ACME one", status="running"),
            run_report(2, reference="ACME two", status="failed"),
            run_report(3, reference="ACME three", status="failed"),
        ],
    )
    assert await failed_acme() == ["run_0002", "run_0003"]
    await fill(
        store,
        [
            run_report(1, reference="ACME one", status="failed", updated_at=later),
            run_report(2, reference="ACME two", status="finished", updated_at=later),
            run_report(3, reference="Globex three", status="failed", updated_at=later),
        ],
    )
    assert await failed_acme() == ["run_0001"]
    assert await failed_acme("failed globex") == ["run_0003"]
    await fill(store, [run_report(2, reference="ACME two", status="failed", updated_at=latest)])
    assert await failed_acme() == ["run_0001", "run_0002"]
    assert await failed_acme("failed ACME t") == ["run_0002"]
