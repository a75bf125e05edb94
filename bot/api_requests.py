"""Reading run-API requests: JSON bodies, query parameters and path IDs, validated, with
every failure an ApiError whose sentence starts with the field at fault."""

from __future__ import annotations

import re
from datetime import datetime
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

from handlers.blocks.query_errors import describe, describe_time
from store.errors import FilterSyntaxError
from store.filters import RunFilter
from store.ids import RUN_ID_PATTERN, is_channel_id
from store.reports import RunReport
from store.times import NotATime, parse_api_time
from store.types import RunStatus
from store.words import text_words

MAX_PAGE = 200
MAX_NOTE = 3000


class ApiError(Exception):
    """An answer of the contract's shape: {"error": sentence, "field": dotted path}."""

    def __init__(self, status: int, message: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.extra = status, message, field, extra


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
    if isinstance(context.get("error"), NotATime):
        return describe_time(context["error"])
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
        raise ApiError(422, describe(error), "q") from None
    return RunFilter(
        statuses=_statuses(request),
        since=since,
        until=until,
        workflow=workflow,
        words=words,
        limit=_limit(request),
        cursor=request.query.get("cursor") or None,
    )


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    author: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_NOTE)]


class RetriggerBody(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    requested_by: Annotated[str, StringConstraints(min_length=1, max_length=255)]


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
        if value is not None and not is_channel_id(value):
            raise ValueError("should be a Slack channel ID like C0123456789")
        return value
