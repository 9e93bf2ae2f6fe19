"""Health of one app server: the database answers, the schema matches the code, the version.

Load balancers and monitoring poll this often and without credentials, so the check is cheap
(one `SELECT 1` on a connection of its own, never the request's session) and bounded: a
database that does not answer within `TIMEOUT_S` counts as down instead of holding a worker.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import lru_cache
from importlib import metadata

from sqlalchemy import text

from server.common import context
from server.common.errors import AppError
from server.extensions import db

log = logging.getLogger("fieldcrm.health")

TIMEOUT_S = 3.0
# Two threads at most: a hung database makes later checks time out too rather than piling up
# one stuck thread per poll.
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fieldcrm-health")
# Its own thread for the rate-limit storage, so a hung Redis never delays the database probe.
_limits_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldcrm-health-limits")


class Unavailable(AppError):
    status, code = 503, "unavailable"


@lru_cache(maxsize=1)
def app_version() -> str:
    try:
        return metadata.version("fieldcrm")
    except metadata.PackageNotFoundError:  # running from a tree that was never pip-installed
        return "unknown"


@lru_cache(maxsize=1)
def _script():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from server import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    return ScriptDirectory.from_config(config)


def _probe(engine) -> dict:
    """SELECT 1 and the database's Alembic revision, on a fresh pool connection."""
    from alembic.runtime.migration import MigrationContext

    # A read: on SQLite this begins a plain (not IMMEDIATE) transaction, so the probe never queues
    # behind a writer. The executor's threads run only probes, so setting it once is enough.
    context.write_intent.set(False)
    started = time.perf_counter()
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # A lock or an overloaded server must not keep the probe waiting past its budget.
            conn.execute(text(f"SET LOCAL statement_timeout = {int(TIMEOUT_S * 1000)}"))
        conn.execute(text("SELECT 1")).scalar_one()
        latency_ms = (time.perf_counter() - started) * 1000
        current = MigrationContext.configure(conn).get_current_heads()
        conn.rollback()
    return {"latency_ms": round(latency_ms, 1), "current": list(current)}


def check() -> dict:
    """The health report; raises `Unavailable` (503) when this server cannot serve requests."""
    engine = db.engine
    backend = engine.dialect.name
    future = _executor.submit(_probe, engine)
    try:
        probe = future.result(timeout=TIMEOUT_S)
    except FutureTimeout:
        log.error("health: the database did not answer within %.1f s", TIMEOUT_S)
        raise Unavailable("The database did not answer in time",
                          code="database_unavailable",
                          details={"database": {"ok": False, "backend": backend, "reason": "timeout",
                                                "timeout_s": TIMEOUT_S}, "version": app_version()}) from None
    except Exception as exc:  # noqa: BLE001 — any failure to reach the database means "down"
        # The full error (it may name hosts and users) goes to the log, not to anonymous callers.
        log.error("health: database unreachable: %s", exc)
        raise Unavailable("The database is not reachable",
                          code="database_unavailable",
                          details={"database": {"ok": False, "backend": backend,
                                                "reason": type(exc).__name__}, "version": app_version()}) from None

    script = _script()
    heads = list(script.get_heads())
    current = probe["current"]
    known = {rev.revision for rev in script.walk_revisions()}
    if sorted(current) == sorted(heads):
        state = "current"
    elif current and not set(current) <= known:
        # A newer release already migrated (rolling upgrade): this older code keeps working on
        # an expanded schema, so it stays in service.
        state = "ahead"
    else:
        state = "behind"
    schema = {"state": state, "current": current, "head": heads}
    database = {"ok": True, "backend": backend, "latency_ms": probe["latency_ms"]}
    if state == "behind":
        # The code expects tables or columns the database does not have yet.
        raise Unavailable("The database schema is older than this release: run `fieldcrm db upgrade`",
                          code="schema_behind",
                          details={"database": database, "schema": schema, "version": app_version()})
    limits = rate_limit_storage()
    # Without its limit storage only sign-in fails (every host alike), so this host stays in
    # service — "degraded" is for the monitor, not a reason to take it out of the pool.
    status = "ok" if limits["ok"] else "degraded"
    return {"status": status, "version": app_version(), "database": database, "schema": schema,
            "rate_limits": limits}


def rate_limit_storage() -> dict:
    """Whether the rate-limit storage (Redis at scale) answers, within the same budget."""
    from flask import current_app

    from server.extensions import limiter

    kind = str(current_app.config.get("RATELIMIT_STORAGE_URI", "memory://")).split("://", 1)[0]
    future = _limits_executor.submit(lambda: bool(limiter.storage.check()))
    try:
        ok = future.result(timeout=TIMEOUT_S)
    except FutureTimeout:
        ok = False
    except Exception:  # noqa: BLE001
        ok = False
    if not ok:
        log.error("health: the rate-limit storage (%s) does not answer; sign-in fails until it does", kind)
    return {"ok": ok, "storage": kind}
