"""The "Add note to run" message shortcut: on a single alert, the note modal for its run; on
a group alert (or its thread's listing), a choice of the group's runs; on anything else, a
private answer that it is not a run alert."""

from __future__ import annotations

from handlers.ids import Block, Shortcut, View
from tests.fake_slack import (
    ALERTS_CHANNEL,
    ALICE,
    BOB,
    FakeSlack,
    SlackDriver,
    rendered_text,
    wait_until,
)
from tests.handlers.conftest import Runsbot
from tests.handlers.notes_support import alerted, group_alerted, notes_on, wait_for_reply


async def test_the_shortcut_on_a_single_alert_or_a_plain_message(runsbot: Runsbot) -> None:
    slack = runsbot.slack
    alert = await alerted(runsbot, "run_short")
    async with runsbot.driver() as driver:
        plain, _ = await driver.user_posts(ALERTS_CHANNEL, BOB, "lunch?")
        ack = await driver.message_shortcut(Shortcut.ADD_NOTE_MESSAGE, plain, user_id=BOB)
        assert ack.status == 200
        (answer,) = await wait_until(lambda: slack.ephemerals(user=BOB))
        assert "Add note to run" in rendered_text(answer)
        assert "not one" in rendered_text(answer)
        assert slack.open_modal(BOB) is None

        await driver.message_shortcut(Shortcut.ADD_NOTE_MESSAGE, alert, user_id=ALICE)
        modal = await wait_until(lambda: slack.open_modal(ALICE))
        assert modal.callback_id == View.ADD_NOTE and "run_short" in rendered_text(modal)
        await driver.view_submission(
            modal, {Block.NOTE_TEXT: {Block.NOTE_TEXT: "Known outage"}}, user_id=ALICE
        )
    await wait_for_reply(slack, alert, "Known outage")
    assert await notes_on(runsbot, "run_short") == [
        (f"slack:{ALICE}", "Known outage", "slack_modal")
    ]


async def test_the_shortcut_on_a_group_alert_offers_its_runs_newest_first(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with group_alerted(fake_slack, database_url) as (bot, group), bot.driver() as driver:
        await note_from_the_group(bot, driver, group.ts)


async def note_from_the_group(bot: Runsbot, driver: SlackDriver, group_ts: str) -> None:
    slack = bot.slack
    group = slack.message(ALERTS_CHANNEL, group_ts)
    listing = slack.thread(ALERTS_CHANNEL, group_ts)[1]
    for message, user in ((group, ALICE), (listing, BOB)):
        await driver.message_shortcut(Shortcut.ADD_NOTE_MESSAGE, message, user_id=user)
        modal = await wait_until(lambda user=user: slack.open_modal(user))
        (select,) = [b for b in modal.blocks if b.get("block_id") == Block.NOTE_RUN]
        offered = [option["value"] for option in select["element"]["options"]]
        assert offered == ["run_grp2", "run_grp1", "run_grp0"]

    modal = slack.open_modal(ALICE)
    assert modal is not None
    await driver.view_submission(
        modal,
        {Block.NOTE_RUN: {Block.NOTE_RUN: "run_grp1"}, Block.NOTE_TEXT: {Block.NOTE_TEXT: "Dup"}},
        user_id=ALICE,
    )
    await wait_for_reply(slack, group, "added a note: Dup")
    assert await notes_on(bot, "run_grp1") == [(f"slack:{ALICE}", "Dup", "slack_modal")]
    assert await notes_on(bot, "run_grp0") == []
