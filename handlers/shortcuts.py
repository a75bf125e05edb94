"""Message shortcuts on runsbot's alerts: each listener is a module-level function, and
`register(app)` maps the callback ids to them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.modals import MAX_RUN_OPTIONS, group_note_modal, note_modal
from handlers.blocks.shortcuts import not_a_run_alert
from handlers.commands.reply import reply
from handlers.ids import Shortcut
from handlers.note_modal import note_targets_in_time, show_modal
from store.records import NoteTarget
from store.run_store import RunStore


async def on_add_note_shortcut(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    store: RunStore,
    respond: AsyncRespond,
) -> None:
    await ack()
    alert = await store.alerted_runs(body["channel"]["id"], body["message"]["ts"])
    if alert is None:
        await reply(respond, not_a_run_alert("Add note to run"))
        return
    if alert.single_run_id is not None:
        targets = await note_targets_in_time(store, [alert.single_run_id])
        await show_modal(client, body, note_modal(targets[0] if targets else alert.single_run_id))
        return
    named = await note_targets_in_time(store, alert.run_ids, limit=MAX_RUN_OPTIONS)
    # Unnamed in time: the alert's own IDs (oldest first there), newest first.
    runs: Sequence[NoteTarget | str] = named or alert.run_ids[::-1][:MAX_RUN_OPTIONS]
    await show_modal(client, body, group_note_modal(runs, total=len(alert.run_ids)))


def register(app: AsyncApp) -> None:
    app.shortcut(Shortcut.ADD_NOTE_MESSAGE)(on_add_note_shortcut)
