"""The run store's query shapes over N demo runs, and ingestion over HTTP on 127.0.0.1.

    .venv/bin/python -m bench.store_bench              # 1,000,000 runs (filled once, cached)
    .venv/bin/python -m bench.store_bench --quick      # 20,000 runs, short loops: a smoke run

Queries go through the real RunStore with filters made by parse_filter, as /runs makes them,
and then through GET /api/v1/runs of the real web app on 127.0.0.1 (bench/api_reads.py), so
the API's own cost shows beside the store's. Ingestion posts engine reports to a `runsbot
serve` subprocess on a fresh SQLite file, so the client does not share the server's event
loop. Every loop stops at a count or a time, whichever comes first. Figures are printed as tables and written to bench/out/results-<runs>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.api_reads import ApiReads, Matched
from bot.demo.runs import DemoRuns, fill_demo_data
from bot.demo.workflows import WORKFLOWS
from store.filters import RunFilter, parse_filter, parse_period
from store.run_store import RunStore

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
HOST = "127.0.0.1"
DAYS = 30
SEED = 1

PAGE_TARGET_MS = 10.0
COUNT_TARGET_MS = 50.0
SINGLE_TARGET = 2_000.0
BATCH_TARGET = 20_000.0

CONCURRENCY = 32
BATCH_SIZE = 500
# Two batches in flight: the server writes one while it parses the next.
BATCH_CONCURRENCY = 2
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass(frozen=True)
class Plan:
    runs: int
    samples: int  # per query shape, at most
    seconds: float  # per query shape, at most
    single_reports: int
    batch_reports: int
    ingest_seconds: float  # per ingestion phase, at most


@dataclass(frozen=True)
class QueryFigure:
    shape: str
    words: str
    samples: int
    median_ms: float
    p95_ms: float
    target_ms: float
    matched: int
    matched_exact: bool  # False when the store stopped counting (shown as "1,000+")
    # The same shape through GET /api/v1/runs, when measured.
    api_median_ms: float | None = None
    api_p95_ms: float | None = None

    @property
    def passed(self) -> bool:
        through_api = self.api_median_ms is None or self.api_median_ms <= self.target_ms
        return self.median_ms <= self.target_ms and through_api


@dataclass(frozen=True)
class IngestFigure:
    phase: str
    reports: int
    requests: int
    seconds: float
    per_second: float
    latency_p50_ms: float
    latency_p95_ms: float
    rejected: int
    target: float

    @property
    def passed(self) -> bool:
        return self.per_second >= self.target and self.rejected == 0


@dataclass
class Results:
    machine: str
    runs: int
    database: str
    database_mib: float
    fill_seconds: float | None
    queries: list[QueryFigure] = field(default_factory=list)
    ingestion: list[IngestFigure] = field(default_factory=list)


# --- The demo database ------------------------------------------------------------------------


async def demo_database(runs: int) -> tuple[Path, datetime, float | None]:
    """The cached demo database of `runs` runs, filled first if missing; and its "now"."""
    path = OUT / f"demo-{runs}-seed{SEED}.db"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return path, datetime.fromisoformat(meta["now"]), meta.get("fill_seconds")
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".db.partial")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    # A fixed "now", kept with the file, so that last:7d means the same runs on every rerun.
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"filling {runs:,} demo runs into {path.relative_to(ROOT)} (once; minutes for 1M)")
    store = RunStore.open(f"sqlite+aiosqlite:///{partial}")
    try:
        await store.upgrade()
        started = time.perf_counter()
        made = await fill_demo_data(store, runs=runs, days=DAYS, seed=SEED, now=now)
        fill_seconds = round(time.perf_counter() - started, 1)
    finally:
        await store.close()  # the last connection checkpoints and removes the WAL
    os.replace(partial, path)
    meta = {"runs": made, "days": DAYS, "seed": SEED, "now": now.isoformat()}
    meta_path.write_text(json.dumps(meta | {"fill_seconds": fill_seconds}))
    print(f"filled {made:,} runs in {fill_seconds:.0f} s")
    return path, now, fill_seconds


# --- Query shapes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    name: str
    words: Sequence[str]  # as /runs gets them, already split
    counts: bool = False  # count_by_status over the period `words[0]`, as /runs stats does
    page: int = 1
    limit: int = 20
    target_ms: float = PAGE_TARGET_MS
    # Search for the newest run's ID cut to this many characters, lower-cased (IDs vary by fill).
    id_prefix: int = 0


def shapes(now: datetime) -> list[Shape]:
    last_day = (now - timedelta(days=1)).date()
    week = f"since:{last_day - timedelta(days=6)}..{last_day}"
    return [
        Shape("a. latest page of failed runs", ["failed"]),
        Shape("a. same, second page (cursor)", ["failed"], page=2),
        Shape("a. failed in the last 24 h", ["failed", "last:24h"]),
        Shape("b. failed, one workflow, 7 days", ["failed", "wf:HubSpot → Salesforce", week]),
        Shape("b. one workflow, any status, 7 d", ["wf:shopify-netsuite", week]),
        Shape("c. reference prefix", ["ref:ACME Corp —"]),
        Shape("c. reference prefix, failed", ["failed", "ref:Müller GmbH"]),
        Shape("c. reference prefix, 2 letters", ["ref:Zo"]),
        Shape("d. substring, lower-case ASCII", ["renewal"]),
        Shape("d. substring, lower-case non-ASCII", ["müller"]),
        Shape("d. substring, Greek, lower case", ["εκδόσεις"]),
        Shape("d. two words, failed, 7 days", ["failed", "acme", "renewal", week]),
        Shape("d. one letter", ["ß"]),
        Shape("f. run ID, first 12 chars, lower", [], id_prefix=12),
        Shape("none: a word", ["nonexistent"]),
        Shape("none: failed, ref, 7 days", ["failed", "ref:Nonexistent Ltd", week]),
        Shape("none: 2-letter word", ["öq"]),
        Shape("none: 2-letter word, failed", ["failed", "öq"]),
        Shape("e. counts by status, 7 days", ["7d"], counts=True, target_ms=COUNT_TARGET_MS),
        # Issue 10: shapes a black-box measurement through the API found slow at 1M runs.
        Shape("g. finished (86 % of runs)", ["finished"]),
        Shape("g. no filter at all (a bare /runs)", []),
        Shape("g. one whole day, limit 200", [f"on:{last_day}"], limit=200, target_ms=25.0),
    ]


async def time_calls(
    call: Callable[[], Awaitable[Matched]], *, samples: int, seconds: float
) -> tuple[list[float], Matched]:
    """Milliseconds of each call after one warm-up, up to `samples` calls or `seconds`."""
    matched = await call()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < samples and (len(times) < 3 or time.perf_counter() < deadline):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times, matched


def describe(shape: Shape) -> str:
    if shape.counts:
        return f"stats {shape.words[0]}: count_by_status"
    words = " ".join(f'"{word}"' if " " in word else word for word in shape.words)
    if shape.id_prefix:
        words = f"(newest run ID)[:{shape.id_prefix}].lower()"
    words = words or "(nothing)"
    return (
        words
        + (f" (page {shape.page})" if shape.page > 1 else "")
        + (f" limit {shape.limit}" if shape.limit != 20 else "")
    )


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure_queries(
    store: RunStore, now: datetime, plan: Plan, api: ApiReads | None, only: str | None = None
) -> list[QueryFigure]:
    figures = []
    for shape in shapes(now):
        if only is not None and only not in shape.name:
            continue
        call = await query_call(store, shape, now)
        times, matched = await time_calls(call, samples=plan.samples, seconds=plan.seconds)
        api_times: list[float] = []
        if api is not None and not shape.counts:
            flt = await shape_filter(store, shape, now)
            api_call = await api.call(flt, shape.page)
            api_times, _ = await time_calls(api_call, samples=plan.samples, seconds=plan.seconds)
        figures.append(
            QueryFigure(
                shape=shape.name,
                words=describe(shape),
                samples=len(times),
                median_ms=statistics.median(times),
                p95_ms=percentile(times, 0.95),
                target_ms=shape.target_ms,
                matched=matched[0],
                matched_exact=matched[1],
                api_median_ms=statistics.median(api_times) if api_times else None,
                api_p95_ms=percentile(api_times, 0.95) if api_times else None,
            )
        )
        print(format_query(figures[-1]), flush=True)
    return figures


async def shape_filter(store: RunStore, shape: Shape, now: datetime) -> RunFilter:
    """The shape's first page as /runs reads it."""
    words = list(shape.words)
    if shape.id_prefix:
        newest = (await store.list_runs(parse_filter([], tz=UTC, now=now, limit=1))).runs[0]
        words.append(newest.id[: shape.id_prefix].lower())
    return parse_filter(words, tz=UTC, now=now, limit=shape.limit)


async def query_call(
    store: RunStore, shape: Shape, now: datetime
) -> Callable[[], Awaitable[Matched]]:
    """A call that runs the shape once and says how many runs matched."""
    if shape.counts:
        since, until = parse_period(shape.words[0], tz=UTC, now=now)

        async def counts() -> Matched:
            return sum((await store.count_by_status(since=since, until=until)).values()), True

        return counts
    flt = await shape_filter(store, shape, now)
    for _ in range(shape.page - 1):
        flt = replace(flt, cursor=(await store.list_runs(flt)).next_cursor)

    async def page() -> Matched:
        found = await store.list_runs(flt)
        # getattr: the same benchmark also times the store as it was before total_exact.
        return found.total, getattr(found, "total_exact", True)

    return page


# --- Ingestion over HTTP ----------------------------------------------------------------------


def demo_reports(count: int, *, seed: int) -> list[dict[str, Any]]:
    """Engine reports (CONTRACT.md section 3) of `count` fresh demo runs."""
    workflows = {w.id: w for w in WORKFLOWS}
    demo = DemoRuns(runs=count, days=1, seed=seed, now=datetime.now(UTC))
    reports = []
    for row in demo.chunk(count):
        workflow = workflows[row["workflow_id"]]
        report: dict[str, Any] = {
            "id": row["id"],
            "workflow": {
                "id": workflow.id,
                "source": workflow.source,
                "destination": workflow.destination,
                "name": workflow.name,
            },
            "reference": row["reference"],
            "status": row["status"],
            "started_at": row["started_at"].isoformat(),
            "payload": row["payload"],
            "steps": row["steps"],
            "event_id": f"evt-{row['id']}",
        }
        if row["finished_at"] is not None:
            report["finished_at"] = row["finished_at"].isoformat()
        if row["error_message"] is not None:
            report["error"] = {"message": row["error_message"], "step": row["error_step"]}
        for key in ("skip_reason", "result"):
            if row[key] is not None:
                report[key] = row[key]
        reports.append(report)
    return reports


