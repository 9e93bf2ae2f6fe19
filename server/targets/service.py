"""Targets (指标编审, SPEC R-K1): who sets them, their rules, and their actuals.

- A manager sets targets for the users of their department subtree (or an admin for anyone):
  status `active` at once.
- A rep (or a manager, for themselves) drafts their own: status `pending` and an approval of
  kind `target` that a manager above them decides in the approvals inbox (approve → `active`,
  reject → `rejected`). A manager who saves a pending draft of their team decides it with that
  save (the approval is approved, the values are the manager's).
- `start_date > end_date` → `invalid_period`; a period overlapping another non-rejected,
  non-voided target of the same user → `target_period_overlap` (adjacent periods are fine).

Actuals are computed, never typed or stored, by one SQL aggregate per measure over the users
asked for (`actuals`): customers the user created (not voided), visits the user made (visits a
manager marked false are not visits; verified ones — verification `verified` or confirmed by a
manager on review — are counted apart), amounts of signed deals credited to the user and the
payments received on those deals. A deal is credited to the user who recorded its signing
(`signed_by_id`; the deal's creator when that is missing), and so are its payments. Dates are
org-time-zone dates; moments are compared through the period's UTC bounds.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any, Iterable

from sqlalchemy import ColumnElement, case, func, or_, select

from server.approvals import service as approvals
from server.approvals.models import Approval
from server.common import audit
from server.common.db import transaction_version, utcnow
from server.common.errors import (Conflict, InvalidPeriod, NotAuthorized, NotFound, TargetPeriodOverlap,
                                  ValidationFailed)
from server.customers import access
from server.customers.models import Customer
from server.extensions import db
from server.org.models import Department, Role, User
from server.pipeline.models import Deal, DealStatus, Payment
from server.targets import periods
from server.targets.models import Target
from server.visits.models import Visit

CHUNK = 900  # ids per IN (…) list
MEASURES = ("new_customers", "visits", "deal_amount", "payment_amount")
FIELDS = ("user_id", "name", "start_date", "end_date", *MEASURES, "status", "set_by_id", "approved_by_id",
          "approval_id", "voided_at")


# ---- actuals ----------------------------------------------------------------------------------------

def deal_user() -> ColumnElement:
    """The user a deal (and its payments) counts for."""
    return func.coalesce(Deal.signed_by_id, Deal.created_by_id)


def verified_visit() -> ColumnElement[bool]:
    return or_(Visit.verification_status == "verified", Visit.review_status == "confirmed")


def counted_visit() -> ColumnElement[bool]:
    return Visit.review_status != "false"


def _empty() -> dict[str, int]:
    return {"new_customers": 0, "visits": 0, "verified_visits": 0, "deal_amount": 0, "payment_amount": 0}


def actuals(user_ids: Iterable[Any], start: date, end: date) -> dict[uuid.UUID, dict[str, int]]:
    """user id → {new_customers, visits, verified_visits, deal_amount, payment_amount} (fen) in the
    period [start, end] (org dates), for every user asked for (zeros when nothing happened)."""
    ids = list(dict.fromkeys(uuid.UUID(str(u)) for u in user_ids))
    result = {u: _empty() for u in ids}
    if not ids or start > end:
        return result
    low, high = periods.utc_bounds(start, end)
    for index in range(0, len(ids), CHUNK):
        chunk = ids[index:index + CHUNK]
        for user_id, count in db.session.execute(
                select(Customer.created_by_id, func.count(Customer.id))
                .where(Customer.created_by_id.in_(chunk), Customer.created_at >= low, Customer.created_at < high,
                       Customer.voided_at.is_(None))
                .group_by(Customer.created_by_id)):
            result[user_id]["new_customers"] = int(count)
        for user_id, count, verified in db.session.execute(
                select(Visit.author_id, func.count(Visit.id), func.sum(case((verified_visit(), 1), else_=0)))
                .where(Visit.author_id.in_(chunk), Visit.visited_at >= low, Visit.visited_at < high, counted_visit())
                .group_by(Visit.author_id)):
            result[user_id]["visits"] = int(count)
            result[user_id]["verified_visits"] = int(verified or 0)
        credited = deal_user()
        for user_id, amount in db.session.execute(
                select(credited, func.sum(Deal.amount))
                .where(credited.in_(chunk), Deal.status == DealStatus.signed, Deal.signed_date >= start,
                       Deal.signed_date <= end)
                .group_by(credited)):
            result[user_id]["deal_amount"] = int(amount or 0)
        for user_id, amount in db.session.execute(
                select(credited, func.sum(Payment.amount)).join(Deal, Deal.id == Payment.deal_id)
                .where(credited.in_(chunk), Payment.received_date >= start, Payment.received_date <= end)
                .group_by(credited)):
            result[user_id]["payment_amount"] = int(amount or 0)
    return result


def actuals_of(targets: list[Target]) -> dict[uuid.UUID, dict[str, int]]:
    """target id → its actuals; one `actuals` call per distinct period, not per target."""
    by_period: dict[tuple[date, date], list[Target]] = defaultdict(list)
    for target in targets:
        by_period[(target.start_date, target.end_date)].append(target)
    found: dict[uuid.UUID, dict[str, int]] = {}
    for (start, end), group in by_period.items():
        numbers = actuals([t.user_id for t in group], start, end)
        for target in group:
            found[target.id] = numbers[target.user_id]
    return found


# ---- who sees and who sets --------------------------------------------------------------------------

def visible_targets(viewer: User) -> ColumnElement[bool]:
    return Target.user_id.in_(select(User.id).where(access.visible_users(viewer)))


def manages_user(actor: User, user: User) -> bool:
    """An admin, or a manager of the user's department or one above it (not for themselves)."""
    if not actor.active:
        return False
    if actor.role == Role.admin:
        return True
    return actor.role == Role.manager and actor.id != user.id and access.manages(actor, user)


