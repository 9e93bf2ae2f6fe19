"""Sync bookkeeping: clients, stored results, kept rejections, visibility snapshots."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, utcnow


class SyncClient(Base):
    """One install of the app. It belongs to one user for ever (SPEC §12 Identity)."""

    __tablename__ = "sync_clients"

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    last_mutation_id: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_push_at: Mapped[datetime | None] = mapped_column()
    last_pull_at: Mapped[datetime | None] = mapped_column()
    user_agent: Mapped[str | None] = mapped_column(String(300))


class SyncResult(Base):
    """The answer given to a processed mutation, returned again (as `replayed`) on retries."""

    __tablename__ = "sync_results"

    client_id: Mapped[str] = mapped_column(String(36), ForeignKey("sync_clients.client_id"), primary_key=True)
    mutation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncRejection(Base):
    """A rejected mutation, kept until its author retries or discards it."""

    __tablename__ = "sync_rejections"
    __table_args__ = (Index("ix_sync_rejections_open", "user_id", "resolved_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[str] = mapped_column(String(36), ForeignKey("sync_clients.client_id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    mutation_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[dict[str, Any]] = mapped_column(JSON)
    # ids the mutation would have created, and the first rejected mutation of the chain
    created_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    root_mutation_id: Mapped[int] = mapped_column(BigInteger)
    client_time: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolution: Mapped[str | None] = mapped_column(String(16))  # discarded | retried


class SyncCreatedId(Base):
    """Ids a rejected mutation would have created (for `dependency_rejected` look-ups)."""

    __tablename__ = "sync_created_ids"

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rejection_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("sync_rejections.id"), index=True)


class SyncSnapshot(Base):
    """The visibility scope a client was brought up to date with at the end of a pull run."""

    __tablename__ = "sync_snapshots"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[str] = mapped_column(String(36), ForeignKey("sync_clients.client_id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
