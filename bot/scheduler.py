"""The scheduler: assembles the scheduled jobs; the jobs live where their work lives."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from store.run_store import RunStore

# Repeated event_ids are no-ops while remembered; a report merged again after
# this long changes nothing anyway, since merging the same report is idempotent.
REMEMBER_EVENTS = timedelta(days=7)


def create_scheduler(store: RunStore) -> AsyncIOScheduler:
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
    return scheduler
