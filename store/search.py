"""Planning a text search: which runs a filter's words and `ref:` can match, and how to find them.

On PostgreSQL each word is an `ILIKE '%…%'` on the reference or the run ID, answered from the
pg_trgm GIN indexes. On SQLite the words go through `runs_search`, a contentless FTS5 trigram
index over the reference and the run ID (migration 0003):

- A word of three characters or more is a phrase. A word of one or two characters is the OR of
  the indexed trigrams that start with it (each indexed value ends with SEARCH_END, so every
  occurrence of a short word starts one); no such trigram means nothing can match, at once.
  A short word starting more than MAX_SHORT_TERMS trigrams is checked on every run with a
  per-letter case GLOB: SQLite's LIKE ignores the case of ASCII only.
- A search of failed runs only goes through `runs_search_failed` (migration 0005), the same
  index over the failed runs alone, so `/runs failed TEXT` is a search alone too.
- A search alone takes its total from the index in one statement (`search_matches`) that reads
  the first TOTAL_CAP + 1 matches only: more are "1,000+". Few matches are then looked up by
  their `seq`s; many are cheaper to check while walking the page order's index than to look up
  one by one and sort, either against the matches (`index`) or, when the page should be found
  within WALK_ROWS_UP_TO runs (told by the runs the first matches span, and the newest match),
  on each run's own reference and ID (`rows`), reading no match list at all.
- With other filters the first WALK_INDEX_FROM matches are read the same way: fewer are looked
  up by their `seq`s, with the other filters checked on each run found (SearchPlan.by_seq);
  more are walked against, and the page statement counts up to TOTAL_CAP + 1 over one
  MATERIALIZED CTE of the matches so that the phrase is evaluated once.

The figures behind these thresholds are in bench/README.md, "Why the text search plans as it
does".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    TableClause,
    bindparam,
    case,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession

from store.filters import RunFilter
from store.models import Run
from store.records import TOTAL_CAP
from store.types import RunStatus

__all__ = [
    "SearchPlan",
    "Walk",
    "bound_search",
    "bound_text_conditions",
    "plan_search",
    "text_conditions",
]

# FTS5's trigram index holds terms of three characters; shorter words are answered from
# the terms that start with them (migration 0003 ends each indexed value with two U+0001).
MIN_TRIGRAM = 3
SEARCH_END = "\x01\x01"
# A short word starting more trigrams than this (one letter: over a thousand) is checked
# on every run (a GLOB).
MAX_SHORT_TERMS = 64
# A search matching this many runs or more is cheaper to check while walking the page
# order's index than to look up match by match and sort.
WALK_INDEX_FROM = 1000
# A search alone whose page should be found within this many runs of the page order is
# checked on each run's own reference and ID (GLOB), without reading the match list again.
WALK_ROWS_UP_TO = 2000

Walk = Literal["matches", "index", "rows"]

runs_search = table("runs_search", column("rowid"), column("reference"), column("id"))
# The same over failed runs only (migration 0005): `/runs failed TEXT` reads no other runs.
runs_search_failed = table("runs_search_failed", column("rowid"), column("reference"), column("id"))
runs_search_terms = table("runs_search_terms", column("term"))


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


# Built once: the terms from :low up to (not including) :high, at most :most of them.
_SHORT_TERMS = (
    select(runs_search_terms.c.term)
    .where(
        runs_search_terms.c.term >= bindparam("low"),
        runs_search_terms.c.term < bindparam("high"),
    )
    .limit(bindparam("most"))
)


async def _short_terms(session: AsyncSession, text: str) -> list[str] | None:
    """The indexed trigrams that start with a word of one or two characters.

    Every indexed value ends with SEARCH_END, so each occurrence of the word starts one.
    None when they are too many (or the word does not fold to as many characters).
    """
    folded = text.lower()
    if len(folded) != len(text):
        return None
    connection = await session.connection()
    found = await connection.execute(
        _SHORT_TERMS, {"low": folded, "high": folded + "\U0010ffff", "most": MAX_SHORT_TERMS + 1}
    )
    terms = list(found.scalars())
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


def _index_for(flt: RunFilter) -> TableClause:
    """The failed runs' own index for a search of failed runs only, else every run's."""
    return runs_search_failed if flt.statuses == {RunStatus.FAILED} else runs_search


def _only_searched(
    flt: RunFilter, search: _Search, workflow_ids: Sequence[str] | None, index: TableClause
) -> bool:
    """True when the trigram index alone decides which runs match."""
    statuses = () if index is runs_search_failed else flt.statuses
    others = (statuses, workflow_ids, flt.run_id, flt.since, flt.until)
    return (
        search.query is not None
        and not search.scan_words
        and search.scan_reference is None
        and all(not other for other in others)
    )


def text_conditions(flt: RunFilter, plan: SearchPlan) -> list[ColumnElement[bool]]:
    """Reference and run-ID text; case-insensitive, every word must match.

    On SQLite, the plan's `walk` says how: "matches" looks up every match of the trigram index
    in the table; "index" walks the page order's index and checks each run against the matches;
    "rows" walks it and checks each run's own reference and ID, reading no match list at all.
    """
    if plan.dialect != "sqlite":
        # PostgreSQL answers ILIKE '%…%' from the pg_trgm GIN indexes.
        return _each_contained(flt.words, flt.reference, _contains)
    search, matches = plan.search, plan.matches
    if search is None:
        return []
    if plan.walk == "rows":
        return _each_contained(flt.words, flt.reference, _glob)
    conditions: list[ColumnElement[bool]] = []
    if search.query is not None:
        assert matches is not None, "plan_search reads the matches, or materializes them, first"
        matching = select(matches.c.seq) if isinstance(matches, CTE) else matches
        # `seq + 0` is not the rowid, so the planner cannot drive the query from the matches.
        seq = Run.seq + literal_column("0") if plan.walk == "index" else Run.seq
        conditions.append(seq.in_(matching))
    # Words the index cannot answer: a GLOB with each letter in either case (SQLite's LIKE
    # ignores the case of ASCII only).
    return conditions + _each_contained(search.scan_words, search.scan_reference, _glob)


def bound_search(flt: RunFilter, plan: SearchPlan) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """For a search alone on SQLite: the form of its text conditions (a key: the same form is
    the same statement) and the values of their bound parameters; None for any other search.

    The page statement of each form is built once (bound_text_conditions): building it and its
    cache key anew each call cost more than SQLite takes to run it."""
    if plan.dialect != "sqlite" or not plan.only_searched or plan.search is None:
        return None
    if plan.walk == "rows":
        params = {f"word_{i}": _glob_contains(word) for i, word in enumerate(flt.words)}
        if flt.reference:
            params["reference"] = _glob_contains(flt.reference)
        return ("rows", len(flt.words), bool(flt.reference)), params
    if isinstance(plan.matches, list):
        return ("seqs",), {"seqs": plan.matches}
    return ("index", _index_for(flt).name), {"query": plan.search.query}


def bound_text_conditions(form: tuple[Any, ...]) -> list[ColumnElement[bool]]:
    """text_conditions of a search alone of this form (bound_search), its values bound."""
    if form[0] == "rows":
        _, words, reference = form
        conditions: list[ColumnElement[bool]] = []
        for i in range(words):
            word: Any = bindparam(f"word_{i}")
            conditions.append(or_(_glob_bound(Run.reference, word), _glob_bound(Run.id, word)))
        if reference:
            conditions.append(_glob_bound(Run.reference, bindparam("reference")))
        return conditions
    if form[0] == "seqs":
        return [Run.seq.in_(bindparam("seqs", expanding=True))]
    index = runs_search_failed if form[1] == runs_search_failed.name else runs_search
    matches = (
        select(index.c.rowid.label("seq"))
        .where(column(index.name).match(bindparam("query")))
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    return [(Run.seq + literal_column("0")).in_(select(matches.c.seq))]


def _glob_bound(column: Any, pattern: Any) -> ColumnElement[bool]:
    return column.op("GLOB", is_comparison=True)(pattern)  # type: ignore[no-any-return]


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


def _search_match(index: TableClause, query: str) -> ColumnElement[bool]:
    """`runs_search MATCH :query`: FTS5 matches against the table's own name."""
    return column(index.name).match(query)


