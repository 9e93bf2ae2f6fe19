"""R-T3 approvals inbox: who sees and decides what; filters; the record of each decision."""
from __future__ import annotations

import uuid

from approval_helpers import (applied_with_approval, approval_row, error_of, move_to_pool, new_id, notifications,
                              ok, rejected, set_fields, world)  # noqa: F401


def _legal_dispute_transfer(world):
    from server.customers.models import Customer

    customer = world.customer("ka_rep")
    set_fields(world.app, Customer, customer.id, legal_dispute=True)
    result = world.device("ka_rep").push("customer.transfer", {"customer_ids": [str(customer.id)],
                                                               "to_user_id": str(world.ka_rep2.id),
                                                               "reason": "调岗"})
    return customer, applied_with_approval(result)


def test_a_rep_cannot_decide_not_even_their_own_request(world):
    _, approval_id = _legal_dispute_transfer(world)
    error_of(world.decide("ka_rep", approval_id), 403, "not_authorized")
    rejected(world.device("ka_rep").push("approval.decide", {"approval_id": approval_id, "decision": "approve"}),
             "not_authorized")
    error_of(world.decide("ka_rep2", approval_id), 404, "not_found")
    assert approval_row(world.app, approval_id).status == "pending"


def test_a_rep_sees_their_own_requests_and_nobody_elses(world):
    _, approval_id = _legal_dispute_transfer(world)
    [mine] = world.approvals("ka_rep")
    assert mine["id"] == approval_id and mine["can_decide"] is False
    assert world.approvals("ka_rep", box="requested")[0]["id"] == approval_id
    assert world.approvals("ka_rep", box="to_decide") == []
    assert world.approvals("ka_rep2") == [] and world.approvals("ka2_rep") == []
    error_of(world.get("ka_rep2", f"/api/v1/approvals/{approval_id}"), 404, "not_found")
    other_phone = world.device("ka_rep2")
    other_phone.pull()
    assert other_phone.get("approval", approval_id) is None


def test_managers_of_other_departments_and_ops_do_not_decide_manager_stages(world):
    _, approval_id = _legal_dispute_transfer(world)
    assert world.approvals("internet_manager") == []
    error_of(world.decide("internet_manager", approval_id), 404, "not_found")
    assert world.approvals("ops") == []  # no ops stage in a transfer
    error_of(world.decide("ops", approval_id), 404, "not_found")
    assert ok(world.decide("admin", approval_id))["status"] == "approved"  # admins decide anything


def test_each_decision_records_the_approver_comment_and_times_and_cannot_be_repeated(world):
    _, approval_id = _legal_dispute_transfer(world)
    body = ok(world.decide("ka_manager", approval_id, "reject", comment="诉讼未结，暂缓转交"))
    assert body["status"] == "rejected" and body["comment"] == "诉讼未结，暂缓转交"
    assert body["approver"] == {"id": str(world.ka_manager.id), "display_name": "KA一部经理"}
    assert body["requester"]["id"] == str(world.ka_rep.id)
    assert body["decided_at"] and body["created_at"] <= body["decided_at"]
    [decision] = body["decisions"]
    assert decision["by"] == str(world.ka_manager.id) and decision["decision"] == "reject"
    assert decision["stage"] == "manager" and decision["comment"] == "诉讼未结，暂缓转交"
    error_of(world.decide("top", approval_id), 409, "already_decided")
    [told] = notifications(world.app, world.ka_rep, "approval_decided")
    assert told.data["status"] == "rejected" and told.data["comment"] == "诉讼未结，暂缓转交"


def test_the_inbox_filters_by_status_kind_and_box(world):
    _, transfer_id = _legal_dispute_transfer(world)
    pooled = world.customer("ka_rep")
    move_to_pool(world.app, pooled.id, "KA")
    world.device("smb_rep").push("customer.claim", {"customer_id": str(pooled.id)})
    customer = world.customer("ka_rep")
    change = applied_with_approval(world.device("ka_rep").push(
        "customer.request_change", {"id": new_id(), "customer_id": str(customer.id),
                                    "changes": {"name": "改名后的测试有限公司"}, "reason": "更名"}))

    assert {a["id"] for a in world.approvals("ka_manager")} == {transfer_id, change}
    assert [a["id"] for a in world.approvals("ka_manager", kind="change_request")] == [change]
    ok(world.decide("ka_manager", change))
    assert [a["id"] for a in world.approvals("ka_manager", status="pending")] == [transfer_id]
    assert [a["id"] for a in world.approvals("ka_manager", box="to_decide")] == [transfer_id]
    assert {a["kind"] for a in world.approvals("ops")} == {"pool_claim"}
    assert len(world.approvals("admin")) == 3
    page = ok(world.get("admin", "/api/v1/approvals", query_string={"limit": 2}))
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = ok(world.get("admin", "/api/v1/approvals", query_string={"limit": 2, "cursor": page["next_cursor"]}))
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    error_of(world.get("admin", "/api/v1/approvals", query_string={"kind": "nonsense"}), 422, "validation_failed")


def test_deciders_of_each_stage_are_notified_when_it_begins(world):
    customer = world.customer("ka_rep")
    approval_id = applied_with_approval(world.device("ka_rep").push(
        "customer.request_change", {"id": new_id(), "customer_id": str(customer.id),
                                    "changes": {"industry": "energy"}, "reason": "主营业务调整"}))
    assert [n.data["approval_id"] for n in notifications(world.app, world.ka_manager, "approval_waiting")] \
        == [approval_id]
    assert [n.data["stage"] for n in notifications(world.app, world.top, "approval_waiting")] == ["manager"]
    assert notifications(world.app, world.ops, "approval_waiting") == []
    assert notifications(world.app, world.internet_manager, "approval_waiting") == []
    ok(world.decide("ka_manager", approval_id))
    [waiting] = notifications(world.app, world.ops, "approval_waiting")
    assert waiting.data["stage"] == "ops" and waiting.data["customer"]["id"] == str(customer.id)


def test_an_approval_id_already_used_is_an_id_conflict(world):
    customer = world.customer("ka_rep")
    used = new_id()
    phone = world.device("ka_rep")
    args = {"id": used, "customer_id": str(customer.id), "changes": {"name": "第一次改名有限公司"}, "reason": "更名"}
    applied_with_approval(phone.push("customer.request_change", args))
    rejected(phone.push("customer.request_change", {**args, "changes": {"name": "第二次改名有限公司"}}), "id_conflict")


def test_deciding_an_unknown_approval_is_not_found(world):
    error_of(world.decide("admin", uuid.uuid4()), 404, "not_found")
    error_of(world.post("admin", f"/api/v1/approvals/{uuid.uuid4()}/decide", {"decision": "maybe"}), 422,
             "validation_failed")
