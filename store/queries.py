"""Read queries over the run store: free functions taking an AsyncSession first.

Page queries are keyset-paginated, newest first (started_at, then run ID, both
descending). Each status, workflow, and (workflow, status) pair has an index whose
order is the page order, so a filter on statuses or workflows becomes a UNION ALL of
small ordered index range scans instead of a sort over every match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import (
    CTE,
    ColumnElement,
    ScalarSelect,
    Select,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import InvalidCursor
from store.filters import RunFilter
from store.models import Note, Run, Workflow
from store.records import (
    RunDetail,
    RunPage,
    RunSummary,
    StepRecord,
    WorkflowRecord,
    note_record,
    workflow_record,
)
from store.types import RunStatus

# Each arm of a UNION ALL is one ordered index scan; past this many arms a
# single query (and a sort) is cheaper than the planning and round trips.
MAX_UNION_ARMS = 24
# FTS5's trigram index holds terms of three characters; shorter words are answered from
# the terms that start with them (migration 0003 ends each indexed value with two U+0001).
MIN_TRIGRAM = 3
SEARCH_END = "\x01\x01"
# A short word starting more trigrams than this (one letter: over a thousand) is checked
# on every run (a GLOB).
MAX_SHORT_TERMS = 64
# A search matching this many runs or more is cheaper to check while walking the page
# order's index than to look up match by match and sort: at 1M runs, 47k matches of
# `renewal` take 120 ms one way and 18 ms the other; 1 match takes 0.1 ms against 110 ms.
WALK_INDEX_FROM = 1000
# A search alone whose page should be found within this many runs of the page order is
# checked on each run's own reference and ID (GLOB), without reading the match list again.
WALK_ROWS_UP_TO = 2000

Walk = Literal["matches", "index", "rows"]

runs_search = table("runs_search", column("rowid"), column("reference"), column("id"))
runs_search_terms = table("runs_search_terms", column("term"))


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


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(text)}%"
    return column.ilike(pattern, escape="\\")  # type: ignore[no-any-return]


def _glob_contains(text: str) -> str:
    """A GLOB pattern for `text` anywhere, each letter in either case, as the index folds it."""
    parts = []
    for char in text:
        folded = char.lower()
        cases = {case for case in (char, folded, char.upper(), char.title()) if len(case) == 1}
        same = sorted(case for case in cases if case.lower() == folded)
        if len(same) > 1:
            parts.append("[" + "".join(same) + "]")
        elif char in "*?[":
            parts.append(f"[{char}]")
        else:
            parts.append(char)
    return "*" + "".join(parts) + "*"


def _glob(column: Any, text: str) -> ColumnElement[bool]:
    return column.op("GLOB", is_comparison=True)(_glob_contains(text))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Search:
    """How the filter's text goes through SQLite's trigram index."""

    query: str | None = None  # the FTS5 query, when any text goes through the index
    nothing: bool = False  # some word is in no indexed value: nothing can match
    scan_words: tuple[str, ...] = ()  # one-character words with too many trigrams: GLOB
    scan_reference: str | None = None


async def _short_terms(session: AsyncSession, text: str) -> list[str] | None:
    """The indexed trigrams that start with a word of one or two characters.

    Every indexed value ends with SEARCH_END, so each occurrence of the word starts one.
    None when they are too many (or the word does not fold to as many characters).
    """
    folded = text.lower()
    if len(folded) != len(text):
        return None
    terms = list(
        await session.scalars(
            select(runs_search_terms.c.term)
            .where(
                runs_search_terms.c.term >= folded,
                runs_search_terms.c.term < folded + "\U0010ffff",
            )
            .limit(MAX_SHORT_TERMS + 1)
        )
    )
    return None if len(terms) > MAX_SHORT_TERMS else terms


async def _search(session: AsyncSession, flt: RunFilter) -> _Search:
    """The FTS5 query for the filter's text: phrases, and any-of-trigrams for short words."""
    phrases: list[str] = []
    scan_words: list[str] = []
    scan_reference: str | None = None
    texts: list[tuple[str, str | None]] = [(word, None) for word in flt.words]
    if flt.reference:
        texts.append((flt.reference, "reference"))
    for text, only in texts:
        if SEARCH_END[0] in text:
            # The index's own end mark: no run's text is taken to hold it.
            return _Search(nothing=True)
        if len(text) >= MIN_TRIGRAM:
            phrase = _fts_phrase(text)
        else:
            terms = await _short_terms(session, text)
            if terms is None:
                if only is None:
                    scan_words.append(text)
                else:
                    scan_reference = text
                continue
            if not terms:
                return _Search(nothing=True)
            phrase = "(" + " OR ".join(_fts_phrase(term) for term in terms) + ")"
        phrases.append(phrase if only is None else f"{only} : {phrase}")
    return _Search(
        query=" AND ".join(phrases) if phrases else None,
        scan_words=tuple(scan_words),
        scan_reference=scan_reference,
    )