@dataclass(frozen=True)
class _Matches:
    total: int  # how many runs the trigram index matches, up to TOTAL_CAP
    exact: bool  # False when more than TOTAL_CAP match (and `total` is TOTAL_CAP)
    seqs: list[int] | None  # their `seq`s, when fewer than WALK_INDEX_FROM
    # When they are more: the runs (by `seq`) the first matches read are spread over, and the
    # runs stored after the newest match. Together they tell how far down the page order the
    # page's matches lie (runs are stored about in the order they start).
    span: int = 0
    gap: int = 0

    def within(self, limit: int, rows: int) -> bool:
        """Whether a page of `limit` matches should lie within the newest `rows` runs."""
        return self.gap * self.total + (limit + 1) * self.span <= rows * self.total


def _search_matches_select(index: TableClause) -> Select[Any]:
    """The statement of `_search_matches` for `index`; its FTS5 query and WALK_INDEX_FROM are
    bound parameters (`query`, `walk_index_from`).

    Built once per index: building it and its cache key took about as long as SQLite takes to
    run it (issue 10's text searches)."""
    matching = select(index.c.rowid).where(column(index.name).match(bindparam("query")))
    first = matching.limit(TOTAL_CAP + 1).subquery()
    newest = matching.order_by(index.c.rowid.desc()).limit(1).scalar_subquery()
    read = func.count()
    return select(
        read,
        func.max(first.c.rowid) - func.min(first.c.rowid) + 1,
        case((read < bindparam("walk_index_from"), func.json_group_array(first.c.rowid))),
        case(
            (
                read >= bindparam("walk_index_from"),
                select(func.max(Run.seq)).scalar_subquery() - newest,
            )
        ),
    ).select_from(first)


