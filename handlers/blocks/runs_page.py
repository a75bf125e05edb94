"""A page of `/runs` results: the total, ten runs newest first with their actions, and the
buttons to page and share; the same runs as shared in a channel; one run for `/runs show`;
and the short answers around them (no such run, a page that cannot turn, read in UTC).

Pure functions over the store's RunPage and RunSummary. Every string the engine or a person
supplied is escaped and cut here, to budgets that keep ten runs far inside Slack's limits
(a section's 3,000 characters, a message's 50 blocks) whatever the engine sends.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    SectionBlock,
)

from handlers import ids
from handlers.page_state import PageState
from store.records import RunPage, RunSummary

from .elements import context as _context
from .elements import is_retriggerable, note_button, retrigger_button, route, view_details_button
from .elements import section as _section
from .help import usage_message
from .message import SlackMessage
from .text import (
    escape_and_truncate,
    escape_mrkdwn,
    excerpt,
    isolate,
    one_line,
    slack_date,
    status_emoji,
)

PAGE_SIZE = 10

# Display budgets, in characters once escaped.
_REFERENCE = 1_275  # every reference whole: 255 characters, each at most 5 escaped (&amp;)
_ERROR = 200
_QUERY = 300
_FALLBACK_QUERY = 100


def runs_page(page: RunPage, state: PageState) -> SlackMessage:
    """What the asker sees: the total, the page's runs, and Previous, Next and Share. When the
    search is too long for a button to carry, the page says so instead of offering them."""
    blocks: list[Block] = [_section(f"{_total(page)} match {_command(state.query)}")]
    blocks += _rows(page.runs, state.number)
    buttons = _paging_buttons(page, state)
    if buttons is None:
        blocks.append(
            _context(
                "This search is too long to page through or share from here: shorten it "
                "to see more than this page."
            )
        )
    elif buttons:
        blocks.append(ActionsBlock(block_id=ids.Block.RUNS_PAGING, elements=buttons))
    return SlackMessage(text=_fallback(page, state.query), blocks=tuple(blocks))


def shared_page(page: RunPage, state: PageState, *, shared_by: str) -> SlackMessage:
    """The page as posted to the channel: who shared which search, and the runs with their
    actions; the asker's own paging buttons stay with the asker."""
    title = f"<@{escape_mrkdwn(shared_by)}> shared {_command(state.query)}: {_total(page)}"
    blocks: list[Block] = [_section(title), *_rows(page.runs, state.number)]
    return SlackMessage(text=_fallback(page, state.query), blocks=tuple(blocks))


def run_shown(run: RunSummary) -> SlackMessage:
    """`/runs show RUN_ID`: the run's row with its actions."""
    return SlackMessage(
        text=f"{run.status.value.capitalize()}: {_fallback_reference(run)} ({run.id})",
        blocks=(_row(run), _actions(run)),
    )


def run_not_found(run_id: str) -> SlackMessage:
    shown = escape_and_truncate(one_line(run_id), 100).replace("`", "ˋ")
    text = f"No run has the ID `{shown}`. Look for it with `/runs {shown}`, which matches part of an ID."
    return SlackMessage(text=text, blocks=(_section(text),))


def show_needs_one_id() -> SlackMessage:
    return usage_message(
        "`/runs show` takes one run ID, like `/runs show run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0`."
    )


def page_expired(query: str) -> SlackMessage:
    """A page button this server cannot follow (made by another version, or tampered with)."""
    return usage_message(
        f"This page cannot be turned any more: type {_command(query)} again for a fresh one."
    )


def share_needs_invite() -> SlackMessage:
    text = (
        "I can only share where I am a member. In a channel, invite me with "
        "`/invite @runsbot` and press Share again; from a direct message, share "
        "from a channel instead."
    )
    return SlackMessage(text=text, blocks=(_section(text),))


def read_in_utc(message: SlackMessage) -> SlackMessage:
    """`message` with a note that days and times were read in UTC: Slack did not say the
    asker's time zone."""
    note = _context(
        "Days and times were read in UTC: Slack did not say your time zone. "
        "Set it in your Slack profile."
    )
    return SlackMessage(text=message.text, blocks=(*message.blocks, note))


def run_row(run: RunSummary) -> SectionBlock:
    """One run as a /runs page shows it (status, reference, route, start, ID, notes, error)."""
    return _row(run)


# --- pieces --------------------------------------------------------------------------------


def _rows(runs: Sequence[RunSummary], number: int) -> list[Block]:
    blocks: list[Block] = []
    if runs:
        first = (number - 1) * PAGE_SIZE + 1
        last = first + len(runs) - 1
        blocks.append(_context(f"Newest first · {first}–{last}" if last > first else f"{first}"))
    for run in runs:
        blocks += [_row(run), _actions(run)]
    return blocks


def _row(run: RunSummary) -> SectionBlock:
    reference = escape_and_truncate(one_line(run.reference), _REFERENCE) or "(no reference)"
    notes = {0: "no notes", 1: "💬 1 note"}.get(run.note_count, f"💬 {run.note_count} notes")
    lines = [
        f"{status_emoji(run.status)} *{run.status.value.capitalize()}* · {isolate(reference)}",
        f"{route(run.workflow)} · {slack_date(run.started_at)} · `{escape_mrkdwn(run.id)}` · {notes}",
    ]
    error = excerpt(run.error_message or "", _ERROR)
    if error:
        lines.append(f"> {isolate(error)}")
    return _section("\n".join(lines))


def _actions(run: RunSummary) -> ActionsBlock:
    buttons = [view_details_button(run.id)]
    if is_retriggerable(run):
        buttons.append(retrigger_button(run.id, run.reference))
    buttons.append(note_button(run.id))
    # One actions block per run: block IDs must be unique within a message, run IDs are.
    return ActionsBlock(block_id=f"{ids.Block.RUN_ACTIONS}:{run.id}", elements=buttons)


def _paging_buttons(page: RunPage, state: PageState) -> list[ButtonElement] | None:
    """Previous, Next and Share, those that apply; None when a value would not fit."""
    wanted = []
    if page.previous_cursor is not None:
        previous = PageState(state.query, page.previous_cursor, max(state.number - 1, 1))
        wanted.append(("← Previous", ids.Action.PREVIOUS_PAGE, previous))
    if page.next_cursor is not None:
        following = PageState(state.query, page.next_cursor, state.number + 1)
        wanted.append(("Next →", ids.Action.NEXT_PAGE, following))
    if page.runs:
        wanted.append(("Share with the channel", ids.Action.SHARE, state))
    buttons = []
    for text, action_id, target in wanted:
        value = target.encode()
        if value is None:
            return None
        buttons.append(ButtonElement(text=text, action_id=action_id, value=value))
    return buttons


def _count(page: RunPage) -> str:
    """ "42 runs", "1 run", or "1,000+ runs" when the store stopped counting."""
    if not page.total_exact:
        return f"{page.total:,}+ runs"
    return f"{page.total:,} run{'' if page.total == 1 else 's'}"


def _total(page: RunPage) -> str:
    return f"*{_count(page)}*"


def _command(query: str) -> str:
    shown = escape_and_truncate(one_line(query), _QUERY).replace("`", "ˋ")
    return f"`/runs {shown}`" if shown else "`/runs`"


def _fallback(page: RunPage, query: str) -> str:
    shown = escape_and_truncate(one_line(query), _FALLBACK_QUERY)
    return f"{_count(page)} match /runs {shown}".rstrip()


def _fallback_reference(run: RunSummary) -> str:
    return isolate(escape_and_truncate(one_line(run.reference), 80))
