"""A real `runsbot serve` process, as an operator starts it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

RUNSBOT = str(Path(sys.executable).with_name("runsbot"))
# Far from UTC, so that any use of the server's local time shows.
FAR_ZONE = "Pacific/Kiritimati"
_LISTENING = re.compile(r"listening on http://[^:]+:(\d+)")
# Starting is mostly importing aiohttp, SQLAlchemy, Slack's SDK and pydantic: seconds, but
# over 15 s on a busy 2-core machine (two xdist workers, other builds), where a 15 s bound
# failed tests that were right.
START_TIMEOUT = 60.0


@dataclass
class ServeProcess:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_for_line(self, pattern: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no log line matching {pattern!r}; got:\n" + "".join(self.lines))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return code

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def start_reader(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


def serve_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "RUNSBOT_"))
    }
    env.update({"TZ": FAR_ZONE, "RUNSBOT_HOST": "127.0.0.1", "RUNSBOT_PORT": "0"})
    env.update(extra)
    return env


def start_serve(env: Mapping[str, str], cwd: Path, *, wait: bool = True) -> ServeProcess:
    """Start `runsbot serve` and (with `wait`) block until it says where it listens."""
    process = subprocess.Popen(
        [RUNSBOT, "serve"],
        env=serve_env(env),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    serve = ServeProcess(process)
    serve.start_reader()
    if wait:
        try:
            line = serve.wait_for_line(_LISTENING.pattern, timeout=START_TIMEOUT)
        except BaseException:
            serve.stop(signal.SIGKILL)  # never leave a half-started server behind
            raise
        match = _LISTENING.search(line)
        assert match is not None
        serve.port = int(match.group(1))
    return serve


def unused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (as of now): an address Slack is not at."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
