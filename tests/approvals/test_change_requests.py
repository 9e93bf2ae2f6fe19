"""R-T2 change requests and R-C9 subsidiary line mismatch, decided through approvals."""
from __future__ import annotations

from approval_helpers import (applied_with_approval, approval_row, customer_row, error_of, new_id, ok, rejected,
                              set_settings, world)  # noqa: F401


def _bad_tax_id() -> str:
    import random

    from server.customers.identity import generate_tax_id

    valid = generate_tax_id(random.Random(99))
    return valid[:-1] + ("0" if valid[-1] != "0" else "1")  # wrong check character


def _request(device, customer, changes, reason="工商变更", approval_id=None):
    return device.push("customer.request_change", {"id": approval_id or new_id(), "customer_id": str(customer.id),
                                                   "changes": changes, "reason": reason})


def test_name_change_approved_by_the_manager_renames_and_keeps_before_after_in_history(world):
    customer = world.customer("ka_rep", name="上海旧名称科技有限公司")
    approval_id = new_id()
    result = _request(world.device("ka_rep"), customer, {"name": "上海新名称科技有限公司"}, approval_id=approval_id)
    assert applied_with_approval(result) == approval_id  # the phone's id is the approval's
    assert customer_row(world.app, customer.id).name == "上海旧名称科技有限公司"

    [item] = world.approvals("ka_manager", box="to_decide")
    assert item["kind"] == "change_request" and item["stages"] == ["manager"]
    assert item["payload"]["changes"] == {"name": "上海新名称科技有限公司"}
    assert item["payload"]["before"] == {"name": "上海旧名称科技有限公司"}
    assert ok(world.decide("ka_manager", approval_id))["status"] == "approved"

    row = customer_row(world.app, customer.id)
    assert row.name == "上海新名称科技有限公司" and row.name_key == "上海新名称科技有限公司"
    history = ok(world.get("ka_rep", f"/api/v1/customers/{customer.id}/history"))
    [change] = [c for c in history["changes"] if c["field"] == "name"]
    assert change["before"] == "上海旧名称科技有限公司" and change["after"] == "上海新名称科技有限公司"
    assert change["actor"]["id"] == str(world.ka_rep.id)
    [event] = [e for e in history["events"] if e["action"] == "customer.change_request"]
    assert event["changes"]["approved_by"] == [None, str(world.ka_manager.id)]
    # the duplicate look-up knows the new name, and the old one is free again
    matches = ok(world.get("ka_rep2", "/api/v1/customers", query_string={"q": "新名称"}))["matches"]
    assert [m["id"] for m in matches] == [str(customer.id)]
    world.customer("ka_rep2", name="上海旧名称科技有限公司")


def test_industry_change_needs_the_manager_and_then_business_support(world):
    customer = world.customer("ka_rep")
    approval_id = applied_with_approval(_request(world.device("ka_rep"), customer, {"industry": "video"}))
    ops_phone = world.device("ops")
    ops_phone.pull()
    assert ops_phone.get("approval", approval_id)["can_decide"] is False  # manager first
    error_of(world.decide("ops", approval_id), 403, "not_authorized")

    body = ok(world.decide("ka_manager", approval_id))
    assert body["status"] == "pending" and body["stage"] == "ops" and body["stage_index"] == 1
    assert customer_row(world.app, customer.id).industry == "finance"  # nothing applied yet
    error_of(world.decide("ka_manager", approval_id), 403, "not_authorized")
    ops_phone.pull()
    assert ops_phone.get("approval", approval_id)["can_decide"] is True

    decided = ops_phone.push("approval.decide", {"approval_id": approval_id, "decision": "approve"})
    assert decided["server"]["status"] == "approved", decided
    row = customer_row(world.app, customer.id)
    assert row.industry == "video" and row.business_line.value == "INTERNET"
    assert row.origin_pool.value == "INTERNET"
    assert [d["stage"] for d in approval_row(world.app, approval_id).decisions] == ["manager", "ops"]
    fields = {c["field"] for c in ok(world.get("ka_rep", f"/api/v1/customers/{customer.id}/history"))["changes"]}
    assert {"industry", "business_line"} <= fields


