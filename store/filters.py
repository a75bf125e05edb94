"""The one query language of `/runs`, the CLI and the run API: words in, a RunFilter out.

Days and times are read in the asker's time zone and turned into UTC at once, so a RunFilter
only ever holds aware UTC datetimes. "Now" is always passed in, never read from the clock here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from store.errors import FilterSyntaxError
from store.types import RunStatus

__all__ = [
    "GRAMMAR",
    "GrammarEntry",
    "RunFilter",
    "Word",
    "argument_words",
    "parse_api_time",
    "parse_filter",
    "parse_period",
    "text_words",
    "tokenize",
]


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list. Empty fields match anything; since and until are aware UTC, inclusive."""

    statuses: frozenset[RunStatus] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    workflow: str | None = None
    reference: str | None = None
    run_id: str | None = None
    words: tuple[str, ...] = ()
    limit: int = 20
    cursor: str | None = None
    # The words that set since and until, as typed (`last:7d`, `today`): a cursor is checked
    # against these, as the same words read again later give other instants. Not compared:
    # filters are equal when they select the same runs.
    time_words: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # The API and the CLI build filters directly too: keep "aware UTC only" true for them all.
        if self.since is not None:
            object.__setattr__(self, "since", _aware_utc(self.since, "since"))
        if self.until is not None:
            object.__setattr__(self, "until", _aware_utc(self.until, "until"))
        if self.limit < 1:
            raise ValueError(f"limit must be at least 1, not {self.limit}")


@dataclass(frozen=True)
class GrammarEntry:
    """One row of the help text: a status word, a filter key or a time word."""

    syntax: str
    meaning: str
    example: str


# --- Words -------------------------------------------------------------------------------------

_DOUBLE_QUOTES = '"“”'
_SINGLE_QUOTES = "'‘’"
_QUOTE_FAMILY = {quote: _DOUBLE_QUOTES for quote in _DOUBLE_QUOTES} | {
    quote: _SINGLE_QUOTES for quote in _SINGLE_QUOTES
}
_MATCHING_QUOTE = {"“": "”", "‘": "’"}


class Word(str):
    """One word of a command line, as tokenize reads it.

    `quoted` is True when the word began with a quote: it is then text, never a status, a
    time word or a filter, so `"foo:bar"` looks for the text foo:bar. A plain str is unquoted.
    """

    quoted: bool

    def __new__(cls, text: str, *, quoted: bool = False) -> Word:
        word = super().__new__(cls, text)
        word.quoted = quoted
        return word


def tokenize(text: str) -> list[Word]:
    """Split a command line into words at whitespace, dropping the quotes around a phrase.

    A quote opens at the start of a word or right after `key:`; straight and curly quotes both
    work. Raises FilterSyntaxError for a quote that is never closed.
    """
    words: list[Word] = []
    index = 0
    while index < len(text):
        # str.isspace also takes the no-break spaces that pasted text brings along.
        if text[index].isspace():
            index += 1
            continue
        word, index = _read_word(text, index, position=len(words))
        words.append(word)
    return words


def argument_words(arguments: Sequence[str]) -> list[Word]:
    """The words of a command's arguments, which a shell has already split and unquoted.

    An argument without a quote character is one word as it is, spaces and all (`runsbot runs
    "wf:HubSpot → Salesforce"`); one with a quote is read as /runs reads its line
    (`'ref:"Société Générale"'`, `'"Müller"'`, or a whole line as one argument), so a quoted
    word is text here too. Error positions index the words of all the arguments.
    """
    words: list[Word] = []
    for argument in arguments:
        if not any(char in _QUOTE_FAMILY for char in argument):
            words.append(Word(argument))
            continue
        try:
            words.extend(tokenize(argument))
        except FilterSyntaxError as error:
            position = None if error.position is None else len(words) + error.position
            raise FilterSyntaxError(error.message, position=position, hint=error.hint) from None
    return words