class Server:
    """`runsbot serve` in a subprocess on 127.0.0.1, port 0, with Slack off."""

    def __init__(self, database: Path, token: str) -> None:
        self.database, self.token = database, token
        self.log = OUT / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    async def __aenter__(self) -> Server:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "RUNSBOT_"))
        }
        env |= {
            "RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            "RUNSBOT_API_TOKEN": self.token,
            "RUNSBOT_HOST": HOST,
            "RUNSBOT_PORT": "0",
            "PYTHONPATH": str(ROOT),
        }
        with self.log.open("wb") as log:
            # cwd is bench/out so that no stray .env in the project changes the settings.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve"],
                cwd=OUT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if match := re.search(rf"listening on http://{re.escape(HOST)}:(\d+)", self.log_text()):
                self.url = f"http://{HOST}:{match[1]}"
                return self
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        await self.__aexit__()
        raise RuntimeError(f"runsbot serve did not start:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    async def __aexit__(self, *_: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


async def post_all(
    session: aiohttp.ClientSession,
    url: str,
    bodies: Sequence[bytes],
    *,
    concurrency: int,
    seconds: float,
    accepted: Callable[[int, bytes], int],
) -> tuple[int, float, list[float], int]:
    """POST the bodies with `concurrency` workers until done or `seconds` pass.

    Returns the requests made, the elapsed seconds, each latency (ms) and the rejections.
    """
    next_body = iter(range(len(bodies)))
    latencies: list[float] = []
    rejected = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal rejected
        for index in next_body:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            async with session.post(url, data=bodies[index]) as response:
                answer = await response.read()
                rejected += accepted(response.status, answer)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), time.perf_counter() - started, latencies, rejected


