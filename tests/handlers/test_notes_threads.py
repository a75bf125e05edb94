"""A person's reply in an alert's thread is a note on its run; in a group alert's thread, on
each run it names. Edits and deletions follow the reply, a redelivery adds nothing, and
nothing a bot posts, nor any message outside an alert's thread, is ever a note."""

from __future__ import annotations

import pytest

from tests.fake_slack import (
    ALERTS_CHANNEL,
    ALICE,
    BOB,
    FakeSlack,
    SlackDriver,
    payloads,
    rendered_text,
    wait_until,
)
from tests.handlers.conftest import Runsbot
from tests.handlers.notes_support import (
    alerted,
    group_alerted,
    notes_on,
    wait_for_notes,
)

ALICE_NOTE = f"slack:{ALICE}"


async def test_a_reply_in_an_alerts_thread_is_a_note_edited_and_deleted_with_it(
    runsbot: Runsbot,
) -> None:
    slack = runsbot.slack
    alert = await alerted(runsbot, "run_thr")
    async with runsbot.driver() as driver:
        # Nothing here is a note: a top-level message, a reply under another message, a bot's.
        await driver.user_posts(ALERTS_CHANNEL, BOB, "run_thr is failing again")
        other, _ = await driver.user_posts(ALERTS_CHANNEL, BOB, "standup in 5")
        await driver.user_posts(ALERTS_CHANNEL, BOB, "about run_thr", thread_ts=other.ts)
        for bot_user, bot_id in ((slack.bot_user_id, slack.bot_id), ("U0OTHERBT", "B0OTHERBT")):
            await driver.event(
                {
                    "type": "message",
                    "subtype": "bot_message",
                    "bot_id": bot_id,
                    "user": bot_user,
                    "text": "A bot's words about run_thr",
                    "ts": "1796000100.000001",
                    "thread_ts": alert.ts,
                    "channel": ALERTS_CHANNEL,
                    "channel_type": "channel",
                }
            )

        reply, ack = await driver.user_posts(
            ALERTS_CHANNEL, ALICE, "Token renewed <ops> & retrying", thread_ts=alert.ts
        )
        assert ack.status == 200
        await wait_for_notes(
            runsbot, "run_thr", [(ALICE_NOTE, "Token renewed <ops> & retrying", "slack_thread")]
        )
        # Slack delivers the same event again: nothing more.
        await driver.event(payloads.message_event(slack, reply))
        ack = await driver.slash_command("run_thr", user_id=ALICE, channel_id=ALERTS_CHANNEL)
        (answer,) = await wait_until(lambda: slack.ephemerals(user=ALICE))
        assert "💬 1 note" in rendered_text(answer)
        assert len(await notes_on(runsbot, "run_thr")) == 1

        await driver.user_edits(reply, "Token renewed, retried: fine now")
        await wait_for_notes(
            runsbot, "run_thr", [(ALICE_NOTE, "Token renewed, retried: fine now", "slack_thread")]
        )
        await driver.user_deletes(reply)
        await wait_for_notes(runsbot, "run_thr", [])
    # No line mirrors a thread reply (it is in the thread already).
    assert len(slack.thread(ALERTS_CHANNEL, alert.ts)) == 1


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket"])
async def test_a_reply_in_a_group_thread_is_a_note_on_each_run_it_names(
    fake_slack: FakeSlack, database_url: str, socket_mode: bool
) -> None:
    async with (
        group_alerted(fake_slack, database_url, socket_mode=socket_mode) as (bot, group),
        bot.driver() as driver,
    ):
        await reply_in_the_group(bot, driver, group.ts)


async def reply_in_the_group(bot: Runsbot, driver: SlackDriver, thread_ts: str) -> None:
    slack = bot.slack
    reply, _ = await driver.user_posts(
        ALERTS_CHANNEL, ALICE, "`run_grp0` and run_grp2: deal amount was empty", thread_ts=thread_ts
    )
    text = "`run_grp0` and run_grp2: deal amount was empty"
    for run_id in ("run_grp0", "run_grp2"):
        await wait_for_notes(bot, run_id, [(ALICE_NOTE, text, "slack_thread")])
    assert await notes_on(bot, "run_grp1") == []

    unnamed, _ = await driver.user_posts(
        ALERTS_CHANNEL, BOB, "looking into these", thread_ts=thread_ts
    )
    (hint,) = await wait_until(lambda: slack.ephemerals(user=BOB))
    assert hint.thread_ts == thread_ts
    assert "run_grp" in rendered_text(hint) and "name" in rendered_text(hint)

    await driver.user_edits(reply, "only run_grp1 had the empty amount")
    await wait_for_notes(
        bot, "run_grp1", [(ALICE_NOTE, "only run_grp1 had the empty amount", "slack_thread")]
    )
    await wait_for_notes(bot, "run_grp0", [])
    await wait_for_notes(bot, "run_grp2", [])

    # The hint followed: the edited reply names a run, and becomes its note.
    await driver.user_edits(unnamed, "run_grp2 is a duplicate deal")
    await wait_for_notes(
        bot, "run_grp2", [(f"slack:{BOB}", "run_grp2 is a duplicate deal", "slack_thread")]
    )
