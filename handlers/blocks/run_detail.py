"""The run detail modal: the full run log — the trigger, the outcome, the payload (masked), each
step, the notes, the retry chain — with Retrigger and Add note; and the modals shown while it
loads and when no run has the ID.

Pure functions over the store's RunDetail. Every part has a budget (characters once escaped,
and blocks), so any run — 60 steps, a 256 KiB payload, 200 notes, a 10,000-character error —
stays inside a modal's limits (100 blocks, 3,000 characters a section), and every cut says how
much it left out.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock, SectionBlock
from slack_sdk.models.views import View

from handlers import ids
from store.masking import MASK, mask_payload
from store.records import NoteRecord, RetryLink, RunDetail, StepRecord
from store.types import RetriggerState, RunStatus

from .elements import (
    context,
    is_retriggerable,
    mrkdwn,
    note_button,
    person,
    retrigger_button,
    section,
    view_details_button,
    workflow_label,
)
from .text import (
    ELLIPSIS,
    escape_and_truncate,
    escape_mrkdwn,
    excerpt,
    isolate,
    one_line,
    packed,
    slack_date,
    status_emoji,
)

TITLE = "Run details"
# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks).
SECTION_TEXT_MAX = 3_000
MODAL_MAX_BLOCKS = 100

# Display budgets, in characters once escaped, and in blocks. Together at most about 60
# blocks: far inside the 100, whatever each part holds.
_REFERENCE = 1_275  # every reference whole: 255 characters, each at most 5 escaped (&amp;)
_RUN_ERROR = 2_600
_SKIP_REASON = 2_000
_RESULT = 2_000
_PAYLOAD = 2_600
_PAYLOAD_LINE = 400
_STEP_NAME = 150
_STEP_DETAIL = 300
_STEP_ERROR = 600
_FAILED_STEP_ERROR = 1_800
_STEP_BLOCKS = 25
_NOTE = 1_200
_NOTE_LINES = 15
_NOTE_BLOCKS = 20
_RETRY_ERROR = 300
_RETRY_LINES = 10
_SHOWN_ID = 100

_STATE_TEXT = {
    RetriggerState.PENDING: "⏳ waiting for the engine to accept it",
    RetriggerState.ACCEPTED: "accepted by the engine",
    RetriggerState.ENDED: "ended",
    RetriggerState.GIVEN_UP: "given up: the engine never accepted it",
}
_UNKNOWN_STEP_STATUS = "▫️"
# A run in flight, or one whose data moved, is not sent again (as on alerts and /runs pages).


def run_detail_modal(detail: RunDetail) -> View:
    """The modal of one run; `private_metadata` holds its run ID. Payload values that look
    secret are masked (store/masking.py); the stored payload is untouched."""
    blocks: list[Block] = [section(_trigger_text(detail))]
    blocks += [section(text) for text in _outcome_texts(detail)]
    blocks += [DividerBlock(), *_payload_blocks(detail.payload)]
    blocks += [DividerBlock(), *_steps_blocks(detail)]
    blocks += [DividerBlock(), *_notes_blocks(detail.notes)]
    retry_blocks = _retry_blocks(detail)
    if retry_blocks:
        blocks += [DividerBlock(), *retry_blocks]
    blocks.append(_actions(detail))
    return _modal(blocks, private_metadata=detail.id)


def run_detail_loading(run_id: str) -> View:
    """Shown at once while the store is slow; replaced (views.update) by the detail."""
    return _modal(
        [section(f"⏳ Loading {_shown_id(run_id)}…")], private_metadata=run_id[:_SHOWN_ID]
    )


def run_detail_not_found(run_id: str) -> View:
    shown = _shown_id(run_id)
    plain = escape_and_truncate(one_line(run_id), _SHOWN_ID).replace("`", "ˋ")
    return _modal(
        [
            section(
                f"No run has the ID {shown}. Look for it with `/runs {plain}`, "
                "which matches part of an ID."
            )
        ],
        private_metadata=run_id[:_SHOWN_ID],
    )


def _modal(blocks: list[Block], *, private_metadata: str) -> View:
    assert len(blocks) <= MODAL_MAX_BLOCKS, len(blocks)
    return View(
        type="modal",
        callback_id=ids.View.RUN_DETAIL,
        title=TITLE,
        close="Close",
        private_metadata=private_metadata,
        blocks=blocks,
    )


# --- the trigger and the outcome ---------------------------------------------------------------


def _trigger_text(detail: RunDetail) -> str:
    run = detail.summary
    reference = escape_and_truncate(one_line(run.reference), _REFERENCE) or "(no reference)"
    lines = [
        f"{status_emoji(run.status)} *{run.status.value.capitalize()}* · {isolate(reference)}",
        f"*Workflow:* {workflow_label(run.workflow)}",
        f"*Run:* {_shown_id(run.id)}",
        f"*Started:* {slack_date(run.started_at)}",
    ]
    if run.finished_at is not None:
        took = _duration(run.finished_at - run.started_at)
        lines.append(
            f"*Finished:* {slack_date(run.finished_at)}" + (f" · took {took}" if took else "")
        )
    return "\n".join(lines)


def _outcome_texts(detail: RunDetail) -> list[str]:
    run = detail.summary
    texts: list[str] = []
    if run.error_message is not None or run.error_step is not None:
        step = escape_and_truncate(one_line(run.error_step or ""), _STEP_NAME)
        heading = f"❌ *Error* at step *{isolate(step)}*" if step else "❌ *Error*"
        texts.append(f"{heading}\n{_code(run.error_message or '(no message)', _RUN_ERROR)}")
    if run.skip_reason:
        texts.append(f"⏭️ *Skipped:* {_cut(run.skip_reason, _SKIP_REASON)}")
    if run.result:
        texts.append(f"*Result:* {_cut(run.result, _RESULT)}")
    return texts


# --- the payload -------------------------------------------------------------------------------


def _payload_blocks(payload: dict[str, Any] | None) -> list[Block]:
    if payload is None:
        return [section("*Payload:* none was reported.")]
    masked = mask_payload(payload)
    lines = json.dumps(masked.payload, indent=2, ensure_ascii=False).splitlines()
    shown: list[str] = []
    spent = 0
    for line in lines:
        cut = escape_and_truncate(line.replace("`", "ˋ"), _PAYLOAD_LINE)
        if spent + len(cut) + 1 > _PAYLOAD:
            break
        shown.append(cut)
        spent += len(cut) + 1
    heading = "*Payload*"
    if masked.masked:
        heading += f" · 🔒 {_count(masked.masked, 'value', 'values')} masked as {MASK}"
    blocks: list[Block] = [section(heading + "\n```" + "\n".join(shown) + "```")]
    notes = []
    left = len(lines) - len(shown)
    if left:
        characters = sum(len(line) + 1 for line in lines[len(shown) :])
        notes.append(
            f"… {_count(left, 'more line', 'more lines')} "
            f"({_count(characters, 'character', 'characters')}) not shown."
        )
    if masked.masked:
        notes.append(
            "Values whose key or shape looks secret are masked here; the engine still gets them."
        )
    if notes:
        blocks.append(context(" ".join(notes)))
    return blocks


# --- steps -------------------------------------------------------------------------------------


def _steps_blocks(detail: RunDetail) -> list[Block]:
    steps = detail.steps
    if not steps:
        return [section("*Steps:* none were reported.")]
    lines = [f"*Steps* ({len(steps)})", *(_step_text(step, detail) for step in steps)]
    texts = packed(lines, SECTION_TEXT_MAX)
    if len(texts) <= _STEP_BLOCKS:
        return [section(text) for text in texts]
    # One block is kept for saying how many steps were left out.
    kept, shown = _first_lines(lines, _STEP_BLOCKS - 1)
    left = len(lines) - shown
    return [
        *(section(text) for text in kept),
        context(f"… {_count(left, 'more step', 'more steps')} not shown."),
    ]


def _first_lines(lines: Sequence[str], max_blocks: int) -> tuple[list[str], int]:
    """As many of `lines`, from the first, as fit packed (text.packed) in `max_blocks`
    sections, and how many lines that is. Greedy packing needs the fewest sections for lines
    kept in order, whichever end it starts from."""
    texts: list[str] = []
    for count, line in enumerate(lines):
        if texts and len(texts[-1]) + 1 + len(line) <= SECTION_TEXT_MAX:
            texts[-1] += "\n" + line
        elif len(texts) < max_blocks:
            texts.append(line)
        else:
            return texts, count
    return texts, len(lines)


def _step_text(step: StepRecord, detail: RunDetail) -> str:
    status = _step_status(step.status)
    emoji = status_emoji(status) if status else _UNKNOWN_STEP_STATUS
    name = escape_and_truncate(one_line(step.name or ""), _STEP_NAME) or "(unnamed)"
    parts = [f"{emoji} *{isolate(name)}*"]
    started, finished = _moment(step.started_at), _moment(step.finished_at)
    if started is not None:
        parts.append(slack_date(started, "{time_secs}"))
    elif step.started_at:
        parts.append(escape_and_truncate(one_line(step.started_at), 40))
    if started is not None and finished is not None:
        took = _duration(finished - started)
        if took:
            parts.append(took)
    text = " · ".join(parts)
    if step.detail:
        text += f"\n      {isolate(excerpt(step.detail, _STEP_DETAIL))}"
    error = step.error
    failed_here = detail.summary.error_step is not None and step.name == detail.summary.error_step
    if failed_here and not error:
        error = detail.summary.error_message
    if error:
        budget = _FAILED_STEP_ERROR if failed_here or status is RunStatus.FAILED else _STEP_ERROR
        text += f"\n{_code(error, budget)}"
    return text


def _step_status(value: str | None) -> RunStatus | None:
    try:
        return RunStatus(value) if value else None
    except ValueError:
        return None


def _moment(value: str | None) -> datetime | None:
    """A step's time as the engine wrote it (RFC 3339), or None when it is not one."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# --- notes -------------------------------------------------------------------------------------


