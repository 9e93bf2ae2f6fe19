"""Deciders racing through real threads and commits (`fresh_app`): exactly one decision counts."""
from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select

from conftest import Factory

TIMEOUT = 120


def _race(calls) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[index] = calls[index]()
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a decision hung"
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def test_four_ops_approving_and_rejecting_one_claim_at_once_one_decision_wins(fresh_app):
    from server.approvals.models import Approval
    from server.common.audit import AuditEntry
    from server.customers.models import Customer, Pool
    from server.extensions import db

    app = fresh_app()
    factory = Factory(app)
    seed = factory.user("rep", line="KA")
    customer = factory.customer(seed, industry="finance", name="四人同时审批金融有限公司")
    with factory.ctx() as session:
        row = session.get(Customer, customer.id)
        row.owner_id, row.owner, row.pool, row.origin_pool = None, None, Pool.KA, Pool.KA
    smb_rep = factory.user("rep", line="SMB")
    client = app.test_client()
    push = client.post("/api/v1/sync/push", headers=factory.headers(smb_rep), json={
        "client_id": str(uuid.uuid4()), "schema_version": 1,
        "mutations": [{"id": 1, "name": "customer.claim", "args": {"customer_id": str(customer.id)}}]})
    approval_id = push.get_json()["results"][0]["error"]["details"]["approval_id"]
    ops_department = factory.department("商务组", line="SMB")
    deciders = [factory.user("ops", department=ops_department) for _ in range(4)]
    headers = [factory.headers(u) for u in deciders]
    decisions = ["approve", "reject", "approve", "reject"]

    def decide(i):
        return lambda: app.test_client().post(f"/api/v1/approvals/{approval_id}/decide",
                                              json={"decision": decisions[i]}, headers=headers[i])

    responses = _race([decide(i) for i in range(4)])

    winners = [r for r in responses if r.status_code == 200]
    losers = [r for r in responses if r.status_code != 200]
    assert len(winners) == 1, [(r.status_code, r.get_json()) for r in responses]
    assert {(r.status_code, r.get_json()["error"]["code"]) for r in losers} == {(409, "already_decided")}
    won = winners[0].get_json()["status"]
    with app.app_context():
        approval = db.session.get(Approval, uuid.UUID(approval_id))
        assert approval.status == won and len(approval.decisions) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "approval.decide", AuditEntry.entity_id == approval_id)) == 1
        row = db.session.get(Customer, customer.id)
        assert (row.owner_id == smb_rep.id) == (won == "approved")
