"""Helpers shared by the test folders (imported as `helpers`: tests/ is on sys.path because the
root conftest.py lives there, so `from helpers import ...` works from any subfolder).

The per-folder helper modules (account_helpers, pool_helpers, ...) import from here and add
what only their folder needs.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime
from typing import Any

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
CLIENT_TIME = "2026-11-23T09:15:00+08:00"

# one industry per business line (SPEC R-C5 defaults)
INDUSTRY = {"KA": "finance", "INTERNET": "video", "RETAIL": "brand", "PUBLIC": "government", "SMB": "other"}


def new_id() -> str:
    """An entity id as the phone makes it (UUIDv7)."""
    from server.common.db import uuid7

    return str(uuid7())


def now() -> datetime:
    from server.common.db import utcnow

    return utcnow()


# ---- answers ------------------------------------------------------------------------------------


def ok(response, statuses: tuple[int, ...] = (200,)) -> Any:
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:800])
    return response.get_json()


def error_of(response, status: int, code: str) -> dict:
    """The one error envelope (SPEC §13) with this status and code; its `error` object."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:800])
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["details"], dict)
    return error


def ops_of(patch: list[dict], entity: str | None = None, op: str | None = "put") -> dict[str, dict]:
    """The patch ops of `entity` (any when None) and `op` (any when None), by entity id."""
    return {o["id"]: o for o in patch if (entity is None or o["entity"] == entity) and (op is None or o["op"] == op)}


# ---- sync ---------------------------------------------------------------------------------------


def push(client, headers, client_id, mutations, schema_version=1):
    return client.post(PUSH, json={"client_id": client_id, "schema_version": schema_version,
                                   "mutations": mutations}, headers=headers)


def pull(client, headers, client_id, cookie=None, limit=2000, schema_version=1):
    return client.post(PULL, json={"client_id": client_id, "schema_version": schema_version,
                                   "cookie": cookie, "limit": limit}, headers=headers)


class Phone:
    """One install of the app for one user: its client id, its outbox numbering, its pull cookie
    and the server state it has pulled ((entity, id) -> the last `put` op)."""

    def __init__(self, client, factory, user, headers=None):
        self.factory, self.user = factory, user
        self.client = client or factory.app.test_client()
        self.headers = headers if headers is not None else factory.headers(user)
        self.client_id = str(uuid.uuid4())
        self.next_id = 1
        self.cookie: str | None = None
        self.state: dict[tuple[str, str], dict[str, Any]] = {}

    # ---- push -----------------------------------------------------------------------------------

    def client_time(self) -> str:
        return CLIENT_TIME

    def push_batch(self, mutations: list[tuple[str, dict]], client_time: str | None = None) -> dict:
        """Push [(name, args), ...] in one batch, numbered on; the server's answer."""
        batch = []
        for name, args in mutations:
            batch.append({"id": self.next_id, "name": name, "args": args,
                          "client_time": client_time or self.client_time()})
            self.next_id += 1
        return ok(push(self.client, self.headers, self.client_id, batch))

    def push_many(self, mutations: list[tuple[str, dict]]) -> list[dict]:
        return self.push_batch(mutations)["results"]

    def push(self, name: str, args: dict, client_time: str | None = None) -> dict:
        """Push one mutation; its result (status, server or error)."""
        (result,) = self.push_batch([(name, args)], client_time)["results"]
        return result

    def applied(self, name: str, args: dict) -> dict:
        result = self.push(name, args)
        assert result["status"] == "applied", result
        return result

    def rejected(self, name: str, args: dict, code: str) -> dict:
        result = self.push(name, args)
        assert result["status"] == "rejected", result
        assert result["error"]["code"] == code, result
        return result["error"]

    # ---- pull -----------------------------------------------------------------------------------

    def pull_page(self) -> dict:
        """One pull page, applied to the local state."""
        page = ok(pull(self.client, self.headers, self.client_id, self.cookie))
        if page["reset"]:
            self.state = {}
        for op in page["patch"]:
            key = (op["entity"], op["id"])
            if op["op"] == "put":
                self.state[key] = op
            else:
                self.state.pop(key, None)
        self.cookie = page["cookie"]
        return page

    def pull(self, max_pages: int = 1000) -> list[dict]:
        """Everything until has_more is false; the patch ops."""
        ops: list[dict] = []
        for _ in range(max_pages):
            page = self.pull_page()
            ops.extend(page["patch"])
            if not page["has_more"]:
                return ops
        raise AssertionError("pull never finished")

    def has(self, entity: str, entity_id) -> bool:
        return (entity, str(entity_id)) in self.state

    def data(self, entity: str, entity_id) -> dict:
        return self.state[(entity, str(entity_id))]["data"]


# ---- the database -------------------------------------------------------------------------------


@contextmanager
def session_of(app):
    """A session on `app` (the shared test app or a `fresh_app()`), committed at the end."""
    from server.extensions import db

    with app.app_context():
        yield db.session
        db.session.commit()


def set_settings(app, changes: dict) -> None:
    from server.settings.service import update_settings

    with session_of(app):
        update_settings(changes)


def set_fields(app, model, entity_id, **values) -> None:
    with session_of(app) as session:
        row = session.get(model, uuid.UUID(str(entity_id)))
        for key, value in values.items():
            setattr(row, key, value)


def move_to_pool(app, customer_id, pool: str, released_at: datetime | None = None,
                 origin_pool: str | None = None) -> None:
    """Make an existing customer an unowned pool customer (no cooldown for anybody)."""
    from server.customers.models import Customer, Pool

    with session_of(app) as session:
        customer = session.get(Customer, uuid.UUID(str(customer_id)))
        customer.owner_id, customer.owner = None, None
        customer.pool = Pool(pool)
        customer.origin_pool = Pool(origin_pool or pool)
        customer.released_at = released_at or now()
