"""The dialect's INSERT that knows ON CONFLICT, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession, model: Any) -> Any:
    """An INSERT into `model` with `on_conflict_do_nothing` / `on_conflict_do_update`."""
    if session.get_bind().dialect.name == "sqlite":
        return sqlite_insert(model)
    return postgresql_insert(model)
