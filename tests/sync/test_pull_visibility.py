"""Pull follows visibility: transfer, share, co-follow, masking (SPEC §12 Pull, R-O4, R-C10)."""
from __future__ import annotations

from sync_helpers import Device, customer_args, new_id


def _ops(patch, op):
    return {(o["entity"], o["id"]) for o in patch if o["op"] == op}


def _with_contacts(factory, **overrides):
    return customer_args(factory, contacts=[{"name": "张宏", "title": "主任", "mobile": "13812345678"},
                                            {"name": "李娜", "title": "采购", "mobile": "13987655678",
                                             "phone": "021-63211234"}], **overrides)


def test_transfer_moves_the_customer_and_its_contacts_between_phones(factory):
    department = factory.department()
    manager = factory.user("manager", department=department)
    former = factory.user("rep", department=department)
    receiver = factory.user("rep", department=department)
    former_device, receiver_device, manager_device = (Device(factory, u) for u in (former, receiver, manager))
    create = _with_contacts(factory)
    kept = customer_args(factory)
    extra = new_id()  # a contact added after the create
    former_device.queue("customer.create", create)
    former_device.queue("customer.create", kept)
    former_device.queue("contact.create", {"id": extra, "customer_id": create["id"], "name": "王五"})
    assert [r["status"] for r in former_device.push()["results"]] == ["applied"] * 3
    contact_ids = [c["id"] for c in create["contacts"]] + [extra]

    former_device.sync()
    receiver_device.sync()
    assert former_device.has("customer", create["id"]) and all(former_device.has("contact", c) for c in contact_ids)
    assert not receiver_device.has("customer", create["id"])

    result = manager_device.send("customer.transfer", {"customer_ids": [create["id"]],
                                                        "to_user_id": str(receiver.id), "reason": "区域调整"})
    assert result["status"] == "applied", result
    assert result["server"]["transferred"] == 1

    gone = former_device.patch()
    assert _ops(gone, "del") == {("customer", create["id"]), *(("contact", c) for c in contact_ids)}
    assert not any(o["op"] == "put" and o["id"] in (create["id"], *contact_ids) for o in gone)
    assert not former_device.has("customer", create["id"])
    assert not any(former_device.has("contact", c) for c in contact_ids)
    assert former_device.has("customer", kept["id"])  # the other customer stays

    arrived = receiver_device.patch()
    assert {("customer", create["id"]), *(("contact", c) for c in contact_ids)} <= _ops(arrived, "put")
    assert receiver_device.data("customer", create["id"])["owner"]["id"] == str(receiver.id)
    assert all(receiver_device.data("contact", c)["masked"] is False for c in contact_ids)
    # and the next pulls are quiet again
    assert former_device.patch() == [] and receiver_device.patch() == []


def test_share_cofollow_and_their_removal_reach_the_phones_with_masking(factory):
    sales = factory.department()
    elsewhere = factory.department()
    owner = factory.user("rep", department=sales)
    sharee = factory.user("rep", department=elsewhere)
    follower = factory.user("rep", department=elsewhere)
    owner_device, sharee_device, follower_device = (Device(factory, u) for u in (owner, sharee, follower))
    secret = _with_contacts(factory, confidentiality="confidential")
    contact_ids = [c["id"] for c in secret["contacts"]]
    assert owner_device.send("customer.create", secret)["status"] == "applied"
    sharee_device.sync()
    follower_device.sync()
    assert not sharee_device.has("customer", secret["id"])

    owner_device.queue("share.add", {"customer_id": secret["id"], "user_id": str(sharee.id)})
    owner_device.queue("cofollower.add", {"customer_id": secret["id"], "user_id": str(follower.id),
                                          "permission": "read"})
    assert [r["status"] for r in owner_device.push()["results"]] == ["applied", "applied"]

    # the sharee gets the customer and its contacts, numbers masked
    shared = sharee_device.patch()
    assert {("customer", secret["id"]), *(("contact", c) for c in contact_ids)} <= _ops(shared, "put")
    first, second = (sharee_device.data("contact", c) for c in contact_ids)
    assert first["masked"] is True and first["mobile"] == "138****5678"
    assert second["mobile"] == "139****5678" and second["phone"] == "021****1234"
    # the co-follower sees them plain
    followed = follower_device.patch()
    assert {("customer", secret["id"]), *(("contact", c) for c in contact_ids)} <= _ops(followed, "put")
    plain = follower_device.data("contact", contact_ids[0])
    assert plain["masked"] is False and plain["mobile"] == "13812345678"
    # the owner sees them plain too, and the share and co-follower on the customer
    owner_device.sync()
    assert owner_device.data("contact", contact_ids[0])["mobile"] == "13812345678"
    assert owner_device.data("customer", secret["id"])["shares"] == [{"user_id": str(sharee.id),
                                                                      "department_id": None}]
    assert sharee_device.data("customer", secret["id"]).get("shares") is None

    # unshare and co-follower removed: a del for the customer and each contact
    owner_device.queue("share.remove", {"customer_id": secret["id"], "user_id": str(sharee.id)})
    owner_device.queue("cofollower.remove", {"customer_id": secret["id"], "user_id": str(follower.id)})
    assert [r["status"] for r in owner_device.push()["results"]] == ["applied", "applied"]
    for device in (sharee_device, follower_device):
        patch = device.patch()
        assert _ops(patch, "del") == {("customer", secret["id"]), *(("contact", c) for c in contact_ids)}
        assert not device.has("customer", secret["id"])
        assert not any(device.has("contact", c) for c in contact_ids)
    # the owner keeps everything
    owner_device.sync()
    assert owner_device.has("customer", secret["id"]) and all(owner_device.has("contact", c) for c in contact_ids)


def test_masking_changes_when_a_sharee_becomes_a_cofollower(factory):
    sales = factory.department()
    owner = factory.user("rep", department=sales)
    sharee = factory.user("rep", department=factory.department())
    owner_device, sharee_device = Device(factory, owner), Device(factory, sharee)
    secret = _with_contacts(factory, confidentiality="confidential")
    owner_device.queue("customer.create", secret)
    owner_device.queue("share.add", {"customer_id": secret["id"], "user_id": str(sharee.id)})
    owner_device.push()
    sharee_device.sync()
    contact_id = secret["contacts"][0]["id"]
    assert sharee_device.data("contact", contact_id)["mobile"] == "138****5678"

    assert owner_device.send("cofollower.add", {"customer_id": secret["id"], "user_id": str(sharee.id),
                                                 "permission": "read"})["status"] == "applied"
    patch = sharee_device.patch()
    assert ("contact", contact_id) in _ops(patch, "put")
    assert sharee_device.data("contact", contact_id)["mobile"] == "13812345678"
    assert sharee_device.data("contact", contact_id)["masked"] is False
