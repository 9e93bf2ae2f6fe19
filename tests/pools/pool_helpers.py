"""Helpers shared by the pool tests (imported as `pool_helpers`).

Pool customers are put in place the way the brief of these tests asks: a customer is created
through the real service (by a "seed" rep of the right line) and then moved to a pool by
clearing its owner and setting pool, origin_pool and released_at.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"

# one industry per business line (SPEC R-C5 defaults)
INDUSTRY = {"KA": "finance", "INTERNET": "video", "RETAIL": "brand", "PUBLIC": "government", "SMB": "other"}
BASIC_FIELDS = {"id", "code", "name", "industry", "business_line", "region", "pool", "released_at",
                "times_reclaimed"}


def new_id() -> str:
    from server.common.db import uuid7

    return str(uuid7())


def now():
    from server.common.db import utcnow

    return utcnow()


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


def pool_customer(factory, pool: str = "KA", line: str | None = None, released_at: datetime | None = None,
                  contacts: int = 0, seed=None, **overrides):
    """A customer of `line` (default: the pool's line, SMB for the public pool) sitting in `pool`."""
    line = line or ("SMB" if pool == "public" else pool)
    seed = seed or factory.user("rep", line=line)
    overrides.setdefault("industry", INDUSTRY[line])
    customer = factory.customer(seed, **overrides)
    for _ in range(contacts):
        factory.contact(customer, by=seed)
    move_to_pool(factory.app, customer.id, pool, released_at)
    return customer


def age(app, customer_id, days: float, status: str | None = None, **values) -> None:
    """Set the customer's last progress `days` ago (and optionally its status)."""
    from server.customers.models import Customer, CustomerStatus

    if status is not None:
        values["status"] = CustomerStatus(status)
    set_fields(app, Customer, customer_id, last_progress_at=now() - timedelta(days=days), **values)


def get_customer(app, customer_id):
    from server.customers.models import Customer
    from server.extensions import db

    with app.app_context():
        customer = db.session.get(Customer, uuid.UUID(str(customer_id)))
        db.session.expunge_all()
        return customer


def ok(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:800])
    return response.get_json()


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:800])
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    return body["error"]


def push(client, headers, client_id, mutations):
    return client.post(PUSH, json={"client_id": client_id, "schema_version": 1, "mutations": mutations},
                       headers=headers)


class Device:
    """One install of the app for one user: its client id, mutation numbering, pull cookie and
    the server state it has pulled."""

    def __init__(self, factory, user, client=None, headers=None):
        self.factory, self.user = factory, user
        self.client = client or factory.app.test_client()
        self.headers = headers if headers is not None else factory.headers(user)
        self.client_id = str(uuid.uuid4())
        self.next_id = 1
        self.cookie: str | None = None
        self.state: dict[tuple[str, str], dict[str, Any]] = {}

    def send(self, name: str, args: dict) -> dict:
        """Push one mutation; its result."""
        mid = self.next_id
        self.next_id += 1
        answer = ok(push(self.client, self.headers, self.client_id,
                         [{"id": mid, "name": name, "args": args, "client_time": now().isoformat()}]))
        assert answer["last_mutation_id"] == mid, answer
        return next(r for r in answer["results"] if r["id"] == mid)

    def claim(self, customer_id) -> dict:
        return self.send("customer.claim", {"customer_id": str(customer_id)})

    def release(self, customer_id, reason: str = "客户无意向，退回公海") -> dict:
        return self.send("customer.release", {"customer_id": str(customer_id), "reason": reason})

    def patch(self) -> list[dict]:
        """One sync (all pages); the joined patch, applied to the local state."""
        ops: list[dict] = []
        for _ in range(100):
            page = ok(self.client.post(PULL, json={"client_id": self.client_id, "schema_version": 1,
                                                   "cookie": self.cookie, "limit": 2000}, headers=self.headers))
            if page["reset"]:
                self.state = {}
            for op in page["patch"]:
                key = (op["entity"], op["id"])
                if op["op"] == "put":
                    self.state[key] = op
                else:
                    self.state.pop(key, None)
            ops.extend(page["patch"])
            self.cookie = page["cookie"]
            if not page["has_more"]:
                return ops
        raise AssertionError("pull never finished")

    def has(self, entity: str, entity_id) -> bool:
        return (entity, str(entity_id)) in self.state

    def data(self, entity: str, entity_id) -> dict:
        return self.state[(entity, str(entity_id))]["data"]


def ops(patch: list[dict], entity: str, op: str) -> set[str]:
    return {o["id"] for o in patch if o["entity"] == entity and o["op"] == op}


def browse(client, headers, pool: str, **params):
    return client.get(f"/api/v1/pools/{pool}/customers", query_string=params, headers=headers)
