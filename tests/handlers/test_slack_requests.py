"""Requests from Slack that runsbot refuses: answered, and logged without what they carry."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.logs import RedactSecrets
from tests.fake_slack import ALICE, OPS_CHANNEL, wait_until
from tests.fake_slack.driver import sign
from tests.fake_slack.waiting import holds_for
from tests.handlers.conftest import Runsbot

# What a slash command carries that acts on Slack's behalf.
VERIFICATION_TOKEN = "gIkuvaNzQIHg97ATvDxqgjtO"
RESPONSE_URL = "https://hooks.slack.com/commands/T0001/1234/lmno5678PQRS"
TRIGGER_ID = "13345224609.738474920.8088930838d88f008e0"


async def test_a_stale_request_is_refused_and_logged_without_its_credentials(
    runsbot: Runsbot, caplog: pytest.LogCaptureFixture
) -> None:
    body = urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "command": "/runs",
            "text": "failed",
            "response_url": RESPONSE_URL,
            "trigger_id": TRIGGER_ID,
        }
    )
    timestamp = str(int(time.time()) - 600)  # signed correctly, but ten minutes ago
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(runsbot.slack.signing_secret, timestamp, body),
    }
    # Bolt's loggers take the root's level when they are made: set both.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="slack_bolt.RequestVerification")
    async with aiohttp.ClientSession() as session:
        async with session.post(runsbot.events_url, data=body, headers=headers) as response:
            assert response.status == 401
    logged = [record for record in caplog.records if "signature" in record.getMessage()]
    assert logged, "Bolt logs the refused request"
    redact = RedactSecrets()
    for record in caplog.records:
        redact.filter(record)
        message = record.getMessage()
        for secret in (VERIFICATION_TOKEN, RESPONSE_URL, "lmno5678PQRS", TRIGGER_ID):
            assert secret not in message


async def test_a_command_signed_with_another_secret_is_refused_and_not_run(
    runsbot: Runsbot,
) -> None:
    # A signed command is acked before Bolt runs it (bot/slack_app.py): that must not let a
    # forged one through.
    response_url = runsbot.slack.issue_response_url(channel_id=OPS_CHANNEL, user_id=ALICE)
    body = urlencode({"command": "/runs", "text": "help", "response_url": response_url})
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign("another-secret", timestamp, body),
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(runsbot.events_url, data=body, headers=headers) as response:
            assert response.status == 401
        headers["X-Slack-Signature"] = sign(runsbot.slack.signing_secret, timestamp, body)
        async with session.post(runsbot.events_url, data=body, headers=headers) as response:
            assert response.status == 200
    # Only the rightly signed one is answered.
    await wait_until(lambda: runsbot.slack.calls_to("response_url"))
    await holds_for(0.3, lambda: len(runsbot.slack.calls_to("response_url")) == 1)
