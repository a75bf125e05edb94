"""`runsbot serve` as an operator runs it, with Slack unreachable or refusing a token: the
run API answers at once, the log says what is wrong in one line, and nothing is lost."""

from __future__ import annotations

import asyncio
import re
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from tests.fake_slack import ALERTS_CHANNEL, FakeSlack, wait_until
from tests.fake_slack.waiting import holds_for
from tests.support.process import ServeProcess, start_serve, unused_port

API_TOKEN = "tok"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
FAILURE = {
    "id": "run_trouble1",
    "workflow": {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"},
    "reference": "ACME Corp — Renewal 2027",
    "status": "failed",
    "error": {"message": "401 Unauthorized: token expired", "step": "Create opportunity"},
}
# Longer than the dispatcher's 2 s sweep, so a retry loop would show within it.
QUIET_WINDOW = 4.5


async def log_lines(serve: ServeProcess, pattern: str, count: int = 1) -> list[str]:
    """The first `count` log lines matching `pattern`, waiting (bounded) for them."""

    def matching() -> list[str] | None:
        found = [line for line in list(serve.lines) if re.search(pattern, line)]
        return found if len(found) >= count else None

    return await wait_until(
        matching, timeout=15, message=lambda: f"{pattern!r} x{count} in\n" + "".join(serve.lines)
    )


def logged_at(line: str) -> datetime:
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")


async def get_json(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def report_failure(serve: ServeProcess) -> None:
    async with aiohttp.ClientSession(headers=AUTH) as http:
        async with http.post(f"{serve.url}/api/v1/runs", json=FAILURE) as response:
            assert response.status == 201, await response.text()


async def metric(serve: ServeProcess, name: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{serve.url}/metrics") as response:
        text = await response.text()
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match is not None, text
    return float(match.group(1))


async def wait_for_metric(serve: ServeProcess, name: str, value: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (seen := await metric(serve, name)) != value:
        assert loop.time() < deadline, f"{name} is {seen}, not {value}"
        await asyncio.sleep(0.05)


def assert_stopped_cleanly(serve: ServeProcess, code: int, *secrets: str) -> None:
    assert code == 0
    assert not [line for line in serve.lines if "Traceback" in line]
    assert not [line for line in serve.lines if any(secret in line for secret in secrets)]


def settings_env(tmp_path: Path, **slack: str) -> dict[str, str]:
    return {
        "RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/runs.db",
        "RUNSBOT_API_TOKEN": API_TOKEN,
        "RUNSBOT_ALERT_CHANNEL": ALERTS_CHANNEL,
        **slack,
    }


async def test_socket_mode_with_slack_unreachable_serves_the_api_at_once(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{unused_port()}/api/"
    env = settings_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-offline-0001",
        SLACK_APP_TOKEN="xapp-1-A0OFFLINE-0001",
        SLACK_API_URL=nowhere,
    )
    serve = start_serve(env, tmp_path)  # returns once it says where it listens
    try:
        health = await get_json(f"{serve.url}/healthz")
        assert health == {"status": "ok", "slack": "unreachable"}
        await report_failure(serve)
        attempts = await log_lines(serve, "Slack is unreachable at", count=3)
    finally:
        code = serve.stop(signal.SIGTERM)
    assert_stopped_cleanly(serve, code, "xoxb-offline", "xapp-1-A0OFFLINE")
    assert not [line for line in serve.lines if " ERROR " in line]
    # One line per attempt, none from slack_sdk or Bolt about it...
    about_slack = [line for line in serve.lines if nowhere in line and "Slack is on" not in line]
    assert about_slack == [line for line in serve.lines if "Slack is unreachable at" in line]
    assert "(auth.test: Cannot connect to host" in attempts[0]
    # ...after a wait that doubles from 1 s (less at most a fifth, for jitter).
    waits = [
        (logged_at(later) - logged_at(earlier)).total_seconds()
        for earlier, later in zip(attempts, attempts[1:], strict=False)
    ]
    assert [wait >= 0.8 * 2**n - 0.05 for n, wait in enumerate(waits)] == [True, True], waits


async def test_a_refused_bot_token_is_named_and_its_alerts_go_out_after_a_restart(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    http_mode = {"SLACK_SIGNING_SECRET": fake_slack.signing_secret}
    env = settings_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-not-this-workspaces-token",
        SLACK_API_URL=fake_slack.api_url,
        **http_mode,
    )
    # In a thread: it calls the fake Slack, which answers on this event loop.
    serve = await asyncio.to_thread(start_serve, env, tmp_path)
    try:
        (refused,) = await log_lines(
            serve, r"ERROR .*Slack refused SLACK_BOT_TOKEN \(invalid_auth\)"
        )
        assert "restart runsbot" in refused
        assert (await get_json(f"{serve.url}/healthz"))["slack"] == "refused: invalid_auth"
        await report_failure(serve)
        assert await metric(serve, "runsbot_alerts_queued_total") == 1
        await holds_for(QUIET_WINDOW, lambda: not fake_slack.calls_to("chat.postMessage"))
    finally:
        code = await asyncio.to_thread(serve.stop, signal.SIGTERM)
    assert_stopped_cleanly(serve, code, "xoxb-not-this", fake_slack.signing_secret)
    assert len([line for line in serve.lines if "Slack refused" in line]) == 1

    env["SLACK_BOT_TOKEN"] = fake_slack.bot_token
    again = await asyncio.to_thread(start_serve, env, tmp_path)
    try:
        await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL), timeout=15)
        await wait_for_metric(again, "runsbot_alerts_posted_total", 1)
        assert (await get_json(f"{again.url}/healthz"))["slack"] == "ok"
    finally:
        code = await asyncio.to_thread(again.stop, signal.SIGTERM)
    assert_stopped_cleanly(again, code, fake_slack.bot_token)
    (alert,) = fake_slack.messages(ALERTS_CHANNEL)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    fake_slack.assert_no_violations()


async def test_socket_mode_with_the_app_token_refused_names_it_and_still_alerts(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = settings_env(
        tmp_path,
        SLACK_BOT_TOKEN=fake_slack.bot_token,
        SLACK_APP_TOKEN="xapp-1-A0RUNSBOT-revoked",
        SLACK_API_URL=fake_slack.api_url,
    )
    serve = await asyncio.to_thread(start_serve, env, tmp_path)
    try:
        (refused,) = await log_lines(serve, r"Slack refused SLACK_APP_TOKEN \(invalid_auth\)")
        assert "connections:write" in refused and "restart runsbot" in refused
        assert (await get_json(f"{serve.url}/healthz"))["slack"] == "refused: invalid_auth"
        await holds_for(3.0, lambda: len(fake_slack.calls_to("apps.connections.open")) == 1)
        await report_failure(serve)  # the bot token still works: alerts go out
        await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL), timeout=15)
    finally:
        code = await asyncio.to_thread(serve.stop, signal.SIGTERM)
    assert_stopped_cleanly(serve, code, fake_slack.bot_token, "xapp-1-A0RUNSBOT")
    assert fake_slack.socket_connects == 0


async def test_serve_says_whether_the_run_api_is_on_and_that_slack_is_off(
    tmp_path: Path,
) -> None:
    env = {"RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/runs.db"}
    serve = start_serve(env, tmp_path)
    try:
        await log_lines(serve, r"run API is off \(answers 503\): set RUNSBOT_API_TOKEN")
        assert await get_json(f"{serve.url}/healthz") == {"status": "ok", "slack": "off"}
    finally:
        assert serve.stop(signal.SIGTERM) == 0

    serve = start_serve({**env, "RUNSBOT_API_TOKEN": API_TOKEN}, tmp_path)
    try:
        (line,) = await log_lines(serve, r"run API is on")
        assert API_TOKEN not in line.split("INFO", 1)[1]
        await report_failure(serve)
    finally:
        assert serve.stop(signal.SIGTERM) == 0
