"""The /runs help is generated from the grammar table: every entry appears, escaped."""

from __future__ import annotations

import pytest

from handlers.blocks.help import help_lines, help_text
from handlers.blocks.text import escape_mrkdwn
from store.grammar import GRAMMAR, GrammarEntry


@pytest.mark.parametrize("entry", GRAMMAR, ids=lambda entry: entry.syntax)
def test_every_grammar_entry_appears_in_the_help(entry: GrammarEntry) -> None:
    text = help_text()
    for part in (entry.syntax, entry.meaning, entry.example):
        assert escape_mrkdwn(part) in text


def test_the_help_keeps_the_grammars_order_one_line_each() -> None:
    lines = help_lines()
    assert len(lines) == len(GRAMMAR) + 1
    for line, entry in zip(lines[1:], GRAMMAR, strict=True):
        assert line.startswith(f"• `{escape_mrkdwn(entry.syntax)}`")
    assert help_text() == "\n".join(lines)


def test_the_help_escapes_what_slack_would_read_as_markup() -> None:
    assert "Source-&gt;Destination" in help_text()
    assert "->" not in help_text()