def text_words(text: str) -> tuple[str, ...]:
    """Words that are all text (the API's `q`): a quoted phrase stays one word; each word is
    trimmed and empty ones dropped. Raises FilterSyntaxError for a quote that is never closed."""
    return tuple(stripped for word in tokenize(text) if (stripped := word.strip()))


def _read_word(text: str, start: int, *, position: int) -> tuple[Word, int]:
    parts: list[str] = []
    index, quote_may_open, seen_colon = start, True, False
    while index < len(text) and not text[index].isspace():
        char = text[index]
        if quote_may_open and char in _QUOTE_FAMILY:
            closing = _closing_quote(text, index)
            if closing is None:
                raise FilterSyntaxError(
                    f"The quote in `{text[start:].split()[0]}` is never closed: "
                    "end the phrase with a quote too.",
                    position=position,
                    hint=text[start:].rstrip() + _MATCHING_QUOTE.get(char, char),
                )
            parts.append(text[index + 1 : closing])
            index, quote_may_open = closing + 1, False
            continue
        parts.append(char)
        quote_may_open = char == ":" and not seen_colon
        seen_colon = seen_colon or char == ":"
        index += 1
    return Word("".join(parts), quoted=text[start] in _QUOTE_FAMILY), index


def _closing_quote(text: str, opening: int) -> int | None:
    family = _QUOTE_FAMILY[text[opening]]
    for index in range(opening + 1, len(text)):
        at_word_end = index + 1 == len(text) or text[index + 1].isspace()
        # A single quote doubles as an apostrophe (O'Brien, Bob’s), so it only closes at a word end.
        if text[index] in family and (family is _DOUBLE_QUOTES or at_word_end):
            return index
    return None


# --- Days, times and durations -----------------------------------------------------------------

_TICK = timedelta(microseconds=1)
_DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_API_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_LOCAL_TIME = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[Tt ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?"
)
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
# No months or years: their length varies, and `m` already means minutes.
_DURATION = re.compile(r"([0-9]{1,7})([mhdw])", re.IGNORECASE)
_DURATION_UNITS = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_DAYS_AGO = {"today": 0, "yesterday": 1}
# Slack's autocorrect may turn the range's ".." or "..." into an ellipsis.
_RANGE = re.compile(r"\.\.\.?|…")


class _NotATime(ValueError):
    """Why a WHEN could not be read, as the end of a sentence that starts with the word."""


@dataclass(frozen=True)
class _When:
    start: datetime  # UTC
    end: datetime  # UTC, inclusive
    whole_day: bool = False


