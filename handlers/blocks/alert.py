"""Failure alerts: one run's alert, a burst's group alert, and the runs listed in its thread.

Pure functions over the store's alert results. Every string the engine or a person supplied is
escaped and cut here, to budgets far inside Slack's limits whatever the engine sends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    SectionBlock,
)

from handlers import ids
from store.alerts import AlertRun, GroupAlert, RetryView, SingleAlert
from store.causes import FailureCause
from store.records import WorkflowRecord
from store.types import RunStatus

from .causes import cause_label, likely_cause
from .elements import mrkdwn as _mrkdwn
from .elements import (
    note_button,
    person,
    retrigger_button,
    view_details_button,
    workflow_name,
)
from .elements import route as _route
from .elements import section as _section
from .message import SlackMessage
from .text import (
    escape_and_truncate,
    escape_mrkdwn,
    isolate,
    one_line,
    packed,
    slack_date,
    status_emoji,
    truncate,
    utc_text,
)

MAX_RUNS_PER_THREAD_MESSAGE = 100

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks).
SECTION_TEXT_MAX = 3_000
MESSAGE_MAX_BLOCKS = 50

# Display budgets, in characters once escaped.
_REFERENCE = 1_275  # every reference whole: 255 characters, each at most 5 escaped (&amp;)
_STEP = 300
_ERROR_BLOCK = 1_500
_FALLBACK_REFERENCE = 80
_FALLBACK_ERROR = 150
# Above what the budgets of its parts add up to (a group alert's is about 525): this last cut
# works on escaped text and could leave half an `&amp;`, so it must never be needed.
_FALLBACK_MAX = 700
_LINE_REFERENCE = 60
_LINE_STEP = 40
_LINE_ERROR = 80

# Only a well-formed Slack user ID becomes a mention; anything else is shown as text.

_ButtonMaker = Callable[[AlertRun], ButtonElement | None]


def alert_message(alert: SingleAlert) -> SlackMessage:
    """The alert of one failed run, true to its current state (retriggered, resolved).

    The Retrigger button is left out while a retrigger is in flight or once the data moved.
    """
    run = alert.run
    blocks: list[Block] = [
        _section(_alert_title(run)),
        _run_fields(run),
        _section(_error_block(run.error_message)),
        _section(_cause_text(run)),
    ]
    if run.retry is not None:
        blocks.append(_section(_retry_text(run.retry)))
    blocks.append(_actions(run, order=(_retrigger_button, _view_details_button, _note_button)))
    return SlackMessage(text=_alert_fallback(run), blocks=tuple(blocks))


def group_alert_message(group: GroupAlert) -> SlackMessage:
    """One message for a burst of a workflow's failures; the runs are listed in its thread."""
    latest = group.latest
    failures = _count(group.failure_count, "failure", "failures")
    route = _route(group.workflow)
    title = f"🔥 *{route}*: {failures} since {slack_date(group.first_failed_at)}"
    blocks: list[Block] = [
        _section(title + _name_suffix(group.workflow)),
        _run_fields(latest, heading="*Latest failure*"),
        _section(_error_block(latest.error_message)),
        _section(_breakdown_text(group)),
    ]
    if latest.retry is not None:
        blocks.append(_section(_retry_text(latest.retry)))
    blocks.append(ContextBlock(elements=[_mrkdwn("The runs are listed in this thread.")]))
    blocks.append(_actions(latest, order=(_view_details_button, _retrigger_button, _note_button)))
    fallback = (
        f"🔥 {route}: {failures} since {utc_text(group.first_failed_at)}; "
        f"latest: {_fallback_run(latest)}"
    )
    return SlackMessage(text=truncate(fallback, _FALLBACK_MAX), blocks=tuple(blocks))


def group_thread_message(runs: Sequence[AlertRun]) -> SlackMessage:
    """A thread reply listing up to 100 runs, one line each, packed into as few sections
    as fit (each ≤ 3,000 characters, a line never split). Raises ValueError past 100 runs."""
    if not runs:
        raise ValueError("a thread message lists at least one run")
    if len(runs) > MAX_RUNS_PER_THREAD_MESSAGE:
        raise ValueError(
            f"{len(runs)} runs: a thread message lists at most {MAX_RUNS_PER_THREAD_MESSAGE}"
        )
    # A line is at most about 350 characters (the budgets above), so 100 lines take about a
    # dozen sections: well inside the 50 blocks of a message.
    texts = packed(map(_thread_line, runs), SECTION_TEXT_MAX)
    listed = ", ".join(escape_mrkdwn(run.id) for run in runs)
    fallback = truncate(f"{_count(len(runs), 'run', 'runs')}: {listed}", _FALLBACK_MAX)
    return SlackMessage(text=fallback, blocks=tuple(_section(text) for text in texts))


# --- pieces of an alert ------------------------------------------------------------------------


def _alert_title(run: AlertRun) -> str:
    route = _route(run.workflow)
    name = _name_suffix(run.workflow)
    if run.status is not RunStatus.FAILED:
        state = f"Resolved — now {run.status}" if run.status.is_terminal else f"Now {run.status}"
        return f"{status_emoji(run.status)} *{state}* · {route}{name}"
    if _retrigger_finished(run):
        return f"✅ *Resolved by retrigger* · {route}{name}"
    return f"❌ *{route}* failed{name}"


