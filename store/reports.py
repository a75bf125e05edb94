"""What the engine reports about a run, and how reports fold into the stored run.

Reports may arrive twice and out of order. Each report gets a rank key,
(status rank, updated_at, digest), that orders all reports totally; every field
of the stored run keeps the key of the report that set it, and a report only
sets the fields it carries whose key is lower than its own. So a report ranked
at or above the run overwrites what it carries, one ranked below only fills
what is empty or was set by a lower report, and any order and repetition of
the same reports ends in the same run (a last-writer-wins register per field).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator
from pydantic.functional_validators import BeforeValidator

from store import times
from store.errors import ReportRejected
from store.ids import RUN_ID_PATTERN
from store.types import RunStatus

MAX_PAYLOAD_BYTES = 256 * 1024


def parse_rfc3339(value: object) -> datetime:
    """An RFC 3339 timestamp with an offset (`Z` or `+02:00`), as an aware UTC datetime."""
    if not isinstance(value, str):
        raise ValueError("should be an RFC 3339 time like 2026-11-20T10:02:03Z")
    try:
        return times.parse_rfc3339(value.strip())
    except times.NotATime as problem:
        # The API's sentence is made from it (handlers/blocks/query_errors.py describe_time).
        raise times.NotATime(problem.reason, value) from None


Instant = Annotated[datetime, BeforeValidator(parse_rfc3339)]
Identifier = Annotated[str, StringConstraints(pattern=RUN_ID_PATTERN)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)


class WorkflowReport(_Strict):
    id: Identifier
    source: ShortText | None = None
    destination: ShortText | None = None
    name: ShortText | None = None


class ErrorReport(_Strict):
    message: str | None = None
    step: ShortText | None = None


class StepReport(_Strict):
    name: ShortText
    status: RunStatus | None = None
    started_at: Instant | None = None
    finished_at: Instant | None = None
    detail: str | None = None
    error: str | None = None

    @field_validator("error", mode="before")
    @classmethod
    def _error_message(cls, value: object) -> object:
        # Engines send a step's error either as text or as {"message": ...}.
        if isinstance(value, dict):
            return value.get("message")
        return value


class RunReport(_Strict):
    """One report of `POST /api/v1/runs`, validated; `None` means "not carried"."""

    id: Identifier | None = None
    workflow: WorkflowReport
    reference: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    status: RunStatus
    started_at: Instant | None = None
    finished_at: Instant | None = None
    updated_at: Instant | None = None
    error: ErrorReport | None = None
    skip_reason: str | None = None
    payload: dict[str, Any] | None = None
    steps: list[StepReport] | None = None
    result: str | None = None
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None

    @field_validator("payload")
    @classmethod
    def _payload_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(orjson.dumps(value)) > MAX_PAYLOAD_BYTES:
            raise ValueError("should be at most 256 KiB as JSON")
        return value


def check_report(report: RunReport) -> None:
    """Rules that span fields; raises ReportRejected."""
    if report.status is RunStatus.FAILED and not (report.error and report.error.message):
        raise ReportRejected("error.message: is required when status is failed", "error.message")


@dataclass(frozen=True)
class RunState:
    """The mergeable fields of a stored run, with the rank key that set each one."""

    id: str
    workflow_id: str
    reference: str | None
    status: RunStatus
    started_at: datetime | None
    finished_at: datetime | None
    error_message: str | None
    error_step: str | None
    skip_reason: str | None
    payload: dict[str, Any] | None
    steps: list[dict[str, Any]] | None
    result: str | None
    updated_at: datetime
    versions: dict[str, str] = field(default_factory=dict)


def report_document(report: RunReport) -> dict[str, Any]:
    """The report's fields as JSON values, `None` where not carried.

    Dumping is the costliest step of folding a report, so the write path dumps each report
    once and hands the document to both `rank_key` and `carried_fields`.
    """
    return report.model_dump(mode="json", exclude={"id", "event_id"})


def rank_key(
    report: RunReport, received_at: datetime, document: dict[str, Any] | None = None
) -> str:
    """A string whose order is the reports' order: status rank, updated_at, then a digest."""
    updated_at = (report.updated_at or received_at).astimezone(UTC)
    body = report_document(report) if document is None else document
    digest = hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=4)
    # The year by hand: strftime's %Y does not pad years before 1000 to four digits.
    return f"{report.status.rank}{updated_at.year:04d}{updated_at:%m%d%H%M%S%f}{digest.hexdigest()}"


