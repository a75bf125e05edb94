"""Read queries over the run store: free functions taking an AsyncSession first.

Page queries are keyset-paginated, newest first (started_at, then run ID, both
descending). Each status, workflow, and (workflow, status) pair has an index whose
order is the page order, so a filter on statuses or workflows becomes a UNION ALL of
small ordered index range scans instead of a sort over every match. Text is matched as
store/search.py plans it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    ScalarSelect,
    Select,
    asc,
    desc,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from store.cursors import Cursor, decode_cursor, encode_cursor, search_fingerprint
from store.errors import InvalidCursor
from store.filters import RunFilter
from store.models import Note, Retrigger, Run, Workflow
from store.records import (
    TOTAL_CAP,
    RetryLink,
    RunDetail,
    RunPage,
    RunSummary,
    StepRecord,
    WorkflowRecord,
    note_record,
    workflow_record,
)
from store.search import (
    SearchPlan,
    bound_search,
    bound_text_conditions,
    plan_search,
    text_conditions,
)
from store.types import RetriggerState, RunStatus

# Each arm of a UNION ALL is one ordered index scan; past this many arms a
# single query (and a sort) is cheaper than the planning and round trips.
MAX_UNION_ARMS = 24


# A run's own columns, as a summary shows them; the report write path loads these too.
RUN_COLUMNS = (
    Run.id,
    Run.workflow_id,
    Run.reference,
    Run.status,
    Run.started_at,
    Run.finished_at,
    Run.updated_at,
    Run.created_at,
    Run.error_message,
    Run.error_step,
    Run.skip_reason,
    Run.result,
    Run.retry_of,
)


async def all_workflows(session: AsyncSession) -> dict[str, WorkflowRecord]:
    rows = await session.scalars(select(Workflow).order_by(Workflow.id))
    return {row.id: workflow_record(row) for row in rows}


_ARROW = re.compile(r"\s*(?:→|->|>)\s*")


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def match_workflows(text: str, workflows: Iterable[WorkflowRecord]) -> list[WorkflowRecord]:
    """Workflows named by `text`: an id, a name, or `Source → Destination` (also -> or >)."""
    wanted = _fold(text)
    route = [_fold(part) for part in _ARROW.split(text.strip(), maxsplit=1)]
    matches = []
    for workflow in workflows:
        names = {_fold(workflow.id), _fold(workflow.name or "")}
        same_route = len(route) == 2 and route == [
            _fold(workflow.source),
            _fold(workflow.destination),
        ]
        if wanted in names or same_route:
            matches.append(workflow)
    return matches


def _unindexed(column: Any) -> Any:
    """`+column` on SQLite: the same value, but no index of the column drives the statement
    (used when the few runs a search matches are looked up by their `seq`s)."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _indexed(column: Any) -> Any:
    return column


def _base_conditions(flt: RunFilter, plan: SearchPlan) -> list[ColumnElement[bool]]:
    col = _unindexed if plan.by_seq else _indexed
    conditions: list[ColumnElement[bool]] = []
    if flt.since is not None:
        conditions.append(col(Run.started_at) >= flt.since)
    if flt.until is not None:
        conditions.append(col(Run.started_at) <= flt.until)
    if flt.run_id is not None:
        conditions.append(col(Run.id) == flt.run_id)
    conditions.extend(text_conditions(flt, plan))
    return conditions


def _arms(
    flt: RunFilter, workflow_ids: Sequence[str] | None, plan: SearchPlan
) -> list[list[ColumnElement[bool]]]:
    """One list of equality conditions per index range to scan; one list only when the
    runs are looked up by their `seq`s, or the ranges would be too many."""
    statuses: list[RunStatus | None] = [*sorted(flt.statuses)] if flt.statuses else [None]
    workflows: list[str | None] = list(workflow_ids) if workflow_ids is not None else [None]
    if plan.by_seq or len(statuses) * len(workflows) > MAX_UNION_ARMS:
        col = _unindexed if plan.by_seq else _indexed
        merged: list[ColumnElement[bool]] = []
        if flt.statuses:
            merged.append(col(Run.status).in_(sorted(flt.statuses)))
        if workflow_ids is not None:
            merged.append(col(Run.workflow_id).in_(workflow_ids))
        return [merged]
    arms = []
    for workflow_id in workflows:
        for status in statuses:
            arm: list[ColumnElement[bool]] = []
            if workflow_id is not None:
                arm.append(Run.workflow_id == workflow_id)
            if status is not None:
                arm.append(Run.status == status.value)
            arms.append(arm)
    return arms


