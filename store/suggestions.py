"""Nearer queries for a search that matched nothing: corrected ones, then wider ones.

The asker's own line is the material: its words are kept as typed (quotes and all) so that a
suggestion is a command they can copy. A word that names no workflow is swapped for the
closest workflow, and a text word one or two edits from a status or day word (`faild`) for
that word. Then words are dropped, one at a time (on lines of up to SINGLE_DROPS_UP_TO words)
and then a kind at a time, in this order: time words (they narrow most often, and by
accident), statuses, text, the run ID, the workflow. Each candidate is read again by
parse_filter in the asker's zone at the same "now", and asked for one run; the first that
finds one is the suggestion. At most MAX_TRIES are asked, the last of them always the bare
`/runs` (every run).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from enum import IntEnum
from itertools import chain

from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import FilterSyntaxError
from store.filters import RunFilter, edit_distance, key_word, parse_filter
from store.queries import all_workflows, any_run_matches, match_workflows
from store.records import WorkflowRecord
from store.times import DAYS_AGO
from store.types import RunStatus
from store.words import read_word, tokenize

__all__ = [
    "MAX_TRIES",
    "Suggestion",
    "closest_workflows",
    "corrected_status_word",
    "suggest_query",
    "word_spans",
]

# Queries asked for one run each, the bare `/runs` included: a failure answers quickly. As
# many lines are read at most, the same line or filter again included.
MAX_TRIES = 12
# Past this many words, one word less rarely finds runs, and each query with hundreds of words
# costs a good part of a second: such lines lose a kind of words at a time.
SINGLE_DROPS_UP_TO = 10
# Workflows offered for a name that matches none.
CLOSEST_WORKFLOWS = 3
# Names are compared on this many characters: edit distance costs their product.
_COMPARED = 48
# Workflows whose edit distance is measured, of those sharing the most letter pairs.
SHORTLISTED = 10
# Words a text word may be a typo of: what the grammar reads as a status or a day when bare.
_BARE_WORDS = (*(status.value for status in RunStatus), *DAYS_AGO)
_ARROW = re.compile(r"\s*(?:→|->|=>|>)\s*")


@dataclass(frozen=True)
class Suggestion:
    """What may help someone whose query matched nothing.

    `unknown_workflow` is the workflow they named when it names none (with `closest_workflows`,
    nearest first); `meant` pairs a text word with the status or day word it is close to;
    `query` is the nearest query that matches runs, as its words typed after `/runs` ("" for
    every run), or None when no run is stored at all; `tried` counts the queries asked.
    """

    unknown_workflow: str | None
    closest_workflows: tuple[WorkflowRecord, ...]
    meant: tuple[tuple[str, str], ...]
    query: str | None
    tried: int


class _Kind(IntEnum):
    """What a word filters on, in the order words are dropped."""

    TIME = 0
    STATUS = 1
    TEXT = 2
    RUN_ID = 3
    WORKFLOW = 4


def word_spans(text: str) -> list[tuple[int, int]]:
    """Where each word of tokenize(text) starts and ends in `text`, so error positions can
    point at what was typed. A quote never closed takes the rest of the line as its word."""
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        try:
            _, end = read_word(text, index, position=len(spans))
        except FilterSyntaxError:
            end = len(text.rstrip())
        spans.append((index, end))
        index = end
    return spans


def _folded(text: str) -> str:
    return " ".join(_ARROW.sub(" → ", text).casefold().split())[:_COMPARED]


def _near(wanted: str) -> int:
    """How many edits still make a name close to `wanted`: a third of it, and at least two."""
    return max(2, len(wanted) // 3)


def _pairs(text: str) -> set[str]:
    return {text[index : index + 2] for index in range(len(text) - 1)} or {text}


def closest_workflows(
    typed: str, workflows: Iterable[WorkflowRecord], count: int = CLOSEST_WORKFLOWS
) -> tuple[WorkflowRecord, ...]:
    """Up to `count` workflows nearest to `typed`: those whose id, name or `Source →
    Destination` contains it first, then by edit distance to the nearest of the three (or to
    its start). Only the close ones when there are some.

    Edit distance costs about a millisecond a name in Python, so it only orders the
    SHORTLISTED workflows sharing the most letter pairs with `typed`.
    """
    wanted = _folded(typed)
    wanted_pairs = _pairs(wanted)
    named = [
        (workflow, [_folded(name) for name in (workflow.id, workflow.name, workflow.route) if name])
        for workflow in workflows
    ]

    def shared(entry: tuple[WorkflowRecord, list[str]]) -> tuple[bool, float]:
        names = entry[1]
        overlap = max(
            len(wanted_pairs & pairs) / len(wanted_pairs | pairs) for pairs in map(_pairs, names)
        )
        return any(wanted in name for name in names), overlap

    def distance(entry: tuple[WorkflowRecord, list[str]]) -> tuple[bool, int, str]:
        # People type the start of a name: `hubspott` is one edit from `hubspot-salesforce`'s.
        workflow, names = entry
        contained = any(wanted in name for name in names)
        edits = min(
            min(edit_distance(wanted, name), edit_distance(wanted, name[: len(wanted)]))
            for name in names
        )
        return not contained, edits, workflow.id  # apart (not contained), edits, tie-break

    ranked = [
        (distance(entry), entry[0]) for entry in heapq.nlargest(SHORTLISTED, named, key=shared)
    ]
    nearest = sorted(ranked, key=lambda item: item[0])[:count]
    # Names far off are noise beside a near one, but better than nothing beside none.
    near = [
        workflow for (apart, edits, _), workflow in nearest if not apart or edits <= _near(wanted)
    ]
    return tuple(near or [workflow for _, workflow in nearest])


def _close_to(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` is a typo of: one edit away, or two for words of six letters or more."""
    folded = word.casefold()
    allowed = 2 if len(folded) >= 6 else 1
    if len(folded) < 3 or len(folded) > 8 + allowed:
        return None
    distance, closest = min((edit_distance(folded, choice), choice) for choice in choices)
    return closest if 0 < distance <= allowed else None


