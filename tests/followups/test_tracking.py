"""The invalid-tracking summary (`customer_tracking`, R-P8) kept on write: after every kind of
write a phone or a manager makes, each customer's row is what a recount of its follow-ups and
contacts gives; the flagged list reads it (including a writer's own uncommitted writes); two
phones writing one customer at once lose neither's follow-up; the daily job repairs a row.
"""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from followup_helpers import Phone, new_id
from sqlalchemy import select

from server.followups.models import CustomerTracking

GOOD = "上门拜访张总，确认了二期新风系统的预算和排期"
EMPTY = ("没找到人", "在忙", "打电话", "外出")


def _rows(session) -> dict[uuid.UUID, tuple]:
    return {r.customer_id: (r.invalid_count, r.last_valid_at, r.has_key_contact)
            for r in session.scalars(select(CustomerTracking))}


def _recount(session) -> dict[uuid.UUID, tuple]:
    """What a full recomputation from the source rows gives (rolled back: the kept rows stay)."""
    from server.followups import tracking

    nested = session.begin_nested()
    tracking.rebuild_all(session)
    counted = _rows(session)
    nested.rollback()
    return counted


def _device(factory, user):
    return Phone(factory.app.test_client(), factory, user)


def _customer_args(factory, contacts):
    return factory.customer_args(id=new_id(), contacts=contacts)


def _follow_up(device, customer_id, content, contact_id=None) -> None:
    device.applied("follow_up.create", {"id": new_id(), "customer_id": customer_id, "kind": "visit",
                                        "contact_id": contact_id, "content": content})


def test_the_summary_matches_a_recount_after_every_kind_of_write(factory, db_ctx):
    department = factory.department("跟踪汇总部", line="KA")
    rep, rep2 = factory.user("rep", department=department), factory.user("rep", department=department)
    manager = factory.user("manager", department=department)
    phone, phone2, desk = _device(factory, rep), _device(factory, rep2), _device(factory, manager)

    key_contact = {"id": new_id(), "name": "张总", "title": "总经理", "mobile": "13800001234", "key_person": True}
    with_key = _customer_args(factory, [key_contact])
    without_key = _customer_args(factory, [{"id": new_id(), "name": "李工", "mobile": "13800004321"}])
    for args in (with_key, without_key):
        phone.applied("customer.create", args)
    a, b = with_key["id"], without_key["id"]

    for content in EMPTY[:3]:
        _follow_up(phone, a, content, key_contact["id"])
    _follow_up(phone, a, GOOD, key_contact["id"])
    _follow_up(phone, b, GOOD, without_key["contacts"][0]["id"])
    with db_ctx() as session:
        rows = _rows(session)
        assert rows[uuid.UUID(a)][0] == 3 and rows[uuid.UUID(a)][1] is not None and rows[uuid.UUID(a)][2] is True
        assert rows[uuid.UUID(b)][0] == 0 and rows[uuid.UUID(b)][2] is False
        assert rows == _recount(session)

    # the key person is no key person any more; a new key contact on the other customer
    phone.applied("contact.update", {"id": key_contact["id"], "base_version": 0, "changes": {"key_person": False}})
    phone.applied("contact.create", {"id": new_id(), "customer_id": b, "name": "王经理", "mobile": "13900001111",
                                     "key_person": True})
    with db_ctx() as session:
        rows = _rows(session)
        assert rows[uuid.UUID(a)][2] is False and rows[uuid.UUID(b)][2] is True
        assert rows == _recount(session)

    # a transfer starts the count again for the new owner (R-P8 counts since the owner got it)
    desk.applied("customer.transfer", {"customer_ids": [a], "to_user_id": str(rep2.id), "reason": "区域调整"})
    with db_ctx() as session:
        rows = _rows(session)
        assert rows[uuid.UUID(a)][:2] == (0, None)
        assert rows == _recount(session)
    _follow_up(phone2, a, EMPTY[3])

    # back to the pool and claimed by the other rep
    phone.applied("customer.release", {"customer_id": b, "reason": "无意向"})
    phone2.applied("customer.claim", {"customer_id": b})
    with db_ctx() as session:
        rows = _rows(session)
        assert rows[uuid.UUID(a)][0] == 1 and rows[uuid.UUID(b)][:2] == (0, None)
        assert rows == _recount(session)


