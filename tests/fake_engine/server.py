"""A fake integration engine on 127.0.0.1: trigger URLs that take runsbot's retrigger requests.

It checks each request's signature and body as CONTRACT.md section 5 fixes them (a bad one is
answered 401 or 422 and recorded as a violation), answers as scripted per URL (an outage, a
429/503 with Retry-After, a slow or held answer) or else 202, and can then play the engine's
side: report the new run's outcome to runsbot's run API.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from .faults import Fault, Hang, Slow, Status
from .models import Received, ReportAnswer, Violation
from .recording import Recording
from .reporting import (
    AutoReport,
    Outcome,
    RunsbotApi,
    check_outcome,
    post_report,
    report_body,
)
from .shape import parse_body
from .signing import signature_problem

TRIGGER_PATH = "/trigger"


class FakeEngine(Recording):
    """An engine whose trigger URLs are `trigger_url` and `url_for(workflow_id)`, checking
    signatures keyed with `secret`. `clock` (monotonic) times requests for pacing; `wall_clock`
    (unix seconds) is what timestamps are checked against."""

    def __init__(
        self,
        secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.secret = secret
        self._clock = clock
        self._wall_clock = wall_clock
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0
        self._release = asyncio.Event()
        self.reset()

    def reset(self) -> None:
        """Forget what a test did: requests, violations, scripts, runsbot's address, automatic
        reports. Requests still held (Slow, Hang) are let go with a 503."""
        self.clear()
        self._scripts: dict[str, deque[Fault]] = defaultdict(deque)
        self.runsbot: RunsbotApi | None = None
        self._auto: AutoReport | None = None
        self._reported: set[str] = set()
        # runsbot's answers to every report made, automatic or not, in order.
        self.reports: list[ReportAnswer] = []
        self.release()
        for task in getattr(self, "_tasks", ()):
            task.cancel()
        self._tasks: set[asyncio.Task[None]] = set()

    def release(self) -> None:
        """Answer every request still held (Slow, Hang) at once, with a 503."""
        self._release.set()
        self._release = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(TRIGGER_PATH, self._on_trigger)
        app.router.add_post(TRIGGER_PATH + "/{name}", self._on_trigger)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        self.reset()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("FakeEngine is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def trigger_url(self) -> str:
        """The engine's shared trigger URL (RUNSBOT_TRIGGER_URL)."""
        return self.base_url + TRIGGER_PATH

    def url_for(self, workflow_id: str) -> str:
        """A trigger URL of its own for one workflow (its `trigger_url`)."""
        return f"{self.trigger_url}/{workflow_id}"

    # -- scripting ---------------------------------------------------------------------

    def script(self, url: str, faults: Iterable[Fault]) -> None:
        """Queue the next answers of `url`, in order; after them, normal answers (202)."""
        self._scripts[url].extend(faults)

    def connect(self, base_url: str, token: str) -> None:
        """Where runsbot's run API is, for `report()`: runsbot usually starts after the engine
        (it needs the trigger URL), so it is given here rather than to the constructor."""
        self.runsbot = RunsbotApi(base_url, token)

    def auto_report(self, status: Outcome | None = "finished", *, error: str | None = None) -> None:
        """Report each run the engine accepts as `status` right after accepting it (once per
        run_id; not a run whose sender gave up before the answer); None switches this off.
        runsbot's answers go to `reports`; a refused report is a violation."""
        if status is not None:
            check_outcome(status, error)
        self._auto = None if status is None else AutoReport(status, error)

    async def report(
        self,
        run_id: str,
        *,
        status: Outcome = "finished",
        error: str | None = None,
        workflow_id: str | None = None,
        **extra: Any,
    ) -> ReportAnswer:
        """Report `run_id` to runsbot as a real engine does after accepting its retrigger:
        workflow, reference and payload from the request received for it, then `status`,
        `error` (required when failed) and any other report fields (`steps=`, `result=`...)."""
        if self.runsbot is None or self._session is None:
            raise RuntimeError("call engine.connect(runsbot_url, token) before report()")
        sent = self.requests(run_id=run_id)
        body = report_body(
            run_id,
            sent[-1].body if sent else None,
            status=status,
            error=error,
            workflow_id=workflow_id,
            extra=extra,
        )
        answer = await post_report(self._session, self.runsbot, body)
        self.reports.append(answer)
        return answer

    # -- HTTP --------------------------------------------------------------------------

    async def _on_trigger(self, request: web.Request) -> web.Response:
        raw = await request.read()
        url = self.base_url + request.path
        problem = signature_problem(self.secret, request.headers, raw, now=self._wall_clock())
        body, shape = parse_body(raw)
        received = Received(
            url=url,
            received_at=self._clock(),
            wall_time=self._wall_clock(),
            headers=request.headers,
            raw_body=raw,
            body=body,
            signature_ok=problem is None,
            problem=problem or shape,
        )
        self.received.append(received)
        if received.problem is not None:
            self.violations.append(Violation(url, received.problem))
        queue = self._scripts.get(url)
        fault = received.fault = queue.popleft() if queue else None
        response = await self._answer(received, fault)
        received.status = None if isinstance(fault, Hang) else response.status
        transport = request.transport
        received.abandoned = transport is None or transport.is_closing()
        if received.accepted and not received.abandoned:
            self._after_acceptance(received)
        return response

    async def _answer(self, received: Received, fault: Fault | None) -> web.Response:
        if isinstance(fault, Status):
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return web.json_response(
                {"error": f"scripted {fault.status}"}, status=fault.status, headers=headers
            )
        if isinstance(fault, Slow | Hang):
            release = self._release
            timeout = fault.seconds if isinstance(fault, Slow) else None
            try:
                await asyncio.wait_for(release.wait(), timeout)
            except TimeoutError:
                pass
            else:
                return web.json_response(
                    {"error": "the fake engine let go of this request"}, status=503
                )
        if not received.signature_ok:
            return web.json_response({"error": received.problem}, status=401)
        if received.problem is not None:
            return web.json_response({"error": received.problem}, status=422)
        return web.json_response({"accepted": received.run_id}, status=202)

    def _after_acceptance(self, received: Received) -> None:
        run_id = received.run_id
        if self._auto is None or run_id is None or run_id in self._reported:
            return
        self._reported.add(run_id)
        task = asyncio.create_task(self._auto_report(run_id, self._auto))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _auto_report(self, run_id: str, auto: AutoReport) -> None:
        try:
            answer = await self.report(run_id, status=auto.status, error=auto.error)
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as error:
            self.violations.append(Violation("report", f"{run_id}: {error!r}"))
            return
        if answer.status not in (200, 201):
            self.violations.append(
                Violation("report", f"runsbot answered {answer.status} to {run_id}: {answer.body}")
            )
