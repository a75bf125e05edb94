"""Subscriptions in the store: however many ask at once, a channel subscribes once."""

from __future__ import annotations

import asyncio

from store.records import WorkflowSpec
from store.run_store import RunStore


async def test_concurrent_subscriptions_to_the_same_workflow_make_one(store: RunStore) -> None:
    await store.put_workflow("hubspot-salesforce", WorkflowSpec("HubSpot", "Salesforce"))
    for workflow in ("hubspot-salesforce", None):
        changes = await asyncio.gather(
            *(store.subscribe("C0OPS0001", workflow, created_by=f"U0PERSON{n}") for n in range(5))
        )
        assert sum(change.changed for change in changes) == 1
        first = next(change.subscription for change in changes if change.changed)
        assert all(change.subscription == first for change in changes)
    alerts = await store.channel_alerts("C0OPS0001")
    assert [s.workflow.id if s.workflow else None for s in alerts.subscriptions] == [
        None,
        "hubspot-salesforce",
    ]
