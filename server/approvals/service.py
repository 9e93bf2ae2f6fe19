"""The approvals framework (SPEC R-T3). Each kind says who decides and what approval does.

A decision applies its effect atomically (inside a savepoint) or fails with the effect's
reason and leaves the approval pending. Every request and decision is audited.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import ColumnElement, and_, false, or_, select

from server.common import audit
from server.common.db import utcnow
from server.common.errors import AppError, Conflict, NotAuthorized, NotFound
from server.customers.models import Customer
from server.extensions import db
from server.notifications.service import notify
from server.org.models import Department, Role, User
from server.approvals.models import Approval


@dataclass(frozen=True)
class Kind:
    name: str
    stages: Callable[[User, Customer | None, dict], list[str]]
    # department whose managers (or managers above it) decide manager stages
    decider_department: Callable[[User, Customer | None, dict], uuid.UUID | None]
    apply: Callable[[Approval, User], dict | None]


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    KINDS[kind.name] = kind


def request_approval(kind_name: str, requester: User, customer: Customer | None, payload: dict) -> Approval:
    _load_kinds()
    kind = KINDS[kind_name]
    approval = Approval(kind=kind_name, requester_id=requester.id, customer_id=customer.id if customer else None,
                        payload=audit.jsonable(payload), stages=kind.stages(requester, customer, payload), stage=0,
                        decider_department_id=kind.decider_department(requester, customer, payload))
    db.session.add(approval)
    db.session.flush()
    audit.record("approval.request", "approval", approval.id,
                 {"kind": [None, kind_name], "payload": [None, approval.payload]}, actor_id=requester.id)
    return approval


def current_stage(approval: Approval) -> str | None:
    return approval.stages[approval.stage] if approval.status == "pending" and approval.stage < len(approval.stages) else None


def can_decide(user: User, approval: Approval) -> bool:
    stage = current_stage(approval)
    if stage is None or not user.active or user.id == approval.requester_id and user.role != Role.admin:
        return False
    if user.role == Role.admin:
        return True
    if stage == "ops":
        return user.role == Role.ops
    if stage == "manager":
        if user.role != Role.manager or approval.decider_department_id is None:
            return False
        department = db.session.get(Department, approval.decider_department_id)
        return department is not None and department.path.startswith(user.department.path)
    return False


def deciders_filter(user: User) -> ColumnElement[bool]:
    """Approvals the user decides (now or decided earlier) — their inbox, in SQL."""
    if user.role == Role.admin:
        return Approval.id.is_not(None)
    if user.role == Role.ops:
        return _json_contains_ops()
    if user.role == Role.manager:
        subtree = select(Department.id).where(Department.path.startswith(user.department.path))
        return Approval.decider_department_id.in_(subtree)
    return false()


def _json_contains_ops() -> ColumnElement[bool]:
    # stages is a small JSON list; matching its text keeps this portable across databases
    from sqlalchemy import String, cast

    return cast(Approval.stages, String).contains('"ops"')


def visible_approvals(user: User) -> ColumnElement[bool]:
    _load_kinds()
    return or_(Approval.requester_id == user.id, deciders_filter(user))


def get_approval(user: User, approval_id: uuid.UUID, lock: bool = False) -> Approval:
    query = select(Approval).where(Approval.id == approval_id, visible_approvals(user))
    if lock:
        query = query.with_for_update(of=Approval)
    approval = db.session.scalar(query)
    if approval is None:
        raise NotFound("Approval not found", details={"approval_id": str(approval_id)})
    return approval


def decide(approval_id: uuid.UUID, user: User, decision: str, comment: str | None) -> Approval:
    _load_kinds()
    approval = get_approval(user, approval_id, lock=True)
    if approval.status != "pending":
        raise Conflict("This approval was already decided", code="already_decided",
                       details={"status": approval.status})
    if not can_decide(user, approval):
        raise NotAuthorized("You may not decide this approval", details={"approval_id": str(approval.id)})
    now = utcnow()
    entry = {"by": str(user.id), "decision": decision, "comment": comment, "at": now.isoformat(),
             "stage": current_stage(approval)}
    if decision == "reject":
        approval.status = "rejected"
    elif approval.stage + 1 < len(approval.stages):
        approval.stage += 1
    else:
        with db.session.begin_nested():
            approval.result = KINDS[approval.kind].apply(approval, user) or {}
        approval.status = "approved"
    approval.decisions = [*approval.decisions, entry]
    approval.decided_by_id, approval.comment = user.id, comment
    if approval.status != "pending":
        approval.decided_at = now
        notify(approval.requester_id, "approval_decided",
               {"approval_id": str(approval.id), "kind": approval.kind, "status": approval.status,
                "comment": comment}, customer_id=approval.customer_id, dedupe_key=f"decided:{approval.id}")
    db.session.flush()
    audit.record("approval.decide", "approval", approval.id,
                 {"status": ["pending", approval.status], "decision": [None, entry]}, actor_id=user.id)
    return approval


def _load_kinds() -> None:
    import server.approvals.kinds  # noqa: F401  (registers the kinds)
