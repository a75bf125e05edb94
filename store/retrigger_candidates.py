"""Which of a group alert's runs are still worth retriggering: failed, with no retrigger in
flight and none whose new run finished (the runs a person still has to recover)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store import queries
from store.models import Retrigger, Run
from store.records import RunSummary
from store.types import RetriggerState, RunStatus

_IN_FLIGHT = (RetriggerState.PENDING.value, RetriggerState.ACCEPTED.value)


@dataclass(frozen=True)
class UnrecoveredRuns:
    """The first `limit` unrecovered runs, in the order asked, and how many there are."""

    runs: tuple[RunSummary, ...]
    total: int


async def unrecovered_runs(
    session: AsyncSession, run_ids: Sequence[str], *, limit: int
) -> UnrecoveredRuns:
    new_run = aliased(Run)
    recovered = exists().where(
        Retrigger.run_id == Run.id,
        or_(
            Retrigger.state.in_(_IN_FLIGHT),
            exists().where(
                and_(new_run.id == Retrigger.new_run_id, new_run.status == RunStatus.FINISHED)
            ),
        ),
    )
    found = set(
        (
            await session.scalars(
                select(Run.id).where(
                    Run.id.in_(run_ids), Run.status == RunStatus.FAILED, ~recovered
                )
            )
        ).all()
    )
    wanted = [run_id for run_id in run_ids if run_id in found]
    runs = []
    for run_id in wanted[:limit]:
        detail = await queries.run_detail(session, run_id)
        if detail is not None:
            runs.append(detail.summary)
    return UnrecoveredRuns(runs=tuple(runs), total=len(wanted))
