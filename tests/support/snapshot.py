"""Every row of every table, to prove that a rejected request changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from store.models import Base
from store.run_store import RunStore


async def snapshot(store: RunStore) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = (await connection.execute(select(table))).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables
