"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from store.database import is_modelled
from store.models import Base
from store.run_store import RunStore


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"include_object": is_modelled})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(store: RunStore) -> None:
    async with store.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_upgrade_is_idempotent(store: RunStore) -> None:
    await store.upgrade()
    await store.upgrade()
    assert await store.ping()
