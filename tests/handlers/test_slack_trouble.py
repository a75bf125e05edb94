"""Slack down or refusing a token never stops the run API: /healthz and /metrics say how
Slack stands, and alerts wait in the outbox until a token Slack takes is in place."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.config import Settings
from store.models import AlertDelivery, AlertMessage
from tests.fake_slack import (
    ALERTS_CHANNEL,
    ALICE,
    OPS_CHANNEL,
    Error,
    FakeSlack,
    ServerError,
    wait_until,
)
from tests.fake_slack.waiting import holds_for
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot
from tests.handlers.test_failure_alerts import HUBSPOT, failure, times_named
from tests.support.process import unused_port

# Longer than the dispatcher's 2 s sweep, so a retry loop would show within it.
QUIET_WINDOW = 3.0


async def slack_health(bot: Runsbot) -> str:
    response = await bot.api.get("/healthz")
    assert response.status == 200
    state: str = (await response.json())["slack"]
    return state


async def wait_for_health(bot: Runsbot, expected: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (state := await slack_health(bot)) != expected:
        assert loop.time() < deadline, f"/healthz says slack: {state!r}, not {expected!r}"
        await asyncio.sleep(0.05)


async def metric(bot: Runsbot, name: str, **labels: str) -> float:
    text = await (await bot.api.get("/metrics")).text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def refusals(caplog: pytest.LogCaptureFixture, variable: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.ERROR and f"Slack refused {variable}" in record.getMessage()
    ]


async def serving_at_once(settings: Settings, slack: FakeSlack) -> Runsbot:
    """runsbot in Socket Mode, serving the API within seconds whatever Slack does."""
    return await asyncio.wait_for(start_runsbot(settings, slack, wait_for_socket=False), 5.0)


async def alert_rows(bot: Runsbot) -> tuple[list[str], list[int]]:
    """Every delivery's state, and every alert message's attempt count."""
    async with bot.store.engine.connect() as connection:
        states = list(await connection.scalars(select(AlertDelivery.state)))
        attempts = list(await connection.scalars(select(AlertMessage.attempts)))
    return states, attempts


async def test_health_says_ok_once_slack_took_the_bot_token(runsbot: Runsbot) -> None:
    await wait_for_health(runsbot, "ok")
    (check,) = runsbot.slack.calls_to("auth.test")
    assert check.token == runsbot.slack.bot_token and check.ok


async def test_metrics_count_alerts_queued_retried_and_posted(runsbot: Runsbot) -> None:
    assert await metric(runsbot, "runsbot_alerts_queued_total") == 0
    runsbot.slack.script("chat.postMessage", [ServerError(503)])
    await runsbot.report(**failure("run_counted"))
    await wait_until(lambda: runsbot.slack.messages(ALERTS_CHANNEL), timeout=15)
    await runsbot.dispatcher.idle()

    assert await metric(runsbot, "runsbot_alerts_queued_total") == 1
    assert await metric(runsbot, "runsbot_alerts_retried_total") == 1
    assert await metric(runsbot, "runsbot_alerts_posted_total") == 1
    assert await metric(runsbot, "runsbot_alerts_given_up_total") == 0
    errors = await metric(
        runsbot, "runsbot_slack_errors_total", method="chat.postMessage", code="http_503"
    )
    assert errors == 1
    assert await slack_health(runsbot) == "ok"  # Slack answered since


async def test_an_update_of_a_message_that_is_gone_is_given_up_and_counted(
    runsbot: Runsbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.alert_dispatcher.UPDATE_INTERVAL", timedelta(0))
    await runsbot.report(**failure("run_gone", updated_at="2026-11-20T10:02:09Z"))
    await wait_until(lambda: runsbot.slack.messages(ALERTS_CHANNEL))
    runsbot.slack.script("chat.update", [Error("message_not_found")])
    finished = {"workflow": HUBSPOT, "reference": "ACME", "status": "finished"}
    await runsbot.report(id="run_gone", updated_at="2026-11-20T10:30:00Z", **finished)
    await wait_until(lambda: runsbot.slack.calls_to("chat.update"), timeout=10)
    await runsbot.dispatcher.idle()

    assert await metric(runsbot, "runsbot_alerts_given_up_total") == 1
    gone = await metric(
        runsbot, "runsbot_slack_errors_total", method="chat.update", code="message_not_found"
    )
    assert gone == 1
    assert len(runsbot.slack.calls_to("chat.update")) == 1  # not tried again


async def test_a_bot_token_refused_at_start_keeps_alerts_waiting_until_a_restart(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    refused = slack_settings(
        fake_slack, database_url, socket_mode=False, SLACK_BOT_TOKEN="xoxb-revoked-long-ago"
    )
    first = await start_runsbot(refused, fake_slack)
    try:
        await wait_for_health(first, "refused: invalid_auth")
        (line,) = refusals(caplog, "SLACK_BOT_TOKEN")
        assert "restart runsbot" in line and "xoxb-" not in line

        await first.report(**failure("run_waits"))  # the API takes reports regardless
        assert await metric(first, "runsbot_alerts_queued_total") == 1
        await holds_for(QUIET_WINDOW, lambda: not fake_slack.calls_to("chat.postMessage"))
        assert await alert_rows(first) == (["pending"], [])
        assert await slack_health(first) == "refused: invalid_auth"
    finally:
        await first.api.close()
    assert len(refusals(caplog, "SLACK_BOT_TOKEN")) == 1  # one line, not one per sweep

    second = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=False), fake_slack
    )
    try:
        await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL), timeout=10)
        await second.dispatcher.idle()
        assert times_named(fake_slack) == {"run_waits": 1}
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
        assert await slack_health(second) == "ok"
    finally:
        await second.api.close()


async def test_a_token_revoked_mid_run_stops_posting_without_counting_attempts(
    runsbot: Runsbot, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    slack = runsbot.slack
    await wait_for_health(runsbot, "ok")
    slack.script("chat.postMessage", [Error("token_revoked")])
    await runsbot.report(**failure("run_revoked"))
    await wait_for_health(runsbot, "refused: token_revoked")
    (line,) = refusals(caplog, "SLACK_BOT_TOKEN")
    assert "token_revoked" in line

    await runsbot.report(**failure("run_after", reference="Another deal"))
    await holds_for(QUIET_WINDOW, lambda: len(slack.calls_to("chat.postMessage")) == 1)
    states, attempts = await alert_rows(runsbot)
    assert sorted(states) == ["assigned", "pending"] and attempts == [0]
    assert await metric(runsbot, "runsbot_alerts_queued_total") == 2
    assert await metric(runsbot, "runsbot_alerts_retried_total") == 0
    await runsbot.api.close()

    second = await start_runsbot(slack_settings(slack, database_url, socket_mode=False), slack)
    try:
        await wait_until(lambda: len(times_named(slack)) == 2, timeout=15)
        await second.dispatcher.idle()
        assert times_named(slack) == {"run_revoked": 1, "run_after": 1}
    finally:
        await second.api.close()


async def test_a_refusal_answered_to_the_apps_own_calls_stops_the_alerts_too(
    runsbot: Runsbot,
) -> None:
    slack = runsbot.slack
    await wait_for_health(runsbot, "ok")
    # Bolt checks the token of each request's client with auth.test.
    slack.script("auth.test", [Error("account_inactive")])
    async with runsbot.driver() as driver:
        await driver.slash_command("failed", user_id=ALICE, channel_id=OPS_CHANNEL)
    await wait_for_health(runsbot, "refused: account_inactive")

    await runsbot.report(**failure("run_inactive"))
    await holds_for(QUIET_WINDOW, lambda: not slack.calls_to("chat.postMessage"))


async def test_socket_mode_connects_once_slack_answers_with_one_line_per_failed_attempt(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.script("apps.connections.open", [ServerError(503), ServerError(503)])
    settings = slack_settings(fake_slack, database_url, socket_mode=True)
    bot = await serving_at_once(settings, fake_slack)
    try:
        await wait_until(lambda: fake_slack.calls_to("apps.connections.open"))
        assert await slack_health(bot) == "unreachable"
        created = await bot.report(**failure("run_meanwhile"))  # the API does not wait
        assert created["id"] == "run_meanwhile"

        await fake_slack.wait_for_socket(timeout=10)  # 1 s, then 2 s, with jitter
        await wait_for_health(bot, "ok")
        opened = fake_slack.calls_to("apps.connections.open")
        assert [call.status for call in opened] == [503, 503, 200]
        attempts = [r for r in caplog.records if "apps.connections.open" in r.getMessage()]
        assert [r.levelname for r in attempts] == ["WARNING", "WARNING"]
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
        await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL), timeout=10)
    finally:
        await bot.api.close()


async def test_socket_mode_with_slack_unreachable_takes_reports_and_stops_cleanly(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = f"http://127.0.0.1:{unused_port()}/api/"
    settings = slack_settings(fake_slack, database_url, socket_mode=True, SLACK_API_URL=nowhere)
    bot = await serving_at_once(settings, fake_slack)
    try:
        assert await slack_health(bot) == "unreachable"
        await bot.report(**failure("run_offline"))
        await wait_until(
            lambda: [r for r in caplog.records if "Slack is unreachable" in r.getMessage()]
        )
        assert await slack_health(bot) == "unreachable"
    finally:
        await bot.api.close()  # while the connection waits to try again
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_socket_mode_with_the_app_token_refused_names_it_and_still_alerts(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = slack_settings(
        fake_slack, database_url, socket_mode=True, SLACK_APP_TOKEN="xapp-1-A0RUNSBOT-stale"
    )
    bot = await serving_at_once(settings, fake_slack)
    try:
        await wait_for_health(bot, "refused: invalid_auth")
        (line,) = refusals(caplog, "SLACK_APP_TOKEN")
        assert "restart runsbot" in line and "xapp-" not in line
        await holds_for(
            QUIET_WINDOW, lambda: len(fake_slack.calls_to("apps.connections.open")) == 1
        )
        assert fake_slack.socket_connects == 0
        # The bot token still works: alerts go out, only Socket Mode is off.
        await bot.report(**failure("run_posted"))
        await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL), timeout=10)
    finally:
        await bot.api.close()