def test_the_flagged_list_sees_the_writers_own_uncommitted_follow_ups(factory, db_ctx):
    from server.followups.service import create_follow_up, flagged_customers
    from server.org.models import User

    department = factory.department("未提交部", line="KA")
    rep, manager = factory.user("rep", department=department), factory.user("manager", department=department)
    customer = factory.customer(rep)
    contact = factory.contact(customer, rep, key_person=True)
    with db_ctx() as session:
        author = session.get(User, rep.id)
        for content in EMPTY[:3]:
            create_follow_up({"id": uuid.UUID(new_id()), "customer_id": customer.id, "kind": "phone",
                              "contact_id": contact.id, "content": content}, author)
        flagged = {item["customer"].id: item["reasons"] for item in flagged_customers(session.get(User, manager.id))}
        assert [r["code"] for r in flagged[customer.id]] == ["too_many_invalid_follow_ups"]
        session.rollback()
    with db_ctx() as session:
        assert _rows(session)[customer.id][0] == 0  # rolled back with its follow-ups


def test_the_daily_job_repairs_a_row_that_drifted(app, factory, db_ctx):
    department = factory.department("修复部", line="KA")
    rep = factory.user("rep", department=department)
    customer = factory.customer(rep)
    contact = factory.contact(customer, rep, key_person=True)
    phone = _device(factory, rep)
    for content in EMPTY[:2]:
        _follow_up(phone, str(customer.id), content, str(contact.id))
    with db_ctx() as session:
        session.get(CustomerTracking, customer.id).invalid_count = 40  # e.g. edited by hand in the database
        session.commit()
    from server.cli import cli

    result = app.test_cli_runner().invoke(cli, ["jobs", "daily"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with db_ctx() as session:
        assert session.get(CustomerTracking, customer.id).invalid_count == 2


@pytest.mark.postgres_only
def test_two_phones_writing_one_customer_at_once_lose_no_follow_up(fresh_app, factory, monkeypatch):
    """Each transaction recomputes the customer's row only once it holds the row: the later one
    sees the earlier one's committed follow-ups, so neither count is lost (a recount from a
    snapshot taken before the other committed would lose it). The owner's transaction is held
    open after its recount to make the two overlap."""
    from server.followups import tracking

    slow = threading.local()
    real_refresh = tracking.refresh

    def refresh_then_dawdle(session, customer_ids):
        real_refresh(session, customer_ids)
        if getattr(slow, "on", False):
            time.sleep(0.3)  # the owner's transaction holds its recount, uncommitted, a while

    monkeypatch.setattr(tracking, "refresh", refresh_then_dawdle)
    app = fresh_app()
    factory = type(factory)(app)
    department = factory.department("并发跟进部", line="KA")
    owner, cofollower = factory.user("rep", department=department), factory.user("rep", department=department)
    owner_phone = _device(factory, owner)
    args = _customer_args(factory, [{"id": new_id(), "name": "赵总", "mobile": "13800005678", "key_person": True}])
    owner_phone.applied("customer.create", args)
    owner_phone.applied("cofollower.add", {"customer_id": args["id"], "user_id": str(cofollower.id),
                                           "permission": "write"})
    phones = [owner_phone, _device(factory, cofollower)]
    rounds = 8
    barrier = threading.Barrier(2)

    def write(phone):
        slow.on = phone is owner_phone
        try:
            for _ in range(rounds):
                barrier.wait(timeout=30)
                _follow_up(phone, args["id"], EMPTY[0])
        except BaseException:
            barrier.abort()  # the other phone stops waiting; this error is the one reported
            raise

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(write, phone) for phone in phones]
    errors = [f.exception() for f in futures if f.exception() and not isinstance(f.exception(),
                                                                                   threading.BrokenBarrierError)]
    assert not errors, errors
    with app.app_context():
        from server.extensions import db

        row = db.session.get(CustomerTracking, uuid.UUID(args["id"]))
        assert row.invalid_count == 2 * rounds
        assert _rows(db.session) == _recount(db.session)
