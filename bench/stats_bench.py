"""What `/runs stats` costs in the store over a demo database: the whole answer's queries
(RunStore.run_stats) and, beside them, the counts per status alone, for each period.

    .venv/bin/python -m bench.stats_bench bench/out/demo-1000000-seed1.db   # made by store_bench
    .venv/bin/python -m bench.stats_bench DB --plan    # also SQLite's plan of each statement

The database is opened immutable (no lock, no write, not even a WAL file), so it may be
store_bench's own cached file, or a hard link to it. Periods are read by `parse_period` as
`/runs stats` reads them, at the "now" the database was filled at (its .json beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from store.filters import parse_period
from store.run_store import RunStore
from store.types import RunStatus

PERIODS = ("24h", "today", "7d", "30d")
SAMPLES = 30


async def timed(call: Callable[[], Awaitable[object]], samples: int) -> tuple[float, float]:
    """Median and worst milliseconds of `samples` calls, after one warm-up."""
    await call()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


async def measure(
    store: RunStore, since: datetime, until: datetime, samples: int
) -> tuple[float, float, float]:
    """run_stats' median and worst milliseconds, and count_by_status' median alone."""
    median, worst = await timed(lambda: store.run_stats(since=since, until=until), samples)
    counts, _ = await timed(lambda: store.count_by_status(since=since, until=until), samples)
    return median, worst, counts


def print_plans(path: Path, statements: list[tuple[str, object]]) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    for statement, parameters in statements:
        print("  " + " ".join(statement.split())[:110] + " …")
        for row in connection.execute("EXPLAIN QUERY PLAN " + statement, parameters):  # type: ignore[arg-type]
            print(f"      {row[3]}")
    connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--plan", action="store_true", help="print each statement's query plan")
    parser.add_argument("--samples", type=int, default=SAMPLES)
    args = parser.parse_args()
    path: Path = args.database.resolve()
    meta = path.with_suffix(".json")
    now = (
        datetime.fromisoformat(json.loads(meta.read_text())["now"])
        if meta.exists()
        else datetime.now(UTC)
    )
    store = RunStore.open(f"sqlite+aiosqlite:///file:{path}?mode=ro&immutable=1&uri=true")
    statements: list[tuple[str, object]] = []
    event.listen(
        store.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cu, statement, parameters, *_: statements.append((statement, parameters)),
    )
    print(f"{path.name}, now {now:%Y-%m-%d %H:%M} UTC, {args.samples} samples each")
    print(
        f"{'period':8} {'runs':>10} {'failed':>8} {'stats median':>13} {'worst':>8} {'counts only':>12}"
    )
    try:
        for period in PERIODS:
            since, until = parse_period(period, tz=UTC, now=now)
            until = min(until, now)
            statements.clear()
            stats = await store.run_stats(since=since, until=until)
            taken = list(statements)
            median, worst, counts = await measure(store, since, until, args.samples)
            failed = stats.counts[RunStatus.FAILED]
            print(
                f"{period:8} {stats.total:>10,} {failed:>8,} {median:>10.2f} ms "
                f"{worst:>5.1f} ms {counts:>9.2f} ms"
            )
            if args.plan:
                print_plans(path, taken)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
