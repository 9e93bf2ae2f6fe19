"""Invalid tracking (SPEC R-P8): the flagged list with its reasons, and returning them to the pool."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from followup_helpers import Phone, new_id, ops_of
from sqlalchemy import select

from server.common.db import utcnow
from server.customers.models import Contact, Customer
from server.followups.models import FollowUp

FLAGGED = "/api/v1/customers/flagged"
RETURN = "/api/v1/customers/flagged/return"
GOOD = "上门拜访张总，确认了二期新风系统的预算和排期"


@pytest.fixture
def world(client, factory):
    department = factory.department("华东KA一组", line="KA")
    rep = factory.user("rep", department=department, display_name="业务员")
    manager = factory.user("manager", department=department, display_name="经理")
    return rep, manager


def _customer(factory, rep, name, key_contact=True, age_days=0):
    customer = factory.customer(rep, name=name)
    contact = factory.contact(customer, rep, key_person=key_contact)
    if age_days:
        _backdate(factory, customer, age_days)
    return customer, contact


def _backdate(factory, customer, days):
    with factory.ctx() as session:
        row = session.get(Customer, customer.id)
        row.created_at = row.assigned_at = utcnow() - timedelta(days=days)


def _follow_up(client, factory, user, customer, contact, content=GOOD, days_ago=0):
    fid = new_id()
    Phone(client, factory, user).applied("follow_up.create", {
        "id": fid, "customer_id": str(customer.id), "kind": "visit",
        "contact_id": str(contact.id) if contact else None, "content": content})
    if days_ago:
        with factory.ctx() as session:
            session.get(FollowUp, uuid.UUID(fid)).created_at = utcnow() - timedelta(days=days_ago)
    return fid


def _flagged(client, factory, user) -> dict[str, list[dict]]:
    r = client.get(FLAGGED, headers=factory.headers(user))
    assert r.status_code == 200, r.json
    assert r.json["total"] == len(r.json["items"])
    return {item["customer"]["id"]: item["reasons"] for item in r.json["items"]}


def _codes(reasons):
    return [r["code"] for r in reasons]


def test_flagged_list_reasons(client, factory, world):
    rep, manager = world
    fine, c1 = _customer(factory, rep, "上海一切正常科技有限公司", age_days=40)
    _follow_up(client, factory, rep, fine, c1, days_ago=3)

    noisy, c2 = _customer(factory, rep, "上海三次无效科技有限公司", age_days=5)
    for content in ("没找到人", "在忙", "打电话"):
        _follow_up(client, factory, rep, noisy, c2, content)

    quiet, c3 = _customer(factory, rep, "上海二十天无跟进科技有限公司", age_days=20)

    stale, c4 = _customer(factory, rep, "上海跟进过期科技有限公司", age_days=60)
    _follow_up(client, factory, rep, stale, c4, days_ago=16)

    nobody, _c5 = _customer(factory, rep, "上海没有关键人科技有限公司", key_contact=False, age_days=31)
    _follow_up(client, factory, rep, nobody, _c5, days_ago=1)

    young, _c6 = _customer(factory, rep, "上海新建客户科技有限公司", key_contact=False, age_days=10)

    flagged = _flagged(client, factory, manager)
    assert str(fine.id) not in flagged and str(young.id) not in flagged
    assert _codes(flagged[str(noisy.id)]) == ["too_many_invalid_follow_ups"]
    assert flagged[str(noisy.id)][0] | {} == {"code": "too_many_invalid_follow_ups", "count": 3, "limit": 3}
    assert _codes(flagged[str(quiet.id)]) == ["no_valid_follow_up"]
    assert flagged[str(quiet.id)][0]["last_valid_at"] is None and flagged[str(quiet.id)][0]["days"] == 20
    assert _codes(flagged[str(stale.id)]) == ["no_valid_follow_up"]
    assert flagged[str(stale.id)][0]["days"] == 16 and flagged[str(stale.id)][0]["last_valid_at"]
    assert _codes(flagged[str(nobody.id)]) == ["no_key_contact"]
    assert flagged[str(nobody.id)][0]["days"] == 31


def test_a_customer_with_several_reasons_comes_first(client, factory, world):
    rep, manager = world
    _customer(factory, rep, "上海只差一条科技有限公司", age_days=20)
    worst, contact = _customer(factory, rep, "上海样样都缺科技有限公司", key_contact=False, age_days=45)
    for content in ("外出", "沟通", "联系了"):
        _follow_up(client, factory, rep, worst, None, content)
    r = client.get(FLAGGED, headers=factory.headers(manager))
    first = r.json["items"][0]
    assert first["customer"]["id"] == str(worst.id)
    assert _codes(first["reasons"]) == ["too_many_invalid_follow_ups", "no_valid_follow_up", "no_key_contact"]
    assert first["customer"]["owner"]["display_name"] == "业务员"
    assert set(first["customer"]) == {"id", "code", "name", "status", "business_line", "owner", "created_at",
                                      "assigned_at", "last_progress_at"}


def test_invalid_follow_ups_before_the_current_owner_do_not_count(client, factory, world):
    rep, manager = world
    customer, contact = _customer(factory, rep, "上海换过负责人科技有限公司", age_days=10)
    for content in ("没找到人", "在忙", "打电话"):
        _follow_up(client, factory, rep, customer, contact, content, days_ago=5)
    with factory.ctx() as session:
        session.get(Customer, customer.id).assigned_at = utcnow() - timedelta(days=2)
    assert str(customer.id) not in _flagged(client, factory, manager)


def test_the_thresholds_are_settings(client, factory, world):
    from server.settings.service import update_settings

    rep, manager = world
    customer, contact = _customer(factory, rep, "上海两次无效科技有限公司", age_days=5)
    for content in ("没找到人", "在忙"):
        _follow_up(client, factory, rep, customer, contact, content)
    assert str(customer.id) not in _flagged(client, factory, manager)
    with factory.ctx():
        update_settings({"invalid_tracking": {"max_invalid_follow_ups": 2, "no_valid_follow_up_days": 3}})
    assert _codes(_flagged(client, factory, manager)[str(customer.id)]) == ["too_many_invalid_follow_ups",
                                                                           "no_valid_follow_up"]


def test_the_list_follows_the_access_rule(client, factory, world):
    rep, manager = world
    mine, _ = _customer(factory, rep, "上海本部门客户科技有限公司", age_days=20)
    elsewhere = factory.department("华南KA组", line="KA")
    other_rep = factory.user("rep", department=elsewhere)
    other_manager = factory.user("manager", department=elsewhere)
    theirs, _ = _customer(factory, other_rep, "广州别部门客户科技有限公司", age_days=20)
    assert str(mine.id) in _flagged(client, factory, manager)
    assert str(theirs.id) not in _flagged(client, factory, manager)
    assert set(_flagged(client, factory, other_manager)) == {str(theirs.id)}
    admin = factory.user("admin", line="SMB")
    assert {str(mine.id), str(theirs.id)} <= set(_flagged(client, factory, admin))


@pytest.mark.parametrize("role", ["rep", "ops"])
def test_reps_and_ops_may_not_see_the_list(client, factory, world, role):
    user = world[0] if role == "rep" else factory.user("ops", line="SMB")
    r = client.get(FLAGGED, headers=factory.headers(user))
    assert r.status_code == 403 and r.json["error"]["code"] == "not_authorized"
    r = client.post(RETURN, json={"customer_ids": [str(uuid.uuid4())], "reason": "无效跟踪"},
                    headers=factory.headers(user))
    assert r.status_code == 403 and r.json["error"]["code"] == "not_authorized"


def test_return_flagged_customers_to_their_pools(client, factory, world, db_ctx):
    from server.common.audit import AuditEntry
    from server.notifications.models import Notification

    rep, manager = world
    first, _ = _customer(factory, rep, "上海退回一号科技有限公司", age_days=20)
    second, _ = _customer(factory, rep, "上海退回二号科技有限公司", key_contact=False, age_days=40)
    kept, _ = _customer(factory, rep, "上海留下科技有限公司", age_days=20)
    phone = Phone(client, factory, rep)
    assert {str(first.id), str(second.id), str(kept.id)} <= set(ops_of(phone.pull(), "customer"))

    r = client.post(RETURN, json={"customer_ids": [str(first.id), str(second.id)], "reason": "长期无有效跟进"},
                    headers=factory.headers(manager))
    assert r.status_code == 200, r.json
    assert {x["customer_id"]: x["pool"] for x in r.json["returned"]} == {str(first.id): "KA", str(second.id): "KA"}
    with db_ctx() as session:
        for customer in (first, second):
            row = session.get(Customer, customer.id)
            assert row.owner_id is None and row.pool.value == "KA" and row.released_at is not None
            entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(customer.id),
                                                            AuditEntry.action == "customer.invalid"))
            assert entry.actor_id == manager.id and entry.changes["reason"] == [None, "长期无有效跟进"]
        notes = session.scalars(select(Notification).where(Notification.user_id == rep.id,
                                                           Notification.kind == "customer_returned")).all()
        assert {n.customer_id for n in notes} == {first.id, second.id}
        assert session.get(Customer, kept.id).owner_id == rep.id
    # the former owner's next pull deletes them, with everything under them
    patch = phone.pull()
    deleted = ops_of(patch, "customer", op="del")
    assert set(deleted) == {str(first.id), str(second.id)}
    with db_ctx() as session:
        contacts = {str(i) for i in session.scalars(
            select(Contact.id).where(Contact.customer_id.in_([first.id, second.id])))}
    assert contacts <= set(ops_of(patch, "contact", op="del"))
    assert str(first.id) not in _flagged(client, factory, manager)
    # and the cooldown keeps the former owner from claiming it right back
    phone.rejected("customer.claim", {"customer_id": str(first.id)}, "cooldown_active")


def test_return_is_all_or_nothing(client, factory, world, db_ctx):
    rep, manager = world
    flagged, _ = _customer(factory, rep, "上海被标记科技有限公司", age_days=20)
    healthy, contact = _customer(factory, rep, "上海健康客户科技有限公司", age_days=20)
    _follow_up(client, factory, rep, healthy, contact)
    r = client.post(RETURN, json={"customer_ids": [str(flagged.id), str(healthy.id)], "reason": "无效跟踪"},
                    headers=factory.headers(manager))
    assert r.status_code == 422 and r.json["error"]["code"] == "not_flagged"
    assert r.json["error"]["details"] == {"customer_id": str(healthy.id)}
    with db_ctx() as session:
        assert session.get(Customer, flagged.id).owner_id == rep.id


def test_only_a_manager_of_the_owner_returns(client, factory, world):
    rep, _manager = world
    customer, _ = _customer(factory, rep, "上海别人管的科技有限公司", age_days=20)
    outsider = factory.user("manager", department=factory.department("华南KA组", line="KA"))
    r = client.post(RETURN, json={"customer_ids": [str(customer.id)], "reason": "无效跟踪"},
                    headers=factory.headers(outsider))
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_customers_with_receivables_stay(client, factory, world):
    rep, manager = world
    customer, _ = _customer(factory, rep, "上海有应收科技有限公司", age_days=20)
    with factory.ctx() as session:
        session.get(Customer, customer.id).deal_total = 500_000
    r = client.post(RETURN, json={"customer_ids": [str(customer.id)], "reason": "无效跟踪"},
                    headers=factory.headers(manager))
    assert r.status_code == 409 and r.json["error"]["code"] == "receivables_outstanding"


def test_return_args_are_validated(client, factory, world):
    _rep, manager = world
    r = client.post(RETURN, json={"customer_ids": [], "reason": "x"}, headers=factory.headers(manager))
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_failed"
    assert set(r.json["error"]["details"]["fields"]) == {"customer_ids", "reason"}