def test_a_name_taken_meanwhile_fails_the_decision_with_duplicate_customer_and_stays_pending(world):
    customer = world.customer("ka_rep")
    approval_id = applied_with_approval(_request(world.device("ka_rep"), customer, {"name": "北京抢注测试有限公司"}))
    other = world.customer("ka2_rep", name="北京抢注测试有限公司")

    error = error_of(world.decide("ka_manager", approval_id), 409, "duplicate_customer")
    assert error["details"]["id"] == str(other.id)
    row = approval_row(world.app, approval_id)
    assert row.status == "pending" and row.decisions == [] and row.stage == 0
    # the same answer through sync: the decision is rejected, the approval still pending
    rejected(world.device("ka_manager").push("approval.decide", {"approval_id": approval_id, "decision": "approve"}),
             "duplicate_customer")
    assert approval_row(world.app, approval_id).status == "pending"
    assert customer_row(world.app, customer.id).name != "北京抢注测试有限公司"


def test_a_known_duplicate_or_bad_tax_id_is_refused_when_asked(world):
    customer = world.customer("ka_rep")
    other = world.customer("ka_rep2")
    phone = world.device("ka_rep")
    rejected(_request(phone, customer, {"name": other.name}), "duplicate_customer")
    rejected(_request(phone, customer, {"tax_id": _bad_tax_id()}), "invalid_tax_id")
    rejected(_request(phone, customer, {"tax_id": other.tax_id}), "duplicate_customer")
    rejected(_request(phone, customer, {"notes": "普通字段直接改"}), "validation_failed")
    rejected(_request(phone, customer, {"name": customer.name}), "nothing_to_change")


def test_only_the_owner_or_a_write_co_follower_may_ask(world):
    customer = world.customer("ka_rep")
    owner = world.device("ka_rep")
    owner.push("cofollower.add", {"customer_id": str(customer.id), "user_id": str(world.ka_rep2.id),
                                  "permission": "read"})
    rejected(_request(world.device("ka_rep2"), customer, {"name": "读权限改名有限公司"}), "not_authorized")
    owner.push("cofollower.add", {"customer_id": str(customer.id), "user_id": str(world.ka_rep2.id),
                                  "permission": "write"})
    applied_with_approval(_request(world.device("ka_rep2"), customer, {"name": "写权限改名有限公司"}))
    rejected(_request(world.device("ka2_rep"), customer, {"name": "陌生人改名有限公司"}), "not_authorized")


def test_a_line_change_checks_the_owners_quota_in_the_new_line(world):
    customer = world.customer("ka_rep")
    approval_id = applied_with_approval(_request(world.device("ka_rep"), customer, {"industry": "video"}))
    ok(world.decide("ka_manager", approval_id))
    set_settings(world.app, {"quotas": {"INTERNET": 0}})
    error = error_of(world.decide("ops", approval_id), 409, "quota_exceeded")
    assert error["details"]["business_line"] == "INTERNET"
    row = approval_row(world.app, approval_id)
    assert row.status == "pending" and row.stage == 1


def test_creating_a_subsidiary_of_a_parent_in_another_line_waits_for_ops(world):
    parent = world.customer("ka_rep", name="深圳母公司集团有限公司")
    phone = world.device("ka_rep")
    args = world.factory.customer_args(id=new_id(), name="深圳子公司视频有限公司", industry="video",
                                       parent_id=str(parent.id))
    result = phone.push("customer.create", args)
    approval_id = applied_with_approval(result)
    assert result["server"]["code"].startswith("C")  # the customer exists already
    assert customer_row(world.app, args["id"]).parent_id is None  # without its parent for now

    [item] = world.approvals("ops", box="to_decide")
    assert item["kind"] == "subsidiary_line" and item["payload"]["parent_line"] == "KA"
    assert item["payload"]["line"] == "INTERNET"
    assert ok(world.decide("ops", approval_id))["status"] == "approved"
    assert customer_row(world.app, args["id"]).parent_id == parent.id


def test_a_parent_change_across_lines_names_the_mismatch_for_ops(world):
    parent = world.customer("ka_rep", line="INTERNET")
    customer = world.customer("ka_rep")
    approval_id = applied_with_approval(_request(world.device("ka_rep"), customer, {"parent_id": str(parent.id)}))
    item = ok(world.get("ops", f"/api/v1/approvals/{approval_id}"))
    assert item["stages"] == ["manager", "ops"]
    assert item["payload"]["line_mismatch"]["parent_line"] == "INTERNET"
    ok(world.decide("ka_manager", approval_id))
    ok(world.decide("ops", approval_id))
    assert customer_row(world.app, customer.id).parent_id == parent.id


def test_a_customer_cannot_become_its_own_subsidiarys_subsidiary(world):
    parent = world.customer("ka_rep")
    child = world.customer("ka_rep", parent_id=parent.id)
    rejected(_request(world.device("ka_rep"), parent, {"parent_id": str(child.id)}), "parent_cycle")
