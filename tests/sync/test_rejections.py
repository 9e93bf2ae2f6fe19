"""Rejected mutations: the queue moves on, nothing typed is lost (SPEC §12 Push, rejections)."""
from __future__ import annotations

import uuid

from sync_helpers import REJECTIONS, Device, count, customer_args, new_id, numbered, ok, statuses

from server.customers.models import Contact, Customer


def _by_mutation(rejections):
    return {r["mutation_id"]: r for r in rejections}


def test_business_rejection_keeps_the_queue_moving_and_stays_until_resolved(factory, db_ctx):
    department = factory.department()
    rep = factory.user("rep", department=department)
    other = factory.user("rep", department=department)
    taken = factory.customer(other)
    taken_too = factory.customer(other)
    device = Device(factory, rep)

    duplicate = customer_args(factory, name=taken.name)
    fine = customer_args(factory)
    answer = ok(device.push_raw(numbered(1, [("customer.create", duplicate), ("customer.create", fine)])))
    assert statuses(answer) == [(1, "rejected"), (2, "applied")], answer
    assert answer["last_mutation_id"] == 2
    error = answer["results"][0]["error"]
    assert error["code"] == "duplicate_customer"
    assert error["details"]["id"] == str(taken.id) and error["details"]["owner_display_name"] == other.display_name
    assert count(db_ctx, Customer, Customer.id == uuid.UUID(duplicate["id"])) == 0
    assert count(db_ctx, Customer, Customer.id == uuid.UUID(fine["id"])) == 1
    # a retry of the batch replays the rejection, it does not run it again
    again = ok(device.push_raw(numbered(1, [("customer.create", duplicate), ("customer.create", fine)])))
    assert statuses(again) == [(1, "replayed"), (2, "replayed")]
    assert again["results"][0]["error"] == error

    device.sync()
    kept = _by_mutation(device.rejections)
    assert set(kept) == {1}
    assert kept[1]["name"] == "customer.create"
    assert kept[1]["args"] == duplicate
    assert kept[1]["error"]["code"] == "duplicate_customer"
    assert kept[1]["client_id"] == device.client_id
    listed = ok(device.client.get(REJECTIONS, headers=device.headers))["rejections"]
    assert [r["mutation_id"] for r in listed] == [1]
    # still there on the next pulls, until resolved
    device.sync()
    assert set(_by_mutation(device.rejections)) == {1}

    # discard: gone from pull
    resolved = ok(device.resolve(1, "discard"))
    assert resolved["status"] == "discarded"
    device.sync()
    assert device.rejections == []
    assert ok(device.client.get(REJECTIONS, headers=device.headers))["rejections"] == []

    # retry with an edited replacement: applied, and the customer arrives by pull
    second = customer_args(factory, name=taken.name)
    third = customer_args(factory, name=taken_too.name)
    answer = ok(device.push_raw(numbered(3, [("customer.create", second), ("customer.create", third)])))
    assert statuses(answer) == [(3, "rejected"), (4, "rejected")]
    device.sync()
    assert set(_by_mutation(device.rejections)) == {3, 4}

    edited = {**second, "name": "上海改名后的新客户有限公司"}
    retried = ok(device.resolve(3, "retry", {"name": "customer.create", "args": edited}))
    assert retried["status"] == "applied", retried
    assert retried["server"]["code"].startswith("C")
    assert count(db_ctx, Customer, Customer.id == uuid.UUID(second["id"])) == 1
    patch = device.patch()
    customers = {o["id"]: o for o in patch if o["entity"] == "customer"}
    assert customers[second["id"]]["data"]["name"] == "上海改名后的新客户有限公司"
    assert set(_by_mutation(device.rejections)) == {4}

    # a retry that fails again stays open with the new error (and the new args)
    still = {**third, "name": taken.name, "tax_id": "not-a-tax-id"}
    failed = ok(device.resolve(4, "retry", {"name": "customer.create", "args": still}))
    assert failed["status"] == "rejected"
    assert failed["error"]["code"] == "invalid_tax_id"
    assert count(db_ctx, Customer, Customer.id == uuid.UUID(third["id"])) == 0
    device.sync()
    open_ = _by_mutation(device.rejections)
    assert set(open_) == {4}
    assert open_[4]["error"]["code"] == "invalid_tax_id"
    assert open_[4]["args"] == still
    # resolving needs the author's own rejection
    stranger = Device(factory, other)
    assert stranger.resolve(4, "discard").status_code == 404
    assert device.resolve(99, "discard").status_code == 404


