"""Ownership disputes (归属争议, SPEC R-T4).

A rep who finds (by the duplicate look-up) that someone else owns a customer they were working
with may dispute it with written evidence and photos. They need not see the customer. The
managers of the lowest department above both users decide (or an admin):
- approve with outcome `keep` — nothing changes;
- approve with outcome `reassign` — the customer is transferred to the claimant (quota and
  every transfer rule checked);
- approve with outcome `cofollow` — the claimant becomes a write co-follower;
- reject — same as keep.
Industry priority: when the customer's industry line is clear (not SMB) and only one side's
line may follow it, the inbox item names that side (`industry_priority`: claimant | owner).
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from server.approvals.models import Approval
from server.common import audit
from server.common.errors import Conflict, NotAuthorized, NotFound, ValidationFailed
from server.customers import service as customers
from server.customers.models import CoFollower, Customer
from server.extensions import db
from server.notifications.service import notify
from server.org.models import BusinessLine, Role, User

OUTCOMES = ("keep", "reassign", "cofollow")


def industry_priority(customer: Customer, claimant: User, owner: User | None) -> str | None:
    if owner is None or customer.business_line == BusinessLine.SMB:
        return None  # no industry line to go by
    claimant_fits = customers.line_allows(claimant, customer)
    owner_fits = customers.line_allows(owner, customer)
    if claimant_fits and not owner_fits:
        return "claimant"
    if owner_fits and not claimant_fits:
        return "owner"
    return None


def create_dispute(customer_id: uuid.UUID, evidence: str, photo_hashes: list[str], claimant: User,
                   approval_id: uuid.UUID | None = None) -> Approval:
    from server.approvals.service import pending_for, request_approval

    if claimant.role != Role.rep or not claimant.active:
        raise NotAuthorized("Only active reps dispute the ownership of a customer")
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.voided_at is not None:
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    if customer.owner_id is None:
        raise ValidationFailed("This customer is in a pool: claim it instead", code="not_owned",
                               details={"customer_id": str(customer.id), "pool": customer.pool.value})
    if customer.owner_id == claimant.id:
        raise ValidationFailed("You already own this customer", code="already_owner",
                               details={"customer_id": str(customer.id)})
    if pending_for(customer.id, "dispute", requester_id=claimant.id) is not None:
        raise Conflict("Your dispute of this customer is already waiting for a decision", code="approval_pending",
                       details={"customer_id": str(customer.id)})
    evidence = evidence.strip()
    if len(evidence) < 10:
        raise ValidationFailed("Describe your evidence in at least 10 characters",
                               details={"fields": {"evidence": ["at least 10 characters"]}})
    owner = customer.owner
    payload = {
        "customer_id": customer.id, "code": customer.code, "name": customer.name,
        "owner_id": owner.id, "owner_display_name": owner.display_name,
        "claimant_display_name": claimant.display_name,
        "customer_line": customer.business_line.value, "claimant_line": claimant.business_line.value,
        "owner_line": owner.business_line.value,
        "evidence": evidence, "photo_hashes": list(dict.fromkeys(photo_hashes)),
        "industry_priority": industry_priority(customer, claimant, owner),
    }
    approval = request_approval("dispute", claimant, customer, payload, approval_id=approval_id)
    _link_photos(approval, customer, payload["photo_hashes"])
    notify(owner.id, "customer_disputed", {"approval_id": str(approval.id), "code": customer.code,
                                           "name": customer.name, "claimant": claimant.display_name},
           customer_id=customer.id, dedupe_key=f"disputed:{approval.id}")
    return approval


def _link_photos(approval: Approval, customer: Customer, hashes: list[str]) -> None:
    """The evidence photos are readable by whoever sees the customer (the deciders do), like a
    visit's photos (photo access goes through PhotoLink)."""
    if not hashes:
        return
    from server.photos.models import PhotoLink

    for sha in hashes:
        db.session.add(PhotoLink(photo_sha256=sha, entity="dispute", entity_id=str(approval.id),
                                 customer_id=customer.id))
    db.session.flush()


def decider_department(requester: User, customer: Customer | None, payload: dict) -> uuid.UUID | None:
    """The lowest department above both the claimant's and the owner's (None: admins only)."""
    from server.approvals.service import lowest_common_department

    if customer is None or customer.owner is None:
        return None
    common = lowest_common_department(requester.department, customer.owner.department)
    return common.id if common is not None else None


def check_decision(approval: Approval, decision: dict) -> None:
    outcome = decision.get("outcome")
    if decision["decision"] == "approve" and outcome not in OUTCOMES:
        raise ValidationFailed("Approving a dispute needs an outcome: keep, reassign or cofollow",
                               details={"fields": {"outcome": [f"one of {', '.join(OUTCOMES)}"]}})
    if decision["decision"] == "reject" and outcome not in (None, "keep"):
        raise ValidationFailed("A rejected dispute keeps the owner",
                               details={"fields": {"outcome": ["only keep with reject"]}})


def on_reject(approval: Approval, decider: User, decision: dict) -> dict[str, Any]:
    return {"outcome": "keep"}


def apply(approval: Approval, decider: User, decision: dict) -> dict[str, Any]:
    outcome = decision["outcome"]
    if outcome == "keep":
        return {"outcome": "keep"}
    customer = customers.lock_customer(approval.customer_id)
    if customer.voided_at is not None:
        raise NotFound("Customer not found", details={"customer_id": str(customer.id)})
    if customer.owner_id is None:
        raise ValidationFailed("This customer is back in a pool", code="not_owned",
                               details={"customer_id": str(customer.id)})
    claimant = db.session.get(User, approval.requester_id)
    if claimant is None or not claimant.active:
        raise ValidationFailed("The claimant is not an active user", code="user_inactive",
                               details={"user_id": str(approval.requester_id)})
    if customer.owner_id == claimant.id:
        return {"outcome": outcome, "owner_id": str(claimant.id)}
    if outcome == "reassign":
        customers.transfer_customers([customer], claimant, f"dispute: {approval.payload.get('evidence', '')[:200]}",
                                     decider, approved=True, approval_id=approval.id)
        return {"outcome": "reassign", "owner_id": str(claimant.id)}
    # cofollow: the claimant becomes a write co-follower (R-O2)
    row = db.session.scalar(select(CoFollower).where(CoFollower.customer_id == customer.id,
                                                     CoFollower.user_id == claimant.id))
    before = row.permission if row else None
    if row is None:
        db.session.add(CoFollower(customer_id=customer.id, user_id=claimant.id, permission="write",
                                  added_by_id=decider.id))
    else:
        row.permission = "write"
    customer.updated_at = customers.utcnow()
    db.session.flush()
    audit.record("cofollower.add", "customer", customer.id,
                 {"co_follower": [None if before is None else {"user_id": claimant.id, "permission": before},
                                  {"user_id": claimant.id, "permission": "write"}],
                  "approval_id": [None, approval.id]}, actor_id=decider.id)
    notify(customer.owner_id, "co_follower_added", {"code": customer.code, "name": customer.name,
                                                    "user": claimant.display_name, "permission": "write",
                                                    "by": decider.display_name}, customer_id=customer.id)
    return {"outcome": "cofollow", "owner_id": str(customer.owner_id)}