WORKFLOW_COLUMNS = (
    Workflow.id.label("workflow_id_"),
    Workflow.source.label("workflow_source"),
    Workflow.destination.label("workflow_destination"),
    Workflow.name.label("workflow_name"),
    Workflow.trigger_url.label("workflow_trigger_url"),
    Workflow.alert_channel.label("workflow_alert_channel"),
    Workflow.created_at.label("workflow_created_at"),
    Workflow.updated_at.label("workflow_updated_at"),
)


def _page_select(
    arms: list[list[ColumnElement[bool]]],
    conditions: list[ColumnElement[bool]],
    limit: int,
    total: ScalarSelect[Any] | None = None,
    *,
    oldest_first: bool = False,
) -> Select[*tuple[Any, ...]]:
    """The page with each run's workflow and note count, in one statement; with `total`, each
    row also carries that count (a constant subquery: evaluated once). `oldest_first` walks
    the page order backwards, for the page before a cursor.

    The workflow is a LEFT JOIN so that the runs stay the outer loop, in the page order's index.
    """
    extra = [total.label("total")] if total is not None else []
    direction = asc if oldest_first else desc
    order = (direction(Run.started_at), direction(Run.id))
    if len(arms) == 1:
        notes = select(func.count()).where(Note.run_id == Run.id).scalar_subquery()
        return (
            select(*RUN_COLUMNS, *WORKFLOW_COLUMNS, notes.label("note_count"), *extra)
            .select_from(Run.__table__.outerjoin(Workflow, Workflow.id == Run.workflow_id))
            .where(*arms[0], *conditions)
            .order_by(*order)
            .limit(limit)
        )
    parts = [
        select(*RUN_COLUMNS).where(*arm, *conditions).order_by(*order).limit(limit).subquery()
        for arm in arms
    ]
    union = union_all(*(select(part) for part in parts)).subquery()
    notes = select(func.count()).where(Note.run_id == union.c.id).scalar_subquery()
    return (
        select(union, *WORKFLOW_COLUMNS, notes.label("note_count"), *extra)
        .select_from(union.outerjoin(Workflow, Workflow.id == union.c.workflow_id))
        .order_by(direction(union.c.started_at), direction(union.c.id))
        .limit(limit)
    )


def _workflow_of(row: Any, known: dict[str, WorkflowRecord]) -> WorkflowRecord:
    """The run's workflow from the page row's workflow columns (one record per workflow)."""
    if (record := known.get(row.workflow_id)) is None:
        record = known[row.workflow_id] = WorkflowRecord(
            id=row.workflow_id_,
            source=row.workflow_source,
            destination=row.workflow_destination,
            name=row.workflow_name,
            trigger_url=row.workflow_trigger_url,
            alert_channel=row.workflow_alert_channel,
            created_at=row.workflow_created_at,
            updated_at=row.workflow_updated_at,
        )
    return record


def _count_select(
    arms: list[list[ColumnElement[bool]]],
    conditions: list[ColumnElement[bool]],
) -> Select[*tuple[Any, ...]]:
    """How many runs match, counting no further than TOTAL_CAP + 1 (the first matches of each
    arm in turn): an exact count would walk every match, 86 % of all runs for `finished`."""
    matching: list[Select[Any]] = [
        select(literal_column("1")).select_from(Run).where(*arm, *conditions) for arm in arms
    ]
    compound: Select[Any] | CompoundSelect[Any] = (
        matching[0] if len(matching) == 1 else union_all(*matching)
    )
    first = compound.limit(TOTAL_CAP + 1).subquery()
    return select(func.count()).select_from(first)


def run_summary(row: Any, workflow: WorkflowRecord, note_count: int) -> RunSummary:
    """The run in `row` (a runs row or a page query's row) as a list shows it."""
    return RunSummary(
        id=row.id,
        workflow=workflow,
        reference=row.reference,
        status=RunStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        updated_at=row.updated_at,
        created_at=row.created_at,
        error_message=row.error_message,
        error_step=row.error_step,
        skip_reason=row.skip_reason,
        result=row.result,
        retry_of=row.retry_of,
        note_count=note_count,
    )


