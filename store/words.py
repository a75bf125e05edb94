"""Words of a command line: where /runs, the CLI's arguments and the API's `q` split and quote.

A quoted word is text, never a status, a time word or a filter; store/filters.py reads the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from store.errors import FilterSyntaxError
from store.filter_errors import Problem

__all__ = ["Word", "argument_words", "read_word", "text_words", "tokenize"]

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
        word, index = read_word(text, index, position=len(words))
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
            raise FilterSyntaxError(
                error.problem, position=position, hint=error.hint, **error.values
            ) from None
    return words


def text_words(text: str) -> tuple[str, ...]:
    """Words that are all text (the API's `q`): a quoted phrase stays one word; each word is
    trimmed and empty ones dropped. Raises FilterSyntaxError for a quote that is never closed."""
    return tuple(stripped for word in tokenize(text) if (stripped := word.strip()))


def read_word(text: str, start: int, *, position: int) -> tuple[Word, int]:
    parts: list[str] = []
    index, quote_may_open, seen_colon = start, True, False
    while index < len(text) and not text[index].isspace():
        char = text[index]
        if quote_may_open and char in _QUOTE_FAMILY:
            closing = _closing_quote(text, index)
            if closing is None:
                raise FilterSyntaxError(
                    Problem.UNCLOSED_QUOTE,
                    word=text[start:].split()[0],
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
