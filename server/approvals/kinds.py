"""The kinds of approval, who decides them, and their effects (SPEC R-T3).

| kind              | requested by                           | stages           | effect on approval                 |
|-------------------|----------------------------------------|------------------|------------------------------------|
| `pool_claim`      | an SMB rep claiming from an industry pool (R-P2) | ops    | the claim, every claim rule again  |
| `transfer`        | a transfer of a customer with receivables or a legal dispute (R-T1) | manager of the owner's department or above | the transfer, every transfer rule again |
| `change_request`  | owner / write co-follower (R-T2)       | manager [+ ops]  | the field changes, every rule again|
| `subsidiary_line` | creating a subsidiary of a parent in another line (R-C9) | ops | the parent is attached     |
| `dispute`         | a rep disputing another's customer (R-T4) | manager of the lowest department above both | keep / reassign / cofollow |

Every effect raises an AppError to refuse; the decision then fails with that error and the
approval stays pending (see `service.decide`).
"""
from __future__ import annotations

import uuid

from server.approvals import disputes
from server.approvals.models import Approval
from server.approvals.service import Kind, register_kind
from server.common.db import utcnow
from server.common.errors import Conflict, NotAuthorized, NotFound
from server.customers import service as customers
from server.customers.models import Customer
from server.extensions import db
from server.org.models import Role, User


def _requester(approval: Approval) -> User:
    return db.session.get(User, approval.requester_id)


def _owner_department(requester: User, customer: Customer | None, payload: dict) -> uuid.UUID | None:
    if customer is None or customer.owner is None:
        return None
    return customer.owner.department_id


def _no_department(requester: User, customer: Customer | None, payload: dict) -> None:
    return None


# ---- pool_claim (R-P2) ----------------------------------------------------------------------------

def _pool_claim_apply(approval: Approval, decider: User, decision: dict | None = None) -> dict:
    """An SMB rep's claim from an industry pool, approved by business support. Every claim rule
    is checked again now (an active rep, still in the pool, cooldown, quota)."""
    from server.pools import service as pools

    requester = _requester(approval)
    if requester is None or not requester.active or requester.role != Role.rep:
        raise NotAuthorized("The requester is no longer an active rep",
                            details={"user_id": str(approval.requester_id)})
    customer = pools._locked_customer(uuid.UUID(approval.payload["customer_id"]))
    if customer.pool is None:
        raise pools.NotInPool("This customer is no longer in a pool", details=customers.duplicate_details(customer))
    pools.check_cooldown(requester, customer, utcnow())
    pools.assign_from_pool(customer, requester)
    return {"owner_id": str(requester.id)}


register_kind(Kind("pool_claim", stages=lambda requester, customer, payload: ["ops"],
                   decider_department=_no_department, apply=_pool_claim_apply, reuse_pending=True))


# ---- transfer (R-T1) ------------------------------------------------------------------------------

def _transfer_apply(approval: Approval, decider: User, decision: dict | None = None) -> dict:
    """Transfer now, as the requester asked, with every transfer rule checked again."""
    customer = customers.lock_customer(approval.customer_id)
    if customer.voided_at is not None:
        raise NotFound("Customer not found", details={"customer_id": str(customer.id)})
    if str(customer.owner_id) != approval.payload.get("from_owner_id"):
        raise Conflict("The customer changed hands since the transfer was requested", code="owner_changed",
                       details={"customer_id": str(customer.id),
                                "owner_id": str(customer.owner_id) if customer.owner_id else None})
    receiver = db.session.get(User, uuid.UUID(approval.payload["to_user_id"]))
    if receiver is None:
        raise NotFound("User not found", details={"user_id": approval.payload["to_user_id"]})
    customers.transfer_customers([customer], receiver, approval.payload.get("reason") or "", _requester(approval),
                                 approved=True, approval_id=approval.id)
    return {"owner_id": str(receiver.id)}


register_kind(Kind("transfer", stages=lambda requester, customer, payload: ["manager"],
                   decider_department=_owner_department, apply=_transfer_apply))


# ---- change_request (R-T2) ------------------------------------------------------------------------

register_kind(Kind("change_request",
                   stages=lambda requester, customer, payload: customers.change_request_stages(
                       list(payload.get("changes") or {})),
                   decider_department=_owner_department,
                   apply=lambda approval, decider, decision=None: customers.apply_change_request(approval, decider)))


# ---- subsidiary_line (R-C9) -----------------------------------------------------------------------

register_kind(Kind("subsidiary_line", stages=lambda requester, customer, payload: ["ops"],
                   decider_department=_no_department,
                   apply=lambda approval, decider, decision=None: customers.apply_subsidiary_line(approval, decider)))


# ---- dispute (R-T4) -------------------------------------------------------------------------------

register_kind(Kind("dispute", stages=lambda requester, customer, payload: ["manager"],
                   decider_department=disputes.decider_department, apply=disputes.apply,
                   check=disputes.check_decision, on_reject=disputes.on_reject))
