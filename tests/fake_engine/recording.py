"""The fake engine's log of requests, and the questions tests ask of it: how many, for which
run, the Nth one (waiting for it, bounded), how fast they came, and what broke the contract."""

from __future__ import annotations

from collections import Counter

from tests.fake_slack.waiting import WAIT_TIMEOUT, wait_until

from .models import Received, Violation


class Recording:
    """Every request received (in arrival order) and every violation seen."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.violations: list[Violation] = []

    def clear(self) -> None:
        self.received = []
        self.violations = []

    def requests(self, url: str | None = None, *, run_id: str | None = None) -> list[Received]:
        """The requests to `url` (any trigger URL when None) about `run_id` (any when None)."""
        return [
            r
            for r in self.received
            if (url is None or r.url == url) and (run_id is None or r.run_id == run_id)
        ]

    def accepted(self, url: str | None = None, *, run_id: str | None = None) -> list[Received]:
        """The requests answered 2xx: the runs the engine took."""
        return [r for r in self.requests(url, run_id=run_id) if r.accepted]

    def count_by_run_id(self, url: str | None = None) -> Counter[str]:
        """How many requests named each run_id: `== {"run_x": 1}` is "sent once"."""
        return Counter(r.run_id for r in self.requests(url) if r.run_id is not None)

    def bodies(self, run_id: str) -> set[bytes]:
        """The distinct raw bodies sent for `run_id`: one when every retry sent the same body."""
        return {r.raw_body for r in self.requests(run_id=run_id)}

    async def wait_for_requests(
        self,
        count: int,
        url: str | None = None,
        *,
        run_id: str | None = None,
        answered: bool = True,
        timeout: float = WAIT_TIMEOUT,
    ) -> list[Received]:
        """Wait (bounded) until `count` matching requests came, and return the first `count`.
        With `answered`, the Nth must also have been answered (a held one never is)."""

        def ready() -> list[Received] | None:
            found = self.requests(url, run_id=run_id)
            if len(found) < count or (answered and found[count - 1].status is None):
                return None
            return found[:count]

        return await wait_until(
            ready,
            timeout=timeout,
            message=lambda: f"{len(self.requests(url, run_id=run_id))} requests, wanted {count}",
        )

    def gaps(self, url: str | None = None) -> list[float]:
        """Seconds between consecutive requests (to one URL when given)."""
        times = [r.received_at for r in self.requests(url)]
        return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]

    def max_in_window(self, url: str | None = None, *, window: float = 1.0) -> int:
        """The most requests that arrived within any `window` seconds: at most
        RUNSBOT_RETRIGGER_RATE (+ a burst, if runsbot allows one) in any second when paced."""
        times = [r.received_at for r in self.requests(url)]
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            most = max(most, end - start + 1)
        return most

    def assert_no_violations(self) -> None:
        """Fail naming each request that broke the contract."""
        lines = [f"{v.url}: {v.problem}" for v in self.violations]
        assert not lines, "the fake engine saw contract violations:\n" + "\n".join(lines)
