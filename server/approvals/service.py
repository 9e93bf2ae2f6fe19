"""The approvals framework (SPEC R-T3). Each kind says who decides and what approval does.

One record per request, decided in stages ("manager", then maybe "ops") by the right people:
- an `ops` stage: any active business-support (ops) user, or an admin;
- a `manager` stage: an active manager of the approval's decider department or of a department
  above it, or an admin. With no decider department only admins decide.
The requester never decides their own request (admins excepted).

A decision applies its effect atomically (inside a savepoint) or fails with the effect's
reason and leaves the approval pending. Every request and decision is audited; the deciders of
each stage are notified when it begins, the requester when the approval is decided.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import ColumnElement, String, and_, cast, false, literal, or_, select

from server.common import audit
from server.common.db import transaction_version, utcnow
from server.common.errors import AppError, Conflict, NotAuthorized, NotFound, ValidationFailed
from server.customers.models import Customer
from server.extensions import db
from server.notifications.service import notify
from server.org.models import Department, Role, User
from server.approvals.models import Approval

DECISIONS = ("approve", "reject")


@dataclass(frozen=True)
class Kind:
    name: str
    stages: Callable[[User, Customer | None, dict], list[str]]
    # department whose managers (or managers above it) decide manager stages
    decider_department: Callable[[User, Customer | None, dict], uuid.UUID | None]
    # apply(approval, decider, decision) -> result; `decision` is the decision entry (its
    # `outcome`, for kinds that have several ways to approve). Raises AppError to refuse.
    apply: Callable[..., dict | None]
    # check(approval, decision) before anything changes, at every stage (e.g. a valid outcome)
    check: Callable[[Approval, dict], None] | None = None
    # reject(approval, decider, decision) -> result recorded on a rejection
    on_reject: Callable[..., dict | None] | None = None
    # asking again while the same requester's request for the same customer waits answers
    # that request instead of opening a second one (e.g. a claim pushed twice)
    reuse_pending: bool = False


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    KINDS[kind.name] = kind


class IdConflict(AppError):
    status, code = 409, "id_conflict"


def request_approval(kind_name: str, requester: User, customer: Customer | None, payload: dict,
                     approval_id: uuid.UUID | None = None) -> Approval:
    """Open an approval. `approval_id` is the phone's id when the request came by sync."""
    _load_kinds()
    kind = KINDS[kind_name]
    if kind.reuse_pending and customer is not None:
        waiting = pending_for(customer.id, kind_name, requester_id=requester.id)
        if waiting is not None:
            return waiting
    if approval_id is not None and db.session.get(Approval, approval_id) is not None:
        raise IdConflict("This id is already used by another record", details={"id": str(approval_id)})
    approval = Approval(kind=kind_name, requester_id=requester.id, customer_id=customer.id if customer else None,
                        payload=audit.jsonable(payload), stages=kind.stages(requester, customer, payload), stage=0,
                        decider_department_id=kind.decider_department(requester, customer, payload),
                        decisions=[], created_at=utcnow())
    if approval_id is not None:
        approval.id = approval_id
    db.session.add(approval)
    db.session.flush()
    audit.record("approval.request", "approval", approval.id,
                 {"kind": [None, kind_name], "customer_id": [None, approval.customer_id],
                  "payload": [None, approval.payload]}, actor_id=requester.id)
    notify_deciders(approval, requester)
    return approval


def pending_for(customer_id: uuid.UUID, kind: str, requester_id: uuid.UUID | None = None) -> Approval | None:
    query = select(Approval).where(Approval.customer_id == customer_id, Approval.kind == kind,
                                   Approval.status == "pending")
    if requester_id is not None:
        query = query.where(Approval.requester_id == requester_id)
    return db.session.scalars(query.limit(1)).first()


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


def deciders(approval: Approval) -> list[User]:
    """Who may decide the current stage (admins aside): the people to tell it is waiting."""
    stage = current_stage(approval)
    query = None
    if stage == "ops":
        query = select(User).where(User.role == Role.ops)
    elif stage == "manager" and approval.decider_department_id is not None:
        department = db.session.get(Department, approval.decider_department_id)
        if department is not None:
            above = select(Department.id).where(literal(department.path).startswith(Department.path))
            query = select(User).where(User.role == Role.manager, User.department_id.in_(above))
    if query is None:  # nobody but an admin can decide it
        query = select(User).where(User.role == Role.admin)
    return [u for u in db.session.scalars(query.where(User.active.is_(True)).order_by(User.username))
            if u.id != approval.requester_id]


