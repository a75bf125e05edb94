"""The Retrigger button end to end: clicked on an alert, on a /runs answer and in a modal,
by people allowed directly or through a user group, many times at once; the engine gets one
signed request per new run, and every clicker is told privately what happened."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.models.blocks import ActionsBlock
from slack_sdk.models.views import View as ViewModel
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.elements import retrigger_button
from tests.fake_engine import FakeEngine
from tests.fake_slack import (
    ALERTS_CHANNEL,
    ALICE,
    BOB,
    CAROL,
    DAVE,
    OPS_CHANNEL,
    Error,
    FakeSlack,
    buttons,
    rendered_text,
    wait_until,
)
from tests.handlers.commands import ask
from tests.handlers.conftest import Runsbot
from tests.handlers.retrigger_support import (
    alert_text,
    alerted_failure,
    click_retrigger,
    configured,
    new_answer,
    retrigger_bot,
    retriggers_of,
    run_count,
    start_retrigger_bot,
)

__all__ = ["retrigger_bot"]  # the fixture, used by name


async def sent_once(engine: FakeEngine, new_run_id: str, *, retry_of: str, by: str) -> None:
    """The engine got one signed request for `new_run_id`, naming the original and the asker."""
    (sent,) = await engine.wait_for_requests(1, run_id=new_run_id)
    assert sent.signature_ok and sent.body is not None
    assert (sent.body["retry_of"], sent.body["requested_by"]) == (retry_of, f"slack:{by}")
    assert engine.count_by_run_id()[new_run_id] == 1


async def test_retrigger_from_an_alert_a_runs_answer_and_a_modal(
    retrigger_bot: Runsbot, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, slack = retrigger_bot, retrigger_bot.slack
    flow = await configured(bot, fake_engine, "wf-surfaces")

    # On the alert, by Alice (allowed through the on-call group): a private line in the channel.
    alert = await alerted_failure(bot, "run_alert1", flow)
    seen = len(slack.ephemerals(user=ALICE))
    await click_retrigger(bot, ALICE, message=alert)
    answer = await new_answer(bot, ALICE, seen)
    ((new_id, by),) = await retriggers_of(bot, "run_alert1")
    assert by == f"slack:{ALICE}"
    assert "🔁 Retriggered" in answer and f"`{new_id}`" in answer
    assert slack.ephemerals(user=ALICE)[-1].channel == ALERTS_CHANNEL
    await wait_until(
        lambda: f"<@{ALICE}>" in alert_text(bot, alert) and new_id in alert_text(bot, alert),
        message=lambda: alert_text(bot, alert),
    )
    await sent_once(fake_engine, new_id, retry_of="run_alert1", by=ALICE)

    # Clicked again later, by Bob on a /runs answer (the alert offers no Retrigger while its
    # retrigger is in flight): told who retriggered it and as which run; nothing new.
    assert "Retrigger" not in [
        button.text for button in buttons(slack.message(alert.channel, alert.ts))
    ]
    earlier = await ask(bot, "run_alert1", user=BOB)
    seen = len(slack.ephemerals(user=BOB))
    await click_retrigger(bot, BOB, message=earlier)
    assert f"<@{ALICE}> already retriggered this run as `{new_id}`" in await new_answer(
        bot, BOB, seen
    )
    assert len(await retriggers_of(bot, "run_alert1")) == 1

    # On Bob's /runs answer: a private line under it, the answer itself left as it was.
    await alerted_failure(bot, "run_page1", flow)
    page = await ask(bot, "run_page1", user=BOB)
    seen = len(slack.ephemerals(user=BOB))
    await click_retrigger(bot, BOB, message=page)
    answer = await new_answer(bot, BOB, seen)
    ((new_id, _),) = await retriggers_of(bot, "run_page1")
    assert f"`{new_id}`" in answer and slack.ephemerals(user=BOB)[-1].channel == OPS_CHANNEL
    assert page in slack.ephemerals(user=BOB)
    await sent_once(fake_engine, new_id, retry_of="run_page1", by=BOB)

    # In a modal (Carol, allowed by her ID): the answer is a small modal pushed over it.
    await alerted_failure(bot, "run_modal1", flow)
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    modal = ViewModel(
        type="modal",
        title="A run",
        blocks=[ActionsBlock(elements=[retrigger_button("run_modal1", "ACME run_modal1")])],
    )
    opened = await client.views_open(trigger_id=slack.issue_trigger_id(CAROL), view=modal)
    await click_retrigger(bot, CAROL, view=slack.views[opened["view"]["id"]])
    pushed = await wait_until(
        lambda: slack.open_modal(CAROL) if len(slack.modal_stack(CAROL)) == 2 else None
    )
    ((new_id, _),) = await retriggers_of(bot, "run_modal1")
    assert "Retriggered" in rendered_text(pushed) and f"`{new_id}`" in rendered_text(pushed)
    await sent_once(fake_engine, new_id, retry_of="run_modal1", by=CAROL)

    # The modal's trigger_id expired before the answer (a very slow store): it goes to Carol's
    # direct messages with runsbot instead of being lost.
    await alerted_failure(bot, "run_modal2", flow)
    modal = ViewModel(
        type="modal",
        title="Another run",
        blocks=[ActionsBlock(elements=[retrigger_button("run_modal2", "ACME run_modal2")])],
    )
    opened = await client.views_open(trigger_id=slack.issue_trigger_id(CAROL), view=modal)
    monkeypatch.setattr(slack, "trigger_ttl", -1.0)
    await click_retrigger(bot, CAROL, view=slack.views[opened["view"]["id"]])
    (direct,) = await wait_until(lambda: slack.messages("D" + CAROL[1:]))
    ((new_id, _),) = await retriggers_of(bot, "run_modal2")
    assert "Retriggered" in rendered_text(direct) and f"`{new_id}`" in rendered_text(direct)

    # The on-call group was asked of Slack once, for every click above.
    assert len(slack.calls_to("usergroups.users.list")) == 1
    fake_engine.assert_no_violations()


async def test_clicks_at_the_same_moment_make_one_run_and_the_others_hear_who_and_which(
    retrigger_bot: Runsbot, fake_engine: FakeEngine
) -> None:
    bot, slack = retrigger_bot, retrigger_bot.slack
    flow = await configured(bot, fake_engine, "wf-race")
    people = (ALICE, BOB, CAROL)

    # Three people click one alert at once.
    alert = await alerted_failure(bot, "run_race1", flow)
    seen = {person: len(slack.ephemerals(user=person)) for person in people}
    await asyncio.gather(*(click_retrigger(bot, person, message=alert) for person in people))
    answers = {person: await new_answer(bot, person, seen[person]) for person in people}
    ((new_id, by),) = await retriggers_of(bot, "run_race1")
    winner = by.removeprefix("slack:")
    assert "🔁 Retriggered" in answers[winner]
    for person in set(people) - {winner}:
        assert f"<@{winner}> already retriggered this run as `{new_id}`" in answers[person]
    await sent_once(fake_engine, new_id, retry_of="run_race1", by=winner)

    # One person double-clicks on a /runs answer: the second click hears it was them.
    await alerted_failure(bot, "run_race2", flow)
    page = await ask(bot, "run_race2", user=ALICE)
    for expected in ("🔁 Retriggered", f"<@{ALICE}> already retriggered this run"):
        seen_alice = len(slack.ephemerals(user=ALICE))
        await click_retrigger(bot, ALICE, message=page)
        assert expected in await new_answer(bot, ALICE, seen_alice)
    assert len(await retriggers_of(bot, "run_race2")) == 1

    # The alert (Alice) and a /runs answer (Bob) at the same moment.
    alert = await alerted_failure(bot, "run_race3", flow)
    page = await ask(bot, "run_race3", user=BOB)
    seen = {person: len(slack.ephemerals(user=person)) for person in (ALICE, BOB)}
    await asyncio.gather(
        click_retrigger(bot, ALICE, message=alert), click_retrigger(bot, BOB, message=page)
    )
    answers = {person: await new_answer(bot, person, seen[person]) for person in (ALICE, BOB)}
    ((new_id, by),) = await retriggers_of(bot, "run_race3")
    winner = by.removeprefix("slack:")
    (loser,) = {ALICE, BOB} - {winner}
    assert "🔁 Retriggered" in answers[winner]
    assert f"<@{winner}> already retriggered this run as `{new_id}`" in answers[loser]
    await sent_once(fake_engine, new_id, retry_of="run_race3", by=winner)
    fake_engine.assert_no_violations()


async def test_who_may_not_or_cannot_retrigger_is_told_so_and_nothing_is_sent(
    fake_slack: FakeSlack,
    fake_engine: FakeEngine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every click asks Slack again, so that one bot shows a denial, a failed lookup and a pass.
    monkeypatch.setattr("bot.retrigger_access.KNOWN_SECONDS", 0.0)
    monkeypatch.setattr("bot.retrigger_access.UNKNOWN_SECONDS", 0.0)
    bot = await start_retrigger_bot(fake_slack, fake_engine, database_url, monkeypatch)
    try:
        flow = await configured(bot, fake_engine, "wf-access")
        alert = await alerted_failure(bot, "run_access1", flow)
        runs = await run_count(bot)

        seen = len(fake_slack.ephemerals(user=DAVE))
        await click_retrigger(bot, DAVE, message=alert)
        answer = await new_answer(bot, DAVE, seen)
        assert "not allowed to retrigger" in answer and "RUNSBOT_RETRIGGER_USERS" in answer

        fake_slack.script("usergroups.users.list", [Error("fatal_error")])
        seen = len(fake_slack.ephemerals(user=ALICE))
        await click_retrigger(bot, ALICE, message=alert)
        assert "could not say whether" in await new_answer(bot, ALICE, seen)
        assert await retriggers_of(bot, "run_access1") == [] and await run_count(bot) == runs

        # A workflow with no trigger URL anywhere: named, and nothing written.
        bare = {"id": "wf-bare", "source": "Zendesk", "destination": "Jira"}
        bare_alert = await alerted_failure(bot, "run_bare1", bare)
        runs = await run_count(bot)
        await click_retrigger(bot, ALICE, message=bare_alert)
        answer = await new_answer(bot, ALICE, seen + 1)
        assert "RUNSBOT_TRIGGER_URL" in answer and "PUT /api/v1/workflows/wf-bare" in answer
        assert await retriggers_of(bot, "run_bare1") == [] and await run_count(bot) == runs

        # A run that is not there (a button from a database since emptied).
        async with bot.driver() as driver:
            await driver.block_action(
                "run_retrigger", "run_gone", user_id=CAROL, channel_id=OPS_CHANNEL
            )
        assert "No run has the ID `run_gone`" in await new_answer(bot, CAROL, 0)

        assert fake_engine.requests() == []
        # Slack answers again: Alice, in the on-call group, may.
        await click_retrigger(bot, ALICE, message=alert)
        assert "🔁 Retriggered" in await new_answer(bot, ALICE, seen + 2)
        assert len(await retriggers_of(bot, "run_access1")) == 1
    finally:
        await bot.api.close()


async def test_the_retrigger_button_in_socket_mode(
    fake_slack: FakeSlack,
    fake_engine: FakeEngine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = await start_retrigger_bot(
        fake_slack, fake_engine, database_url, monkeypatch, socket_mode=True
    )
    try:
        alert = await alerted_failure(
            bot, "run_socket1", await configured(bot, fake_engine, "wf-s")
        )
        await click_retrigger(bot, CAROL, message=alert)
        answer = await new_answer(bot, CAROL, 0)
        ((new_id, _),) = await retriggers_of(bot, "run_socket1")
        assert f"`{new_id}`" in answer
        await wait_until(lambda: f"<@{CAROL}>" in alert_text(bot, alert))
        await sent_once(fake_engine, new_id, retry_of="run_socket1", by=CAROL)
    finally:
        await bot.api.close()
