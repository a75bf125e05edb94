"""What /runs answers when it cannot read a query, or when nothing matches it.

Each answer says what went wrong in a sentence, shows where (the word at fault, or the query
echoed), offers something that works as a command to copy, and ends with the usage. Whatever
was typed is escaped and cut, so an answer stays within Block Kit's limits for any input.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from store.errors import FilterSyntaxError
from store.records import WorkflowRecord
from store.suggestions import Suggestion

from .elements import section as _section
from .help import usage_block
from .message import SlackMessage
from .query_errors import describe
from .text import escape_and_truncate, escape_mrkdwn, one_line, truncate

__all__ = ["no_runs_matched", "unreadable_query"]

ECHO_LIMIT = 300  # the query, echoed
WORD_LIMIT = 80  # one word, where the answer points at it
WORDS_AROUND = 3  # words shown either side of the one at fault
SENTENCE_LIMIT = 1500  # a sentence naming words (a word may be 3,000 characters)
COMMAND_LIMIT = 1000  # a suggested command
NAME_LIMIT = 100  # a workflow's id, name or route
MEANT_LIMIT = 3  # typos named


def _code(text: str, limit: int) -> str:
    """`text` as inline code, escaped and cut; plain when a backtick would end the code early."""
    shown = escape_and_truncate(one_line(text), limit)
    return f"`{shown}`" if "`" not in shown else shown


def _command_block(words: str) -> str:
    """`/runs words` as a block of code to copy (plain when it holds a fence itself)."""
    command = escape_and_truncate(f"/runs {words}".rstrip(), COMMAND_LIMIT)
    return f"```{command}```" if "```" not in command else command


def _pointer(text: str, spans: list[tuple[int, int]], position: int) -> str:
    """The command with the word at fault in bold, and a few words either side of it."""
    words = [text[start:end] for start, end in spans]
    before = words[max(0, position - WORDS_AROUND) : position]
    after = words[position + 1 : position + 1 + WORDS_AROUND]
    lead = ["/runs", *(["…"] if position > WORDS_AROUND else []), *before]
    tail = [*after, *(["…"] if position + 1 + WORDS_AROUND < len(words) else [])]
    parts = [
        _code(" ".join(truncate(word, WORD_LIMIT) for word in lead), ECHO_LIMIT),
        f"*{_code(words[position], WORD_LIMIT)}*",
    ]
    if tail:
        parts.append(_code(" ".join(truncate(word, WORD_LIMIT) for word in tail), ECHO_LIMIT))
    return " ".join(parts)


def unreadable_query(
    text: str,
    error: FilterSyntaxError,
    spans: list[tuple[int, int]],
    *,
    meant: str | None = None,
) -> SlackMessage:
    """/runs could not read `text`: the sentence saying why, the word at fault (`error.position`
    indexes `spans`, the words' places in `text`), the right form, and the usage. `meant` is
    what the word at fault was probably meant to be."""
    # The words typed are cut before the sentence is made, so that it still ends as written.
    shortened = FilterSyntaxError(
        error.problem,
        position=error.position,
        hint=error.hint,
        **{key: truncate(value, WORD_LIMIT) for key, value in error.values.items()},
    )
    sentence = escape_and_truncate(describe(shortened), SENTENCE_LIMIT)
    position = error.position
    if position is not None and 0 <= position < len(spans):
        where = f"In your command: {_pointer(text, spans, position)}"
    else:
        where = f"Your command: {_code(f'/runs {text}'.rstrip(), ECHO_LIMIT)}"
    blocks: list[Block] = [_section(f":warning: {sentence}"), _section(where)]
    if meant is not None:
        blocks.append(_section(f"Did you mean {_code(meant, WORD_LIMIT)}?"))
    if error.hint:
        blocks.append(_section(f"For example: {_code(error.hint, ECHO_LIMIT)}"))
    blocks.append(usage_block())
    return SlackMessage(text=sentence, blocks=tuple(blocks))


def _workflow_line(workflow: WorkflowRecord) -> str:
    described = [escape_and_truncate(workflow.route, NAME_LIMIT)]
    if workflow.name:
        described.append(escape_and_truncate(workflow.name, NAME_LIMIT))
    return f"{_code(workflow.id, NAME_LIMIT)} ({', '.join(described)})"


def _unknown_workflow(name: str, closest: tuple[WorkflowRecord, ...]) -> str:
    sentence = f"No workflow is named {_code(name, WORD_LIMIT)}."
    if not closest:
        return f"{sentence} No workflow is registered yet."
    return f"{sentence} The closest: {'; '.join(_workflow_line(w) for w in closest)}."


def no_runs_matched(text: str, suggestion: Suggestion) -> SlackMessage:
    """Nothing matched `text`: says so, then what it may have meant (a workflow that has no
    such name, a word close to a status), and the nearest query that matches runs."""
    headline = f"No runs match {_code(f'/runs {text}'.rstrip(), ECHO_LIMIT)}."
    blocks: list[Block] = [_section(headline)]
    if suggestion.unknown_workflow is not None:
        blocks.append(
            _section(_unknown_workflow(suggestion.unknown_workflow, suggestion.closest_workflows))
        )
    if suggestion.meant:
        lines = dict.fromkeys(
            f"{_code(typed, WORD_LIMIT)} is read as text: did you mean `{close}`?"
            for typed, close in suggestion.meant
        )
        blocks.append(_section("\n".join(list(lines)[:MEANT_LIMIT])))
    if suggestion.query is None:
        blocks.append(
            _section("No runs are stored yet: they show here once the engine reports them.")
        )
    else:
        blocks.append(
            _section(f"The nearest query that finds runs:\n{_command_block(suggestion.query)}")
        )
    blocks.append(usage_block())
    fallback = f"No runs match /runs {truncate(one_line(text), ECHO_LIMIT)}".rstrip() + "."
    return SlackMessage(text=escape_mrkdwn(fallback), blocks=tuple(blocks))
