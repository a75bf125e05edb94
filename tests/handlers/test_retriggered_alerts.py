"""A retriggered run is not alerted on its own: its outcome updates the original alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from store.models import AlertDelivery, Retrigger, Run
from tests.fake_slack import ALERTS_CHANNEL, ALICE, rendered_text, wait_until
from tests.handlers.conftest import Runsbot

HUBSPOT = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}
ERROR = {"message": "504 Gateway Timeout", "step": "Create opportunity"}


async def retriggered(runsbot: Runsbot, run_id: str, *, as_run: str) -> None:
    """The retrigger as runsbot records it (asking for one from Slack or the API is not built
    yet): the new run, pending and linked to the original by retry_of, and who asked."""
    await runsbot.report(id=as_run, workflow=HUBSPOT, reference="ACME Corp", status="pending")
    now = datetime.now(UTC)
    async with runsbot.store.engine.begin() as connection:
        await connection.execute(update(Run).where(Run.id == as_run).values(retry_of=run_id))
        await connection.execute(
            insert(Retrigger).values(
                run_id=run_id,
                new_run_id=as_run,
                requested_by=f"slack:{ALICE}",
                state="accepted",
                trigger_url="http://127.0.0.1:9/trigger",
                body="{}",
                attempts=1,
                next_attempt_at=now,
                requested_at=now,
                updated_at=now,
            )
        )


async def test_a_retriggered_run_that_fails_updates_the_original_alert_and_gets_none_of_its_own(
    runsbot: Runsbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.alert_dispatcher.UPDATE_INTERVAL", timedelta(seconds=0.1))
    slack = runsbot.slack
    failed: dict[str, Any] = {"workflow": HUBSPOT, "status": "failed", "error": ERROR}
    await runsbot.report(id="run_original", reference="ACME Corp", **failed)
    (alert,) = await wait_until(lambda: slack.messages(ALERTS_CHANNEL))
    await runsbot.dispatcher.idle()  # the post is recorded
    await retriggered(runsbot, "run_original", as_run="run_again")

    await runsbot.report(id="run_again", **failed)
    await wait_until(
        lambda: "Still failing" in rendered_text(slack.message(ALERTS_CHANNEL, alert.ts)),
        timeout=10,
        message=lambda: rendered_text(slack.message(ALERTS_CHANNEL, alert.ts)),
    )
    assert "run_again" in rendered_text(slack.message(ALERTS_CHANNEL, alert.ts))
    await runsbot.dispatcher.dispatch()
    await runsbot.dispatcher.idle()
    alerts = [message.ts for message in slack.messages(ALERTS_CHANNEL)]
    assert alerts == [alert.ts], "the retriggered run was alerted on its own"
    async with runsbot.store.engine.connect() as connection:
        queued = await connection.scalar(
            select(func.count())
            .select_from(AlertDelivery)
            .where(AlertDelivery.run_id == "run_again")
        )
    assert queued == 0
