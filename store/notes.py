"""Notes on runs: from the API and the Add note modal (mirrored into every alert thread that
names the run, in the same transaction), and from replies in alert threads (one note per run
the reply is about, edited and deleted with the reply, never mirrored: they are in the thread
already). Free functions taking an AsyncSession first, inside the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import RunNotFound
from store.models import Note, Run, Workflow
from store.records import NoteRecord, NoteTarget, note_record, workflow_record
from store.thread_lines import queue_thread_lines
from store.types import NoteSource, ThreadLineKind
from store.upsert import upsert

# Notes people write where the thread does not show them get a line in it.
MIRRORED_SOURCES = frozenset({NoteSource.API, NoteSource.SLACK_MODAL})


async def add_note(
    session: AsyncSession, run_id: str, *, author: str, text: str, source: str, now: datetime
) -> tuple[NoteRecord, int]:
    """The note as stored on the run, and how many thread lines mirror it (an API or modal
    note gets one in the thread of each alert naming the run); raises RunNotFound."""
    if await session.scalar(select(Run.seq).where(Run.id == run_id)) is None:
        raise RunNotFound(run_id)
    note = await write_note(session, run_id, author=author, text=text, source=source, now=now)
    lines = 0
    if source in MIRRORED_SOURCES:
        lines = await queue_thread_lines(
            session, run_id, ThreadLineKind.NOTE, now=now, note_id=note.id
        )
    return note_record(note), lines


async def write_note(
    session: AsyncSession, run_id: str, *, author: str, text: str, source: str, now: datetime
) -> Note:
    """The note row, written (for a run the caller knows is there), with its id."""
    note = Note(
        run_id=run_id, author=author, text=text, source=source, created_at=now, updated_at=now
    )
    session.add(note)
    await session.flush()
    return note


def runs_named(text: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """The candidates whose run ID appears in `text` as a word of its own (in backticks, a
    list or a sentence: `run_a.` at a sentence's end names run_a), in candidates' order."""
    return tuple(run_id for run_id in candidates if _naming(run_id).search(text))


def _naming(run_id: str) -> re.Pattern[str]:
    # Run IDs may hold "." and ":", which also end sentences: a following one counts as
    # the ID's end unless an ID character comes right after it.
    return re.compile(
        rf"(?<![A-Za-z0-9_.:\-]){re.escape(run_id)}(?![A-Za-z0-9_\-]|[.:][A-Za-z0-9_\-])"
    )


async def add_thread_notes(
    session: AsyncSession,
    *,
    channel_id: str,
    message_ts: str,
    run_ids: Sequence[str],
    author: str,
    text: str,
    now: datetime,
) -> int:
    """A reply in an alert's thread, as a note on each of `run_ids`; how many are new. Slack's
    redelivery of the reply adds none (unique on channel, ts and run)."""
    added = 0
    for run_id in run_ids:  # a handful of runs: one statement each keeps RETURNING simple
        statement = (
            upsert(session, Note)
            .values(
                run_id=run_id,
                author=author,
                text=text,
                source=NoteSource.SLACK_THREAD,
                slack_channel_id=channel_id,
                slack_message_ts=message_ts,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=["slack_channel_id", "slack_message_ts", "run_id"],
                index_where=Note.slack_message_ts.is_not(None),
            )
            .returning(Note.id)
        )
        added += (await session.execute(statement)).first() is not None
    return added


async def edit_thread_notes(
    session: AsyncSession,
    *,
    channel_id: str,
    message_ts: str,
    run_ids: Sequence[str],
    author: str,
    text: str,
    now: datetime,
) -> None:
    """The reply was edited: its notes read `text`, and are on `run_ids` now (a group thread's
    reply may name other runs after an edit: notes of runs it no longer names go)."""
    at_reply = (Note.slack_channel_id == channel_id, Note.slack_message_ts == message_ts)
    await session.execute(delete(Note).where(*at_reply, Note.run_id.not_in(list(run_ids))))
    await session.execute(
        update(Note)
        .where(*at_reply, Note.text != text)
        .values(text=text, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await add_thread_notes(
        session,
        channel_id=channel_id,
        message_ts=message_ts,
        run_ids=run_ids,
        author=author,
        text=text,
        now=now,
    )


async def delete_thread_notes(session: AsyncSession, *, channel_id: str, message_ts: str) -> int:
    """The reply was deleted: so are its notes; how many."""
    result = await session.execute(
        delete(Note).where(Note.slack_channel_id == channel_id, Note.slack_message_ts == message_ts)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def thread_notes(
    session: AsyncSession, *, channel_id: str, message_ts: str
) -> list[NoteRecord]:
    """The notes a thread reply made, by run."""
    rows = await session.scalars(
        select(Note)
        .where(Note.slack_channel_id == channel_id, Note.slack_message_ts == message_ts)
        .order_by(Note.run_id)
    )
    return [note_record(row) for row in rows]


async def note_targets(
    session: AsyncSession, run_ids: Sequence[str], *, limit: int
) -> list[NoteTarget]:
    """Those of `run_ids` that exist, newest first, at most `limit`."""
    rows = (
        await session.execute(
            select(Run.id, Run.reference, Run.started_at, Workflow)
            .join(Workflow, Workflow.id == Run.workflow_id)
            .where(Run.id.in_(list(run_ids)))
            .order_by(Run.started_at.desc(), Run.id.desc())
            .limit(limit)
        )
    ).all()
    return [
        NoteTarget(
            id=row.id,
            reference=row.reference,
            workflow=workflow_record(row.Workflow),
            started_at=row.started_at,
        )
        for row in rows
    ]
