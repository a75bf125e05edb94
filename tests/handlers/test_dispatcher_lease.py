"""The alert dispatcher's lease: one replica delivers alerts; one that stops hands over at once."""

from __future__ import annotations

from bot.alert_dispatcher import LEASE, LEASE_TTL
from store.run_store import RunStore
from tests.fake_slack import ALERTS_CHANNEL, FakeSlack, wait_until
from tests.handlers.conftest import slack_settings, start_runsbot

FAILED = {
    "id": "run_lease",
    "workflow": {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"},
    "reference": "ACME Corp",
    "status": "failed",
    "error": {"message": "504 Gateway Timeout"},
}


async def test_a_stopped_dispatcher_gives_up_its_lease_so_another_replica_takes_it_at_once(
    fake_slack: FakeSlack, database_url: str
) -> None:
    bot = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=False), fake_slack
    )
    replica = RunStore.open(database_url)
    try:
        await bot.report(**FAILED)
        await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL))  # it holds the lease
        assert not await replica.acquire_lease(LEASE, "replica-2", ttl=LEASE_TTL)
        await bot.api.close()
        # At once: not when the stopped holder's lease would have expired (LEASE_TTL).
        taken = await replica.acquire_lease(LEASE, "replica-2", ttl=LEASE_TTL)
        assert taken, "the stopped dispatcher still holds the lease"
    finally:
        await bot.api.close()
        await replica.close()
