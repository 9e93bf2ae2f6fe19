"""Claims racing through real threads and real commits (`fresh_app`), on SQLite and PostgreSQL
(SPEC R-P2, R-P3: "Two claims racing for the last place: exactly one wins")."""
from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select

from conftest import Factory
from pool_helpers import Device, pool_customer, set_settings

TIMEOUT = 120


def _race(devices: list[Device], customer_ids: list) -> list[dict]:
    """Every device pushes its customer.claim at the same moment; their results, in order."""
    barrier = threading.Barrier(len(devices))
    results: list[dict | BaseException | None] = [None] * len(devices)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[index] = devices[index].claim(customer_ids[index])
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(devices))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a claim hung"
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


def _ready_device(factory, user) -> Device:
    """A device that has logged in and pulled once (its client row exists), with its own client."""
    device = Device(factory, user, client=factory.app.test_client())
    device.patch()
    return device


def test_eight_reps_racing_for_one_pool_customer_one_owns_it_seven_get_not_in_pool(fresh_app):
    app = fresh_app()
    factory = Factory(app)
    customer = pool_customer(factory, "KA", contacts=1, name="八人争抢金融有限公司")
    department = factory.department("争抢KA部", line="KA")
    reps = [factory.user("rep", department=department) for _ in range(8)]
    devices = [_ready_device(factory, rep) for rep in reps]

    results = _race(devices, [customer.id] * 8)

    applied = [i for i, r in enumerate(results) if r["status"] == "applied"]
    rejected = [r for r in results if r["status"] == "rejected"]
    assert len(applied) == 1, results
    assert len(rejected) == 7 and {r["error"]["code"] for r in rejected} == {"not_in_pool"}, results
    from server.common.audit import AuditEntry
    from server.customers.models import Customer
    from server.extensions import db

    with app.app_context():
        row = db.session.get(Customer, customer.id)
        assert row.owner_id == reps[applied[0]].id and row.pool is None
        claims = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "customer.claim", AuditEntry.entity_id == str(customer.id)))
        assert claims == 1
    # the winner's phone gets it; a loser's does not
    assert str(customer.id) in {o["id"] for o in devices[applied[0]].patch() if o["entity"] == "customer"}
    loser = next(i for i in range(8) if i != applied[0])
    devices[loser].patch()
    assert not devices[loser].has("customer", customer.id)


def test_a_rep_with_one_place_left_racing_four_claims_gets_exactly_one(fresh_app):
    app = fresh_app()
    factory = Factory(app)
    set_settings(app, {"quotas": {"KA": 3}})
    rep = factory.user("rep", line="KA")
    for i in range(2):
        factory.customer(rep, name=f"剩一名额占位{i}号金融有限公司")
    seed = factory.user("rep", line="KA")
    targets = [pool_customer(factory, "KA", seed=seed, name=f"剩一名额目标{i}号金融有限公司") for i in range(4)]
    headers = factory.headers(rep)
    devices = [Device(factory, rep, client=app.test_client(), headers=headers) for _ in range(4)]
    for device in devices:
        device.patch()

    results = _race(devices, [t.id for t in targets])

    applied = [r for r in results if r["status"] == "applied"]
    rejected = [r for r in results if r["status"] == "rejected"]
    assert len(applied) == 1, results
    assert len(rejected) == 3 and {r["error"]["code"] for r in rejected} == {"quota_exceeded"}, results
    assert all(r["error"]["details"]["count"] == 3 and r["error"]["details"]["limit"] == 3 for r in rejected)
    from server.customers.models import Customer
    from server.extensions import db

    with app.app_context():
        owned = db.session.scalar(select(func.count()).select_from(Customer).where(
            Customer.owner_id == rep.id, Customer.business_line == "KA"))
        assert owned == 3
        in_pool = db.session.scalar(select(func.count()).select_from(Customer).where(
            Customer.id.in_([t.id for t in targets]), Customer.pool.is_not(None)))
        assert in_pool == 3


def test_claims_of_different_reps_on_different_customers_all_apply(fresh_app):
    """No false contention: independent claims racing each other all succeed."""
    app = fresh_app()
    factory = Factory(app)
    department = factory.department("并行申领部", line="KA")
    seed = factory.user("rep", department=department)
    targets = [pool_customer(factory, "KA", seed=seed, name=f"并行申领{i}号金融有限公司") for i in range(6)]
    devices = [_ready_device(factory, factory.user("rep", department=department)) for _ in range(6)]
    results = _race(devices, [t.id for t in targets])
    assert [r["status"] for r in results] == ["applied"] * 6, results
    from server.customers.models import Customer
    from server.extensions import db

    with app.app_context():
        owners = {db.session.get(Customer, t.id).owner_id for t in targets}
    assert owners == {d.user.id for d in devices}
    assert all(isinstance(o, uuid.UUID) for o in owners)
