"""Release (SPEC R-P6), clearing co-followers and shares (R-P7) and the claim cooldown (R-P4)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from pool_helpers import Device, browse, get_customer, now, ok, ops, pool_customer, set_fields


def _claimed(factory, pool="KA", **kw):
    """A pool customer claimed by a fresh rep of the pool's line: (rep, device, customer)."""
    customer = pool_customer(factory, pool, **kw)
    rep = factory.user("rep", line="SMB" if pool == "public" else pool)
    device = Device(factory, rep)
    assert device.claim(customer.id)["status"] == "applied"
    return rep, device, customer


def _cooldown_until(app, customer_id, user_id):
    from server.extensions import db
    from server.pools.models import ClaimCooldown

    with app.app_context():
        return db.session.scalar(select(ClaimCooldown.until).where(
            ClaimCooldown.customer_id == customer_id, ClaimCooldown.user_id == user_id))


def test_released_customer_returns_to_its_origin_pool_and_shows_there(client, factory):
    rep, device, customer = _claimed(factory, "KA", name="退回原池金融有限公司")
    result = device.release(customer.id, "客户明确无采购计划")
    assert result["status"] == "applied", result
    assert result["server"]["pool"] == "KA"
    row = get_customer(factory.app, customer.id)
    assert row.owner_id is None and row.pool.value == "KA" and row.released_at is not None
    assert row.times_reclaimed == 0  # a release is not a reclaim
    h = factory.headers(factory.user("rep", line="KA"))
    assert [i["id"] for i in ok(browse(client, h, "KA", q="退回原池"))["items"]] == [str(customer.id)]


def test_customer_claimed_from_the_public_pool_is_released_back_to_the_public_pool(factory):
    customer = pool_customer(factory, "public", line="KA", name="公海来公海去金融有限公司")
    rep = factory.user("rep", line="KA")
    device = Device(factory, rep)
    assert device.claim(customer.id)["status"] == "applied"
    assert device.release(customer.id)["server"]["pool"] == "public"
    assert get_customer(factory.app, customer.id).pool.value == "public"


def test_created_customer_is_released_to_its_lines_pool_smb_to_public(factory):
    ka_rep = factory.user("rep", line="KA")
    ka = factory.customer(ka_rep, name="自建退回金融有限公司")
    assert Device(factory, ka_rep).release(ka.id)["server"]["pool"] == "KA"
    smb_rep = factory.user("rep", line="SMB")
    smb = factory.customer(smb_rep, name="自建退回小微商贸有限公司", industry="other")
    assert Device(factory, smb_rep).release(smb.id)["server"]["pool"] == "public"


def test_release_clears_co_followers_and_shares_and_their_phones_lose_it(factory, db_ctx):
    from server.customers.models import CoFollower, Share

    owner = factory.user("rep", line="KA")
    customer = factory.customer(owner, name="清除协同金融有限公司")
    contact = factory.contact(customer, by=owner)
    follower = factory.user("rep", line="KA")
    reader = factory.user("rep", line="KA")
    owner_device = Device(factory, owner)
    assert owner_device.send("cofollower.add", {"customer_id": str(customer.id), "user_id": str(follower.id),
                                                "permission": "write"})["status"] == "applied"
    assert owner_device.send("share.add", {"customer_id": str(customer.id),
                                           "user_id": str(reader.id)})["status"] == "applied"
    follower_device, reader_device = Device(factory, follower), Device(factory, reader)
    follower_device.patch()
    reader_device.patch()
    assert follower_device.has("customer", customer.id) and reader_device.has("customer", customer.id)

    assert owner_device.release(customer.id)["status"] == "applied"
    with db_ctx() as session:
        assert session.scalar(select(func.count()).select_from(CoFollower)
                              .where(CoFollower.customer_id == customer.id)) == 0
        assert session.scalar(select(func.count()).select_from(Share).where(Share.customer_id == customer.id)) == 0
    for device in (follower_device, reader_device):
        patch = device.patch()
        assert str(customer.id) in ops(patch, "customer", "del")
        assert str(contact.id) in ops(patch, "contact", "del")
        assert not device.has("customer", customer.id)


def test_the_releasing_rep_cannot_reclaim_during_the_cooldown(factory):
    rep, device, customer = _claimed(factory, "KA", name="冷却期金融有限公司")
    before = now()
    assert device.release(customer.id)["status"] == "applied"
    result = device.claim(customer.id)
    assert result["status"] == "rejected" and result["error"]["code"] == "cooldown_active", result
    until = datetime.fromisoformat(result["error"]["details"]["until"])
    assert abs((until - (before + timedelta(days=3))).total_seconds()) < 120
    assert get_customer(factory.app, customer.id).pool.value == "KA"


def test_another_rep_may_claim_a_customer_in_someone_elses_cooldown(factory):
    rep, device, customer = _claimed(factory, "KA", name="他人可领金融有限公司")
    assert device.release(customer.id)["status"] == "applied"
    other = factory.user("rep", line="KA")
    assert Device(factory, other).claim(customer.id)["status"] == "applied"
    assert get_customer(factory.app, customer.id).owner_id == other.id


