"""Cursors of the run pages: where the next (or previous) page starts, and which search
it belongs to.

A cursor is opaque to clients (URL-safe base64 of a small JSON object); it carries the
first page's total, its exactness and its time window, so paging is stable while new runs
arrive.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

import orjson

from store.errors import InvalidCursor
from store.filters import RunFilter


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts, and what the first page was.

    The page starts just past (`started_at`, `run_id`): older runs, or with `backward`, the
    newer runs just before it (the previous page).

    A cursor only continues the search that made it. `search` fingerprints that search's
    statuses, workflow, reference, run ID and text, and its times as the words that set them
    (`last:7d`, `today`; the instants when no words did, as in the API). The time window the
    first page resolved those words to is carried along and used for every later page: the
    same words read at a later "now" still page on through the same runs, each run once,
    under the total counted for the first page.
    """

    started_at: datetime
    run_id: str
    total: int
    search: str
    since: datetime | None
    until: datetime | None
    total_exact: bool = True
    backward: bool = False


def search_fingerprint(flt: RunFilter) -> str:
    """What must stay the same for a cursor to go on: everything but the limit and the cursor.
    The order of the words does not count (they must all match, whatever their order)."""
    moments = (flt.since, flt.until)
    times = sorted(flt.time_words) or [
        moment.isoformat() if moment is not None else "" for moment in moments
    ]
    search = [
        sorted(flt.statuses),
        flt.workflow,
        flt.reference,
        flt.run_id,
        sorted(flt.words),
        times,
    ]
    digest = hashlib.blake2b(orjson.dumps(search), digest_size=12).digest()
    return base64.urlsafe_b64encode(digest).decode()


def encode_cursor(cursor: Cursor) -> str:
    moments = (cursor.started_at, cursor.since, cursor.until)
    started_at, since, until = (None if m is None else m.isoformat() for m in moments)
    body = orjson.dumps(
        {
            "t": started_at,
            "i": cursor.run_id,
            "n": cursor.total,
            "q": cursor.search,
            "s": since,
            "u": until,
            "x": cursor.total_exact,
            "b": cursor.backward,
        }
    )
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """Raises InvalidCursor for anything encode_cursor did not make."""
    try:
        body = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        since, until = (None if body[k] is None else datetime.fromisoformat(body[k]) for k in "su")
        cursor = Cursor(
            started_at=datetime.fromisoformat(body["t"]),
            run_id=str(body["i"]),
            total=int(body["n"]),
            search=str(body["q"]),
            since=since,
            until=until,
            # Cursors given out before these two existed go forward under an exact total.
            total_exact=bool(body.get("x", True)),
            backward=bool(body.get("b", False)),
        )
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidCursor("is not one this server gave out") from None
    moments = (cursor.started_at, cursor.since, cursor.until)
    if any(moment is not None and moment.tzinfo is None for moment in moments):
        raise InvalidCursor("is not one this server gave out")
    return cursor
