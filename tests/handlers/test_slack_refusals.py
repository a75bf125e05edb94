"""Alerts when Slack says no: a refused post waits and tries again, an update of a message
that is gone is given up, and a channel that cannot be searched gets the post again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.fake_slack import (
    ALERTS_CHANNEL,
    GENERAL_CHANNEL,
    PRIVATE_CHANNEL,
    Call,
    Error,
    FakeSlack,
    ServerError,
    rendered_text,
    wait_until,
)
from tests.handlers.conftest import Runsbot

HUBSPOT = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}


def failure(run_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow": HUBSPOT,
        "reference": f"ACME Corp — {run_id}",
        "status": "failed",
        "started_at": "2026-11-20T10:02:03Z",
        "error": {"message": "504 Gateway Timeout", "step": "Create opportunity"},
        **fields,
    }


def posts_to(slack: FakeSlack, channel: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def times_named(slack: FakeSlack, channel: str, run_id: str) -> int:
    """How many alerts in `channel` name the run (in the message or its thread)."""
    return sum(run_id in text for text in slack.thread_texts(channel).values())


@pytest.mark.parametrize(
    ("channel", "error"),
    [(PRIVATE_CHANNEL, "channel_not_found"), (GENERAL_CHANNEL, "not_in_channel")],
)
async def test_a_post_slack_refuses_is_retried_with_backoff_until_the_channel_works(
    swept_often: Runsbot, channel: str, error: str
) -> None:
    slack = swept_often.slack
    response = await swept_often.api.put(
        "/api/v1/workflows/hubspot-salesforce",
        json={"source": "HubSpot", "destination": "Salesforce", "alert_channel": channel},
    )
    assert response.status == 201
    await swept_often.report(**failure("run_refused"))

    def refused_twice() -> list[Call] | None:
        refused = [call for call in posts_to(slack, channel) if call.error == error]
        return refused if len(refused) >= 2 else None

    refused = await wait_until(
        refused_twice,
        timeout=10,
        message=lambda: f"tried {len(posts_to(slack, channel))} times, wanted a second refusal",
    )
    # Not lost, and not tried again at once: the second try waited (backoff from 2 s, ±20 %).
    waited = refused[1].received_at - refused[0].received_at
    assert waited >= 1.5, f"tried again after {waited:.2f} s"
    slack.channels[channel].bot_is_member = True  # someone invites the bot
    await wait_until(lambda: slack.messages(channel), timeout=15)
    await swept_often.dispatcher.idle()
    posts = posts_to(slack, channel)
    assert [call.error for call in posts] == [error, error, None]
    # The wait doubles: the third try came at least 4 s (−20 %) after the second.
    waited = posts[2].received_at - posts[1].received_at
    assert waited >= 3.0, f"tried a third time after {waited:.2f} s"
    assert times_named(slack, channel, "run_refused") == 1


async def test_an_update_of_an_alert_that_is_gone_is_given_up(
    runsbot: Runsbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any update still due is tried again at every sweep here.
    monkeypatch.setattr("bot.alert_dispatcher.UPDATE_INTERVAL", timedelta(0))
    monkeypatch.setattr("bot.alert_dispatcher.UPDATE_SPACING", 0.0)
    slack = runsbot.slack
    await runsbot.report(**failure("run_gone", updated_at="2026-11-20T10:02:09Z"))
    (alert,) = await wait_until(lambda: slack.messages(ALERTS_CHANNEL))
    await runsbot.dispatcher.idle()  # the post is recorded
    slack.delete_user_message(ALERTS_CHANNEL, alert.ts)  # someone deletes the alert
    resolved = {"workflow": HUBSPOT, "reference": "ACME", "status": "finished"}
    await runsbot.report(id="run_gone", updated_at="2026-11-20T10:30:00Z", **resolved)
    (refused,) = await wait_until(
        lambda: [c for c in slack.calls_to("chat.update") if c.error], timeout=10
    )
    assert refused.error == "message_not_found"
    for _ in range(3):  # sweeps: an update still due would be tried again in each
        await runsbot.dispatcher.dispatch()
        await runsbot.dispatcher.idle(timeout=5)  # a retry loop never idles
    assert len(slack.calls_to("chat.update")) == 1
    assert slack.messages(ALERTS_CHANNEL) == []  # and not posted anew either


@pytest.mark.parametrize("error", ["missing_scope", "not_in_channel"])
async def test_a_post_whose_answer_was_lost_is_posted_again_when_the_channel_cannot_be_searched(
    swept_often: Runsbot, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    monkeypatch.setattr("bot.alert_dispatcher.MAX_BACKOFF", 0.1)
    slack = swept_often.slack
    slack.script("chat.postMessage", [ServerError(503)])  # posted or not: unknown
    slack.script("conversations.history", [Error(error)] * 100)  # and it stays unreadable
    await swept_often.report(**failure("run_unsearchable"))
    (alert,) = await wait_until(lambda: slack.messages(ALERTS_CHANNEL), timeout=10)
    await swept_often.dispatcher.idle()
    calls = [c for c in slack.calls if c.method in ("chat.postMessage", "conversations.history")]
    # A rare duplicate beats a lost alert: one refused search, then the post.
    assert [(c.method, c.error) for c in calls] == [
        ("chat.postMessage", "server_error"),
        ("conversations.history", error),
        ("chat.postMessage", None),
    ]
    assert "run_unsearchable" in rendered_text(alert)