def _aware_utc(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {value!r}")
    return value.astimezone(UTC)


def _duration(text: str) -> timedelta | None:
    match = _DURATION.fullmatch(text)
    return int(match[1]) * _DURATION_UNITS[match[2].lower()] if match else None


def _whole_day(day: date, tz: tzinfo) -> _When:
    # Local midnight to the next local midnight, so DST days last 23 or 25 hours. A midnight
    # that falls in a DST gap reads as the first moment after it (PEP 495, fold=0).
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    next_start = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return _When(start, next_start - _TICK, whole_day=True)


def _wall_clock(moment: datetime, unit: timedelta, tz: tzinfo) -> _When:
    first = moment.replace(tzinfo=tz).astimezone(UTC)
    second = moment.replace(tzinfo=tz, fold=1).astimezone(UTC)
    # In a fall-back hour the time happens twice and the span takes in both; in a spring-forward
    # gap fold=0 reads it as after the gap, the later of the two readings.
    return _When(first, max(first, second) + unit - _TICK)


def _rfc3339(match: re.Match[str]) -> datetime:
    day, clock, fraction, offset = match.groups()
    if offset is None:
        raise _NotATime("has no offset: add Z for UTC, or one like +01:00")
    fraction = (fraction or "")[:7]  # datetime keeps microseconds: cut the digits beyond them
    # A leap second (23:59:60) has no datetime: it is read as the end of its minute.
    leap = clock.endswith(":60")
    if leap:
        clock, fraction = clock[:-2] + "59", ".999999"
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{fraction}{offset.upper()}")
        return moment.astimezone(UTC)
    except ValueError:
        raise _NotATime("is not a real time") from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise _NotATime("is out of range: years 0001 to 9999 in UTC") from None


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 date-time with its offset (`T`, `Z` in either case), as aware UTC.

    Raises ValueError saying why not, as the end of a sentence that starts with the text.
    """
    if match := _RFC3339.fullmatch(text):
        return _rfc3339(match)
    raise _NotATime("is not an RFC 3339 time like 2026-11-20T10:02:03Z")


def _calendar_day(match: re.Match[str]) -> date:
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        raise _NotATime("is not a real day") from None


def _when(text: str, *, tz: tzinfo, now: datetime) -> _When:
    """One WHEN, as the span it covers: a day whole, a time to the end of its minute."""
    if text.lower() in _DAYS_AGO:
        local_today = now.astimezone(tz).date()
        return _whole_day(local_today - timedelta(days=_DAYS_AGO[text.lower()]), tz)
    if match := _DAY.fullmatch(text):
        return _whole_day(_calendar_day(match), tz)
    if match := _LOCAL_TIME.fullmatch(text):
        year, month, day_of_month, hour, minute, second = match.groups()
        try:
            moment = datetime(
                int(year), int(month), int(day_of_month), int(hour), int(minute), int(second or 0)
            )
        except ValueError:
            raise _NotATime("is not a real time") from None
        return _wall_clock(moment, timedelta(seconds=1 if second else 60), tz)
    if match := _RFC3339.fullmatch(text):
        instant = _rfc3339(match)
        return _When(instant, instant)
    if (delta := _duration(text)) is not None:
        return _When(now - delta, now - delta)
    raise _NotATime("is not a day or a time")


# --- Reading the words -------------------------------------------------------------------------

# Keys are letters only, so times (10:30) and run IDs (run_2Q8:retry) stay text.
_KEY_VALUE = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
# The contract's run ID alphabet: any other ID cannot exist, so say so instead of finding nothing.
_RUN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_STATUS_WORDS = {status.value for status in RunStatus}
# What is left of `Source → Destination` typed without quotes: three words.
_ARROWS = {"→", "->", ">", "=>"}

_WHEN_FORMS = (
    "a day like 2026-11-20, a time like 2026-11-20T14:30, today, yesterday or a duration like 6h"
)
_DAY_FORMS = "a day like 2026-11-20, today or yesterday, or a range like 2026-11-01..2026-11-07"
_DURATION_FORMS = "a number and a unit (m, h, d or w), like 30m, 6h, 7d or 2w"
_PERIOD_FORMS = "a day like 2026-11-20, a duration like 7d, or a range like 2026-11-01..2026-11-07"


def _key_word(key: str, value: str) -> str:
    return f'{key}:"{value}"' if any(char.isspace() for char in value) else f"{key}:{value}"


class _Parse:
    """Gathers the words of one command line into the fields of a RunFilter."""

    def __init__(self, words: Sequence[str], *, tz: tzinfo, now: datetime) -> None:
        self.words = [word if isinstance(word, Word) else Word(word) for word in words]
        self.tz, self.now = tz, _aware_utc(now, "now")
        self.position = 0
        self.prefix, self.needs, self.example = "", _PERIOD_FORMS, "7d"
        self.statuses: set[RunStatus] = set()
        self.since: tuple[datetime, str] | None = None  # the instant, and the word that set it
        self.until: tuple[datetime, str] | None = None
        self.workflow: str | None = None
        self.reference: str | None = None
        self.run_id: str | None = None
        self.text: list[str] = []
        self.time_words: list[str] = []

    @property
    def word(self) -> Word:
        return self.words[self.position]

    def error(self, message: str, hint: str | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(message, position=self.position, hint=hint)

    def invalid(self, reason: str) -> FilterSyntaxError:
        subject = f"`{self.prefix}`" if self.prefix else "A period"
        return self.error(f"`{self.word}` {reason}. {subject} needs {self.needs}.", self.example)

    def add_word(self) -> None:
        word = self.word.strip()
        if self.word.quoted:
            if word:
                self.text.append(word)
            return
        if match := _KEY_VALUE.fullmatch(word):
            typed_key, value = match[1], match[2].strip()
            if (key := _KEYS.get(typed_key.lower())) is None:
                raise self.unknown_key(typed_key, value)
            self.add_filter(key, typed_key, value)
        elif word.lower() in _STATUS_WORDS:
            self.statuses.add(RunStatus(word.lower()))
        elif word.lower() in _DAYS_AGO:
            self.on_key(word)
        elif word in _ARROWS:
            raise self.lone_arrow()
        elif word:
            self.text.append(word)

    def add_filter(self, key: _Key, typed_key: str, value: str) -> None:
        self.prefix, self.needs, self.example = f"{typed_key}:", key.needs, key.grammar.example
        if not value:
            # People type `wf: HubSpot`; the hint joins the next word back on.
            following = self.words[self.position + 1 : self.position + 2]
            raise self.error(
                f"`{self.prefix}` is empty: put {key.needs} right after the colon, with no space.",
                _key_word(typed_key, following[0]) if following else key.grammar.example,
            )
        key.apply(self, value)

    def unknown_key(self, typed_key: str, value: str) -> FilterSyntaxError:
        """Never text that matches nothing: name the closest key, however far, and say how to
        look for the text itself."""
        known, close = _closest_key(typed_key.lower())
        as_text = _quoted(self.word.strip())
        return self.error(
            f"Unknown filter `{typed_key}:` — did you mean `{known}:`? {_FILTER_LIST} "
            f"To look for text with a colon, quote it: `{as_text}`.",
            _key_word(known, value) if close else as_text,
        )

    def lone_arrow(self) -> FilterSyntaxError:
        before = self.words[self.position - 1] if self.position > 0 else "Source"
        after = [*self.words[self.position + 1 : self.position + 2], "Destination"]
        # Rebuild the name from its neighbours, so that the hint is the command they meant.
        name = f"{before.split(':', 1)[-1]} {self.word} {after[0]}"
        return self.error(
            f"`{self.word}` looks like part of a workflow name: "
            "quote the whole name after wf:, so that it stays one word.",
            _key_word("wf", name),
        )

    def set_once(self, current: str | None, value: str, what: str) -> str:
        # RunFilter holds one value; two different ones could only ever match nothing.
        if current is not None and current != value:
            raise self.error(
                f"A search takes one {what}, and `{self.word}` is a second one: "
                "search for each in turn."
            )
        return value

    def workflow_key(self, value: str) -> None:
        self.workflow = self.set_once(self.workflow, value, "workflow")

    def reference_key(self, value: str) -> None:
        self.reference = self.set_once(self.reference, value, "reference")

    def run_id_key(self, value: str) -> None:
        if not _RUN_ID.fullmatch(value):
            raise self.invalid("is not a run ID")
        self.run_id = self.set_once(self.run_id, value, "run ID")

    def status_key(self, value: str) -> None:
        names = [name.strip().lower() for name in value.split(",")]
        if not all(name in _STATUS_WORDS for name in names):
            raise self.invalid("is not a status")
        self.statuses.update(RunStatus(name) for name in names)

    def since_key(self, value: str) -> None:
        first, last = self.period(value)
        self.narrow(since=first.start, until=last.end if last else None)

    def until_key(self, value: str) -> None:
        first, last = self.period(value)
        self.narrow(since=first.start if last else None, until=(last or first).end)

    def on_key(self, value: str) -> None:
        first, last = self.period(value)
        self.narrow(since=self.day_of(first).start, until=self.day_of(last or first).end)

    def last_key(self, value: str) -> None:
        if _RANGE.search(value):
            raise self.error(
                f"`{self.word}` is a range, and `{self.prefix}` takes one duration: "
                "use since: for a range.",
                f"since:{value}",
            )
        if (delta := _duration(value)) is None:
            raise self.invalid("is not a duration")
        self.narrow(since=self.now - delta)

    def period(self, value: str) -> tuple[_When, _When | None]:
        """A WHEN, or both ends of an A..B range."""
        ends = [end.strip() for end in _RANGE.split(value)]
        if len(ends) == 1:
            return self.when(value), None
        if len(ends) != 2 or not all(ends):
            raise self.error(
                f"`{self.word}` needs a start and an end around `..`, both ends included.",
                f"{self.prefix}2026-11-01..2026-11-07",
            )
        first, last = self.when(ends[0]), self.when(ends[1])
        if first.start > last.end:
            raise self.error(
                f"`{self.word}` ends before it starts: put the earlier end first.",
                f"{self.prefix}{ends[1]}..{ends[0]}",
            )
        return first, last

    def when(self, text: str) -> _When:
        try:
            return _when(text, tz=self.tz, now=self.now)
        except _NotATime as problem:
            raise self.invalid(str(problem)) from None

    def day_of(self, when: _When) -> _When:
        """`on:` always means whole days, even when given a time or a duration."""
        return (
            when if when.whole_day else _whole_day(when.start.astimezone(self.tz).date(), self.tz)
        )

    def narrow(self, *, since: datetime | None = None, until: datetime | None = None) -> None:
        """Intersect with the time filters so far: the latest since and the earliest until win."""
        self.time_words.append(self.word.strip())
        if since is not None and (self.since is None or since > self.since[0]):
            self.since = (since, self.word)
        if until is not None and (self.until is None or until < self.until[0]):
            self.until = (until, self.word)
        if self.since and self.until and self.since[0] > self.until[0]:
            since_word, until_word = self.since[1], self.until[1]
            if since_word == until_word:
                raise self.error(f"`{since_word}` covers no time at all in your time zone.")
            raise self.error(
                f"`{since_word}` starts after `{until_word}` ends, so no run can match both: "
                "drop one of them or widen it."
            )

    def out_of_range(self) -> FilterSyntaxError:
        return self.error(
            f"`{self.word}` is out of range: use a time between the years 1 and 9999."
        )

    def result(self, limit: int) -> RunFilter:
        return RunFilter(
            statuses=frozenset(self.statuses),
            since=self.since[0] if self.since else None,
            until=self.until[0] if self.until else None,
            workflow=self.workflow,
            reference=self.reference,
            run_id=self.run_id,
            words=tuple(self.text),
            limit=limit,
            time_words=tuple(self.time_words),
        )


@dataclass(frozen=True)
class _Key:
    names: tuple[str, ...]  # the main name first, then its aliases
    apply: Callable[[_Parse, str], None]
    needs: str  # the right form, for error sentences
    grammar: GrammarEntry


_KEY_TABLE = (
    _Key(
        ("workflow", "wf"),
        _Parse.workflow_key,
        "a workflow id, name or Source → Destination",
        GrammarEntry(
            "workflow:NAME",
            "Runs of one workflow: its id, its name, or Source → Destination "
            "(also Source->Destination). Short form wf:. Quote a name with spaces.",
            'wf:"HubSpot → Salesforce"',
        ),
    ),
    _Key(
        ("status",),
        _Parse.status_key,
        "failed, finished, running, pending or skipped, several separated by commas",
        GrammarEntry(
            "status:STATUS",
            "The same as the status words; several, separated by commas, mean any of them.",
            "status:failed,skipped",
        ),
    ),
    _Key(
        ("ref", "reference"),
        _Parse.reference_key,
        "the reference text to look for",
        GrammarEntry(
            "ref:TEXT", "Runs whose reference contains TEXT, in any case.", 'ref:"ACME Corp"'
        ),
    ),
    _Key(
        ("id",),
        _Parse.run_id_key,
        "a run ID: up to 64 letters, digits, or _ . : -",
        GrammarEntry(
            "id:RUN_ID", "The run with exactly this ID.", "id:run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0"
        ),
    ),
    _Key(
        ("since",),
        _Parse.since_key,
        _WHEN_FORMS,
        GrammarEntry("since:WHEN", "Runs started at WHEN or later.", "since:2026-11-20T14:30"),
    ),
    _Key(
        ("until",),
        _Parse.until_key,
        _WHEN_FORMS,
        GrammarEntry(
            "until:WHEN", "Runs started at WHEN or earlier; a day counts whole.", "until:yesterday"
        ),
    ),
    _Key(
        ("on",),
        _Parse.on_key,
        _DAY_FORMS,
        GrammarEntry("on:DAY", "Runs started on that day, in your time zone.", "on:2026-11-20"),
    ),
    _Key(
        ("last",),
        _Parse.last_key,
        _DURATION_FORMS,
        GrammarEntry("last:DURATION", "Runs started in the last 30m, 6h, 7d or 2w.", "last:6h"),
    ),
)
# Main names first, so that a typo equally close to a main name and an alias gets the main name.
_KEYS = {key.names[0]: key for key in _KEY_TABLE} | {
    alias: key for key in _KEY_TABLE for alias in key.names[1:]
}
_TIME_KEYS = {"since", "until", "on", "last"}


def _edit_distance(typed: str, known: str) -> int:
    """Optimal string alignment distance: swapping two neighbouring letters is one edit."""
    before: list[int] = []
    previous = list(range(len(known) + 1))
    for i, typed_char in enumerate(typed, 1):
        current = [i]
        for j, known_char in enumerate(known, 1):
            cost = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (typed_char != known_char)
            )
            if i > 1 and j > 1 and typed_char == known[j - 2] and typed[i - 2] == known_char:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, previous = previous, current
    return previous[-1]


def _closest_key(typed: str) -> tuple[str, bool]:
    """The key nearest to `typed`, and whether it is near enough to be the one meant.

    Two edits from a key as short as `on:` or `id:` would take ordinary words such as `run:` or
    `job:` for typos, so short keys allow only one.
    """
    distances = {name: _edit_distance(typed, name) for name in _KEYS}

    def near(name: str) -> bool:
        return distances[name] <= (1 if len(name) <= 3 else 2)

    closest = min(distances, key=lambda name: (not near(name), distances[name]))
    return closest, near(closest)


def _quoted(text: str) -> str:
    # A single quote closes only at a word's end, so it can hold a double quote.
    return f"'{text}'" if '"' in text else f'"{text}"'


_FILTER_LIST = "Filters are {}.".format(
    ", ".join(
        f"{key.names[0]}:" + "".join(f" (or {alias}:)" for alias in key.names[1:])
        for key in _KEY_TABLE[:-1]
    )
    + f" and {_KEY_TABLE[-1].names[0]}:"
)


# --- Public entry points -----------------------------------------------------------------------


def parse_filter(
    words: str | Sequence[str], *, tz: tzinfo, now: datetime, limit: int = 20
) -> RunFilter:
    """Read `[STATUS…] [FILTER…] [TEXT]` into a RunFilter whose times are UTC.

    A str is tokenized first, and error positions index those words. Days and times are in `tz`.
    Raises FilterSyntaxError for words that cannot be understood, ValueError for a naive `now`.
    """
    parse = _Parse(tokenize(words) if isinstance(words, str) else list(words), tz=tz, now=now)
    for position in range(len(parse.words)):
        parse.position = position
        try:
            parse.add_word()
        except OverflowError:  # datetime arithmetic past the years 1 to 9999
            raise parse.out_of_range() from None
    return parse.result(limit)


def parse_period(text: str, *, tz: tzinfo, now: datetime) -> tuple[datetime, datetime]:
    """Read the WHEN of `/runs stats [WHEN]` into (since, until), UTC, both ends included.

    A day means that whole day, a time or a duration means from then until now, and A..B takes
    both ends; since:, until:, on: and last: work as in parse_filter.
    """
    words = tokenize(text)
    if len(words) != 1:
        raise FilterSyntaxError(
            f"Give one period: {_PERIOD_FORMS}.", position=1 if words else None, hint="7d"
        )
    parse = _Parse(words, tz=tz, now=now)
    try:
        match = _KEY_VALUE.fullmatch(words[0].strip())
        if match and match[1].lower() in _TIME_KEYS:
            parse.add_word()
        else:
            # `stats 2026-11-20` is that day, but `stats 6h` is the last six hours.
            first, last = parse.period(words[0].strip())
            whole = last is not None or first.whole_day
            parse.narrow(since=first.start, until=(last or first).end if whole else None)
    except OverflowError:
        raise parse.out_of_range() from None
    if parse.since is None:
        raise parse.error(f"`{words[0]}` has no start: a period needs one.", "since:2026-11-01")
    until = parse.until[0] if parse.until else parse.now
    if parse.since[0] > until:
        raise parse.error(f"`{words[0]}` is in the future: pick a period that has begun.", "7d")
    return parse.since[0], until


def parse_api_time(value: str, *, end_of_day: bool) -> datetime:
    """Read an API `since`/`until`: RFC 3339 with an offset, or YYYY-MM-DD meaning that UTC day.

    A day gives its first microsecond, or with end_of_day=True its last, so `until=2026-11-20`
    takes all of it. Always aware UTC; raises FilterSyntaxError for anything else.
    """
    reason = "is not a time"
    # The API speaks UTC (no asker, no zone), so a day here is a UTC day.
    try:
        if match := _API_DAY.fullmatch(value):
            day = _calendar_day(match)
            return datetime.combine(day, time.max if end_of_day else time(), tzinfo=UTC)
        if match := _RFC3339.fullmatch(value):
            return _rfc3339(match)
    except _NotATime as problem:
        reason = str(problem)
    raise FilterSyntaxError(
        f"`{value}` {reason}. Use RFC 3339 with an offset, like 2026-11-20T10:02:03Z, "
        "or a UTC day, like 2026-11-20.",
        hint="2026-11-20T10:02:03Z",
    )


GRAMMAR: tuple[GrammarEntry, ...] = (
    GrammarEntry("failed", "Runs that did not complete.", "failed today"),
    GrammarEntry("finished", "Runs that moved the data as expected.", "finished last:6h"),
    GrammarEntry("running", "Runs in progress.", "running"),
    GrammarEntry("pending", "Runs queued and not started yet.", "pending running"),
    GrammarEntry(
        "skipped", "Runs not executed because a workflow condition was not met.", "skipped"
    ),
    *(key.grammar for key in _KEY_TABLE),
    GrammarEntry("today", "Runs started today, in your time zone: the same as on:today.", "today"),
    GrammarEntry("yesterday", "Runs started yesterday: the same as on:yesterday.", "yesterday"),
    GrammarEntry(
        "A..B",
        "A range, both ends included, after on:, since: or until:.",
        "on:2026-11-01..2026-11-07",
    ),
    GrammarEntry(
        "TEXT",
        "Any other word, matched against the reference and the run ID in any case; "
        "several words must all match. Quote a phrase to keep it one word; a quoted word is "
        'always text, even "failed" or "PO:4711".',
        '"ACME Corp" renewal',
    ),
)
