"""R-C11 void and restore; R-T2 change history (变更记录)."""
from __future__ import annotations

from approval_helpers import (customer_row, error_of, move_to_pool, new_id, notifications, ok, set_settings,
                              world)  # noqa: F401


def _ids(items):
    return [i["id"] for i in items]


def test_void_hides_the_customer_from_the_owners_list_and_the_next_pull_deletes_it(world):
    customer = world.customer("ka_rep", name="苏州作废测试有限公司")
    contact = world.factory.contact(customer, by=world.ka_rep)
    phone = world.device("ka_rep")
    phone.pull()
    assert phone.get("customer", customer.id) and phone.get("contact", contact.id)

    body = ok(world.post("ka_manager", f"/api/v1/customers/{customer.id}/void", {"reason": "重复录入"}))
    assert body["voided_at"] is not None

    assert str(customer.id) not in _ids(ok(world.get("ka_rep", "/api/v1/customers"))["items"])
    assert str(customer.id) not in _ids(ok(world.get("ka_manager", "/api/v1/customers"))["items"])
    error_of(world.get("ka_rep", f"/api/v1/customers/{customer.id}"), 404, "not_found")
    pulled = phone.pull()
    dels = {(op["entity"], op["id"]) for op in pulled["patch"] if op["op"] == "del"}
    assert ("customer", str(customer.id)) in dels and ("contact", str(contact.id)) in dels
    assert phone.get("customer", customer.id) is None
    # still in duplicate checks and in history; nothing deleted
    error_of(world.post("ka_rep2", "/api/v1/customers", world.factory.customer_args(name="苏州作废测试有限公司")),
             409, "duplicate_customer")
    history = ok(world.get("ka_manager", f"/api/v1/customers/{customer.id}/history"))
    [event] = [e for e in history["events"] if e["action"] == "customer.void"]
    assert event["changes"]["void_reason"] == [None, "重复录入"]
    [told] = notifications(world.app, world.ka_rep, "customer_voided")
    assert told.data["reason"] == "重复录入"


def test_restore_brings_the_customer_back_to_lists_and_phones(world):
    customer = world.customer("ka_rep")
    phone = world.device("ka_rep")
    ok(world.post("ka_manager", f"/api/v1/customers/{customer.id}/void", {"reason": "误判为重复"}))
    phone.pull()
    assert phone.get("customer", customer.id) is None

    body = ok(world.post("admin", f"/api/v1/customers/{customer.id}/restore", {"reason": "核实后恢复"}))
    assert body["voided_at"] is None
    assert str(customer.id) in _ids(ok(world.get("ka_rep", "/api/v1/customers"))["items"])
    phone.pull()
    assert phone.get("customer", customer.id)["voided_at"] is None
    actions = [e["action"] for e in ok(world.get("ka_rep", f"/api/v1/customers/{customer.id}/history"))["events"]]
    assert actions[-2:] == ["customer.void", "customer.restore"]


def test_reps_and_ops_cannot_void_and_pool_customers_only_by_admins(world):
    customer = world.customer("ka_rep")
    error_of(world.post("ka_rep", f"/api/v1/customers/{customer.id}/void", {"reason": "不要了"}), 403,
             "not_authorized")
    error_of(world.post("ka2_rep", f"/api/v1/customers/{customer.id}/void", {"reason": "不要了"}), 404, "not_found")
    error_of(world.post("ops", f"/api/v1/customers/{customer.id}/void", {"reason": "不要了"}), 403, "not_authorized")
    error_of(world.post("internet_manager", f"/api/v1/customers/{customer.id}/void", {"reason": "不要了"}), 404,
             "not_found")
    assert customer_row(world.app, customer.id).voided_at is None
    pooled = world.customer("ka_rep")
    move_to_pool(world.app, pooled.id, "KA")
    error_of(world.post("ka_manager", f"/api/v1/customers/{pooled.id}/void", {"reason": "空壳公司"}), 404, "not_found")
    ok(world.post("admin", f"/api/v1/customers/{pooled.id}/void", {"reason": "空壳公司"}))
    assert customer_row(world.app, pooled.id).voided_at is not None


def test_voided_customers_free_quota_and_restoring_checks_it_again(world):
    set_settings(world.app, {"quotas": {"KA": 1}})
    customer = world.customer("ka_rep")
    ok(world.post("ka_manager", f"/api/v1/customers/{customer.id}/void", {"reason": "重复录入"}))
    world.customer("ka_rep")  # the voided one no longer counts
    error = error_of(world.post("ka_manager", f"/api/v1/customers/{customer.id}/restore", {}), 409, "quota_exceeded")
    assert error["details"]["fits"] == 0
    assert customer_row(world.app, customer.id).voided_at is not None


def test_history_shows_customer_and_contact_changes_with_before_after_and_ownership_moves(world):
    customer = world.customer("ka_rep", confidentiality="confidential")
    contact = world.factory.contact(customer, by=world.ka_rep, mobile="13800001234")
    phone = world.device("ka_rep")
    phone.push("customer.update", {"id": str(customer.id), "base_version": 0, "changes": {"region": "上海市静安区"}})
    phone.push("contact.update", {"id": str(contact.id), "base_version": 0, "changes": {"mobile": "13900005678"}})
    phone.push("customer.transfer", {"customer_ids": [str(customer.id)], "to_user_id": str(world.ka_rep2.id),
                                     "reason": "调岗"})

    history = ok(world.get("ka_rep2", f"/api/v1/customers/{customer.id}/history"))
    by_field = {(c["entity"], c["field"]): c for c in history["changes"]}
    assert by_field[("customer", "region")]["before"] == "上海市黄浦区"
    assert by_field[("customer", "region")]["after"] == "上海市静安区"
    assert by_field[("contact", "mobile")]["after"] == "13900005678"  # the owner sees numbers
    actions = [e["action"] for e in history["events"]]
    assert actions[0] == "customer.create" and "customer.transfer" in actions
    assert "customer.update" not in actions  # shown field by field instead
    [transfer] = [e for e in history["events"] if e["action"] == "customer.transfer"]
    assert transfer["changes"]["owner_id"] == [str(world.ka_rep.id), str(world.ka_rep2.id)]
    assert transfer["actor"]["display_name"] == "KA业务员甲"

    # a manager sees the history, with confidential numbers masked (R-C10)
    managers = ok(world.get("ka_manager", f"/api/v1/customers/{customer.id}/history"))
    [mobile] = [c for c in managers["changes"] if c["field"] == "mobile"]
    assert mobile["before"] == "138****1234" and mobile["after"] == "139****5678"
    [created] = [e for e in managers["events"] if e["action"] == "contact.create"]
    assert created["entity_id"] == str(contact.id) and created["changes"]["mobile"] == [None, "138****1234"]


def test_history_is_only_for_those_who_see_the_customer(world):
    customer = world.customer("ka_rep")
    error_of(world.get("ka2_rep", f"/api/v1/customers/{customer.id}/history"), 404, "not_found")
    error_of(world.get("internet_manager", f"/api/v1/customers/{customer.id}/history"), 404, "not_found")
    ok(world.get("ops", f"/api/v1/customers/{customer.id}/history"))
    error_of(world.get("ka_rep", f"/api/v1/customers/{new_id()}/history"), 404, "not_found")
