"""The `runsbot` command: serve | db upgrade | runs … | demo-data."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal
import wcwidth
from aiohttp import web
from sqlalchemy.engine import make_url

from bot.config import ConfigError, Settings, SlackMode, load_settings
from bot.logs import configure_logging
from bot.web import create_web_app, open_store
from handlers.blocks.query_errors import describe
from store.database import SchemaUpgrade
from store.errors import DatabaseUnavailable, FilterSyntaxError, InvalidCursor
from store.filters import parse_filter
from store.records import RunPage
from store.run_store import RunStore
from store.words import argument_words

log = logging.getLogger("runsbot")

SLACK_OFF = (
    "Slack is off: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP mode) "
    "or with SLACK_APP_TOKEN (Socket Mode) to turn it on"
)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging()
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"runsbot: {error}", file=sys.stderr)
        return 2
    try:
        return int(asyncio.run(args.command(settings, args)))
    except ConfigError as error:  # a setting that only fails when used: the database, the address
        print(f"runsbot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runsbot", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve_parser = commands.add_parser("serve", help="run the API, Slack and the scheduled jobs")
    serve_parser.set_defaults(command=serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(required=True)
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(command=db_upgrade)

    runs_parser = commands.add_parser(
        "runs",
        help="list runs, with the words of /runs (e.g. runsbot runs failed last:7d)",
    )
    runs_parser.add_argument("words", nargs="*", help="statuses, filters and text, as in /runs")
    runs_parser.add_argument(
        "--tz", type=_zone, help="time zone for days and times (default: this machine's)"
    )
    runs_parser.add_argument(
        "--limit", type=_page_size, default=20, help="runs per page (default 20)"
    )
    runs_parser.add_argument("--cursor", help="the next page, as printed under the table")
    runs_parser.set_defaults(command=runs)

    demo = commands.add_parser("demo-data", help="fill the store with realistic runs")
    demo.add_argument("--runs", type=int, default=10_000, help="how many runs (default 10000)")
    demo.add_argument("--days", type=int, default=30, help="spread over this many days back")
    demo.add_argument("--seed", type=int, default=1, help="random seed, for repeatable data")
    demo.set_defaults(command=demo_data)
    return parser


def shown_database(url: str) -> str:
    """The database URL as it may be shown: its password hidden, and a relative SQLite
    file's absolute path after it (relative to the folder the command ran in)."""
    parsed = make_url(url)
    shown, file = parsed.render_as_string(hide_password=True), parsed.database
    if parsed.get_backend_name() == "sqlite" and file and not Path(file).is_absolute():
        return f"{shown} ({Path(file).resolve()})"
    return shown


def say_database(settings: Settings) -> None:
    """One line on stderr naming the database a command used; stdout stays its answer."""
    print(f"database: {shown_database(settings.database_url)}", file=sys.stderr)


def schema_sentence(schema: SchemaUpgrade) -> str:
    if schema.before is None:
        return f"schema created at revision {schema.after}"
    if schema.before == schema.after:
        return f"schema is current at revision {schema.after}"
    return f"schema migrated from revision {schema.before} to {schema.after}"


async def upgraded(store: RunStore, settings: Settings) -> RunStore:
    """The store with its schema migrated, or the ConfigError of `upgrade_schema`."""
    await upgrade_schema(store, settings)
    return store


async def upgrade_schema(store: RunStore, settings: Settings) -> SchemaUpgrade:
    """Create or migrate the store's schema; a database that cannot be opened is a
    ConfigError naming RUNSBOT_DATABASE_URL (its password hidden), with the reason in one
    line, and the store is closed."""
    try:
        return await store.upgrade()
    except DatabaseUnavailable as error:
        log.debug("opening the database failed", exc_info=True)
        url = shown_database(settings.database_url)
        raise ConfigError(f"RUNSBOT_DATABASE_URL {url} cannot be opened: {error.reason}") from None


