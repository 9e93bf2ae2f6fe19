"""Helpers shared by the pool tests (imported as `pool_helpers`).

Pool customers are put in place the way the brief of these tests asks: a customer is created
through the real service (by a "seed" rep of the right line) and then moved to a pool by
clearing its owner and setting pool, origin_pool and released_at.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from helpers import (INDUSTRY, PULL, PUSH, error_of, move_to_pool, new_id, now, ok, push,  # noqa: F401
                     session_of, set_fields, set_settings)
from helpers import Phone

BASIC_FIELDS = {"id", "code", "name", "industry", "business_line", "region", "pool", "released_at",
                "times_reclaimed"}


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


class Device(Phone):
    """One install of the app for one user (its own test client unless given one): its client id,
    mutation numbering, pull cookie and the server state it has pulled."""

    def __init__(self, factory, user, client=None, headers=None):
        super().__init__(client, factory, user, headers)

    def client_time(self) -> str:
        return now().isoformat()

    def send(self, name: str, args: dict) -> dict:
        """Push one mutation; its result."""
        mid = self.next_id
        answer = self.push_batch([(name, args)])
        assert answer["last_mutation_id"] == mid, answer
        return next(r for r in answer["results"] if r["id"] == mid)

    def claim(self, customer_id) -> dict:
        return self.send("customer.claim", {"customer_id": str(customer_id)})

    def release(self, customer_id, reason: str = "客户无意向，退回公海") -> dict:
        return self.send("customer.release", {"customer_id": str(customer_id), "reason": reason})

    def patch(self) -> list[dict]:
        """One sync (all pages); the joined patch, applied to the local state."""
        return self.pull(max_pages=100)


def ops(patch: list[dict], entity: str, op: str) -> set[str]:
    return {o["id"] for o in patch if o["entity"] == entity and o["op"] == op}


def browse(client, headers, pool: str, **params):
    return client.get(f"/api/v1/pools/{pool}/customers", query_string=params, headers=headers)