def _alert_fallback(run: AlertRun) -> str:
    route = one_line(_route(run.workflow))
    if run.status is not RunStatus.FAILED:
        text = f"✅ {route} resolved (now {run.status}): {_fallback_run(run, with_error=False)}"
    elif _retrigger_finished(run):
        text = f"✅ {route} resolved by retrigger: {_fallback_run(run, with_error=False)}"
    else:
        text = f"❌ {route} failed: {_fallback_run(run)}"
    return truncate(text, _FALLBACK_MAX)


def _fallback_run(run: AlertRun, *, with_error: bool = True) -> str:
    reference = escape_and_truncate(one_line(run.reference), _FALLBACK_REFERENCE)
    text = f"{isolate(reference)} ({escape_mrkdwn(run.id)})"
    if with_error and run.error_message and run.error_message.strip():
        text += ": " + escape_and_truncate(one_line(run.error_message), _FALLBACK_ERROR)
    return text


def _run_fields(run: AlertRun, *, heading: str | None = None) -> SectionBlock:
    reference = escape_and_truncate(one_line(run.reference), _REFERENCE) or "(none)"
    step = escape_and_truncate(one_line(run.error_step or ""), _STEP) or "Not reported"
    return SectionBlock(
        text=_mrkdwn(heading) if heading else None,
        fields=[
            _mrkdwn(f"*Reference*\n{isolate(reference)}"),
            _mrkdwn(f"*Run ID*\n`{escape_mrkdwn(run.id)}`"),
            _mrkdwn(f"*Started*\n{slack_date(run.started_at)}"),
            _mrkdwn(f"*Failed step*\n{step}"),
        ],
    )


def _error_block(message: str | None) -> str:
    if not message or not message.strip():
        return "*Error*\nThe engine reported no error message."
    # A backtick in the error could close the code block early: show a look-alike instead.
    shown = escape_and_truncate(message.strip().replace("`", "ˋ"), _ERROR_BLOCK)
    return f"*Error*\n```{shown}```"


def _cause_text(run: AlertRun) -> str:
    headline, fix = likely_cause(run.cause, run.workflow, step=run.error_step)
    return f"*Likely cause:* {headline}\n{fix}"


def _breakdown_text(group: GroupAlert) -> str:
    causes = group.causes or ((group.latest.cause, group.failure_count),)
    breakdown = " · ".join(f"{count} × {cause_label(cause)}" for cause, count in causes)
    top: FailureCause = causes[0][0]
    step = group.latest.error_step if group.latest.cause is top else None
    headline, fix = likely_cause(top, group.workflow, step=step)
    return f"*By cause:* {breakdown}\n*Most likely:* {headline}\n{fix}"


def _retry_text(retry: RetryView) -> str:
    new_run = f"`{escape_mrkdwn(retry.new_run_id)}`"
    asked = (
        f"🔁 Retriggered by {person(retry.requested_by)} as {new_run} "
        f"· {slack_date(retry.requested_at)}"
    )
    outcome = {
        RunStatus.PENDING: "⏳ Waiting for the engine to start the new run…",
        RunStatus.RUNNING: "🔄 The new run is running…",
        RunStatus.FINISHED: "✅ Retrigger finished",
        RunStatus.FAILED: f"❌ Still failing ({new_run})",
        RunStatus.SKIPPED: "⏭️ The new run was skipped: a workflow condition was not met",
    }[retry.status]
    return f"{asked}\n{outcome}"


def _thread_line(run: AlertRun) -> str:
    reference = escape_and_truncate(one_line(run.reference), _LINE_REFERENCE) or "(none)"
    parts = [
        f"{status_emoji(run.status)} {isolate(reference)} `{escape_mrkdwn(run.id)}`",
        slack_date(run.started_at),
    ]
    step = escape_and_truncate(one_line(run.error_step or ""), _LINE_STEP)
    error = escape_and_truncate(one_line(run.error_message or ""), _LINE_ERROR)
    if step or error:
        parts.append(": ".join(part for part in (step, error) if part))
    return " · ".join(parts)


# --- buttons -----------------------------------------------------------------------------------


def _actions(run: AlertRun, *, order: Sequence[_ButtonMaker]) -> ActionsBlock:
    buttons = [button for make in order if (button := make(run)) is not None]
    return ActionsBlock(block_id=ids.Block.ALERT_ACTIONS, elements=buttons)


def _retrigger_button(run: AlertRun) -> ButtonElement | None:
    # One retrigger at a time, and none once the data moved (it would be sent twice).
    in_flight = run.retry is not None and not run.retry.status.is_terminal
    if in_flight or run.status is RunStatus.FINISHED or _retrigger_finished(run):
        return None
    return retrigger_button(run.id, run.reference, primary=True)


def _view_details_button(run: AlertRun) -> ButtonElement:
    return view_details_button(run.id)


def _note_button(run: AlertRun) -> ButtonElement:
    return note_button(run.id)


# --- small helpers -----------------------------------------------------------------------------


def _retrigger_finished(run: AlertRun) -> bool:
    return run.retry is not None and run.retry.status is RunStatus.FINISHED


def _name_suffix(workflow: WorkflowRecord) -> str:
    name = workflow_name(workflow)
    return f" · {name}" if name else ""


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"
