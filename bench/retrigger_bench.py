"""The retrigger request path: `RunStore.request_retrigger` on a fresh SQLite file (or
--database-url), one call at a time, each retriggering another failed run.

    .venv/bin/python -m bench.retrigger_bench [--calls 100] [--runs 10000]

The store first gets `--runs` failed runs (one report batch each 1,000), so the new run,
the outbox row and the audit note go into tables that are not empty. Each call is one
transaction: the new run, the retriggers row, the note, the original's alerts marked stale.
Then all calls again at once (asyncio.gather over 20 runs each retriggered 5 times at once):
one wins per run, the others are told the winner.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from store.errors import RetriggerInFlight
from store.records import RetriggerRouting
from store.reports import RunReport
from store.run_store import RunStore

WORKFLOW = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}


def failed(n: int) -> RunReport:
    return RunReport.model_validate(
        {
            "id": f"run_bench_{n}",
            "workflow": WORKFLOW,
            "reference": f"ACME Corp — deal {n}",
            "status": "failed",
            "error": {"message": "504 Gateway Timeout", "step": "Create opportunity"},
            "payload": {"deal_id": n, "amount": 1000 + n, "owner": "Zoë Müller"},
        }
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(url: str, calls: int, runs: int) -> None:
    routing = RetriggerRouting(default_trigger_url="http://127.0.0.1:9/trigger", can_sign=True)
    store = RunStore.open(url, retrigger_routing=routing)
    await store.upgrade()
    for start in range(0, runs, 1000):
        await store.report_runs([failed(n) for n in range(start, min(runs, start + 1000))])
    await store.request_retrigger("run_bench_0", requested_by="bench")  # warm-up
    times = []
    for n in range(1, calls + 1):
        started = time.perf_counter()
        await store.request_retrigger(f"run_bench_{n}", requested_by="bench")
        times.append((time.perf_counter() - started) * 1000)
    print(
        f"{calls} request_retrigger calls one at a time over {runs:,} runs ({store.dialect}): "
        f"p50 {statistics.median(times):.2f} ms, p95 {percentile(times, 0.95):.2f} ms, "
        f"max {max(times):.2f} ms"
    )
    targets = [f"run_bench_{n}" for n in range(calls + 1, calls + 21)]
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *(
            store.request_retrigger(run_id, requested_by=f"bench-{k}")
            for run_id in targets
            for k in range(5)
        ),
        return_exceptions=True,
    )
    elapsed = (time.perf_counter() - started) * 1000
    refused = sum(isinstance(outcome, RetriggerInFlight) for outcome in outcomes)
    failed_calls = [o for o in outcomes if isinstance(o, BaseException)]
    assert refused == len(failed_calls), failed_calls
    print(
        f"{len(outcomes)} at once (20 runs x 5): {len(outcomes) - refused} made, "
        f"{refused} told the winner, {elapsed:.0f} ms in all"
    )
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(run(args.database_url, args.calls, args.runs))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'retriggers.db'}"
        asyncio.run(run(url, args.calls, args.runs))


if __name__ == "__main__":
    main()
