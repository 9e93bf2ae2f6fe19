"""R-T1 transfers: who may, to whom, quota, lines, and the department head's approval."""
from __future__ import annotations

import pytest
from approval_helpers import (applied_with_approval, approval_row, customer_row, error_of,
                              notifications, ok, rejected, set_fields, set_settings, world)  # noqa: F401


def _transfer(device, customers, to, reason="工作调整"):
    return device.push("customer.transfer", {"customer_ids": [str(c.id) for c in customers],
                                             "to_user_id": str(to.id), "reason": reason})


def test_owner_transfers_to_a_rep_of_the_same_line_who_is_notified(world):
    customer = world.customer("ka_rep")
    result = _transfer(world.device("ka_rep"), [customer], world.ka_rep2)
    assert result["status"] == "applied" and "error" not in result, result
    assert result["server"]["transferred"] == 1
    assert customer_row(world.app, customer.id).owner_id == world.ka_rep2.id
    [told] = notifications(world.app, world.ka_rep2, "customers_transferred_in")
    assert told.data["count"] == 1 and told.data["customers"][0]["id"] == str(customer.id)
    assert told.data["reason"] == "工作调整"


def test_a_manager_transfers_many_and_the_former_owner_is_notified(world):
    customers = [world.customer("ka_rep") for _ in range(3)]
    result = _transfer(world.device("ka_manager"), customers, world.ka_rep2, reason="区域调整")
    assert result["server"]["transferred"] == 3
    assert {customer_row(world.app, c.id).owner_id for c in customers} == {world.ka_rep2.id}
    [out] = notifications(world.app, world.ka_rep, "customers_transferred_out")
    assert out.data["count"] == 3 and out.data["to"] == "KA业务员乙" and out.data["by"] == "KA一部经理"


@pytest.mark.parametrize("flag", ["receivables", "legal_dispute"])
def test_transfer_of_a_customer_with_receivables_or_dispute_waits_for_the_department_head(world, flag):
    from server.customers.models import Customer

    customer = world.customer("ka_rep")
    plain = world.customer("ka_rep")
    if flag == "receivables":
        set_fields(world.app, Customer, customer.id, deal_total=500_000, payment_total=200_000)
    else:
        set_fields(world.app, Customer, customer.id, legal_dispute=True)

    result = _transfer(world.device("ka_rep"), [customer, plain], world.ka_rep2)
    approval_id = applied_with_approval(result)
    assert result["error"]["details"]["customer_ids"] == [str(customer.id)]
    assert result["server"]["transferred"] == 1  # the plain one moved now
    assert customer_row(world.app, plain.id).owner_id == world.ka_rep2.id
    assert customer_row(world.app, customer.id).owner_id == world.ka_rep.id

    # the department head (manager of the owner's department or above) decides; others do not
    [item] = world.approvals("ka_manager", box="to_decide")
    assert item["id"] == approval_id and item["kind"] == "transfer" and item["can_decide"] is True
    assert item["payload"]["to_user_id"] == str(world.ka_rep2.id)
    assert [a["id"] for a in world.approvals("top", box="to_decide")] == [approval_id]
    assert world.approvals("internet_manager") == []
    error_of(world.decide("ka_rep2", approval_id), 404, "not_found")
    error_of(world.decide("ka_rep", approval_id), 403, "not_authorized")  # the requester
    assert {n.data["approval_id"] for n in notifications(world.app, world.ka_manager, "approval_waiting")} \
        == {approval_id}

    body = ok(world.decide("ka_manager", approval_id, comment="已确认回款计划"))
    assert body["status"] == "approved" and body["result"]["owner_id"] == str(world.ka_rep2.id)
    assert customer_row(world.app, customer.id).owner_id == world.ka_rep2.id


def test_a_manager_above_the_owner_transfers_a_customer_with_receivables_directly(world):
    from server.customers.models import Customer

    customer = world.customer("ka_rep")
    set_fields(world.app, Customer, customer.id, deal_total=100, payment_total=0)
    result = _transfer(world.device("ka_manager"), [customer], world.ka_rep2)
    assert result["status"] == "applied" and "error" not in result, result
    assert customer_row(world.app, customer.id).owner_id == world.ka_rep2.id


def test_transfer_over_quota_is_refused_and_says_how_many_fit(world):
    set_settings(world.app, {"quotas": {"KA": 3}})
    world.customer("ka_rep2")
    world.customer("ka_rep2")
    customers = [world.customer("ka_rep") for _ in range(3)]
    error = rejected(_transfer(world.device("ka_rep"), customers, world.ka_rep2), "quota_exceeded")
    assert error["details"] == {"count": 2, "limit": 3, "business_line": "KA", "fits": 1}
    assert {customer_row(world.app, c.id).owner_id for c in customers} == {world.ka_rep.id}  # nothing moved
    assert _transfer(world.device("ka_rep"), customers[:1], world.ka_rep2)["status"] == "applied"


def test_subsidiaries_do_not_count_toward_the_receivers_quota(world):
    set_settings(world.app, {"quotas": {"KA": 1}})
    world.customer("ka_rep2")
    parent = world.customer("ka_rep")
    child = world.customer("ka_rep", parent_id=parent.id)
    assert _transfer(world.device("ka_rep"), [child], world.ka_rep2)["status"] == "applied"


def test_cross_line_transfer_by_a_single_line_manager_is_refused(world):
    customer = world.customer("ka_rep")
    error = rejected(_transfer(world.device("ka_manager"), [customer], world.internet_rep), "cross_line_forbidden")
    assert error["details"]["customer_line"] == "KA" and error["details"]["receiver_line"] == "INTERNET"
    rejected(_transfer(world.device("ka_rep"), [customer], world.internet_rep), "cross_line_forbidden")
    assert customer_row(world.app, customer.id).owner_id == world.ka_rep.id