def notify_deciders(approval: Approval, requester: User | None = None) -> None:
    requester = requester or db.session.get(User, approval.requester_id)
    customer = db.session.get(Customer, approval.customer_id) if approval.customer_id else None
    data = {"approval_id": str(approval.id), "kind": approval.kind, "stage": current_stage(approval),
            "requester": requester.display_name if requester else None,
            "customer": {"id": str(customer.id), "code": customer.code, "name": customer.name} if customer else None}
    for user in deciders(approval):
        notify(user.id, "approval_waiting", data, customer_id=approval.customer_id,
               dedupe_key=f"approval:{approval.id}:{approval.stage}")


def deciders_filter(user: User) -> ColumnElement[bool]:
    """Approvals the user decides (now, later or earlier) — their inbox, in SQL."""
    if not user.active:
        return false()
    if user.role == Role.admin:
        return Approval.id.is_not(None)
    if user.role == Role.ops:
        return _json_contains_ops()
    if user.role == Role.manager:
        subtree = select(Department.id).where(Department.path.startswith(user.department.path))
        return and_(cast(Approval.stages, String).contains('"manager"'), Approval.decider_department_id.in_(subtree))
    return false()


def _json_contains_ops() -> ColumnElement[bool]:
    # stages is a small JSON list; matching its text keeps this portable across databases
    return cast(Approval.stages, String).contains('"ops"')


def visible_approvals(user: User) -> ColumnElement[bool]:
    _load_kinds()
    return or_(Approval.requester_id == user.id, deciders_filter(user))


def get_approval(user: User, approval_id: uuid.UUID, lock: bool = False) -> Approval:
    query = select(Approval).where(Approval.id == approval_id, visible_approvals(user))
    if lock:
        query = query.with_for_update(of=Approval).execution_options(populate_existing=True)
    approval = db.session.scalar(query)
    if approval is None:
        raise NotFound("Approval not found", details={"approval_id": str(approval_id)})
    return approval