async def list_runs(session: AsyncSession, flt: RunFilter) -> RunPage:
    """One page of runs matching `flt`, newest first, with the total that matched.

    The total is counted for the first page (exactly up to TOTAL_CAP) and carried in the
    cursors after it, with the first page's time window (see Cursor). A backward cursor gives
    the page before its own: the runs just newer, found oldest first and turned round.
    Raises InvalidCursor for a cursor of another search.
    """
    at: Cursor | None = None
    if flt.cursor is not None:
        at = decode_cursor(flt.cursor)
        if at.search != search_fingerprint(flt):
            raise InvalidCursor("is from another search (other statuses, workflow, text or times)")
        flt = replace(flt, since=at.since, until=at.until)
    scope = await _workflow_scope(session, flt)
    plan = None if scope is None else await plan_search(session, flt, scope[1])
    if scope is None or plan is None:
        return RunPage(runs=(), total=0, next_cursor=None)
    workflows, workflow_ids = scope
    arms = _arms(flt, workflow_ids, plan)
    conditions = _base_conditions(flt, plan)
    if at is None:
        rows, total, exact = await _first_page(session, flt, plan, arms, conditions)
        page, earlier, later = rows[: flt.limit], False, len(rows) > flt.limit
    else:
        col = _unindexed if plan.by_seq else _indexed
        key = tuple_(col(Run.started_at), col(Run.id))
        start = tuple_(literal(at.started_at, Run.started_at.type), literal(at.run_id))
        beyond = key > start if at.backward else key < start
        statement = _page_select(
            arms, [*conditions, beyond], flt.limit + 1, oldest_first=at.backward
        )
        rows = (await (await session.connection()).execute(statement)).all()
        total, exact, page = at.total, at.total_exact, rows[: flt.limit]
        if at.backward:
            page, earlier, later = page[::-1], len(rows) > flt.limit, True
        else:
            earlier, later = True, len(rows) > flt.limit
    runs = tuple(run_summary(row, _workflow_of(row, workflows), row.note_count) for row in page)
    search = search_fingerprint(flt)

    def cursor(row: Any, *, backward: bool) -> str:
        return encode_cursor(
            Cursor(row.started_at, row.id, total, search, flt.since, flt.until, exact, backward)
        )

    return RunPage(
        runs=runs,
        total=total,
        next_cursor=cursor(page[-1], backward=False) if later and page else None,
        total_exact=exact,
        previous_cursor=cursor(page[0], backward=True) if earlier and page else None,
    )


async def any_run_matches(session: AsyncSession, flt: RunFilter) -> bool:
    """Whether a run matches `flt` (its cursor ignored): one row looked for, nothing counted."""
    scope = await _workflow_scope(session, flt)
    plan = None if scope is None else await plan_search(session, flt, scope[1])
    if scope is None or plan is None:
        return False
    statement = _page_select(_arms(flt, scope[1], plan), _base_conditions(flt, plan), 1)
    return (await session.execute(statement)).first() is not None


async def _workflow_scope(
    session: AsyncSession, flt: RunFilter
) -> tuple[dict[str, WorkflowRecord], list[str] | None] | None:
    """The workflows known (when `flt` names one) and the ids it names (None: any workflow);
    None when it names a workflow that matches none."""
    if flt.workflow is None:
        return {}, None
    workflows = await all_workflows(session)
    workflow_ids = [workflow.id for workflow in match_workflows(flt.workflow, workflows.values())]
    return (workflows, workflow_ids) if workflow_ids else None


async def _first_page(
    session: AsyncSession,
    flt: RunFilter,
    plan: SearchPlan,
    arms: list[list[ColumnElement[bool]]],
    conditions: list[ColumnElement[bool]],
) -> tuple[Sequence[Any], int, bool]:
    """The first page's rows (one more than the page, to tell whether another follows), the
    total and whether it is exact. The total rides along as a column, unless the search's own
    count already is it."""
    counted = plan.searched is not None and plan.only_searched
    connection = await session.connection()
    if counted and (bound := bound_search(flt, plan)) is not None:
        form, params = bound
        rows = (await connection.execute(_search_page(flt, plan, form), params)).all()
    else:
        total_column = None if counted else _count_select(arms, conditions).scalar_subquery()
        statement = _page_select(arms, conditions, flt.limit + 1, total_column)
        rows = (await connection.execute(statement)).all()
    if len(rows) <= flt.limit:
        return rows, len(rows), True
    if plan.searched is not None and counted:
        return rows, plan.searched, plan.searched_exact
    matched = int(rows[0].total)
    return rows, min(matched, TOTAL_CAP), matched <= TOTAL_CAP


# The first page of a search alone, one statement per form (bound_search), its values bound.
_SEARCH_PAGES: dict[tuple[Any, ...], Select[Any]] = {}
_SEARCH_PAGES_KEPT = 256


