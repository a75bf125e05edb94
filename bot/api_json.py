"""The run API's JSON views of store results; times as RFC 3339 UTC with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from store.records import (
    NoteRecord,
    ReportOutcome,
    RunDetail,
    RunPage,
    RunSummary,
    WorkflowRecord,
)
from store.reports import RunState


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def workflow_json(workflow: WorkflowRecord) -> dict[str, Any]:
    return {
        "id": workflow.id,
        "source": workflow.source,
        "destination": workflow.destination,
        "name": workflow.name,
    }


def _run_fields(run: RunState | RunSummary) -> dict[str, Any]:
    error = None
    if run.error_message is not None or run.error_step is not None:
        error = {"message": run.error_message, "step": run.error_step}
    return {
        "id": run.id,
        "reference": run.reference,
        "status": run.status.value,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "updated_at": iso(run.updated_at),
        "error": error,
        "skip_reason": run.skip_reason,
        "result": run.result,
    }


def reported_run_json(outcome: ReportOutcome) -> dict[str, Any]:
    assert outcome.run is not None and outcome.workflow is not None
    run = outcome.run
    return {
        **_run_fields(run),
        "workflow": workflow_json(outcome.workflow),
        "payload": run.payload,
        "steps": run.steps or [],
    }


def summary_json(run: RunSummary) -> dict[str, Any]:
    return {
        **_run_fields(run),
        "workflow": workflow_json(run.workflow),
        "created_at": iso(run.created_at),
        "retry_of": run.retry_of,
        "note_count": run.note_count,
    }


def page_json(page: RunPage) -> dict[str, Any]:
    """`GET /api/v1/runs`: CONTRACT.md section 3 names these four keys. The page's
    previous_cursor is not among them: the engine's side pages forward only (a client that
    wants to go back keeps the cursors it followed)."""
    return {
        "runs": [summary_json(run) for run in page.runs],
        "next_cursor": page.next_cursor,
        "total": page.total,
        "total_exact": page.total_exact,
    }


def note_json(note: NoteRecord) -> dict[str, Any]:
    return {
        "id": note.id,
        "run_id": note.run_id,
        "author": note.author,
        "text": note.text,
        "source": note.source,
        "created_at": iso(note.created_at),
        "updated_at": iso(note.updated_at),
    }


def detail_json(detail: RunDetail) -> dict[str, Any]:
    return {
        **summary_json(detail.summary),
        "payload": detail.payload,
        "steps": [step.__dict__ for step in detail.steps],
        "notes": [note_json(note) for note in detail.notes],
        "retried_as": list(detail.retried_as),
    }


def full_workflow_json(workflow: WorkflowRecord) -> dict[str, Any]:
    return {
        **workflow_json(workflow),
        "trigger_url": workflow.trigger_url,
        "alert_channel": workflow.alert_channel,
        "created_at": iso(workflow.created_at),
        "updated_at": iso(workflow.updated_at),
    }