def carried_fields(report: RunReport, document: dict[str, Any] | None = None) -> dict[str, Any]:
    """The state fields a report sets, keyed by the version name that guards them."""
    carried: dict[str, Any] = {"workflow_id": report.workflow.id, "status": report.status}
    if report.reference is not None:
        carried["reference"] = report.reference
    if report.started_at is not None:
        carried["started_at"] = report.started_at
    if report.finished_at is not None:
        carried["finished_at"] = report.finished_at
    if report.error is not None and (report.error.message or report.error.step):
        carried["error"] = (report.error.message, report.error.step)
    if report.skip_reason is not None:
        carried["skip_reason"] = report.skip_reason
    if report.payload is not None:
        carried["payload"] = report.payload
    if report.steps is not None:
        carried["steps"] = (
            [step.model_dump(mode="json") for step in report.steps]
            if document is None
            else document["steps"]
        )
    if report.result is not None:
        carried["result"] = report.result
    return carried


def new_state(
    run_id: str,
    report: RunReport,
    key: str,
    received_at: datetime,
    document: dict[str, Any] | None = None,
) -> RunState:
    """The state of a run first seen in `report`: what `merge` makes of an empty run, built
    directly (every carried field is set, at `key`), since most reports are of new runs."""
    carried = carried_fields(report, document)
    error_message, error_step = carried.get("error", (None, None))
    return RunState(
        id=run_id,
        workflow_id=report.workflow.id,
        reference=carried.get("reference"),
        status=report.status,
        started_at=carried.get("started_at"),
        finished_at=carried.get("finished_at"),
        error_message=error_message,
        error_step=error_step,
        skip_reason=carried.get("skip_reason"),
        payload=carried.get("payload"),
        steps=carried.get("steps"),
        result=carried.get("result"),
        updated_at=report.updated_at or received_at,
        versions=dict.fromkeys(carried, key),
    )


def merge(
    state: RunState,
    report: RunReport,
    key: str,
    received_at: datetime,
    document: dict[str, Any] | None = None,
) -> RunState:
    """Fold one report into a run's state; pure, idempotent, order-independent."""
    changes: dict[str, Any] = {}
    versions = dict(state.versions)
    for name, value in carried_fields(report, document).items():
        if versions.get(name, "") >= key:
            continue
        versions[name] = key
        if name == "error":
            changes["error_message"], changes["error_step"] = value
        else:
            changes[name] = value
    report_time = report.updated_at or received_at
    if report_time > state.updated_at:
        changes["updated_at"] = report_time
    if not changes:
        return state
    return replace(state, **changes, versions=versions)


# Stored compactly, rank key -> field letters: most runs hold one to three keys.
_FIELD_LETTERS = {
    "workflow_id": "w",
    "status": "s",
    "reference": "r",
    "started_at": "a",
    "finished_at": "f",
    "error": "e",
    "skip_reason": "k",
    "payload": "p",
    "steps": "t",
    "result": "o",
}
_LETTER_FIELDS = {letter: name for name, letter in _FIELD_LETTERS.items()}


def encode_versions(versions: dict[str, str]) -> dict[str, str]:
    by_key: dict[str, str] = {}
    for name, key in versions.items():
        by_key[key] = by_key.get(key, "") + _FIELD_LETTERS[name]
    return by_key


def decode_versions(stored: dict[str, str]) -> dict[str, str]:
    return {_LETTER_FIELDS[letter]: key for key, letters in stored.items() for letter in letters}
