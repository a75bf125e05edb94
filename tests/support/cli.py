"""`runsbot …` commands run in a process of their own, without paying its start-up each time.

Starting the `runsbot` script costs seconds, nearly all of it importing aiohttp, SQLAlchemy,
Slack's SDK and pydantic. `run_cli` forks each command from a server process that imported
`bot.cli` once (multiprocessing's forkserver): every command still runs in a fresh process of
its own, with its own environment (`serve_env`, so the far time zone too), working folder,
stdout, stderr and exit code, as the script's `sys.exit(main())` gives them. What it does not
check is the script itself and importing runsbot in that environment: the tests that start
the real `runsbot` (serve, and one of each other command) do.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.process import RUNSBOT, serve_env

_FORKSERVER = multiprocessing.get_context("forkserver")
# Imported once by the server, before any fork: what makes a command quick.
_FORKSERVER.set_forkserver_preload(["bot.cli", "tests.support.cli"])


def run_cli(
    *args: str, env: Mapping[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`runsbot ARGS` with `serve_env(env)` in `cwd`, like `subprocess.run(..., text=True)`."""
    with tempfile.TemporaryDirectory(prefix="runsbot-cli-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        out.touch()
        err.touch()
        child = _FORKSERVER.Process(
            target=_command, args=(list(args), serve_env(env), str(cwd), str(out), str(err))
        )
        child.start()
        child.join(timeout)
        if child.exitcode is None:
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired([RUNSBOT, *args], timeout)
        return subprocess.CompletedProcess(
            [RUNSBOT, *args],
            child.exitcode,
            out.read_text(encoding="utf-8"),
            err.read_text(encoding="utf-8", errors="backslashreplace"),
        )


def _command(args: Sequence[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked process: become `runsbot ARGS` started with `env` in `cwd`, and run it."""
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    os.chdir(cwd)
    for fd, path in ((1, out), (2, err)):
        opened = os.open(path, os.O_WRONLY)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.argv = [RUNSBOT, *args]
    from bot.cli import main

    sys.exit(main())
