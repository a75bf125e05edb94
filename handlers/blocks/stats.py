"""The answer to `/runs stats [WHEN]`: runs per status, the workflows failing most against
the period before, and the failures per hour or day as a sparkline with its scale.

Times are Slack date tokens (each reader sees their own zone); workflow names come from the
engine and are escaped and cut here.
"""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

from store.errors import FilterSyntaxError
from store.stats import FailingWorkflow, FailureSeries, RunStats
from store.types import RunStatus

from .elements import mrkdwn, section, workflow_label
from .message import SlackMessage
from .query_errors import describe
from .text import escape_and_truncate, escape_mrkdwn, one_line, slack_date, status_emoji

__all__ = ["STATS_USAGE", "sparkline", "stats_message", "stats_not_read"]

STATS_USAGE = (
    "Usage: `/runs stats [WHEN]`, WHEN in your time zone: a day like `2026-11-20`, `today` or "
    "`yesterday`, a duration like `6h` or `7d` (that long until now), or a range like "
    "`2026-11-01..2026-11-07`. Without WHEN: the last 24 hours."
)
SPARKS = "▁▂▃▄▅▆▇█"
_TYPED = 200  # characters of what was typed, shown back
_ORDER = (
    RunStatus.FAILED,
    RunStatus.FINISHED,
    RunStatus.SKIPPED,
    RunStatus.RUNNING,
    RunStatus.PENDING,
)


def stats_message(stats: RunStats) -> SlackMessage:
    """Counts, failing workflows and the failure sparkline of one period."""
    period = f"from {slack_date(stats.since)} to {slack_date(stats.until)}"
    failed = stats.counts[RunStatus.FAILED]
    fallback = f"Runs {period}: {stats.total:,} started, {failed:,} failed."
    if stats.total == 0:
        return SlackMessage(fallback, (section(f"No run started {period}."),))
    blocks: list[Block] = [
        section(f"*{stats.total:,} runs* started {period}"),
        SectionBlock(
            fields=[
                mrkdwn(
                    f"{status_emoji(status)} {status.value.capitalize()}: *{stats.counts[status]:,}*"
                )
                for status in _ORDER
            ]
        ),
    ]
    if failed == 0:
        blocks.append(section("No run failed in this period."))
    else:
        before = _duration(stats.until - stats.since)
        lines = [f"*Failing most*, against the {before} before:"]
        lines += [
            f"{rank}. {_failing_line(item)}" for rank, item in enumerate(stats.failing_most, 1)
        ]
        blocks.append(section("\n".join(lines)))
        blocks += _series_blocks(stats.failures)
    return SlackMessage(fallback, tuple(blocks))


def stats_not_read(text: str, error: FilterSyntaxError) -> SlackMessage:
    """What was wrong with the WHEN of `/runs stats WHEN`, and how to write it."""
    typed = escape_and_truncate(one_line(text), _TYPED)
    sentence = escape_mrkdwn(describe(error))
    example = f" For example `/runs stats {escape_mrkdwn(error.hint)}`." if error.hint else ""
    return SlackMessage(
        f"Could not read /runs stats {typed}: {sentence}",
        (
            section(f"Could not read `/runs stats {typed}`: {sentence}{example}"),
            section(STATS_USAGE),
        ),
    )


def sparkline(counts: tuple[int, ...] | list[int]) -> str:
    """One bar per count: ▁ for none, then ▂ to █ in proportion to the largest count."""
    top = max(counts, default=0)
    return "".join(SPARKS[0] if n == 0 else SPARKS[max(1, -(-n * 7 // top))] for n in counts)


def _failing_line(item: FailingWorkflow) -> str:
    return f"{workflow_label(item.workflow)}: {_failures(item.failures)}, {_change(item)}"


def _change(item: FailingWorkflow) -> str:
    before, delta = item.failures_before, item.failures - item.failures_before
    if before == 0:
        return "none before"
    if delta == 0:
        return f"as many as before ({before:,})"
    arrow = "↑" if delta > 0 else "↓"
    sign = "+" if delta > 0 else "−"
    return (
        f"{arrow} {sign}{abs(delta):,} ({sign}{round(abs(delta) * 100 / before)} %) from {before:,}"
    )


def _series_blocks(series: FailureSeries) -> list[Block]:
    unit = _unit(series.bar)
    return [
        section(f"*Failures per {unit}*\n`{sparkline(series.counts)}`"),
        ContextBlock(
            elements=[
                mrkdwn(
                    f"One bar per {unit}, oldest first: █ {_failures(max(series.counts))}, ▁ none."
                )
            ]
        ),
    ]


def _unit(bar: timedelta) -> str:
    if bar == timedelta(hours=1):
        return "hour"
    days = bar // timedelta(days=1)
    return "day" if days == 1 else f"{days} days"


def _duration(length: timedelta) -> str:
    """A period's length as people say it: `24 hours`, `7 days`, `14 hours 30 minutes`."""
    minutes = round(length / timedelta(minutes=1))
    days, rest = divmod(minutes, 24 * 60)
    if days >= 2 and rest == 0:
        return f"{days} days"
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours:,} hour{'s' if hours != 1 else ''}"] if hours else []
    parts += [f"{minutes} minute{'s' if minutes != 1 else ''}"] if minutes else []
    return " ".join(parts) or "moment"


def _failures(count: int) -> str:
    return f"{count:,} failure{'s' if count != 1 else ''}"
