"""The kinds of approval and their effects."""
from __future__ import annotations

import uuid

from server.approvals.models import Approval
from server.approvals.service import Kind, register_kind
from server.customers.models import Customer
from server.extensions import db
from server.org.models import User


def _pool_claim_apply(approval: Approval, decider: User) -> dict:
    """R-P2: an SMB rep's claim from an industry pool, approved by business support. Every
    claim rule is checked again now (still in the pool, quota, cooldown)."""
    from server.pools import service as pools

    requester = db.session.get(User, approval.requester_id)
    customer = pools._locked_customer(uuid.UUID(approval.payload["customer_id"]))
    if customer.pool is None:
        raise pools.NotInPool("This customer is no longer in a pool",
                              details={"customer_id": str(customer.id)})
    pools.check_cooldown(requester, customer, __import__("server.common.db", fromlist=["utcnow"]).utcnow())
    pools.assign_from_pool(customer, requester)
    return {"owner_id": str(requester.id)}


register_kind(Kind("pool_claim", stages=lambda requester, customer, payload: ["ops"],
                   decider_department=lambda requester, customer, payload: None,
                   apply=_pool_claim_apply))
