"""The scheduler: assembles the scheduled jobs; the jobs live where their work lives."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.alert_dispatcher import AlertDispatcher
from bot.retrigger_dispatcher import RetriggerDispatcher
from store.run_store import RunStore

# Repeated event_ids are no-ops while remembered; a report merged again after
# this long changes nothing anyway, since merging the same report is idempotent.
REMEMBER_EVENTS = timedelta(days=7)
# New failures wake the dispatcher at once; the sweep catches retries that fell
# due, part-full thread replies, stale messages and other replicas' failures.
ALERT_SWEEP_SECONDS = 2
# Retrigger requests are sent when asked for; the sweep sends retries as they fall due,
# other replicas' requests and a restart's, and gives up what waited too long.
RETRIGGER_SWEEP_SECONDS = 1


def create_scheduler(
    store: RunStore,
    dispatcher: AlertDispatcher | None,
    retriggers: RetriggerDispatcher | None = None,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        store.forget_report_events,
        "interval",
        hours=1,
        id="forget-report-events",
        kwargs={"older_than": REMEMBER_EVENTS},
        max_instances=1,
        coalesce=True,
    )
    if dispatcher is not None:
        scheduler.add_job(
            dispatcher.dispatch,
            "interval",
            seconds=ALERT_SWEEP_SECONDS,
            id="alert-sweep",
            max_instances=1,
            coalesce=True,
        )
    if retriggers is not None:
        scheduler.add_job(
            retriggers.sweep,
            "interval",
            seconds=RETRIGGER_SWEEP_SECONDS,
            id="retrigger-sweep",
            max_instances=1,
            coalesce=True,
        )
    return scheduler