_SEARCH_MATCHES = {
    index.name: _search_matches_select(index) for index in (runs_search, runs_search_failed)
}


async def _search_matches(session: AsyncSession, index: TableClause, query: str) -> _Matches:
    """Everything a search needs of the index, in one statement that reads only the first
    TOTAL_CAP + 1 matches: FTS5 reads its doclists lazily, so a dense search costs no more
    than a rare one, and more matches are "1,000+".

    Few matches are all read (the page needs no second evaluation of the query). Of many, the
    newest is read too (a subquery in a CASE is evaluated only when its branch is taken): it
    and the `seq`s the first ones span tell how dense they are among the newest runs. FTS5
    reads backwards at two to three times the cost, so only that one match is read so.
    """
    statement = _SEARCH_MATCHES[index.name]
    connection = await session.connection()
    read_count, span, seqs, gap = (
        await connection.execute(statement, {"query": query, "walk_index_from": WALK_INDEX_FROM})
    ).one()
    return _Matches(
        total=min(read_count, TOTAL_CAP),
        exact=read_count <= TOTAL_CAP,
        seqs=None if seqs is None else orjson.loads(seqs),
        span=int(span or 0),
        gap=int(gap or 0),
    )


@dataclass(frozen=True)
class SearchPlan:
    """How list_runs finds the runs that the filter's text matches (see the module docstring)."""

    dialect: str
    search: _Search | None = None  # None on PostgreSQL
    searched: int | None = None  # how many runs the index matches, when it was asked
    searched_exact: bool = True  # False when `searched` stopped counting at TOTAL_CAP
    walk: Walk = "matches"
    # The matches: materialized once for the whole statement, or already read (their `seq`s).
    matches: CTE | Sequence[int] | None = None
    only_searched: bool = False  # the index alone decides, and `searched` is the total

    @property
    def by_seq(self) -> bool:
        """The few matches are looked up by their `seq`s: the other filters' indexes must not
        drive the statement (walking a week of failed runs to find 77 of them costs 30 times
        more than looking up the 252 runs whose text matches)."""
        return self.walk == "matches" and isinstance(self.matches, list)


async def plan_search(
    session: AsyncSession, flt: RunFilter, workflow_ids: Sequence[str] | None
) -> SearchPlan | None:
    """The plan for `flt`'s text, or None when the index already tells that no run matches."""
    dialect = session.get_bind().dialect.name
    if dialect != "sqlite":
        return SearchPlan(dialect)
    search = await _search(session, flt)
    if search.nothing:
        return None
    searched: int | None = None
    searched_exact = True
    walk: Walk = "matches"
    matches: CTE | Sequence[int] | None = None
    index = _index_for(flt)
    only_searched = _only_searched(flt, search, workflow_ids, index)
    if search.query is not None and only_searched:
        # A search alone takes its total from the index.
        found = await _search_matches(session, index, search.query)
        searched, searched_exact, matches = found.total, found.exact, found.seqs
        if matches is None:
            # Checking each run's own text while walking the page order, when the page should
            # be found within WALK_ROWS_UP_TO runs; else walking it against every match.
            walk = "rows" if found.within(flt.limit, WALK_ROWS_UP_TO) else "index"
    elif search.query is not None:
        # Few matches are read, to be looked up with the other filters checked on each; many
        # are walked. The page statement counts (up to TOTAL_CAP + 1).
        found = await _search_matches(session, index, search.query)
        searched, matches = found.total, found.seqs
        if matches is None:
            walk = "index"
    if searched == 0:
        return None
    if search.query is not None and walk != "rows" and matches is None:
        # Evaluated once for the statement, though the page and its total both read it.
        matches = (
            select(index.c.rowid.label("seq"))
            .where(_search_match(index, search.query))
            .cte("matches")
            .prefix_with("MATERIALIZED")
        )
    return SearchPlan(dialect, search, searched, searched_exact, walk, matches, only_searched)