def _search_page(flt: RunFilter, plan: SearchPlan, form: tuple[Any, ...]) -> Select[Any]:
    """The page statement of a search alone (no workflow, times or run ID; failed runs at most),
    built once per form, status and limit."""
    key = (form, tuple(sorted(flt.statuses)), plan.by_seq, flt.limit)
    if (statement := _SEARCH_PAGES.get(key)) is None:
        if len(_SEARCH_PAGES) >= _SEARCH_PAGES_KEPT:
            _SEARCH_PAGES.clear()
        arms = _arms(flt, None, plan)
        statement = _page_select(arms, bound_text_conditions(form), flt.limit + 1)
        _SEARCH_PAGES[key] = statement
    return statement


async def count_by_status(
    session: AsyncSession, *, since: datetime, until: datetime, workflow: str | None = None
) -> dict[RunStatus, int]:
    """How many runs started in [since, until] have each status (one index range each);
    `workflow` names workflows as /runs does."""
    conditions: list[ColumnElement[bool]] = [Run.started_at >= since, Run.started_at <= until]
    if workflow is not None:
        known = await all_workflows(session)
        workflow_ids = [w.id for w in match_workflows(workflow, known.values())]
        conditions.append(Run.workflow_id.in_(workflow_ids))
    queries = [
        select(literal(status.value).label("status"), func.count().label("n"))
        .select_from(Run)
        .where(Run.status == status.value, *conditions)
        for status in RunStatus
    ]
    counts = {
        RunStatus(status): int(count)
        for status, count in await session.execute(union_all(*queries))
    }
    return {status: counts.get(status, 0) for status in RunStatus}


async def run_detail(session: AsyncSession, run_id: str) -> RunDetail | None:
    """Everything about one run, its retry chain included, or None when no run has that ID."""
    row = (
        await session.execute(select(*RUN_COLUMNS, Run.payload, Run.steps).where(Run.id == run_id))
    ).one_or_none()
    if row is None:
        return None
    workflow = workflow_record(await session.get_one(Workflow, row.workflow_id))
    notes = tuple(
        note_record(note)
        for note in await session.scalars(
            select(Note).where(Note.run_id == run_id).order_by(Note.created_at, Note.id)
        )
    )
    # The retry chain both ways, in two queries whatever its length.
    retries = await _retries_of(session, run_id)
    retry_of = None if row.retry_of is None else await _retried_run(session, run_id, row.retry_of)
    steps = tuple(
        StepRecord(
            name=step["name"],
            status=step.get("status"),
            started_at=step.get("started_at"),
            finished_at=step.get("finished_at"),
            detail=step.get("detail"),
            error=step.get("error"),
        )
        for step in row.steps or ()
    )
    return RunDetail(
        summary=run_summary(row, workflow, len(notes)),
        payload=row.payload,
        steps=steps,
        notes=notes,
        retried_as=tuple(link.run_id for link in retries),
        retry_of=retry_of,
        retries=retries,
    )


def _retry_link(row: Any) -> RetryLink:
    return RetryLink(
        run_id=row.id,
        status=RunStatus(row.status),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        state=None if row.state is None else RetriggerState(row.state),
        last_error=row.last_error,
    )


_RETRIGGER_COLUMNS = (
    Retrigger.requested_by,
    Retrigger.requested_at,
    Retrigger.state,
    Retrigger.last_error,
)


async def _retries_of(session: AsyncSession, run_id: str) -> tuple[RetryLink, ...]:
    """The runs made from `run_id`, oldest first, each with the retrigger that made it (one
    query, however many there are)."""
    rows = await session.execute(
        select(Run.id, Run.status, *_RETRIGGER_COLUMNS)
        .outerjoin(Retrigger, Retrigger.new_run_id == Run.id)
        .where(Run.retry_of == run_id)
        .order_by(Run.created_at, Run.id)
    )
    return tuple(_retry_link(row) for row in rows)


async def _retried_run(session: AsyncSession, run_id: str, original_id: str) -> RetryLink | None:
    """The run `run_id` retries, with the retrigger that made `run_id` (one query)."""
    row = (
        await session.execute(
            select(Run.id, Run.status, *_RETRIGGER_COLUMNS)
            .outerjoin(Retrigger, (Retrigger.new_run_id == run_id) & (Retrigger.run_id == Run.id))
            .where(Run.id == original_id)
        )
    ).one_or_none()
    return None if row is None else _retry_link(row)
