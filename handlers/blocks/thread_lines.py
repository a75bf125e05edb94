"""runsbot's own plain replies in an alert's thread: a note added from the Add note modal or
the API, a retrigger's new run that ended, and a retrigger the engine never accepted."""

from __future__ import annotations

from store.deliveries import RetryOutcome, ThreadLine
from store.records import NoteRecord
from store.types import RunStatus, ThreadLineKind

from .elements import person, section
from .message import SlackMessage
from .text import escape_and_truncate, escape_mrkdwn, excerpt, truncate

# A section holds 3,000 characters: the note's text gets what its first words leave.
_NOTE_TEXT = 2_700
_ERROR = 500
_FALLBACK = 300


def thread_line(line: ThreadLine) -> SlackMessage:
    """The reply `line` posts, as it reads now (a note edited before it is posted shows its
    newest text)."""
    if line.kind is ThreadLineKind.NOTE and line.note is not None:
        return note_line(line.note)
    if line.kind is ThreadLineKind.RETRY_GIVEN_UP and line.retry is not None:
        return retry_given_up_line(line.retry)
    if line.retry is not None:
        return retry_ended_line(line.retry)
    return _line("🔁 A retrigger of this run changed; see the alert above.")


def note_line(note: NoteRecord) -> SlackMessage:
    """📝 @author added a note: text."""
    text = escape_and_truncate(note.text.strip(), _NOTE_TEXT)
    body = f"📝 {person(note.author)} added a note: {text}"
    fallback = f"📝 {person(note.author)} added a note: {excerpt(note.text, _FALLBACK)}"
    return SlackMessage(text=fallback, blocks=(section(body),))


def retry_ended_line(retry: RetryOutcome) -> SlackMessage:
    """The new run of a retrigger reached a terminal status (or moved on)."""
    run = _run(retry.run_id)
    if retry.status is RunStatus.FINISHED:
        return _line(f"✅ The retrigger's new run {run} finished.")
    if retry.status is RunStatus.FAILED:
        return _line(f"❌ The retrigger's new run {run} is still failing: {_error(retry)}")
    if retry.status is RunStatus.SKIPPED:
        reason = excerpt(retry.skip_reason, _ERROR) if retry.skip_reason else "no reason given"
        return _line(f"⏭️ The retrigger's new run {run} was skipped: {reason}")
    return _line(f"🔄 The retrigger's new run {run} is now {retry.status}.")


def retry_given_up_line(retry: RetryOutcome) -> SlackMessage:
    """The engine never accepted the retrigger: whoever asked is told, with the reason."""
    asker = person(retry.requested_by) if retry.requested_by else "The retrigger"
    reason = retry.reason or retry.error_message or "it did not answer"
    return _line(
        f"⚠️ {asker}: the engine never accepted the retrigger, so run {_run(retry.run_id)} "
        f"never started ({excerpt(reason, _ERROR)}). That run is now marked failed; "
        "retrigger again once the engine is back."
    )


def _run(run_id: str) -> str:
    return f"`{escape_mrkdwn(run_id)}`"


def _error(retry: RetryOutcome) -> str:
    message = excerpt(retry.error_message, _ERROR) if retry.error_message else "no error given"
    if retry.error_step:
        return f"{message} (at step {escape_and_truncate(retry.error_step, 100)})"
    return message


def _line(text: str) -> SlackMessage:
    return SlackMessage(text=truncate(text, _FALLBACK * 3), blocks=(section(text),))
