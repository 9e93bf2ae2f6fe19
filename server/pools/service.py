"""Pools, claims, releases and the reclaim job (SPEC R-P1–R-P7)."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select

from server.common import audit
from server.common.db import advisory_lock, transaction_version, utcnow
from server.common.errors import AppError, NotAuthorized, NotFound, ValidationFailed
from server.customers import service as customers
from server.customers.models import CoFollower, Customer, CustomerStatus, Pool, Share
from server.extensions import db
from server.notifications.service import notify
from server.org.models import BusinessLine, Role, User
from server.pools.models import ClaimCooldown
from server.settings.service import get_settings

RECLAIM_LOCK_KEY = 0x66636D5F7265636C  # "fcm_recl": one reclaim job at a time across hosts


class NotInPool(AppError):
    status, code = 409, "not_in_pool"


class CooldownActive(AppError):
    status, code = 409, "cooldown_active"


class CrossLineForbidden(AppError):
    status, code = 403, "cross_line_forbidden"


class ReceivablesOutstanding(AppError):
    status, code = 409, "receivables_outstanding"


def pool_line(pool: Pool) -> BusinessLine | None:
    return None if pool == Pool.public else BusinessLine(pool.value)


def claimable_pools(user: User) -> list[Pool]:
    """The pools whose basic fields the user may browse (R-O4): where they may claim, plus all
    pools for those who manage or review."""
    if user.role in (Role.manager, Role.ops, Role.admin):
        return list(Pool)
    if user.business_line == BusinessLine.SMB:
        return list(Pool)  # an SMB rep may ask to claim from any industry pool (R-P2)
    line_pool = customers.industry_pool(user.business_line)
    return sorted({Pool.public, line_pool}, key=lambda p: p.value)


def browse(user: User, pool: Pool, q: str | None, limit: int, after: str | None) -> tuple[list[Customer], str | None]:
    if pool not in claimable_pools(user):
        raise NotAuthorized("You may not browse this pool", details={"pool": pool.value})
    query = select(Customer).where(Customer.pool == pool, Customer.voided_at.is_(None))
    if q:
        key = customers.normalize_name(q)
        query = query.where(or_(Customer.name_key.contains(key, autoescape=True),
                                Customer.name_initials.startswith(key.lower(), autoescape=True),
                                Customer.region.contains(q.strip(), autoescape=True)))
    # A pool customer put there without a release date (released_at is nullable) sorts by its
    # creation date instead of breaking the cursor (NULLs compare as unknown; None.isoformat()).
    released_at = func.coalesce(Customer.released_at, Customer.created_at)
    if after:
        released, cid = after.split("|", 1)
        after_at = datetime.fromisoformat(released)
        if after_at.tzinfo is None:
            raise ValueError("cursor time without offset")  # a 422 bad cursor, not a 500
        query = query.where(or_(released_at < after_at,
                                and_(released_at == after_at, Customer.id > uuid.UUID(cid))))
    rows = list(db.session.scalars(query.order_by(released_at.desc(), Customer.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    cursor = f"{(last.released_at or last.created_at).isoformat()}|{last.id}" if more and last else None
    return rows, cursor


def present_pool_customer(customer: Customer) -> dict:
    """Basic fields only (R-O4)."""
    return {"id": customer.id, "code": customer.code, "name": customer.name, "industry": customer.industry,
            "business_line": customer.business_line.value, "region": customer.region,
            "pool": customer.pool.value, "released_at": customer.released_at,
            "times_reclaimed": customer.times_reclaimed}


def _locked_customer(customer_id: uuid.UUID) -> Customer:
    # Lock order of every writer: the sync version (the global counter row, taken on a write's
    # first flush) before customer rows. Locking the customer first deadlocked with a concurrent
    # write under it (e.g. a co-follower's new contact takes a key-share lock on the customer).
    transaction_version(db.session)
    customer = db.session.scalar(select(Customer).where(Customer.id == customer_id)
                                 .with_for_update(of=Customer))
    if customer is None or customer.voided_at is not None:
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    return customer


def check_cooldown(user: User, customer: Customer, now: datetime) -> None:
    until = db.session.scalar(select(ClaimCooldown.until).where(
        ClaimCooldown.customer_id == customer.id, ClaimCooldown.user_id == user.id))
    if until is not None and until > now:
        raise CooldownActive("You gave this customer up recently and cannot claim it yet",
                             details={"until": until.isoformat()})


def check_claim_line(user: User, customer: Customer) -> bool:
    """R-P2. True when the claim may proceed directly; False when it needs an ops approval
    (an SMB rep claiming from an industry pool); raises for other cross-line claims."""
    line = pool_line(customer.pool)
    if line is None or line == user.business_line:
        return True
    if user.business_line == BusinessLine.SMB:
        return False
    raise CrossLineForbidden("This pool belongs to another business line",
                             details={"pool": customer.pool.value, "your_line": user.business_line.value})


def claim(customer_id: uuid.UUID, user: User) -> dict:
    """R-P2–R-P4: take a pool customer. Exactly one of several racing claims wins: the customer
    row is locked (PostgreSQL) or the write lock held (SQLite) while it is checked and moved."""
    if user.role != Role.rep or not user.active:
        raise NotAuthorized("Only active reps claim customers from pools")
    customer = _locked_customer(customer_id)
    if customer.pool is None:
        raise NotInPool("This customer is no longer in a pool", details=customers.duplicate_details(customer))
    now = utcnow()
    check_cooldown(user, customer, now)
    if not check_claim_line(user, customer):
        from server.approvals.service import request_approval

        approval = request_approval("pool_claim", user, customer,
                                    {"customer_id": str(customer.id), "pool": customer.pool.value})
        return {"_notice": {"code": "approval_required", "message": "Your claim waits for business support",
                            "details": {"approval_id": str(approval.id)}}}
    assign_from_pool(customer, user, now)
    return {"code": customer.code}


def assign_from_pool(customer: Customer, user: User, now: datetime | None = None) -> None:
    """Move a pool customer to `user` (after the checks): quota, origin pool, progress clock."""
    now = now or utcnow()
    customers.lock_user(user)
    if customer.parent_id is None:
        customers.check_quota(user, customer.business_line)
    pool = customer.pool
    customer.owner_id, customer.owner, customer.pool = user.id, user, None
    customer.origin_pool, customer.assigned_at, customer.last_progress_at = pool, now, now
    db.session.flush()
    audit.record("customer.claim", "customer", customer.id,
                 {"owner_id": [None, user.id], "pool": [pool, None]}, actor_id=user.id)
    customers.owner_changed(customer, None, user.id)


def return_to_pool(customer: Customer, action: str, reason: str, actor: User | None, now: datetime | None = None) -> Pool:
    """Send an owned customer back to its origin pool (R-P5 原路退回), clearing co-followers and
    shares (R-P7); the former owner may not claim it again during the cooldown (R-P4)."""
    now = now or utcnow()
    former = customer.owner_id
    pool = customer.origin_pool or customers.industry_pool(customer.business_line)
    removed_followers = db.session.execute(
        delete(CoFollower).where(CoFollower.customer_id == customer.id).returning(CoFollower.user_id)).scalars().all()
    db.session.execute(delete(Share).where(Share.customer_id == customer.id))
    customer.owner_id, customer.owner, customer.pool, customer.released_at = None, None, pool, now
    if action == "reclaim":
        customer.times_reclaimed += 1
    if former is not None:
        cooldown_until = now + timedelta(days=get_settings().cooldown_days)
        row = db.session.get(ClaimCooldown, (customer.id, former))
        if row is None:
            db.session.add(ClaimCooldown(customer_id=customer.id, user_id=former, until=cooldown_until,
                                         reason=action))
        else:
            row.until, row.reason = cooldown_until, action
    db.session.flush()
    audit.record(f"customer.{action}", "customer", customer.id,
                 {"owner_id": [former, None], "pool": [None, pool], "reason": [None, reason],
                  "co_followers_removed": [[str(u) for u in removed_followers], []]},
                 actor_id=actor.id if actor else None)
    customers.owner_changed(customer, former, None)
    return pool


def release(customer_id: uuid.UUID, user: User, reason: str) -> dict:
    """R-P6: the owner gives a customer without receivables back to its origin pool."""
    customer = _locked_customer(customer_id)
    if customer.owner_id != user.id:
        raise NotAuthorized("Only the owner may release this customer", details={"customer_id": str(customer_id)})
    if customer.receivables > 0:
        raise ReceivablesOutstanding("Customers with receivables outstanding cannot be released",
                                     details={"receivables": customer.receivables})
    pool = return_to_pool(customer, "release", reason, user)
    return {"pool": pool.value}


# ---- reclaim (R-P5) -----------------------------------------------------------------------------

def reclaim_days(status: CustomerStatus) -> int:
    rules = get_settings().reclaim
    return int(rules["by_status"].get(status.value, rules["default_days"]))


def days_to_reclaim(customer: Customer, now: datetime | None = None) -> int | None:
    """Whole days left before the reclaim job takes the customer back; None when exempt."""
    if customer.owner_id is None or customer.legal_dispute or customer.receivables > 0 \
            or customer.last_progress_at is None:
        return None
    now = now or utcnow()
    due = customer.last_progress_at + timedelta(days=reclaim_days(customer.status))
    return max(0, math.ceil((due - now).total_seconds() / 86400))


def _exempt():
    return or_(Customer.legal_dispute.is_(True), Customer.deal_total > Customer.payment_total)


def _due_condition(now: datetime, extra_days: int = 0):
    """Owned, not exempt, and last progress older than its status's reclaim period."""
    conditions = []
    for status in CustomerStatus:
        cutoff = now - timedelta(days=reclaim_days(status) - extra_days)
        conditions.append(and_(Customer.status == status, Customer.last_progress_at <= cutoff))
    return and_(Customer.owner_id.is_not(None), Customer.voided_at.is_(None), ~_exempt(), or_(*conditions))