@pytest.mark.parametrize("actor", ["admin", "top"])
def test_cross_line_transfer_by_an_admin_or_a_manager_of_both_lines_is_allowed(world, actor):
    customer = world.customer("ka_rep")
    result = _transfer(world.device(actor), [customer], world.internet_rep)
    assert result["status"] == "applied" and "error" not in result, result
    assert customer_row(world.app, customer.id).owner_id == world.internet_rep.id


def test_internet_finance_may_be_followed_by_ka_and_internet(world):
    customer = world.customer("ka_rep", industry="internet_finance")
    assert _transfer(world.device("ka_rep"), [customer], world.internet_rep)["status"] == "applied"


def test_the_receiver_must_be_an_active_rep_or_manager(world):
    customer = world.customer("ka_rep")
    phone = world.device("ka_rep")
    rejected(_transfer(phone, [customer], world.ops), "validation_failed")
    ok(world.client.patch(f"/api/v1/admin/users/{world.ka_rep2.id}", json={"active": False},
                          headers=world.headers("admin")))
    rejected(_transfer(phone, [customer], world.ka_rep2), "user_inactive")


def test_reps_who_do_not_own_the_customer_cannot_transfer_it(world):
    customer = world.customer("ka_rep")
    rejected(_transfer(world.device("ka2_rep"), [customer], world.ka2_rep), "not_found")
    world.device("ka_rep").push("cofollower.add", {"customer_id": str(customer.id), "user_id": str(world.ka_rep2.id),
                                                   "permission": "write"})
    rejected(_transfer(world.device("ka_rep2"), [customer], world.ka_rep2), "not_authorized")  # R-O2
    rejected(_transfer(world.device("ops"), [customer], world.ka_rep2), "not_authorized")


def test_the_receivers_co_follow_row_becomes_ownership_and_history_stays(world):
    customer = world.customer("ka_rep")
    owner = world.device("ka_rep")
    owner.push("cofollower.add", {"customer_id": str(customer.id), "user_id": str(world.ka_rep2.id),
                                  "permission": "read"})
    owner.push("customer.update", {"id": str(customer.id), "base_version": 0, "changes": {"notes": "重点跟进"}})
    _transfer(owner, [customer], world.ka_rep2)
    history = ok(world.get("ka_rep2", f"/api/v1/customers/{customer.id}/history"))
    assert [c["field"] for c in history["changes"]] == ["notes"]
    assert [e["action"] for e in history["events"] if e["action"] == "customer.transfer"] == ["customer.transfer"]
    receiver = world.device("ka_rep2")
    receiver.pull()
    assert receiver.get("customer", customer.id)["co_followers"] == []


def test_approving_a_transfer_checks_everything_again(world):
    from server.customers.models import Customer

    customer = world.customer("ka_rep")
    set_fields(world.app, Customer, customer.id, legal_dispute=True)
    approval_id = applied_with_approval(_transfer(world.device("ka_rep"), [customer], world.ka_rep2))
    ok(world.client.patch(f"/api/v1/admin/users/{world.ka_rep2.id}", json={"active": False},
                          headers=world.headers("admin")))
    error_of(world.decide("ka_manager", approval_id), 422, "user_inactive")
    assert approval_row(world.app, approval_id).status == "pending"
    assert customer_row(world.app, customer.id).owner_id == world.ka_rep.id
    assert ok(world.decide("ka_manager", approval_id, "reject", comment="接收人已离职"))["status"] == "rejected"


def test_a_second_transfer_request_while_one_waits_is_refused(world):
    from server.customers.models import Customer

    customer = world.customer("ka_rep")
    set_fields(world.app, Customer, customer.id, legal_dispute=True)
    phone = world.device("ka_rep")
    applied_with_approval(_transfer(phone, [customer], world.ka_rep2))
    rejected(_transfer(phone, [customer], world.ka_rep2), "approval_pending")


def test_online_bulk_transfer_answers_moved_and_pending(world):
    from server.customers.models import Customer

    plain = world.customer("ka_rep")
    disputed = world.customer("ka_rep")
    set_fields(world.app, Customer, disputed.id, legal_dispute=True)
    body = ok(world.post("ka_rep", "/api/v1/customers/transfer",
                         {"customer_ids": [str(plain.id), str(disputed.id)], "to_user_id": str(world.ka_rep2.id),
                          "reason": "离职交接"}))
    assert body["transferred"] == [str(plain.id)]
    assert [p["customer_id"] for p in body["pending_approvals"]] == [str(disputed.id)]


def test_every_owner_change_calls_the_owner_change_hooks(world):
    from server.customers import service

    seen = []

    def hook(customer, old, new):
        seen.append((customer.id, old, new))

    service.OWNER_CHANGE_HOOKS.append(hook)
    try:
        customer = world.customer("ka_rep")
        _transfer(world.device("ka_rep"), [customer], world.ka_rep2)
        world.device("ka_rep2").push("customer.release", {"customer_id": str(customer.id), "reason": "无意向"})
        world.device("ka2_rep").push("customer.claim", {"customer_id": str(customer.id)})
    finally:
        service.OWNER_CHANGE_HOOKS.remove(hook)
    assert seen == [(customer.id, world.ka_rep.id, world.ka_rep2.id), (customer.id, world.ka_rep2.id, None),
                    (customer.id, None, world.ka2_rep.id)]
