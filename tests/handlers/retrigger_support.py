"""A runsbot that can retrigger, and what people do and see around a retrigger in Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handlers.ids import Action
from store.models import Retrigger, Run
from tests.fake_engine import TRIGGER_SECRET, FakeEngine
from tests.fake_slack import (
    ALERTS_CHANNEL,
    CAROL,
    ONCALL_GROUP,
    AckResult,
    Ephemeral,
    FakeSlack,
    Message,
    View,
    rendered_text,
    wait_until,
)
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot

# Carol by her ID; Alice and Bob through the on-call user group; Dave not at all.
RETRIGGER_USERS = f"{CAROL},{ONCALL_GROUP}"
ERROR = {"message": "504 Gateway Timeout", "step": "Create opportunity"}


def workflow(name: str) -> dict[str, str]:
    return {"id": name, "source": "HubSpot", "destination": "Salesforce"}


async def start_retrigger_bot(
    fake_slack: FakeSlack,
    fake_engine: FakeEngine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    socket_mode: bool = False,
) -> Runsbot:
    """runsbot signing retriggers with TRIGGER_SECRET and no RUNSBOT_TRIGGER_URL (each
    workflow `configured` gets the engine's URL of its own); alerts update at once."""
    monkeypatch.setattr("bot.alert_dispatcher.UPDATE_INTERVAL", timedelta(seconds=0.05))
    settings = slack_settings(
        fake_slack,
        database_url,
        socket_mode=socket_mode,
        RUNSBOT_TRIGGER_SECRET=TRIGGER_SECRET,
        RUNSBOT_RETRIGGER_USERS=RETRIGGER_USERS,
    )
    return await start_runsbot(settings, fake_slack)


@pytest.fixture
async def retrigger_bot(
    fake_slack: FakeSlack,
    fake_engine: FakeEngine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Runsbot]:
    bot = await start_retrigger_bot(fake_slack, fake_engine, database_url, monkeypatch)
    yield bot
    await bot.api.close()


async def configured(bot: Runsbot, engine: FakeEngine, name: str) -> dict[str, str]:
    """Workflow `name`, registered with the engine's trigger URL of its own."""
    flow = workflow(name)
    body = {"source": flow["source"], "destination": flow["destination"]}
    response = await bot.api.put(
        f"/api/v1/workflows/{name}", json={**body, "trigger_url": engine.url_for(name)}
    )
    assert response.status in (200, 201), await response.text()
    return flow


async def alerted_failure(bot: Runsbot, run_id: str, flow: dict[str, str]) -> Message:
    """Report `run_id` failed; its alert once posted (and recorded)."""
    await bot.report(
        id=run_id, workflow=flow, reference=f"ACME {run_id}", status="failed", error=ERROR
    )
    alert = await wait_until(
        lambda: next(
            (m for m in bot.slack.messages(ALERTS_CHANNEL) if run_id in rendered_text(m)), None
        ),
        message=f"no alert for {run_id}",
    )
    await bot.dispatcher.idle()
    return alert


async def click_retrigger(
    bot: Runsbot,
    user_id: str,
    *,
    message: Message | Ephemeral | None = None,
    view: View | None = None,
    block_id: str | None = None,
) -> AckResult:
    async with bot.driver() as driver:
        ack = await driver.block_action(
            Action.RETRIGGER, user_id=user_id, message=message, view=view, block_id=block_id
        )
    assert ack.status == 200, ack.body
    return ack


async def new_answer(bot: Runsbot, user_id: str, seen: int) -> str:
    """The one private answer `user_id` got after their first `seen` ones."""
    answers = await wait_until(
        lambda: bot.slack.ephemerals(user=user_id)[seen:], message=f"no answer to {user_id}"
    )
    assert len(answers) == 1, [rendered_text(answer) for answer in answers]
    return rendered_text(answers[0])


async def retriggers_of(bot: Runsbot, run_id: str) -> list[tuple[str, str]]:
    """(new run ID, requested_by) of every retrigger of `run_id` the store holds."""
    async with bot.store.engine.connect() as connection:
        rows = await connection.execute(
            select(Retrigger.new_run_id, Retrigger.requested_by).where(Retrigger.run_id == run_id)
        )
        return [(new_run_id, requested_by) for new_run_id, requested_by in rows]


async def run_count(bot: Runsbot) -> int:
    async with bot.store.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(Run)) or 0)


def alert_text(bot: Runsbot, alert: Message) -> str:
    return rendered_text(bot.slack.message(alert.channel, alert.ts))
