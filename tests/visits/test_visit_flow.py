"""Visits end to end (SPEC R-A2, §7, §12): photos up, `visit.create` pushed, verification,
the customer's visit count / last visit / status / progress, the pull, photo access."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from visit_helpers import (HEIF, IPHONE, JOLLA, NIKON, NOKIA, ODD_FILES, PHOTOS, SHOP, Phone, check,
                           fixture_bytes, fix, get_customer, get_visit, make_org, new_id, notifications, now,
                           ops_of, resized_copy, rewrite, set_last_progress, sha, shop_photo, visit_args,
                           visit_time)


@pytest.fixture
def org(factory):
    return make_org(factory)


@pytest.fixture
def phone(client, factory, org):
    return Phone(client, factory, org.rep)


def test_a_genuine_visit_is_verified_and_counts(phone, org, db_ctx):
    from server.common.audit import AuditEntry
    from server.photos.models import Photo, PhotoLink
    from server.visits.models import VisitPhoto

    long_ago = now() - timedelta(days=40)
    set_last_progress(db_ctx, org.customer.id, long_ago)
    photo = shop_photo(NOKIA)
    phone.upload(photo)
    visit_id, status = phone.visit(org.customer.id, [photo], stage="intent")
    assert status == "verified"

    visit = get_visit(db_ctx, visit_id)
    assert visit.author_id == org.rep.id and visit.customer_id == org.customer.id
    assert visit.photo_hashes == [sha(photo)]
    assert visit.position["accuracy_m"] == 25
    assert visit.client_time is not None and visit.received_at > visit.visited_at
    v = visit.verification
    assert (v["status"], v["time_source"], v["location_source"], v["distance_m"]) == ("verified", "gps", "exif_gps", 0)
    assert v["capture_time"] == (visit_time() + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert check(v, "time_mismatch") == {"code": "time_mismatch", "passed": True, "value": 40, "threshold": 900}

    customer = get_customer(db_ctx, org.customer.id)
    assert customer.visit_count == 1
    assert customer.last_visit_at == visit_time()
    assert customer.status.value == "intent"
    assert customer.last_progress_at == visit_time()  # progress (R-P5), at the visit's time

    with db_ctx() as session:
        link = session.scalar(select(PhotoLink).where(PhotoLink.photo_sha256 == sha(photo)))
        assert (link.entity, link.entity_id, link.customer_id) == ("visit", visit_id, org.customer.id)
        assert session.scalar(select(func.count()).select_from(VisitPhoto)
                              .where(VisitPhoto.visit_id == uuid.UUID(visit_id))) == 1
        assert session.get(Photo, sha(photo)).exif["gps"] == SHOP
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "visit.create",
                                                        AuditEntry.entity_id == visit_id))
        assert audit.actor_id == org.rep.id and audit.channel == "sync"
        assert audit.changes["customer_status"] == ["potential", "intent"]

    ops = ops_of(phone.pull(), "visit")
    assert ops[visit_id]["data"]["verification"] == v
    assert ops[visit_id]["data"]["verification_status"] == "verified"
    assert ops[visit_id]["data"]["review_status"] == "none"


def test_a_visit_pushed_before_its_photo_is_pending_then_verified(phone, org, db_ctx, factory):
    long_ago = now() - timedelta(days=40)
    set_last_progress(db_ctx, org.customer.id, long_ago)
    photo = shop_photo(IPHONE, offset_tag=False)
    visit_id, status = phone.visit(org.customer.id, [photo])
    assert status == "pending"
    visit = get_visit(db_ctx, visit_id)
    assert check(visit.verification, "photo_missing")["passed"] is False
    assert check(visit.verification, "no_capture_time")["passed"] is None
    customer = get_customer(db_ctx, org.customer.id)
    assert customer.visit_count == 1 and customer.last_progress_at == long_ago  # not progress yet

    first = ops_of(phone.pull(), "visit")[visit_id]
    assert first["data"]["verification_status"] == "pending"
    phone.upload(photo)  # the photo arrives: every visit naming it is verified again
    visit = get_visit(db_ctx, visit_id)
    assert visit.verification_status == "verified"
    assert check(visit.verification, "clock_disagreement")["detail"] == {"offset": "+08:00"}
    assert get_customer(db_ctx, org.customer.id).last_progress_at == visit_time()  # progress now
    again = ops_of(phone.pull(), "visit")[visit_id]
    assert again["version"] > first["version"] and again["data"]["verification_status"] == "verified"


def test_a_photo_uploaded_by_someone_else_also_verifies(client, factory, org, db_ctx):
    phone = Phone(client, factory, org.rep)
    photo = shop_photo(JOLLA)
    visit_id, status = phone.visit(org.customer.id, [photo])
    assert status == "pending"
    Phone(client, factory, org.colleague).upload(photo)
    assert get_visit(db_ctx, visit_id).verification_status == "verified"


def test_a_suspect_visit_is_kept_not_progress_and_its_managers_are_told(phone, org, db_ctx):
    long_ago = now() - timedelta(days=40)
    set_last_progress(db_ctx, org.customer.id, long_ago)
    far = shop_photo(NOKIA, lat=SHOP["lat"] + 0.0433)  # ~4.8 km north
    phone.upload(far)
    visit_id, status = phone.visit(org.customer.id, [far], position=fix(lat=SHOP["lat"] + 0.0433))
    assert status == "suspect"
    visit = get_visit(db_ctx, visit_id)
    far_check = check(visit.verification, "far_from_customer")
    assert far_check["passed"] is False and 4700 < far_check["value"] < 4900 and far_check["threshold"] == 200
    customer = get_customer(db_ctx, org.customer.id)
    assert customer.visit_count == 1 and customer.last_visit_at == visit_time()
    assert customer.last_progress_at == long_ago  # a suspect visit is not progress

    for manager in (org.manager, org.head):
        (note,) = notifications(db_ctx, manager, "suspect_visit")
        assert note.data["visit_id"] == visit_id and note.data["failed"] == ["far_from_customer"]
        assert note.customer_id == org.customer.id
    assert notifications(db_ctx, org.other_manager, "suspect_visit") == []
    assert notifications(db_ctx, org.rep, "suspect_visit") == []
    assert notifications(db_ctx, org.admin, "suspect_visit") == []


def test_stage_sets_the_status_but_never_downgrades_signed(phone, org, db_ctx):
    from server.common.history import customer_history
    from server.customers.models import Customer, CustomerStatus

    photo = shop_photo(NOKIA)
    phone.upload(photo)
    phone.visit(org.customer.id, [photo], stage="lost")
    assert get_customer(db_ctx, org.customer.id).status == CustomerStatus.lost
    with db_ctx() as session:
        assert [(c.field, c.before, c.after) for c in customer_history(org.customer.id)
                if c.field == "status"] == [("status", "potential", "lost")]
        session.get(Customer, org.customer.id).status = CustomerStatus.signed
        session.commit()
    second = shop_photo(NIKON)
    phone.upload(second)
    phone.visit(org.customer.id, [second], stage="potential")
    customer = get_customer(db_ctx, org.customer.id)
    assert customer.status == CustomerStatus.signed and customer.visit_count == 2


def test_who_may_create_a_visit(client, factory, org, db_ctx):
    photo = shop_photo(NOKIA)
    stranger = Phone(client, factory, org.colleague)
    stranger.rejected("visit.create", visit_args(org.customer.id, [photo]), "not_found")
    manager = Phone(client, factory, org.manager)  # sees it, may not write under it
    manager.rejected("visit.create", visit_args(org.customer.id, [photo]), "not_authorized")

    owner = Phone(client, factory, org.rep)
    owner.applied("cofollower.add", {"customer_id": str(org.customer.id), "user_id": str(org.colleague.id),
                                     "permission": "read"})
    stranger.rejected("visit.create", visit_args(org.customer.id, [photo]), "not_authorized")
    owner.applied("cofollower.add", {"customer_id": str(org.customer.id), "user_id": str(org.colleague.id),
                                     "permission": "write"})
    visit_id, _ = stranger.visit(org.customer.id, [photo])
    assert get_visit(db_ctx, visit_id).author_id == org.colleague.id


def test_visit_args_are_checked(phone, org, factory):
    photo = shop_photo(NOKIA)
    other = factory.customer(org.rep)
    theirs = factory.contact(other, org.rep)
    mine = factory.contact(org.customer, org.rep)
    error = phone.rejected("visit.create", visit_args(org.customer.id, [photo], contact_id=str(theirs.id)),
                           "validation_failed")
    assert "contact_id" in error["details"]["fields"]
    phone.visit(org.customer.id, [photo], contact_id=str(mine.id))
    for bad in ({"photo_hashes": []}, {"photo_hashes": ["ABC"]}, {"stage": "signed"},
                {"visited_at": "2026-11-23T09:14:00"}, {"verification": {"status": "verified"}},
                {"position": {"lat": 91, "lng": 0}}, {"purpose": "  "}):
        phone.rejected("visit.create", visit_args(org.customer.id, [photo], **bad), "validation_failed")
    args = visit_args(org.customer.id, [photo])
    phone.applied("visit.create", args)
    phone.rejected("visit.create", {**args, "purpose": "again"}, "id_conflict")


def test_the_same_photo_on_a_second_visit_is_reused(phone, org, db_ctx, factory):
    photo = shop_photo(NOKIA)
    phone.upload(photo)
    first, status = phone.visit(org.customer.id, [photo])
    assert status == "verified"
    other_customer = factory.customer(org.rep, location=dict(SHOP))
    second, status = phone.visit(other_customer.id, [photo])
    assert status == "suspect"
    reused = check(get_visit(db_ctx, second).verification, "photo_reused")
    assert reused["detail"] == {"visit_ids": [first]}
    assert get_visit(db_ctx, first).verification_status == "verified"


def test_a_resized_copy_on_another_visit_is_similar(phone, org, db_ctx):
    photo = shop_photo(NIKON)
    phone.upload(photo)
    first, _ = phone.visit(org.customer.id, [photo])
    copy = resized_copy(photo, 0.5, 75)
    phone.upload(copy)
    second, status = phone.visit(org.customer.id, [copy])
    assert status == "suspect"
    similar = check(get_visit(db_ctx, second).verification, "photo_similar")
    assert similar["passed"] is False and similar["value"] <= 6 and similar["detail"] == {"visit_ids": [first]}


def test_pending_visits_sharing_a_photo_earlier_one_keeps_it(phone, org, db_ctx, factory):
    """Two visits name the same photo before it arrives: on upload the later one is reused."""
    photo = shop_photo(NOKIA)
    first, _ = phone.visit(org.customer.id, [photo])
    second, _ = phone.visit(factory.customer(org.rep, location=dict(SHOP)).id, [photo])
    phone.upload(photo)
    assert get_visit(db_ctx, first).verification_status == "verified"
    assert get_visit(db_ctx, second).verification_status == "suspect"


def test_android_redacted_gps_with_a_good_phone_fix(phone, org, db_ctx):
    photo = shop_photo(NOKIA, redacted=True)
    phone.upload(photo)
    visit_id, status = phone.visit(org.customer.id, [photo])
    assert status == "verified"
    v = get_visit(db_ctx, visit_id).verification
    assert v["location_source"] == "phone_fix" and v["distance_m"] == 22


def test_gimp_photo_is_suspect_edited(phone, org, db_ctx):
    photo = shop_photo(NOKIA, software="GIMP 2.10.34")
    phone.upload(photo)
    visit_id, status = phone.visit(org.customer.id, [photo])
    assert status == "suspect"
    assert check(get_visit(db_ctx, visit_id).verification, "edited")["detail"] == {"software": ["GIMP 2.10.34"]}


def test_nikon_camera_clock_off_gps_time_wins(phone, org, db_ctx):
    gps_time = visit_time() + timedelta(seconds=40)
    photo = rewrite(NIKON, lat=SHOP["lat"], lng=SHOP["lng"], gps_time=gps_time,
                    local=(gps_time - timedelta(hours=22)).replace(tzinfo=None), offset=None)
    phone.upload(photo)
    visit_id, status = phone.visit(org.customer.id, [photo])
    assert status == "verified"
    v = get_visit(db_ctx, visit_id).verification
    assert v["time_source"] == "gps" and check(v, "clock_disagreement")["passed"] is False


def test_heif_from_a_phone(phone, org, db_ctx, factory):
    from server.verification import exif

    data = fixture_bytes(HEIF)
    facts = exif.extract(data)
    customer = factory.customer(org.rep, location=facts["gps"])
    phone.upload(data)
    taken_at = facts["gps_time"].replace("Z", "+00:00")
    visit_id, status = phone.visit(customer.id, [data], visited_at=taken_at, position=None)
    assert status == "verified"
    v = get_visit(db_ctx, visit_id).verification
    assert (v["time_source"], v["location_source"]) == ("gps", "exif_gps")


def test_a_customer_without_location_gives_unverified_visits(phone, org, db_ctx, factory):
    customer = factory.customer(org.rep, location=None)
    photo = shop_photo(NOKIA)
    phone.upload(photo)
    visit_id, status = phone.visit(customer.id, [photo])
    assert status == "unverified"
    assert check(get_visit(db_ctx, visit_id).verification, "customer_location_unknown")["passed"] is False


@pytest.mark.parametrize("name", ODD_FILES)
def test_odd_files_never_crash_or_hang(phone, org, db_ctx, name):
    import time

    data = fixture_bytes(name)
    started = time.monotonic()
    r = phone.upload(data, expect=None)
    assert r.status_code in (201, 415, 422), r.json
    visit_id, status = phone.visit(org.customer.id, [data])
    if r.status_code == 201:
        assert status in ("unverified", "suspect")
    else:  # refused bytes are no photo: the visit waits for a real one
        assert status == "pending"
    assert time.monotonic() - started < 15
    assert get_visit(db_ctx, visit_id).verification["checks"]


def test_photo_access_follows_the_visit(client, factory, org):
    """A rep cannot GET another rep's visit photo (404); the manager above can."""
    photo = shop_photo(NOKIA)
    phone = Phone(client, factory, org.rep)
    phone.upload(photo)
    colleague_h = factory.headers(org.colleague)
    manager_h = factory.headers(org.manager)
    other_h = factory.headers(org.other_manager)
    url = PHOTOS + sha(photo)
    for headers in (colleague_h, manager_h, other_h):
        assert client.get(url, headers=headers).status_code == 404  # no visit names it yet
    phone.visit(org.customer.id, [photo])
    assert client.get(url, headers=phone.headers).status_code == 200
    assert client.get(url + "?size=thumb", headers=manager_h).status_code == 200
    assert client.get(url, headers=manager_h).data == photo
    assert client.head(url, headers=manager_h).status_code == 200
    for headers in (colleague_h, other_h):
        r = client.get(url, headers=headers)
        assert r.status_code == 404 and r.json["error"]["message"] == "Photo not found"
        assert client.head(url, headers=headers).status_code == 404


