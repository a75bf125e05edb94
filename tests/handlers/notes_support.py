"""What the notes tests share: failures to alert on, and reading an alert's thread."""

from __future__ import annotations

from typing import Any

from tests.fake_slack import ALERTS_CHANNEL, FakeSlack, Message, rendered_text, wait_until
from tests.handlers.conftest import Runsbot

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