def _notes_blocks(notes: Sequence[NoteRecord]) -> list[Block]:
    if not notes:
        return [section("*Notes:* none yet. Add one with *Add note*.")]
    heading = f"*Notes* ({len(notes)})"
    # Newest last; when they do not all fit, the oldest are left out.
    newest_first = [_note_text(note) for note in reversed(notes)]
    _, fits = _first_lines([*newest_first, heading], _NOTE_BLOCKS)
    if fits == len(notes) + 1:
        return [
            section(text) for text in packed([heading, *reversed(newest_first)], SECTION_TEXT_MAX)
        ]
    kept = list(reversed(newest_first[: min(fits, len(notes))]))
    left = len(notes) - len(kept)
    return [
        section(heading),
        context(f"{_count(left, 'earlier note', 'earlier notes')} not shown."),
        *(section(text) for text in packed(kept, SECTION_TEXT_MAX)),
    ]


def _note_text(note: NoteRecord) -> str:
    when = slack_date(note.created_at)
    edited = " (edited)" if note.updated_at > note.created_at else ""
    # Each line is quoted and isolated (4 more characters): their number is bounded too.
    lines = note.text.strip().splitlines()
    kept = "\n".join(lines[:_NOTE_LINES]) + (f"\n{ELLIPSIS}" if len(lines) > _NOTE_LINES else "")
    text = escape_and_truncate(kept, _NOTE) or "(empty)"
    quoted = "\n".join(f"> {isolate(line)}" if line else ">" for line in text.split("\n"))
    return f"💬 {person(note.author)} · {when}{edited}\n{quoted}"