async def serve(settings: Settings, _args: argparse.Namespace) -> int:
    store = await upgraded(open_store(settings), settings)
    app = create_web_app(settings, store)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        raise ConfigError(
            f"RUNSBOT_HOST and RUNSBOT_PORT: cannot listen on {settings.host}:{settings.port}: "
            f"{error.strerror or error}"
        ) from None
    _tune_garbage_collector()
    addresses = ", ".join(f"http://{host}:{port}" for host, port in _bound(runner))
    log.info("runsbot listening on %s, store %s", addresses, store.dialect)
    if settings.api_token is None:
        log.info("the run API is off (answers 503): set RUNSBOT_API_TOKEN to turn it on")
    else:
        log.info("the run API is on at /api/v1, for requests bearing RUNSBOT_API_TOKEN")
    if settings.slack_mode is SlackMode.OFF:
        log.info(SLACK_OFF)
    else:
        log.info(
            "Slack is on (%s mode), API at %s", settings.slack_mode.value, settings.slack_api_url
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("runsbot stopping")
    await runner.cleanup()
    return 0


def _tune_garbage_collector() -> None:
    """Keep the long-lived start-up objects out of every collection, and collect the young
    generation less often: a batch of reports makes many short-lived objects, and with
    the default thresholds the collector rescans the heap several times per batch."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _bound(runner: web.AppRunner) -> list[tuple[str, int]]:
    return [tuple(address[:2]) for address in runner.addresses]


async def db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    store = RunStore.open(settings.database_url)
    schema = await upgrade_schema(store, settings)
    await store.close()
    say_database(settings)
    print(schema_sentence(schema))
    return 0


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{name!r} is not a time zone name like Europe/Paris"
        ) from None


def _page_size(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of runs, 1 or more")
    return size


def _local_zone() -> tzinfo:
    """This machine's zone by its name (TZ, else /etc/localtime), so that each time gets
    its own daylight saving offset; a TZ that names no zone gives today's offset."""
    try:
        return tzlocal.get_localzone()
    except ZoneInfoNotFoundError:
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC


async def runs(settings: Settings, args: argparse.Namespace) -> int:
    """The words of /runs. The shell has already grouped and unquoted them, so quotes that
    reach an argument are read as Slack's are: see store.words.argument_words."""
    zone = args.tz or _local_zone()
    try:
        words = argument_words(args.words)
        flt = parse_filter(words, tz=zone, now=datetime.now(UTC), limit=args.limit)
    except FilterSyntaxError as error:
        print(f"runsbot: {describe(error)}", file=sys.stderr)
        if error.hint:
            # Quoted for the shell, so that the quotes of the hint reach runsbot.
            print(f"  for example: runsbot runs {shlex.quote(error.hint)}", file=sys.stderr)
        return 2
    store = await upgraded(RunStore.open(settings.database_url), settings)
    try:
        page = await store.list_runs(replace(flt, cursor=args.cursor or None))
    except InvalidCursor as error:
        print(f"runsbot: --cursor {error}: start again without it", file=sys.stderr)
        return 2
    finally:
        await store.close()
    say_database(settings)
    print(format_page(page, zone))
    return 0


# Control characters in an engine's text would move the terminal's cursor or restyle it.
_CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)], " ")


def _cell(text: str, width: int) -> str:
    """`text` on one line, cut to `width` terminal columns (CJK and emoji take two) with
    an ellipsis."""
    text = " ".join(text.translate(_CONTROLS).split())
    if wcwidth.width(text) <= width:
        return text
    # clip() puts a space where it had to cut a wide character in half.
    return wcwidth.clip(text, 0, width - 1).rstrip() + "…"


def format_page(page: RunPage, zone: tzinfo) -> str:
    """A plain-text table of one page of runs, aligned in a terminal, times in `zone`
    (named in the line under the table)."""
    if not page.runs:
        return "No runs matched."
    header = ("STATUS", "STARTED", "WORKFLOW", "REFERENCE", "RUN ID", "NOTES")
    rows = [
        (
            run.status.value,
            run.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            _cell(run.workflow.route, 32),
            _cell(run.reference, 40),
            run.id,
            str(run.note_count),
        )
        for run in page.runs
    ]
    widths = [max(wcwidth.width(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(
            wcwidth.ljust(cell, width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in (header, *rows)
    ]
    lines.append(f"times in {zone}")
    # A total that stopped counting reads as a lower bound, the way search engines show it.
    total = f"{page.total:,}" if page.total_exact else f"{page.total:,}+"
    lines.append(f"{len(page.runs)} of {total} runs")
    if page.next_cursor:
        lines.append(f"next page: --cursor {page.next_cursor}")
    return "\n".join(lines)


async def demo_data(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo.runs import fill_demo_data

    store = await upgraded(RunStore.open(settings.database_url), settings)
    say_database(settings)
    try:
        started = asyncio.get_running_loop().time()
        made = await fill_demo_data(store, runs=args.runs, days=args.days, seed=args.seed)
        elapsed = asyncio.get_running_loop().time() - started
    finally:
        await store.close()
    print(f"made {made} runs in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
