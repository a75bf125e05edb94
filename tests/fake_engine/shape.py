"""What a retrigger request's body must hold (CONTRACT.md section 5), checked field by field."""

from __future__ import annotations

import json
import re
from typing import Any

JsonDict = dict[str, Any]

RUN_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
MAX_REFERENCE = 255
FIELDS = ("run_id", "retry_of", "workflow_id", "reference", "payload", "requested_by")


def parse_body(raw: bytes) -> tuple[JsonDict | None, str | None]:
    """The body as a JSON object and None, or what it is and why it is refused."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return None, f"body is not UTF-8 JSON: {error}"
    if not isinstance(value, dict):
        return None, f"body is JSON {type(value).__name__}, not an object"
    problem = shape_problem(value)
    return value, problem


def shape_problem(body: JsonDict) -> str | None:
    """The first field that is missing or wrong, as a sentence; None when all are right.
    Fields the contract may add later are let through (add, don't break)."""
    for name in FIELDS:
        if name not in body:
            return f"{name} is missing"
    for name in ("run_id", "retry_of"):
        value = body[name]
        if not isinstance(value, str) or not RUN_ID.fullmatch(value):
            return f"{name} is not a run ID: {value!r}"
    if body["run_id"] == body["retry_of"]:
        return "run_id is the same as retry_of"
    for name in ("workflow_id", "requested_by"):
        value = body[name]
        if not isinstance(value, str) or not value.strip():
            return f"{name} is not a non-empty string: {value!r}"
    reference = body["reference"]
    if not isinstance(reference, str) or not reference or len(reference) > MAX_REFERENCE:
        return f"reference is not a string of 1 to {MAX_REFERENCE} characters"
    # null is let through: a run reported without a payload has no original to send.
    if body["payload"] is not None and not isinstance(body["payload"], dict):
        return f"payload is {type(body['payload']).__name__}, not an object or null"
    return None
