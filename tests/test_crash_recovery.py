"""A real `runsbot serve` killed with SIGKILL in the middle of a burst loses and
duplicates no alert: every failed run is named in exactly one alert.

The kill lands while Slack holds a post unanswered, so runsbot dies not knowing whether
it was made; Slack makes it anyway. The restarted runsbot must find that post instead of
making it again."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from tests.fake_slack import ALERTS_CHANNEL, OPS_CHANNEL, Call, FakeSlack, Slow, wait_until
from tests.support.process import ServeProcess, start_serve

RUN_ID = re.compile(r"run_crash_[a-z]+_\d+")
WORKFLOWS = [
    (
        {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"},
        ALERTS_CHANNEL,
    ),
    ({"id": "shopify-netsuite", "source": "Shopify", "destination": "NetSuite"}, ALERTS_CHANNEL),
    ({"id": "stripe-quickbooks", "source": "Stripe", "destination": "QuickBooks"}, OPS_CHANNEL),
]
# How long Slack holds the post before making it: runsbot is killed long before.
HOLD_SECONDS = 2.0


def failures(start: int, count: int) -> list[dict[str, Any]]:
    reports = []
    for n in range(start, start + count):
        workflow, _ = WORKFLOWS[n % len(WORKFLOWS)]
        name = workflow["id"].split("-")[0]
        reports.append(
            {
                "id": f"run_crash_{name}_{n}",
                "workflow": workflow,
                "reference": f"Order #{n}",
                "status": "failed",
                "error": {"message": "503 Service Unavailable", "step": "Write"},
            }
        )
    return reports


def times_named(slack: FakeSlack) -> Counter[str]:
    return Counter(
        run_id
        for channel in (ALERTS_CHANNEL, OPS_CHANNEL)
        for text in slack.thread_texts(channel).values()
        for run_id in set(RUN_ID.findall(text))
    )


def held_post(slack: FakeSlack) -> Call | None:
    """The chat.postMessage that Slack is holding (or held), once it has arrived."""
    return next((c for c in slack.calls_to("chat.postMessage") if c.fault is not None), None)


def was_made(slack: FakeSlack, post: Call) -> bool:
    """Whether the channel shows the message `post` asked for (found by its metadata)."""
    channel = post.params["channel"]
    return any(
        message.metadata == post.params["metadata"]
        for top in slack.messages(channel)
        for message in slack.thread(channel, top.ts)
    )


def undelivered(database: Path) -> int:
    """Alert deliveries, messages and thread replies the store has not yet seen posted."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        (count,) = connection.execute(
            "SELECT (SELECT count(*) FROM alert_deliveries WHERE state != 'posted')"
            " + (SELECT count(*) FROM alert_messages WHERE message_ts IS NULL)"
            " + (SELECT count(*) FROM alert_thread_posts WHERE message_ts IS NULL)"
        ).fetchone()
    return int(count)


async def send(serve: ServeProcess, reports: list[dict[str, Any]]) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer tok"}) as http:
        async with http.post(f"{serve.url}/api/v1/runs/batch", json={"runs": reports}) as response:
            assert response.status == 200
            assert all(r["status"] == 201 for r in (await response.json())["results"])


async def test_sigkill_while_slack_holds_a_post_then_restart_alerts_every_failure_exactly_once(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    database = tmp_path / "runs.db"
    env = {
        "RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "RUNSBOT_API_TOKEN": "tok",
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": fake_slack.signing_secret,
        "SLACK_API_URL": fake_slack.api_url,
        "RUNSBOT_ALERT_CHANNEL": ALERTS_CHANNEL,
    }
    # In a thread: starting, it may already post to the fake Slack, which answers on this loop.
    first = await asyncio.to_thread(start_serve, env, tmp_path)
    try:
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer tok"}) as http:
            for workflow, channel in WORKFLOWS:
                await http.put(
                    f"{first.url}/api/v1/workflows/{workflow['id']}",
                    json={
                        **{k: v for k, v in workflow.items() if k != "id"},
                        "alert_channel": channel,
                    },
                )
        await send(first, failures(0, 30))
        await wait_until(lambda: len(fake_slack.messages(ALERTS_CHANNEL)) >= 3, timeout=20)
        fake_slack.script("chat.postMessage", [Slow(seconds=HOLD_SECONDS)])
        await send(first, failures(30, 30))
        held = await wait_until(lambda: held_post(fake_slack), timeout=20)
    finally:
        first.stop(signal.SIGKILL)
    named_before = sum(times_named(fake_slack).values())
    assert named_before < 60, "the kill came too late to test anything"
    assert not was_made(fake_slack, held), "the kill came after Slack answered the post"
    # Slack makes the post though runsbot is gone; the restart must find it, not repeat it.
    await wait_until(lambda: was_made(fake_slack, held), timeout=HOLD_SECONDS + 5)

    second = await asyncio.to_thread(start_serve, env, tmp_path)
    try:
        await send(second, failures(60, 15))
        expected = {report["id"] for report in failures(0, 75)}
        await wait_until(lambda: set(times_named(fake_slack)) >= expected, timeout=60)
        # Nothing more may arrive: the store has seen every post made.
        await wait_until(lambda: undelivered(database) == 0, timeout=30)
    finally:
        assert second.stop(signal.SIGTERM) == 0
    assert not [line for line in second.lines if "Traceback" in line or "ERROR" in line]
    assert times_named(fake_slack) == {run_id: 1 for run_id in expected}
    fake_slack.assert_no_violations()