def _only_searched(flt: RunFilter, search: _Search, workflow_ids: Sequence[str] | None) -> bool:
    """True when the trigram index alone decides which runs match."""
    others = (flt.statuses, workflow_ids, flt.run_id, flt.since, flt.until)
    return (
        search.query is not None
        and not search.scan_words
        and search.scan_reference is None
        and all(not other for other in others)
    )


def _text_conditions(
    flt: RunFilter,
    dialect: str,
    search: _Search | None,
    *,
    walk: Walk = "matches",
    matches: CTE | Sequence[int] | None = None,
) -> list[ColumnElement[bool]]:
    """Reference and run-ID text; case-insensitive, every word must match.

    On SQLite, `walk` says how: "matches" looks up every match of the trigram index in the
    table; "index" walks the page order's index and checks each run against the matches;
    "rows" walks it and checks each run's own reference and ID, reading no match list at all.
    `matches` (with an index query, unless walking rows) is the search's matches materialized
    once for the whole statement, or already read: their `seq`s.
    """
    if dialect != "sqlite":
        # PostgreSQL answers ILIKE '%…%' from the pg_trgm GIN indexes.
        return _each_contained(flt.words, flt.reference, _contains)
    if search is None:
        return []
    if walk == "rows":
        return _each_contained(flt.words, flt.reference, _glob)
    conditions: list[ColumnElement[bool]] = []
    if search.query is not None:
        assert matches is not None, "list_runs reads the matches, or materializes them, first"
        matching = select(matches.c.seq) if isinstance(matches, CTE) else matches
        # `seq + 0` is not the rowid, so the planner cannot drive the query from the matches.
        seq = Run.seq + literal_column("0") if walk == "index" else Run.seq
        conditions.append(seq.in_(matching))
    # Words the index cannot answer: a GLOB with each letter in either case (SQLite's LIKE
    # ignores the case of ASCII only).
    return conditions + _each_contained(search.scan_words, search.scan_reference, _glob)


def _each_contained(
    words: Sequence[str],
    reference: str | None,
    contains: Callable[[Any, str], ColumnElement[bool]],
) -> list[ColumnElement[bool]]:
    """Each word in the reference or the run ID, and `reference` in the reference."""
    conditions = [or_(contains(Run.reference, word), contains(Run.id, word)) for word in words]
    if reference:
        conditions.append(contains(Run.reference, reference))
    return conditions


def _search_match(query: str) -> ColumnElement[bool]:
    """`runs_search MATCH :query`: FTS5 matches against the table's own name."""
    return column("runs_search").match(query)


