"""Declarative base, column types and the global version counter.

Every synced row carries `version`, taken from one counter row in the writing transaction
(SPEC §12). Bumping that row locks it until commit, so versions commit in the order they
were handed out: a pull that has seen version V has seen every change numbered <= V.

On PostgreSQL the bump is the transaction's last step: its rows carry a private placeholder
until `finalize_version` (just before COMMIT) stamps the real number on them, so the counter is
held for a few UPDATEs and the COMMIT rather than for the whole mutation, and phones' mutations
run side by side. SQLite runs one writer at a time anyway and bumps on the first write.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, DateTime, MetaData, String, event, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, registry, scoped_session
from sqlalchemy.orm.attributes import set_committed_value
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
    return _bump(session.connection(), name)


def _bump(conn, name: str) -> int:
    bump = update(Sequence).where(Sequence.name == name).values(value=Sequence.value + 1).returning(Sequence.value)
    # UPDATE first: the row exists on every call but the first of its name, and an
    # INSERT … ON CONFLICT on every call would queue on the same row lock a second time.
    value = conn.execute(bump).scalar()
    if value is not None:
        return value
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(Sequence).values(name=name, value=0).on_conflict_do_nothing())
    return conn.execute(bump).scalar_one()


def allocate_value(session: Session, name: str) -> int:
    """A number from a named counter that is not given back if the caller rolls back.

    PostgreSQL: taken in a short transaction of its own, like a database sequence, so the
    counter row is locked for one UPDATE instead of until the caller's COMMIT — a counter
    every `customer.create` takes (the yearly customer code, R-C3) would otherwise make every
    phone's customer creation wait for the one before it to finish its whole mutation. The
    price is a gap in the numbers when a creation is rejected after it got its number (as
    with sequences and commercial CRMs' auto-numbers). SQLite runs one writer at a time
    anyway: there the number is taken in the caller's transaction, without gaps."""
    if not _deferred(session):
        return next_value(session, name)
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with engine.connect() as conn:  # its own connection and transaction, committed at once
        value = _bump(conn, name)
        conn.commit()
    return value


def current_value(session: Session, name: str) -> int:
    return session.execute(select(Sequence.value).where(Sequence.name == name)).scalar() or 0


_VERSION_KEY = "fieldcrm.version"
_PLACEHOLDER_KEY = "fieldcrm.version.placeholder"


def _root(session: Session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def _deferred(session: Session) -> bool:
    """PostgreSQL takes the counter at the end of the transaction (see `finalize_version`).

    SQLite already runs one writer at a time (BEGIN IMMEDIATE), so there the counter is simply
    taken at the first write."""
    return session.get_bind().dialect.name == "postgresql"


def transaction_version(session: Session) -> int:
    """The version of the current transaction's writes.

    On SQLite: taken from the counter once, on the first write. On PostgreSQL: a placeholder
    (a negative number unique to this transaction, never seen by any pull: pulls ask for
    versions above a cookie's, all positive) until `finalize_version` swaps it for the real one
    just before COMMIT — so the counter row is locked for a few UPDATEs and the COMMIT instead
    of the whole mutation, and concurrent mutations of different phones run side by side."""
    session = _root(session)
    tx = session.get_transaction()
    cached = session.info.get(_VERSION_KEY)
    if cached and cached[1] is tx:
        return cached[0]
    if _deferred(session):
        placeholder = session.info.get(_PLACEHOLDER_KEY)
        if placeholder and placeholder[1] is tx:
            return placeholder[0]
        value = -secrets.randbits(62) - 1
        # (value, root transaction, the (nested) transaction it was first written in)
        session.info[_PLACEHOLDER_KEY] = (value, tx, session.get_nested_transaction() or tx)
        return value
    value = next_value(session, SYNC_VERSION)
    session.info[_VERSION_KEY] = (value, tx)
    return value


def _versioned_tables() -> list:
    return [t for t in Base.metadata.sorted_tables if "version" in t.c]


_STAMP_SQL: list = []


def _stamp_statement():
    """One statement that bumps the counter and stamps its number on every row this transaction
    wrote with its placeholder, in all versioned tables (an index probe each; services also
    write versioned rows with core UPDATEs, so no table is skipped). One round trip, because
    the counter row stays locked from here to COMMIT and every other writer waits for it:
    with one UPDATE per table, each round trip (and each wait of this thread for the GIL
    after it) was paid while holding the counter."""
    if not _STAMP_SQL:
        # (`FROM bumped`: when the counter row does not exist yet, nothing is stamped)
        parts = [f"{table.name}_stamped AS (UPDATE {table.name} SET version = bumped.value FROM bumped "
                 f"WHERE {table.name}.version = :marker)" for table in _versioned_tables()]
        _STAMP_SQL.append(text(
            f"WITH bumped AS (UPDATE {Sequence.__tablename__} SET value = value + 1 "
            f"WHERE name = '{SYNC_VERSION}' RETURNING value), " + ", ".join(parts) +
            " SELECT value FROM bumped"))
    return _STAMP_SQL[0]


_BEFORE_VERSION: list = []


def before_version(hook, last: bool = False) -> None:
    """Register `hook(session)` to run when a transaction's work is done, before it takes its
    sync version (PostgreSQL: before the counter row is locked) and before COMMIT on every
    database: the place for derived rows and checks that belong to the transaction. Nothing
    may run between the counter and COMMIT but the stamping: a query there makes every other
    writer wait, and a row lock there could deadlock. `last`: after the other hooks (for one
    that sums up what they wrote)."""
    if all(h is not hook for h, _ in _BEFORE_VERSION):
        _BEFORE_VERSION.append((hook, last))
        _BEFORE_VERSION.sort(key=lambda entry: entry[1])


def _run_before_version(session: Session) -> None:
    for hook, _last in list(_BEFORE_VERSION):
        hook(session)


def finalize_version(session: Session) -> int | None:
    """Take the real version for this transaction's writes (PostgreSQL) and stamp it on every
    row written with the placeholder; the counter row stays locked until COMMIT, so versions
    still commit in the order they are handed out (SPEC §12). Call it only when the
    transaction's work is done (the last step before storing a result and committing): after
    it, this transaction waits on no other row lock, so taking the counter last cannot
    deadlock. Idempotent; returns the version, or None if nothing versioned was written."""
    session = _root(session)
    tx = session.get_transaction()
    cached = session.info.get(_VERSION_KEY)
    if cached and cached[1] is tx:
        return cached[0]
    session.flush()
    _run_before_version(session)
    placeholder = session.info.get(_PLACEHOLDER_KEY)
    if not placeholder or placeholder[1] is not tx:
        return None
    marker = placeholder[0]
    conn = session.connection()
    value = conn.execute(_stamp_statement(), {"marker": marker}).scalar()
    if value is None:  # the counter's very first use: create its row, then stamp
        conn.execute(pg_insert(Sequence).values(name=SYNC_VERSION, value=0).on_conflict_do_nothing())
        value = conn.execute(_stamp_statement(), {"marker": marker}).scalar_one()
    # The ORM copies of those rows learn the new number without another UPDATE.
    for obj in list(session.identity_map.values()):
        if obj.__dict__.get("version") == marker:
            set_committed_value(obj, "version", value)
    session.info[_VERSION_KEY] = (value, tx)
    return value


def written_version(session: Session) -> int | None:
    """The version this transaction wrote with, or None if it has written nothing versioned
    (on PostgreSQL this takes the real version: call it at the end of the work)."""
    session = _root(session)
    if _deferred(session):
        return finalize_version(session)
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


@event.listens_for(Session, "before_commit")
def _finalize_on_commit(session: Session) -> None:
    # Request handlers, jobs and commands commit without asking: their placeholder rows get
    # the real version here, as the last thing before COMMIT. (before_commit runs before the
    # commit's own flush, so flush first: that is where pending rows get the placeholder.)
    _run_before_version(session)
    if not _deferred(session):
        return
    session.flush()
    placeholder = session.info.get(_PLACEHOLDER_KEY)
    if placeholder and placeholder[1] is session.get_transaction():
        finalize_version(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_version(session: Session, previous_transaction) -> None:
    # A rolled-back savepoint also rolls back its counter bump: take a fresh number next time.
    # (A placeholder stays: rows written before the savepoint still carry it.)
    session.info.pop(_VERSION_KEY, None)
    # A placeholder first handed out inside the rolled-back savepoint names no row any more (a
    # rejected mutation's effects): forget it, so the commit takes no version for nothing.
    placeholder = session.info.get(_PLACEHOLDER_KEY)
    if placeholder is not None:
        issued = placeholder[2]
        while issued is not None and issued is not previous_transaction:
            issued = issued.parent
        if issued is previous_transaction:
            session.info.pop(_PLACEHOLDER_KEY, None)


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


def content_lock(session: Session, sha256: str) -> None:
    """Serialise the writers of one piece of content (a photo or attachment hash) until COMMIT.

    An upload and a record naming the same bytes must not miss each other: whichever comes
    second sees the first committed (the upload then re-checks the record, or the record finds
    the bytes). Take it before any row lock, in sorted hash order when there are several, so it
    cannot be part of a lock cycle. SQLite: its one writer at a time already serialises them."""
    if session.connection().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"content:" + sha256.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def advisory_lock(session: Session, key: int) -> bool:
    """A transaction-scoped lock for jobs that must run on one host at a time."""
    if session.connection().dialect.name == "postgresql":
        return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar())
    return True  # SQLite: the immediate write transaction already excludes other writers.
