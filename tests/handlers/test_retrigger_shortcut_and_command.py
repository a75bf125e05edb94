"""The "Retrigger run" message shortcut and `/runs retrigger RUN_ID`: neither retriggers by
itself; each shows the run (or a group alert's runs still to recover) with the Retrigger
button, whose confirm dialog asks, and the click does the rest."""

from __future__ import annotations

from handlers.ids import Action, Shortcut
from store.types import AlertKind
from tests.fake_engine import FakeEngine
from tests.fake_slack import (
    ALERTS_CHANNEL,
    ALICE,
    BOB,
    DAVE,
    Ephemeral,
    Message,
    buttons,
    rendered_text,
    wait_until,
)
from tests.handlers.commands import ask, read
from tests.handlers.conftest import Runsbot
from tests.handlers.retrigger_support import (
    ERROR,
    alerted_failure,
    click_retrigger,
    configured,
    new_answer,
    retrigger_bot,
    retriggers_of,
)

__all__ = ["retrigger_bot"]  # the fixture, used by name


async def use_shortcut(bot: Runsbot, user_id: str, message: Message) -> None:
    async with bot.driver() as driver:
        ack = await driver.message_shortcut(Shortcut.RETRIGGER_MESSAGE, message, user_id=user_id)
    assert ack.status == 200, ack.body


def retrigger_buttons(surface: Ephemeral) -> list[str]:
    """The run IDs the Retrigger buttons of `surface` carry, each asking to confirm."""
    found = [
        element
        for block in surface.blocks
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == Action.RETRIGGER
    ]
    assert all(element.get("confirm") for element in found)
    assert [b.value for b in buttons(surface) if b.action_id == Action.RETRIGGER] == [
        element["value"] for element in found
    ]
    return [str(element["value"]) for element in found]


async def test_the_shortcut_on_a_single_alert_a_group_alert_and_another_message(
    retrigger_bot: Runsbot, fake_engine: FakeEngine
) -> None:
    bot, slack = retrigger_bot, retrigger_bot.slack
    flow = await configured(bot, fake_engine, "wf-shortcut")

    # A single run's alert: its row and a Retrigger button that asks; nothing sent yet.
    alert = await alerted_failure(bot, "run_short1", flow)
    await use_shortcut(bot, ALICE, alert)
    assert await new_answer(bot, ALICE, 0)
    offer = slack.ephemerals(user=ALICE)[-1]
    assert "Retrigger this run" in rendered_text(offer) and offer.channel == ALERTS_CHANNEL
    assert retrigger_buttons(offer) == ["run_short1"]
    assert await retriggers_of(bot, "run_short1") == []
    await click_retrigger(bot, ALICE, message=offer)
    assert "🔁 Retriggered" in await new_answer(bot, ALICE, 1)
    assert len(await retriggers_of(bot, "run_short1")) == 1

    # A group alert (the 4th failure of a workflow within 5 minutes opens one): its runs that
    # failed and are not recovered, each with its button; once one is retriggered, not it.
    for n in (2, 3):
        await alerted_failure(bot, f"run_short{n}", flow)
    for n in (4, 5):
        await bot.report(
            id=f"run_short{n}", workflow=flow, reference=f"ACME {n}", status="failed", error=ERROR
        )
    group = await wait_until(lambda: next(iter(groups(bot)), None), timeout=10)
    await wait_until(lambda: len(slack.thread(ALERTS_CHANNEL, group.ts)) > 1)
    await bot.dispatcher.idle()  # the posts are recorded
    found = await bot.store.alerted_runs(ALERTS_CHANNEL, group.ts)
    assert found is not None and found.kind is AlertKind.GROUP
    await use_shortcut(bot, BOB, group)
    await new_answer(bot, BOB, 0)
    listing = slack.ephemerals(user=BOB)[-1]
    assert "2 runs" in rendered_text(listing)
    assert retrigger_buttons(listing) == list(found.run_ids) == ["run_short4", "run_short5"]
    await click_retrigger(bot, BOB, message=listing, block_id="retrigger_actions:run_short4")
    assert "🔁 Retriggered" in await new_answer(bot, BOB, 1)

    # On the group thread's listing reply: the same, in the thread.
    reply = slack.thread(ALERTS_CHANNEL, group.ts)[1]
    await use_shortcut(bot, BOB, reply)
    await new_answer(bot, BOB, 2)
    listing = slack.ephemerals(user=BOB)[-1]
    assert listing.thread_ts == group.ts and "1 run" in rendered_text(listing)
    assert retrigger_buttons(listing) == ["run_short5"]

    # Any other message, and a person not allowed.
    plain = slack.add_user_message(ALERTS_CHANNEL, ALICE, "Looking into the failures")
    await use_shortcut(bot, ALICE, plain)
    assert "is not one" in await new_answer(bot, ALICE, 2)
    await use_shortcut(bot, DAVE, alert)
    assert "not allowed to retrigger" in await new_answer(bot, DAVE, 0)


def groups(bot: Runsbot) -> list[Message]:
    return [m for m in bot.slack.messages(ALERTS_CHANNEL) if "failures" in rendered_text(m)]


async def test_runs_retrigger_run_id_asks_and_the_click_retriggers(
    retrigger_bot: Runsbot, fake_engine: FakeEngine
) -> None:
    bot, slack = retrigger_bot, retrigger_bot.slack
    flow = await configured(bot, fake_engine, "wf-command")
    await alerted_failure(bot, "run_cmd1", flow)

    offer = await ask(bot, "retrigger run_cmd1", user=BOB)
    assert "Retrigger this run" in rendered_text(offer) and "ACME run_cmd1" in rendered_text(offer)
    assert retrigger_buttons(offer) == ["run_cmd1"]
    assert await retriggers_of(bot, "run_cmd1") == []
    seen = len(slack.ephemerals(user=BOB))
    await click_retrigger(bot, BOB, message=offer)
    answer = await new_answer(bot, BOB, seen)
    ((new_id, by),) = await retriggers_of(bot, "run_cmd1")
    assert by == f"slack:{BOB}" and f"`{new_id}`" in answer

    assert "not available yet" in await read(bot, "retrigger failed wf:wf-command", user=BOB)
    assert "takes one run ID" in await read(bot, "retrigger", user=BOB)
    assert "No run has the ID `run_nope`" in await read(bot, "retrigger run_nope", user=BOB)
    finished = {"workflow": flow, "reference": "Done", "status": "finished"}
    await bot.report(id="run_cmd_done", **finished)
    answer = await ask(bot, "retrigger run_cmd_done", user=BOB)
    assert "is finished" in rendered_text(answer) and retrigger_buttons(answer) == []
    assert "/runs retrigger RUN_ID" in await read(bot, "help", user=BOB)
