"""What the notes tests share: failures to alert on, and reading an alert's thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from store.alert_planning import GroupingRules
from tests.fake_slack import ALERTS_CHANNEL, FakeSlack, Message, rendered_text, wait_until
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot

HUBSPOT = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}


def failure(run_id: str, minute: int = 2) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow": HUBSPOT,
        "reference": f"ACME Corp — {run_id}",
        "status": "failed",
        "started_at": f"2026-11-20T10:{minute:02d}:03Z",
        "error": {"message": "401 Unauthorized: token expired", "step": "Create opportunity"},
    }


async def alerted(runsbot: Runsbot, run_id: str) -> Message:
    """Report `run_id` failed; its alert once posted and recorded."""
    await runsbot.report(**failure(run_id))
    alert = await wait_until(
        lambda: next(
            (m for m in runsbot.slack.messages(ALERTS_CHANNEL) if run_id in rendered_text(m)),
            None,
        )
    )
    await runsbot.dispatcher.idle()  # its ts is recorded
    return alert


def replies(slack: FakeSlack, alert: Message) -> list[str]:
    """What a person reads in the alert's thread, reply by reply (not the alert itself)."""
    return [rendered_text(m) for m in slack.thread(ALERTS_CHANNEL, alert.ts)[1:]]


async def wait_for_reply(slack: FakeSlack, alert: Message, text: str) -> list[str]:
    """The thread's replies once one contains `text`."""
    return await wait_until(
        lambda: replies(slack, alert) if any(text in r for r in replies(slack, alert)) else None,
        timeout=10,
        message=lambda: f"no reply with {text!r} in {replies(slack, alert)}",
    )


async def notes_on(runsbot: Runsbot, run_id: str) -> list[tuple[str, str, str]]:
    """(author, text, source) of each note on the run, oldest first."""
    detail = await runsbot.store.get_run(run_id)
    assert detail is not None
    return [(note.author, note.text, note.source) for note in detail.notes]


async def wait_for_notes(
    runsbot: Runsbot, run_id: str, expected: list[tuple[str, str, str]]
) -> None:
    """Poll (bounded) until the run's notes are `expected`: event listeners run after the ack."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (seen := await notes_on(runsbot, run_id)) != expected:
        assert loop.time() < deadline, f"notes on {run_id}: {seen}, wanted {expected}"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def group_alerted(
    fake_slack: FakeSlack, database_url: str, *, socket_mode: bool = False
) -> AsyncIterator[tuple[Runsbot, Message]]:
    """runsbot whose alerts are group alerts from the first failure, with one posted for
    run_grp0..2 (listed in its thread): the bot and the group alert."""
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=socket_mode),
        fake_slack,
        grouping=GroupingRules(group_from=1, linger=timedelta(0)),
    )
    try:
        await bot.report_batch([failure(f"run_grp{n}", minute=n) for n in range(3)])
        (group,) = await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL))
        await wait_for_reply(fake_slack, group, "run_grp2")
        await bot.dispatcher.idle()
        yield bot, group
    finally:
        await bot.api.close()
