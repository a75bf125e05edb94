"""The engine's side after accepting a retrigger: report the new run's outcome to runsbot's
`POST /api/v1/runs` with the bearer token, as a real engine does (CONTRACT.md section 3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from .models import JsonDict, ReportAnswer

Outcome = Literal["pending", "running", "finished", "failed", "skipped"]


@dataclass(frozen=True)
class RunsbotApi:
    """Where runsbot's run API is (`http://127.0.0.1:PORT`) and the engine's token for it."""

    base_url: str
    token: str


@dataclass(frozen=True)
class AutoReport:
    """Report every run the engine accepts as ended this way, once per run_id."""

    status: Outcome = "finished"
    error: str | None = None


def check_outcome(status: Outcome, error: str | None) -> None:
    """Refuse, in the test, a report runsbot would refuse: failed without an error message."""
    if status == "failed" and not error:
        raise ValueError("a failed run needs error=... (the contract makes it required)")


def report_body(
    run_id: str,
    retrigger: JsonDict | None,
    *,
    status: Outcome,
    error: str | None,
    workflow_id: str | None,
    extra: JsonDict,
) -> JsonDict:
    """The report for `run_id`: its workflow and reference from the retrigger request the
    engine received for it (when there was one), then the outcome, then `extra` fields."""
    check_outcome(status, error)
    source = retrigger or {}
    workflow = workflow_id or source.get("workflow_id")
    if not isinstance(workflow, str):
        raise ValueError(f"no retrigger request was received for {run_id}: pass workflow_id=...")
    body: JsonDict = {"id": run_id, "workflow": {"id": workflow}, "status": status}
    for name in ("reference", "payload"):
        if source.get(name) is not None:
            body[name] = source[name]
    if error is not None:
        body["error"] = {"message": error}
    body.update(extra)
    return body


async def post_report(
    session: aiohttp.ClientSession, api: RunsbotApi, body: JsonDict
) -> ReportAnswer:
    """POST the report and return runsbot's answer, whatever its status."""
    url = api.base_url.rstrip("/") + "/api/v1/runs"
    headers = {"Authorization": f"Bearer {api.token}"}
    async with session.post(url, json=body, headers=headers) as response:
        answer: Any = await response.json(content_type=None)
        return ReportAnswer(body["id"], response.status, answer if isinstance(answer, dict) else {})
