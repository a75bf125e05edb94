"""The throw-away PostgreSQL server the test suite runs against (tests/support/postgres.py)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import asyncpg
import pytest

from tests.support.postgres import (
    NOT_FOUND_MESSAGE,
    asyncpg_dsn,
    find_postgres_bindir,
    start_postgres,
)

pytestmark = pytest.mark.postgres


def test_missing_binaries_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as excinfo:
        find_postgres_bindir(pg_config=None, search_glob=str(tmp_path / "none" / "*" / "bin"))
    assert str(excinfo.value) == NOT_FOUND_MESSAGE
    assert "apt-get install -y postgresql" in NOT_FOUND_MESSAGE
    assert "bash .ci/setup" in NOT_FOUND_MESSAGE


def test_asyncpg_dsn() -> None:
    assert asyncpg_dsn("postgresql+asyncpg://u@127.0.0.1:5/db") == "postgresql://u@127.0.0.1:5/db"


async def test_server_starts_serves_and_stops(tmp_path: Path) -> None:
    started = time.monotonic()
    server = start_postgres(tmp_path / "pg")
    startup = time.monotonic() - started
    try:
        assert server.url == f"postgresql+asyncpg://runsbot@127.0.0.1:{server.port}/runsbot_test"
        assert server.admin_url.endswith(f"127.0.0.1:{server.port}/postgres")
        assert startup < 30, f"startup took {startup:.1f}s"

        conn = await asyncpg.connect(asyncpg_dsn(server.url))
        try:
            version = await conn.fetchval("select version()")
            assert version.startswith("PostgreSQL ")
            assert await conn.fetchval("select current_database()") == "runsbot_test"
            assert await conn.fetchval("show fsync") == "off"
            assert await conn.fetchval("show server_encoding") == "UTF8"
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            assert await conn.fetchval("select similarity('runsbot', 'runsbot')") == 1.0
        finally:
            await conn.close()

        other_url = server.create_database()
        other_name = other_url.rsplit("/", 1)[1]
        assert other_name != "runsbot_test"
        conn = await asyncpg.connect(asyncpg_dsn(other_url))
        try:
            assert await conn.fetchval("select current_database()") == other_name
            # A fresh database is empty: nothing from runsbot_test leaks into it.
            assert (
                await conn.fetchval("select count(*) from pg_extension where extname='pg_trgm'")
                == 0
            )
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        finally:
            await conn.close()
        server.create_database("named_one")
        server.drop_database("named_one")
        with pytest.raises(ValueError):
            server.create_database('bad"; drop')
    finally:
        server.stop()

    # Stopped: nothing listens on the port any more, and stop() is idempotent.
    with socket.socket() as sock:
        sock.settimeout(1)
        assert sock.connect_ex(("127.0.0.1", server.port)) != 0
    server.stop()
