"""Text helpers every builder shares: mrkdwn escaping, clean truncation, Slack date tokens."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from store.types import RunStatus

ELLIPSIS = "…"
DEFAULT_DATE_FORMAT = "{date_short_pretty} at {time}"

STATUS_EMOJI = {
    RunStatus.PENDING: "⏳",
    RunStatus.RUNNING: "🔄",
    RunStatus.FINISHED: "✅",
    RunStatus.FAILED: "❌",
    RunStatus.SKIPPED: "⏭️",
}

_ZWJ = "\u200d"
# Unicode isolates: an RTL reference (or one with stray bidi overrides) cannot reorder the
# text around it, such as the run ID that follows it on the same line.
_FIRST_STRONG_ISOLATE = "\u2068"
_POP_DIRECTIONAL_ISOLATE = "\u2069"
# Isolate controls inside the text would close ours early or leave one open (UAX #9, X5a-X6a):
# they are dropped. Embeddings and overrides inside are ended by our closing isolate.
_DROP_ISOLATES = dict.fromkeys(range(0x2066, 0x206A))


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack reserves in mrkdwn (`&` first, so nothing doubles).

    https://docs.slack.dev/messaging/formatting-message-text#escaping
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_mrkdwn(text: str) -> str:
    """The text a person typed, from a message's `text` (Slack escapes the same three)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start cut cleanly and ending in "…"."""
    if len(text) <= limit:
        return text
    return _cut(text, limit - len(ELLIPSIS), len) + ELLIPSIS


def escape_and_truncate(text: str, limit: int) -> str:
    """`text` escaped for mrkdwn in at most `limit` characters once escaped.

    The cut is made before escaping, so no `&amp;` is ever left half written.
    """
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    return escape_mrkdwn(_cut(text, limit - len(ELLIPSIS), _escaped_length)) + ELLIPSIS


def excerpt(text: str, limit: int) -> str:
    """The start of `text` on one line, escaped, in at most `limit` characters: only about
    `4 * limit` characters of it are read, so a 100 KB stack trace costs what a line does."""
    head = text[: 4 * limit]
    more = len(text) > len(head) and not text[len(head) :].isspace()
    return escape_and_truncate(one_line(head) + (f" {ELLIPSIS}" if more else ""), limit)


def one_line(text: str) -> str:
    """Runs of whitespace (newlines included) as single spaces, for one-line displays."""
    return " ".join(text.split())


def isolate(text: str) -> str:
    """`text` as a bidi isolate: right-to-left text stays inside its own span."""
    return f"{_FIRST_STRONG_ISOLATE}{text.translate(_DROP_ISOLATES)}{_POP_DIRECTIONAL_ISOLATE}"


def slack_date(moment: datetime, token_format: str = DEFAULT_DATE_FORMAT) -> str:
    """Slack's date token: each reader sees `moment` in their own time zone.

    Clients that cannot render it show the UTC fallback, e.g. "2026-11-20 10:02 UTC".
    https://docs.slack.dev/messaging/formatting-message-text#date-formatting
    """
    fallback = utc_text(moment)  # raises on a naive datetime before timestamp() guesses a zone
    return f"<!date^{int(moment.timestamp())}^{token_format}|{fallback}>"


def utc_text(moment: datetime) -> str:
    """`moment` in UTC to the minute, e.g. "2026-11-20 10:02 UTC"; raises on naive datetimes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: Slack dates need an aware datetime")
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def packed(lines: Iterable[str], limit: int) -> list[str]:
    """The lines joined by newlines into as few texts as keep within `limit`, none split (a
    line longer than `limit` stands alone: cut it first)."""
    texts: list[str] = []
    for line in lines:
        if texts and len(texts[-1]) + 1 + len(line) <= limit:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return texts


def status_emoji(status: RunStatus) -> str:
    return STATUS_EMOJI[status]


_ESCAPED_SIZE = {"&": 5, "<": 4, ">": 4}  # &amp; &lt; &gt;


def _escaped_length(char: str) -> int:
    return _ESCAPED_SIZE.get(char, 1)


def _cut(text: str, budget: int, length: Callable[[str], int]) -> str:
    """The longest start of `text` whose `length` is within `budget`, ending at a clean boundary."""
    if budget < 0:
        raise ValueError("a limit must leave room for the ellipsis")
    fits = spent = 0
    for char in text:
        spent += length(char)
        if spent > budget:
            break
        fits += 1
    # Back to the nearest clean boundary: a few steps at most, so only those are checked.
    clean = fits
    while clean > 0 and not _is_boundary(text, clean):
        clean -= 1
    # One "character" longer than the budget (say, a letter under 5,000 combining marks):
    # cutting inside it is the lesser evil; a code point is never split.
    return text[: clean or fits].rstrip()


def _is_boundary(text: str, index: int) -> bool:
    """Whether a cut before `text[index]` keeps every user-perceived character whole.

    An approximation of grapheme clusters (UAX #29) covering what references carry: combining
    marks, emoji ZWJ sequences, variation selectors, skin tones, tag sequences and flags.
    """
    if index <= 0 or index >= len(text):
        return True
    if _extends_previous(text[index]) or text[index - 1] == _ZWJ:
        return False
    if _is_regional_indicator(text[index]):
        # Flags are pairs of regional indicators: cut only after an even number of them.
        run = 0
        while index - run - 1 >= 0 and _is_regional_indicator(text[index - run - 1]):
            run += 1
        return run % 2 == 0
    return True


def _extends_previous(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (text / emoji presentation)
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF
