"""Notes in the store: mirrored into alert threads (queued with the note), thread replies as
notes (redelivery adds none, edits and deletions follow the reply), and the alert a message
belongs to (store.alerted_runs), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from store.alert_planning import GroupingRules
from store.deliveries import PostTarget
from store.errors import RunNotFound
from store.notes import runs_named
from store.records import AlertRouting
from store.reports import RunReport
from store.run_store import RunStore
from store.types import AlertKind, NoteSource, ThreadLineKind

CHANNEL = "C0ALERTS1"
WORKFLOW = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}


def failed(run_id: str, minute: int = 0) -> RunReport:
    return RunReport.model_validate(
        {
            "id": run_id,
            "workflow": WORKFLOW,
            "reference": f"ACME {run_id}",
            "status": "failed",
            "started_at": f"2026-11-20T10:{minute:02d}:00Z",
            "error": {"message": "504 Gateway Timeout"},
        }
    )


@pytest.fixture
async def alerting(database_url: str) -> AsyncIterator[RunStore]:
    store = RunStore.open(database_url, alert_routing=AlertRouting(CHANNEL))
    await store.upgrade()
    yield store
    await store.close()


async def post_alerts(store: RunStore, *, group_from: int = 4) -> list[str]:
    """Plan and "post" every due alert; the ts each got, in order."""
    rules = GroupingRules(group_from=group_from, linger=timedelta(0))
    await store.plan_alerts(rules, runs_per_thread_post=100)
    posted = []
    for number, post in enumerate(await store.due_alert_posts(CHANNEL)):
        ts = f"1796000000.{number + 1:06d}"
        await store.record_posted(PostTarget.ALERT, post.alert_id, ts)
        posted.append(ts)
    return posted


async def test_a_modal_or_api_note_is_queued_once_in_its_alert_thread_and_a_thread_note_is_not(
    alerting: RunStore,
) -> None:
    store = alerting
    await store.report_runs([failed("run_one")])
    await store.plan_alerts(GroupingRules(), runs_per_thread_post=100)
    await store.add_note("run_one", author="ana", text="Before the post", source=NoteSource.API)
    assert await store.due_thread_lines(CHANNEL) == [], "a line waits for its alert's ts"
    (post,) = await store.due_alert_posts(CHANNEL)
    await store.record_posted(PostTarget.ALERT, post.alert_id, "1796000000.000100")

    await store.add_note(
        "run_one", author="slack:U0ALICE1", text="From the modal", source=NoteSource.SLACK_MODAL
    )
    await store.add_thread_notes(
        CHANNEL, "1796000001.000001", ["run_one"], author="slack:U0BOB001", text="In the thread"
    )
    lines = await store.due_thread_lines(CHANNEL)
    assert [(line.kind, line.note and line.note.text) for line in lines] == [
        (ThreadLineKind.NOTE, "Before the post"),
        (ThreadLineKind.NOTE, "From the modal"),
    ]
    assert {line.thread_ts for line in lines} == {"1796000000.000100"}
    assert await store.channels_with_due_alerts(min_update_interval=timedelta(seconds=5)) == {
        CHANNEL
    }
    await store.record_post_attempt(PostTarget.LINE, lines[0].line_id)
    await store.record_post_failure(
        PostTarget.LINE, lines[0].line_id, error="429", retry_in=timedelta(hours=1), uncertain=False
    )
    await store.record_posted(PostTarget.LINE, lines[1].line_id, "1796000002.000001")
    assert await store.due_thread_lines(CHANNEL) == [], "one waits its backoff, one is posted"

    with pytest.raises(RunNotFound):
        await store.add_note("run_missing", author="ana", text="x", source=NoteSource.API)
    detail = await store.get_run("run_one")
    assert detail is not None
    assert [(note.author, note.source) for note in detail.notes] == [
        ("ana", "api"),
        ("slack:U0ALICE1", "slack_modal"),
        ("slack:U0BOB001", "slack_thread"),
    ]


async def test_a_thread_reply_is_one_note_per_run_redelivered_edited_and_deleted(
    alerting: RunStore,
) -> None:
    store = alerting
    await store.report_runs([failed(f"run_g{n}", minute=n) for n in range(4)])
    (single, group) = await post_alerts(store, group_from=2)
    alert = await store.alerted_runs(CHANNEL, group)
    assert alert is not None and alert.kind is AlertKind.GROUP and alert.single_run_id is None
    assert alert.run_ids == ("run_g1", "run_g2", "run_g3")
    first = await store.alerted_runs(CHANNEL, single)
    assert first is not None and first.single_run_id == "run_g0"
    await store.plan_alerts(GroupingRules(linger=timedelta(0)), runs_per_thread_post=100)
    (listing,) = await store.due_thread_posts(CHANNEL)
    await store.record_posted(PostTarget.THREAD, listing.post_id, "1796000002.000009")
    in_thread = await store.alerted_runs(CHANNEL, "1796000002.000009")
    assert in_thread == alert, "the group's listing reply belongs to the group alert"
    assert await store.alerted_runs(CHANNEL, "1796000099.000001") is None
    assert await store.alerted_runs("C0OTHER01", single) is None

    reply = "1796000003.000001"
    args = (CHANNEL, reply)
    assert await store.add_thread_notes(*args, ["run_g1", "run_g3"], author="a", text="x") == 2
    assert await store.add_thread_notes(*args, ["run_g1", "run_g3"], author="a", text="x") == 0
    await store.edit_thread_notes(*args, ["run_g3"], author="a", text="only g3")
    assert [(n.run_id, n.text) for n in await store.thread_notes(*args)] == [("run_g3", "only g3")]
    await store.edit_thread_notes(*args, ["run_g1", "run_g3"], author="a", text="both")
    notes = await store.thread_notes(*args)
    assert [(n.run_id, n.text) for n in notes] == [("run_g1", "both"), ("run_g3", "both")]
    assert all(n.source == "slack_thread" for n in notes)
    assert await store.delete_thread_notes(*args) == 2
    assert await store.thread_notes(*args) == []


def test_a_reply_names_the_runs_whose_ids_are_words_of_it() -> None:
    group = ("run_a1", "run_a12", "run_b.2")
    assert runs_named("retried `run_a12` and run_b.2.", group) == ("run_a12", "run_b.2")
    assert runs_named("run_a1, run_a12: both fixed", group) == ("run_a1", "run_a12")
    assert runs_named("xrun_a1 run_a1x run_b.2x", group) == ()
    assert runs_named("nothing here", group) == ()
