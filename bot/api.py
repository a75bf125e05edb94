"""The run API of CONTRACT.md section 3: request handlers and the contract's JSON errors."""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from bot.config import Settings
from bot.metrics import Metrics
from bot.slack_health import SlackHealth
from store.errors import FilterSyntaxError, InvalidCursor, RunNotFound
from store.filters import RunFilter, parse_api_time, text_words
from store.ids import RUN_ID_PATTERN, is_valid_run_id
from store.records import (
    NoteRecord,
    ReportOutcome,
    ReportResult,
    RunDetail,
    RunSummary,
    WorkflowRecord,
    WorkflowSpec,
)
from store.reports import RunReport, RunState
from store.run_store import RunStore
from store.types import RunStatus

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
MAX_BATCH_BODY = 16 * 1024 * 1024
MAX_BATCH_REPORTS = 1000
MAX_PAGE = 200
MAX_NOTE = 3000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STORE = web.AppKey("store", RunStore)
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
SLACK_HEALTH = web.AppKey("slack_health", SlackHealth)


class ApiError(Exception):
    """An answer of the contract's shape: {"error": sentence, "field": dotted path}."""

    def __init__(self, status: int, message: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.extra = status, message, field, extra


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def error_body(error: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error.message}
    if error.field is not None:
        body["field"] = error.field
    return {**body, **error.extra}


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every API failure leaves as JSON, with the status the contract gives it; a bug too."""
    try:
        return await handler(request)
    except ApiError as error:
        return json_response(error_body(error), error.status)
    except web.HTTPRequestEntityTooLarge:
        return json_response({"error": "the request body is too large"}, 413)
    except web.HTTPException as error:
        if not request.path.startswith("/api/") or error.status < 400:
            raise
        response = json_response({"error": error.reason}, error.status)
        if "Allow" in error.headers:  # a 405 lists the methods the path takes (RFC 9110)
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except Exception:
        if not request.path.startswith("/api/"):
            raise
        log.exception("%s %s failed", request.method, request.path)
        return json_response(
            {"error": "runsbot failed to answer this request; the error is in its log"}, 500
        )


@web.middleware
async def api_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    token = request.app[SETTINGS].api_token
    if token is None:
        raise ApiError(503, "the run API is off: set RUNSBOT_API_TOKEN to turn it on")
    # The scheme's name is case-insensitive (RFC 9110); the token is compared in constant time.
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.get_secret_value().encode()
    ):
        raise ApiError(
            401, "missing or wrong bearer token: send Authorization: Bearer <RUNSBOT_API_TOKEN>"
        )
    return await handler(request)


# Request bodies ---------------------------------------------------------------


async def read_json(request: web.Request, limit: int) -> Any:
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the request body is over {limit // (1024 * 1024)} MiB")
    body = await request.read()
    if len(body) > limit:
        raise ApiError(413, f"the request body is over {limit // (1024 * 1024)} MiB")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ApiError(400, f"the request body is not JSON: {error}") from None


def field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


# Pydantic's error types in the API's own words, for "<field>: <sentence>"; the
# placeholders are the error's ctx. Our validators' ValueErrors are already worded so.
_SENTENCES = {
    "missing": "is required",
    "model_type": "should be a JSON object",
    "model_attributes_type": "should be a JSON object",
    "dict_type": "should be a JSON object",
    "list_type": "should be a JSON array",
    "string_type": "should be a string",
    "string_too_short": "should be at least {min_length} characters",
    "string_too_long": "should be at most {max_length} characters",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
}
ID_RULE = "should be 1 to 64 characters of A-Z a-z 0-9 _ . : -"


def _sentence(error: ErrorDetails) -> str:
    kind, context = error["type"], error.get("ctx", {})
    if kind in ("enum", "literal_error"):  # expected: "'a', 'b' or 'c'"
        allowed = re.findall(r"'([^']*)'", context["expected"]) or [context["expected"]]
        return "should be one of " + ", ".join(allowed)
    if kind == "string_too_short" and context["min_length"] == 1:
        return "should not be empty"
    if kind == "string_pattern_mismatch" and context["pattern"] == RUN_ID_PATTERN:
        return ID_RULE
    if kind in _SENTENCES:
        return _SENTENCES[kind].format(**context)
    # Any other type: pydantic's "Input should be …" read as our "should be …".
    return error["msg"].removeprefix("Value error, ").removeprefix("Input ").removeprefix("String ")


def validation_error(error: ValidationError, prefix: str = "") -> ApiError:
    """The first error as "<field>: <what it should be>"; in a batch, `field` has the
    report's `runs.N.` prefix and the sentence names the field within the report."""
    first = error.errors(include_url=False)[0]
    path, sentence = field_path(first["loc"]), _sentence(first)
    message = f"{path}: {sentence}" if path else f"the request body {sentence}"
    return ApiError(422, message, (prefix + path) or None)


def parse_report(body: Any, prefix: str = "") -> RunReport:
    if not isinstance(body, dict):
        field = prefix.rstrip(".")
        message = (
            f"{field}: should be a JSON object"
            if field
            else "the request body should be a JSON object"
        )
        raise ApiError(422, message, field or None)
    try:
        return RunReport.model_validate(body)
    except ValidationError as error:
        raise validation_error(error, prefix) from None


# A batch is validated in one call: pydantic's fixed cost is per call, not per report.
_REPORTS = TypeAdapter(list[RunReport])


def parse_reports(items: list[Any]) -> list[RunReport | ApiError]:
    """Each item's report, or the error that rejects it (as parse_report names it)."""
    try:
        return list(_REPORTS.validate_python(items))
    except ValidationError:
        pass  # some report is bad: validate one by one, to name each one's first error
    parsed: list[RunReport | ApiError] = []
    for index, item in enumerate(items):
        try:
            parsed.append(parse_report(item, f"runs.{index}."))
        except ApiError as error:
            parsed.append(error)
    return parsed


# JSON views of store results --------------------------------------------------


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


# Handlers ---------------------------------------------------------------------


async def report_run(request: web.Request) -> web.Response:
    report = parse_report(await read_json(request, MAX_BODY))
    (outcome,) = await request.app[STORE].report_runs([report])
    request.app[METRICS].reports.labels(outcome.result.value).inc()
    if (refusal := _refusal(outcome)) is not None:
        raise refusal
    return json_response(
        reported_run_json(outcome), 201 if outcome.result is ReportResult.CREATED else 200
    )


async def report_batch(request: web.Request) -> web.Response:
    body = await read_json(request, MAX_BATCH_BODY)
    if not isinstance(body, dict) or not isinstance(body.get("runs"), list):
        raise ApiError(422, 'runs: is required, as in {"runs": [ …reports… ]}', "runs")
    items: list[Any] = body["runs"]
    if len(items) > MAX_BATCH_REPORTS:
        raise ApiError(
            422, f"runs: should be at most {MAX_BATCH_REPORTS} reports, not {len(items)}", "runs"
        )
    results: list[dict[str, Any] | None] = [None] * len(items)
    valid: list[tuple[int, RunReport]] = []
    for index, parsed in enumerate(parse_reports(items)):
        if isinstance(parsed, ApiError):
            results[index] = _batch_rejection(items[index], parsed)
        else:
            valid.append((index, parsed))
    outcomes = await request.app[STORE].report_runs([report for _, report in valid])
    for (index, _), outcome in zip(valid, outcomes, strict=True):
        request.app[METRICS].reports.labels(outcome.result.value).inc()
        if (refusal := _refusal(outcome, f"runs.{index}.")) is not None:
            results[index] = _batch_rejection(items[index], refusal)
        else:
            status = 201 if outcome.result is ReportResult.CREATED else 200
            results[index] = {"id": outcome.run_id, "status": status, "error": None}
    return json_response({"results": results})


def _refusal(outcome: ReportOutcome, prefix: str = "") -> ApiError | None:
    """Why the store did not take a report: 422, or 409 with the run its event_id was used for."""
    if outcome.error is None:
        return None
    field = prefix + outcome.error.field if outcome.error.field else None
    if outcome.result is ReportResult.CONFLICT:
        return ApiError(409, outcome.error.message, field, run=reported_run_json(outcome))
    return ApiError(422, outcome.error.message, field)


def _batch_rejection(item: Any, error: ApiError) -> dict[str, Any]:
    run_id = item.get("id") if isinstance(item, dict) else None
    return {
        "id": run_id if isinstance(run_id, str) else None,
        "status": error.status,
        "error": error.message,
        "field": error.field,
        **error.extra,
    }


def _statuses(request: web.Request) -> frozenset[RunStatus]:
    statuses = set()
    for value in request.query.getall("status", []):
        for word in value.split(","):
            try:
                statuses.add(RunStatus(word.strip().lower()))
            except ValueError:
                known = ", ".join(status.value for status in RunStatus)
                raise ApiError(
                    422, f"status: should be one of {known}, not {word!r}", "status"
                ) from None
    return frozenset(statuses)


def _time_param(request: web.Request, name: str, *, end_of_day: bool) -> datetime | None:
    value = request.query.get(name)
    if value is None or not value.strip():
        return None
    try:
        return parse_api_time(value.strip(), end_of_day=end_of_day)
    except FilterSyntaxError:
        raise ApiError(
            422,
            f"{name}: should be an RFC 3339 time like 2026-11-20T10:02:03Z or a day like 2026-11-20",
            name,
        ) from None


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "20")
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(
            422, f"limit: should be a whole number from 1 to {MAX_PAGE}", "limit"
        ) from None
    if not 1 <= limit <= MAX_PAGE:
        raise ApiError(422, f"limit: should be from 1 to {MAX_PAGE}, not {limit}", "limit")
    return limit


