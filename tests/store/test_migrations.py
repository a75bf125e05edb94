"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from store.models import Base
from store.run_store import RunStore

# The search index is made by raw DDL in the migration (FTS5 or pg_trgm), not by models.
SEARCH_OBJECTS = ("runs_search", "ix_runs_reference_trgm", "ix_runs_id_trgm")


def _declared(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (name or "").startswith(SEARCH_OBJECTS)


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"include_object": _declared})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(store: RunStore) -> None:
    async with store.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_upgrade_is_idempotent(store: RunStore) -> None:
    await store.upgrade()
    await store.upgrade()
    assert await store.ping()
