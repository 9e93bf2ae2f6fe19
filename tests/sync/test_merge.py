"""Field-level merge of concurrent offline edits, and fields a client may not write (SPEC §12 Conflicts)."""
from __future__ import annotations

import uuid

import pytest
from sync_helpers import Device, customer_args

from server.common.history import FieldChange
from server.customers.models import Customer


@pytest.fixture
def pair(factory):
    """The owner and a write co-follower, both synced to the same customer."""
    department = factory.department()
    owner = factory.user("rep", department=department)
    helper = factory.user("rep", department=department)
    owner_device, helper_device = Device(factory, owner), Device(factory, helper)
    create = customer_args(factory)
    assert owner_device.send("customer.create", create)["status"] == "applied"
    assert owner_device.send("cofollower.add", {"customer_id": create["id"], "user_id": str(helper.id),
                                                 "permission": "write"})["status"] == "applied"
    owner_device.sync()
    helper_device.sync()
    return owner, helper, owner_device, helper_device, create["id"]


def _update(device, customer_id, base, **changes):
    return device.send("customer.update", {"id": customer_id, "base_version": base, "changes": changes})


def _history(db_ctx, customer_id, field):
    with db_ctx() as session:
        from sqlalchemy import select

        return list(session.scalars(select(FieldChange).where(
            FieldChange.entity == "customer", FieldChange.entity_id == uuid.UUID(customer_id),
            FieldChange.field == field).order_by(FieldChange.id)))


def test_different_fields_from_the_same_base_both_apply(pair, db_ctx):
    owner, helper, owner_device, helper_device, customer_id = pair
    base = owner_device.state[("customer", customer_id)]["version"]
    assert helper_device.state[("customer", customer_id)]["version"] == base

    mine = _update(owner_device, customer_id, base, notes="老板很忙")
    theirs = _update(helper_device, customer_id, base, website="https://chunyi.example", scale="100-499")
    assert mine["status"] == theirs["status"] == "applied"
    assert "overwrote" not in mine["server"] and "overwrote" not in theirs["server"]
    with db_ctx() as session:
        customer = session.get(Customer, uuid.UUID(customer_id))
        assert (customer.notes, customer.website, customer.scale) == ("老板很忙", "https://chunyi.example",
                                                                       "100-499")
    # both phones converge on the merged record
    for device in (owner_device, helper_device):
        device.sync()
        data = device.data("customer", customer_id)
        assert (data["notes"], data["website"], data["scale"]) == ("老板很忙", "https://chunyi.example", "100-499")


def test_same_field_later_arrival_wins_and_the_overwritten_value_is_kept(pair, db_ctx):
    owner, helper, owner_device, helper_device, customer_id = pair
    base = owner_device.state[("customer", customer_id)]["version"]

    first = _update(owner_device, customer_id, base, notes="周三下午拜访", website="https://a.example")
    second = _update(helper_device, customer_id, base, notes="周四上午拜访")
    assert first["status"] == second["status"] == "applied"
    assert "overwrote" not in first["server"]
    overwrote = second["server"]["overwrote"]
    assert len(overwrote) == 1
    assert overwrote[0]["field"] == "notes"
    assert overwrote[0]["value"] == "周三下午拜访"
    assert overwrote[0]["version"] == first["server"]["version"]
    assert overwrote[0]["by"] == str(owner.id)
    with db_ctx() as session:
        customer = session.get(Customer, uuid.UUID(customer_id))
        assert customer.notes == "周四上午拜访"  # arrival order wins
        assert customer.website == "https://a.example"  # the field only the first changed stays

    history = _history(db_ctx, customer_id, "notes")
    assert [(h.before, h.after, h.actor_id) for h in history] == [
        (None, "周三下午拜访", owner.id), ("周三下午拜访", "周四上午拜访", helper.id)]
    assert history[1].overwrote_version == first["server"]["version"]
    assert history[1].client_id == helper_device.client_id and history[1].client_mutation_id is not None

    # the owner's own later edit from a fresh base overwrites nobody
    owner_device.sync()
    fresh = owner_device.state[("customer", customer_id)]["version"]
    assert owner_device.data("customer", customer_id)["notes"] == "周四上午拜访"
    third = _update(owner_device, customer_id, fresh, notes="改期到周五")
    assert "overwrote" not in third["server"]


@pytest.mark.parametrize("field,value", [
    ("owner_id", None), ("code", "C2026999999"), ("version", 1), ("grade", "important"), ("pool", "KA"),
    ("deal_total", "100.00"), ("payment_total", "0"), ("verification", "verified"),
])
def test_server_owned_fields_are_refused(pair, db_ctx, field, value):
    owner, helper, owner_device, helper_device, customer_id = pair
    base = owner_device.state[("customer", customer_id)]["version"]
    if field == "owner_id":
        value = str(helper.id)
    with db_ctx() as session:
        before = session.get(Customer, uuid.UUID(customer_id))
        snapshot = (before.owner_id, before.code, before.version, before.grade, before.pool, before.deal_total,
                    before.notes)
    result = _update(owner_device, customer_id, base, notes="顺便改一下", **{field: value})
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "validation_failed"
    assert field in result["error"]["details"]["fields"]
    with db_ctx() as session:
        after = session.get(Customer, uuid.UUID(customer_id))
        # nothing of the mutation applied, not even the ordinary field next to it
        assert (after.owner_id, after.code, after.version, after.grade, after.pool, after.deal_total,
                after.notes) == snapshot


@pytest.mark.parametrize("field,value", [("name", "上海另一个名字有限公司"), ("tax_id", "91310000MA1FL8TQ3X"),
                                         ("industry", "energy")])
def test_identity_fields_need_a_change_request(pair, db_ctx, field, value):
    owner, helper, owner_device, helper_device, customer_id = pair
    base = owner_device.state[("customer", customer_id)]["version"]
    with db_ctx() as session:
        before = getattr(session.get(Customer, uuid.UUID(customer_id)), field)
    result = _update(owner_device, customer_id, base, **{field: value})
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "validation_failed"
    assert field in result["error"]["details"]["fields"]
    with db_ctx() as session:
        assert getattr(session.get(Customer, uuid.UUID(customer_id)), field) == before
    owner_device.sync()
    assert [r["name"] for r in owner_device.rejections] == ["customer.update"]
