"""Managers review suspect and unverified visits (SPEC §7): the queue, confirm / mark false,
who may, what it does to progress and the visit count, the author is told."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from visit_helpers import (IPHONE, JOLLA, NOKIA, SHOP, Phone, fix, get_customer, get_visit, make_org, notifications, now,
                           ops_of, set_last_progress, shop_photo, visit_time)

QUEUE = "/api/v1/visits/review"


@pytest.fixture
def org(factory):
    return make_org(factory)


@pytest.fixture
def phone(client, factory, org):
    return Phone(client, factory, org.rep)


# Each kind of visit has a picture of its own: two visits showing the same picture would be
# photo_similar.
def suspect_visit(phone, customer_id) -> str:
    far = shop_photo(NOKIA, lat=SHOP["lat"] + 0.05)
    phone.upload(far)
    visit_id, status = phone.visit(customer_id, [far], position=fix(lat=SHOP["lat"] + 0.05))
    assert status == "suspect"
    return visit_id


def unverified_visit(phone, customer_id) -> str:
    photo = shop_photo(JOLLA, lat=None, lng=None, at=visit_time() + timedelta(seconds=70))
    phone.upload(photo)
    visit_id, status = phone.visit(customer_id, [photo], position=None)
    assert status == "unverified"
    return visit_id


def review(client, headers, visit_id, decision, comment=None):
    return client.post(f"/api/v1/visits/{visit_id}/review", json={"decision": decision, "comment": comment},
                       headers=headers)


def test_the_queue_holds_suspect_and_unverified_visits_for_managers_above(client, factory, org, phone):
    suspect = suspect_visit(phone, org.customer.id)
    unverified = unverified_visit(phone, org.customer.id)
    good = shop_photo(IPHONE, at=visit_time() + timedelta(seconds=90))
    phone.upload(good)
    verified, _ = phone.visit(org.customer.id, [good])

    for user in (org.manager, org.head, org.admin):
        r = client.get(QUEUE, headers=factory.headers(user))
        assert r.status_code == 200, r.json
        items = {v["id"]: v for v in r.json["items"]}
        assert set(items) == {suspect, unverified}, user.username
        assert items[suspect]["failed"] == ["far_from_customer"]
        assert items[suspect]["author"]["id"] == str(org.rep.id)
        assert items[suspect]["customer"]["code"] == org.customer.code
        assert items[suspect]["can_review"] is True
        assert items[suspect]["verification"]["checks"]
    manager_h = factory.headers(org.manager)
    only = client.get(QUEUE + "?status=suspect", headers=manager_h).json["items"]
    assert [v["id"] for v in only] == [suspect]
    assert client.get(QUEUE, headers=factory.headers(org.other_manager)).json["items"] == []
    for user in (org.rep, org.colleague):
        r = client.get(QUEUE, headers=factory.headers(user))
        assert r.status_code == 403 and r.json["error"]["code"] == "not_authorized"
    assert client.get(QUEUE + "?status=verified", headers=manager_h).status_code == 422
    assert verified not in [v["id"] for v in client.get(QUEUE + "?review=all", headers=manager_h).json["items"]]

    page = client.get(QUEUE + "?limit=1", headers=manager_h).json
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get(QUEUE + f"?limit=1&cursor={page['next_cursor']}", headers=manager_h).json
    assert {page["items"][0]["id"], rest["items"][0]["id"]} == {suspect, unverified}
    assert rest["next_cursor"] is None


def test_confirming_a_suspect_visit_makes_it_progress(client, factory, org, phone, db_ctx):
    from server.common.audit import AuditEntry

    long_ago = now() - timedelta(days=40)
    set_last_progress(db_ctx, org.customer.id, long_ago)
    visit_id = suspect_visit(phone, org.customer.id)
    assert get_customer(db_ctx, org.customer.id).last_progress_at == long_ago
    before = ops_of(phone.pull(), "visit")[visit_id]["version"]

    r = review(client, factory.headers(org.manager), visit_id, "confirm", "客户搬到新园区了，地址待更新")
    assert r.status_code == 200, r.json
    assert r.json["review_status"] == "confirmed" and r.json["reviewed_by_id"] == str(org.manager.id)
    assert r.json["review_comment"] == "客户搬到新园区了，地址待更新" and r.json["reviewed_at"]
    assert r.json["verification_status"] == "suspect"  # the evidence says what it says
    assert get_customer(db_ctx, org.customer.id).last_progress_at == visit_time()

    (told,) = notifications(db_ctx, org.rep, "visit_reviewed")
    assert told.data["decision"] == "confirm" and told.data["reviewer"]["id"] == str(org.manager.id)
    with db_ctx() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "visit.review",
                                                        AuditEntry.entity_id == visit_id))
        assert entry.actor_id == org.manager.id and entry.changes["review_status"] == ["none", "confirmed"]
    after = ops_of(phone.pull(), "visit")[visit_id]
    assert after["version"] > before and after["data"]["review_status"] == "confirmed"
    assert client.get(QUEUE, headers=factory.headers(org.manager)).json["items"] == []
    reviewed = client.get(QUEUE + "?review=reviewed", headers=factory.headers(org.manager)).json["items"]
    assert [v["id"] for v in reviewed] == [visit_id]

    again = review(client, factory.headers(org.head), visit_id, "false")
    assert again.status_code == 409 and again.json["error"]["code"] == "already_reviewed"


def test_a_visit_marked_false_is_not_progress_and_leaves_the_count(client, factory, org, phone, db_ctx):
    long_ago = now() - timedelta(days=40)
    set_last_progress(db_ctx, org.customer.id, long_ago)
    visit_id = unverified_visit(phone, org.customer.id)
    customer = get_customer(db_ctx, org.customer.id)
    assert customer.last_progress_at == visit_time()  # unverified is not suspect: progress
    assert customer.visit_count == 1 and customer.last_visit_at == visit_time()

    r = review(client, factory.headers(org.head), visit_id, "false", "照片里不是这家公司")
    assert r.status_code == 200, r.json
    assert r.json["review_status"] == "false"
    customer = get_customer(db_ctx, org.customer.id)
    assert customer.last_progress_at == long_ago  # taken back
    assert customer.visit_count == 0 and customer.last_visit_at is None
    visit = get_visit(db_ctx, visit_id)
    assert visit.progress_at is None and visit.reviewed_by_id == org.head.id
    (told,) = notifications(db_ctx, org.rep, "visit_reviewed")
    assert told.data["review_status"] == "false" and told.data["comment"] == "照片里不是这家公司"


def test_marking_false_keeps_later_progress(client, factory, org, phone, db_ctx):
    from server.customers.models import Customer

    set_last_progress(db_ctx, org.customer.id, now() - timedelta(days=40))
    visit_id = unverified_visit(phone, org.customer.id)
    later = now() - timedelta(minutes=5)
    set_last_progress(db_ctx, org.customer.id, later)  # e.g. a valid follow-up since
    assert review(client, factory.headers(org.manager), visit_id, "false").status_code == 200
    with db_ctx() as session:
        assert session.get(Customer, org.customer.id).last_progress_at == later


def test_who_may_review(client, factory, org, phone, db_ctx):
    visit_id = suspect_visit(phone, org.customer.id)
    # the author and other reps who see it: 403; who does not see it: 404
    assert review(client, phone.headers, visit_id, "confirm").status_code == 403
    Phone(client, factory, org.rep).applied("share.add", {"customer_id": str(org.customer.id),
                                                          "user_id": str(org.colleague.id)})
    r = review(client, factory.headers(org.colleague), visit_id, "confirm")
    assert r.status_code == 403 and r.json["error"]["code"] == "not_authorized"
    assert review(client, factory.headers(org.other_manager), visit_id, "confirm").status_code == 404
    ops = factory.user("ops")
    assert review(client, factory.headers(ops), visit_id, "confirm").status_code == 403
    assert review(client, factory.headers(org.manager), visit_id, "maybe").status_code == 422
    assert get_visit(db_ctx, visit_id).review_status == "none"
    assert review(client, factory.headers(org.admin), visit_id, "confirm").status_code == 200


def test_a_manager_may_not_review_their_own_visit(client, factory, org, db_ctx):
    own = factory.customer(org.manager, location=dict(SHOP))
    manager_phone = Phone(client, factory, org.manager)
    visit_id = suspect_visit(manager_phone, own.id)
    assert review(client, manager_phone.headers, visit_id, "confirm").status_code == 403
    assert [v["id"] for v in client.get(QUEUE, headers=manager_phone.headers).json["items"]] == []
    assert review(client, factory.headers(org.head), visit_id, "confirm").status_code == 200


def test_verified_and_pending_visits_are_not_reviewed(client, factory, org, phone):
    good = shop_photo(NOKIA)
    phone.upload(good)
    verified, _ = phone.visit(org.customer.id, [good])
    pending, status = phone.visit(org.customer.id, [shop_photo(NOKIA, at=visit_time() + timedelta(seconds=45))])
    assert status == "pending"
    for visit_id in (verified, pending):
        r = review(client, factory.headers(org.manager), visit_id, "confirm")
        assert r.status_code == 409 and r.json["error"]["code"] == "not_reviewable"


def test_managers_review_on_their_phones(client, factory, org, phone, db_ctx):
    visit_id = suspect_visit(phone, org.customer.id)
    manager = Phone(client, factory, org.manager)
    result = manager.applied("visit.review", {"visit_id": visit_id, "decision": "false", "comment": "造假"})
    assert result["server"]["review_status"] == "false"
    assert get_visit(db_ctx, visit_id).review_status == "false"
    phone.rejected("visit.review", {"visit_id": visit_id, "decision": "confirm"}, "not_authorized")
    manager.rejected("visit.review", {"visit_id": visit_id, "decision": "confirm"}, "already_reviewed")


def test_a_suspect_visit_before_its_photo_tells_managers_once_on_upload(client, factory, org, phone, db_ctx):
    far = shop_photo(NOKIA, lat=SHOP["lat"] + 0.05)
    visit_id, status = phone.visit(org.customer.id, [far])
    assert status == "pending"
    assert notifications(db_ctx, org.manager, "suspect_visit") == []
    phone.upload(far)
    assert get_visit(db_ctx, visit_id).verification_status == "suspect"
    assert len(notifications(db_ctx, org.manager, "suspect_visit")) == 1
