"""SQL pieces that differ between PostgreSQL and SQLite, for the report queries.

Days and months are the organisation's (setting `timezone`): PostgreSQL converts with
`timezone(zone, ts)`; SQLite has no time zones, so each connection gets a small deterministic
function `fc_local(ts, zone)` (registered on first use) that does the same conversion with the
zone database — DST-correct, unlike a fixed offset. Either way the bucketing runs inside the
database, in the GROUP BY.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import String, Uuid, cast, func, literal_column, text, type_coerce
from sqlalchemy.dialects import postgresql

from server.common.db import UTCDateTime
from server.extensions import db


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _fc_local(value, zone: str):
    """UTC as SQLite stores it ('YYYY-MM-DD HH:MM:SS[.ffffff]') -> local 'YYYY-MM-DD HH:MM:SS'."""
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value)).replace(tzinfo=timezone.utc)
    return moment.astimezone(_zone(zone)).strftime("%Y-%m-%d %H:%M:%S")


def dialect() -> str:
    return db.session.get_bind().dialect.name


def prepare_connection() -> None:
    """PostgreSQL: no JIT for this transaction. SQLite: register `fc_local` on this request's
    connection (cheap and idempotent)."""
    if dialect() == "postgresql":
        # For this transaction only (is_local), in one round trip:
        # - jit off: JIT compiling these aggregates costs more (100+ ms) than it saves here;
        # - work_mem: group and sort tens of thousands of rows in memory, not in temporary files;
        # - no parallel workers (each repeated the whole hash aggregate; tried and rejected);
        # - random_page_cost 1.1: on a server set up as docs/operations.md says, the report
        #   tables and their covering indexes are in memory, where an index-only scan in
        #   customer order (streaming GroupAggregate) beats the seq scan + hash table of 100,000
        #   groups that the disk-era default of 4 picks: visits_this_year 770-950 -> ~500 ms
        #   under EXPLAIN ANALYZE for an admin.
        db.session.execute(text("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true), "
                                "set_config('max_parallel_workers_per_gather', '0', true), "
                                "set_config('random_page_cost', '1.1', true)"))
        return
    if dialect() != "sqlite":
        return
    raw = db.session.connection().connection.driver_connection
    raw.create_function("fc_local", 2, _fc_local, deterministic=True)


def local_month(ts, zone: str, name: str):
    """'YYYY-MM' of a UTC timestamp column in the organisation's zone."""
    if name == "postgresql":
        return func.to_char(func.timezone(zone, ts), "YYYY-MM")
    return func.substr(func.fc_local(ts, zone), 1, 7)


def local_date(ts, zone: str, name: str):
    """'YYYY-MM-DD' of a UTC timestamp column in the organisation's zone."""
    if name == "postgresql":
        return func.to_char(func.timezone(zone, ts), "YYYY-MM-DD")
    return func.substr(func.fc_local(ts, zone), 1, 10)


def date_month(col, name: str):
    """'YYYY-MM' of a DATE column (already a calendar date in the organisation's zone)."""
    if name == "postgresql":
        return func.to_char(col, "YYYY-MM")
    return func.substr(col, 1, 7)


def uuid_from_text(expr, name: str):
    """A UUID kept as text (audit entity ids, ids inside JSON) comparable with a Uuid column:
    PostgreSQL casts to uuid; SQLite stores Uuid columns as 32 hex digits without dashes."""
    if name == "postgresql":
        return cast(expr, postgresql.UUID(as_uuid=True))
    return type_coerce(func.replace(expr, "-", ""), Uuid)


def plus_days(ts, days, name: str):
    """A UTC timestamp column plus an integer SQL expression of days, as an aware datetime."""
    if name == "postgresql":
        return type_coerce(ts + days * literal_column("interval '1 day'"), UTCDateTime())
    return type_coerce(func.strftime("%Y-%m-%d %H:%M:%f", ts, "+" + cast(days, String) + " days"),
                       UTCDateTime())
