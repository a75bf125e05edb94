"""The store's exceptions: what a caller of the store or its parsers may catch."""

from __future__ import annotations

from store.filter_errors import SENTENCES, Problem


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
    """Words that could not be understood, told as a sentence a person can act on.

    `problem` and `values` say what went wrong and `message` tells it; `position` indexes the
    offending word in the tokenized words (None when no one word is at fault); `hint` is an
    example of the right form, or None.
    """

    def __init__(
        self,
        problem: Problem,
        *,
        position: int | None = None,
        hint: str | None = None,
        **values: str,
    ) -> None:
        message = SENTENCES[problem].format(**values)
        super().__init__(message)
        self.problem, self.values = problem, values
        self.message = message
        self.position = position
        self.hint = hint


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone reached the store: always a bug."""
