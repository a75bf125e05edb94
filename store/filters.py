"""The one query language of `/runs`, the CLI and the run API: words in, a RunFilter out.

Days and times are read in the asker's time zone and turned into UTC at once, so a RunFilter
only ever holds aware UTC datetimes. "Now" is always passed in, never read from the clock here.
The words come from store/words.py, the calendar from store/times.py, the keys' help rows from
store/grammar.py; an error says what went wrong as data (store/filter_errors.py), and
handlers/blocks/query_errors.py tells it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from store.errors import FilterSyntaxError
from store.filter_errors import Needs, Problem, Reason
from store.grammar import KEY_GRAMMAR, GrammarEntry
from store.ids import is_valid_run_id
from store.times import DAYS_AGO, NotATime, When, aware_utc, parse_duration, read_when, whole_day
from store.types import RunStatus
from store.words import Word, tokenize

__all__ = [
    "KEY_NAMES",
    "RunFilter",
    "edit_distance",
    "key_word",
    "parse_filter",
    "parse_period",
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
            object.__setattr__(self, "since", aware_utc(self.since, "since"))
        if self.until is not None:
            object.__setattr__(self, "until", aware_utc(self.until, "until"))
        if self.limit < 1:
            raise ValueError(f"limit must be at least 1, not {self.limit}")


# --- Reading the words -------------------------------------------------------------------------

# Keys are letters only, so times (10:30) and run IDs (run_2Q8:retry) stay text.
_KEY_VALUE = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_STATUS_WORDS = {status.value for status in RunStatus}
# What is left of `Source → Destination` typed without quotes: three words.
_ARROWS = {"→", "->", ">", "=>"}

# Slack's autocorrect may turn the range's ".." or "..." into an ellipsis.
_RANGE = re.compile(r"\.\.\.?|…")


def key_word(key: str, value: str) -> str:
    return f'{key}:"{value}"' if any(char.isspace() for char in value) else f"{key}:{value}"


class _Parse:
    """Gathers the words of one command line into the fields of a RunFilter."""

    def __init__(self, words: Sequence[str], *, tz: tzinfo, now: datetime) -> None:
        self.words = [word if isinstance(word, Word) else Word(word) for word in words]
        self.tz, self.now = tz, aware_utc(now, "now")
        self.position = 0
        self.prefix, self.needs, self.example = "", Needs.PERIOD, "7d"
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

    def error(self, problem: Problem, hint: str | None = None, **values: str) -> FilterSyntaxError:
        return FilterSyntaxError(problem, position=self.position, hint=hint, **values)

    def invalid(self, reason: Reason) -> FilterSyntaxError:
        return self.error(
            Problem.INVALID_VALUE,
            self.example,
            word=self.word,
            reason=reason,
            prefix=self.prefix,
            needs=self.needs,
        )

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
        elif word.lower() in DAYS_AGO:
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
                Problem.EMPTY_VALUE,
                key_word(typed_key, following[0]) if following else key.grammar.example,
                prefix=self.prefix,
                needs=key.needs,
            )
        key.apply(self, value)

    def unknown_key(self, typed_key: str, value: str) -> FilterSyntaxError:
        """Never text that matches nothing: name the closest key, however far, and say how to
        look for the text itself."""
        known, close = _closest_key(typed_key.lower())
        as_text = _quoted(self.word.strip())
        return self.error(
            Problem.UNKNOWN_KEY,
            key_word(known, value) if close else as_text,
            typed_key=typed_key,
            known=known,
            as_text=as_text,
        )

    def lone_arrow(self) -> FilterSyntaxError:
        before = self.words[self.position - 1] if self.position > 0 else "Source"
        after = [*self.words[self.position + 1 : self.position + 2], "Destination"]
        # Rebuild the name from its neighbours, so that the hint is the command they meant.
        name = f"{before.split(':', 1)[-1]} {self.word} {after[0]}"
        return self.error(Problem.LONE_ARROW, key_word("wf", name), word=self.word)

    def set_once(self, current: str | None, value: str, what: str) -> str:
        # RunFilter holds one value; two different ones could only ever match nothing.
        if current is not None and current != value:
            raise self.error(Problem.SECOND_VALUE, what=what, word=self.word)
        return value

    def workflow_key(self, value: str) -> None:
        self.workflow = self.set_once(self.workflow, value, "workflow")

    def reference_key(self, value: str) -> None:
        self.reference = self.set_once(self.reference, value, "reference")

    def run_id_key(self, value: str) -> None:
        # The contract's run ID alphabet: any other ID cannot exist, so say so, not "no runs".
        if not is_valid_run_id(value):
            raise self.invalid(Reason.NOT_A_RUN_ID)
        self.run_id = self.set_once(self.run_id, value, "run ID")

    def status_key(self, value: str) -> None:
        names = [name.strip().lower() for name in value.split(",")]
        if not all(name in _STATUS_WORDS for name in names):
            raise self.invalid(Reason.NOT_A_STATUS)
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
                Problem.RANGE_NOT_DURATION, f"since:{value}", word=self.word, prefix=self.prefix
            )
        if (delta := parse_duration(value)) is None:
            raise self.invalid(Reason.NOT_A_DURATION)
        self.narrow(since=self.now - delta)

    def period(self, value: str) -> tuple[When, When | None]:
        """A WHEN, or both ends of an A..B range."""
        ends = [end.strip() for end in _RANGE.split(value)]
        if len(ends) == 1:
            return self.when(value), None
        if len(ends) != 2 or not all(ends):
            raise self.error(
                Problem.RANGE_WITHOUT_ENDS, f"{self.prefix}2026-11-01..2026-11-07", word=self.word
            )
        first, last = self.when(ends[0]), self.when(ends[1])
        if first.start > last.end:
            raise self.error(
                Problem.RANGE_REVERSED, f"{self.prefix}{ends[1]}..{ends[0]}", word=self.word
            )
        return first, last

    def when(self, text: str) -> When:
        try:
            return read_when(text, tz=self.tz, now=self.now)
        except NotATime as problem:
            raise self.invalid(problem.reason) from None

    def day_of(self, when: When) -> When:
        """`on:` always means whole days, even when given a time or a duration."""
        return when if when.whole_day else whole_day(when.start.astimezone(self.tz).date(), self.tz)

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
                raise self.error(Problem.NO_TIME, word=since_word)
            raise self.error(Problem.NO_OVERLAP, since_word=since_word, until_word=until_word)

    def out_of_range(self) -> FilterSyntaxError:
        return self.error(Problem.OUT_OF_RANGE, word=self.word)

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
    needs: Needs  # the right form, for error sentences

    @property
    def grammar(self) -> GrammarEntry:
        return KEY_GRAMMAR[self.names[0]]


_KEY_TABLE = (
    _Key(("workflow", "wf"), _Parse.workflow_key, Needs.WORKFLOW),
    _Key(("status",), _Parse.status_key, Needs.STATUS),
    _Key(("ref", "reference"), _Parse.reference_key, Needs.REFERENCE),
    _Key(("id",), _Parse.run_id_key, Needs.RUN_ID),
    _Key(("since",), _Parse.since_key, Needs.WHEN),
    _Key(("until",), _Parse.until_key, Needs.WHEN),
    _Key(("on",), _Parse.on_key, Needs.DAY),
    _Key(("last",), _Parse.last_key, Needs.DURATION),
)
# Main names first, so that a typo equally close to a main name and an alias gets the main name.
_KEYS = {key.names[0]: key for key in _KEY_TABLE} | {
    alias: key for key in _KEY_TABLE for alias in key.names[1:]
}
_TIME_KEYS = {"since", "until", "on", "last"}


def edit_distance(typed: str, known: str) -> int:
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
    distances = {name: edit_distance(typed, name) for name in _KEYS}

    def near(name: str) -> bool:
        return distances[name] <= (1 if len(name) <= 3 else 2)

    closest = min(distances, key=lambda name: (not near(name), distances[name]))
    return closest, near(closest)


def _quoted(text: str) -> str:
    # A single quote closes only at a word's end, so it can hold a double quote.
    return f"'{text}'" if '"' in text else f'"{text}"'


# Each key's names, main name first, in the grammar's order (the sentences list them).
KEY_NAMES: tuple[tuple[str, ...], ...] = tuple(key.names for key in _KEY_TABLE)


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
            Problem.ONE_PERIOD,
            position=1 if words else None,
            hint="7d",
            needs=Needs.PERIOD,
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
        raise parse.error(Problem.PERIOD_WITHOUT_START, "since:2026-11-01", word=words[0])
    until = parse.until[0] if parse.until else parse.now
    if parse.since[0] > until:
        raise parse.error(Problem.PERIOD_IN_FUTURE, "7d", word=words[0])
    return parse.since[0], until
