"""The Add note modal (for one run, or a group alert's runs to choose from) and what its
submission can be refused for, shown under the field at fault."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers import ids
from store.records import NoteTarget

from .elements import context, route, section
from .text import escape_and_truncate, escape_mrkdwn, one_line, truncate

# One limit for every note: the run API's (bot/api_requests.py MAX_NOTE) and the most a
# plain_text_input takes (Slack's max_length ceiling), so Slack stops a longer note while it
# is typed, and a note from either side reads the same in the detail modal and the thread.
MAX_NOTE_LENGTH = 3_000
# A static select offers at most 100 options; each option's text holds 75 characters.
MAX_RUN_OPTIONS = 100
_OPTION_TEXT = 75
_REFERENCE = 200


def note_modal(run: NoteTarget | str) -> View:
    """Add note for one run (its ID in private_metadata). A run the store was too slow to
    name is shown by its ID alone."""
    run_id = run if isinstance(run, str) else run.id
    shown = section(f"`{escape_mrkdwn(run_id)}`") if isinstance(run, str) else _run_block(run)
    return _modal([shown, _text_input()], private_metadata=run_id)


def group_note_modal(runs: Sequence[NoteTarget | str], *, total: int) -> View:
    """Add note with a choice of a group alert's runs (newest first, at most 100 of `total`;
    runs the store was too slow to name are offered by ID)."""
    offered = runs[:MAX_RUN_OPTIONS]
    blocks: list[Block] = [
        InputBlock(
            block_id=ids.Block.NOTE_RUN,
            label=PlainTextObject(text="Run"),
            element=StaticSelectElement(
                action_id=ids.Block.NOTE_RUN,
                placeholder=PlainTextObject(text="Choose a run of this alert"),
                options=[
                    Option(
                        value=run if isinstance(run, str) else run.id,
                        text=truncate(_option_text(run), _OPTION_TEXT),
                    )
                    for run in offered
                ],
            ),
        )
    ]
    if total > len(offered):
        blocks.append(
            context(
                f"The {len(offered)} newest of this alert's {total} runs. For an older one, "
                "reply in the alert's thread naming its ID."
            )
        )
    blocks.append(_text_input())
    return _modal(blocks, private_metadata="")


def note_empty() -> str:
    return "Write the note first: it is empty."


def note_too_long(length: int) -> str:
    return f"A note holds at most {MAX_NOTE_LENGTH:,} characters; this one has {length:,}."


def run_gone(run_id: str) -> str:
    return f"Run {run_id} no longer exists, so the note cannot be added."


def no_run_chosen() -> str:
    return "Choose the run the note is about."


def _modal(blocks: Sequence[Block], *, private_metadata: str) -> View:
    return View(
        type="modal",
        callback_id=ids.View.ADD_NOTE,
        title=PlainTextObject(text="Add note"),
        submit=PlainTextObject(text="Add note"),
        close=PlainTextObject(text="Cancel"),
        blocks=list(blocks),
        private_metadata=private_metadata,
    )


def _text_input() -> InputBlock:
    return InputBlock(
        block_id=ids.Block.NOTE_TEXT,
        label=PlainTextObject(text="Note"),
        element=PlainTextInputElement(
            action_id=ids.Block.NOTE_TEXT,
            multiline=True,
            max_length=MAX_NOTE_LENGTH,
            placeholder=PlainTextObject(text="What happened, what you did, what comes next"),
        ),
        hint=PlainTextObject(text="Shown on the run and in its alert's thread."),
    )


def _run_block(run: NoteTarget) -> Block:
    reference = escape_and_truncate(one_line(run.reference), _REFERENCE) or "(no reference)"
    return section(f"*{reference}*\n{route(run.workflow)} · `{escape_mrkdwn(run.id)}`")


def _option_text(run: NoteTarget | str) -> str:
    # Plain text: the ID first, so a cut reference never hides which run it is.
    return run if isinstance(run, str) else f"{run.id} · {one_line(run.reference)}"
