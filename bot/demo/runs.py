"""Demo runs for `runsbot demo-data` and the benchmarks, made and written in chunks.

Runs of the ten workflows with uneven traffic, spread over the last `days` (denser on
weekdays and in working hours), mostly finished, some skipped, failures of the four common
causes with the step that failed, outages and expired tokens in bursts as they happen,
retriggers of failed runs, the same records coming again, and a few runs still in flight
in the last hour. Everything comes from `random.Random(seed)`: the same arguments make the
same runs.

Rows are made as plain dicts and inserted in chunks with `RunStore.load_rows`, so a
million runs take a minute or two rather than an hour of reports.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bot.demo.clock import HOUR_MS, Clock, milliseconds, when
from bot.demo.failures import OUTAGE_WAIT, Failure, Incident, base_failure, incidents
from bot.demo.names import Names
from bot.demo.triggers import Trigger
from bot.demo.workflows import WORKFLOWS, DemoWorkflow, StepKind
from store.ids import run_id_at
from store.run_store import RunStore
from store.types import RunStatus

CHUNK_ROWS: Final = 20_000
MAX_REFERENCE: Final = 255

SKIP_RATE: Final = 0.07
# Share of failed runs that someone retriggers from Slack, and how long after.
RETRIGGER_RATE: Final = 0.15
# How often the engine runs the same record again (a deal updated twice, a re-sent order).
REUSE_RATE: Final = 0.08

# Hour-of-day traffic in UTC (Europe's working day, then the Americas'), weekends lighter.
_HOUR_SHAPE: Final = (
    0.18, 0.15, 0.14, 0.14, 0.16, 0.22, 0.35, 0.6, 0.95, 1.0, 1.0, 1.0,
    0.9, 1.15, 1.25, 1.25, 1.2, 1.0, 0.8, 0.65, 0.5, 0.4, 0.3, 0.22,
)  # fmt: skip
_WEEKEND: Final = 0.28
_WORKFLOW_CUMULATIVE: Final = tuple(itertools.accumulate(w.weight for w in WORKFLOWS))


@dataclass(order=True)
class _Retrigger:
    due_ms: int
    order: int
    state: _WorkflowState = field(compare=False)
    trigger: Trigger = field(compare=False)
    retry_of: str = field(compare=False)


@dataclass
class _WorkflowState:
    workflow: DemoWorkflow
    incidents: list[Incident]
    next_incident: int = 0
    recent: deque[Trigger] = field(default_factory=lambda: deque(maxlen=64))

    def __post_init__(self) -> None:
        steps = self.workflow.steps
        self.names = tuple(name for name, _ in steps)
        self.kinds = tuple(kind for _, kind in steps)
        self.checks = tuple(i for i, kind in enumerate(self.kinds) if kind is StepKind.CHECK)

    def incident(self, ms: int) -> Incident | None:
        incidents = self.incidents
        while self.next_incident < len(incidents) and incidents[self.next_incident].end_ms <= ms:
            self.next_incident += 1
        for incident in incidents[self.next_incident : self.next_incident + 3]:
            if incident.start_ms <= ms < incident.end_ms:
                return incident
        return None


_FINISHED, _FAILED, _SKIPPED = RunStatus.FINISHED.value, RunStatus.FAILED.value, "skipped"
_RUNNING, _PENDING = RunStatus.RUNNING.value, RunStatus.PENDING.value


class DemoRuns:
    """Makes the rows of `runs` demo runs, oldest first, in chunks."""

    def __init__(self, *, runs: int, days: int, seed: int, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        self.rng = random.Random(seed)
        self.names = Names(self.rng)
        self.clock = Clock()
        self.runs = max(runs, 0)
        self.now_ms = milliseconds(now)
        self.start_ms = self.now_ms - days * 24 * HOUR_MS
        self.states = [
            _WorkflowState(w, incidents(w, self.start_ms, self.now_ms, self.rng)) for w in WORKFLOWS
        ]
        self.retriggers: list[_Retrigger] = []
        self.retrigger_order = itertools.count()
        # The newest runs are still queued or running: the engine is busy right now.
        self.live = min(self.runs, max(4, self.runs // 4000))
        self.made = 0
        self.last_ms = self.start_ms
        self.times = self._start_times(days)

    def workflow_rows(self) -> list[dict[str, Any]]:
        created = when(self.start_ms) - timedelta(days=90)
        return [w.row(created + timedelta(days=7 * i)) for i, w in enumerate(WORKFLOWS)]

    def _start_times(self, days: int) -> Iterator[int]:
        """Sorted start times (ms): hourly buckets weighted by weekday and hour, then uniform."""
        rng = self.rng
        buckets = days * 24
        weights = []
        for hour in range(buckets):
            at = when(self.start_ms + hour * HOUR_MS)
            weight = _HOUR_SHAPE[at.hour] * (1.0 if at.weekday() < 5 else _WEEKEND)
            weights.append(weight * (0.8 + 0.4 * rng.random()))
        total = sum(weights)
        expected = [self.runs * w / total for w in weights]
        counts = [int(e) for e in expected]
        by_remainder = sorted(range(buckets), key=lambda i: counts[i] - expected[i])
        for i in by_remainder[: self.runs - sum(counts)]:
            counts[i] += 1
        # The live runs all start in the last hour.
        while counts[-1] < self.live:
            busiest = max(range(buckets - 1), key=counts.__getitem__)
            counts[busiest] -= 1
            counts[-1] += 1
        for hour, count in enumerate(counts):
            begin = self.start_ms + hour * HOUR_MS
            yield from sorted(begin + int(rng.random() * HOUR_MS) for _ in range(count))

    def chunk(self, size: int) -> list[dict[str, Any]]:
        """The next `size` rows (fewer at the end), in start-time order."""
        rows = []
        for ms in itertools.islice(self.times, size):
            if self.retriggers and self.retriggers[0].due_ms <= ms:
                # A retrigger takes this slot, at its own time when that is still to come.
                retrigger = heapq.heappop(self.retriggers)
                at = max(retrigger.due_ms, self.last_ms)
                rows.append(self._run(at, retrigger.state, retrigger.trigger, retrigger, True))
            else:
                state = self._pick_workflow()
                again = bool(state.recent) and self.rng.random() < REUSE_RATE
                if again:
                    trigger = state.recent[int(self.rng.random() * len(state.recent))]
                else:
                    trigger = state.workflow.make(self.names)
                    state.recent.append(trigger)
                rows.append(self._run(ms, state, trigger, None, again))
            self.last_ms = ms
            self.made += 1
        return rows

    def _pick_workflow(self) -> _WorkflowState:
        point = self.rng.random() * _WORKFLOW_CUMULATIVE[-1]
        return self.states[bisect.bisect(_WORKFLOW_CUMULATIVE, point)]

    def _outcome(
        self, state: _WorkflowState, ms: int, retried: bool
    ) -> tuple[str, Failure | None, str | None]:
        """The run's status, its failure and its skip reason."""
        rng = self.rng
        incident = state.incident(ms)
        if incident is not None and rng.random() < incident.rate:
            return _FAILED, incident.failure, None
        if not retried and rng.random() < SKIP_RATE:
            reasons = state.workflow.skip_reasons
            return _SKIPPED, None, reasons[int(rng.random() * len(reasons))]
        failure = base_failure(state.workflow, rng)
        if failure is not None:
            return _FAILED, failure, None
        return _FINISHED, None, None

    def _run(
        self,
        ms: int,
        state: _WorkflowState,
        trigger: Trigger,
        retrigger: _Retrigger | None,
        again: bool,
    ) -> dict[str, Any]:
        rng = self.rng
        workflow = state.workflow
        run_id = run_id_at(ms, rng.getrandbits(80))
        status, failure, skip_reason = self._outcome(state, ms, retrigger is not None)

        # Which steps ran, and when (ms): (start, end) each.
        last_step = len(state.kinds) - 1
        if failure is not None:
            last_step = failure.step
        elif skip_reason is not None and state.checks:
            last_step = state.checks[0]
        times: list[tuple[int, int]] = []
        at = ms + 20 + int(rng.random() * 280)
        for kind in state.kinds[: last_step + 1]:
            if kind is StepKind.WRITE:
                low, high = workflow.write_seconds
                seconds = low + (high - low) * rng.random()
                if rng.random() < 0.02:  # the destination asked to slow down: backoff
                    seconds += 30 + 240 * rng.random()
            elif kind is StepKind.READ:
                seconds = 0.15 + 1.2 * rng.random()
            else:
                seconds = 0.005 + 0.06 * rng.random()
            times.append((at, at + int(seconds * 1000)))
            at = times[-1][1] + int(rng.random() * 40)
        if failure is not None and failure.message in OUTAGE_WAIT:
            begin = times[-1][0]
            times[-1] = (begin, begin + int(rng.uniform(*OUTAGE_WAIT[failure.message]) * 1000))
            at = times[-1][1]
        finished_ms: int | None = at

        # The newest runs, and any whose end is still to come, are in flight.
        from_end = self.runs - self.made
        if at > self.now_ms or (from_end <= self.live and self.now_ms - ms < HOUR_MS):
            finished_ms, failure, skip_reason = None, None, None
            if from_end <= self.live // 3 + 1:
                status, times = _PENDING, []
            else:
                status = _RUNNING
                begun = [t for t in times if t[0] <= self.now_ms] or times[:1]
                times = begun[: 1 + int(rng.random() * len(begun))]

        iso = self.clock.iso
        details = trigger.details
        steps: list[dict[str, Any]] = [
            {
                "name": state.names[index],
                "status": _FINISHED,
                "started_at": iso(begin),
                "finished_at": iso(end),
                "detail": details[index],
                "error": None,
            }
            for index, (begin, end) in enumerate(times)
        ]
        if steps:
            last = steps[-1]
            if status == _FAILED:
                assert failure is not None
                last["status"], last["error"] = _FAILED, failure.message
            elif status == _SKIPPED:
                last["status"], last["detail"] = _SKIPPED, skip_reason
            elif status == _RUNNING:
                last["status"], last["finished_at"], last["detail"] = _RUNNING, None, None
                last["started_at"] = iso(min(times[-1][0], self.now_ms))
                for step, (_, end) in zip(steps, times, strict=True):
                    if end > self.now_ms:
                        step["finished_at"] = iso(self.now_ms)

        if failure is not None and retrigger is None and rng.random() < RETRIGGER_RATE:
            due = at + int((60 + 3600 * rng.random() ** 2) * 1000)
            if due < self.now_ms:
                order = next(self.retrigger_order)
                heapq.heappush(self.retriggers, _Retrigger(due, order, state, trigger, run_id))

        started_at = when(ms)
        finished_at = when(finished_ms) if finished_ms is not None else None
        return {
            "id": run_id,
            "workflow_id": workflow.id,
            "reference": trigger.reference[:MAX_REFERENCE],
            "status": status,
            "started_at": started_at,
            "finished_at": finished_at,
            "updated_at": finished_at or started_at,
            "created_at": started_at,
            "error_message": failure.message if failure else None,
            "error_step": state.names[failure.step] if failure else None,
            "skip_reason": skip_reason,
            "result": (trigger.updated if again else trigger.created)
            if status == _FINISHED
            else None,
            "retry_of": retrigger.retry_of if retrigger is not None else None,
            "versions": {},
            "payload": trigger.payload,
            "steps": steps,
        }


async def fill_demo_data(
    store: RunStore,
    *,
    runs: int,
    days: int = 30,
    seed: int = 1,
    now: datetime | None = None,
) -> int:
    """Insert `runs` realistic runs started over the last `days`; returns how many it made.

    Rows are made and written in turn, `CHUNK_ROWS` a transaction: making them in a
    thread beside the writer is slower, as both then fight over the GIL.
    """
    demo = DemoRuns(runs=runs, days=days, seed=seed, now=now or datetime.now(UTC))
    await store.load_rows(demo.workflow_rows(), [])
    made = 0
    while made < demo.runs:
        rows = demo.chunk(min(CHUNK_ROWS, demo.runs - made))
        await store.load_rows((), rows)
        made += len(rows)
    return made
