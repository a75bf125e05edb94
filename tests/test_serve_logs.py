"""The log of a real `runsbot serve` keeps its secrets, whatever Bolt and slack_sdk log.

Secrets reach the log through what the libraries log of what they were sent: Bolt logs
a refused request whole (its signature and body, with the credentials Slack puts in it).
So the test sends such requests to a running `runsbot serve` in HTTP mode and reads the
process's own log: the events must be there, the secrets must not.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from tests.fake_slack import ALICE, GENERAL_CHANNEL, FakeSlack, sign
from tests.fake_slack.payloads import slash_command_form
from tests.support.process import ServeProcess, start_serve

API_TOKEN = f"runsbot-api-{secrets.token_hex(12)}"


async def refused(serve: ServeProcess, body: str, headers: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{serve.url}/slack/events",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        ) as response:
            assert response.status == 401


async def test_the_serve_log_names_refused_requests_and_failed_posts_but_no_secret(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = {
        "RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/runs.db",
        "RUNSBOT_API_TOKEN": API_TOKEN,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": fake_slack.signing_secret,
        "SLACK_API_URL": fake_slack.api_url,
    }
    # As Slack sends /runs, signed with the right secret but ten minutes ago (a replay).
    response_url = fake_slack.issue_response_url(channel_id=GENERAL_CHANNEL, user_id=ALICE)
    trigger_id = fake_slack.issue_trigger_id(ALICE)
    replayed = urlencode(
        slash_command_form(
            fake_slack,
            command="/runs",
            text="failed",
            user_id=ALICE,
            channel_id=GENERAL_CHANNEL,
            trigger_id=trigger_id,
            response_url=response_url,
        )
    )
    stale = str(int(time.time()) - 600)
    signature = sign(fake_slack.signing_secret, stale, replayed)
    # As someone trying the endpoint by hand might send it: the signing secret where the
    # signature goes, and every token in the body.
    by_hand = urlencode(
        {
            "token": fake_slack.bot_token,
            "app_token": fake_slack.app_token,
            "api_token": API_TOKEN,
            "command": "/runs",
        }
    )
    # In a thread: runsbot posts to the fake Slack, which answers on this event loop.
    serve = await asyncio.to_thread(start_serve, env, tmp_path)
    try:
        await refused(
            serve, replayed, {"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": signature}
        )
        await refused(
            serve,
            by_hand,
            {
                "X-Slack-Request-Timestamp": str(int(time.time())),
                "X-Slack-Signature": f"v0={fake_slack.signing_secret}",
            },
        )
        # And a Slack call that fails: an alert for a channel the bot is not in.
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {API_TOKEN}"}) as http:
            await http.put(
                f"{serve.url}/api/v1/workflows/hubspot-salesforce",
                json={
                    "source": "HubSpot",
                    "destination": "Salesforce",
                    "alert_channel": GENERAL_CHANNEL,
                },
            )
            async with http.post(
                f"{serve.url}/api/v1/runs",
                json={
                    "workflow": {"id": "hubspot-salesforce"},
                    "reference": "ACME Corp",
                    "status": "failed",
                    "error": {"message": "401 Unauthorized: token expired"},
                },
            ) as response:
                assert response.status == 201
        await asyncio.to_thread(serve.wait_for_line, f"refused a post to {GENERAL_CHANNEL}")
    finally:
        assert serve.stop(signal.SIGTERM) == 0
    log = "".join(serve.lines)
    # The events were logged (so a secret in them would show) ...
    refusals = [line for line in serve.lines if "Invalid request signature" in line]
    assert len(refusals) == 2, log
    # ... and not one secret with them.
    secret_values = {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": fake_slack.signing_secret,
        "SLACK_APP_TOKEN": fake_slack.app_token,
        "RUNSBOT_API_TOKEN": API_TOKEN,
        "the verification token": fake_slack.verification_token,
        "the response_url": response_url.rsplit("/", 1)[-1],
        "the trigger_id": trigger_id,
        "the request signature": signature.removeprefix("v0="),
    }
    leaked = [name for name, value in secret_values.items() if value in log]
    assert leaked == [], f"secrets in the log: {leaked}\n{log}"