def test_the_visit_feed_follows_the_customer(client, factory, org):
    photo = shop_photo(NOKIA)
    owner = Phone(client, factory, org.rep)
    owner.upload(photo)
    visit_id, _ = owner.visit(org.customer.id, [photo])
    manager = Phone(client, factory, org.manager)
    assert visit_id in ops_of(manager.pull(), "visit")
    colleague = Phone(client, factory, org.colleague)
    assert visit_id not in ops_of(colleague.pull(), "visit")
    owner.applied("share.add", {"customer_id": str(org.customer.id), "user_id": str(org.colleague.id)})
    assert visit_id in ops_of(colleague.pull(), "visit")
    owner.applied("share.remove", {"customer_id": str(org.customer.id), "user_id": str(org.colleague.id)})
    assert visit_id in ops_of(colleague.pull(), "visit", op="del")


def test_visits_online(client, factory, org):
    photo = shop_photo(NOKIA)
    phone = Phone(client, factory, org.rep)
    phone.upload(photo)
    visit_id, _ = phone.visit(org.customer.id, [photo])
    r = client.get(f"/api/v1/visits/{visit_id}", headers=phone.headers)
    assert r.status_code == 200, r.json
    assert r.json["verification"]["status"] == "verified" and r.json["customer"]["id"] == str(org.customer.id)
    assert r.json["can_review"] is False
    listed = client.get(f"/api/v1/visits?customer_id={org.customer.id}", headers=factory.headers(org.manager))
    assert [v["id"] for v in listed.json["items"]] == [visit_id]
    assert client.get(f"/api/v1/visits/{visit_id}", headers=factory.headers(org.colleague)).status_code == 404
    assert client.get(f"/api/v1/visits/{new_id()}", headers=phone.headers).status_code == 404
