"""Failure alerts against the fake Slack: latency, and a storm under Slack's posting limit.

    .venv/bin/python -m bench.alert_bench [--latency-runs 200] [--storm 5000]

Both parts drive a real `runsbot serve` process (SQLite in a temporary folder) through
its run API, with SLACK_API_URL pointing at the project's fake Slack on 127.0.0.1:

1. latency: one failure at a time, each of its own workflow (so none is grouped), spread
   over enough channels that the one-post-a-second pacing never holds a post back;
   from sending the report to chat.postMessage arriving at an unthrottled fake.
2. storm: `--storm` failures of 10 workflows within `--storm-seconds`, against a fake
   that answers 429 past about one post a second per channel; counts the Slack calls,
   the highest per-channel post rate, and every failure named in no alert or in two.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.fake_slack import ALERTS_CHANNEL, OPS_CHANNEL, FakeSlack, RateLimit, rendered_text
from tests.support.process import start_serve

API_TOKEN = "bench-token"
LATENCY_CHANNELS = 20
# One report per channel at most every 1.2 s: the dispatcher's pacing never waits.
LATENCY_SPACING = 1.2 / LATENCY_CHANNELS
STORM_WORKFLOWS = 10
STORM_CHANNELS = (ALERTS_CHANNEL, OPS_CHANNEL)
STORM_BATCH = 25
# Bounds: no wait in this benchmark runs longer than these.
POST_TIMEOUT = 10.0
DRAIN_TIMEOUT = 600.0
ERRORS = (
    "401 Unauthorized: token expired",
    "504 Gateway Timeout",
    "Required field 'Email' is missing",
    "KeyError: 'line_items'",
)


@asynccontextmanager
async def runsbot_against(slack: FakeSlack) -> AsyncIterator[str]:
    """The URL of a `runsbot serve` on a new SQLite file, talking to `slack`; on exit it is
    stopped and `slack` must have seen nothing Slack would reject. Started in a thread: the
    fake Slack answers on this event loop."""
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/runs.db",
            "RUNSBOT_API_TOKEN": API_TOKEN,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "RUNSBOT_ALERT_CHANNEL": ALERTS_CHANNEL,
        }
        serve = await asyncio.to_thread(start_serve, env, Path(folder))
        try:
            yield serve.url
        finally:
            await asyncio.to_thread(serve.stop)
    slack.assert_no_violations()


def failure(run_id: str, workflow_id: str, rng: random.Random) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow": {"id": workflow_id, "source": "HubSpot", "destination": "Salesforce"},
        "reference": f"ACME Corp — {run_id}",
        "status": "failed",
        "error": {"message": rng.choice(ERRORS), "step": "Create opportunity"},
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def put_workflow(
    http: aiohttp.ClientSession, url: str, workflow_id: str, channel: str
) -> None:
    body = {"source": "HubSpot", "destination": "Salesforce", "alert_channel": channel}
    async with http.put(f"{url}/api/v1/workflows/{workflow_id}", json=body) as response:
        assert response.status in (200, 201), await response.text()


# --- 1. latency -------------------------------------------------------------------------------


async def measure_latency(runs: int) -> dict[str, float]:
    rng = random.Random(1)
    async with FakeSlack() as slack:
        channels = [f"C0BENCH{n:03d}" for n in range(LATENCY_CHANNELS)]
        for channel in channels:
            slack.add_channel(channel, channel.lower())
        async with runsbot_against(slack) as url:
            latencies = await _latencies(slack, url, channels, runs, rng)
    return {
        "runs": float(len(latencies)),
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "max_ms": max(latencies) * 1000,
    }


async def _latencies(
    slack: FakeSlack, url: str, channels: list[str], runs: int, rng: random.Random
) -> list[float]:
    latencies = []
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for n in range(runs):
            await put_workflow(http, url, f"latency-{n}", channels[n % len(channels)])
        for n in range(runs):
            started = time.monotonic()
            posts_before = len(slack.calls_to("chat.postMessage"))
            report = failure(f"run_latency_{n}", f"latency-{n}", rng)
            async with http.post(f"{url}/api/v1/runs", json=report) as response:
                assert response.status == 201, await response.text()
            deadline = started + POST_TIMEOUT
            while len(slack.calls_to("chat.postMessage")) == posts_before:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no alert for run_latency_{n} within {POST_TIMEOUT} s")
                await asyncio.sleep(0.001)
            latencies.append(slack.calls_to("chat.postMessage")[posts_before].received_at - started)
            await asyncio.sleep(max(0.0, started + LATENCY_SPACING - time.monotonic()))
    return latencies


# --- 2. storm ---------------------------------------------------------------------------------

STORM_RUN = re.compile(r"run_storm_\d+")


def times_named(slack: FakeSlack) -> Counter[str]:
    """How many alerts (a message with its thread) name each storm run."""
    return Counter(
        run_id
        for channel in STORM_CHANNELS
        for text in slack.thread_texts(channel).values()
        for run_id in set(STORM_RUN.findall(text))
    )


GROUP_COUNT = re.compile(r"(\d+) failures since")


def stale_groups(slack: FakeSlack) -> int:
    """Group alerts whose count differs from the runs listed in their thread."""
    stale = 0
    for channel in STORM_CHANNELS:
        for message in slack.messages(channel):
            shown = GROUP_COUNT.search(rendered_text(message))
            if shown is None:
                continue
            listed = set()
            for reply in slack.thread(channel, message.ts)[1:]:
                listed |= set(STORM_RUN.findall(rendered_text(reply)))
            stale += int(shown.group(1)) != len(listed)
    return stale


async def run_storm(failures: int, seconds: float) -> dict[str, Any]:
    rng = random.Random(2)
    limit = RateLimit(1.0, burst=3)
    async with FakeSlack(post_limit_per_channel=limit) as slack:
        async with runsbot_against(slack) as url:
            return await _storm(slack, url, failures, seconds, rng)


async def _storm(
    slack: FakeSlack, url: str, failures: int, seconds: float, rng: random.Random
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    workflows = [f"storm-{n}" for n in range(STORM_WORKFLOWS)]
    expected = {f"run_storm_{n}" for n in range(failures)}
    async with aiohttp.ClientSession(headers=headers) as http:
        for n, workflow_id in enumerate(workflows):
            await put_workflow(http, url, workflow_id, STORM_CHANNELS[n % len(STORM_CHANNELS)])
        batches = [
            [
                failure(f"run_storm_{n}", rng.choice(workflows), rng)
                for n in range(start, min(failures, start + STORM_BATCH))
            ]
            for start in range(0, failures, STORM_BATCH)
        ]
        started = time.monotonic()
        for index, batch in enumerate(batches):
            # Spread evenly over the storm's length (ending just inside it).
            await asyncio.sleep(
                max(0.0, started + index * seconds * 0.95 / len(batches) - time.monotonic())
            )
            async with http.post(f"{url}/api/v1/runs/batch", json={"runs": batch}) as response:
                assert response.status == 200, await response.text()
        storm_took = time.monotonic() - started
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while not set(times_named(slack)) >= expected and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    drained = time.monotonic() - started
    await asyncio.sleep(3.0)  # anything posted twice would show by now
    named = times_named(slack)
    settle_deadline = time.monotonic() + 60.0
    while stale_groups(slack) and time.monotonic() < settle_deadline:
        await asyncio.sleep(0.5)
    settled = time.monotonic() - started
    methods = Counter(call.method for call in slack.calls)
    return {
        "failures": failures,
        "storm_s": storm_took,
        "all_named_after_s": drained,
        "slack_calls": len(slack.calls),
        "calls_by_method": dict(methods.most_common()),
        "throttled_429": len(slack.throttled()),
        "max_posts_in_1s": max(slack.max_posts_in_window(c, 1.0) for c in STORM_CHANNELS),
        "max_posts_in_10s": max(slack.max_posts_in_window(c, 10.0) for c in STORM_CHANNELS),
        "counts_true_after_s": settled,
        "stale_groups": stale_groups(slack),
        "missing": len(expected - set(named)),
        "named_twice": sum(1 for count in named.values() if count > 1),
    }


# --- report -----------------------------------------------------------------------------------


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-runs", type=int, default=200)
    parser.add_argument("--storm", type=int, default=5000, help="failures in the storm")
    parser.add_argument("--storm-seconds", type=float, default=60.0)
    args = parser.parse_args()

    latency = await measure_latency(args.latency_runs)
    print(f"alert latency, report sent → chat.postMessage at the fake ({args.latency_runs} runs)")
    print(f"  p50 {latency['p50_ms']:7.1f} ms")
    ok = "pass" if latency["p95_ms"] <= 250 else "FAIL"
    print(f"  p95 {latency['p95_ms']:7.1f} ms   target ≤ 250 ms: {ok}")
    print(f"  max {latency['max_ms']:7.1f} ms")

    storm = await run_storm(args.storm, args.storm_seconds)
    print(
        f"\nstorm: {storm['failures']} failures of {STORM_WORKFLOWS} workflows in "
        f"{storm['storm_s']:.1f} s, {len(STORM_CHANNELS)} channels, fake limit ~1 post/s/channel"
    )
    print(f"  every failure alerted after     {storm['all_named_after_s']:.1f} s")
    print(f"  Slack calls                     {storm['slack_calls']}  {storm['calls_by_method']}")
    print(
        f"  group counts true after         {storm['counts_true_after_s']:.1f} s "
        f"({storm['stale_groups']} still stale)"
    )
    print(f"  429 answers                     {storm['throttled_429']}")
    print(
        f"  most posts in any 1 s / 10 s    {storm['max_posts_in_1s']} / {storm['max_posts_in_10s']} per channel"
    )
    print(
        f"  failures in no alert            {storm['missing']}   target 0: {'pass' if storm['missing'] == 0 else 'FAIL'}"
    )
    print(
        f"  failures in two alerts          {storm['named_twice']}   target 0: {'pass' if storm['named_twice'] == 0 else 'FAIL'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