def _user(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("User not found", details={"user_id": str(user_id)})
    return user


def get_target(viewer: User, target_id: uuid.UUID) -> Target:
    target = db.session.scalar(select(Target).where(Target.id == target_id, visible_targets(viewer)))
    if target is None or target.voided_at is not None:
        raise NotFound("Target not found", details={"target_id": str(target_id)})
    return target


# ---- saving -----------------------------------------------------------------------------------------

def snapshot(target: Target) -> dict[str, Any]:
    return {k: getattr(target, k) for k in FIELDS}


def check_period(user_id: uuid.UUID, start: date, end: date, exclude_id: uuid.UUID | None) -> None:
    if start > end:
        raise InvalidPeriod("The period starts after it ends",
                            details={"start_date": start.isoformat(), "end_date": end.isoformat(),
                                     "fields": {"end_date": ["before start_date"]}})
    query = select(Target).where(Target.user_id == user_id, Target.status != "rejected", Target.voided_at.is_(None),
                                 Target.start_date <= end, Target.end_date >= start)
    if exclude_id is not None:
        query = query.where(Target.id != exclude_id)
    other = db.session.scalars(query.order_by(Target.start_date).limit(1)).first()
    if other is not None:
        raise TargetPeriodOverlap("This period overlaps another target of the same user",
                                  details={"target_id": str(other.id), "name": other.name,
                                           "start_date": other.start_date.isoformat(),
                                           "end_date": other.end_date.isoformat(), "status": other.status})


def approval_payload(target: Target, user: User) -> dict[str, Any]:
    """What the deciding manager sees in the inbox."""
    return audit.jsonable({"target_id": target.id, "user_id": user.id, "user_name": user.display_name,
                           **{k: getattr(target, k) for k in ("name", "start_date", "end_date", *MEASURES)}})


def save_target(args: dict[str, Any], actor: User, target_id: uuid.UUID | None = None) -> tuple[Target, Approval | None]:
    """Create or change a target (same id again = update). Returns it and, for a draft, the
    approval it waits on."""
    transaction_version(db.session)  # lock order: the version counter before any row
    target_id = target_id or args.get("id") or uuid.uuid4()
    existing = db.session.scalar(select(Target).where(Target.id == target_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if existing is not None and existing.voided_at is not None:
        raise NotFound("Target not found", details={"target_id": str(target_id)})
    user_id = args.get("user_id") or (existing.user_id if existing is not None else actor.id)
    if existing is not None and user_id != existing.user_id:
        raise ValidationFailed("A target's user cannot change; set a new target for the other user",
                               details={"fields": {"user_id": ["differs from the target's user"]}})
    if existing is not None and not db.session.scalar(
            select(Target.id).where(Target.id == existing.id, visible_targets(actor))):
        # someone else's target id: the same answer as a clash with any other record's id
        raise approvals.IdConflict("This id is already used by another record", details={"id": str(target_id)})
    user = _user(user_id)
    # Serialize saves for one user, so two concurrent saves cannot both pass the overlap check.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())

    if manages_user(actor, user) or (actor.role == Role.admin and user.id == actor.id):
        draft = False
    elif user.id == actor.id and actor.role in (Role.rep, Role.manager) and actor.active:
        draft = True
        if existing is not None and existing.status == "active":
            raise NotAuthorized("An approved target is changed by your manager",
                                details={"target_id": str(existing.id), "status": existing.status})
    elif user.id == actor.id:
        raise NotAuthorized("Your role has no sales targets", details={"role": actor.role.value})
    else:
        raise NotAuthorized("Only a manager above the user sets their targets",
                            details={"user_id": str(user.id)})
    if not user.active:
        raise ValidationFailed("The user is no longer active", code="user_inactive",
                               details={"user_id": str(user.id)})

    check_period(user.id, args["start_date"], args["end_date"], existing.id if existing is not None else None)
    now = utcnow()
    before = snapshot(existing) if existing is not None else {}
    target = existing or Target(id=target_id, user_id=user.id, created_at=now)
    target.name = args["name"].strip()
    target.start_date, target.end_date = args["start_date"], args["end_date"]
    for key in MEASURES:
        setattr(target, key, int(args[key]))
    target.set_by_id = actor.id
    target.updated_at = now
    waiting = db.session.get(Approval, target.approval_id) if target.approval_id else None
    if waiting is not None and waiting.status != "pending":
        waiting = None
    approval = None
    if draft:
        target.status, target.approved_by_id = "pending", None
        db.session.add(target)
        db.session.flush()
        if waiting is not None:
            _cancel(waiting, actor, "redrafted")
        approval = approvals.request_approval("target", actor, None, approval_payload(target, user))
        target.approval_id = approval.id
    elif waiting is not None and approvals.can_decide(actor, waiting):
        # A manager saving their rep's waiting draft decides it with this save: the manager's
        # values stand and the approval is approved (which makes the target active).
        db.session.flush()
    else:
        if waiting is not None:
            _cancel(waiting, actor, "set by a manager")
            waiting = None
        target.status, target.approved_by_id = "active", actor.id
        db.session.add(target)
    db.session.flush()
    audit.record("target.update" if existing is not None else "target.create", "target", target.id,
                 audit.diff(before, snapshot(target)), actor_id=actor.id)
    if not draft and waiting is not None:
        approvals.decide(waiting.id, actor, "approve", "目标已由经理设定 / set by the manager")
    return target, approval


def _cancel(approval: Approval, actor: User, reason: str) -> None:
    approval.status = "cancelled"
    approval.decided_by_id, approval.decided_at, approval.comment = actor.id, utcnow(), reason
    db.session.flush()
    audit.record("approval.cancel", "approval", approval.id, {"status": ["pending", "cancelled"],
                                                              "reason": [None, reason]}, actor_id=actor.id)


# ---- the approval kind `target` ------------------------------------------------------------------------

def _draft_of(approval: Approval) -> Target:
    target = db.session.scalar(select(Target).where(Target.id == uuid.UUID(approval.payload["target_id"]))
                               .with_for_update().execution_options(populate_existing=True))
    if target is None or target.voided_at is not None or target.status != "pending" \
            or target.approval_id != approval.id:
        raise Conflict("The target changed since this approval was requested", code="target_changed",
                       details={"target_id": approval.payload.get("target_id")})
    return target


def _approve(approval: Approval, decider: User, decision: dict | None = None) -> dict:
    target = _draft_of(approval)
    check_period(target.user_id, target.start_date, target.end_date, target.id)
    before = snapshot(target)
    target.status, target.approved_by_id, target.updated_at = "active", decider.id, utcnow()
    db.session.flush()
    audit.record("target.approve", "target", target.id, audit.diff(before, snapshot(target)), actor_id=decider.id)
    return {"target_id": str(target.id), "status": target.status}


def _reject(approval: Approval, decider: User, decision: dict | None = None) -> dict:
    target = _draft_of(approval)
    before = snapshot(target)
    target.status, target.updated_at = "rejected", utcnow()
    db.session.flush()
    audit.record("target.reject", "target", target.id, audit.diff(before, snapshot(target)), actor_id=decider.id)
    return {"target_id": str(target.id), "status": target.status}


def _decider_department(requester: User, customer, payload: dict) -> uuid.UUID | None:
    user = db.session.get(User, uuid.UUID(payload["user_id"]))
    return user.department_id if user is not None else None


approvals.register_kind(approvals.Kind("target", stages=lambda requester, customer, payload: ["manager"],
                                       decider_department=_decider_department, apply=_approve, on_reject=_reject))


# ---- reading ----------------------------------------------------------------------------------------

def list_targets(viewer: User, user_id: uuid.UUID | None = None, department_id: uuid.UUID | None = None,
                 start: date | None = None, end: date | None = None) -> list[Target]:
    query = select(Target).where(visible_targets(viewer), Target.voided_at.is_(None))
    if user_id is not None:
        query = query.where(Target.user_id == user_id)
    if department_id is not None:
        department = db.session.get(Department, department_id)
        if department is None:
            raise NotFound("Department not found", details={"department_id": str(department_id)})
        query = query.where(Target.user_id.in_(access.subtree_users(department.path)))
    if start is not None:
        query = query.where(Target.end_date >= start)
    if end is not None:
        query = query.where(Target.start_date <= end)
    return list(db.session.scalars(query.order_by(Target.start_date.desc(), Target.user_id, Target.id)))


def present_many(targets: list[Target]) -> list[dict[str, Any]]:
    """The contract's target data, actuals computed for all of them together."""
    numbers = actuals_of(targets)
    names = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_(list({t.user_id for t in targets})))).all()) if targets else {}
    return [{
        "id": str(t.id), "user_id": str(t.user_id), "user_name": names.get(t.user_id), "name": t.name,
        "start_date": t.start_date.isoformat(), "end_date": t.end_date.isoformat(),
        "new_customers": t.new_customers, "visits": t.visits, "deal_amount": t.deal_amount,
        "payment_amount": t.payment_amount, "status": t.status,
        "set_by_id": str(t.set_by_id) if t.set_by_id else None,
        "approved_by_id": str(t.approved_by_id) if t.approved_by_id else None,
        "approval_id": str(t.approval_id) if t.approval_id else None,
        "actuals": numbers[t.id],
        "updated_at": t.updated_at.isoformat(),
    } for t in targets]


def present(target: Target) -> dict[str, Any]:
    return present_many([target])[0]
