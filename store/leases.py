"""Leases: which replica may do a job only one at a time should do (the alert dispatcher)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Lease
from store.upsert import upsert


async def acquire_lease(
    session: AsyncSession, name: str, holder: str, *, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the lease `name` for `holder` unless another holder's is still valid."""
    statement = upsert(session, Lease).values(name=name, holder=holder, expires_at=now + ttl)
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "expires_at": now + ttl},
        where=or_(Lease.holder == holder, Lease.expires_at < now),
    )
    await session.execute(statement)
    return await session.scalar(select(Lease.holder).where(Lease.name == name)) == holder


async def release_lease(session: AsyncSession, name: str, holder: str) -> None:
    """Give the lease up, if `holder` has it, so another process need not wait for it to expire."""
    await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