def run_filter(request: web.Request) -> RunFilter:
    since = _time_param(request, "since", end_of_day=False)
    until = _time_param(request, "until", end_of_day=True)
    if since is not None and until is not None and since > until:
        raise ApiError(422, "since: should not be after until", "since")
    workflow = request.query.get("workflow", "").strip() or None
    try:
        # Read as /runs reads its text: "ACME Corp" is one phrase.
        words = text_words(request.query.get("q", ""))
    except FilterSyntaxError as error:
        raise ApiError(422, error.message, "q") from None
    return RunFilter(
        statuses=_statuses(request),
        since=since,
        until=until,
        workflow=workflow,
        words=words,
        limit=_limit(request),
        cursor=request.query.get("cursor") or None,
    )


async def list_runs(request: web.Request) -> web.Response:
    flt = run_filter(request)
    try:
        page = await request.app[STORE].list_runs(flt)
    except InvalidCursor as error:
        raise ApiError(422, f"cursor: {error}: start again without it", "cursor") from None
    return json_response(
        {
            "runs": [summary_json(run) for run in page.runs],
            "next_cursor": page.next_cursor,
            "total": page.total,
        }
    )


def _run_id(request: web.Request) -> str:
    run_id = request.match_info["run_id"]
    if not is_valid_run_id(run_id):
        raise ApiError(404, f"no run with ID {run_id!r}: run IDs {ID_RULE}", "id")
    return run_id