def list_approvals(user: User, status: str | None = None, kind: str | None = None, box: str = "all",
                   limit: int = 100, before: tuple[str, str] | None = None) -> tuple[list[Approval], tuple[str, str] | None]:
    """The caller's approvals, newest first: `to_decide` (waiting for them now), `requested`
    (theirs), `decides` (their inbox, decided or not) or `all` of these."""
    from datetime import datetime

    query = select(Approval).where(visible_approvals(user))
    if status:
        query = query.where(Approval.status == status)
    if kind:
        query = query.where(Approval.kind == kind)
    if box == "requested":
        query = query.where(Approval.requester_id == user.id)
    elif box in ("decides", "to_decide"):
        query = query.where(deciders_filter(user))
        if user.role != Role.admin:
            query = query.where(Approval.requester_id != user.id)
        if box == "to_decide":
            query = query.where(Approval.status == "pending")
    if before:
        at, last = datetime.fromisoformat(before[0]), uuid.UUID(before[1])
        query = query.where(or_(Approval.created_at < at, and_(Approval.created_at == at, Approval.id < last)))
    query = query.order_by(Approval.created_at.desc(), Approval.id.desc())
    if box != "to_decide":
        rows = list(db.session.scalars(query.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
    else:
        # can_decide also reads the current stage; filter in Python over pending rows
        rows, more = [], False
        for row in db.session.scalars(query):
            if can_decide(user, row):
                if len(rows) == limit:
                    more = True
                    break
                rows.append(row)
    cursor = (rows[-1].created_at.isoformat(), str(rows[-1].id)) if more and rows else None
    return rows, cursor


def decide(approval_id: uuid.UUID, user: User, decision: str, comment: str | None,
           outcome: str | None = None) -> Approval:
    """Approve (this stage; the last one applies the effect) or reject. A failing effect rolls
    back to before the decision: the approval stays pending and the error says why."""
    _load_kinds()
    if decision not in DECISIONS:
        raise ValidationFailed("The decision is approve or reject",
                               details={"fields": {"decision": [f"one of {', '.join(DECISIONS)}"]}})
    transaction_version(db.session)  # lock order: the version counter before any row (see pools)
    approval = get_approval(user, approval_id, lock=True)
    if approval.status != "pending":
        raise Conflict("This approval was already decided", code="already_decided",
                       details={"status": approval.status})
    if not can_decide(user, approval):
        raise NotAuthorized("You may not decide this approval", details={"approval_id": str(approval.id)})
    kind = KINDS[approval.kind]
    now = utcnow()
    entry: dict[str, Any] = {"by": str(user.id), "by_name": user.display_name, "decision": decision,
                             "comment": comment, "at": now.isoformat(), "stage": current_stage(approval)}
    if outcome is not None:
        entry["outcome"] = outcome
    if kind.check is not None:
        kind.check(approval, entry)
    advanced = False
    if decision == "reject":
        approval.status = "rejected"
        if kind.on_reject is not None:
            approval.result = kind.on_reject(approval, user, entry) or {}
    elif approval.stage + 1 < len(approval.stages):
        approval.stage += 1
        advanced = True
    else:
        with db.session.begin_nested():
            result = kind.apply(approval, user, entry) or {}
        approval.result = audit.jsonable(result)
        approval.status = "approved"
    approval.decisions = [*(approval.decisions or []), entry]
    approval.decided_by_id, approval.comment = user.id, comment
    if approval.status != "pending":
        approval.decided_at = now
        notify(approval.requester_id, "approval_decided",
               {"approval_id": str(approval.id), "kind": approval.kind, "status": approval.status,
                "comment": comment, "by": user.display_name, "result": approval.result},
               customer_id=approval.customer_id, dedupe_key=f"decided:{approval.id}")
    db.session.flush()
    audit.record("approval.decide", "approval", approval.id,
                 {"status": ["pending", approval.status], "stage": [None, entry["stage"]], "decision": [None, entry]},
                 actor_id=user.id)
    if advanced:
        notify_deciders(approval)
    return approval


# ---- presentation -------------------------------------------------------------------------------

def present_approval(approval: Approval, viewer: User) -> dict[str, Any]:
    """One inbox item: who asked, for what, the stages and every decision, and whether the
    viewer may decide it now. Disputes say which side the industry line favours (R-T4)."""
    customer = db.session.get(Customer, approval.customer_id) if approval.customer_id else None
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(
        [i for i in (approval.requester_id, approval.decided_by_id) if i is not None])))}

    def ref(user_id):
        user = people.get(user_id)
        return {"id": user_id, "display_name": user.display_name} if user else None

    payload = dict(approval.payload or {})
    return audit.jsonable({
        "id": approval.id, "kind": approval.kind, "status": approval.status,
        "requester_id": approval.requester_id, "requester": ref(approval.requester_id),
        "customer_id": approval.customer_id,
        "customer": ({"id": customer.id, "code": customer.code, "name": customer.name,
                      "business_line": customer.business_line.value} if customer else None),
        "payload": payload, "stages": approval.stages, "stage": current_stage(approval),
        "stage_index": approval.stage, "decisions": approval.decisions or [],
        "approver": ref(approval.decided_by_id), "decided_by_id": approval.decided_by_id,
        "comment": approval.comment, "result": approval.result,
        "industry_priority": payload.get("industry_priority"),
        "created_at": approval.created_at, "decided_at": approval.decided_at,
        "can_decide": can_decide(viewer, approval),
    })


# ---- departments ---------------------------------------------------------------------------------

def lowest_common_department(a: Department, b: Department) -> Department | None:
    """The lowest department that is an ancestor (or self) of both; None across separate roots."""
    parts_a = [p for p in a.path.strip("/").split("/") if p]
    parts_b = [p for p in b.path.strip("/").split("/") if p]
    common = []
    for x, y in zip(parts_a, parts_b):
        if x != y:
            break
        common.append(x)
    if not common:
        return None
    path = "/" + "/".join(common) + "/"
    return db.session.scalar(select(Department).where(Department.path == path))


def _load_kinds() -> None:
    import server.approvals.kinds  # noqa: F401  (registers the kinds)
