"""The run API of CONTRACT.md section 3: request handlers, middlewares, routes and the
contract's JSON errors."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from pydantic import ValidationError

from bot.api_json import detail_json, full_workflow_json, note_json, page_json, reported_run_json
from bot.api_requests import (
    ID_RULE,
    ApiError,
    NoteBody,
    RetriggerBody,
    WorkflowBody,
    parse_report,
    parse_reports,
    read_json,
    run_filter,
    validation_error,
)
from bot.config import Settings
from bot.metrics import Metrics
from bot.slack_health import SlackHealth
from store.errors import InvalidCursor, RetriggerInFlight, RetriggerNotConfigured, RunNotFound
from store.ids import is_valid_run_id
from store.records import ReportOutcome, ReportResult, WorkflowSpec
from store.reports import RunReport
from store.run_store import RunStore
from store.types import NoteSource

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
MAX_BATCH_BODY = 16 * 1024 * 1024
MAX_BATCH_REPORTS = 1000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STORE = web.AppKey("store", RunStore)
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
SLACK_HEALTH = web.AppKey("slack_health", SlackHealth)


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


async def list_runs(request: web.Request) -> web.Response:
    flt = run_filter(request)
    try:
        page = await request.app[STORE].list_runs(flt)
    except InvalidCursor as error:
        raise ApiError(422, f"cursor: {error}: start again without it", "cursor") from None
    return json_response(page_json(page))


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


async def add_note(request: web.Request) -> web.Response:
    run_id = _run_id(request)
    body = await read_json(request, MAX_BODY)
    try:
        note = NoteBody.model_validate(body)
    except ValidationError as error:
        raise validation_error(error) from None
    try:
        record = await request.app[STORE].add_note(
            run_id, author=note.author, text=note.text, source=NoteSource.API
        )
    except RunNotFound:
        raise ApiError(404, f"no run with ID {run_id}") from None
    return json_response(note_json(record), 201)


async def retrigger_run(request: web.Request) -> web.Response:
    """202 with the new run; 409 with the run already in flight (however many ask at once)."""
    run_id = _run_id(request)
    body = await read_json(request, MAX_BODY)
    try:
        asked = RetriggerBody.model_validate(body)
    except ValidationError as error:
        raise validation_error(error) from None
    store = request.app[STORE]
    try:
        requested = await store.request_retrigger(run_id, requested_by=asked.requested_by)
    except RunNotFound:
        raise ApiError(404, f"no run with ID {run_id}") from None
    except RetriggerNotConfigured as error:
        raise ApiError(503, _not_configured(error), variable=error.variable) from None
    except RetriggerInFlight as error:
        in_flight = await store.get_run(error.new_run_id)
        raise ApiError(
            409,
            f"run {run_id} is already being retriggered as {error.new_run_id}, "
            f"requested by {error.requested_by}",
            run=detail_json(in_flight) if in_flight is not None else None,
        ) from None
    new_run = await store.get_run(requested.new_run_id)
    assert new_run is not None
    return json_response(detail_json(new_run), 202)


def _not_configured(error: RetriggerNotConfigured) -> str:
    """503, as for a missing RUNSBOT_API_TOKEN: runsbot lacks configuration, the request
    itself is fine, and the same request succeeds once the operator sets what is named."""
    if error.variable == "RUNSBOT_TRIGGER_URL":
        return (
            f"retriggers of workflow {error.workflow_id} have nowhere to go: set its "
            f"trigger_url with PUT /api/v1/workflows/{error.workflow_id}, or set "
            "RUNSBOT_TRIGGER_URL"
        )
    return f"retriggers cannot be signed: set {error.variable}"


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
    app.router.add_post("/api/v1/runs/{run_id}/retrigger", retrigger_run)
    app.router.add_put("/api/v1/workflows/{workflow_id}", put_workflow)
    app.router.add_get("/api/v1/workflows", list_workflows)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