def corrected_status_word(word: str) -> str | None:
    """`status:faild,skiped` as `status:failed,skipped` when each unknown name is a typo of a
    status; None when some name is close to none, when all are statuses already, or when
    `word` is no `status:` word."""
    key, colon, value = word.partition(":")
    if not colon or key.lower() != "status":
        return None
    statuses = [status.value for status in RunStatus]
    names = []
    for name in (part.strip().lower() for part in value.split(",")):
        close = name if name in statuses else _close_to(name, statuses)
        if close is None:
            return None
        names.append(close)
    corrected = f"{key}:{','.join(names)}"
    return corrected if corrected != word else None


def _kind(typed_word: str, *, tz: tzinfo, now: datetime) -> _Kind:
    """What one word, as typed (quotes and all), filters on; text if it cannot be read alone
    (a word read within its line is read alone too: this only keeps a suggestion from failing)."""
    try:
        alone = parse_filter(typed_word, tz=tz, now=now)
    except FilterSyntaxError:
        return _Kind.TEXT
    if alone.since is not None or alone.until is not None:
        return _Kind.TIME
    if alone.statuses:
        return _Kind.STATUS
    if alone.run_id is not None:
        return _Kind.RUN_ID
    if alone.workflow is not None:
        return _Kind.WORKFLOW
    return _Kind.TEXT


def _wider(typed: list[str], kinds: list[_Kind]) -> Iterator[list[str]]:
    """`typed` less one word, for each word in the order of its kind (on a line of at most
    SINGLE_DROPS_UP_TO words); then less every word of a kind and of the kinds before it; then
    nothing at all."""
    if len(typed) <= SINGLE_DROPS_UP_TO:
        for dropped in sorted(range(len(typed)), key=lambda index: kinds[index]):
            yield typed[:dropped] + typed[dropped + 1 :]
    for kind in sorted(set(kinds)):
        yield [word for word, its_kind in zip(typed, kinds, strict=True) if its_kind > kind]
    yield []


def _corrected(
    typed: list[str], kinds: list[_Kind], meant: dict[int, str], workflow_id: str | None
) -> list[str]:
    """`typed` with each typo swapped for the word meant, and the workflow word for
    `wf:workflow_id` (dropped when None)."""
    words = []
    for index, (word, kind) in enumerate(zip(typed, kinds, strict=True)):
        if kind is _Kind.WORKFLOW:
            if workflow_id is not None:
                words.append(key_word("wf", workflow_id))
        else:
            words.append(meant.get(index, word))
    return words


async def suggest_query(
    session: AsyncSession, text: str, flt: RunFilter, *, tz: tzinfo, now: datetime
) -> Suggestion:
    """Why `text` (which parse_filter read as `flt`, in `tz` at `now`) may have matched
    nothing, and the nearest query that matches runs: at most MAX_TRIES pages of one run."""
    typed = [text[start:end] for start, end in word_spans(text)]
    kinds = [_kind(word, tz=tz, now=now) for word in typed]
    # A quoted word or a `ref:` value is text on purpose: only bare words can be typos.
    meant = {
        index: close
        for index, (word, kind) in enumerate(zip(tokenize(text), kinds, strict=True))
        if kind is _Kind.TEXT
        and not word.quoted
        and ":" not in word
        and (close := _close_to(word, _BARE_WORDS)) is not None
    }
    corrections = [[meant.get(index, word) for index, word in enumerate(typed)]]
    unknown: str | None = None
    closest: tuple[WorkflowRecord, ...] = ()
    if flt.workflow is not None:
        workflows = (await all_workflows(session)).values()
        if not match_workflows(flt.workflow, workflows):
            # As typed it can match nothing: each correction names one of the closest instead.
            unknown, closest = flt.workflow, closest_workflows(flt.workflow, workflows)
            workflow_ids: list[str | None] = [workflow.id for workflow in closest]
            corrections = [
                _corrected(typed, kinds, meant, workflow_id)
                for workflow_id in workflow_ids or [None]
            ]
    base = corrections[0]
    base_kinds = [_kind(word, tz=tz, now=now) for word in base]
    tried = {replace(flt, limit=1, cursor=None)}
    read, looked = {text}, 0
    candidates: list[tuple[str, RunFilter]] = []
    for words in chain(corrections, _wider(base, base_kinds)):
        if words and MAX_TRIES - 1 in (len(candidates), looked):
            words = []  # the bare `/runs` is always asked last
        looked += 1
        query = " ".join(words)
        if query not in read:
            # Each reading of a 3,000-character line costs milliseconds: once per line.
            read.add(query)
            try:
                candidate = parse_filter(query, tz=tz, now=now, limit=1)
            except FilterSyntaxError:
                continue
            if candidate not in tried:
                tried.add(candidate)
                candidates.append((query, candidate))
        if not words:
            break
    found, asked = None, 0
    for query, candidate in candidates:
        asked += 1
        if await any_run_matches(session, candidate):
            found = query
            break
    return Suggestion(
        unknown_workflow=unknown,
        closest_workflows=closest,
        meant=tuple((typed[index], close) for index, close in meant.items()),
        query=found,
        tried=asked,
    )
