"""The `fieldcrm` console command (SPEC §14)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from conftest import TEST_PASSWORD, Factory, _database


def _invoke(app, *args):
    from server.cli import cli

    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False)


def _login(app, username, password):
    return app.test_client().post("/api/v1/auth/login", json={"username": username, "password": password})


def test_users_create_makes_a_user_who_can_log_in(app, factory):
    department = factory.department("华北KA部", line="KA")
    result = _invoke(app, "users", "create", "--username", "cli_rep", "--password", "cli-password-1",
                     "--role", "rep", "--department", "华北KA部", "--display-name", "命令行业务员")
    assert result.exit_code == 0, result.output
    assert "cli_rep" in result.output
    r = _login(app, "cli_rep", "cli-password-1")
    assert r.status_code == 200, r.json
    user = r.json["user"]
    assert (user["role"], user["department_id"], user["display_name"]) == ("rep", str(department.id), "命令行业务员")


def test_users_create_accepts_a_department_id(app, factory):
    department = factory.department(line="RETAIL")
    result = _invoke(app, "users", "create", "--username", "by_id", "--password", "cli-password-1",
                     "--role", "manager", "--department", str(department.id))
    assert result.exit_code == 0, result.output
    assert _login(app, "by_id", "cli-password-1").json["user"]["business_line"] == "RETAIL"


def test_users_create_without_department_makes_an_admin_home(app):
    result = _invoke(app, "users", "create", "--username", "root_admin", "--password", "cli-password-1",
                     "--role", "admin")
    assert result.exit_code == 0, result.output
    r = _login(app, "root_admin", "cli-password-1")
    assert r.status_code == 200
    assert r.json["user"]["role"] == "admin"
    assert r.json["user"]["department_name"] == "Administration"


def test_users_create_with_unknown_department_fails_clearly(app, db_ctx):
    from sqlalchemy import select

    from server.org.models import User

    result = _invoke(app, "users", "create", "--username", "lost", "--password", "cli-password-1",
                     "--role", "rep", "--department", "不存在的部门")
    assert result.exit_code != 0
    assert "不存在的部门" in result.output
    assert "department" in result.output.lower()
    assert "Traceback" not in result.output
    with db_ctx() as session:
        assert session.scalar(select(User).where(User.username == "lost")) is None


def test_users_create_with_a_taken_username_fails_clearly(app, factory):
    rep = factory.user("rep")
    result = _invoke(app, "users", "create", "--username", rep.username, "--password", "cli-password-1",
                     "--role", "rep", "--department", str(rep.department_id))
    assert result.exit_code != 0
    assert "username_taken" in result.output
    # The existing user keeps their password.
    assert _login(app, rep.username, TEST_PASSWORD).status_code == 200


def test_users_create_refuses_a_short_password(app, factory):
    department = factory.department()
    result = _invoke(app, "users", "create", "--username", "shorty", "--password", "short",
                     "--role", "rep", "--department", str(department.id))
    assert result.exit_code != 0
    assert "password" in result.output.lower()


def test_users_create_refuses_an_unknown_role(app):
    result = _invoke(app, "users", "create", "--username", "x1", "--password", "cli-password-1", "--role", "boss")
    assert result.exit_code != 0
    assert "boss" in result.output


@pytest.fixture
def empty_app(tmp_path, fresh_app):
    """An app on an empty database: nothing migrated yet. (Asking for `fresh_app` tells the
    per-test rollback fixture to leave `db.session` alone: this app commits for real.)"""
    from server import create_app
    from server.extensions import db

    with _database(tmp_path, "cli_empty") as url:
        app = create_app({
            "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
            "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
            "RATELIMIT_STORAGE_URI": "memory://",
        })
        yield app
        with app.app_context():
            db.engine.dispose()


def test_db_upgrade_creates_the_schema_and_is_idempotent(empty_app):
    from sqlalchemy import inspect

    from server.extensions import db

    for _ in range(2):
        result = _invoke(empty_app, "db", "upgrade")
        assert result.exit_code == 0, result.output
    with empty_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {"alembic_version", "departments", "users", "customers", "audit_entries"} <= tables

    # The upgraded database works: create a user through the CLI and sign in.
    result = _invoke(empty_app, "users", "create", "--username", "first_admin", "--password", "cli-password-1",
                     "--role", "admin")
    assert result.exit_code == 0, result.output
    assert _login(empty_app, "first_admin", "cli-password-1").status_code == 200


def test_db_upgrade_on_a_migrated_app_changes_nothing(fresh_app):
    app = fresh_app()
    Factory(app).user("rep", username="kept_rep")
    for _ in range(2):
        result = _invoke(app, "db", "upgrade")
        assert result.exit_code == 0, result.output
    assert _login(app, "kept_rep", TEST_PASSWORD).status_code == 200