async def get_run(request: web.Request) -> web.Response:
    run_id = _run_id(request)
    detail = await request.app[STORE].get_run(run_id)
    if detail is None:
        raise ApiError(404, f"no run with ID {run_id}")
    return json_response(detail_json(detail))


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    author: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_NOTE)]


async def add_note(request: web.Request) -> web.Response:
    run_id = _run_id(request)
    body = await read_json(request, MAX_BODY)
    try:
        note = NoteBody.model_validate(body)
    except ValidationError as error:
        raise validation_error(error) from None
    try:
        record = await request.app[STORE].add_note(
            run_id, author=note.author, text=note.text, source="api"
        )
    except RunNotFound:
        raise ApiError(404, f"no run with ID {run_id}") from None
    return json_response(note_json(record), 201)


class WorkflowBody(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    source: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    destination: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    trigger_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    alert_channel: str | None = None

    @field_validator("trigger_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("should be an http:// or https:// URL")
        return value

    @field_validator("alert_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not (
            value[:1] in "CGD" and value[1:].isalnum() and value.isupper()
        ):
            raise ValueError("should be a Slack channel ID like C0123456789")
        return value


async def put_workflow(request: web.Request) -> web.Response:
    workflow_id = request.match_info["workflow_id"]
    if not is_valid_run_id(workflow_id):
        raise ApiError(422, f"id: {ID_RULE}", "id")
    body = await read_json(request, MAX_BODY)
    try:
        spec = WorkflowBody.model_validate(body)
    except ValidationError as error:
        raise validation_error(error) from None
    record, created = await request.app[STORE].put_workflow(
        workflow_id, WorkflowSpec(**spec.model_dump())
    )
    return json_response(full_workflow_json(record), 201 if created else 200)


async def list_workflows(request: web.Request) -> web.Response:
    workflows = await request.app[STORE].list_workflows()
    return json_response({"workflows": [full_workflow_json(w) for w in workflows]})


async def healthz(request: web.Request) -> web.Response:
    """200 when the store answers, 503 otherwise; how Slack stands never changes the status."""
    slack = request.app[SLACK_HEALTH].state
    if await request.app[STORE].ping():
        return json_response({"status": "ok", "slack": slack})
    return json_response(
        {"status": "unavailable", "error": "the run store does not answer", "slack": slack}, 503
    )


async def metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": content_type})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/runs", report_run)
    app.router.add_post("/api/v1/runs/batch", report_batch)
    app.router.add_get("/api/v1/runs", list_runs)
    app.router.add_get("/api/v1/runs/{run_id}", get_run)
    app.router.add_post("/api/v1/runs/{run_id}/notes", add_note)
    app.router.add_put("/api/v1/workflows/{workflow_id}", put_workflow)
    app.router.add_get("/api/v1/workflows", list_workflows)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
