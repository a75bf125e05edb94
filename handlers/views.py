"""Modal submissions: what is wrong is refused in the ack, under the field at fault; the
work is done after it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from handlers.blocks.modals import (
    MAX_NOTE_LENGTH,
    no_run_chosen,
    note_empty,
    note_too_long,
    run_gone,
)
from handlers.ids import Block, View, slack_person
from handlers.note_modal import note_targets_in_time
from store.run_store import RunStore
from store.types import NoteSource


async def on_note_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], store: RunStore
) -> None:
    values = view["state"]["values"]
    text = str(values.get(Block.NOTE_TEXT, {}).get(Block.NOTE_TEXT, {}).get("value") or "").strip()
    chosen = values.get(Block.NOTE_RUN, {}).get(Block.NOTE_RUN, {}).get("selected_option")
    run_id = str(chosen["value"]) if chosen else str(view.get("private_metadata") or "")
    run_block = Block.NOTE_RUN if Block.NOTE_RUN in values else Block.NOTE_TEXT
    errors = _note_errors(text, run_id, run_block)
    # A store too slow to say within the ack's time is not asked to: the note is then tried.
    if not errors and await note_targets_in_time(store, [run_id]) == []:
        errors = {run_block: run_gone(run_id)}
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    await store.add_note(
        run_id,
        author=slack_person(body["user"]["id"]),
        text=text,
        source=NoteSource.SLACK_MODAL,
    )


def _note_errors(text: str, run_id: str, run_block: str) -> dict[str, str]:
    if not run_id:
        return {run_block: no_run_chosen()}
    if not text:
        return {Block.NOTE_TEXT: note_empty()}
    if len(text) > MAX_NOTE_LENGTH:
        return {Block.NOTE_TEXT: note_too_long(len(text))}
    return {}


def register(app: AsyncApp) -> None:
    app.view(View.ADD_NOTE)(on_note_submitted)
