"""GET /api/v1/health: what a load balancer or monitor sees (no credentials)."""
from __future__ import annotations

import time
from importlib import metadata

from helpers import error_of, ok
from sqlalchemy import text


def _heads():
    from server.health.service import _script

    return list(_script().get_heads())


def test_healthy_server_reports_database_schema_and_version(app, client):
    response = client.get("/api/v1/health")
    body = ok(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert body["status"] == "ok"
    assert body["version"] == metadata.version("fieldcrm")
    with app.app_context():
        from server.extensions import db

        backend = db.engine.dialect.name
    assert body["database"]["ok"] is True and body["database"]["backend"] == backend
    assert 0 <= body["database"]["latency_ms"] < 3000
    assert body["schema"] == {"state": "current", "current": _heads(), "head": _heads()}
    assert body["rate_limits"] == {"ok": True, "storage": "memory"}


def test_rate_limit_storage_down_is_reported_but_keeps_the_host_in_service(tmp_path, monkeypatch):
    from conftest import make_app  # the root harness' app factory, migrated

    from server.extensions import limiter

    # The limiter is one object per process: give the session app its storage back afterwards.
    monkeypatch.setattr(limiter, "_storage", limiter._storage)
    monkeypatch.setattr(limiter, "_limiter", limiter._limiter)
    app = make_app(f"sqlite:///{tmp_path / 'h.db'}", tmp_path / "instance", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    body = ok(app.test_client().get("/api/v1/health"))
    assert body["status"] == "degraded"
    assert body["rate_limits"] == {"ok": False, "storage": "redis"}
    assert body["database"]["ok"] is True
    # What "degraded" means for users: sign-in still works, counted per process meanwhile.
    answer = app.test_client().post("/api/v1/auth/login", json={"username": "a", "password": "b"})
    assert answer.status_code == 401, answer.get_data(as_text=True)


def test_unreachable_database_answers_503_in_the_envelope(tmp_path, monkeypatch):
    from server import create_app
    from server.extensions import limiter

    monkeypatch.setattr(limiter, "_storage", limiter._storage)  # create_app re-binds the one limiter
    monkeypatch.setattr(limiter, "_limiter", limiter._limiter)

    # Port 1 on loopback refuses at once; a missing folder makes SQLite fail to open its file.
    for url in ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
                f"sqlite:///{tmp_path / 'missing-folder' / 'fieldcrm.db'}"):
        down = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                           "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x" * 40})
        error = error_of(down.test_client().get("/api/v1/health"), 503, "database_unavailable")
        assert error["details"]["database"]["ok"] is False
        assert error["details"]["database"]["reason"] == "OperationalError"
        # Host names and users in the driver's message are not told to anonymous callers.
        assert "127.0.0.1" not in str(error) and "missing-folder" not in str(error)
        assert error["details"]["version"] == metadata.version("fieldcrm")


def test_a_database_that_hangs_counts_as_down_after_the_timeout(client, monkeypatch):
    from server.health import service

    monkeypatch.setattr(service, "TIMEOUT_S", 0.2)
    monkeypatch.setattr(service, "_probe", lambda engine: time.sleep(1.5))
    started = time.monotonic()
    error = error_of(client.get("/api/v1/health"), 503, "database_unavailable")
    assert time.monotonic() - started < 1.0, "the check must not wait for the hung database"
    assert error["details"]["database"]["reason"] == "timeout"


def test_schema_older_than_the_code_is_503_and_newer_is_still_in_service(fresh_app):
    from server.extensions import db
    from server.health.service import _script

    app = fresh_app()
    client = app.test_client()
    first = [rev.revision for rev in _script().walk_revisions()][-1]  # the initial migration
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": first})
    error = error_of(client.get("/api/v1/health"), 503, "schema_behind")
    assert "fieldcrm db upgrade" in error["message"]
    assert error["details"]["schema"]["current"] == [first]
    assert error["details"]["database"]["ok"] is True

    # A newer release migrated first (rolling upgrade): this one keeps serving.
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfacef00d'"))
    body = ok(client.get("/api/v1/health"))
    assert body["schema"]["state"] == "ahead" and body["schema"]["current"] == ["f00dfacef00d"]
