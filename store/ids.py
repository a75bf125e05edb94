"""Run IDs: made in one place, checked against the contract's character set."""

from __future__ import annotations

import re

from ulid import ULID

RUN_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
_RUN_ID = re.compile(RUN_ID_PATTERN)


def new_run_id() -> str:
    """`run_` plus a 26-character ULID: unique and sortable by creation time."""
    return f"run_{ULID()}"


def is_valid_run_id(value: str) -> bool:
    return _RUN_ID.fullmatch(value) is not None
