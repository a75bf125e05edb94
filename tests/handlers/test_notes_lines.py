"""runsbot's own lines in alert threads: a note from the API, a retrigger that ended or was
never accepted; each posted once, as a plain reply, whatever Slack answers on the way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Retrigger, Run
from store.thread_lines import queue_thread_lines
from store.types import ThreadLineKind
from tests.fake_slack import ALICE, RateLimited, ServerError
from tests.handlers.conftest import Runsbot
from tests.handlers.notes_support import HUBSPOT, alerted, replies, wait_for_reply


async def test_an_api_note_refused_by_slack_twice_is_posted_once_in_the_thread(
    swept_often: Runsbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.alert_dispatcher.FIRST_BACKOFF", 0.1)
    runsbot, slack = swept_often, swept_often.slack
    alert = await alerted(runsbot, "run_api")
    slack.script("chat.postMessage", [ServerError(500), RateLimited(retry_after=1)])
    response = await runsbot.api.post(
        "/api/v1/runs/run_api/notes", json={"author": "ops-bot <engine>", "text": "Token rotated"}
    )
    assert response.status == 201
    lines = await wait_for_reply(slack, alert, "added a note")
    assert lines == ["📝 ops-bot &lt;engine&gt; added a note: Token rotated"]
    posts = [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert [c.status for c in posts] == [500, 429, 200]
    assert all(c.params["thread_ts"] == alert.ts for c in posts)
    assert not any(c.params.get("reply_broadcast") for c in posts)
    # The 500 may have posted: the thread was searched before posting again.
    assert slack.calls_to("conversations.replies")
    await runsbot.dispatcher.dispatch()
    await runsbot.dispatcher.idle()
    assert replies(slack, alert) == lines, "posted once"


async def retriggered(
    runsbot: Runsbot, run_id: str, *, as_run: str, state: str, last_error: str | None = None
) -> None:
    """The retrigger as helper "engine" records it, and the line it queues."""
    await runsbot.report(id=as_run, workflow=HUBSPOT, reference="ACME Corp", status="pending")
    now = datetime.now(UTC)
    async with AsyncSession(runsbot.store.engine) as session, session.begin():
        await session.execute(update(Run).where(Run.id == as_run).values(retry_of=run_id))
        await session.execute(
            insert(Retrigger).values(
                run_id=run_id,
                new_run_id=as_run,
                requested_by=f"slack:{ALICE}",
                state=state,
                trigger_url="http://127.0.0.1:9/trigger",
                body="{}",
                attempts=1,
                next_attempt_at=now,
                last_error=last_error,
                requested_at=now,
                updated_at=now,
            )
        )


async def queue_line(runsbot: Runsbot, run_id: str, kind: ThreadLineKind, new_run: str) -> None:
    async with AsyncSession(runsbot.store.engine) as session, session.begin():
        queued = await queue_thread_lines(
            session, run_id, kind, now=datetime.now(UTC), about_run_id=new_run
        )
    assert queued == 1
    runsbot.dispatcher.wake()


async def test_a_retrigger_that_ended_or_was_never_accepted_gets_a_line_in_the_thread(
    runsbot: Runsbot,
) -> None:
    slack = runsbot.slack
    alert = await alerted(runsbot, "run_first")
    await retriggered(runsbot, "run_first", as_run="run_again", state="ended")
    await runsbot.report(
        id="run_again",
        workflow=HUBSPOT,
        status="failed",
        error={"message": "502 Bad Gateway", "step": "Create opportunity"},
    )
    await queue_line(runsbot, "run_first", ThreadLineKind.RETRY_ENDED, "run_again")
    # Matched by content: on the merged branch the engine's hook may queue its own line too.
    lines = await wait_for_reply(slack, alert, "still failing")
    assert (
        "❌ The retrigger's new run `run_again` is still failing: 502 Bad Gateway "
        "(at step Create opportunity)"
    ) in lines

    other = await alerted(runsbot, "run_second")
    await retriggered(
        runsbot,
        "run_second",
        as_run="run_never",
        state="given_up",
        last_error="engine answered 503 for 15 minutes",
    )
    await queue_line(runsbot, "run_second", ThreadLineKind.RETRY_GIVEN_UP, "run_never")
    lines = await wait_for_reply(slack, other, "never accepted")
    (line,) = [line for line in lines if "never accepted" in line]
    assert f"<@{ALICE}>" in line and "`run_never`" in line
    assert "engine answered 503 for 15 minutes" in line and "marked failed" in line

    third = await alerted(runsbot, "run_third")
    await retriggered(runsbot, "run_third", as_run="run_fine", state="ended")
    await runsbot.report(id="run_fine", workflow=HUBSPOT, status="finished")
    await queue_line(runsbot, "run_third", ThreadLineKind.RETRY_ENDED, "run_fine")
    lines = await wait_for_reply(slack, third, "finished")
    assert "✅ The retrigger's new run `run_fine` finished." in lines
