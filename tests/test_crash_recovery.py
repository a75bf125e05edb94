"""A real `runsbot serve` killed with SIGKILL in the middle of a burst loses and
duplicates no alert: every failed run is named in exactly one alert."""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from tests.fake_slack import ALERTS_CHANNEL, OPS_CHANNEL, FakeSlack, wait_until
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


async def send(serve: ServeProcess, reports: list[dict[str, Any]]) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer tok"}) as http:
        async with http.post(f"{serve.url}/api/v1/runs/batch", json={"runs": reports}) as response:
            assert response.status == 200
            assert all(r["status"] == 201 for r in (await response.json())["results"])


async def test_sigkill_mid_burst_then_restart_alerts_every_failure_exactly_once(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = {
        "RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/runs.db",
        "RUNSBOT_API_TOKEN": "tok",
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": fake_slack.signing_secret,
        "SLACK_API_URL": fake_slack.api_url,
        "RUNSBOT_ALERT_CHANNEL": ALERTS_CHANNEL,
    }
    first = start_serve(env, tmp_path)
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
        await send(first, failures(30, 30))
        await asyncio.sleep(0.3)
    finally:
        first.stop(signal.SIGKILL)
    named_before = sum(times_named(fake_slack).values())
    assert named_before < 60, "the kill came too late to test anything"

    second = start_serve(env, tmp_path)
    try:
        await send(second, failures(60, 15))
        expected = {report["id"] for report in failures(0, 75)}
        await wait_until(lambda: set(times_named(fake_slack)) >= expected, timeout=60)
        await asyncio.sleep(1.5)  # nothing more may arrive
    finally:
        assert second.stop(signal.SIGTERM) == 0
    assert not [line for line in second.lines if "Traceback" in line or "ERROR" in line]
    assert times_named(fake_slack) == {run_id: 1 for run_id in expected}
    fake_slack.assert_no_violations()
