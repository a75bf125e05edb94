"""The /runs query language: words, statuses, filters, days and times in the asker's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.blocks.query_errors import describe
from store.errors import FilterSyntaxError
from store.filters import RunFilter, parse_filter, parse_period
from store.grammar import GRAMMAR, GrammarEntry
from store.times import parse_api_time
from store.types import RunStatus
from store.words import Word, argument_words, text_words, tokenize

AUCKLAND = ZoneInfo("Pacific/Auckland")  # UTC+13 in November
LOS_ANGELES = ZoneInfo("America/Los_Angeles")  # UTC-8 in November
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+5:30, no DST
# Friday 2026-11-20 20:00 UTC: already Saturday the 21st in Auckland, noon in Los Angeles.
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def parse(text: str, tz: tzinfo = UTC, now: datetime = NOW) -> RunFilter:
    return parse_filter(text, tz=tz, now=now)


def syntax_error(text: str, tz: tzinfo = UTC) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as excinfo:
        parse_filter(text, tz=tz, now=NOW)
    return excinfo.value


# --- tokenize ----------------------------------------------------------------------------------


def test_tokenize_splits_at_any_whitespace() -> None:
    assert tokenize("  failed\ttoday \n wf:a\u00a0ACME ") == ["failed", "today", "wf:a", "ACME"]
    assert tokenize("") == []
    assert tokenize("   ") == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"ACME Corp" failed', ["ACME Corp", "failed"]),
        ("'ACME Corp' failed", ["ACME Corp", "failed"]),
        ("“ACME Corp” failed", ["ACME Corp", "failed"]),
        ("‘ACME Corp’ failed", ["ACME Corp", "failed"]),
        ('wf:"HubSpot → Salesforce" failed', ["wf:HubSpot → Salesforce", "failed"]),
        ("ref:“ACME Corp”", ["ref:ACME Corp"]),
        ("ref:‘ACME Corp’", ["ref:ACME Corp"]),
        ("wf:'Google Sheets → Salesforce'", ["wf:Google Sheets → Salesforce"]),
        # Autocorrect does not always curl the pair the right way round.
        ("”ACME Corp“", ["ACME Corp"]),
    ],
)
def test_tokenize_keeps_a_quoted_phrase_one_word(text: str, words: list[str]) -> None:
    assert tokenize(text) == words


def test_tokenize_leaves_apostrophes_in_words_alone() -> None:
    assert tokenize("O'Brien ref:O'Brien Bob’s") == ["O'Brien", "ref:O'Brien", "Bob’s"]
    assert tokenize("'Bob's deal' ‘Bob’s deal’") == ["Bob's deal", "Bob’s deal"]


def test_tokenize_only_opens_quotes_at_a_word_start_or_after_the_key() -> None:
    assert tokenize('say"hi" a:b:"c d"') == ['say"hi"', 'a:b:"c', 'd"']


def test_tokenize_tells_which_words_began_with_a_quote() -> None:
    words = tokenize("\"foo:bar\" ref:\"A B\" “x”y O'Brien 'Bob's deal' plain")
    assert words == ["foo:bar", "ref:A B", "xy", "O'Brien", "Bob's deal", "plain"]
    assert [word.quoted for word in words] == [True, False, True, False, True, False]
    assert all(isinstance(word, Word) for word in words)
    assert not Word("plain").quoted


@pytest.mark.parametrize(
    ("arguments", "words", "quoted"),
    [
        # The shell took the quotes: one word as it is, spaces and all.
        (["wf:HubSpot → Salesforce", "ACME Corp"], ["wf:HubSpot → Salesforce", "ACME Corp"], []),
        # Quotes that reached the argument are read as /runs reads them.
        (['ref:"Société Générale"'], ["ref:Société Générale"], []),
        (['"Müller"', "failed"], ["Müller", "failed"], ["Müller"]),
        (['wf:"HubSpot → Salesforce"'], ["wf:HubSpot → Salesforce"], []),
        (
            ['failed wf:"HubSpot → Salesforce" "ACME Corp"'],
            ["failed", "wf:HubSpot → Salesforce", "ACME Corp"],
            ["ACME Corp"],
        ),
        (["O'Brien", "Bob’s"], ["O'Brien", "Bob’s"], []),
        (['"foo:bar"'], ["foo:bar"], ["foo:bar"]),
    ],
)
def test_arguments_without_quotes_are_one_word_and_with_quotes_are_tokenized(
    arguments: list[str], words: list[str], quoted: list[str]
) -> None:
    read = argument_words(arguments)
    assert read == words
    assert [word for word in read if word.quoted] == quoted


def test_an_unclosed_quote_in_an_argument_is_placed_among_all_the_words() -> None:
    with pytest.raises(FilterSyntaxError) as excinfo:
        argument_words(["failed", "a b", 'x ref:"unclosed'])
    error = excinfo.value
    assert describe(error) == (
        'The quote in `ref:"unclosed` is never closed: end the phrase with a quote too.'
    )
    assert (error.position, error.hint) == (3, 'ref:"unclosed"')


def test_text_words_keep_phrases_and_drop_empty_words() -> None:
    assert text_words('"ACME Corp" renewal  \'\' foo:bar "failed"') == (
        "ACME Corp",
        "renewal",
        "foo:bar",
        "failed",
    )
    with pytest.raises(FilterSyntaxError) as excinfo:
        text_words('"ACME Corp')
    assert "never closed" in describe(excinfo.value)


def test_tokenize_keeps_an_empty_quoted_word() -> None:
    assert tokenize('wf:"" ""') == ["wf:", ""]


@pytest.mark.parametrize(
    ("text", "position", "shown", "hint"),
    [
        ('failed "ACME Corp', 1, '`"ACME`', '"ACME Corp"'),
        ("failed today ref:“ACME Corp", 2, "`ref:“ACME`", "ref:“ACME Corp”"),
        ("'Bob's deal", 0, "`'Bob's`", "'Bob's deal'"),
    ],
)
def test_an_unterminated_quote_is_an_error(text: str, position: int, shown: str, hint: str) -> None:
    with pytest.raises(FilterSyntaxError) as excinfo:
        tokenize(text)
    error = excinfo.value
    assert (
        describe(error) == f"The quote in {shown} is never closed: end the phrase with a quote too."
    )
    assert (error.position, error.hint) == (position, hint)
    assert str(error).startswith("unclosed_quote: ")  # the sentence is describe(error)


# --- statuses, keys and text -------------------------------------------------------------------


def test_nothing_is_an_empty_filter() -> None:
    assert parse("") == RunFilter()
    assert parse_filter([], tz=UTC, now=NOW) == RunFilter()


def test_status_words_are_case_insensitive_and_several_mean_any() -> None:
    assert parse("failed").statuses == {RunStatus.FAILED}
    assert parse("FAILED Skipped pending").statuses == {
        RunStatus.FAILED,
        RunStatus.SKIPPED,
        RunStatus.PENDING,
    }
    assert parse("running finished").statuses == {RunStatus.RUNNING, RunStatus.FINISHED}


def test_status_key_takes_a_comma_list() -> None:
    assert parse("status:failed,Skipped STATUS:running").statuses == {
        RunStatus.FAILED,
        RunStatus.SKIPPED,
        RunStatus.RUNNING,
    }


def test_a_wrong_status_names_the_word_and_the_statuses() -> None:
    error = syntax_error("failed status:faild")
    assert describe(error) == (
        "`status:faild` is not a status. `status:` needs failed, finished, running, pending or "
        "skipped, several separated by commas."
    )
    assert (error.position, error.hint) == (1, "status:failed,skipped")


@pytest.mark.parametrize(
    ("text", "workflow"),
    [
        ("wf:hubspot-salesforce", "hubspot-salesforce"),
        ("workflow:hubspot-salesforce", "hubspot-salesforce"),
        ("WF:HubSpot->Salesforce", "HubSpot->Salesforce"),
        ("Workflow:HubSpot>Salesforce", "HubSpot>Salesforce"),
        ('wf:"HubSpot → Salesforce"', "HubSpot → Salesforce"),
        ("wf:“Deals → Opportunities”", "Deals → Opportunities"),
        ('wf:"  HubSpot → Salesforce "', "HubSpot → Salesforce"),
        ("wf:a wf:a", "a"),
    ],
)
def test_workflow_is_kept_as_typed_and_trimmed(text: str, workflow: str) -> None:
    assert parse(text).workflow == workflow


def test_reference_run_id_and_text() -> None:
    flt = parse('ref:“ACME Corp” id:run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0 "Renewal 2027" Q4')
    assert flt.reference == "ACME Corp"
    assert flt.run_id == "run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0"
    assert flt.words == ("Renewal 2027", "Q4")
    assert parse("reference:acme").reference == "acme"
    assert parse("id:engine:job.7-a").run_id == "engine:job.7-a"


def test_words_with_a_colon_after_more_than_letters_are_text() -> None:
    # Keys are letters only, so times and run IDs with colons stay text.
    text = "10:30 run_2Q8:retry job.7:a:2 O'Brien:x 2026-11-20T10:02 ü:1"
    assert parse(text).words == tuple(text.split())


@pytest.mark.parametrize(
    ("text", "typed", "known", "hint"),
    [
        ("foo:bar", "foo", "on", '"foo:bar"'),
        ("PO:4711", "PO", "id", '"PO:4711"'),
        ("Ticket:ACME-1", "Ticket", "since", '"Ticket:ACME-1"'),
        ("https://example.com/x", "https", "status", '"https://example.com/x"'),
        ('job:"a b"', "job", "on", '"job:a b"'),
        ('say:a"b', "say", "ref", "'say:a\"b'"),
    ],
)
def test_an_unknown_key_is_an_error_naming_the_closest_key_and_how_to_search_text(
    text: str, typed: str, known: str, hint: str
) -> None:
    error = syntax_error(f"failed {text} acme")
    assert describe(error) == (
        f"Unknown filter `{typed}:` — did you mean `{known}:`? Filters are workflow: (or wf:), "
        "status:, ref: (or reference:), id:, since:, until:, on: and last:. "
        f"To look for text with a colon, quote it: `{hint}`."
    )
    assert (error.position, error.hint) == (1, hint)
    # The hint is what to type: it looks for the word itself as text.
    assert parse(f"failed {error.hint} acme").words == (tokenize(hint)[0], "acme")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"foo:bar"', ("foo:bar",)),
        ('"foo":bar', ("foo:bar",)),  # the key is quoted
        ("“PO:4711” ‘Ticket:ACME-1’", ("PO:4711", "Ticket:ACME-1")),
        ('"wf:hubspot-salesforce"', ("wf:hubspot-salesforce",)),
        ('"failed" "today" "→"', ("failed", "today", "→")),
        ("\"Müller\" 'O'Brien'", ("Müller", "O'Brien")),
    ],
)
def test_a_quoted_word_is_always_text(text: str, words: tuple[str, ...]) -> None:
    assert parse(text) == RunFilter(words=words)


def test_text_words_are_trimmed_and_empty_ones_dropped() -> None:
    assert parse('"  ACME Corp " "" \'  \'').words == ("ACME Corp",)


def test_quotes_around_a_value_keep_its_key() -> None:
    # ref:"…" looks in the reference only; a quoted "failed" is text, a bare one a status.
    flt = parse('failed ref:"failed" status:"skipped" wf:“a b” on:"2026-11-20"')
    assert flt.statuses == {RunStatus.FAILED, RunStatus.SKIPPED}
    assert (flt.reference, flt.workflow, flt.words) == ("failed", "a b", ())
    assert flt.since == utc(2026, 11, 20)


def test_a_string_and_its_tokens_parse_the_same() -> None:
    text = 'failed wf:"HubSpot → Salesforce" since:2026-11-01 “ACME Corp” renewal'
    assert parse_filter(tokenize(text), tz=AUCKLAND, now=NOW) == parse(text, AUCKLAND)


def test_the_words_that_set_the_times_are_kept_as_typed() -> None:
    # A cursor is checked against these: `last:7d` read again later gives other instants.
    flt = parse("failed LAST:7d acme today on:2026-11-20..2026-11-21")
    assert flt.time_words == ("LAST:7d", "today", "on:2026-11-20..2026-11-21")
    assert parse("failed acme").time_words == ()
    # Filters that select the same runs are equal, however their times were written.
    assert parse("on:2026-11-20") == parse("since:2026-11-20 until:2026-11-20")


def test_limit_is_passed_through() -> None:
    assert parse_filter("failed", tz=UTC, now=NOW, limit=10).limit == 10
    assert parse("failed").limit == 20
    assert parse("failed").cursor is None


@pytest.mark.parametrize(
    ("text", "typed", "known", "hint"),
    [
        ("workfow:x", "workfow", "workflow", "workflow:x"),
        ("stauts:failed", "stauts", "status", "status:failed"),
        ("sinc:today", "sinc", "since", "since:today"),
        ("Untill:2026-11-20", "Untill", "until", "until:2026-11-20"),
        ("lst:7d", "lst", "last", "last:7d"),
        ("rf:ACME", "rf", "ref", "ref:ACME"),
        ("wg:x", "wg", "wf", "wf:x"),
        ('refrence:"ACME Corp"', "refrence", "reference", 'reference:"ACME Corp"'),
    ],
)
def test_a_misspelled_key_is_an_error_that_suggests_the_key(
    text: str, typed: str, known: str, hint: str
) -> None:
    error = syntax_error(f"failed {text}")
    as_text = tokenize(text)[0]
    assert describe(error) == (
        f"Unknown filter `{typed}:` — did you mean `{known}:`? Filters are workflow: (or wf:), "
        "status:, ref: (or reference:), id:, since:, until:, on: and last:. "
        f'To look for text with a colon, quote it: `"{as_text}"`.'
    )
    assert (error.position, error.hint) == (1, hint)


@pytest.mark.parametrize("key", ["wf", "workflow", "ref", "id", "status", "since", "on", "last"])
def test_an_empty_value_is_an_error(key: str) -> None:
    for text in (f"{key}:", f'{key}:""', f"{key}:“  ”"):
        error = syntax_error(text)
        assert describe(error).startswith(f"`{key}:` is empty: put ")
        assert describe(error).endswith(" right after the colon, with no space.")
        assert error.position == 0


def test_an_empty_value_with_a_space_before_it_hints_the_joined_word() -> None:
    error = syntax_error("failed wf: HubSpot")
    assert describe(error) == (
        "`wf:` is empty: put a workflow id, name or Source → Destination right after the colon, "
        "with no space."
    )
    assert (error.position, error.hint) == (1, "wf:HubSpot")
    assert syntax_error("since: yesterday").hint == "since:yesterday"


@pytest.mark.parametrize(
    ("text", "position", "hint"),
    [
        ("failed wf:HubSpot → Salesforce", 2, 'wf:"HubSpot → Salesforce"'),
        ("HubSpot -> Salesforce", 1, 'wf:"HubSpot -> Salesforce"'),
        ("→", 0, 'wf:"Source → Destination"'),
    ],
)
def test_an_unquoted_workflow_with_spaces_asks_for_quotes(
    text: str, position: int, hint: str
) -> None:
    error = syntax_error(text)
    arrow = text.split()[position]
    assert describe(error) == (
        f"`{arrow}` looks like part of a workflow name: "
        "quote the whole name after wf:, so that it stays one word."
    )
    assert (error.position, error.hint) == (position, hint)


def test_a_second_different_workflow_reference_or_run_id_is_an_error() -> None:
    error = syntax_error("wf:a failed wf:b")
    assert describe(error) == (
        "A search takes one workflow, and `wf:b` is a second one: search for each in turn."
    )
    assert error.position == 2
    assert describe(syntax_error("ref:a ref:b")).startswith("A search takes one reference, ")
    assert describe(syntax_error("id:run_1 id:run_2")).startswith("A search takes one run ID, ")


@pytest.mark.parametrize("run_id", ['"run 1"', "run/1", "x" * 65, "run#1"])
def test_a_run_id_outside_the_contract_characters_is_an_error(run_id: str) -> None:
    error = syntax_error(f"id:{run_id}")
    assert describe(error).endswith(
        "is not a run ID. `id:` needs a run ID: up to 64 letters, digits, or _ . : -."
    )
    assert error.hint == "id:run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0"


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        parse_filter("failed", tz=UTC, now=datetime(2026, 11, 20, 20, 0))


# --- days and times ----------------------------------------------------------------------------


def test_a_day_runs_from_local_midnight_to_the_next_in_the_askers_zone() -> None:
    assert (parse("on:2026-11-20", AUCKLAND).since, parse("on:2026-11-20", AUCKLAND).until) == (
        utc(2026, 11, 19, 11, 0),
        utc(2026, 11, 20, 10, 59, 59, 999999),
    )
    flt = parse("on:2026-11-20", LOS_ANGELES)
    assert (flt.since, flt.until) == (utc(2026, 11, 20, 8, 0), utc(2026, 11, 21, 7, 59, 59, 999999))
    flt = parse("on:2026-11-20", KOLKATA)
    assert (flt.since, flt.until) == (
        utc(2026, 11, 19, 18, 30),
        utc(2026, 11, 20, 18, 29, 59, 999999),
    )


def test_filter_times_are_aware_utc() -> None:
    flt = parse("since:2026-11-20 until:2026-11-21", AUCKLAND)
    assert flt.since is not None and flt.until is not None
    assert flt.since.tzinfo is UTC and flt.until.tzinfo is UTC


def test_since_takes_the_start_and_until_the_end_of_a_day() -> None:
    assert parse("since:2026-11-20", AUCKLAND) == RunFilter(since=utc(2026, 11, 19, 11, 0))
    assert parse("until:2026-11-20", AUCKLAND) == RunFilter(
        until=utc(2026, 11, 20, 10, 59, 59, 999999)
    )
    assert parse("since:2026-11-5", UTC).since == utc(2026, 11, 5)


def test_a_time_ends_with_its_minute() -> None:
    assert parse("since:2026-11-20T14:30", KOLKATA).since == utc(2026, 11, 20, 9, 0)
    assert parse("until:2026-11-20T14:30", KOLKATA).until == utc(2026, 11, 20, 9, 0, 59, 999999)
    assert parse('until:"2026-11-20 14:30"', KOLKATA).until == utc(2026, 11, 20, 9, 0, 59, 999999)
    assert parse("until:2026-11-20t14:30:15", KOLKATA).until == utc(2026, 11, 20, 9, 0, 15, 999999)


def test_a_time_with_an_offset_is_that_instant_whatever_the_zone() -> None:
    assert parse("since:2026-11-20T10:02:03Z", AUCKLAND).since == utc(2026, 11, 20, 10, 2, 3)
    assert parse("until:2026-11-20T10:02:03+01:00", LOS_ANGELES).until == utc(2026, 11, 20, 9, 2, 3)


def test_today_and_yesterday_are_the_askers_days() -> None:
    # 20:00 UTC on the 20th is 09:00 on the 21st in Auckland.
    assert parse("today", AUCKLAND) == RunFilter(
        since=utc(2026, 11, 20, 11, 0), until=utc(2026, 11, 21, 10, 59, 59, 999999)
    )
    assert parse("Yesterday", AUCKLAND) == RunFilter(
        since=utc(2026, 11, 19, 11, 0), until=utc(2026, 11, 20, 10, 59, 59, 999999)
    )
    assert parse("today", LOS_ANGELES) == RunFilter(
        since=utc(2026, 11, 20, 8, 0), until=utc(2026, 11, 21, 7, 59, 59, 999999)
    )
    assert parse("on:today", LOS_ANGELES) == parse("today", LOS_ANGELES)
    assert parse("on:yesterday", AUCKLAND) == parse("yesterday", AUCKLAND)


def test_since_today_and_until_yesterday() -> None:
    assert parse("since:today", AUCKLAND).since == utc(2026, 11, 20, 11, 0)
    assert parse("until:yesterday", AUCKLAND).until == utc(2026, 11, 20, 10, 59, 59, 999999)


def test_a_day_when_clocks_spring_forward_lasts_23_hours() -> None:
    flt = parse("on:2026-03-08", NEW_YORK)
    assert (flt.since, flt.until) == (utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 3, 59, 59, 999999))


def test_a_day_when_clocks_fall_back_lasts_25_hours() -> None:
    flt = parse("on:2026-11-01", NEW_YORK)
    assert (flt.since, flt.until) == (utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 4, 59, 59, 999999))


def test_a_time_that_happens_twice_includes_both() -> None:
    # 01:30 on 2026-11-01 in New York is 05:30 UTC (EDT), then again 06:30 UTC (EST).
    assert parse("since:2026-11-01T01:30", NEW_YORK).since == utc(2026, 11, 1, 5, 30)
    assert parse("until:2026-11-01T01:30", NEW_YORK).until == utc(2026, 11, 1, 6, 30, 59, 999999)


def test_a_time_in_the_spring_forward_gap_reads_as_after_it() -> None:
    # 02:30 on 2026-03-08 does not exist in New York; it reads as 03:30 EDT.
    flt = parse("on:2026-03-08T02:30", NEW_YORK)
    assert parse("since:2026-03-08T02:30", NEW_YORK).since == utc(2026, 3, 8, 7, 30)
    assert parse("until:2026-03-08T02:30", NEW_YORK).until == utc(2026, 3, 8, 7, 30, 59, 999999)
    assert flt == parse("on:2026-03-08", NEW_YORK)


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("last:30m", timedelta(minutes=30)),
        ("last:6h", timedelta(hours=6)),
        ("last:7d", timedelta(days=7)),
        ("last:2w", timedelta(weeks=2)),
        ("LAST:24H", timedelta(hours=24)),
        ("since:6h", timedelta(hours=6)),
        ("last:0m", timedelta(0)),
    ],
)
def test_a_duration_counts_back_from_now(text: str, ago: timedelta) -> None:
    assert parse(text, AUCKLAND) == RunFilter(since=NOW - ago)


def test_until_a_duration_is_that_long_ago() -> None:
    assert parse("until:1d", LOS_ANGELES) == RunFilter(until=NOW - timedelta(days=1))


def test_on_a_duration_or_a_time_is_the_whole_day_it_falls_in() -> None:
    # Two days before NOW is noon on the 18th in Los Angeles.
    expected = RunFilter(since=utc(2026, 11, 18, 8, 0), until=utc(2026, 11, 19, 7, 59, 59, 999999))
    assert parse("on:2d", LOS_ANGELES) == expected
    assert parse("on:2026-11-18T23:59", LOS_ANGELES) == expected


def test_a_range_takes_both_ends_whole() -> None:
    # 2026-11-01 is the day Los Angeles falls back: it starts at 00:00 PDT.
    expected = RunFilter(since=utc(2026, 11, 1, 7, 0), until=utc(2026, 11, 8, 7, 59, 59, 999999))
    for text in (
        "on:2026-11-01..2026-11-07",
        "since:2026-11-01..2026-11-07",
        "until:2026-11-01..2026-11-07",
        "on:2026-11-01...2026-11-07",
        "on:2026-11-01…2026-11-07",
        'on:"2026-11-01 .. 2026-11-07"',
    ):
        assert parse(text, LOS_ANGELES) == expected, text


def test_a_range_of_times_and_durations() -> None:
    assert parse("since:2026-11-20T09:00..2026-11-20T17:30", KOLKATA) == RunFilter(
        since=utc(2026, 11, 20, 3, 30), until=utc(2026, 11, 20, 12, 0, 59, 999999)
    )
    assert parse("since:7d..1d", AUCKLAND) == RunFilter(
        since=NOW - timedelta(days=7), until=NOW - timedelta(days=1)
    )
    assert parse("on:7d..yesterday", UTC) == RunFilter(
        since=utc(2026, 11, 13), until=utc(2026, 11, 19, 23, 59, 59, 999999)
    )


def test_several_time_filters_intersect() -> None:
    assert parse(
        "since:2026-11-01 until:2026-11-20 since:2026-11-10 until:2026-11-15 failed", UTC
    ) == RunFilter(
        statuses=frozenset({RunStatus.FAILED}),
        since=utc(2026, 11, 10),
        until=utc(2026, 11, 15, 23, 59, 59, 999999),
    )
    assert parse("today last:6h", LOS_ANGELES) == RunFilter(
        since=NOW - timedelta(hours=6), until=utc(2026, 11, 21, 7, 59, 59, 999999)
    )
    assert parse("last:30d on:2026-11-01..2026-11-30", UTC) == RunFilter(
        since=utc(2026, 11, 1), until=utc(2026, 11, 30, 23, 59, 59, 999999)
    )
    assert parse("on:2026-11-01..2026-11-30 last:5d", UTC) == RunFilter(
        since=NOW - timedelta(days=5), until=utc(2026, 11, 30, 23, 59, 59, 999999)
    )


def test_time_filters_that_leave_no_time_are_an_error() -> None:
    error = syntax_error("since:2026-11-20 failed until:2026-11-01")
    assert describe(error) == (
        "`since:2026-11-20` starts after `until:2026-11-01` ends, so no run can match both: "
        "drop one of them or widen it."
    )
    assert error.position == 2
    error = syntax_error("yesterday last:1h", AUCKLAND)
    assert describe(error).startswith("`last:1h` starts after `yesterday` ends")


def test_a_backwards_range_is_an_error_with_the_range_turned_round() -> None:
    error = syntax_error("failed on:2026-11-20..2026-11-01")
    assert describe(error) == (
        "`on:2026-11-20..2026-11-01` ends before it starts: put the earlier end first."
    )
    assert (error.position, error.hint) == (1, "on:2026-11-01..2026-11-20")


@pytest.mark.parametrize("text", ["on:2026-11-01..", "since:..2026-11-07", "on:a..b..c", "on:.."])
def test_a_range_needs_both_ends(text: str) -> None:
    error = syntax_error(text)
    assert describe(error) == f"`{text}` needs a start and an end around `..`, both ends included."
    assert error.hint == text.split(":")[0] + ":2026-11-01..2026-11-07"


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            "since:tomorow",
            "`since:tomorow` is not a day or a time. `since:` needs a day like 2026-11-20, "
            "a time like 2026-11-20T14:30, today, yesterday or a duration like 6h.",
            "since:2026-11-20T14:30",
        ),
        (
            "Until:20/11/2026",
            "`Until:20/11/2026` is not a day or a time. `Until:` needs a day like 2026-11-20, "
            "a time like 2026-11-20T14:30, today, yesterday or a duration like 6h.",
            "until:yesterday",
        ),
        (
            "on:2026-13-40",
            "`on:2026-13-40` is not a real day. `on:` needs a day like 2026-11-20, today or "
            "yesterday, or a range like 2026-11-01..2026-11-07.",
            "on:2026-11-20",
        ),
        (
            "since:2026-02-30",
            "`since:2026-02-30` is not a real day. `since:` needs a day like 2026-11-20, "
            "a time like 2026-11-20T14:30, today, yesterday or a duration like 6h.",
            "since:2026-11-20T14:30",
        ),
        (
            "since:2026-11-20T25:00",
            "`since:2026-11-20T25:00` is not a real time. `since:` needs a day like 2026-11-20, "
            "a time like 2026-11-20T14:30, today, yesterday or a duration like 6h.",
            "since:2026-11-20T14:30",
        ),
        (
            "last:7x",
            "`last:7x` is not a duration. `last:` needs a number and a unit (m, h, d or w), "
            "like 30m, 6h, 7d or 2w.",
            "last:6h",
        ),
        (
            "last:yesterday",
            "`last:yesterday` is not a duration. `last:` needs a number and a unit (m, h, d or w), "
            "like 30m, 6h, 7d or 2w.",
            "last:6h",
        ),
        (
            "last:1.5h",
            "`last:1.5h` is not a duration. `last:` needs a number and a unit (m, h, d or w), "
            "like 30m, 6h, 7d or 2w.",
            "last:6h",
        ),
        (
            "last:7d..1d",
            "`last:7d..1d` is a range, and `last:` takes one duration: use since: for a range.",
            "since:7d..1d",
        ),
        (
            "on:2026-11-01..2026-11-31",
            "`on:2026-11-01..2026-11-31` is not a real day. `on:` needs a day like 2026-11-20, "
            "today or yesterday, or a range like 2026-11-01..2026-11-07.",
            "on:2026-11-20",
        ),
    ],
)
def test_a_bad_time_names_the_word_and_the_right_forms(text: str, message: str, hint: str) -> None:
    error = syntax_error(f"failed {text} ACME")
    assert (describe(error), error.position, error.hint) == (message, 1, hint)


@pytest.mark.parametrize("text", ["on:9999-12-31", "last:9999999w", "since:0001-01-01"])
def test_a_time_beyond_what_datetimes_hold_is_an_error(text: str) -> None:
    error = syntax_error(text, AUCKLAND)
    assert describe(error) == f"`{text}` is out of range: use a time between the years 1 and 9999."
    assert error.position == 0


# --- parse_period ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "since", "until"),
    [
        ("7d", NOW - timedelta(days=7), NOW),
        ("24H", NOW - timedelta(hours=24), NOW),
        ("yesterday", utc(2026, 11, 19, 18, 30), utc(2026, 11, 20, 18, 29, 59, 999999)),
        ("2026-11-01", utc(2026, 10, 31, 18, 30), utc(2026, 11, 1, 18, 29, 59, 999999)),
        ("2026-11-01..2026-11-07", utc(2026, 10, 31, 18, 30), utc(2026, 11, 7, 18, 29, 59, 999999)),
        ("2026-11-20T14:30", utc(2026, 11, 20, 9, 0), NOW),
        ("last:24h", NOW - timedelta(hours=24), NOW),
        ("since:2026-11-01", utc(2026, 10, 31, 18, 30), NOW),
        ("on:2026-11-01", utc(2026, 10, 31, 18, 30), utc(2026, 11, 1, 18, 29, 59, 999999)),
        (" “7d” ", NOW - timedelta(days=7), NOW),
    ],
)
def test_parse_period(text: str, since: datetime, until: datetime) -> None:
    assert parse_period(text, tz=KOLKATA, now=NOW) == (since, until)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        (
            "",
            "Give one period: a day like 2026-11-20, a duration like 7d, "
            "or a range like 2026-11-01..2026-11-07.",
            None,
        ),
        (
            "last week",
            "Give one period: a day like 2026-11-20, a duration like 7d, "
            "or a range like 2026-11-01..2026-11-07.",
            1,
        ),
        (
            "tomorrow",
            "`tomorrow` is not a day or a time. A period needs a day like 2026-11-20, "
            "a duration like 7d, or a range like 2026-11-01..2026-11-07.",
            0,
        ),
        ("until:2026-11-01", "`until:2026-11-01` has no start: a period needs one.", 0),
        (
            "2030-01-01T10:00",
            "`2030-01-01T10:00` is in the future: pick a period that has begun.",
            0,
        ),
        (
            "2026-11-07..2026-11-01",
            "`2026-11-07..2026-11-01` ends before it starts: put the earlier end first.",
            0,
        ),
    ],
)
def test_parse_period_errors(text: str, message: str, position: int | None) -> None:
    with pytest.raises(FilterSyntaxError) as excinfo:
        parse_period(text, tz=KOLKATA, now=NOW)
    assert (describe(excinfo.value), excinfo.value.position) == (message, position)


def test_parse_period_rejects_a_naive_now() -> None:
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        parse_period("7d", tz=UTC, now=datetime(2026, 11, 20))


# --- RunFilter and GRAMMAR ---------------------------------------------------------------------


def test_run_filter_holds_utc_only() -> None:
    flt = RunFilter(since=datetime(2026, 11, 20, 9, 0, tzinfo=timezone(timedelta(hours=-5))))
    assert flt.since == utc(2026, 11, 20, 14, 0)
    assert flt.since is not None and flt.since.tzinfo is UTC
    with pytest.raises(ValueError, match="until must be an aware datetime"):
        RunFilter(until=datetime(2026, 11, 20))
    with pytest.raises(ValueError, match="limit must be at least 1"):
        RunFilter(limit=0)


def test_grammar_covers_every_status_and_key() -> None:
    syntaxes = [entry.syntax for entry in GRAMMAR]
    assert syntaxes[:5] == ["failed", "finished", "running", "pending", "skipped"]
    assert {status.value for status in RunStatus} <= set(syntaxes)
    for syntax in ("workflow:NAME", "ref:TEXT", "id:RUN_ID", "since:WHEN", "until:WHEN"):
        assert syntax in syntaxes
    for syntax in ("on:DAY", "last:DURATION", "today", "yesterday", "A..B", "TEXT"):
        assert syntax in syntaxes
    assert len(set(syntaxes)) == len(syntaxes)


@pytest.mark.parametrize("entry", GRAMMAR, ids=lambda entry: entry.syntax)
def test_every_grammar_example_parses(entry: GrammarEntry) -> None:
    assert entry.meaning.endswith(".")
    flt = parse_filter(entry.example, tz=AUCKLAND, now=NOW)
    assert flt != RunFilter()


# --- properties --------------------------------------------------------------------------------

DST_ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Santiago",  # clocks change at midnight
    "America/St_Johns",
    "Australia/Lord_Howe",  # half-hour DST
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Europe/London",
    "Asia/Tehran",
    "Asia/Kolkata",
]


@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2037, 12, 31)),
    zone=st.sampled_from(DST_ZONES),
)
def test_on_a_day_covers_that_local_day_of_23_to_25_hours(day: date, zone: str) -> None:
    tz = ZoneInfo(zone)
    flt = parse_filter(f"on:{day.isoformat()}", tz=tz, now=NOW)
    assert flt.since is not None and flt.until is not None
    assert timedelta(hours=23) <= flt.until + MICROSECOND - flt.since <= timedelta(hours=25)
    assert flt.since.astimezone(tz).date() == day
    assert flt.until.astimezone(tz).date() == day
    assert (flt.until + MICROSECOND).astimezone(tz).date() == day + timedelta(days=1)


@given(
    first=st.dates(min_value=date(1990, 1, 1), max_value=date(2037, 12, 31)),
    days=st.integers(min_value=0, max_value=400),
    zone=st.sampled_from(DST_ZONES),
)
def test_a_range_of_days_is_its_first_day_through_its_last(
    first: date, days: int, zone: str
) -> None:
    tz = ZoneInfo(zone)
    last = first + timedelta(days=days)
    flt = parse_filter(f"on:{first}..{last}", tz=tz, now=NOW)
    assert flt.since == parse_filter(f"on:{first}", tz=tz, now=NOW).since
    assert flt.until == parse_filter(f"on:{last}", tz=tz, now=NOW).until


FRAGMENTS = st.sampled_from(
    [" ", "  ", ":", "..", "…", '"', "'", "“", "”", "’", "→", "-", "T", "Z", "+05:30"]
    + ["wf:", "ref:", "id:", "status:", "since:", "until:", "on:", "last:", "sinc:", "today"]
    + ["yesterday", "failed", "2026-11-20", "2026-03-08", "9999-12-31", "0001-01-01", "14:30"]
    + ["7d", "30m", "99999w", "1", "13", "ACME"]
)
COMMAND_LINES = st.lists(FRAGMENTS | st.text(max_size=3), max_size=12).map("".join)
ANY_ZONE = st.sampled_from([*DST_ZONES, "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])
ANY_NOW = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(text=COMMAND_LINES, zone=ANY_ZONE, now=ANY_NOW)
def test_any_command_line_parses_or_raises_filter_syntax_error(
    text: str, zone: str, now: datetime
) -> None:
    tz = ZoneInfo(zone)
    try:
        flt = parse_filter(text, tz=tz, now=now)
    except FilterSyntaxError as error:
        assert describe(error)
        if error.position is not None:
            assert 0 <= error.position <= len(text.split())
        return
    assert parse_filter(tokenize(text), tz=tz, now=now) == flt
    if flt.since is not None and flt.until is not None:
        assert flt.since <= flt.until


@given(text=COMMAND_LINES, zone=ANY_ZONE, now=ANY_NOW)
def test_any_period_parses_or_raises_filter_syntax_error(
    text: str, zone: str, now: datetime
) -> None:
    try:
        since, until = parse_period(text, tz=ZoneInfo(zone), now=now)
    except FilterSyntaxError:
        return
    assert since <= until


@given(value=COMMAND_LINES, end_of_day=st.booleans())
def test_any_api_time_parses_or_raises_filter_syntax_error(value: str, end_of_day: bool) -> None:
    try:
        parsed = parse_api_time(value, end_of_day=end_of_day)
    except FilterSyntaxError:
        return
    assert parsed.tzinfo is UTC


PLAIN_WORDS = st.lists(
    st.text(
        alphabet=st.characters(
            exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cs"),
            exclude_characters="\"'“”‘’\x1c\x1d\x1e\x1f\x85",
        ),
        min_size=1,
    ),
    max_size=6,
)


@given(words=PLAIN_WORDS)
def test_tokenize_splits_unquoted_words_back_apart(words: list[str]) -> None:
    assert tokenize(" ".join(words)) == words


@given(phrase=st.text(alphabet=st.characters(codec="utf-8", exclude_characters='"“”')))
def test_a_double_quoted_phrase_is_one_word(phrase: str) -> None:
    assert tokenize(f'wf:"{phrase}"') == [f"wf:{phrase}"]
    assert tokenize(f"“{phrase}”") == [phrase]
