"""Alembic runs on the connection store.database.upgrade() hands it (async engines)."""

from __future__ import annotations

from alembic import context

from store.database import is_modelled
from store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `runsbot db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    include_object=is_modelled,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
