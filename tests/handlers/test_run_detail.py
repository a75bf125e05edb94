"""View details, end to end through the fake Slack: from an alert, a /runs page and `/runs show`
it opens the run's modal — the trigger, the payload with secrets masked, each step, the error at
the failed step, the result, the notes and the retry chain — within the trigger_id's 3 s, even
while the store is busy; a huge run stays inside a modal's limits; an unknown ID says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.ids import Action, Block
from handlers.ids import View as ViewId
from store.masking import MASK
from store.models import Retrigger, Run
from store.run_store import RunStore
from tests.fake_engine import FakeEngine
from tests.fake_slack import (
    ACK_DEADLINE,
    ALERTS_CHANNEL,
    ALICE,
    BOB,
    CAROL,
    OPS_CHANNEL,
    Ephemeral,
    FakeSlack,
    Message,
    View,
    buttons,
    rendered_text,
    wait_until,
)
from tests.handlers.commands import ask
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot
from tests.handlers.retrigger_support import (
    alerted_failure,
    click_retrigger,
    configured,
    retrigger_bot,
    retriggers_of,
)

__all__ = ["retrigger_bot"]  # the fixture, used by name

HUBSPOT = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}

SECRET = "hunter2-correct-horse"
API_KEY = "sk-live-9f8e7d6c5b4a3928170abcdef"
PAYLOAD = {
    "deal_id": 9918,
    "owner": "jane.doe@acme.example.com",
    "hubspot": {"portal": 4242, "credentials": {"user": "sync", "password": SECRET}},
    "webhook": f"https://sync:{SECRET}@hooks.example.com/deals?apiKey={API_KEY}",
    "headers": [{"Authorization": f"Bearer {API_KEY}"}],
}
STEPS = [
    {
        "name": "Fetch deal",
        "status": "finished",
        "started_at": "2026-11-20T10:02:03Z",
        "finished_at": "2026-11-20T10:02:04Z",
        "detail": "Deal 9918 fetched from HubSpot",
    },
    {
        "name": "Create opportunity",
        "status": "failed",
        "started_at": "2026-11-20T10:02:04Z",
        "finished_at": "2026-11-20T10:02:09Z",
        "error": "401 Unauthorized: token expired",
    },
]
ERROR = {"message": "401 Unauthorized: token expired", "step": "Create opportunity"}


async def click_view_details(
    bot: Runsbot,
    *,
    user: str = ALICE,
    message: Message | Ephemeral | None = None,
    block_id: str | None = None,
    value: str | None = None,
) -> View:
    """`user` clicks View details; the detail modal that opens for them."""
    before = bot.slack.open_modal(user)
    async with bot.driver() as driver:
        ack = await driver.block_action(
            Action.VIEW_DETAILS,
            value,
            user_id=user,
            message=message,
            block_id=block_id,
            channel_id=None if message else OPS_CHANNEL,
        )
    assert ack.status == 200 and ack.elapsed < ACK_DEADLINE, ack
    return await wait_until(
        lambda: _new_detail_modal(bot.slack, user, before),
        message=lambda: f"no detail modal; calls: {bot.slack.calls_to('views.open')}",
    )


def _new_detail_modal(slack: FakeSlack, user: str, before: View | None) -> View | None:
    modal = slack.open_modal(user)
    if modal is None or modal is before or modal.callback_id != ViewId.RUN_DETAIL:
        return None
    return modal


async def retriggered(runsbot: Runsbot, run_id: str, *, as_run: str) -> None:
    """The retrigger as runsbot records it (made by hand: the chain needs a known ID for the new
    run): the new run, pending and linked to the original by retry_of, and who asked."""
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


async def failed_run_with_a_retry(bot: Runsbot) -> Message:
    """run_original failed (its alert posted), two notes on it, retriggered as run_again."""
    await bot.report(
        id="run_original",
        workflow=HUBSPOT,
        reference="ACME Corp — Renewal 2027",
        status="failed",
        started_at="2026-11-20T10:02:03Z",
        finished_at="2026-11-20T10:02:09Z",
        error=ERROR,
        payload=PAYLOAD,
        steps=STEPS,
        result="Nothing created",
    )
    (alert,) = await wait_until(lambda: bot.slack.messages(ALERTS_CHANNEL))
    for author, note in (("ops-cli", "Token rotated at 10:30"), (f"slack:{BOB}", "Retrying now")):
        response = await bot.api.post(
            "/api/v1/runs/run_original/notes", json={"author": author, "text": note}
        )
        assert response.status == 201, await response.text()
    await retriggered(bot, "run_original", as_run="run_again")
    return alert


async def test_view_details_from_an_alert_a_runs_page_and_runs_show(runsbot: Runsbot) -> None:
    alert = await failed_run_with_a_retry(runsbot)

    modal = await click_view_details(runsbot, message=alert)
    assert modal.private_metadata == "run_original"
    shown = rendered_text(modal)
    for expected in (
        "❌ *Failed*",
        "ACME Corp — Renewal 2027",
        "HubSpot → Salesforce",
        "`run_original`",
        "took 6 s",
        "*Error* at step *\u2068Create opportunity\u2069*",
        '"deal_id": 9918',
        "jane.doe@acme.example.com",
        f'"credentials": "{MASK}"',
        f"https://sync:{MASK}@hooks.example.com/deals?apiKey={MASK}",
        f'"Authorization": "{MASK}"',
        "Fetch deal",
        "Deal 9918 fetched from HubSpot",
        "*Result:* \u2068Nothing created\u2069",
        "Token rotated at 10:30",
        f"<@{BOB}>",
        "Retrying now",
        f"↪️ Retried as `run_again` (⏳ pending; accepted by the engine) · asked by <@{ALICE}>",
    ):
        assert expected in shown, expected
    assert SECRET not in shown and API_KEY not in shown
    failed_step = shown[shown.index("❌ *\u2068Create opportunity") :]
    assert failed_step.index("401 Unauthorized") < failed_step.index("*Notes*")
    # A retrigger is in flight: only Add note is offered.
    actions = [(b.text, b.value) for b in buttons(modal) if b.block_id == Block.DETAIL_ACTIONS]
    assert actions == [("Add note", "run_original")]

    page = await ask(runsbot, "ACME")
    modal = await click_view_details(
        runsbot, user=ALICE, message=page, block_id=f"{Block.RUN_ACTIONS}:run_original"
    )
    assert modal.private_metadata == "run_original"
    assert "Token rotated at 10:30" in rendered_text(modal)

    # The retry chain's runs open in the modal's place.
    async with runsbot.driver() as driver:
        await driver.block_action(
            Action.VIEW_DETAILS,
            user_id=ALICE,
            view=modal,
            block_id=f"{Block.DETAIL_RETRY}:run_again",
        )
    await wait_until(lambda: runsbot.slack.views[modal.id].private_metadata == "run_again")
    assert "🔁 Retry of `run_original`" in rendered_text(runsbot.slack.views[modal.id])
    assert runsbot.slack.open_modal(ALICE) is modal and len(runsbot.slack.modal_stack(ALICE)) == 1

    shown_run = await ask(runsbot, "show run_again", user=BOB)
    modal = await click_view_details(runsbot, user=BOB, message=shown_run)
    assert modal.private_metadata == "run_again"
    assert f"🔁 Retry of `run_original` (❌ failed) · asked by <@{ALICE}>" in rendered_text(modal)

    modal = await click_view_details(runsbot, user=BOB, value="run_does_not_exist")
    assert "No run has the ID `run_does_not_exist`" in rendered_text(modal)
    assert buttons(modal) == []


async def test_a_huge_run_stays_inside_the_modal_limits_and_says_what_was_cut(
    runsbot: Runsbot,
) -> None:
    long_error = ("Traceback <frame> & `code` שלום 👨\u200d👩\u200d👧 " * 300)[:10_000]
    payload = {f"field_{n}": {"text": "x" * 300, "token": SECRET} for n in range(500)}
    steps = [
        {
            "name": f"Step {n}",
            "status": "failed" if n == 59 else "finished",
            "started_at": "2026-11-20T10:02:03Z",
            "detail": "detail " * 200,
            "error": long_error if n == 59 else None,
        }
        for n in range(60)
    ]
    await runsbot.report(
        id="run_huge",
        workflow=HUBSPOT,
        reference="ACME " * 51,
        status="failed",
        error={"message": long_error, "step": "Step 59"},
        payload=payload,
        steps=steps,
    )
    for n in range(200):
        await runsbot.store.add_note(
            "run_huge", author="ops", text=f"note {n} " + "שלום 🚀 " * 100, source="api"
        )
    shown_run = await ask(runsbot, "show run_huge")
    modal = await click_view_details(runsbot, message=shown_run)
    shown = rendered_text(modal)
    assert len(modal.blocks) <= 100
    assert SECRET not in shown
    assert "more lines" in shown and "not shown" in shown
    assert "more characters not shown" in shown
    assert "earlier notes not shown" in shown and "note 199" in shown
    assert "*Steps* (60)" in shown
    steps_shown = sum(f"*\u2068Step {n}\u2069*" in shown for n in range(60))
    assert steps_shown == 60 or f"{60 - steps_shown} more steps not shown" in shown


@asynccontextmanager
async def store_busy(store: RunStore) -> AsyncIterator[None]:
    """The store as slow as it gets for real: on PostgreSQL a migration-like lock holds the
    runs table; on SQLite (where WAL lets readers past any writer) every pooled connection is
    taken by someone else. Released on exit."""
    held: list[AsyncConnection] = []
    try:
        if store.dialect == "postgresql":
            connection = await store.engine.connect()
            held.append(connection)
            await connection.begin()
            await connection.execute(text("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE"))
        else:
            pool: Any = store.engine.pool
            for _ in range(pool.size() + pool._max_overflow):
                held.append(await store.engine.connect())
        yield
    finally:
        for connection in held:
            await connection.close()


async def test_the_modal_opens_within_the_trigger_window_while_the_store_is_busy(
    runsbot: Runsbot,
) -> None:
    await failed_run_with_a_retry(runsbot)
    async with store_busy(runsbot.store):
        loading = await click_view_details(runsbot, value="run_original")
        assert "Loading `run_original`" in rendered_text(loading)
        opened = runsbot.slack.calls_to("views.open")
        assert len(opened) == 1 and opened[0].error is None, opened
    modal = await wait_until(
        lambda: (
            (view := runsbot.slack.views[loading.id])
            and "Token rotated" in rendered_text(view)
            and view
        ),
        message=lambda: rendered_text(runsbot.slack.views[loading.id]),
    )
    assert modal.private_metadata == "run_original"
    assert runsbot.slack.open_modal(ALICE) is modal


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_view_details_in_socket_mode(fake_slack: FakeSlack, database_url: str) -> None:
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=True), fake_slack
    )
    try:
        alert = await failed_run_with_a_retry(bot)
        modal = await click_view_details(bot, message=alert)
        assert "Token rotated at 10:30" in rendered_text(modal)
        assert SECRET not in rendered_text(modal)
    finally:
        await bot.api.close()


async def test_retrigger_inside_the_detail_answers_over_it_and_the_detail_shows_the_retry(
    retrigger_bot: Runsbot, fake_engine: FakeEngine
) -> None:
    bot = retrigger_bot
    flow = await configured(bot, fake_engine, "wf-detail")
    alert = await alerted_failure(bot, "run_in_modal", flow)
    modal = await click_view_details(bot, user=CAROL, message=alert)
    assert [button.action_id for button in buttons(modal)].count(Action.RETRIGGER) == 1

    await click_retrigger(bot, CAROL, view=modal)
    answer = await wait_until(
        lambda: (
            (top := bot.slack.open_modal(CAROL)) is not None
            and top.id != modal.id
            and rendered_text(top)
        ),
        message="no answer over the detail",
    )
    ((new_id, _),) = await retriggers_of(bot, "run_in_modal")
    assert "Retriggered" in answer and new_id in answer
    # Under the answer, the detail itself: the new run in its chain, no second Retrigger.
    detail = await wait_until(
        lambda: new_id in (shown := rendered_text(bot.slack.views[modal.id])) and shown,
        message=lambda: rendered_text(bot.slack.views[modal.id]),
    )
    assert "Retried as" in detail
    assert Action.RETRIGGER not in [b.action_id for b in buttons(bot.slack.views[modal.id])]
    (sent,) = await fake_engine.wait_for_requests(1)
    assert sent.run_id == new_id
