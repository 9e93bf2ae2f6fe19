"""Test harness: one app per session, one rolled-back transaction per test, factories.

`FIELDCRM_TEST_DB=sqlite` (default) runs on a fresh SQLite file; `postgresql` creates a fresh
database on the local server (127.0.0.1:5432, trust auth) and drops it at the end. Tests that
need real commits across connections (races) use `fresh_app`, which gets a database of its own.
"""
from __future__ import annotations

import os
import random
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import scoped_session, sessionmaker

BACKEND = os.environ.get("FIELDCRM_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("FIELDCRM_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FIXTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "photos"
TEST_PASSWORD = "correct-horse-9"


def pytest_report_header(config):
    return f"fieldcrm test database backend: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    if BACKEND != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL; runs on the PostgreSQL leg of `make test`")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


@contextmanager
def _database(tmp_dir: Path, name: str):
    """A fresh, empty database URL; dropped afterwards."""
    if BACKEND == "postgresql":
        db_name = f"fieldcrm_test_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}"
        finally:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_dir / (name + '.db')}"


def make_app(database_url: str, instance: Path, **overrides):
    from flask_migrate import upgrade

    from server import create_app

    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
        "JWT_SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
        # Cheap hashes keep the suite fast; production keeps argon2-cffi's defaults.
        "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        "RATELIMIT_STORAGE_URI": "memory://",
        "PHOTO_DIR": str(instance / "photos"),
        **overrides,
    })
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fieldcrm")
    with _database(tmp, "main") as url:
        application = make_app(url, tmp / "instance")
        yield application
        from server.extensions import db

        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def fresh_app(tmp_path_factory):
    """An app on a database of its own, for tests whose threads must really commit."""
    made = []

    def factory(**overrides):
        tmp = tmp_path_factory.mktemp("fresh")
        cm = _database(tmp, "fresh")
        url = cm.__enter__()
        application = make_app(url, tmp / "instance", **overrides)
        made.append((application, cm))
        return application

    yield factory
    from server.extensions import db

    for application, cm in made:
        with application.app_context():
            db.engine.dispose()
        cm.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _rollback(request, app):
    """Everything a test writes happens inside one outer transaction that is rolled back."""
    if "fresh_app" in request.fixturenames or "no_rollback" in request.keywords:
        yield
        return
    from server.extensions import db, limiter

    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False),
        scopefunc=original.registry.scopefunc if hasattr(original.registry, "scopefunc") else None,
    )
    with app.app_context():
        limiter.reset()
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


class Factory:
    """Builds realistic rows through the real services, committed to the test transaction."""

    def __init__(self, app):
        self.app = app
        self.rng = random.Random(7)
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    @contextmanager
    def ctx(self):
        from server.extensions import db

        with self.app.app_context():
            yield db.session
            db.session.commit()

    def department(self, name=None, line="KA", parent=None):
        from server.org.models import BusinessLine
        from server.org.service import create_department

        with self.ctx():
            return create_department(name or f"部门{self._next()}", parent.id if parent else None,
                                     BusinessLine(line) if line and not parent else
                                     (BusinessLine(line) if line and parent and line != parent.business_line.value
                                      else None))

    def user(self, role="rep", department=None, line="KA", username=None, display_name=None):
        from server.org.models import Role
        from server.org.service import create_user

        department = department or self.department(line=line)
        n = self._next()
        with self.ctx():
            return create_user(username or f"{role}{n}", TEST_PASSWORD, display_name or f"{role.title()} {n}",
                               Role(role), department.id)

    def customer_args(self, **overrides):
        from server.customers.identity import generate_tax_id

        n = self._next()
        args = {"name": f"上海测试{n}号科技有限公司", "type": "direct", "industry": "finance",
                "region": "上海市黄浦区", "address": f"南京东路{n}号", "tax_id": generate_tax_id(self.rng),
                "location": {"lat": 31.2304, "lng": 121.4737}, "contacts": []}
        args.update(overrides)
        return args

    def customer(self, owner, **overrides):
        from server.customers.service import create_customer
        from server.extensions import db
        from server.org.models import User

        with self.ctx():
            return create_customer(self.customer_args(**overrides), db.session.get(User, owner.id))

    def contact(self, customer, by, **overrides):
        from server.customers.models import Customer
        from server.customers.service import create_contact
        from server.extensions import db
        from server.org.models import User

        args = {"name": f"联系人{self._next()}", "title": "经理", "mobile": "13800001234"}
        args.update(overrides)
        with self.ctx():
            return create_contact(db.session.get(Customer, customer.id), args, db.session.get(User, by.id))

    def login(self, user, client=None, password=TEST_PASSWORD) -> dict:
        client = client or self.app.test_client()
        response = client.post("/api/v1/auth/login", json={"username": user.username, "password": password})
        assert response.status_code == 200, response.json
        return response.json

    def headers(self, user) -> dict:
        return {"Authorization": f"Bearer {self.login(user)['access_token']}"}


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def db_ctx(app):
    """Look at the database from the test: `with db_ctx() as session: ...`."""
    from server.extensions import db

    @contextmanager
    def ctx():
        with app.app_context():
            yield db.session

    return ctx


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright for the whole run: its sync API refuses a second one while the first lives
    (the e2e browser is session-scoped, and the production tests launch their own Chromium)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p
