"""R-T4 ownership disputes: evidence, the lowest manager above both decides, three outcomes."""
from __future__ import annotations

from approval_helpers import (applied_with_approval, approval_row, customer_row, error_of, move_to_pool, new_id,
                              notifications, ok, rejected, set_settings, world)  # noqa: F401

EVIDENCE = "三月已拜访该客户并提交方案，有会议纪要为证"


def _dispute(device, customer, evidence=EVIDENCE, **extra):
    return device.push("dispute.create", {"id": new_id(), "customer_id": str(customer.id), "evidence": evidence,
                                          **extra})


def test_a_rep_disputes_a_customer_they_can_only_find_by_name_and_the_lowest_common_manager_decides(world):
    customer = world.customer("ka_rep", name="南京争议归属科技有限公司")
    claimant = world.device("ka2_rep")
    # the claimant cannot see the customer, only find it by name
    error_of(world.get("ka2_rep", f"/api/v1/customers/{customer.id}"), 404, "not_found")
    [match] = ok(world.get("ka2_rep", "/api/v1/customers", query_string={"q": "争议归属"}))["matches"]
    assert match["id"] == str(customer.id) and match["visible"] is False

    approval_id = applied_with_approval(_dispute(claimant, customer))
    # KA一部 and KA二部 meet at 总公司: its manager decides, not KA一部's
    [item] = world.approvals("top", box="to_decide")
    assert item["id"] == approval_id and item["kind"] == "dispute"
    assert item["payload"]["evidence"] == EVIDENCE and item["payload"]["owner_display_name"] == "KA业务员甲"
    assert world.approvals("ka_manager") == []
    error_of(world.decide("ka_manager", approval_id, outcome="reassign"), 404, "not_found")
    [told] = notifications(world.app, world.ka_rep, "customer_disputed")
    assert told.data["claimant"] == "KA二部业务员"

    body = ok(world.decide("top", approval_id, comment="证据充分", outcome="reassign"))
    assert body["status"] == "approved" and body["result"]["outcome"] == "reassign"
    assert customer_row(world.app, customer.id).owner_id == world.ka2_rep.id
    claimant.pull()
    assert claimant.get("customer", customer.id)["owner"]["id"] == str(world.ka2_rep.id)
    assert claimant.get("approval", approval_id)["result"]["outcome"] == "reassign"


def test_the_cofollow_outcome_makes_the_claimant_a_write_co_follower(world):
    customer = world.customer("ka_rep")
    approval_id = applied_with_approval(_dispute(world.device("ka_rep2"), customer))
    # same department: its manager is the lowest manager above both
    assert [a["id"] for a in world.approvals("ka_manager", box="to_decide")] == [approval_id]
    decided = world.device("ka_manager").push("approval.decide", {"approval_id": approval_id, "decision": "approve",
                                                                  "outcome": "cofollow"})
    assert decided["server"]["result"] == {"outcome": "cofollow", "owner_id": str(world.ka_rep.id)}, decided
    assert customer_row(world.app, customer.id).owner_id == world.ka_rep.id
    claimant = world.device("ka_rep2")
    claimant.pull()
    seen = claimant.get("customer", customer.id)
    assert {"user_id": str(world.ka_rep2.id), "permission": "write"} in seen["co_followers"]
    # a write co-follower may now add contacts
    assert claimant.push("contact.create", {"id": new_id(), "customer_id": str(customer.id),
                                            "name": "王总"})["status"] == "applied"


def test_keep_and_reject_leave_the_owner_and_approving_needs_an_outcome(world):
    customer = world.customer("ka_rep")
    first = applied_with_approval(_dispute(world.device("ka_rep2"), customer))
    error_of(world.decide("ka_manager", first), 422, "validation_failed")  # approve without outcome
    assert ok(world.decide("ka_manager", first, outcome="keep"))["result"] == {"outcome": "keep"}
    second = applied_with_approval(_dispute(world.device("ka_rep2"), customer))
    assert ok(world.decide("ka_manager", second, "reject"))["result"] == {"outcome": "keep"}
    assert customer_row(world.app, customer.id).owner_id == world.ka_rep.id


def test_reassign_checks_the_claimants_quota(world):
    customer = world.customer("ka_rep")
    approval_id = applied_with_approval(_dispute(world.device("ka_rep2"), customer))
    set_settings(world.app, {"quotas": {"KA": 0}})
    error = error_of(world.decide("ka_manager", approval_id, outcome="reassign"), 409, "quota_exceeded")
    assert error["details"]["fits"] == 0
    assert approval_row(world.app, approval_id).status == "pending"


def test_the_inbox_says_when_the_industry_line_favours_the_claimant(world):
    customer = world.customer("ka_rep", line="INTERNET")  # a video customer owned by a KA rep
    approval_id = applied_with_approval(_dispute(world.device("internet_rep"), customer))
    [item] = world.approvals("top", box="to_decide")
    assert item["id"] == approval_id and item["industry_priority"] == "claimant"
    plain = world.customer("ka_rep")
    other = applied_with_approval(_dispute(world.device("internet_rep"), plain))
    assert ok(world.get("top", f"/api/v1/approvals/{other}"))["industry_priority"] == "owner"
    # managers of both lines may hand the customer to the other line
    ok(world.decide("top", approval_id, outcome="reassign"))
    assert customer_row(world.app, customer.id).owner_id == world.internet_rep.id


def test_disputes_need_evidence_an_owned_customer_and_a_rep(world):
    customer = world.customer("ka_rep")
    rejected(_dispute(world.device("ka_rep2"), customer, evidence="太短了"), "validation_failed")
    rejected(_dispute(world.device("ka_rep"), customer), "already_owner")
    rejected(_dispute(world.device("ka_manager"), customer), "not_authorized")
    in_pool = world.customer("ka_rep")
    move_to_pool(world.app, in_pool.id, "KA")
    rejected(_dispute(world.device("ka_rep2"), in_pool), "not_owned")
    phone = world.device("ka_rep2")
    applied_with_approval(_dispute(phone, customer))
    rejected(_dispute(phone, customer), "approval_pending")


def test_dispute_photos_are_readable_by_the_decider(world):
    from server.photos.models import PhotoLink
    from sqlalchemy import select

    from approval_helpers import session_of

    customer = world.customer("ka_rep")
    sha = "a" * 64
    approval_id = applied_with_approval(_dispute(world.device("ka_rep2"), customer, photo_hashes=[sha]))
    with session_of(world.app) as session:
        [link] = session.scalars(select(PhotoLink).where(PhotoLink.entity == "dispute")).all()
        assert link.entity_id == approval_id and link.photo_sha256 == sha and link.customer_id == customer.id
    rejected(_dispute(world.device("ka_rep2"), customer, photo_hashes=["not-a-hash"]), "validation_failed")
