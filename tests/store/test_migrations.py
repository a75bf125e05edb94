"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, Connection, inspect

from store.database import is_modelled
from store.models import Base
from store.run_store import RunStore


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"include_object": is_modelled})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(store: RunStore) -> None:
    async with store.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


def _allowed_values(sql: str) -> set[str]:
    """The quoted values a CHECK allows, however the database spells the rest."""
    return set(re.findall(r"'([^']*)'", sql))


def _migrated_checks(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    return {
        str(check["name"]): _allowed_values(check["sqltext"])
        for table in Base.metadata.tables
        for check in inspector.get_check_constraints(table)
    }


async def test_migrations_check_the_values_the_models_allow(store: RunStore) -> None:
    # compare_metadata leaves CHECK constraints out: a value added to a StrEnum
    # (store/types.py) needs a migration as well, and this says so.
    modelled = {
        str(constraint.name): _allowed_values(str(constraint.sqltext))
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    async with store.engine.connect() as connection:
        assert await connection.run_sync(_migrated_checks) == modelled


async def test_upgrade_is_idempotent(store: RunStore) -> None:
    await store.upgrade()
    await store.upgrade()
    assert await store.ping()