# --- the retry chain ---------------------------------------------------------------------------


def _retry_blocks(detail: RunDetail) -> list[Block]:
    """The retry chain: a line per run, each with View details to open that run in its place."""
    blocks: list[Block] = []
    if detail.retry_of is not None:
        link = detail.retry_of
        text = f"🔁 Retry of {_shown_id(link.run_id)} ({_status(link.status)}){_asked(link)}"
        blocks.append(_linked(text, link.run_id))
    retries = detail.retries
    left = max(0, len(retries) - _RETRY_LINES)
    if left:
        blocks.append(context(f"{_count(left, 'earlier retry', 'earlier retries')} not shown."))
    for link in retries[left:]:
        state = _retry_state(link)
        text = (
            f"↪️ Retried as {_shown_id(link.run_id)} ({_status(link.status)}"
            f"{'; ' + state if state else ''}){_asked(link)}"
        )
        blocks.append(_linked(text, link.run_id))
    return [section("*Retries*"), *blocks] if blocks else []


def _linked(text: str, run_id: str) -> SectionBlock:
    # Block IDs must be unique within a view; run IDs are (at most 64 characters).
    return SectionBlock(
        block_id=f"{ids.Block.DETAIL_RETRY}:{run_id}",
        text=mrkdwn(text),
        accessory=view_details_button(run_id),
    )