def single_rejections(status: int, _answer: bytes) -> int:
    return 0 if status in (200, 201) else 1


def batch_rejections(status: int, answer: bytes) -> int:
    if status != 200:
        return BATCH_SIZE
    return sum(
        1 for result in orjson.loads(answer)["results"] if result["status"] not in (200, 201)
    )


async def measure_ingestion(plan: Plan) -> list[IngestFigure]:
    database = OUT / "ingest.db"
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    warmup = 320
    reports = demo_reports(warmup + plan.single_reports + plan.batch_reports, seed=SEED + 1)
    singles = [orjson.dumps(report) for report in reports[: warmup + plan.single_reports]]
    rest = reports[warmup + plan.single_reports :]
    batches = [
        orjson.dumps({"runs": rest[start : start + BATCH_SIZE]})
        for start in range(0, len(rest), BATCH_SIZE)
    ]
    token = secrets.token_urlsafe(24)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    figures = []
    async with (
        Server(database, token) as server,
        aiohttp.ClientSession(
            headers=headers,
            timeout=REQUEST_TIMEOUT,
            connector=aiohttp.TCPConnector(limit=CONCURRENCY),
        ) as session,
    ):
        runs_url = f"{server.url}/api/v1/runs"
        # Warm-up: workflows registered, connections open, code paths hot.
        await post_all(
            session,
            runs_url,
            singles[:warmup],
            concurrency=CONCURRENCY,
            seconds=30,
            accepted=single_rejections,
        )
        for phase, url, bodies, concurrency, per_request, accepted, target in (
            (
                f"one report per request, {CONCURRENCY} at once",
                runs_url,
                singles[warmup:],
                CONCURRENCY,
                1,
                single_rejections,
                SINGLE_TARGET,
            ),
            (
                f"batches of {BATCH_SIZE}, {BATCH_CONCURRENCY} at once",
                f"{runs_url}/batch",
                batches,
                BATCH_CONCURRENCY,
                BATCH_SIZE,
                batch_rejections,
                BATCH_TARGET,
            ),
        ):
            requests, seconds, latencies, rejected = await post_all(
                session,
                url,
                bodies,
                concurrency=concurrency,
                seconds=plan.ingest_seconds,
                accepted=accepted,
            )
            sent = min(requests * per_request, len(reports))
            figures.append(
                IngestFigure(
                    phase=phase,
                    reports=sent,
                    requests=requests,
                    seconds=seconds,
                    per_second=sent / seconds,
                    latency_p50_ms=statistics.median(latencies),
                    latency_p95_ms=percentile(latencies, 0.95),
                    rejected=rejected,
                    target=target,
                )
            )
            print(format_ingest(figures[-1]), flush=True)
    return figures


# --- Output -----------------------------------------------------------------------------------

QUERY_HEADER = (
    f"{'query shape':<36} {'words':<46} {'n':>4} {'median':>8} {'p95':>8} "
    f"{'api med':>8} {'api p95':>8} {'target':>8} {'matched':>8}  result"
)
INGEST_HEADER = (
    f"{'ingestion over HTTP':<36} {'reports':>8} {'requests':>8} {'s':>6} {'reports/s':>10} "
    f"{'p50 ms':>8} {'p95 ms':>8} {'target':>8}  result"
)


def verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def format_query(figure: QueryFigure) -> str:
    words = figure.words if len(figure.words) <= 46 else figure.words[:45] + "…"
    api = [
        f"{value:>6.2f}ms" if value is not None else f"{'-':>8}"
        for value in (figure.api_median_ms, figure.api_p95_ms)
    ]
    return (
        f"{figure.shape:<36} {words:<46} {figure.samples:>4} {figure.median_ms:>6.2f}ms "
        f"{figure.p95_ms:>6.2f}ms {api[0]} {api[1]} {f'<={figure.target_ms:g}ms':>8} "
        f"{f'{figure.matched:,}' + ('' if figure.matched_exact else '+'):>8}  "
        f"{verdict(figure.passed)}"
    )


def format_ingest(figure: IngestFigure) -> str:
    rejected = f" ({figure.rejected} rejected)" if figure.rejected else ""
    return (
        f"{figure.phase:<36} {figure.reports:>8,} {figure.requests:>8,} {figure.seconds:>6.1f} "
        f"{figure.per_second:>10,.0f} {figure.latency_p50_ms:>8.1f} {figure.latency_p95_ms:>8.1f} "
        f"{f'>={figure.target:,.0f}':>8}  {verdict(figure.passed)}{rejected}"
    )


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.machine()}"
    )


# --- Main -------------------------------------------------------------------------------------


def plan_from(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(
            runs=args.runs or 20_000,
            samples=30,
            seconds=1.0,
            single_reports=2_000,
            batch_reports=10_000,
            ingest_seconds=10.0,
        )
    return Plan(
        runs=args.runs or 1_000_000,
        samples=200,
        seconds=5.0,
        single_reports=20_000,
        batch_reports=100_000,
        ingest_seconds=30.0,
    )


async def run(args: argparse.Namespace) -> Results:
    plan = plan_from(args)
    path, now, fill_seconds = await demo_database(plan.runs)
    results = Results(
        machine=machine(),
        runs=plan.runs,
        database=str(path.relative_to(ROOT)),
        database_mib=round(path.stat().st_size / 2**20, 1),
        fill_seconds=fill_seconds,
    )
    print(f"\n{results.machine}")
    print(
        f"{plan.runs:,} demo runs in {results.database} ({results.database_mib:,.0f} MiB"
        + (f", filled in {fill_seconds:.0f} s" if fill_seconds is not None else "")
        + f"), now = {now:%Y-%m-%d %H:%M}Z\n"
    )
    if not args.no_queries:
        store = RunStore.open(f"sqlite+aiosqlite:///{path}")
        try:
            await store.upgrade()
            print(QUERY_HEADER)
            if args.no_api:
                results.queries = await measure_queries(store, now, plan, None, args.only)
            else:
                async with ApiReads(path) as api:
                    results.queries = await measure_queries(store, now, plan, api, args.only)
        finally:
            await store.close()
        print()
    if not args.no_ingest:
        print(f"ingestion: runsbot serve subprocess, fresh SQLite file {OUT.name}/ingest.db")
        print(INGEST_HEADER)
        results.ingestion = await measure_ingestion(plan)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store_bench", description=__doc__)
    parser.add_argument("--runs", type=int, help="demo runs in the store (default 1,000,000)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 20,000 runs unless --runs, short loops"
    )
    parser.add_argument("--no-queries", action="store_true", help="skip the query shapes")
    parser.add_argument("--no-ingest", action="store_true", help="skip ingestion over HTTP")
    parser.add_argument(
        "--no-api", action="store_true", help="skip the query shapes through GET /api/v1/runs"
    )
    parser.add_argument(
        "--only", help="only the query shapes whose name contains this text (e.g. 'g.')"
    )
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    summary = OUT / f"results-{results.runs}.json"
    summary.write_text(json.dumps(asdict(results), indent=2) + "\n")
    failed = [f.shape for f in results.queries if not f.passed] + [
        f.phase for f in results.ingestion if not f.passed
    ]
    print(f"\n{len(failed)} target(s) missed" + (f": {', '.join(failed)}" if failed else ""))
    print(f"figures written to {summary.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
