"""A retriggered run is not alerted on its own: its outcome updates the original alert, and
the alert's thread gets a line (queued here; posting it is the alert dispatcher's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from store.models import AlertDelivery, AlertThreadLine
from tests.fake_engine import TRIGGER_SECRET, FakeEngine, Hang
from tests.fake_slack import ALERTS_CHANNEL, ALICE, FakeSlack, rendered_text, wait_until
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot

HUBSPOT = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}
ERROR = {"message": "504 Gateway Timeout", "step": "Create opportunity"}


@pytest.fixture
async def retriggering(
    fake_slack: FakeSlack,
    fake_engine: FakeEngine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Runsbot]:
    """runsbot in HTTP mode sending retriggers to the fake engine; alerts re-rendered fast."""
    monkeypatch.setattr("bot.alert_dispatcher.UPDATE_INTERVAL", timedelta(seconds=0.1))
    monkeypatch.setattr("bot.scheduler.RETRIGGER_SWEEP_SECONDS", 0.1)
    monkeypatch.setattr("bot.scheduler.ALERT_SWEEP_SECONDS", 0.2)
    settings = slack_settings(
        fake_slack,
        database_url,
        socket_mode=False,
        RUNSBOT_TRIGGER_URL=fake_engine.trigger_url,
        RUNSBOT_TRIGGER_SECRET=TRIGGER_SECRET,
    )
    bot = await start_runsbot(settings, fake_slack)
    fake_engine.connect(str(bot.api.make_url("")), "test-api-token")
    yield bot
    await bot.api.close()


async def thread_lines(runsbot: Runsbot) -> list[tuple[str, str | None]]:
    async with runsbot.store.engine.connect() as connection:
        rows = await connection.execute(select(AlertThreadLine.kind, AlertThreadLine.run_id))
        return [(kind, run_id) for kind, run_id in rows]


async def alerted_original(runsbot: Runsbot) -> str:
    """The original run failed and its alert was posted: its ts."""
    failed: dict[str, Any] = {"workflow": HUBSPOT, "status": "failed", "error": ERROR}
    await runsbot.report(id="run_original", reference="ACME Corp", payload={"a": 1}, **failed)
    (alert,) = await wait_until(lambda: runsbot.slack.messages(ALERTS_CHANNEL))
    await runsbot.dispatcher.idle()  # the post is recorded
    return alert.ts


async def thread_says(runsbot: Runsbot, ts: str, text: str) -> str:
    """The reply of runsbot's in the alert's thread that says `text`: a plain reply (the
    channel shows the alert alone)."""
    slack = runsbot.slack
    reply = await wait_until(
        lambda: next(
            (m for m in slack.thread(ALERTS_CHANNEL, ts)[1:] if text in rendered_text(m)), None
        ),
        timeout=10,
        message=lambda: [rendered_text(m) for m in slack.thread(ALERTS_CHANNEL, ts)],
    )
    assert reply.subtype != "thread_broadcast"
    assert [m.ts for m in slack.messages(ALERTS_CHANNEL)] == [ts]
    return rendered_text(reply)


async def alert_says(runsbot: Runsbot, ts: str, text: str) -> str:
    slack = runsbot.slack
    return await wait_until(
        lambda: text in (shown := rendered_text(slack.message(ALERTS_CHANNEL, ts))) and shown,
        timeout=10,
        message=lambda: rendered_text(slack.message(ALERTS_CHANNEL, ts)),
    )


@pytest.mark.parametrize(
    ("outcome", "shown"), [("failed", "Still failing"), ("finished", "Retrigger finished")]
)
async def test_the_engines_report_of_the_new_run_updates_the_original_alert_and_its_thread(
    retriggering: Runsbot, fake_engine: FakeEngine, outcome: str, shown: str
) -> None:
    runsbot = retriggering
    ts = await alerted_original(runsbot)
    requested = await runsbot.store.request_retrigger("run_original", requested_by=f"slack:{ALICE}")
    new_run_id = requested.new_run_id
    text = await alert_says(runsbot, ts, "Retriggered by")
    assert new_run_id in text and f"<@{ALICE}>" in text
    await fake_engine.wait_for_requests(1)

    error = "still 504" if outcome == "failed" else None
    answer = await fake_engine.report(new_run_id, status=outcome, error=error)  # type: ignore[arg-type]
    assert answer.status == 200, answer
    text = await alert_says(runsbot, ts, shown)
    assert new_run_id in text
    assert await thread_lines(runsbot) == [("retry_ended", new_run_id)]
    line = {"failed": "is still failing: still 504", "finished": "finished"}[outcome]
    assert new_run_id in await thread_says(runsbot, ts, line)

    await runsbot.dispatcher.dispatch()
    await runsbot.dispatcher.idle()
    alerts = [message.ts for message in runsbot.slack.messages(ALERTS_CHANNEL)]
    assert alerts == [ts], "the retriggered run was alerted on its own"
    async with runsbot.store.engine.connect() as connection:
        queued = await connection.scalar(
            select(func.count())
            .select_from(AlertDelivery)
            .where(AlertDelivery.run_id == new_run_id)
        )
    assert queued == 0
    fake_engine.assert_no_violations()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_retrigger_the_engine_never_takes_fails_the_new_run_and_tells_the_thread(
    retriggering: Runsbot, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.retrigger_dispatcher.SEND_TIMEOUT", 0.2)
    monkeypatch.setattr("bot.retrigger_dispatcher.FIRST_BACKOFF", 0.1)
    monkeypatch.setattr("bot.retrigger_dispatcher.RETRY_WINDOW", timedelta(seconds=1))
    fake_engine.script(fake_engine.trigger_url, [Hang()] * 20)
    runsbot = retriggering
    ts = await alerted_original(runsbot)
    requested = await runsbot.store.request_retrigger("run_original", requested_by=f"slack:{ALICE}")
    text = await alert_says(runsbot, ts, "Still failing")
    assert requested.new_run_id in text
    assert await thread_lines(runsbot) == [("retry_given_up", requested.new_run_id)]
    told = await thread_says(runsbot, ts, "the engine never accepted the retrigger")
    assert f"<@{ALICE}>" in told and requested.new_run_id in told
    detail = await runsbot.store.get_run(requested.new_run_id)
    assert detail is not None and detail.summary.error_message is not None
    assert "did not accept this retrigger" in detail.summary.error_message