@dataclass
class ReclaimReport:
    as_of: datetime
    dry_run: bool
    reclaimed: list[dict] = field(default_factory=list)
    warned: list[dict] = field(default_factory=list)
    skipped_locked: bool = False


def run_reclaim(as_of: datetime | None = None, dry_run: bool = False) -> ReclaimReport:
    """Return customers without progress to their origin pools; warn owners ahead of time.

    Idempotent (a customer reclaimed is no longer owned; warnings are deduplicated per due
    date) and safe on several hosts at once (PostgreSQL advisory lock; on SQLite the immediate
    write transaction excludes other writers).
    """
    now = as_of or utcnow()
    report = ReclaimReport(as_of=now, dry_run=dry_run)
    if not advisory_lock(db.session, RECLAIM_LOCK_KEY):
        report.skipped_locked = True
        return report
    if not dry_run:
        # Take the sync version (the global counter's row lock) before locking any customer: the
        # order of every sync write (version on its first flush, then its rows). Locking the due
        # customers first deadlocked with a phone's write to one of them (a visit, an edit).
        transaction_version(db.session)
    due = list(db.session.scalars(select(Customer).where(_due_condition(now)).order_by(Customer.id)
                                  .with_for_update(of=Customer)))
    for customer in due:
        entry = {"customer_id": str(customer.id), "code": customer.code, "name": customer.name,
                 "owner_id": str(customer.owner_id),
                 "pool": (customer.origin_pool or customers.industry_pool(customer.business_line)).value}
        report.reclaimed.append(entry)
        if not dry_run:
            owner_id = customer.owner_id
            return_to_pool(customer, "reclaim", "no progress", None, now)
            notify(owner_id, "customer_reclaimed", {"code": customer.code, "name": customer.name,
                                                    "pool": entry["pool"]},
                   customer_id=customer.id, dedupe_key=f"reclaimed:{customer.id}:{now.date().isoformat()}")
    warning_days = int(get_settings().reclaim["warning_days"])
    if warning_days > 0:
        soon = db.session.scalars(select(Customer).where(_due_condition(now, extra_days=warning_days),
                                                         ~_due_condition(now)))
        for customer in soon:
            left = days_to_reclaim(customer, now)
            due_at = customer.last_progress_at + timedelta(days=reclaim_days(customer.status))
            entry = {"customer_id": str(customer.id), "code": customer.code, "name": customer.name,
                     "owner_id": str(customer.owner_id), "days_left": left, "due_at": due_at.isoformat()}
            report.warned.append(entry)
            if not dry_run:
                notify(customer.owner_id, "reclaim_warning",
                       {"code": customer.code, "name": customer.name, "days_left": left,
                        "due_at": due_at.isoformat()},
                       customer_id=customer.id, dedupe_key=f"reclaim_warning:{customer.id}:{due_at.date().isoformat()}")
    db.session.flush()
    return report


def touch_progress(customer: Customer, at: datetime | None = None) -> None:
    """A progress event (R-P5): an opportunity change, a valid follow-up, a visit that is not
    suspect, a deal, a payment. Moves the reclaim clock forward, never back."""
    at = at or utcnow()
    if customer.last_progress_at is None or at > customer.last_progress_at:
        customer.last_progress_at = at
