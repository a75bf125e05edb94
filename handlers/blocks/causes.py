"""The likely cause of a failure, and what a person can do about it: the copy lives here."""

from __future__ import annotations

from store.causes import FailureCause
from store.records import WorkflowRecord

from .text import escape_and_truncate

# Workflow names inside a sentence: long enough for any real app name, short enough to read.
_APP_NAME_LIMIT = 80

# Short names for a breakdown line ("12 × Expired or revoked credential · 3 × Downstream outage").
_LABELS = {
    FailureCause.CREDENTIAL: "Expired or revoked credential",
    FailureCause.MISSING_FIELD: "Missing required field",
    FailureCause.OUTAGE: "Downstream outage",
    FailureCause.LOGIC: "Workflow logic",
}


def likely_cause(
    cause: FailureCause, workflow: WorkflowRecord, *, step: str | None = None
) -> tuple[str, str]:
    """(headline, fix) for a failure, as mrkdwn with the workflow's names escaped.

    For a credential, `step` (the failed step) picks the app to reconnect when it names
    exactly one side of the workflow; otherwise both are named, the destination first.
    """
    source = escape_and_truncate(workflow.source, _APP_NAME_LIMIT)
    destination = escape_and_truncate(workflow.destination, _APP_NAME_LIMIT)
    match cause:
        case FailureCause.CREDENTIAL:
            app = _credential_app(workflow, step) or (
                destination if source == destination else f"{destination} or {source}"
            )
            return (
                "Expired or revoked credential",
                f"Reconnect the {app} app in the workflow's connections, then retrigger.",
            )
        case FailureCause.MISSING_FIELD:
            return (
                "A required field is missing",
                f"Fix the source record in {source}, then retrigger.",
            )
        case FailureCause.OUTAGE:
            return (
                f"{destination} is down or rate-limiting",
                "Retrigger later: the data is fine.",
            )
        case FailureCause.LOGIC:
            return (
                "A gap in the workflow's logic",
                "Check the workflow's mapping for this record; retriggering alone will fail again.",
            )


def cause_label(cause: FailureCause) -> str:
    """A short name for a cause, for counts by cause."""
    return _LABELS[cause]


def _credential_app(workflow: WorkflowRecord, step: str | None) -> str | None:
    if not step:
        return None
    folded = step.casefold()
    named = {side for side in (workflow.source, workflow.destination) if side.casefold() in folded}
    if len(named) != 1 or not "".join(named).strip():
        return None
    return escape_and_truncate(named.pop(), _APP_NAME_LIMIT)
