"""Add note: the button opens the modal, a bad note is refused inside it with the reason, and
a note is stored with its Slack author and mirrored into the alert's thread."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock
from slack_sdk.models.views import View as SlackView
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import delete

from handlers.blocks.elements import note_button
from handlers.ids import Action, Block, View
from store.models import Run
from tests.fake_slack import (
    ALERTS_CHANNEL,
    ALICE,
    BOB,
    CAROL,
    FakeSlack,
    Message,
    SlackDriver,
    rendered_text,
    wait_until,
)
from tests.fake_slack import View as FakeView
from tests.handlers.conftest import Runsbot
from tests.handlers.notes_support import alerted, group_alerted, replies, wait_for_reply


def note(text: str) -> dict[str, dict[str, object]]:
    return {Block.NOTE_TEXT: {Block.NOTE_TEXT: text}}


async def test_a_note_from_the_modal_is_refused_when_empty_or_too_long_then_stored_and_mirrored(
    runsbot: Runsbot,
) -> None:
    alert = await alerted(runsbot, "run_modal")
    async with runsbot.driver() as driver:
        await add_a_note_from_the_alert(runsbot, driver, alert)


async def add_a_note_from_the_alert(runsbot: Runsbot, driver: SlackDriver, alert: Message) -> None:
    slack = runsbot.slack
    ack = await driver.block_action(Action.ADD_NOTE, user_id=ALICE, message=alert)
    assert ack.status == 200
    modal = await wait_until(lambda: slack.open_modal(ALICE))
    assert modal.callback_id == View.ADD_NOTE
    shown = rendered_text(modal)
    assert "ACME Corp — run_modal" in shown and "HubSpot → Salesforce" in shown
    assert "run_modal" in shown

    await driver.view_submission(modal, note("   \n  "), user_id=ALICE)
    assert "empty" in slack.views[modal.id].errors[Block.NOTE_TEXT]
    await driver.view_submission(modal, note("x" * 3001), user_id=ALICE)
    assert "at most 3,000 characters" in slack.views[modal.id].errors[Block.NOTE_TEXT]
    assert "3,001" in slack.views[modal.id].errors[Block.NOTE_TEXT]
    assert not slack.views[modal.id].closed

    ack = await driver.view_submission(
        modal, note("Reconnected <HubSpot> & retried"), user_id=ALICE
    )
    assert ack.status == 200 and slack.views[modal.id].closed
    lines = await wait_for_reply(slack, alert, "added a note")
    assert lines == [f"📝 <@{ALICE}> added a note: Reconnected &lt;HubSpot&gt; &amp; retried"]
    (posted,) = [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert not posted.params.get("reply_broadcast")
    detail = await runsbot.store.get_run("run_modal")
    assert detail is not None
    assert [(n.author, n.text, n.source) for n in detail.notes] == [
        (f"slack:{ALICE}", "Reconnected <HubSpot> & retried", "slack_modal")
    ]
    page = await runsbot.api.get("/api/v1/runs", params={"q": "run_modal"})
    assert (await page.json())["runs"][0]["note_count"] == 1

    # The same button on a /runs row, where the count shows.
    await driver.slash_command("run_modal", user_id=BOB, channel_id=ALERTS_CHANNEL)
    (answer,) = await wait_until(lambda: slack.ephemerals(user=BOB))
    assert "💬 1 note" in rendered_text(answer)
    await driver.block_action(Action.ADD_NOTE, user_id=BOB, message=answer)
    modal = await wait_until(lambda: slack.open_modal(BOB))
    assert modal.callback_id == View.ADD_NOTE and modal.private_metadata == "run_modal"

    # Inside a modal (the run's detail shows the button), the note modal is pushed on top.
    under = await open_a_modal_with_the_button(slack, "run_modal")
    await driver.block_action(Action.ADD_NOTE, user_id=ALICE, view=under)
    stack = await wait_until(
        lambda: len(slack.modal_stack(ALICE)) == 2 and slack.modal_stack(ALICE)
    )
    assert stack[0].id == under.id and stack[1].callback_id == View.ADD_NOTE


async def open_a_modal_with_the_button(slack: FakeSlack, run_id: str) -> FakeView:
    """A modal showing the run's Add note button, as the detail modal does."""
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    modal = SlackView(
        type="modal",
        callback_id=View.RUN_DETAIL,
        title="Run",
        blocks=[ActionsBlock(elements=[note_button(run_id)])],
    )
    await client.views_open(trigger_id=slack.issue_trigger_id(ALICE), view=modal)
    opened = slack.open_modal(ALICE)
    assert opened is not None
    return opened


async def test_a_note_on_a_run_of_a_group_alert_goes_to_the_group_thread_and_a_vanished_run_is_refused(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with group_alerted(fake_slack, database_url) as (bot, group), bot.driver() as driver:
        await note_the_group(bot, driver, group)


async def note_the_group(bot: Runsbot, driver: SlackDriver, group: Message) -> None:
    fake_slack = bot.slack
    await driver.block_action(Action.ADD_NOTE, "run_grp1", user_id=BOB, message=group)
    modal = await wait_until(lambda: fake_slack.open_modal(BOB))
    await driver.view_submission(modal, note("Deal owner fixed the amount"), user_id=BOB)
    lines = await wait_for_reply(fake_slack, group, "added a note")
    assert f"📝 <@{BOB}> added a note: Deal owner fixed the amount" in lines

    await driver.block_action(Action.ADD_NOTE, "run_grp0", user_id=ALICE, message=group)
    modal = await wait_until(lambda: fake_slack.open_modal(ALICE))
    async with bot.store.engine.begin() as connection:
        await connection.execute(delete(Run).where(Run.id == "run_grp0"))
    await driver.view_submission(modal, note("Too late"), user_id=ALICE)
    assert "no longer exists" in fake_slack.views[modal.id].errors[Block.NOTE_TEXT]
    assert sum("added a note" in r for r in replies(fake_slack, group)) == 1
    # The button of a run that is gone: the clicker is told, and no modal opens.
    await driver.block_action(Action.ADD_NOTE, "run_grp0", user_id=CAROL, message=group)
    (answer,) = await wait_until(lambda: fake_slack.ephemerals(user=CAROL))
    assert "run_grp0" in rendered_text(answer) and fake_slack.open_modal(CAROL) is None
