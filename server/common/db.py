"""Declarative base, column types and the global version counter.

Every synced row carries `version`, taken from one counter row in the writing transaction
(SPEC §12). Bumping that row locks it until commit, so versions commit in the order they
were handed out: a pull that has seen version V has seen every change numbered <= V.
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, DateTime, MetaData, String, event, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, registry, scoped_session
from sqlalchemy.types import JSON, TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7), as the phones generate them."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()},
    )


class Versioned:
    """Mixin for rows the phones sync: `version` is set from the global counter on flush."""

    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, index=True)


class Sequence(Base):
    """Named counters: the global sync version and the yearly customer-code sequences."""

    __tablename__ = "sequences"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


SYNC_VERSION = "sync_version"


def next_value(session: Session, name: str) -> int:
    """Atomically increment a named counter inside the caller's transaction.

    The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) and keeps it until
    the transaction ends, so two transactions can never get the same number.
    """
    conn = session.connection()
    bump = update(Sequence).where(Sequence.name == name).values(value=Sequence.value + 1).returning(Sequence.value)
    # UPDATE first: the row exists on every call but the first of its name, and an
    # INSERT … ON CONFLICT on every call would queue on the same row lock a second time.
    value = conn.execute(bump).scalar()
    if value is not None:
        return value
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(Sequence).values(name=name, value=0).on_conflict_do_nothing())
    return conn.execute(bump).scalar_one()


def current_value(session: Session, name: str) -> int:
    return session.execute(select(Sequence.value).where(Sequence.name == name)).scalar() or 0


_VERSION_KEY = "fieldcrm.version"


def transaction_version(session: Session) -> int:
    """The version of the current transaction's writes: taken once, on the first write."""
    if isinstance(session, scoped_session):
        session = session()
    tx = session.get_transaction()
    cached = session.info.get(_VERSION_KEY)
    if cached and cached[1] is tx:
        return cached[0]
    value = next_value(session, SYNC_VERSION)
    session.info[_VERSION_KEY] = (value, tx)
    return value


def written_version(session: Session) -> int | None:
    """The version this transaction wrote with, or None if it has written nothing versioned."""
    if isinstance(session, scoped_session):
        session = session()
    cached = session.info.get(_VERSION_KEY)
    return cached[0] if cached and cached[1] is session.get_transaction() else None


@event.listens_for(Session, "before_flush")
def _stamp_versions(session: Session, flush_context, instances) -> None:
    touched = [o for o in session.new if isinstance(o, Versioned)]
    touched += [o for o in session.dirty if isinstance(o, Versioned) and session.is_modified(o)]
    if not touched:
        return
    version = transaction_version(session)
    for obj in touched:
        obj.version = version


@event.listens_for(Session, "after_soft_rollback")
def _forget_version(session: Session, previous_transaction) -> None:
    # A rolled-back savepoint also rolls back its counter bump: take a fresh number next time.
    session.info.pop(_VERSION_KEY, None)


def sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL for concurrent readers, a busy timeout instead of instant 'database is locked',
    foreign keys enforced; transactions are begun by `sqlite_begin` below."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sqlite_begin(conn) -> None:
    """Writers begin IMMEDIATE so they queue on the write lock at BEGIN (honouring the busy
    timeout) instead of failing with SQLITE_BUSY when a read transaction later tries to write."""
    from server.common.context import write_intent

    conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def install_engine_hooks(engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
        event.listen(engine, "begin", sqlite_begin)


def advisory_lock(session: Session, key: int) -> bool:
    """A transaction-scoped lock for jobs that must run on one host at a time."""
    if session.connection().dialect.name == "postgresql":
        return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar())
    return True  # SQLite: the immediate write transaction already excludes other writers.
