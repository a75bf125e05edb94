"""The engine for RUNSBOT_DATABASE_URL, and the schema migrations that shape it."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from store.errors import DatabaseUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
# The search index is raw DDL in migration 0001 (FTS5 or pg_trgm), unknown to the models.
SEARCH_OBJECTS = ("runs_search", "ix_runs_reference_trgm", "ix_runs_id_trgm")


def is_modelled(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
    """Alembic's include_object: everything but the search index."""
    return not (name or "").startswith(SEARCH_OBJECTS)


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine; on SQLite with WAL, a busy timeout and foreign keys on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(parsed, pool_pre_ping=True, **options)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; NORMAL is durable across
    # process crashes (only an OS crash may lose the last commits).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@dataclass(frozen=True)
class SchemaUpgrade:
    """What `upgrade` found and left: the schema's revision before (None: there was no
    schema) and after."""

    before: str | None
    after: str | None


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> SchemaUpgrade:
    before = _revision(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    return SchemaUpgrade(before, _revision(connection))


async def upgrade(engine: AsyncEngine, revision: str = "head") -> SchemaUpgrade:
    """Create or migrate the schema to `revision` (the newest by default); safe to run at
    every start. Says which revision the schema was at and is at now. On any failure the
    engine is disposed and DatabaseUnavailable raised, from the original error."""
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(_upgrade, revision)
    except Exception as error:
        await engine.dispose()
        await _aiosqlite_threads_ended()
        reason = error.orig if isinstance(error, DBAPIError) else error
        first_line = (str(reason).strip() or type(reason).__name__).splitlines()[0]
        raise DatabaseUnavailable(first_line) from error


async def _aiosqlite_threads_ended(timeout: float = 2.0) -> None:
    """aiosqlite closes a connection that failed to open on the connection's own thread, which
    then answers on this event loop: wait for it, or it answers a closed loop (a traceback
    printed at exit). Its threads are the ones named after their target."""
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, timeout)
