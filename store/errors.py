"""The store's exceptions: what a caller of the store or its parsers may catch."""

from __future__ import annotations

from datetime import datetime

from store.filter_errors import Problem


class DatabaseUnavailable(Exception):
    """The database cannot be opened (or migrated); `reason` is the driver's reason in one
    line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RunNotFound(LookupError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with ID {run_id}")
        self.run_id = run_id


class InvalidCursor(ValueError):
    """A `cursor` that this store did not make, or made for another search; the message
    says which, as a sentence whose subject is the cursor."""


class ReportRejected(ValueError):
    """A report that is valid JSON but cannot be stored; names the field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class FilterSyntaxError(ValueError):
    """Words that could not be understood: what went wrong, as data a sentence is made from.

    `problem` and `values` say what went wrong (handlers/blocks/query_errors.py `describe`
    tells it to a person); `position` indexes the offending word in the tokenized words (None
    when no one word is at fault); `hint` is an example of the right form, or None.
    """

    def __init__(
        self,
        problem: Problem,
        *,
        position: int | None = None,
        hint: str | None = None,
        **values: str,
    ) -> None:
        super().__init__(f"{problem}: {values}")
        self.problem, self.values = problem, values
        self.position = position
        self.hint = hint


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone reached the store: always a bug."""


class RetriggerInFlight(Exception):
    """The run already has a retrigger in flight: `requested_by` asked for it at
    `requested_at` (aware UTC), as `new_run_id`. Nothing new was made."""

    def __init__(
        self, run_id: str, *, new_run_id: str, requested_by: str, requested_at: datetime
    ) -> None:
        super().__init__(f"{run_id} is already being retriggered as {new_run_id}")
        self.run_id, self.new_run_id, self.requested_by = run_id, new_run_id, requested_by
        self.requested_at = requested_at


class RetriggerNotConfigured(Exception):
    """Retriggers cannot be sent until `variable` (an environment variable, or the
    workflow's `trigger_url`) is set. Nothing was made."""

    def __init__(self, variable: str, *, workflow_id: str | None = None) -> None:
        super().__init__(f"{variable} is not set")
        self.variable, self.workflow_id = variable, workflow_id
