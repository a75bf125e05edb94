"""What the fake engine records: each request received, and each violation of the contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .faults import Fault

JsonDict = dict[str, Any]


@dataclass
class Received:
    """One request to a trigger URL, as the engine saw it and what it answered.

    `received_at` is the engine's monotonic clock (for pacing); `wall_time` its unix clock.
    `status` is None until answered, and stays None for a request held until the engine was
    reset or stopped. `problem` says why the request was refused (signature or body), or None.
    """

    url: str
    received_at: float
    wall_time: float
    headers: Mapping[str, str]  # case-insensitive, as received
    raw_body: bytes
    body: JsonDict | None
    signature_ok: bool
    problem: str | None
    fault: Fault | None = None
    status: int | None = None
    abandoned: bool = False

    @property
    def run_id(self) -> str | None:
        value = self.body.get("run_id") if self.body is not None else None
        return value if isinstance(value, str) else None

    @property
    def accepted(self) -> bool:
        """Answered 2xx: the engine took the run."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Violation:
    """Something runsbot did that the contract forbids (a bad signature, a malformed body, a
    report runsbot refused), for `FakeEngine.assert_no_violations()`."""

    url: str
    problem: str


@dataclass(frozen=True)
class ReportAnswer:
    """runsbot's answer to a report the engine made to `POST /api/v1/runs` about `run_id`."""

    run_id: str
    status: int
    body: JsonDict