def _asked(link: RetryLink) -> str:
    if link.requested_by is None:
        return ""
    when = f" · {slack_date(link.requested_at)}" if link.requested_at is not None else ""
    return f" · asked by {person(link.requested_by)}{when}"


def _retry_state(link: RetryLink) -> str:
    if link.state is None or link.state is RetriggerState.ENDED:
        return ""
    text = _STATE_TEXT[link.state]
    if link.state is RetriggerState.GIVEN_UP and link.last_error:
        text += f" ({excerpt(link.last_error, _RETRY_ERROR)})"
    return text


# --- actions -----------------------------------------------------------------------------------


def _actions(detail: RunDetail) -> ActionsBlock:
    run = detail.summary
    buttons: list[ButtonElement] = []
    # As on alerts: one retrigger at a time, and none once a retrigger finished the work.
    in_flight = any(link.in_flight for link in detail.retries)
    recovered = any(link.status is RunStatus.FINISHED for link in detail.retries)
    if is_retriggerable(run) and not in_flight and not recovered:
        buttons.append(retrigger_button(run.id, run.reference, primary=True))
    buttons.append(note_button(run.id))
    return ActionsBlock(block_id=ids.Block.DETAIL_ACTIONS, elements=buttons)


# --- small helpers -----------------------------------------------------------------------------


def _code(text: str, limit: int) -> str:
    """`text` in a code block of at most `limit` characters, saying how much was cut."""
    # A backtick could close the code block early: a look-alike is shown instead.
    cleaned = text.strip().replace("`", "ˋ")
    shown = escape_and_truncate(cleaned, limit)
    block = f"```{shown}```"
    if shown != escape_mrkdwn(cleaned):
        # Every `&` in `shown` was escaped by us, so unescaping gives back what is shown.
        left = len(cleaned) - len(html.unescape(shown.removesuffix(ELLIPSIS)))
        block += f"\n_… {_count(left, 'more character', 'more characters')} not shown._"
    return block


def _cut(text: str, limit: int) -> str:
    return isolate(escape_and_truncate(text.strip(), limit))


def _shown_id(run_id: str) -> str:
    return f"`{escape_and_truncate(one_line(run_id), _SHOWN_ID).replace('`', 'ˋ')}`"


def _status(status: RunStatus) -> str:
    return f"{status_emoji(status)} {status.value}"


def _duration(span: timedelta) -> str:
    """`span` as people say it: "850 ms", "6 s", "3 min 5 s", "2 h 4 min"; "" when negative."""
    seconds = span.total_seconds()
    if seconds < 0:
        return ""
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    minutes, second = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {second} s" if second else f"{minutes} min"
    hours, minute = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minute} min" if minute else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


def _count(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"
