"""customer.claim through sync push (SPEC R-O1, R-P2): who may claim from which pool."""
from __future__ import annotations

import uuid

from pool_helpers import Device, browse, get_customer, ok, ops, pool_customer


def test_any_active_rep_claims_from_the_public_pool(factory):
    for line in ("KA", "INTERNET", "SMB", "PUBLIC"):
        customer = pool_customer(factory, "public", name=f"公海申领{line}商贸有限公司")
        rep = factory.user("rep", line=line)
        result = Device(factory, rep).claim(customer.id)
        assert result["status"] == "applied", result
        assert "error" not in result
        claimed = get_customer(factory.app, customer.id)
        assert claimed.owner_id == rep.id and claimed.pool is None
        assert claimed.origin_pool.value == "public"


def test_rep_of_the_line_claims_from_its_industry_pool(factory):
    customer = pool_customer(factory, "INTERNET", name="行业池申领视频科技有限公司")
    rep = factory.user("rep", line="INTERNET")
    result = Device(factory, rep).claim(customer.id)
    assert result["status"] == "applied" and "error" not in result, result
    assert result["server"]["version"] > 0
    claimed = get_customer(factory.app, customer.id)
    assert claimed.owner_id == rep.id and claimed.pool is None and claimed.origin_pool.value == "INTERNET"
    assert claimed.assigned_at is not None and claimed.last_progress_at is not None


def test_ka_rep_claiming_from_the_internet_pool_is_rejected_cross_line_forbidden(factory):
    customer = pool_customer(factory, "INTERNET", name="跨线申领视频科技有限公司")
    rep = factory.user("rep", line="KA")
    result = Device(factory, rep).claim(customer.id)
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "cross_line_forbidden", result
    still = get_customer(factory.app, customer.id)
    assert still.owner_id is None and still.pool.value == "INTERNET"


def test_smb_rep_claiming_from_an_industry_pool_becomes_an_ops_approval(factory, db_ctx):
    from sqlalchemy import select

    from server.approvals.models import Approval
    from server.approvals.service import decide, visible_approvals
    from server.org.models import User

    customer = pool_customer(factory, "KA", name="小微申请金融有限公司")
    smb = factory.user("rep", line="SMB")
    result = Device(factory, smb).claim(customer.id)
    assert result["status"] == "applied", result
    assert result["error"]["code"] == "approval_required", result
    approval_id = result["error"]["details"]["approval_id"]
    still = get_customer(factory.app, customer.id)
    assert still.owner_id is None and still.pool.value == "KA"  # nothing moves before ops decides

    ops_user = factory.user("ops", line="KA")
    with db_ctx() as session:
        approval = session.get(Approval, uuid.UUID(approval_id))
        assert approval.kind == "pool_claim" and approval.status == "pending"
        assert approval.requester_id == smb.id and approval.customer_id == customer.id
        assert approval.stages == ["ops"]
        ops_db = session.get(User, ops_user.id)
        assert session.scalar(select(Approval.id).where(
            Approval.id == approval.id, visible_approvals(ops_db))) is not None  # in the ops inbox
        decide(approval.id, ops_db, "approve", "同意")
        session.commit()
    claimed = get_customer(factory.app, customer.id)
    assert claimed.owner_id == smb.id and claimed.pool is None and claimed.origin_pool.value == "KA"


def test_claiming_an_owned_customer_is_rejected_not_in_pool(factory):
    owner = factory.user("rep", line="KA")
    customer = factory.customer(owner, name="已被保护金融有限公司")
    rival = factory.user("rep", line="KA")
    result = Device(factory, rival).claim(customer.id)
    assert result["status"] == "rejected" and result["error"]["code"] == "not_in_pool", result
    assert get_customer(factory.app, customer.id).owner_id == owner.id


def test_claiming_twice_the_second_is_not_in_pool(factory):
    customer = pool_customer(factory, "KA", name="重复申领金融有限公司")
    rep = factory.user("rep", line="KA")
    device = Device(factory, rep)
    assert device.claim(customer.id)["status"] == "applied"
    second = device.claim(customer.id)
    assert second["status"] == "rejected" and second["error"]["code"] == "not_in_pool"


def test_claiming_an_unknown_customer_is_not_found(factory):
    rep = factory.user("rep", line="KA")
    result = Device(factory, rep).claim(uuid.uuid4())
    assert result["status"] == "rejected" and result["error"]["code"] == "not_found"


def test_managers_do_not_claim(factory):
    customer = pool_customer(factory, "KA", name="经理申领金融有限公司")
    manager = factory.user("manager", line="KA")
    result = Device(factory, manager).claim(customer.id)
    assert result["status"] == "rejected" and result["error"]["code"] == "not_authorized"


def test_claimed_customer_gets_its_origin_pool_and_reaches_the_claimers_phone(client, factory):
    customer = pool_customer(factory, "KA", contacts=2, name="申领同步金融有限公司")
    contact_ids = {str(c.id) for c in get_contacts(factory, customer.id)}
    assert len(contact_ids) == 2
    rep = factory.user("rep", line="KA")
    device = Device(factory, rep)
    device.patch()
    assert not device.has("customer", customer.id)

    assert device.claim(customer.id)["status"] == "applied"
    patch = device.patch()
    assert str(customer.id) in ops(patch, "customer", "put")
    assert contact_ids <= ops(patch, "contact", "put")
    data = device.data("customer", customer.id)
    assert data["owner"]["id"] == str(rep.id) and data["pool"] is None
    assert get_customer(factory.app, customer.id).origin_pool.value == "KA"
    # …and it left the pool
    h = device.headers
    assert ok(browse(client, h, "KA", q="申领同步"))["items"] == []


def get_contacts(factory, customer_id):
    from sqlalchemy import select

    from server.customers.models import Contact
    from server.extensions import db

    with factory.app.app_context():
        return list(db.session.scalars(select(Contact).where(Contact.customer_id == customer_id)))
