"""What a `/runs` page's Next, Previous and Share buttons carry: the search and where a page starts.

Nothing is kept on the server between clicks: the button's value holds the words as typed, the
store's cursor and the page's number, so any replica answers the click. Slack caps a value at
2,000 characters; a search too long to fit gets no paging buttons (see `encode`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

BUTTON_VALUE_MAX = 2_000


class NotAPageState(ValueError):
    """A button value that `PageState.encode` did not make."""


@dataclass(frozen=True)
class PageState:
    """`query`: the words after `/runs`; `cursor`: the store's cursor of the page (None for the
    first); `number`: which page it is, from 1."""

    query: str
    cursor: str | None = None
    number: int = 1

    def encode(self) -> str | None:
        """The button value, or None when it would pass Slack's 2,000 characters: a cursor
        takes about 300, so a search of up to about 1,650 characters pages."""
        value = json.dumps(
            {"q": self.query, "c": self.cursor, "n": self.number},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return value if len(value) <= BUTTON_VALUE_MAX else None

    @classmethod
    def decode(cls, value: str) -> PageState:
        """Raises NotAPageState for anything `encode` did not make."""
        try:
            fields = json.loads(value)
            query, cursor, number = fields["q"], fields["c"], fields["n"]
        except (ValueError, TypeError, KeyError):
            raise NotAPageState(value) from None
        if not (
            isinstance(query, str)
            and (cursor is None or isinstance(cursor, str))
            and isinstance(number, int)
            and number >= 1
        ):
            raise NotAPageState(value)
        return cls(query, cursor, number)
