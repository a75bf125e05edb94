"""`/runs` reads days and times in the asker's own zone, from their Slack profile: at UTC+14 and
UTC−10, across a daylight-saving change, while the server itself runs in a third zone. Zones
are looked up once per person however many commands arrive at once."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.fake_slack import OPS_CHANNEL, Error, FakeSlack, Slow, rendered_text, wait_until
from tests.handlers.conftest import Runsbot
from tests.handlers.runs_support import Clock, ask, at, copy_database, run_ids, serve, write_runs

KIRITIMATI = "U0KIRI001"  # Pacific/Kiritimati, UTC+14
HONOLULU = "U0HONO001"  # Pacific/Honolulu, UTC−10
NEW_YORK = "U0NEWY001"  # America/New_York: EDT until 2026-11-01 02:00, then EST
GHOST = "U0GHOST01"  # users.info knows no such person: UTC, and the answer says so
PEOPLE = {
    KIRITIMATI: "Pacific/Kiritimati",
    HONOLULU: "Pacific/Honolulu",
    NEW_YORK: "America/New_York",
}
SERVER_ZONE = "Asia/Kathmandu"  # UTC+5:45: neither the askers' zones nor UTC

ZONES = {"id": "zones", "source": "Zendesk", "destination": "Jira"}
DST = {"id": "dst", "source": "Zendesk", "destination": "Linear"}
# Each run starts a minute either side of a local midnight (UTC times).
BOUNDARIES = {
    "run_k1": "2026-11-19T09:59",  # Kiritimati: 11-19 23:59
    "run_k2": "2026-11-19T10:00",  # Kiritimati: 11-20 00:00; Honolulu: 11-19 00:00
    "run_h1": "2026-11-20T09:59",  # Kiritimati: 11-20 23:59; Honolulu: 11-19 23:59
    "run_h2": "2026-11-20T10:00",  # Kiritimati: 11-21 00:00; Honolulu: 11-20 00:00
    "run_h3": "2026-11-21T09:59",  # Honolulu: 11-20 23:59
    "run_h4": "2026-11-21T10:00",  # Honolulu: 11-21 00:00
    # New York's 2026-11-01 lasts 25 hours: from 04:00 UTC (EDT) to 04:59 UTC next day (EST).
    "run_n1": "2026-11-01T03:59",
    "run_n2": "2026-11-01T04:00",
    "run_n3": "2026-11-02T04:59",
    "run_n4": "2026-11-02T05:00",
}
NOON = at("2026-11-20T12:00")  # Kiritimati: 11-21 02:00; Honolulu: 11-20 02:00
AFTER_DST = at("2026-11-02T12:00")  # New York: 11-02 07:00 EST

CASES = [
    (KIRITIMATI, NOON, "on:2026-11-20", {"run_k2", "run_h1"}),
    (KIRITIMATI, NOON, "today", {"run_h2", "run_h3"}),
    (KIRITIMATI, NOON, "yesterday", {"run_k2", "run_h1"}),
    (KIRITIMATI, NOON, "since:2026-11-21T00:00", {"run_h2", "run_h3", "run_h4"}),
    (KIRITIMATI, NOON, "until:2026-11-20", {"run_k1", "run_k2", "run_h1"}),
    (HONOLULU, NOON, "on:2026-11-20", {"run_h2", "run_h3"}),
    (HONOLULU, NOON, "today", {"run_h2", "run_h3"}),
    (HONOLULU, NOON, "yesterday", {"run_k2", "run_h1"}),
    (HONOLULU, NOON, "since:2026-11-20T00:00", {"run_h2", "run_h3", "run_h4"}),
    (HONOLULU, NOON, "until:2026-11-19", {"run_k1", "run_k2", "run_h1"}),
    (NEW_YORK, AFTER_DST, "on:2026-11-01", {"run_n2", "run_n3"}),
    (NEW_YORK, AFTER_DST, "yesterday", {"run_n2", "run_n3"}),
    (NEW_YORK, AFTER_DST, "today", {"run_n4"}),
    (NEW_YORK, AFTER_DST, "since:2026-11-01 until:2026-11-01T23:59", {"run_n2", "run_n3"}),
]


@pytest.fixture(autouse=True)
def server_in_a_third_zone() -> Iterator[None]:
    """The server process's own local zone is neither the askers' nor UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = SERVER_ZONE
    time.tzset()
    assert time.localtime().tm_gmtoff == 5 * 3600 + 45 * 60
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture(autouse=True)
def people(fake_slack: FakeSlack) -> None:
    for user_id, zone in PEOPLE.items():
        fake_slack.add_user(user_id, user_id.lower(), real_name=zone, tz=zone)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture(scope="module")
