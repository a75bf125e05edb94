"""Message shortcuts on runsbot's alerts: acked at once, answered privately in the channel
or with a modal.

"Retrigger run" does not retrigger by itself: a shortcut has no confirm dialog, so it answers
with the run's row and the Retrigger button, whose own dialog asks (the same button as on the
alert, so one listener and one confirmation serve both). A modal would need a submission
listener of its own and the trigger_id's 3 s before the store is read; the ephemeral needs
neither, and the same shape lists a group alert's runs, each with its button. "Add note to run"
opens the note modal (on a group alert, with a choice of its runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import ids
from handlers.blocks.message import SlackMessage
from handlers.blocks.modals import MAX_RUN_OPTIONS, group_note_modal, note_modal
from handlers.blocks.retrigger import GROUP_RUNS_SHOWN, confirm_retrigger, group_to_recover
from handlers.blocks.runs_page import run_not_found
from handlers.blocks.shortcuts import not_a_run_alert
from handlers.errors import refusals_told
from handlers.note_modal import note_targets_in_time, show_modal
from handlers.private_answers import answer_privately
from handlers.retrigger_access import RetriggerAccess, check_may_retrigger
from store.alert_messages import AlertedRuns
from store.records import NoteTarget
from store.run_store import RunStore


async def on_retrigger_shortcut(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    store: RunStore,
    retrigger_access: RetriggerAccess,
) -> None:
    await ack()
    async with refusals_told(body, client, None):
        await check_may_retrigger(retrigger_access, str(body["user"]["id"]))
        alert = await store.alerted_runs(str(body["channel"]["id"]), str(body["message"]["ts"]))
        await answer_privately(body, client, None, await _to_retrigger(store, alert))


async def _to_retrigger(store: RunStore, alert: AlertedRuns | None) -> SlackMessage:
    """What the shortcut offers on `alert`: its run to confirm, or a group's runs to recover."""
    if alert is None:
        return not_a_run_alert("Retrigger run")
    if alert.single_run_id is not None:
        detail = await store.get_run(alert.single_run_id)
        if detail is None:
            return run_not_found(alert.single_run_id)
        return confirm_retrigger(detail.summary)
    found = await store.unrecovered_runs(alert.run_ids, limit=GROUP_RUNS_SHOWN)
    return group_to_recover(found.runs, found.total)


async def on_add_note_shortcut(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    store: RunStore,
) -> None:
    await ack()
    alert = await store.alerted_runs(body["channel"]["id"], body["message"]["ts"])
    if alert is None:
        await answer_privately(body, client, None, not_a_run_alert("Add note to run"))
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
    app.shortcut(ids.Shortcut.RETRIGGER_MESSAGE)(on_retrigger_shortcut)
    app.shortcut(ids.Shortcut.ADD_NOTE_MESSAGE)(on_add_note_shortcut)
