"""Why demo runs fail: the four common causes, their messages, and incidents in bursts.

Without an incident a few runs fail, by cause; an expired token makes every run of its
workflow fail until someone reconnects, and a downstream outage most of them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.demo.clock import HOUR_MS
from bot.demo.workflows import WORKFLOWS, DemoWorkflow, StepKind
from store.causes import FailureCause

# Without an incident, this share of runs fails, by cause (the rest finish or are skipped).
BASE_FAILURE_RATE: Final = 0.058

CREDENTIAL_ERRORS: Final = (
    "401 Unauthorized: token expired",
    "invalid_grant: refresh token revoked",
    "403 Forbidden: the app's access was revoked by an administrator",
)
OUTAGE_ERRORS: Final = (
    "504 Gateway Timeout",
    "503 Service Unavailable",
    "429 Too Many Requests: rate limit exceeded",
    "Read timed out after 30s",
    "502 Bad Gateway",
)
# How long a step takes before it fails with this outage error, in seconds.
OUTAGE_WAIT: Final = {
    "504 Gateway Timeout": (60.0, 60.5),
    "Read timed out after 30s": (30.0, 30.2),
    "503 Service Unavailable": (0.2, 1.5),
    "429 Too Many Requests: rate limit exceeded": (0.1, 0.6),
    "502 Bad Gateway": (0.5, 8.0),
}
# Base failures without an incident, by cause.
_CAUSE_MIX: Final = (
    (FailureCause.MISSING_FIELD, 0.48),
    (FailureCause.LOGIC, 0.2),
    (FailureCause.OUTAGE, 0.2),
    (FailureCause.CREDENTIAL, 0.12),
)


def _failure_messages() -> dict[FailureCause, frozenset[str]]:
    return {
        FailureCause.CREDENTIAL: frozenset(CREDENTIAL_ERRORS),
        FailureCause.OUTAGE: frozenset(OUTAGE_ERRORS),
        FailureCause.MISSING_FIELD: frozenset(m for w in WORKFLOWS for m in w.missing_fields),
        FailureCause.LOGIC: frozenset(m for w in WORKFLOWS for m in w.logic_errors),
    }


# Every error message the demo data uses, by cause.
FAILURE_MESSAGES: Final = _failure_messages()


@dataclass(frozen=True)
class Failure:
    cause: FailureCause
    message: str
    step: int  # index into the workflow's steps


@dataclass
class Incident:
    start_ms: int
    end_ms: int
    failure: Failure
    rate: float  # share of the workflow's runs that fail meanwhile


def _step_of(workflow: DemoWorkflow, kinds: Sequence[StepKind], rng: random.Random) -> int:
    matching = [i for i, (_, kind) in enumerate(workflow.steps) if kind in kinds]
    if not matching:
        return len(workflow.steps) - 1
    return matching[int(rng.random() * len(matching))]


def random_failure(workflow: DemoWorkflow, cause: FailureCause, rng: random.Random) -> Failure:
    if cause is FailureCause.CREDENTIAL:
        message = CREDENTIAL_ERRORS[int(rng.random() * len(CREDENTIAL_ERRORS))]
        step = _step_of(workflow, (StepKind.READ, StepKind.WRITE), rng)
    elif cause is FailureCause.OUTAGE:
        message = OUTAGE_ERRORS[int(rng.random() * len(OUTAGE_ERRORS))]
        step = _step_of(
            workflow, (StepKind.WRITE,) if rng.random() < 0.75 else (StepKind.READ,), rng
        )
    elif cause is FailureCause.MISSING_FIELD:
        message = workflow.missing_fields[int(rng.random() * len(workflow.missing_fields))]
        step = _step_of(workflow, (StepKind.MAP, StepKind.WRITE), rng)
    else:
        message = workflow.logic_errors[int(rng.random() * len(workflow.logic_errors))]
        step = _step_of(workflow, (StepKind.MAP,), rng)
    return Failure(cause, message, step)


def base_failure(workflow: DemoWorkflow, rng: random.Random) -> Failure | None:
    """A failure outside any incident, `BASE_FAILURE_RATE` of the time, by `_CAUSE_MIX`."""
    if rng.random() >= BASE_FAILURE_RATE:
        return None
    point, cause = rng.random(), _CAUSE_MIX[-1][0]
    for candidate, share in _CAUSE_MIX:
        if point < share:
            cause = candidate
            break
        point -= share
    return random_failure(workflow, cause, rng)


def incidents(
    workflow: DemoWorkflow, start_ms: int, end_ms: int, rng: random.Random
) -> list[Incident]:
    """Expired tokens (every run fails until someone reconnects) and downstream outages."""
    days = (end_ms - start_ms) / (24 * HOUR_MS)
    found: list[Incident] = []
    for cause, per_day, hours, rate in (
        (FailureCause.CREDENTIAL, 1 / 12, (0.5, 6.0), 1.0),
        (FailureCause.OUTAGE, 1 / 5, (0.2, 1.5), 0.7),
    ):
        count = int(days * per_day * (0.5 + rng.random()) + rng.random())
        for _ in range(count):
            begin = start_ms + int(rng.random() * (end_ms - start_ms))
            length = int(rng.uniform(*hours) * HOUR_MS)
            failure = random_failure(workflow, cause, rng)
            found.append(Incident(begin, begin + length, failure, rate))
    found.sort(key=lambda incident: incident.start_ms)
    return found
