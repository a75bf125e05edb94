"""A throw-away PostgreSQL server for the test suite.

``start_postgres(base_dir)`` runs ``initdb`` and ``pg_ctl start`` for a private
cluster listening on 127.0.0.1 on a free port, with durability switched off
(fsync, synchronous_commit, full_page_writes) so that it starts in about a
second and writes cheaply. It creates the database ``runsbot_test``; tests that
need an empty database of their own call ``server.create_database()``.

``initdb`` and ``pg_ctl`` refuse to run as root. As root, every server command
runs through ``runuser -u postgres --`` in a folder the ``postgres`` user owns:
``base_dir`` itself when ``postgres`` can reach it, else (pytest's tmp dirs are
mode 0700 under root) a fresh ``/tmp/runsbot-pg-*`` folder, removed by
``stop()``. As a normal user the commands run directly.

The binaries are looked up with ``pg_config --bindir``, else in the newest
``/usr/lib/postgresql/*/bin`` (Debian's layout); ``.ci/setup`` searches the
same way and installs Debian's ``postgresql`` package when neither has them.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEFAULT_DATABASE",
    "NOT_FOUND_MESSAGE",
    "USER",
    "PostgresServer",
    "asyncpg_dsn",
    "find_postgres_bindir",
    "start_postgres",
]

USER = "runsbot"
DEFAULT_DATABASE = "runsbot_test"
HOST = "127.0.0.1"
NOT_FOUND_MESSAGE = (
    "PostgreSQL server binaries not found: install Debian's postgresql package "
    "(apt-get install -y postgresql) or run: bash .ci/setup"
)
_SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
_DEBIAN_GLOB = "/usr/lib/postgresql/*/bin"
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_START_ATTEMPTS = 3
# A Unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux).
_MAX_SOCKET_DIR = 80


def _has_server_programs(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in _SERVER_PROGRAMS)


def _version_key(path: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin: newest version first, 15 after 9.6.
    version = Path(path).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (-1,)


def find_postgres_bindir(
    pg_config: str | None = "pg_config", search_glob: str = _DEBIAN_GLOB
) -> Path:
    """The folder holding initdb, pg_ctl and postgres, or RuntimeError(NOT_FOUND_MESSAGE).

    ``pg_config --bindir`` first (only when that folder has the server programs:
    libpq-dev's pg_config alone points at client tools), then the newest folder
    matching ``search_glob``.
    """
    if pg_config is not None and (exe := shutil.which(pg_config)) is not None:
        try:
            out = subprocess.run(
                [exe, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and _has_server_programs(Path(out)):
            return Path(out)
    for candidate in sorted(glob.glob(search_glob), key=_version_key, reverse=True):
        if _has_server_programs(Path(candidate)):
            return Path(candidate)
    raise RuntimeError(NOT_FOUND_MESSAGE)


def asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://…`` -> ``postgresql://…``, the form asyncpg.connect takes."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _clean_env() -> dict[str, str]:
    # PG* variables from the caller's shell (PGHOST, PGDATABASE, ...) must not
    # redirect our client commands to some other server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


@dataclass
class PostgresServer:
    """A running throw-away cluster. Superuser ``runsbot``, trust auth, TCP on 127.0.0.1."""

    bindir: Path
    base_dir: Path
    data_dir: Path
    socket_dir: Path
    log_file: Path
    port: int
    as_postgres: bool
    user: str = USER
    database: str = DEFAULT_DATABASE
    _cleanup_dirs: list[Path] = field(default_factory=list, repr=False)
    _stopped: bool = field(default=False, repr=False)
    _counter: itertools.count[int] = field(default_factory=itertools.count, repr=False)

    # -- URLs ---------------------------------------------------------------

    def url_for(self, database: str) -> str:
        """SQLAlchemy async URL of one database on this server."""
        return f"postgresql+asyncpg://{self.user}@{HOST}:{self.port}/{database}"

    @property
    def url(self) -> str:
        """``postgresql+asyncpg://runsbot@127.0.0.1:PORT/runsbot_test``."""
        return self.url_for(self.database)

    @property
    def admin_url(self) -> str:
        """The same superuser on the ``postgres`` maintenance database."""
        return self.url_for("postgres")

    @property
    def dsn(self) -> str:
        """``url`` in the plain ``postgresql://`` form asyncpg.connect and psql take."""
        return asyncpg_dsn(self.url)

    @property
    def admin_dsn(self) -> str:
        return asyncpg_dsn(self.admin_url)

    # -- databases ----------------------------------------------------------

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL command with psql (autocommit, stops on error); returns stdout."""
        result = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                HOST,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            env=_clean_env(),
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({sql!r}): {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str | None = None) -> str:
        """CREATE DATABASE (a unique ``t_…`` name when none is given); returns its URL.

        Each call gives a fresh, empty database to migrate, so test modules
        never see each other's tables.
        """
        if name is None:
            name = f"t_{next(self._counter)}_{uuid.uuid4().hex[:8]}"
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"database name must match {_DB_NAME.pattern}: {name!r}")
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE … WITH (FORCE): closes any connection still open to it."""
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"database name must match {_DB_NAME.pattern}: {name!r}")
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # -- life cycle ---------------------------------------------------------

    def stop(self) -> None:
        """``pg_ctl stop -m immediate``; idempotent. Removes the folders it made itself (in the
        background)."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        try:
            _run(
                self,
                [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate"],
                check=False,
            )
        finally:
            _remove_in_background(self._cleanup_dirs)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _remove_in_background(paths: Sequence[Path]) -> None:
    """Remove the folders without waiting: a cluster that held a database per test is tens of
    thousands of files, which took 25-70 s to remove at the end of a run on a busy machine.
    `rm` runs on after the tests end (the shell that starts it is waited for, not `rm`)."""
    if not paths:
        return
    subprocess.run(
        ["sh", "-c", 'rm -rf -- "$@" >/dev/null 2>&1 &', "sh", *map(str, paths)],
        check=False,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        timeout=60,
    )


def _command(as_postgres: bool, argv: Sequence[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if as_postgres else list(argv)


def _run(
    server: PostgresServer | None,
    argv: Sequence[str],
    *,
    as_postgres: bool | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    if as_postgres is None:
        as_postgres = server.as_postgres if server is not None else False
    if cwd is None and server is not None:
        cwd = server.base_dir
    result = subprocess.run(
        _command(as_postgres, argv),
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=cwd,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}".rstrip()
        )
    return result


def _postgres_can_write(path: Path) -> bool:
    probe = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-w", str(path), "-a", "-x", str(path)],
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return probe.returncode == 0


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def _prepare_base_dir(base_dir: Path, as_postgres: bool) -> tuple[Path, list[Path]]:
    """The folder the cluster lives in, and the folders stop() must remove."""
    base_dir.mkdir(parents=True, exist_ok=True)
    if not as_postgres:
        return base_dir, []
    import pwd

    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root needs the 'postgres' system user to run initdb/pg_ctl: "
            + NOT_FOUND_MESSAGE
        ) from None
    if shutil.which("runuser") is None:
        raise RuntimeError("running as root needs runuser (util-linux) to run initdb/pg_ctl")
    _chown_tree(base_dir, pw.pw_uid, pw.pw_gid)
    if _postgres_can_write(base_dir):
        return base_dir, []
    # pytest's tmp dirs sit under a 0700 root folder: postgres cannot reach them.
    own = Path(tempfile.mkdtemp(prefix="runsbot-pg-", dir="/tmp"))
    own.chmod(0o755)
    os.chown(own, pw.pw_uid, pw.pw_gid)
    return own, [own]


def _initdb(bindir: Path, data_dir: Path, base_dir: Path, as_postgres: bool) -> None:
    common = [
        str(bindir / "initdb"),
        "-D",
        str(data_dir),
        "-U",
        USER,
        "--auth=trust",
        "--encoding=UTF8",
        "--no-sync",
    ]
    # C.UTF-8 classifies non-ASCII letters (pg_trgm, lower()); --no-locale is the fallback.
    first = _run(
        None, [*common, "--locale=C.UTF-8"], as_postgres=as_postgres, cwd=base_dir, check=False
    )
    if first.returncode == 0:
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    _run(None, [*common, "--no-locale"], as_postgres=as_postgres, cwd=base_dir)


def start_postgres(base_dir: Path) -> PostgresServer:
    """Start a fresh cluster under ``base_dir`` and create ``runsbot_test``.

    Raises RuntimeError(NOT_FOUND_MESSAGE) when the server binaries are missing.
    Call ``stop()`` when done (it is also registered with atexit).
    """
    bindir = find_postgres_bindir()
    as_postgres = os.geteuid() == 0
    home, cleanup = _prepare_base_dir(Path(base_dir).resolve(), as_postgres)
    data_dir = home / "data"
    if data_dir.exists():
        raise RuntimeError(f"{data_dir} already exists: give start_postgres an empty folder")

    socket_dir = home / "sock"
    if len(str(socket_dir)) > _MAX_SOCKET_DIR:
        socket_dir = Path(tempfile.mkdtemp(prefix="rpg-", dir="/tmp"))
        cleanup.append(socket_dir)
    socket_dir.mkdir(mode=0o755, exist_ok=True)
    if as_postgres:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(socket_dir, pw.pw_uid, pw.pw_gid)

    try:
        _initdb(bindir, data_dir, home, as_postgres)
        server: PostgresServer | None = None
        for attempt in range(_START_ATTEMPTS):
            log_file = home / f"postgres-{attempt}.log"
            server = PostgresServer(
                bindir=bindir,
                base_dir=home,
                data_dir=data_dir,
                socket_dir=socket_dir,
                log_file=log_file,
                port=_free_port(),
                as_postgres=as_postgres,
            )
            options = (
                f"-c listen_addresses={HOST} -p {server.port} -k {socket_dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            started = _run(
                server,
                [
                    str(bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(data_dir),
                    "-l",
                    str(log_file),
                    "-o",
                    options,
                ],
                check=False,
            )
            if started.returncode == 0:
                break
            tail = server.log_tail()
            # Another process took the port between _free_port() and bind: retry.
            if "could not bind" in tail or "already in use" in tail:
                continue
            raise RuntimeError(
                f"pg_ctl start failed ({started.returncode}):\n"
                f"{started.stdout}{started.stderr}\n--- {log_file} ---\n{tail}"
            )
        else:
            raise RuntimeError(f"pg_ctl start: no free port after {_START_ATTEMPTS} attempts")
        assert server is not None
    except BaseException:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
        raise

    server._cleanup_dirs = cleanup
    atexit.register(server.stop)
    try:
        server.create_database(DEFAULT_DATABASE)
    except BaseException:
        server.stop()
        raise
    return server
