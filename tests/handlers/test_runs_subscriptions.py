"""`/runs subscribe`, `unsubscribe` and `subscriptions` end to end: which channel a workflow's
failures are alerted in, named as `wf:` names a workflow, and what runsbot says when it cannot
post in the channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from handlers.blocks.subscriptions import ChannelAccess, channel_subscriptions, subscribed
from handlers.blocks.text import isolate
from store.models import Subscription
from store.records import WorkflowRecord
from store.subscriptions import (
    ChannelAlerts,
    SubscriptionChange,
    SubscriptionRecord,
    WorkflowLookup,
)
from tests.fake_slack import (
    ALERTS_CHANNEL,
    BOB,
    GENERAL_CHANNEL,
    OPS_CHANNEL,
    PRIVATE_CHANNEL,
    Error,
    FakeSlack,
    check_message,
    rendered_text,
    wait_until,
)
from tests.handlers.commands import read
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot

HUBSPOT = {
    "id": "hubspot-salesforce",
    "source": "HubSpot",
    "destination": "Salesforce",
    "name": "Deals → Opportunities",
}
STRIPE = {
    "id": "stripe-quickbooks",
    "source": "Stripe",
    "destination": "QuickBooks",
    "name": "Payments",
}
SHOPIFY = {"id": "shopify-netsuite", "source": "Shopify", "destination": "NetSuite"}
USAGE = "Usage: `/runs subscribe [WORKFLOW]`"
HUBSPOT_LABEL = "*HubSpot → Salesforce* · Deals → Opportunities (`hubspot-salesforce`)"


async def register(bot: Runsbot, *workflows: dict[str, str], **extra: str) -> None:
    for flow in workflows:
        body = {key: value for key, value in flow.items() if key != "id"} | extra
        response = await bot.api.put(f"/api/v1/workflows/{flow['id']}", json=body)
        assert response.status in (200, 201), await response.text()


def failure(run_id: str, flow: dict[str, str]) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow": flow,
        "reference": f"ACME Corp — {run_id}",
        "status": "failed",
        "error": {"message": "401 Unauthorized: token expired", "step": "Create opportunity"},
    }


def alerted(slack: FakeSlack, channel: str) -> str:
    return "\n".join(slack.thread_texts(channel).values())


async def subscriptions_stored(bot: Runsbot) -> list[tuple[str, str | None]]:
    """(channel, workflow) of each stored subscription, every workflow (None) first."""
    async with bot.store.engine.connect() as connection:
        rows = await connection.execute(select(Subscription.channel_id, Subscription.workflow_id))
        return sorted(
            ((channel, workflow) for channel, workflow in rows), key=lambda r: (r[0], r[1] or "")
        )


@pytest.fixture
async def bot(runsbot: Runsbot) -> AsyncIterator[Runsbot]:
    await register(runsbot, HUBSPOT, STRIPE, SHOPIFY)
    yield runsbot


async def test_after_subscribe_a_failure_is_alerted_in_that_channel_and_after_unsubscribe_no_longer(
    bot: Runsbot,
) -> None:
    text = await read(bot, "subscribe hubspot-salesforce", channel=OPS_CHANNEL)
    assert text.startswith(f"✅ This channel now gets the failure alerts of {HUBSPOT_LABEL}.")
    await bot.report(**failure("run_sub1", HUBSPOT))
    await bot.report(**failure("run_other1", STRIPE))
    await wait_until(lambda: "run_sub1" in alerted(bot.slack, OPS_CHANNEL), timeout=10)
    await wait_until(lambda: "run_other1" in alerted(bot.slack, ALERTS_CHANNEL), timeout=10)
    await bot.dispatcher.idle()
    assert "run_other1" not in alerted(bot.slack, OPS_CHANNEL)
    assert "run_sub1" not in alerted(bot.slack, ALERTS_CHANNEL)  # subscriptions replace it

    text = await read(bot, "unsubscribe hubspot-salesforce", channel=OPS_CHANNEL)
    assert text == f"This channel no longer gets the failure alerts of {HUBSPOT_LABEL}."
    await bot.report(**failure("run_sub2", HUBSPOT))
    await wait_until(lambda: "run_sub2" in alerted(bot.slack, ALERTS_CHANNEL), timeout=10)
    await bot.dispatcher.idle()
    assert "run_sub2" not in alerted(bot.slack, OPS_CHANNEL)
    assert await subscriptions_stored(bot) == []


async def test_a_workflow_is_named_as_wf_names_one_and_subscribing_twice_is_one_subscription(
    bot: Runsbot,
) -> None:
    first = await read(bot, "subscribe HubSpot → Salesforce")
    assert first.startswith(f"✅ This channel now gets the failure alerts of {HUBSPOT_LABEL}.")
    for typed in (
        "hubspot-salesforce",
        "HUBSPOT-SALESFORCE",
        "deals → opportunities",
        "hubspot->salesforce",
        "HubSpot>Salesforce",
        '"HubSpot → Salesforce"',
        'wf:"hubspot → salesforce"',
        "workflow:hubspot-salesforce",
    ):
        again = await read(bot, f"subscribe {typed}", user=BOB)
        assert again.startswith(
            f"This channel already gets the failure alerts of {HUBSPOT_LABEL} (since <!date^"
        ), typed
        assert "by <@U0ALICE01>): nothing changed." in again
    assert await subscriptions_stored(bot) == [(OPS_CHANNEL, "hubspot-salesforce")]


async def test_every_workflow_with_no_argument_and_unsubscribing_it_keeps_single_ones(
    bot: Runsbot,
) -> None:
    assert (await read(bot, "subscribe")).startswith(
        "✅ This channel now gets the failure alerts of *every workflow*."
    )
    assert "already gets the failure alerts of *every workflow*" in await read(bot, "subscribe")
    assert (await read(bot, "subscribe stripe-quickbooks")).startswith(
        "✅ This channel now subscribes to *Stripe → QuickBooks* · Payments "
        "(`stripe-quickbooks`) by itself: it already got its failure alerts"
    )
    assert await subscriptions_stored(bot) == [
        (OPS_CHANNEL, None),
        (OPS_CHANNEL, "stripe-quickbooks"),
    ]
    await bot.report(**failure("run_any", SHOPIFY))
    await wait_until(lambda: "run_any" in alerted(bot.slack, OPS_CHANNEL), timeout=10)
    assert await read(bot, "unsubscribe stripe-quickbooks") == (
        "This channel no longer subscribes to *Stripe → QuickBooks* · Payments "
        "(`stripe-quickbooks`) by itself, but still gets its failure alerts: it subscribes to "
        "every workflow.\nIt still gets the failure alerts of:\n"
        + (await read(bot, "subscriptions")).splitlines()[1]
    )
    await read(bot, "subscribe stripe-quickbooks")

    text = await read(bot, "unsubscribe")
    assert text.splitlines() == [
        "This channel no longer gets the failure alerts of *every workflow*.",
        "It still gets the failure alerts of:",
        text.splitlines()[2],
    ]
    assert text.splitlines()[2].startswith(
        "• *Stripe → QuickBooks* · Payments (`stripe-quickbooks`), since <!date^"
    )
    assert await subscriptions_stored(bot) == [(OPS_CHANNEL, "stripe-quickbooks")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_unsubscribing_what_was_not_subscribed_says_so(bot: Runsbot) -> None:
    text = await read(bot, "unsubscribe stripe-quickbooks")
    assert text == (
        "This channel was not subscribed to *Stripe → QuickBooks* · Payments "
        "(`stripe-quickbooks`): nothing to stop."
    )
    assert await read(bot, "unsubscribe") == (
        "This channel was not subscribed to *every workflow*: nothing to stop."
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_unknown_workflow_offers_the_closest_names_and_subscribes_nothing(
    bot: Runsbot,
) -> None:
    text = await read(bot, "subscribe hubspot-salesfroce")
    # One near name is offered alone, as /runs offers it (store/suggestions.py).
    assert text.startswith(
        f"No workflow is called `{isolate('hubspot-salesfroce')}`. The closest: {HUBSPOT_LABEL}.\n"
    )
    assert USAGE in text
    text = await read(bot, "unsubscribe stripe")
    assert text.startswith(
        f"No workflow is called `{isolate('stripe')}`. The closest: *Stripe → QuickBooks*"
    )
    assert await subscriptions_stored(bot) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_name_that_several_workflows_share_lists_them_and_subscribes_nothing(
    bot: Runsbot,
) -> None:
    await register(bot, {**SHOPIFY, "name": "Payments"})
    text = await read(bot, "subscribe payments")
    assert text.startswith(
        f"`{isolate('payments')}` names 2 workflows: *Shopify → NetSuite* · Payments"
    )
    assert "Name one by its id, like `/runs subscribe shopify-netsuite`." in text
    assert await subscriptions_stored(bot) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_no_workflow_known_yet_says_where_workflows_come_from(runsbot: Runsbot) -> None:
    text = await read(runsbot, "subscribe hubspot")
    assert "none is known yet" in text
    assert await subscriptions_stored(runsbot) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("channel", "sentence"),
    [
        (GENERAL_CHANNEL, "I am not in this channel: invite me with `/invite @runsbot`."),
        (
            PRIVATE_CHANNEL,
            "This is a private channel I was not invited to (or one I cannot see): "
            "invite me with `/invite @runsbot`.",
        ),
        (
            "D0ALICEDM",
            "Alerts go to channels, not direct messages: pick a channel and "
            "`/invite @runsbot` there.",
        ),
    ],
)
async def test_a_channel_runsbot_cannot_post_in_says_how_to_invite_it_and_subscribes_nothing(
    bot: Runsbot, channel: str, sentence: str
) -> None:
    text = await read(bot, "subscribe hubspot-salesforce", channel=channel)
    assert (
        text
        == f"{sentence} Then type `/runs subscribe hubspot-salesforce` again. Nothing was subscribed."
    )
    assert await subscriptions_stored(bot) == []
    # Once invited, the same command works.
    if channel != "D0ALICEDM":
        bot.slack.channels[channel].bot_is_member = True
        assert (await read(bot, "subscribe hubspot-salesforce", channel=channel)).startswith("✅")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_when_slack_does_not_say_whether_runsbot_is_in_the_channel_nothing_is_subscribed(
    bot: Runsbot,
) -> None:
    bot.slack.script("conversations.info", [Error("internal_error")])
    text = await read(bot, "subscribe")
    assert text.startswith("Slack did not tell me whether I can post in this channel: try again")
    assert await subscriptions_stored(bot) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_words_that_cannot_be_read_say_so_and_show_the_usage(bot: Runsbot) -> None:
    text = await read(bot, 'subscribe "HubSpot → Salesforce')
    assert text.startswith('Could not read `/runs subscribe "HubSpot → Salesforce`: The quote')
    assert USAGE in text
    text = await read(bot, 'unsubscribe "HubSpot')
    assert text.startswith('Could not read `/runs unsubscribe "HubSpot`')
    assert await subscriptions_stored(bot) == []


async def test_subscriptions_list_the_channels_and_its_fallback_roles(bot: Runsbot) -> None:
    empty = await read(bot, "subscriptions", channel=OPS_CHANNEL)
    assert empty == (
        "This channel subscribes to no failure alerts: `/runs subscribe` for every "
        "workflow, `/runs subscribe WORKFLOW` for one."
    )
    await read(bot, "subscribe", channel=OPS_CHANNEL)
    await read(bot, "subscribe Payments", channel=OPS_CHANNEL)
    await register(bot, SHOPIFY, alert_channel=OPS_CHANNEL)
    lines = (await read(bot, "subscriptions", channel=OPS_CHANNEL)).splitlines()
    assert lines[0] == "This channel gets the failure alerts of:"
    assert lines[1].startswith("• *every workflow*, since <!date^")
    assert lines[1].endswith("by <@U0ALICE01>")
    assert lines[2].startswith("• *Stripe → QuickBooks* · Payments (`stripe-quickbooks`), since")
    assert lines[3] == (
        "It is the alert channel of *Shopify → NetSuite* (`shopify-netsuite`): it gets their "
        "failures while no channel subscribes to them."
    )
    assert len(lines) == 4

    default = await read(bot, "subscriptions", channel=ALERTS_CHANNEL)
    assert "It is the default alert channel (RUNSBOT_ALERT_CHANNEL)" in default


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_subscriptions_warn_when_runsbot_was_removed_from_the_channel(bot: Runsbot) -> None:
    await read(bot, "subscribe")
    bot.slack.channels[OPS_CHANNEL].bot_is_member = False
    text = await read(bot, "subscriptions")
    assert text.endswith(
        "⚠️ I am not in this channel: invite me with `/invite @runsbot`. "
        "These alerts cannot reach it."
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_subscribe_in_socket_mode(fake_slack: FakeSlack, database_url: str) -> None:
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=True), fake_slack
    )
    try:
        await register(bot, HUBSPOT)
        text = await read(bot, "subscribe hubspot-salesforce")
        assert text.startswith("✅ This channel now gets the failure alerts of")
        assert await subscriptions_stored(bot) == [(OPS_CHANNEL, "hubspot-salesforce")]
    finally:
        await bot.api.close()


def longest_workflow(n: int) -> WorkflowRecord:
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    return WorkflowRecord(
        id=f"{n:03d}-" + "&" * 60,
        source="<ש>" * 85,
        destination="Ω&" * 127 + "!",
        name="@here " + "ñ" * 249,
        trigger_url=None,
        alert_channel=OPS_CHANNEL,
        created_at=moment,
        updated_at=moment,
    )


def test_a_channel_with_hundreds_of_the_longest_subscriptions_fits_in_one_message() -> None:
    workflows = [longest_workflow(n) for n in range(400)]
    records = tuple(
        SubscriptionRecord(OPS_CHANNEL, w, "U0ALICE01", w.created_at) for w in workflows
    )
    alerts = ChannelAlerts(OPS_CHANNEL, records, True, tuple(workflows))
    message = channel_subscriptions(alerts, ChannelAccess.NOT_MEMBER)
    assert check_message(message.to_dict()) == []
    text = rendered_text(message.to_dict())
    assert "…and 250 more." in text and "and 395 more" in text
    assert "<ש>" not in text and "&lt;ש&gt;" in text
    lookup = WorkflowLookup("x", tuple(workflows))
    ambiguous = subscribed(SubscriptionChange(OPS_CHANNEL, lookup, None, False, records))
    assert check_message(ambiguous.to_dict()) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "typed",
    ["x OR 1=1; DROP TABLE subscriptions; --", "🔥🚒", "מיזוג → ספקים", "ACME " * 600],
)
async def test_sql_emoji_right_to_left_and_3000_characters_are_just_a_name(
    bot: Runsbot, typed: str
) -> None:
    text = await read(bot, f"subscribe {typed}")
    assert text.startswith("No workflow is called `")
    assert "The closest: " in text
    assert await subscriptions_stored(bot) == []