def test_after_the_cooldown_the_first_rep_may_claim_again(factory):
    from server.pools.models import ClaimCooldown

    rep, device, customer = _claimed(factory, "KA", name="冷却结束金融有限公司")
    assert device.release(customer.id)["status"] == "applied"
    assert device.claim(customer.id)["error"]["code"] == "cooldown_active"
    assert _cooldown_until(factory.app, customer.id, rep.id) > now()
    from server.extensions import db

    with factory.app.app_context():
        row = db.session.get(ClaimCooldown, (customer.id, rep.id))
        row.until = now() - timedelta(minutes=1)
        db.session.commit()
    result = device.claim(customer.id)
    assert result["status"] == "applied", result
    assert get_customer(factory.app, customer.id).owner_id == rep.id


def test_cooldown_days_is_a_setting(factory):
    from pool_helpers import set_settings

    set_settings(factory.app, {"cooldown_days": 5})
    rep, device, customer = _claimed(factory, "KA", name="冷却设置金融有限公司")
    before = now()
    device.release(customer.id)
    until = datetime.fromisoformat(device.claim(customer.id)["error"]["details"]["until"])
    assert abs((until - (before + timedelta(days=5))).total_seconds()) < 120


def test_release_with_receivables_outstanding_is_refused(factory):
    from server.customers.models import Customer

    rep, device, customer = _claimed(factory, "KA", name="应收未清金融有限公司")
    set_fields(factory.app, Customer, customer.id, deal_total=1_000_000, payment_total=400_000)
    result = device.release(customer.id)
    assert result["status"] == "rejected" and result["error"]["code"] == "receivables_outstanding", result
    row = get_customer(factory.app, customer.id)
    assert row.owner_id == rep.id and row.pool is None
    # fully paid: now it may go
    set_fields(factory.app, Customer, customer.id, payment_total=1_000_000)
    assert device.release(customer.id)["status"] == "applied"


def test_release_by_someone_who_is_not_the_owner_is_not_authorized(factory):
    owner = factory.user("rep", line="KA")
    customer = factory.customer(owner, name="非本人退回金融有限公司")
    follower = factory.user("rep", line="KA")
    owner_device = Device(factory, owner)
    owner_device.send("cofollower.add", {"customer_id": str(customer.id), "user_id": str(follower.id),
                                         "permission": "write"})
    result = Device(factory, follower).release(customer.id)  # a write co-follower may not release (R-O2)
    assert result["status"] == "rejected" and result["error"]["code"] == "not_authorized", result
    # a rep who cannot even see it is refused too (not_found would leak less; either refuses)
    result = Device(factory, factory.user("rep", line="KA")).release(customer.id)
    assert result["status"] == "rejected" and result["error"]["code"] in ("not_authorized", "not_found"), result
    assert get_customer(factory.app, customer.id).owner_id == owner.id


def test_release_needs_a_reason(factory):
    rep, device, customer = _claimed(factory, "KA", name="退回理由金融有限公司")
    result = device.send("customer.release", {"customer_id": str(customer.id)})
    assert result["status"] == "rejected" and result["error"]["code"] == "validation_failed"
    assert get_customer(factory.app, customer.id).owner_id == rep.id


def test_release_is_audited_with_its_reason(factory, db_ctx):
    from server.common.audit import AuditEntry

    rep, device, customer = _claimed(factory, "KA", name="退回审计金融有限公司")
    device.release(customer.id, "预算取消")
    with db_ctx() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.release",
                                                        AuditEntry.entity_id == str(customer.id)))
        assert entry is not None and entry.actor_id == rep.id
        assert entry.changes["reason"][1] == "预算取消"


@pytest.mark.postgres_only
def test_a_release_and_a_co_followers_write_at_the_same_moment_neither_deadlock(fresh_app):
    """A sync write holds a lock on the customer (a new contact's foreign key) while a release
    waits for it; on PostgreSQL writers take the global version counter last, just before
    COMMIT, so neither waits on the other in a cycle: no deadlock, nothing lost."""
    import threading
    import time

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from conftest import Factory
    from server.customers.models import Contact
    from server.extensions import db

    app = fresh_app()
    factory = Factory(app)
    owner = factory.user("rep", line="KA")
    customer = factory.customer(owner, name="退回与写入并发金融有限公司")
    device = Device(factory, owner, client=app.test_client())
    device.patch()

    with app.app_context():
        writer = Session(db.engine)
        # the co-follower's write has begun: its new contact is flushed (a key-share lock on the
        # customer row, which the release's row lock must wait for)
        contact = Contact(customer_id=customer.id, name="并发联系人", mobile="13900001111")
        writer.add(contact)
        writer.flush()
        outcome: dict = {}

        def release():
            try:
                outcome["result"] = device.release(customer.id)
            except BaseException as exc:  # noqa: BLE001
                outcome["error"] = exc

        thread = threading.Thread(target=release)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            with db.engine.connect() as conn:
                while not conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'")).scalar():
                    conn.rollback()
                    assert time.monotonic() < deadline, "the release never waited for the writer"
                    time.sleep(0.05)
            writer.commit()  # takes the version counter now, while the release waits on the row
            contact_id = contact.id
        finally:
            writer.close()
            thread.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"]["status"] == "applied", outcome["result"]
    row = get_customer(app, customer.id)
    assert row.owner_id is None and row.pool.value == "KA"
    with app.app_context():
        assert db.session.get(Contact, contact_id).customer_id == customer.id  # records stay (R-P7)
