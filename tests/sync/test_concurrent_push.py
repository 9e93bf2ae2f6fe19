"""Pushes racing each other through real threads and real commits (`fresh_app`).

A phone that times out resends its outbox while the first request is still running; two
phones write the same customer at once. Exactly-once and the access rule must hold anyway.
"""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sync_helpers import Device, customer_args, numbered



def test_the_same_batch_pushed_twice_at_once_applies_each_mutation_once(fresh_app, factory):
    app = fresh_app()
    factory = type(factory)(app)  # the harness's factory, on the fresh database
    rep = factory.user("rep", department=factory.department("重发测试部"))
    headers = factory.headers(rep)
    from server.customers.models import Customer
    from server.extensions import db

    for attempt in range(3):
        first = Device(factory, rep, headers=headers)
        first.sync()  # the client row exists already, as for any phone that has pulled
        second = Device(factory, rep, headers=headers, client_id=first.client_id)
        batch = numbered(1, [("customer.create", customer_args(factory)) for _ in range(6)])
        barrier = threading.Barrier(2)

        def send(device):
            barrier.wait(timeout=30)
            return device.push_raw(batch)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(send, [first, second]))
        for answer in answers:
            assert answer.status_code == 200, (attempt, answer.status_code, answer.get_json())
            assert answer.get_json()["last_mutation_id"] == 6
        by_id: dict[int, list[str]] = {}
        for answer in answers:
            for result in answer.get_json()["results"]:
                by_id.setdefault(result["id"], []).append(result["status"])
        assert {mid: sorted(s) for mid, s in by_id.items()} == {mid: ["applied", "replayed"] for mid in range(1, 7)}
        with app.app_context():
            ids = [uuid.UUID(m["args"]["id"]) for m in batch]
            assert db.session.scalar(select(func.count()).select_from(Customer).where(Customer.id.in_(ids))) == 6


@pytest.mark.postgres_only
def test_a_transfer_committed_while_a_batch_runs_stops_the_rest_of_the_batch(fresh_app, factory, monkeypatch):
    """Rep A's batch edits a customer, then (while the server works on A's next mutation) the
    manager transfers that customer away: A's later edit in the same batch is not authorized."""
    app = fresh_app()
    factory = type(factory)(app)  # the harness's factory, on the fresh database
    department = factory.department("转移竞态部")
    manager = factory.user("manager", department=department)
    rep = factory.user("rep", department=department)
    receiver = factory.user("rep", department=department)
    rep_device = Device(factory, rep)
    manager_device = Device(factory, manager)
    create = customer_args(factory)
    assert rep_device.send("customer.create", create)["status"] == "applied"

    from server.customers import service

    real_create = service.create_customer
    moved = []

    def create_while_the_manager_transfers(args, actor):
        # another request, on another connection, commits the transfer meanwhile
        thread = threading.Thread(target=lambda: moved.append(manager_device.send(
            "customer.transfer", {"customer_ids": [create["id"]], "to_user_id": str(receiver.id),
                                  "reason": "区域调整"})))
        thread.start()
        thread.join(timeout=30)
        return real_create(args, actor)

    monkeypatch.setattr(service, "create_customer", create_while_the_manager_transfers)
    rep_device.queue("customer.update", {"id": create["id"], "base_version": 0, "changes": {"notes": "转移前"}})
    rep_device.queue("customer.create", customer_args(factory))
    rep_device.queue("customer.update", {"id": create["id"], "base_version": 0, "changes": {"website": "https://late.example"}})
    answer = rep_device.push()
    assert moved and moved[0]["status"] == "applied", moved
    results = {r["id"]: r for r in answer["results"]}
    assert results[2]["status"] == "applied"
    assert results[4]["status"] == "rejected", results[4]
    assert results[4]["error"]["code"] == "not_authorized"

    from server.customers.models import Customer
    from server.extensions import db

    with app.app_context():
        customer = db.session.get(Customer, uuid.UUID(create["id"]))
        assert customer.owner_id == receiver.id
        assert customer.notes == "转移前" and customer.website is None
