"""R-U2 leavers: the hand-over list, bulk transfer, and the return to pools after the grace period."""
from __future__ import annotations

from datetime import timedelta

from approval_helpers import (as_dt, customer_row, error_of, notifications, ok, set_fields, session_of,
                              world)  # noqa: F401
from click.testing import CliRunner
from flask.cli import ScriptInfo


def _deactivate(world, name):
    return ok(world.client.patch(f"/api/v1/admin/users/{world.users[name].id}", json={"active": False},
                                 headers=world.headers("admin")))


def _handover(world, who, **query):
    return ok(world.get(who, "/api/v1/customers/handover", query_string=query))["items"]


def _deactivated_at(world, name):
    from server.org.models import User

    with session_of(world.app) as session:
        return session.get(User, world.users[name].id).deactivated_at


def test_a_deactivated_reps_customers_go_on_their_managers_handover_list(world):
    first, second = world.customer("ka_rep"), world.customer("ka_rep")
    world.customer("ka_rep2")  # an active colleague's customer is not on the list
    _deactivate(world, "ka_rep")
    left_at = _deactivated_at(world, "ka_rep")

    items = _handover(world, "ka_manager")
    assert sorted(i["customer"]["id"] for i in items) == sorted([str(first.id), str(second.id)])
    assert {i["leaver"]["id"] for i in items} == {str(world.ka_rep.id)}
    assert {as_dt(i["deadline"]) for i in items} == {left_at + timedelta(days=7)}
    assert all(i["overdue"] is False for i in items)
    assert len(_handover(world, "top")) == 2 and len(_handover(world, "admin")) == 2
    assert _handover(world, "internet_manager") == []
    error_of(world.get("ka_rep2", "/api/v1/customers/handover"), 403, "not_authorized")
    error_of(world.get("ops", "/api/v1/customers/handover"), 403, "not_authorized")
    [told] = notifications(world.app, world.ka_manager, "handover_required")
    assert told.data["count"] == 2 and told.data["display_name"] == "KA业务员甲"
    # nothing is deleted: the leaver still owns them until someone takes them over
    assert customer_row(world.app, first.id).owner_id == world.ka_rep.id


def test_bulk_transfer_takes_customers_off_the_list(world):
    customers = [world.customer("ka_rep") for _ in range(3)]
    _deactivate(world, "ka_rep")
    body = ok(world.post("ka_manager", "/api/v1/customers/transfer",
                         {"customer_ids": [str(c.id) for c in customers[:2]], "to_user_id": str(world.ka_rep2.id),
                          "reason": "离职交接"}))
    assert len(body["transferred"]) == 2
    result = world.device("ka_manager").push("customer.transfer", {"customer_ids": [str(customers[2].id)],
                                                                   "to_user_id": str(world.ka_rep2.id),
                                                                   "reason": "离职交接"})
    assert result["status"] == "applied", result
    assert _handover(world, "ka_manager") == []
    assert {customer_row(world.app, c.id).owner_id for c in customers} == {world.ka_rep2.id}


def test_unhanded_customers_return_to_their_origin_pool_after_the_grace_period(world):
    from server.customers.models import Customer
    from server.jobs import reclaim_job
    from server.org.models import User

    kept, owed = world.customer("ka_rep"), world.customer("ka_rep")
    set_fields(world.app, Customer, owed.id, deal_total=1000, payment_total=0)
    _deactivate(world, "ka_rep")
    left_at = _deactivated_at(world, "ka_rep")

    with world.app.app_context():
        early = reclaim_job(left_at + timedelta(days=6))
    assert early.handover == []
    assert customer_row(world.app, kept.id).owner_id == world.ka_rep.id

    with world.app.app_context():
        report = reclaim_job(left_at + timedelta(days=7, minutes=1))
    assert [e["customer_id"] for e in report.handover] == [str(kept.id)]
    row = customer_row(world.app, kept.id)
    assert row.owner_id is None and row.pool.value == "KA"
    # receivables outstanding are exempt, as for reclaim: they stay on the list, overdue
    [left] = _handover(world, "ka_manager")
    assert left["customer"]["id"] == str(owed.id) and left["returns_to_pool"] is False
    set_fields(world.app, User, world.ka_rep.id, deactivated_at=left_at - timedelta(days=10))
    [left] = _handover(world, "ka_manager")
    assert left["overdue"] is True
    with session_of(world.app) as session:
        from sqlalchemy import select

        from server.common.audit import AuditEntry

        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(kept.id))
                                  .order_by(AuditEntry.id)).all()
    assert actions[-1] == "customer.handover"
    [told] = notifications(world.app, world.ka_manager, "handover_returned")
    assert told.data["count"] == 1

    with world.app.app_context():  # idempotent
        assert reclaim_job(left_at + timedelta(days=8)).handover == []


def test_the_reclaim_command_also_returns_unhanded_customers(world):
    from server.cli import cli

    customer = world.customer("ka_rep")
    _deactivate(world, "ka_rep")
    as_of = (_deactivated_at(world, "ka_rep") + timedelta(days=8)).isoformat()
    dry = CliRunner().invoke(cli, ["pools", "reclaim", "--as-of", as_of, "--dry-run"],
                             obj=ScriptInfo(create_app=lambda: world.app), catch_exceptions=False)
    assert dry.exit_code == 0 and "would return 1 unhanded customer(s) of leavers" in dry.output, dry.output
    assert customer_row(world.app, customer.id).owner_id == world.ka_rep.id
    result = CliRunner().invoke(cli, ["pools", "reclaim", "--as-of", as_of],
                                obj=ScriptInfo(create_app=lambda: world.app), catch_exceptions=False)
    assert result.exit_code == 0 and "returned 1 unhanded customer(s) of leavers" in result.output, result.output
    assert customer_row(world.app, customer.id).pool.value == "KA"


def test_reactivating_the_user_takes_their_customers_off_the_list(world):
    world.customer("ka_rep")
    _deactivate(world, "ka_rep")
    assert len(_handover(world, "ka_manager")) == 1
    ok(world.client.patch(f"/api/v1/admin/users/{world.ka_rep.id}", json={"active": True},
                          headers=world.headers("admin")))
    assert _handover(world, "ka_manager") == []


def test_a_leavers_pending_requests_are_cancelled(world):
    from approval_helpers import applied_with_approval, approval_row, new_id

    customer = world.customer("ka_rep")
    approval_id = applied_with_approval(world.device("ka_rep").push(
        "customer.request_change", {"id": new_id(), "customer_id": str(customer.id),
                                    "changes": {"name": "离职前改名有限公司"}, "reason": "更名"}))
    _deactivate(world, "ka_rep")
    row = approval_row(world.app, approval_id)
    assert row.status == "cancelled" and row.result == {"reason": "requester_deactivated"}
    assert world.approvals("ka_manager", box="to_decide") == []
    error_of(world.decide("ka_manager", approval_id), 409, "already_decided")
