"""Leavers (离职/调岗, SPEC R-U2).

When an admin deactivates a user their customers stay theirs (nothing is deleted) and appear
on the "to hand over" list of every manager above them (and of admins), with the deadline
`deactivated_at + handover_grace_days`. Managers hand them over with the ordinary transfer
(R-T1, `customer.transfer` or `POST /api/v1/customers/transfer`). The daily job returns what
is still unhanded after the deadline to its origin pool (R-P5 原路退回), together with the
reclaim job and under the same lock. As with reclaim, customers with receivables outstanding
or a legal dispute are exempt: they stay on the list, overdue, until a manager transfers them.

The list is computed, not stored: a customer is "to hand over" exactly while its owner is
inactive and it is not voided, so reactivating the user or transferring the customer takes it
off the list with nothing to keep in step.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from server.common.db import utcnow
from server.customers.models import Customer
from server.extensions import db
from server.notifications.service import notify
from server.org.models import Department, Role, User
from server.settings.service import get_settings


def grace() -> timedelta:
    return timedelta(days=int(get_settings().handover_grace_days))


def deadline(user: User) -> datetime | None:
    return user.deactivated_at + grace() if user.deactivated_at else None


def managers_above(user: User) -> list[User]:
    """Active managers of the user's department or a department above it."""
    above = select(Department.id).where(Department.path.in_(_ancestor_paths(user.department.path)))
    return list(db.session.scalars(select(User).where(User.role == Role.manager, User.active.is_(True),
                                                      User.department_id.in_(above), User.id != user.id)
                                   .order_by(User.username)))


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def _exempt():
    """Like reclaim (R-P5): receivables outstanding or a legal dispute never go back to a pool
    by themselves; they stay on the hand-over list (overdue) until a manager transfers them."""
    return or_(Customer.legal_dispute.is_(True), Customer.deal_total > Customer.payment_total)


def _owned_by_leavers():
    return and_(Customer.owner_id == User.id, User.active.is_(False), Customer.voided_at.is_(None))


def user_deactivated(user: User, actor: User | None = None) -> None:
    """Called when an admin deactivates a user: their pending requests are cancelled (nobody
    is left to act on their outcome; the customers themselves are on the hand-over list) and
    the managers above are told what to hand over."""
    cancel_pending_requests(user, actor)
    count = len(db.session.scalars(select(Customer.id).where(Customer.owner_id == user.id,
                                                             Customer.voided_at.is_(None))).all())
    if count == 0:
        return
    due = deadline(user)
    for manager in managers_above(user):
        notify(manager.id, "handover_required",
               {"user_id": str(user.id), "display_name": user.display_name, "count": count,
                "deadline": due.isoformat() if due else None},
               dedupe_key=f"handover:{user.id}:{user.deactivated_at.isoformat() if user.deactivated_at else ''}")


def cancel_pending_requests(user: User, actor: User | None = None) -> int:
    from server.approvals.models import Approval
    from server.common import audit

    now = utcnow()
    pending = list(db.session.scalars(select(Approval).where(Approval.requester_id == user.id,
                                                             Approval.status == "pending")
                                      .with_for_update(of=Approval)))
    for approval in pending:
        approval.status, approval.decided_at = "cancelled", now
        approval.result = {"reason": "requester_deactivated"}
        audit.record("approval.cancel", "approval", approval.id,
                     {"status": ["pending", "cancelled"], "reason": [None, "requester_deactivated"]},
                     actor_id=actor.id if actor else None)
    db.session.flush()
    return len(pending)


def handover_list(viewer: User, leaver_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The customers of inactive users this viewer must hand over: managers see the leavers of
    their department subtree, admins everyone's."""
    query = select(Customer, User).join(User, Customer.owner_id == User.id).where(_owned_by_leavers())
    if viewer.role == Role.manager:
        query = query.join(Department, User.department_id == Department.id).where(
            Department.path.startswith(viewer.department.path))
    elif viewer.role != Role.admin:
        return []
    if leaver_id is not None:
        query = query.where(User.id == leaver_id)
    rows = db.session.execute(query.order_by(User.deactivated_at, User.id, Customer.code)).all()
    now = utcnow()
    out = []
    for customer, leaver in rows:
        due = deadline(leaver)
        out.append({
            "customer": {"id": customer.id, "code": customer.code, "name": customer.name,
                         "business_line": customer.business_line.value, "status": customer.status.value,
                         "receivables": customer.receivables, "legal_dispute": customer.legal_dispute,
                         "parent_id": customer.parent_id,
                         "origin_pool": (customer.origin_pool.value if customer.origin_pool else None)},
            "leaver": {"id": leaver.id, "display_name": leaver.display_name,
                       "department_id": leaver.department_id, "department": leaver.department.name,
                       "deactivated_at": leaver.deactivated_at},
            "deadline": due,
            "overdue": due is not None and due <= now,
            "returns_to_pool": not (customer.receivables > 0 or customer.legal_dispute),
        })
    return out


def return_unhanded(as_of: datetime | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
    """Customers of leavers whose grace period has passed go back to their origin pools.

    Idempotent (a returned customer has no owner any more); run inside the reclaim job's
    transaction, so its advisory lock keeps a second host out. Returns what moved (or would)."""
    from server.customers import service as customers
    from server.pools.service import return_to_pool

    now = as_of or utcnow()
    cutoff = now - grace()
    due = db.session.execute(
        select(Customer, User).join(User, Customer.owner_id == User.id)
        .where(_owned_by_leavers(), User.deactivated_at.is_not(None), User.deactivated_at <= cutoff,
               ~_exempt())
        .order_by(Customer.id).with_for_update(of=Customer)).all()
    moved = []
    by_leaver: dict[uuid.UUID, list[dict]] = {}
    for customer, leaver in due:
        pool = customer.origin_pool or customers.industry_pool(customer.business_line)
        entry = {"customer_id": str(customer.id), "code": customer.code, "name": customer.name,
                 "owner_id": str(leaver.id), "pool": pool.value}
        moved.append(entry)
        if not dry_run:
            return_to_pool(customer, "handover", "the owner left and nobody took the customer over in time",
                           None, now)
            by_leaver.setdefault(leaver.id, []).append(entry)
    for leaver_id, entries in by_leaver.items():
        leaver = db.session.get(User, leaver_id)
        for manager in managers_above(leaver):
            notify(manager.id, "handover_returned",
                   {"user_id": str(leaver_id), "display_name": leaver.display_name, "count": len(entries),
                    "customers": entries[:50]})
    db.session.flush()
    return moved
