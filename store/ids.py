"""Slack's and runsbot's IDs as strings: run IDs made in one place, and every ID checked once.

A run ID is `run_` plus a 26-character ULID (its first 10 characters the start time in
milliseconds, the other 16 random), checked against the contract's character set. Slack's
channel, user and user group IDs are checked by their first letter and alphabet.
"""

from __future__ import annotations

import re

from ulid import ULID

RUN_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
_RUN_ID = re.compile(RUN_ID_PATTERN)
# C: public, G: private (older), D: direct message.
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
# U and W (Enterprise Grid): people; S: user groups.
_USER_OR_GROUP_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")


def _run_id(ulid: ULID) -> str:
    return f"run_{ulid}"


def new_run_id() -> str:
    """`run_` plus a 26-character ULID: unique and sortable by creation time (python-ulid
    keeps the IDs made within one millisecond increasing)."""
    return _run_id(ULID())


def run_id_at(milliseconds: int, randomness: int) -> str:
    """The run ID of a run made `milliseconds` after the epoch, its 80 random bits given:
    for data that must come out the same from the same seed (the demo data)."""
    return _run_id(ULID.from_int((milliseconds << 80) | randomness))


def is_valid_run_id(value: str) -> bool:
    return _RUN_ID.fullmatch(value) is not None


def is_channel_id(value: str) -> bool:
    """A Slack channel ID like C0123456789 (not a #name)."""
    return _CHANNEL_ID.match(value) is not None


def is_user_or_group_id(value: str) -> bool:
    """A Slack user ID (U…, W…) or user group ID (S…)."""
    return _USER_OR_GROUP_ID.match(value) is not None