def test_dependency_rejected_points_to_the_root(factory, db_ctx):
    department = factory.department()
    rep = factory.user("rep", department=department)
    other = factory.user("rep", department=department)
    taken = factory.customer(other)
    device = Device(factory, rep)

    rejected = customer_args(factory, name=taken.name, contacts=[{"name": "随客户一起建"}])
    inner_contact = rejected["contacts"][0]["id"]
    contact_id = new_id()
    unrelated = customer_args(factory)
    batch = numbered(1, [
        ("customer.create", rejected),
        ("contact.create", {"id": contact_id, "customer_id": rejected["id"], "name": "李娜"}),
        ("customer.update", {"id": rejected["id"], "base_version": 0, "changes": {"notes": "后来补的"}}),
        ("contact.update", {"id": contact_id, "base_version": 0, "changes": {"title": "总监"}}),
        ("contact.update", {"id": inner_contact, "base_version": 0, "changes": {"title": "主任"}}),
        ("customer.create", unrelated),
    ])
    answer = ok(device.push_raw(batch))
    assert statuses(answer) == [(1, "rejected"), (2, "rejected"), (3, "rejected"), (4, "rejected"),
                                (5, "rejected"), (6, "applied")], answer
    assert answer["last_mutation_id"] == 6
    results = {r["id"]: r for r in answer["results"]}
    assert results[1]["error"]["code"] == "duplicate_customer"
    for mid in (2, 3, 4, 5):
        assert results[mid]["error"]["code"] == "dependency_rejected", results[mid]
        assert results[mid]["error"]["details"]["root_mutation_id"] == 1
    assert count(db_ctx, Contact, Contact.id.in_([uuid.UUID(contact_id), uuid.UUID(inner_contact)])) == 0

    device.sync()
    kept = _by_mutation(device.rejections)
    assert set(kept) == {1, 2, 3, 4, 5}
    assert kept[4]["args"]["changes"] == {"title": "总监"}
    assert kept[4]["error"]["details"]["root_mutation_id"] == 1


def test_id_conflict(factory, db_ctx):
    department = factory.department()
    rep = factory.user("rep", department=department)
    other = factory.user("rep", department=department)
    existing = factory.customer(other)
    contact = factory.contact(existing, other)
    device = Device(factory, rep)
    reused = customer_args(factory, id=str(existing.id))
    mine = customer_args(factory)
    answer = ok(device.push_raw(numbered(1, [
        ("customer.create", reused),
        ("customer.create", mine),
        ("contact.create", {"id": str(contact.id), "customer_id": mine["id"], "name": "撞号"}),
    ])))
    assert statuses(answer) == [(1, "rejected"), (2, "applied"), (3, "rejected")], answer
    assert answer["results"][0]["error"]["code"] == "id_conflict"
    assert answer["results"][2]["error"]["code"] == "id_conflict"
    with db_ctx() as session:
        assert session.get(Customer, existing.id).owner_id == other.id
        assert session.get(Contact, contact.id).customer_id == existing.id
    assert count(db_ctx, Customer, Customer.name == reused["name"]) == 0


def test_stale_offline_write_after_losing_access_is_rejected_and_kept(factory, db_ctx):
    department = factory.department()
    owner = factory.user("rep", department=department)
    helper = factory.user("rep", department=department)
    owner_device = Device(factory, owner)
    helper_device = Device(factory, helper)
    create = customer_args(factory, contacts=[{"name": "张宏"}])
    assert owner_device.send("customer.create", create)["status"] == "applied"
    assert owner_device.send("cofollower.add", {"customer_id": create["id"], "user_id": str(helper.id),
                                                 "permission": "write"})["status"] == "applied"
    helper_device.sync()
    assert helper_device.has("customer", create["id"])
    base = helper_device.state[("customer", create["id"])]["version"]
    # while a write co-follower, the helper's edits apply
    assert helper_device.send("customer.update", {"id": create["id"], "base_version": base,
                                                   "changes": {"notes": "协同跟进中"}})["status"] == "applied"

    # the helper goes offline and keeps typing; meanwhile the owner removes them
    contact_id = new_id()
    helper_device.queue("customer.update", {"id": create["id"], "base_version": base,
                                             "changes": {"website": "https://stale.example"}})
    helper_device.queue("contact.create", {"id": contact_id, "customer_id": create["id"], "name": "离线新建"})
    assert owner_device.send("cofollower.remove", {"customer_id": create["id"],
                                                    "user_id": str(helper.id)})["status"] == "applied"

    answer = helper_device.push()
    assert [(r["status"], r["error"]["code"]) for r in answer["results"]] == [
        ("rejected", "not_authorized"), ("rejected", "not_authorized")], answer
    with db_ctx() as session:
        assert session.get(Customer, uuid.UUID(create["id"])).website is None
    assert count(db_ctx, Contact, Contact.id == uuid.UUID(contact_id)) == 0

    patch = helper_device.patch()
    kept = _by_mutation(helper_device.rejections)
    assert {kept[m]["name"] for m in kept} == {"customer.update", "contact.create"}
    assert all(r["error"]["code"] == "not_authorized" for r in kept.values())
    contact_rejection = next(r for r in kept.values() if r["name"] == "contact.create")
    assert contact_rejection["args"]["name"] == "离线新建"
    # and the customer leaves the helper's phone, with its contacts
    dels = {(o["entity"], o["id"]) for o in patch if o["op"] == "del"}
    assert ("customer", create["id"]) in dels
    assert ("contact", create["contacts"][0]["id"]) in dels
    assert not helper_device.has("customer", create["id"])
