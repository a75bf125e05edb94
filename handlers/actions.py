"""Buttons on a run — on alerts, /runs pages and `/runs show` — answered by listeners here.

View details opens the run's detail modal within the 3 s a trigger_id lives, even when the
store is slow: the detail is read for DETAIL_WAIT_SECONDS at most; past that a "Loading"
modal opens at once and is updated with the detail when the read finishes. Clicked on a run
of a detail modal's retry chain, it shows that run in the same modal.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.run_detail import run_detail_loading, run_detail_modal, run_detail_not_found
from handlers.ids import Action
from store.records import RunDetail
from store.run_store import RunStore

# What is left of the trigger_id's 3 s after this wait is for Slack's round trip of views.open.
DETAIL_WAIT_SECONDS = 1.2


async def on_view_details_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    store: RunStore,
) -> None:
    await ack()
    run_id = str(action.get("value") or "")
    shown_in = body.get("view") or {}
    if shown_in.get("type") == "modal":
        # A run of a detail modal's retry chain: shown in its place (no trigger_id is needed,
        # and no stack of modals grows past Slack's three).
        detail = await store.get_run(run_id)
        await client.views_update(view_id=shown_in["id"], view=_detail_view(run_id, detail))
        return
    await _open_detail(body["trigger_id"], run_id, client, store)


async def _open_detail(
    trigger_id: str, run_id: str, client: AsyncWebClient, store: RunStore
) -> None:
    """Opens the detail modal while `trigger_id` is valid: at once if the store answers
    within DETAIL_WAIT_SECONDS, else as "Loading", updated when it answers."""
    reading = asyncio.ensure_future(store.get_run(run_id))
    try:
        done, _ = await asyncio.wait({reading}, timeout=DETAIL_WAIT_SECONDS)
        if done:
            await client.views_open(
                trigger_id=trigger_id, view=_detail_view(run_id, reading.result())
            )
            return
        opened = await client.views_open(trigger_id=trigger_id, view=run_detail_loading(run_id))
        loading = opened["view"]
        detail = await reading
        # With the hash, an update never overwrites what changed the modal meanwhile.
        await client.views_update(
            view_id=loading["id"], hash=loading["hash"], view=_detail_view(run_id, detail)
        )
    finally:
        reading.cancel()  # only when the modal could not be opened: nobody would see it


def _detail_view(run_id: str, detail: RunDetail | None) -> View:
    return run_detail_not_found(run_id) if detail is None else run_detail_modal(detail)


def register(app: AsyncApp) -> None:
    app.action(Action.VIEW_DETAILS)(on_view_details_button)
