"""Failure alerts, end to end: a report to the API, an alert in the fake Slack."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.config import Settings
from bot.web import open_store
from store.alert_planning import GroupingRules
from store.models import AlertDelivery, Subscription
from store.records import ReportResult
from store.reports import RunReport
from tests.fake_slack import (
    ALERTS_CHANNEL,
    OPS_CHANNEL,
    Call,
    FakeSlack,
    RateLimited,
    ServerError,
    Slow,
    buttons,
    rendered_text,
    wait_until,
)
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot

HUBSPOT = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}
RUN_ID = re.compile(r"run_[A-Za-z0-9_.:\-]+")


def failure(
    run_id: str, message: str = "401 Unauthorized: token expired", **fields: Any
) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow": HUBSPOT,
        "reference": f"ACME Corp — {run_id}",
        "status": "failed",
        "started_at": "2026-11-20T10:02:03Z",
        "error": {"message": message, "step": "Create opportunity"},
        **fields,
    }


def alerts(slack: FakeSlack, channel: str = ALERTS_CHANNEL) -> dict[str, set[str]]:
    """Each alert (message ts) with the run IDs it names, in the message or its thread."""
    return {ts: set(RUN_ID.findall(text)) for ts, text in slack.thread_texts(channel).items()}


def times_named(slack: FakeSlack, channel: str = ALERTS_CHANNEL) -> Counter[str]:
    return Counter(run_id for runs in alerts(slack, channel).values() for run_id in runs)


async def test_a_failure_is_alerted_with_what_it_takes_to_act(runsbot: Runsbot) -> None:
    await runsbot.report(**failure("run_acme1"))
    (message,) = await wait_until(lambda: runsbot.slack.messages(ALERTS_CHANNEL))
    text = rendered_text(message)
    assert "HubSpot → Salesforce" in text
    assert "ACME Corp — run_acme1" in text
    assert "run_acme1" in text
    assert "Create opportunity" in text and "401 Unauthorized: token expired" in text
    assert "<!date^" in str(message.blocks)  # start time in each reader's own zone
    assert "reconnect" in text.lower()  # the likely cause's fix
    labels = {button.text: button.value for button in buttons(message)}
    assert labels == {
        "Retrigger": "run_acme1",
        "View details": "run_acme1",
        "Add note": "run_acme1",
    }
    assert message.metadata and message.metadata["event_type"] == "runsbot_alert"


@pytest.mark.parametrize("status", ["finished", "skipped", "running", "pending"])
async def test_runs_that_did_not_fail_are_never_alerted(runsbot: Runsbot, status: str) -> None:
    await runsbot.report(
        **{
            **failure("run_ok"),
            "status": status,
            "error": None,
            "skip_reason": "Deal stage is not Closed Won",
        }
    )
    await runsbot.dispatcher.dispatch()
    await runsbot.dispatcher.idle()
    assert runsbot.slack.calls_to("chat.postMessage") == []


async def test_a_failure_reported_again_is_alerted_once(runsbot: Runsbot) -> None:
    await runsbot.report(**failure("run_twice"))
    await runsbot.report(**failure("run_twice", updated_at="2026-11-20T10:03:00Z"))
    await runsbot.report(**{**failure("run_twice"), "status": "running"})
    await wait_until(lambda: runsbot.slack.messages(ALERTS_CHANNEL))
    await runsbot.dispatcher.dispatch()
    await runsbot.dispatcher.idle()
    assert times_named(runsbot.slack) == {"run_twice": 1}


async def test_alerts_go_to_the_workflows_own_channel(runsbot: Runsbot) -> None:
    response = await runsbot.api.put(
        "/api/v1/workflows/hubspot-salesforce",
        json={"source": "HubSpot", "destination": "Salesforce", "alert_channel": OPS_CHANNEL},
    )
    assert response.status == 201
    await runsbot.report(**failure("run_ops"))
    await wait_until(lambda: runsbot.slack.messages(OPS_CHANNEL))
    assert runsbot.slack.messages(ALERTS_CHANNEL) == []


async def test_subscribed_channels_get_the_alert_instead_of_the_default(runsbot: Runsbot) -> None:
    everything = "C0EVERYTH1"
    runsbot.slack.add_channel(everything, "all-failures")
    await runsbot.api.put(
        "/api/v1/workflows/hubspot-salesforce",
        json={"source": "HubSpot", "destination": "Salesforce"},
    )
    now = datetime.now(UTC)
    async with runsbot.store.engine.begin() as connection:
        await connection.execute(
            insert(Subscription),
            [
                {
                    "channel_id": channel,
                    "workflow_id": workflow,
                    "created_by": "U0A",
                    "created_at": now,
                }
                for channel, workflow in ((OPS_CHANNEL, "hubspot-salesforce"), (everything, None))
            ],
        )
    await runsbot.report(**failure("run_subscribed"))
    other = {"id": "stripe-quickbooks", "source": "Stripe", "destination": "QuickBooks"}
    await runsbot.report(**failure("run_other", workflow=other))
    await wait_until(lambda: len(runsbot.slack.messages(everything)) == 2, timeout=10)
    await wait_until(lambda: runsbot.slack.messages(OPS_CHANNEL), timeout=10)
    await runsbot.dispatcher.idle()
    assert times_named(runsbot.slack, OPS_CHANNEL) == {"run_subscribed": 1}
    assert times_named(runsbot.slack, everything) == {"run_subscribed": 1, "run_other": 1}
    assert runsbot.slack.messages(ALERTS_CHANNEL) == []  # subscriptions replace the default


async def test_a_burst_joins_one_group_alert_that_lists_its_runs_in_the_thread(
    runsbot: Runsbot,
) -> None:
    run_ids = [f"run_burst{n:03d}" for n in range(30)]
    causes = [
        "401 Unauthorized: token expired",
        "504 Gateway Timeout",
        "Required field 'Email' is missing",
    ]
    await runsbot.report_batch([failure(run_id, causes[n % 3]) for n, run_id in enumerate(run_ids)])
    await wait_until(lambda: sum(times_named(runsbot.slack).values()) >= 30, timeout=10)
    named = alerts(runsbot.slack)
    assert times_named(runsbot.slack) == {run_id: 1 for run_id in run_ids}
    assert len(named) == 4  # three alerts of their own, then one group alert
    group_ts = max(named, key=lambda ts: len(named[ts]))
    group = runsbot.slack.message(ALERTS_CHANNEL, group_ts)
    text = rendered_text(group)
    await wait_until(
        lambda: "27" in rendered_text(runsbot.slack.message(ALERTS_CHANNEL, group_ts)), timeout=10
    )
    assert "HubSpot → Salesforce" in text
    replies = runsbot.slack.thread(ALERTS_CHANNEL, group_ts)[1:]
    assert 1 <= len(replies) <= 2  # many runs per thread reply
    assert all(reply.subtype != "thread_broadcast" for reply in replies)  # never in the channel


async def test_an_open_group_keeps_count_as_more_failures_arrive(runsbot: Runsbot) -> None:
    for batch in range(3):
        await runsbot.report_batch([failure(f"run_g{batch}_{n}") for n in range(5)])
        await wait_until(
            lambda b=batch: sum(times_named(runsbot.slack).values()) >= 5 * (b + 1), timeout=10
        )
    assert len(alerts(runsbot.slack)) == 4
    group_ts = max(alerts(runsbot.slack), key=lambda ts: len(alerts(runsbot.slack)[ts]))
    # A message is re-rendered at most every 5 s (bot/alert_dispatcher.py UPDATE_INTERVAL), and each
    # batch above made it stale again: allow two update rounds plus the sweep.
    await wait_until(
        lambda: "12" in rendered_text(runsbot.slack.message(ALERTS_CHANNEL, group_ts)), timeout=30
    )
    assert runsbot.slack.calls_to("chat.update")


async def test_rate_limits_are_waited_out_and_the_alert_posted_once(runsbot: Runsbot) -> None:
    runsbot.slack.script(
        "chat.postMessage",
        [RateLimited(retry_after=1), RateLimited(retry_after=1), RateLimited(retry_after=1)],
    )
    started = time.monotonic()
    await runsbot.report(**failure("run_rl"))
    await wait_until(lambda: runsbot.slack.messages(ALERTS_CHANNEL), timeout=15)
    assert time.monotonic() - started >= 2.0  # Retry-After was honoured
    await runsbot.dispatcher.idle()
    assert times_named(runsbot.slack) == {"run_rl": 1}
    assert len(runsbot.slack.throttled()) == 3


def assert_waited_after_each_429(calls: list[Call], retry_after: float) -> None:
    """Each 429 is followed by a call of the same kind, at least `retry_after` later: the next
    update (the limit holds every update), or the next post or search in its channel."""

    def kind(call: Call) -> tuple[str, Any]:
        return call.method, None if call.method == "chat.update" else call.params.get("channel")

    for index, answered in enumerate(calls):
        if answered.status != 429:
            continue
        following = next(call for call in calls[index + 1 :] if kind(call) == kind(answered))
        waited = following.received_at - answered.received_at
        assert waited >= retry_after - 0.05, f"{answered.method} again after {waited:.2f} s"


async def test_a_rate_limited_post_waits_for_retry_after(swept_often: Runsbot) -> None:
    swept_often.slack.script("chat.postMessage", [RateLimited(retry_after=3)] * 2)
    await swept_often.report(**failure("run_rl3"))
    await wait_until(lambda: swept_often.slack.messages(ALERTS_CHANNEL), timeout=20)
    await swept_often.dispatcher.idle()
    posts = swept_often.slack.calls_to("chat.postMessage")
    assert [call.status for call in posts] == [429, 429, 200]
    assert_waited_after_each_429(posts, retry_after=3)
    assert times_named(swept_often.slack) == {"run_rl3": 1}


async def test_a_rate_limited_update_waits_for_retry_after(
    swept_often: Runsbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Updates come quickly here (and the sweep too), so only Retry-After can hold the next
    # one back.
    monkeypatch.setattr("bot.alert_dispatcher.UPDATE_INTERVAL", timedelta(seconds=0.1))
    monkeypatch.setattr("bot.alert_dispatcher.UPDATE_SPACING", 0.05)
    await swept_often.report(**failure("run_upd", updated_at="2026-11-20T10:02:09Z"))
    await wait_until(lambda: swept_often.slack.messages(ALERTS_CHANNEL))
    swept_often.slack.script("chat.update", [RateLimited(retry_after=3)] * 2)
    finished = {"workflow": HUBSPOT, "reference": "ACME", "status": "finished"}
    await swept_often.report(id="run_upd", updated_at="2026-11-20T10:30:00Z", **finished)
    await wait_until(
        lambda: [call for call in swept_often.slack.calls_to("chat.update") if call.status == 200],
        timeout=20,
    )
    calls = swept_often.slack.calls_to("chat.update")
    assert [call.status for call in calls] == [429, 429, 200]
    assert_waited_after_each_429(calls, retry_after=3)


async def test_a_rate_limited_search_for_a_lost_post_waits_for_retry_after(
    swept_often: Runsbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only Retry-After can hold the next search back (the sweep comes every 0.2 s).
    monkeypatch.setattr("bot.alert_dispatcher.MAX_BACKOFF", 0.1)
    swept_often.slack.script("chat.postMessage", [ServerError(503)])  # posted or not: unknown
    swept_often.slack.script("conversations.history", [RateLimited(retry_after=3)] * 2)
    await swept_often.report(**failure("run_search"))
    await wait_until(lambda: swept_often.slack.messages(ALERTS_CHANNEL), timeout=20)
    await swept_often.dispatcher.idle()
    searches = swept_often.slack.calls_to("conversations.history")
    assert [call.status for call in searches] == [429, 429, 200]
    assert_waited_after_each_429(searches, retry_after=3)
    assert times_named(swept_often.slack) == {"run_search": 1}


async def test_server_errors_are_retried_and_the_alert_posted_once(runsbot: Runsbot) -> None:
    runsbot.slack.script("chat.postMessage", [ServerError(503), ServerError(500)])
    await runsbot.report(**failure("run_5xx"))
    await wait_until(lambda: runsbot.slack.messages(ALERTS_CHANNEL), timeout=15)
    await runsbot.dispatcher.idle()
    assert times_named(runsbot.slack) == {"run_5xx": 1}


async def test_a_post_whose_answer_was_lost_is_found_not_posted_twice(
    fake_slack: FakeSlack, database_url: str
) -> None:
    # Slack takes the post but answers after the client gave up.
    fake_slack.script("chat.postMessage", [Slow(seconds=1.0)])
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=False), fake_slack, posting_timeout=0.3
    )
    try:
        await bot.report(**failure("run_slow"))
        await wait_until(lambda: fake_slack.calls_to("conversations.history"), timeout=15)
        await bot.dispatcher.idle()
        assert times_named(fake_slack) == {"run_slow": 1}
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
        async with bot.store.engine.connect() as connection:
            pending = await connection.scalar(
                select(func.count())
                .select_from(AlertDelivery)
                .where(AlertDelivery.state != "posted")
            )
        assert pending == 0
    finally:
        await bot.api.close()


async def test_undelivered_alerts_survive_a_restart(
    fake_slack: FakeSlack, database_url: str
) -> None:
    settings = slack_settings(fake_slack, database_url, socket_mode=False)
    fake_slack.script("chat.postMessage", [ServerError(503)])
    first = await start_runsbot(settings, fake_slack)
    await first.report(**failure("run_restart"))
    await wait_until(lambda: len(fake_slack.calls_to("chat.postMessage")) >= 1)
    await first.api.close()  # stopped before Slack took the alert, with a retry due in ~2 s
    assert fake_slack.messages(ALERTS_CHANNEL) == []

    fake_slack.script("chat.postMessage", [])
    second = await start_runsbot(settings, fake_slack)
    try:
        await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL), timeout=20)
        await second.dispatcher.idle()
        assert times_named(fake_slack) == {"run_restart": 1}
    finally:
        await second.api.close()


async def test_a_rate_limit_is_still_waited_out_after_a_restart(
    fake_slack: FakeSlack, database_url: str, quick_sweep: None
) -> None:
    settings = slack_settings(fake_slack, database_url, socket_mode=False)
    fake_slack.script("chat.postMessage", [RateLimited(retry_after=6)])  # beyond CLOSE_GRACE
    first = await start_runsbot(settings, fake_slack)
    await first.report(**failure("run_wait"))
    (throttled,) = await wait_until(fake_slack.throttled)
    await first.api.close()

    second = await start_runsbot(settings, fake_slack)
    try:
        await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL), timeout=20)
        calls = fake_slack.calls_to("chat.postMessage") + fake_slack.calls_to(
            "conversations.history"
        )
        after = [call for call in calls if call.received_at > throttled.received_at]
        assert min(call.received_at for call in after) - throttled.received_at >= 6 - 0.05
        await second.dispatcher.idle()
        assert times_named(fake_slack) == {"run_wait": 1}
    finally:
        await second.api.close()


async def test_an_alert_is_updated_in_place_when_its_run_is_resolved(runsbot: Runsbot) -> None:
    await runsbot.report(**failure("run_fix", updated_at="2026-11-20T10:02:09Z"))
    (message,) = await wait_until(lambda: runsbot.slack.messages(ALERTS_CHANNEL))
    await runsbot.report(
        id="run_fix",
        workflow=HUBSPOT,
        reference="ACME",
        status="finished",
        updated_at="2026-11-20T10:30:00Z",
        result="Created opportunity 0068c",
    )
    await wait_until(lambda: runsbot.slack.calls_to("chat.update"), timeout=15)
    updated = runsbot.slack.message(ALERTS_CHANNEL, message.ts)
    assert "resolved" in rendered_text(updated).lower()
    assert len(runsbot.slack.messages(ALERTS_CHANNEL)) == 1


async def test_alert_pacing_stays_within_one_post_a_second_per_channel(
    fake_slack: FakeSlack, database_url: str
) -> None:
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=False),
        fake_slack,
        post_interval=1.0,
        grouping=GroupingRules(group_from=10, window=timedelta(minutes=5)),
    )
    try:
        await bot.report_batch([failure(f"run_pace{n}") for n in range(4)])
        await wait_until(lambda: len(fake_slack.messages(ALERTS_CHANNEL)) == 4, timeout=15)
        assert fake_slack.max_posts_in_window(ALERTS_CHANNEL, seconds=1.0) <= 1
    finally:
        await bot.api.close()


async def test_without_slack_failures_are_stored_and_no_alert_is_queued(database_url: str) -> None:
    settings = Settings(RUNSBOT_DATABASE_URL=database_url, RUNSBOT_ALERT_CHANNEL=ALERTS_CHANNEL)
    quiet = open_store(settings)
    try:
        (outcome,) = await quiet.report_runs([RunReport.model_validate(failure("run_quiet"))])
        assert outcome.result is ReportResult.CREATED
        async with quiet.engine.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(AlertDelivery)) == 0
    finally:
        await quiet.close()


async def test_socket_mode_delivers_alerts_through_the_same_slack(
    fake_slack: FakeSlack, database_url: str
) -> None:
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=True), fake_slack
    )
    try:
        assert fake_slack.calls_to("apps.connections.open")
        await bot.report(**failure("run_socket"))
        await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL))
        assert times_named(fake_slack) == {"run_socket": 1}
    finally:
        await bot.api.close()
    await asyncio.sleep(0)


async def test_a_group_that_grows_while_its_post_is_in_flight_is_updated_to_the_true_count(
    fake_slack: FakeSlack, database_url: str
) -> None:
    fake_slack.script("chat.postMessage", [Slow(seconds=1.0)])
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=False),
        fake_slack,
        grouping=GroupingRules(group_from=1, linger=timedelta(0)),
    )
    try:
        await bot.report(**failure("run_first"))
        await wait_until(lambda: fake_slack.calls_to("chat.postMessage"))  # the post is slow
        await bot.report(**failure("run_second"))
        await bot.dispatcher.dispatch()  # joins the group before Slack has answered
        (group,) = await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL), timeout=10)
        await wait_until(
            lambda: "2 failures" in rendered_text(fake_slack.message(ALERTS_CHANNEL, group.ts)),
            timeout=20,
        )
        assert times_named(fake_slack) == {"run_first": 1, "run_second": 1}
    finally:
        await bot.api.close()
