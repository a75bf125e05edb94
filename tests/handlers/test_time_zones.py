"""The asker's zone service on its own, against the fake Slack's users.info: cached for an hour,
one lookup per person however many ask at once, UTC (not known) when Slack cannot say."""

from __future__ import annotations

import asyncio
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.time_zones import KNOWN_SECONDS, UNKNOWN_SECONDS, SlackTimeZones
from handlers.commands.request import AskerZone
from tests.fake_slack import ALICE, BOB, Error, FakeSlack, Slow, wait_until


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)


def lookups(fake_slack: FakeSlack) -> list[str]:
    return [str(call.params["user"]) for call in fake_slack.calls_to("users.info")]


async def test_a_zone_is_looked_up_once_an_hour(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    ticks = Ticks()
    zones = SlackTimeZones(client, clock=ticks)
    assert await zones.zone_of(ALICE) == AskerZone(ZoneInfo("Europe/Berlin"), known=True)
    ticks.now += KNOWN_SECONDS - 1
    fake_slack.users[ALICE].tz = "Asia/Tokyo"  # she travelled
    assert (await zones.zone_of(ALICE)).tz == ZoneInfo("Europe/Berlin")
    ticks.now += 1
    assert (await zones.zone_of(ALICE)).tz == ZoneInfo("Asia/Tokyo")
    assert lookups(fake_slack) == [ALICE, ALICE]


async def test_many_at_once_make_one_lookup_per_person(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    zones = SlackTimeZones(client)
    found = await asyncio.gather(*(zones.zone_of(user) for user in [ALICE, BOB] * 50))
    assert {str(zone.tz) for zone in found} == {"Europe/Berlin", "America/Los_Angeles"}
    assert sorted(lookups(fake_slack)) == [ALICE, BOB]


async def test_when_slack_cannot_say_it_is_utc_and_asked_again_a_minute_later(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    ticks = Ticks()
    zones = SlackTimeZones(client, clock=ticks)
    fake_slack.script("users.info", [Error("internal_error")])
    assert await zones.zone_of(ALICE) == AskerZone(UTC, known=False)
    assert not (await zones.zone_of(ALICE)).known  # remembered: Slack is not asked again
    ticks.now += UNKNOWN_SECONDS
    assert (await zones.zone_of(ALICE)).known
    assert not (await zones.zone_of("U0NOBODY1")).known  # user_not_found
    assert lookups(fake_slack) == [ALICE, ALICE, "U0NOBODY1"]


async def test_a_slow_lookup_answers_utc_in_time_and_fills_the_cache_later(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    zones = SlackTimeZones(client, wait_seconds=0.05)
    fake_slack.script("users.info", [Slow(0.3)])
    assert not (await zones.zone_of(ALICE)).known
    assert not (await zones.zone_of(ALICE)).known  # waits on the same lookup, not a new one
    await wait_until(lambda: not zones._zones.in_flight)
    assert (await zones.zone_of(ALICE)).known
    assert lookups(fake_slack) == [ALICE]


async def test_the_cache_keeps_the_most_recent_people_only(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    zones = SlackTimeZones(client, max_people=1)
    await zones.zone_of(ALICE)
    await zones.zone_of(BOB)
    await zones.zone_of(ALICE)
    assert lookups(fake_slack) == [ALICE, BOB, ALICE]
