"""R-P2 through approvals: an SMB rep's claim from an industry pool waits for business support."""
from __future__ import annotations

from approval_helpers import (applied_with_approval, approval_row, customer_row, error_of, move_to_pool,
                              notifications, ok, rejected, set_settings, world)  # noqa: F401


def test_smb_rep_claim_from_industry_pool_is_approved_by_ops_and_reaches_the_reps_phone(world):
    customer = world.customer("ka_rep", name="杭州申领审批科技有限公司")
    move_to_pool(world.app, customer.id, "KA")
    rep_phone, ops_phone = world.device("smb_rep"), world.device("ops")
    rep_phone.pull()

    approval_id = applied_with_approval(rep_phone.push("customer.claim", {"customer_id": str(customer.id)}))

    # still in the pool until business support decides
    assert customer_row(world.app, customer.id).pool.value == "KA"
    rep_phone.pull()
    assert rep_phone.get("customer", customer.id) is None
    mine = rep_phone.get("approval", approval_id)
    assert mine["kind"] == "pool_claim" and mine["status"] == "pending" and mine["can_decide"] is False
    # ops are told an approval waits for them
    [waiting] = notifications(world.app, world.ops, "approval_waiting")
    assert waiting.data["approval_id"] == approval_id

    ops_phone.pull()
    inbox = ops_phone.get("approval", approval_id)
    assert inbox["can_decide"] is True and inbox["stage"] == "ops"
    assert inbox["requester"]["display_name"] == "SMB业务员"
    assert inbox["customer"]["name"] == "杭州申领审批科技有限公司"

    decided = ops_phone.push("approval.decide", {"approval_id": approval_id, "decision": "approve",
                                                 "comment": "同意"})
    assert decided["status"] == "applied" and decided["server"]["status"] == "approved", decided

    rep_phone.pull()
    mine_customer = rep_phone.get("customer", customer.id)
    assert mine_customer is not None and mine_customer["owner"]["id"] == str(world.smb_rep.id)
    assert rep_phone.get("approval", approval_id)["status"] == "approved"
    row = approval_row(world.app, approval_id)
    assert row.decided_by_id == world.ops.id and row.comment == "同意" and row.decided_at is not None
    assert [d["decision"] for d in row.decisions] == ["approve"]
    [told] = notifications(world.app, world.smb_rep, "approval_decided")
    assert told.data["status"] == "approved"


def test_rejected_pool_claim_leaves_the_customer_in_the_pool(world):
    customer = world.customer("ka_rep")
    move_to_pool(world.app, customer.id, "KA")
    rep_phone = world.device("smb_rep")
    approval_id = applied_with_approval(rep_phone.push("customer.claim", {"customer_id": str(customer.id)}))

    body = ok(world.decide("ops", approval_id, "reject", comment="请先拜访"))
    assert body["status"] == "rejected" and body["approver"]["id"] == str(world.ops.id)

    row = customer_row(world.app, customer.id)
    assert row.owner_id is None and row.pool.value == "KA"
    rep_phone.pull()
    assert rep_phone.get("customer", customer.id) is None
    assert rep_phone.get("approval", approval_id)["status"] == "rejected"
    assert rep_phone.get("approval", approval_id)["comment"] == "请先拜访"


def test_ka_rep_claiming_from_the_internet_pool_is_cross_line_forbidden(world):
    customer = world.customer("internet_rep", line="INTERNET")
    move_to_pool(world.app, customer.id, "INTERNET")
    result = world.device("ka_rep").push("customer.claim", {"customer_id": str(customer.id)})
    rejected(result, "cross_line_forbidden")
    assert world.approvals("ops") == []


def test_approving_a_claim_checks_the_quota_again_and_a_failure_leaves_it_pending(world):
    customer = world.customer("ka_rep")
    move_to_pool(world.app, customer.id, "KA")
    approval_id = applied_with_approval(
        world.device("smb_rep").push("customer.claim", {"customer_id": str(customer.id)}))
    set_settings(world.app, {"quotas": {"KA": 0}})

    error = error_of(world.decide("ops", approval_id), 409, "quota_exceeded")
    assert error["details"]["limit"] == 0 and error["details"]["fits"] == 0
    row = approval_row(world.app, approval_id)
    assert row.status == "pending" and row.decisions == []
    assert customer_row(world.app, customer.id).pool.value == "KA"

    set_settings(world.app, {"quotas": {"KA": 50}})
    assert ok(world.decide("ops", approval_id))["status"] == "approved"
    assert customer_row(world.app, customer.id).owner_id == world.smb_rep.id


def test_a_claim_taken_by_someone_else_first_fails_with_not_in_pool(world):
    customer = world.customer("ka_rep")
    move_to_pool(world.app, customer.id, "KA")
    approval_id = applied_with_approval(
        world.device("smb_rep").push("customer.claim", {"customer_id": str(customer.id)}))
    assert world.device("ka_rep2").push("customer.claim", {"customer_id": str(customer.id)})["status"] == "applied"
    error_of(world.decide("ops", approval_id), 409, "not_in_pool")
    assert approval_row(world.app, approval_id).status == "pending"
    assert ok(world.decide("ops", approval_id, "reject"))["status"] == "rejected"


def test_claiming_again_while_the_request_waits_answers_the_same_approval(world):
    customer = world.customer("ka_rep")
    move_to_pool(world.app, customer.id, "KA")
    phone = world.device("smb_rep")
    first = applied_with_approval(phone.push("customer.claim", {"customer_id": str(customer.id)}))
    assert applied_with_approval(phone.push("customer.claim", {"customer_id": str(customer.id)})) == first
    assert [a["id"] for a in world.approvals("ops")] == [first]