def _base_conditions(
    flt: RunFilter,
    dialect: str,
    search: _Search | None,
    *,
    walk: Walk = "matches",
    matches: CTE | Sequence[int] | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.since is not None:
        conditions.append(Run.started_at >= flt.since)
    if flt.until is not None:
        conditions.append(Run.started_at <= flt.until)
    if flt.run_id is not None:
        conditions.append(Run.id == flt.run_id)
    conditions.extend(_text_conditions(flt, dialect, search, walk=walk, matches=matches))
    return conditions


async def _search_count(session: AsyncSession, query: str) -> int:
    """How many runs the trigram index matches, counting no further than WALK_INDEX_FROM:
    when they are many, that reads only the doclists' first stretches."""
    matching = select(runs_search.c.rowid).where(_search_match(query)).limit(WALK_INDEX_FROM)
    return int(await session.scalar(select(func.count()).select_from(matching.subquery())) or 0)


@dataclass(frozen=True)
class _Matches:
    total: int  # how many runs the trigram index matches (one row per run, kept by triggers)
    seqs: list[int] | None  # their `seq`s, when fewer than WALK_INDEX_FROM
    runs: int  # the highest `seq`: about how many runs there are, to tell how dense they are


async def _search_matches(session: AsyncSession, query: str) -> _Matches:
    """Everything a search alone needs of the index, in one statement that evaluates the
    query once when its matches are few, and otherwise also reads the first stretches.

    The first WALK_INDEX_FROM matches are read either way (few: all of them, so the page needs
    no second evaluation); only when there are that many does SQLite count them all: a
    subquery in a CASE is evaluated only when its branch is taken.
    """
    first = select(runs_search.c.rowid).where(_search_match(query)).limit(WALK_INDEX_FROM)
    first_rows = first.subquery()
    read = func.count()
    all_counted = select(func.count()).select_from(runs_search).where(_search_match(query))
    statement = select(
        read,
        case((read >= WALK_INDEX_FROM, all_counted.scalar_subquery())),
        case((read < WALK_INDEX_FROM, func.json_group_array(first_rows.c.rowid))),
        select(func.max(Run.seq)).scalar_subquery(),
    ).select_from(first_rows)
    read_count, total, seqs, runs = (await session.execute(statement)).one()
    if seqs is not None:
        return _Matches(total=read_count, seqs=orjson.loads(seqs), runs=int(runs or 0))
    return _Matches(total=int(total), seqs=None, runs=int(runs or 0))


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts, and what the first page was.

    A cursor only continues the search that made it. `search` fingerprints that search's
    statuses, workflow, reference, run ID and text, and its times as the words that set them
    (`last:7d`, `today`; the instants when no words did, as in the API). The time window the
    first page resolved those words to is carried along and used for every later page: the
    same words read at a later "now" still page on through the same runs, each run once,
    under the total counted for the first page.
    """

    started_at: datetime
    run_id: str
    total: int
    search: str
    since: datetime | None
    until: datetime | None


def search_fingerprint(flt: RunFilter) -> str:
    """What must stay the same for a cursor to go on: everything but the limit and the cursor.
    The order of the words does not count (they must all match, whatever their order)."""
    moments = (flt.since, flt.until)
    times = sorted(flt.time_words) or [
        moment.isoformat() if moment is not None else "" for moment in moments
    ]
    search = [
        sorted(flt.statuses),
        flt.workflow,
        flt.reference,
        flt.run_id,
        sorted(flt.words),
        times,
    ]
    digest = hashlib.blake2b(orjson.dumps(search), digest_size=12).digest()
    return base64.urlsafe_b64encode(digest).decode()


def encode_cursor(cursor: Cursor) -> str:
    moments = (cursor.started_at, cursor.since, cursor.until)
    started_at, since, until = (None if m is None else m.isoformat() for m in moments)
    body = orjson.dumps(
        {
            "t": started_at,
            "i": cursor.run_id,
            "n": cursor.total,
            "q": cursor.search,
            "s": since,
            "u": until,
        }
    )
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """Raises InvalidCursor for anything encode_cursor did not make."""
    try:
        body = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        since, until = (None if body[k] is None else datetime.fromisoformat(body[k]) for k in "su")
        cursor = Cursor(
            started_at=datetime.fromisoformat(body["t"]),
            run_id=str(body["i"]),
            total=int(body["n"]),
            search=str(body["q"]),
            since=since,
            until=until,
        )
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidCursor("is not one this server gave out") from None
    moments = (cursor.started_at, cursor.since, cursor.until)
    if any(moment is not None and moment.tzinfo is None for moment in moments):
        raise InvalidCursor("is not one this server gave out")
    return cursor


def _arms(flt: RunFilter, workflow_ids: Sequence[str] | None) -> list[list[ColumnElement[bool]]]:
    """One list of equality conditions per index range to scan."""
    statuses: list[RunStatus | None] = [*sorted(flt.statuses)] if flt.statuses else [None]
    workflows: list[str | None] = list(workflow_ids) if workflow_ids is not None else [None]
    if len(statuses) * len(workflows) > MAX_UNION_ARMS:
        merged: list[ColumnElement[bool]] = []
        if flt.statuses:
            merged.append(Run.status.in_(sorted(flt.statuses)))
        if workflow_ids is not None:
            merged.append(Run.workflow_id.in_(workflow_ids))
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
) -> Select[*tuple[Any, ...]]:
    """The page with each run's workflow and note count, in one statement; with `total`, each
    row also carries that count (a constant subquery: evaluated once).

    The workflow is a LEFT JOIN so that the runs stay the outer loop, in the page order's index.
    """
    extra = [total.label("total")] if total is not None else []
    order = (Run.started_at.desc(), Run.id.desc())
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
        .order_by(union.c.started_at.desc(), union.c.id.desc())
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
    counts = [
        select(func.count().label("n")).select_from(Run).where(*arm, *conditions) for arm in arms
    ]
    if len(counts) == 1:
        return counts[0]
    union = union_all(*counts).subquery()
    return select(func.coalesce(func.sum(union.c.n), 0))


def _summary(row: Any, workflow: WorkflowRecord, note_count: int) -> RunSummary:
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

    The total is counted for the first page and carried in the cursor after it, with the
    first page's time window (see Cursor). Raises InvalidCursor for a cursor of another search.
    """
    after: Cursor | None = None
    if flt.cursor is not None:
        after = decode_cursor(flt.cursor)
        if after.search != search_fingerprint(flt):
            raise InvalidCursor("is from another search (other statuses, workflow, text or times)")
        flt = replace(flt, since=after.since, until=after.until)
    workflows: dict[str, WorkflowRecord] = {}
    workflow_ids: list[str] | None = None
    if flt.workflow is not None:
        workflows = await all_workflows(session)
        workflow_ids = [
            workflow.id for workflow in match_workflows(flt.workflow, workflows.values())
        ]
        if not workflow_ids:
            return RunPage(runs=(), total=0, next_cursor=None)
    dialect = session.get_bind().dialect.name
    search = await _search(session, flt) if dialect == "sqlite" else None
    if search is not None and search.nothing:
        return RunPage(runs=(), total=0, next_cursor=None)
    searched: int | None = None
    walk: Walk = "matches"
    matches: CTE | Sequence[int] | None = None
    only_searched = search is not None and _only_searched(flt, search, workflow_ids)
    if search is not None and search.query is not None and only_searched:
        # A search alone takes its total from the index.
        found = await _search_matches(session, search.query)
        searched, matches = found.total, found.seqs
        if matches is None:
            walk = "rows" if (flt.limit + 1) * found.runs <= WALK_ROWS_UP_TO * searched else "index"
    elif search is not None and search.query is not None:
        # Only to tell no matches, few, and many apart: the page statement counts exactly.
        searched = await _search_count(session, search.query)
        if searched >= WALK_INDEX_FROM:
            walk = "index"
    if searched == 0:
        return RunPage(runs=(), total=0, next_cursor=None)
    arms = _arms(flt, workflow_ids)
    if search is not None and search.query is not None and walk != "rows" and matches is None:
        # Evaluated once for the statement, though the page and its total both read it.
        matches = (
            select(runs_search.c.rowid.label("seq"))
            .where(_search_match(search.query))
            .cte("matches")
            .prefix_with("MATERIALIZED")
        )
    conditions = _base_conditions(flt, dialect, search, walk=walk, matches=matches)
    if after is not None:
        total = after.total
        keyset = tuple_(Run.started_at, Run.id) < tuple_(
            literal(after.started_at, Run.started_at.type), literal(after.run_id)
        )
        rows = (
            await session.execute(_page_select(arms, [*conditions, keyset], flt.limit + 1))
        ).all()
    else:
        # The total rides along as a column, unless the search's own count already is it.
        counted = searched is not None and only_searched
        total_column = None if counted else _count_select(arms, conditions).scalar_subquery()
        page_select = _page_select(arms, conditions, flt.limit + 1, total_column)
        rows = (await session.execute(page_select)).all()
        if len(rows) <= flt.limit:
            total = len(rows)
        elif searched is not None and counted:
            total = searched
        else:
            total = int(rows[0].total)
    page, more = rows[: flt.limit], len(rows) > flt.limit
    runs = tuple(_summary(row, _workflow_of(row, workflows), row.note_count) for row in page)
    next_cursor = None
    if more:
        next_cursor = encode_cursor(
            Cursor(
                page[-1].started_at,
                page[-1].id,
                total,
                search_fingerprint(flt),
                flt.since,
                flt.until,
            )
        )
    return RunPage(runs=runs, total=total, next_cursor=next_cursor)


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
    """Everything about one run, or None when no run has that ID."""
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
    retried_as = tuple(
        await session.scalars(
            select(Run.id).where(Run.retry_of == run_id).order_by(Run.created_at, Run.id)
        )
    )
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
        summary=_summary(row, workflow, len(notes)),
        payload=row.payload,
        steps=steps,
        notes=notes,
        retried_as=retried_as,
    )
