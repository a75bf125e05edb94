"""runsbot wired to the fake Slack: the real app, served over real HTTP (or Socket Mode)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.web.async_client import AsyncWebClient

from bot.alert_dispatcher import AlertDispatcher
from bot.config import Settings
from bot.web import DISPATCHER, create_web_app, open_store
from store.alert_planning import GroupingRules
from store.run_store import RunStore
from tests.conftest import API_TOKEN
from tests.fake_slack import ALERTS_CHANNEL, FakeSlack, SlackDriver

# Fast enough for tests; test_alert_pacing checks the real one-second pacing.
TEST_POST_INTERVAL = 0.02


@dataclass
class Runsbot:
    """A running runsbot: its API client, its store, and the Slack it talks to."""

    api: TestClient[Any, Any]
    store: RunStore
    slack: FakeSlack
    dispatcher: AlertDispatcher
    events_url: str
    socket_mode: bool

    def driver(self) -> SlackDriver:
        if self.socket_mode:
            return SlackDriver.socket(self.slack)
        return SlackDriver.http(self.events_url, self.slack)

    async def report(self, **fields: Any) -> dict[str, Any]:
        response = await self.api.post("/api/v1/runs", json=fields)
        assert response.status in (200, 201), await response.text()
        body: dict[str, Any] = await response.json()
        return body

    async def report_batch(self, reports: list[dict[str, Any]]) -> None:
        response = await self.api.post("/api/v1/runs/batch", json={"runs": reports})
        results = (await response.json())["results"]
        assert all(result["status"] in (200, 201) for result in results), results


def slack_settings(
    slack: FakeSlack, database_url: str, *, socket_mode: bool, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "RUNSBOT_DATABASE_URL": database_url,
        "RUNSBOT_API_TOKEN": API_TOKEN,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.api_url,
        "RUNSBOT_ALERT_CHANNEL": ALERTS_CHANNEL,
    }
    if socket_mode:
        values["SLACK_APP_TOKEN"] = slack.app_token
    else:
        values["SLACK_SIGNING_SECRET"] = slack.signing_secret
    values.update(extra)
    return Settings(**values)


async def start_runsbot(
    settings: Settings,
    slack: FakeSlack,
    *,
    grouping: GroupingRules | None = None,
    posting_timeout: float | None = None,
    post_interval: float = TEST_POST_INTERVAL,
    wait_for_socket: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> Runsbot:
    """runsbot serving on 127.0.0.1; in Socket Mode, connected (connecting is in the
    background) unless `wait_for_socket` is False. `clock` is the Slack listeners' "now"."""
    store = open_store(settings)
    await store.upgrade()
    posting_client = None
    if posting_timeout is not None:
        posting_client = AsyncWebClient(
            token=slack.bot_token, base_url=slack.api_url, timeout=posting_timeout
        )
    app = create_web_app(
        settings,
        store,
        grouping=grouping,
        posting_client=posting_client,
        post_interval=post_interval,
        **({} if clock is None else {"clock": clock}),
    )
    client: TestClient[Any, Any] = TestClient(
        TestServer(app, host="127.0.0.1", port=0),
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    await client.start_server()
    socket_mode = settings.slack_app_token is not None
    if socket_mode and wait_for_socket:
        await slack.wait_for_socket()
    return Runsbot(
        api=client,
        store=store,
        slack=slack,
        dispatcher=app[DISPATCHER],
        events_url=str(client.make_url("/slack/events")),
        socket_mode=socket_mode,
    )


@pytest.fixture(params=["http", pytest.param("socket", id="socket")])
def slack_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def runsbot(fake_slack: FakeSlack, database_url: str) -> AsyncIterator[Runsbot]:
    """runsbot in HTTP mode on both databases."""
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=False), fake_slack
    )
    yield bot
    await bot.api.close()


@pytest.fixture
def quick_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sweep every 0.2 s, not 2 s: a retry goes out within 0.2 s of falling due, so a test sees
    the wait runsbot chose, not the sweep's rounding (which hid a Retry-After cut to 70 %)."""
    monkeypatch.setattr("bot.scheduler.ALERT_SWEEP_SECONDS", 0.2)


@pytest.fixture
async def swept_often(
    quick_sweep: None, fake_slack: FakeSlack, database_url: str
) -> AsyncIterator[Runsbot]:
    """runsbot as the `runsbot` fixture starts it, with a quick sweep."""
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=False), fake_slack
    )
    yield bot
    await bot.api.close()


@pytest.fixture(autouse=True)
async def no_block_kit_violations(fake_slack: FakeSlack) -> AsyncIterator[None]:
    """Every test here fails if runsbot sent Slack anything Slack would have rejected."""
    yield
    fake_slack.assert_no_violations()