async def bot(
    fake_slack_server: FakeSlack,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    clock: Clock,
) -> AsyncIterator[Runsbot]:
    url = copy_database(sqlite_template, tmp_path_factory.mktemp("runs_zones"))
    await write_runs(
        url,
        [
            {
                "id": run_id,
                "workflow": DST if run_id.startswith("run_n") else ZONES,
                "status": "finished",
                "reference": f"Ticket {run_id}",
                "started_at": f"{started}:00Z",
            }
            for run_id, started in BOUNDARIES.items()
        ],
    )
    runsbot = await serve(fake_slack_server, url, clock)
    yield runsbot
    await runsbot.api.close()


@pytest.mark.parametrize(
    ("user_id", "now", "query", "expected"),
    CASES,
    ids=[f"{PEOPLE[user].split('/')[1]}-{query}" for user, _, query, _ in CASES],
)
async def test_days_and_times_are_the_askers_own(
    bot: Runsbot,
    fake_slack: FakeSlack,
    clock: Clock,
    user_id: str,
    now: datetime,
    query: str,
    expected: set[str],
) -> None:
    clock.now = now
    workflow = "dst" if user_id == NEW_YORK else "zones"
    answer = await ask(bot, f"wf:{workflow} {query}", user_id=user_id, channel_id=OPS_CHANNEL)
    assert set(run_ids(answer)) == expected
    assert "read in UTC" not in rendered_text(answer)


async def test_when_slack_cannot_say_the_zone_days_are_utc_and_the_answer_says_so(
    bot: Runsbot, fake_slack: FakeSlack, clock: Clock
) -> None:
    clock.now = NOON
    answer = await ask(bot, "wf:zones on:2026-11-20", user_id=GHOST, channel_id=OPS_CHANNEL)
    assert set(run_ids(answer)) == {"run_h1", "run_h2"}  # the UTC day
    assert "Days and times were read in UTC" in rendered_text(answer)


async def test_32_commands_at_once_are_each_acked_fast_with_one_lookup_per_person(
    bot: Runsbot, fake_slack: FakeSlack, clock: Clock
) -> None:
    """A cold cache: eight commands from each of four people nobody asked about yet."""
    clock.now = NOON
    zones = ["Pacific/Kiritimati", "Pacific/Honolulu", "Europe/Berlin", "Asia/Tokyo"]
    users = [f"U0MANY{n:03d}" for n in range(len(zones))]
    for user_id, zone in zip(users, zones, strict=True):
        fake_slack.add_user(user_id, user_id.lower(), real_name=zone, tz=zone)
    askers = [users[n % len(users)] for n in range(32)]
    async with bot.driver() as driver:
        acks = await asyncio.gather(
            *(
                driver.slash_command("wf:zones on:2026-11-20", user_id=user, channel_id=OPS_CHANNEL)
                for user in askers
            )
        )
    assert all(ack.status == 200 and ack.text == "" for ack in acks)
    slowest = max(ack.elapsed for ack in acks)
    assert slowest < 1.5, f"the slowest of 32 acks took {slowest:.3f} s"
    await wait_until(lambda: len(fake_slack.ephemerals()) == 32, timeout=10)
    looked_up = [call.params["user"] for call in fake_slack.calls_to("users.info")]
    assert sorted(looked_up) == sorted(users)
    kiritimati = {"run_k2", "run_h1"}
    for answer in fake_slack.ephemerals(user=users[0]):
        assert set(run_ids(answer)) == kiritimati


async def test_a_person_whose_lookup_failed_is_asked_about_again_later(
    bot: Runsbot, fake_slack: FakeSlack, clock: Clock
) -> None:
    """A failed lookup is remembered for a minute only (tested on the service itself in
    test_time_zones.py); here: Slack's error reaches nobody but the log."""
    clock.now = NOON
    fake_slack.add_user("U0FLAKY01", "flaky", real_name="Flaky", tz="Pacific/Honolulu")
    fake_slack.script("users.info", [Error("internal_error")])
    answer = await ask(bot, "wf:zones today", user_id="U0FLAKY01", channel_id=OPS_CHANNEL)
    assert "Days and times were read in UTC" in rendered_text(answer)


async def test_the_ack_does_not_wait_for_the_askers_zone(
    bot: Runsbot, fake_slack: FakeSlack, clock: Clock
) -> None:
    clock.now = NOON
    fake_slack.add_user("U0SLOW001", "slow", real_name="Slow", tz="Pacific/Kiritimati")
    fake_slack.script("users.info", [Slow(0.8)])
    async with bot.driver() as driver:
        ack = await driver.slash_command(
            "wf:zones today", user_id="U0SLOW001", channel_id=OPS_CHANNEL
        )
    assert ack.status == 200 and ack.elapsed < 0.5, ack
    (answer,) = await wait_until(lambda: fake_slack.ephemerals(user="U0SLOW001"))
    assert set(run_ids(answer)) == {"run_h2", "run_h3"}  # Kiritimati's today, once Slack said
