"""RunStore: the store's one entry point, a unit-of-work facade. Each public method opens its
session or transaction and calls one function that takes the session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from store import (
    alert_messages,
    alert_planning,
    deliveries,
    leases,
    notes,
    queries,
    retrigger_outbox,
    retriggers,
    stats,
    subscriptions,
    suggestions,
    writes,
)
from store.alert_messages import AlertedRuns
from store.alert_planning import GroupingRules
from store.database import SchemaUpgrade, create_engine, upgrade
from store.deliveries import AlertPost, AlertUpdate, PostTarget, ThreadLine, ThreadPost
from store.filters import RunFilter
from store.ingest import GroupCommit
from store.records import (
    AlertRouting,
    NoteRecord,
    NoteTarget,
    ReportOutcome,
    RetriggerRequested,
    RetriggerRouting,
    RunDetail,
    RunPage,
    WorkflowRecord,
    WorkflowSpec,
)
from store.reports import RunReport
from store.retrigger_candidates import UnrecoveredRuns, unrecovered_runs
from store.retrigger_outbox import GivenUp, RetriggerSend
from store.stats import RunStats
from store.subscriptions import ChannelAlerts, SubscriptionChange
from store.types import RunStatus

# A request that lost the one-in-flight race to one that already ended asks again.
_RETRIGGER_ATTEMPTS = 3


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RunStore:
    """Typed, intention-named operations over the run store (SQLite or PostgreSQL)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Any = _utcnow,
        alert_routing: AlertRouting | None = None,
        on_alerts_queued: Callable[[int], None] | None = None,
        retrigger_routing: RetriggerRouting | None = None,
        on_retrigger_requested: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._clock = clock
        self._on_alerts_queued = on_alerts_queued
        self._default_alert_channel = alert_routing.default_channel if alert_routing else None
        self._reports = GroupCommit(self._sessions, clock, alert_routing, on_alerts_queued)
        self._retrigger_routing = retrigger_routing or RetriggerRouting()
        self._on_retrigger_requested = on_retrigger_requested

    @classmethod
    def open(
        cls,
        url: str,
        *,
        clock: Any = _utcnow,
        alert_routing: AlertRouting | None = None,
        on_alerts_queued: Callable[[int], None] | None = None,
        retrigger_routing: RetriggerRouting | None = None,
        on_retrigger_requested: Callable[[], None] | None = None,
        **engine_options: Any,
    ) -> RunStore:
        """A store on RUNSBOT_DATABASE_URL; `clock` supplies "now" (aware UTC). With
        `alert_routing`, failures are queued for alerts, and `on_alerts_queued` is called
        with their number after each commit that queued some. `retrigger_routing` says where
        retriggers go (without it none can be requested); `on_retrigger_requested` is called
        after each commit that requested one."""
        engine = create_engine(
            url,
            json_serializer=lambda value: orjson.dumps(value).decode(),
            json_deserializer=orjson.loads,
            **engine_options,
        )
        return cls(
            engine,
            clock=clock,
            alert_routing=alert_routing,
            on_alerts_queued=on_alerts_queued,
            retrigger_routing=retrigger_routing,
            on_retrigger_requested=on_retrigger_requested,
        )

    @property
    def on_alerts_queued(self) -> Callable[[int], None] | None:
        """Whom the store tells, after a commit, how many alerts it queued (set when opened)."""
        return self._on_alerts_queued

    @property
    def dialect(self) -> str:
        """The database's dialect name: "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    async def upgrade(self) -> SchemaUpgrade:
        """Create or migrate the schema to the newest revision; says from which revision."""
        return await upgrade(self.engine)

    async def close(self) -> None:
        """Close every database connection; the store is not used after this."""
        await self.engine.dispose()

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self._sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    # Reports -------------------------------------------------------------

    async def report_runs(self, reports: Sequence[RunReport]) -> list[ReportOutcome]:
        """Store reports, one outcome each, in order; each stands or falls alone. Concurrent
        callers share transactions (group commit); a failed run is queued for its alert in
        the transaction that stores it."""
        if not reports:
            return []
        return await self._reports.write(reports)

    # Reads ---------------------------------------------------------------

    async def list_runs(self, flt: RunFilter) -> RunPage:
        """A page of runs, newest first; raises InvalidCursor for a foreign cursor."""
        async with self._sessions() as session:
            return await queries.list_runs(session, flt)

    async def get_run(self, run_id: str) -> RunDetail | None:
        """The run with its steps, notes and retries, or None if unknown."""
        async with self._sessions() as session:
            return await queries.run_detail(session, run_id)

    async def count_by_status(
        self, *, since: datetime, until: datetime, workflow: str | None = None
    ) -> dict[RunStatus, int]:
        """Runs started in [since, until] per status, every status present; `workflow` as
        /runs names one."""
        async with self._sessions() as session:
            return await queries.count_by_status(
                session, since=since, until=until, workflow=workflow
            )

    async def suggest_query(
        self, text: str, flt: RunFilter, *, tz: tzinfo, now: datetime
    ) -> suggestions.Suggestion:
        """For a /runs line (read as `flt`) that matched nothing: the workflow or status it may
        have meant, and the nearest query that matches runs (store/suggestions.py)."""
        async with self._sessions() as session:
            return await suggestions.suggest_query(session, text, flt, tz=tz, now=now)

    async def forget_report_events(self, *, older_than: timedelta) -> int:
        """Forget event_ids received longer ago than `older_than`; returns how many."""
        async with self._sessions.begin() as session:
            return await writes.forget_report_events(
                session, received_before=self._clock() - older_than
            )

    # Notes (store/notes.py) ------------------------------------------------

    async def add_note(
        self,
        run_id: str,
        *,
        author: str,
        text: str,
        source: str,
    ) -> NoteRecord:
        """Store a note on a run, stamped now (UTC); raises RunNotFound. An API or modal note
        is mirrored into the thread of each alert naming the run (queued with it)."""
        async with self._sessions.begin() as session:
            note, lines = await notes.add_note(
                session, run_id, author=author, text=text, source=source, now=self._clock()
            )
        if lines and self._on_alerts_queued is not None:
            self._on_alerts_queued(0)  # no new alert, but lines to post: wake the dispatcher
        return note

    async def add_thread_notes(
        self, channel_id: str, message_ts: str, run_ids: Sequence[str], *, author: str, text: str
    ) -> int:
        """A reply in an alert's thread (channel_id, message_ts) as a note on each of
        `run_ids`; how many are new (a redelivered reply adds none)."""
        async with self._sessions.begin() as session:
            return await notes.add_thread_notes(
                session,
                channel_id=channel_id,
                message_ts=message_ts,
                run_ids=run_ids,
                author=author,
                text=text,
                now=self._clock(),
            )

    async def edit_thread_notes(
        self, channel_id: str, message_ts: str, run_ids: Sequence[str], *, author: str, text: str
    ) -> None:
        """The reply was edited: its notes read `text` and are on `run_ids` now."""
        async with self._sessions.begin() as session:
            await notes.edit_thread_notes(
                session,
                channel_id=channel_id,
                message_ts=message_ts,
                run_ids=run_ids,
                author=author,
                text=text,
                now=self._clock(),
            )

    async def delete_thread_notes(self, channel_id: str, message_ts: str) -> int:
        """The reply was deleted, and so are its notes; how many."""
        async with self._sessions.begin() as session:
            return await notes.delete_thread_notes(
                session, channel_id=channel_id, message_ts=message_ts
            )

    async def note_targets(self, run_ids: Sequence[str], *, limit: int = 100) -> list[NoteTarget]:
        """The runs of `run_ids` that exist, as the Add note modal names them, newest first."""
        async with self._sessions() as session:
            return await notes.note_targets(session, run_ids, limit=limit)

    async def thread_notes(self, channel_id: str, message_ts: str) -> list[NoteRecord]:
        """The notes a thread reply made, by run."""
        async with self._sessions() as session:
            return await notes.thread_notes(session, channel_id=channel_id, message_ts=message_ts)

    async def alerted_runs(self, channel_id: str, message_ts: str) -> AlertedRuns | None:
        """The alert runsbot posted at (channel_id, message_ts), or whose thread listing reply
        is there, with the runs it names; None for any other message."""
        async with self._sessions() as session:
            return await alert_messages.alerted_runs(session, channel_id, message_ts)

    # Retrigger from Slack (what a group alert still has to recover) -----

    async def unrecovered_runs(self, run_ids: Sequence[str], *, limit: int) -> UnrecoveredRuns:
        """Of `run_ids`, in their order, the failed runs with no retrigger in flight and none
        that finished: the first `limit` of them, and how many there are."""
        async with self._sessions() as session:
            return await unrecovered_runs(session, run_ids, limit=limit)

    # Workflows -----------------------------------------------------------

    async def put_workflow(
        self, workflow_id: str, spec: WorkflowSpec
    ) -> tuple[WorkflowRecord, bool]:
        """Register or update a workflow; True when it was created."""
        async with self._sessions.begin() as session:
            return await writes.put_workflow(session, workflow_id, spec, now=self._clock())

    async def list_workflows(self) -> list[WorkflowRecord]:
        """Every registered workflow, by ID."""
        async with self._sessions() as session:
            return list((await queries.all_workflows(session)).values())

    # /runs stats and subscriptions ---------------------------------------

    async def run_stats(self, *, since: datetime, until: datetime) -> RunStats:
        """Counts per status, the workflows failing most and the failures per hour or day
        of runs started in [since, until] (aware UTC)."""
        async with self._sessions() as session:
            return await stats.run_stats(session, since=since, until=until)

    async def subscribe(
        self, channel_id: str, workflow: str | None, *, created_by: str
    ) -> SubscriptionChange:
        """Send the failure alerts of `workflow` (as /runs names one; None: of every
        workflow) to the channel; idempotent. An unknown or ambiguous name changes nothing."""
        async with self._sessions.begin() as session:
            return await subscriptions.subscribe(
                session, channel_id, workflow, created_by=created_by, now=self._clock()
            )

    async def unsubscribe(self, channel_id: str, workflow: str | None) -> SubscriptionChange:
        """Stop what `subscribe(channel_id, workflow)` started; nothing to stop is no error."""
        async with self._sessions.begin() as session:
            return await subscriptions.unsubscribe(session, channel_id, workflow)

    async def channel_alerts(self, channel_id: str) -> ChannelAlerts:
        """The channel's subscriptions, and whether it gets alerts as a fallback channel."""
        async with self._sessions() as session:
            return await subscriptions.channel_alerts(
                session, channel_id, default_channel=self._default_alert_channel
            )

    # The alert outbox (for the dispatcher) ---------------------------------

    async def acquire_lease(self, name: str, holder: str, *, ttl: timedelta) -> bool:
        """True while `holder` holds the lease `name` (taken or renewed now, for `ttl`)."""
        async with self._sessions.begin() as session:
            return await leases.acquire_lease(session, name, holder, now=self._clock(), ttl=ttl)

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up if `holder` has it; another holder's lease is left alone."""
        async with self._sessions.begin() as session:
            await leases.release_lease(session, name, holder)

    async def plan_alerts(self, rules: GroupingRules, *, runs_per_thread_post: int) -> int:
        """Give pending deliveries their alert messages, and gather group runs into replies
        of up to `runs_per_thread_post` (as many as one Slack message can list). Each step
        is its own short transaction."""
        async with self._sessions.begin() as session:
            planned = await alert_planning.plan_alerts(session, rules, now=self._clock())
        async with self._sessions.begin() as session:
            await alert_planning.plan_thread_posts(
                session, rules, runs_per_post=runs_per_thread_post, now=self._clock()
            )
        return planned

    async def channels_with_due_alerts(self, *, min_update_interval: timedelta) -> set[str]:
        """The channels with a post, thread reply or update due now."""
        async with self._sessions() as session:
            return await deliveries.channels_with_work(
                session, now=self._clock(), min_interval=min_update_interval
            )

    async def due_alert_posts(self, channel_id: str, *, limit: int = 20) -> list[AlertPost]:
        """The channel's unposted alerts whose next attempt is due, oldest first."""
        async with self._sessions() as session:
            return await deliveries.due_alert_posts(
                session, now=self._clock(), channel_id=channel_id, limit=limit
            )

    async def due_thread_posts(self, channel_id: str, *, limit: int = 20) -> list[ThreadPost]:
        """The channel's unposted thread replies whose next attempt is due, oldest first."""
        async with self._sessions() as session:
            return await deliveries.due_thread_posts(
                session, now=self._clock(), channel_id=channel_id, limit=limit
            )

    async def due_thread_lines(self, channel_id: str, *, limit: int = 20) -> list[ThreadLine]:
        """The channel's unposted lines of runsbot's whose alert is posted and whose next
        attempt is due, oldest first."""
        async with self._sessions() as session:
            return await deliveries.due_thread_lines(
                session, now=self._clock(), channel_id=channel_id, limit=limit
            )

    async def due_alert_updates(
        self, channel_id: str, *, min_interval: timedelta, limit: int = 20
    ) -> list[AlertUpdate]:
        """The channel's stale alerts not re-rendered within `min_interval`, stalest first."""
        async with self._sessions() as session:
            return await deliveries.due_alert_updates(
                session,
                now=self._clock(),
                min_interval=min_interval,
                channel_id=channel_id,
                limit=limit,
            )

    async def record_post_attempt(self, target: PostTarget, row_id: int) -> None:
        """Remember that Slack is about to be asked: from now on the post is uncertain."""
        async with self._sessions.begin() as session:
            await deliveries.record_attempt(session, target, row_id, self._clock())

    async def record_posted(
        self, target: PostTarget, row_id: int, message_ts: str, *, revision: int = 0
    ) -> None:
        """Slack took the post as `message_ts`: the runs it names are alerted. An alert
        message posted at `revision` stays stale if it changed since."""
        async with self._sessions.begin() as session:
            await deliveries.record_posted(
                session, target, row_id, message_ts, revision=revision, now=self._clock()
            )

    async def record_post_failure(
        self,
        target: PostTarget,
        row_id: int,
        *,
        error: str,
        retry_in: timedelta,
        uncertain: bool,
    ) -> None:
        """Slack did not take the post (or did not say): try again `retry_in` from now."""
        async with self._sessions.begin() as session:
            await deliveries.record_post_failure(
                session,
                target,
                row_id,
                error=error,
                retry_at=self._clock() + retry_in,
                uncertain=uncertain,
            )

    async def record_rendered(self, alert_id: int, *, revision: int, cleared: bool = True) -> None:
        """The alert was re-rendered at `revision` (`cleared`), or the update failed and
        waits a while."""
        async with self._sessions.begin() as session:
            await deliveries.record_rendered(
                session, alert_id, revision=revision, now=self._clock(), cleared=cleared
            )

    # Retriggers (the engine side: asking, and the outbox) -------------------

    @property
    def on_retrigger_requested(self) -> Callable[[], None] | None:
        """Whom the store tells, after a commit, that a retrigger waits to be sent."""
        return self._on_retrigger_requested

    async def request_retrigger(self, run_id: str, *, requested_by: str) -> RetriggerRequested:
        """Make the run's retrigger: a new pending run with `retry_of`, its outbox row, an
        audit note on the original, the original's alerts re-rendered; one transaction.
        Raises RunNotFound, RetriggerNotConfigured (nothing written), or RetriggerInFlight
        naming the retrigger that won, however many ask at once."""
        for attempt in range(_RETRIGGER_ATTEMPTS):
            try:
                async with self._sessions.begin() as session:
                    requested = await retriggers.request_retrigger(
                        session,
                        run_id,
                        requested_by=requested_by,
                        routing=self._retrigger_routing,
                        now=self._clock(),
                    )
            except IntegrityError:
                # Another request won the one-in-flight index: tell this one who did.
                async with self._sessions() as session:
                    winner = await retriggers.in_flight(session, run_id)
                if winner is not None:
                    raise winner from None
                if attempt == _RETRIGGER_ATTEMPTS - 1:
                    raise
                continue  # the winner already ended: ask again
            if self._on_retrigger_requested is not None:
                self._on_retrigger_requested()
            return requested
        raise AssertionError("unreachable")

    # The retrigger outbox (for the retrigger dispatcher) ----------------------

    async def retrigger_urls_due(self) -> set[str]:
        """The trigger URLs with a retrigger request due now."""
        async with self._sessions() as session:
            return await retrigger_outbox.urls_with_due_sends(session, now=self._clock())

    async def due_retriggers(self, trigger_url: str, *, limit: int = 20) -> list[RetriggerSend]:
        """The URL's retrigger requests due now, the longest-waiting first."""
        async with self._sessions() as session:
            return await retrigger_outbox.due_sends(
                session, trigger_url, now=self._clock(), limit=limit
            )

    async def take_trigger_turn(self, trigger_url: str, *, spacing: timedelta) -> timedelta:
        """Zero when a request to `trigger_url` may go now (the next then waits `spacing`);
        else how long to wait before asking again. Kept in the store, for every replica."""
        now = self._clock()
        async with self._sessions.begin() as session:
            turn = await retrigger_outbox.take_turn(
                session, trigger_url, now=now, spacing_until=now + spacing
            )
        return timedelta(0) if turn is None else max(turn - now, timedelta(0))

    async def hold_trigger_url(self, trigger_url: str, *, wait: timedelta) -> None:
        """No request to `trigger_url` for `wait` from now (the engine's Retry-After)."""
        async with self._sessions.begin() as session:
            await retrigger_outbox.hold_url(session, trigger_url, until=self._clock() + wait)

    async def claim_retrigger(self, retrigger_id: int, *, for_at_most: timedelta) -> bool:
        """Take a due request for one attempt lasting at most `for_at_most`; False when it is
        no longer due (sent by another pass, accepted, or given up)."""
        now = self._clock()
        async with self._sessions.begin() as session:
            return await retrigger_outbox.claim_send(
                session, retrigger_id, now=now, until=now + for_at_most
            )

    async def record_retrigger_accepted(self, retrigger_id: int) -> None:
        """The engine took the request (a 2xx answer)."""
        async with self._sessions.begin() as session:
            await retrigger_outbox.record_accepted(session, retrigger_id, now=self._clock())

    async def record_retrigger_failure(
        self, retrigger_id: int, *, error: str, retry_in: timedelta, not_after: datetime
    ) -> None:
        """The engine refused or did not answer: try again `retry_in` from now, but no later
        than `not_after` (when it is given up)."""
        now = self._clock()
        async with self._sessions.begin() as session:
            await retrigger_outbox.record_send_failure(
                session,
                retrigger_id,
                error=error,
                retry_at=min(now + retry_in, max(not_after, now)),
                now=now,
            )

    async def give_up_retriggers(
        self, *, window: timedelta, reason: Callable[[str | None, int], str]
    ) -> list[GivenUp]:
        """Give up the requests the engine has not accepted within `window` of being asked:
        each new run becomes failed with `reason(last_error, attempts)`, and the original's
        alert threads get a line. Each in its own transaction."""
        now = self._clock()
        async with self._sessions() as session:
            expired = await retrigger_outbox.expired_sends(
                session, requested_before=now - window, now=now
            )
        given_up = []
        for retrigger_id, last_error, attempts in expired:
            async with self._sessions.begin() as session:
                outcome = await retrigger_outbox.give_up(
                    session, retrigger_id, reason=reason(last_error, attempts), now=self._clock()
                )
            if outcome is not None:
                given_up.append(outcome)
        return given_up

    # Bulk load (demo data and benchmarks) --------------------------------

    async def load_rows(
        self, workflows: Sequence[dict[str, Any]], runs: Sequence[dict[str, Any]]
    ) -> None:
        """Insert prepared rows as they are, bypassing report merging: for demo data only."""
        async with self._sessions.begin() as session:
            await writes.load_rows(session, workflows, runs)
