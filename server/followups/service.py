"""Follow-up rules (SPEC R-A1, R-A3, R-P5, R-P8). Nothing here commits.

Validity: after removing white space, punctuation and symbols (Unicode categories P* and S*),
content shorter than `follow_up.min_chars` is `too_short`; content that is, as a whole, one of
the `follow_up.empty_phrases` (normalized the same way) is `empty_phrase`; no contact is
`no_contact`. Invalid follow-ups are kept with their reasons and are not progress.
"""
from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from server.common import audit
from server.common.db import utcnow
from server.common.errors import NotAuthorized, NotFound, ValidationFailed
from server.customers import access
from server.customers import service as customers
from server.customers.models import CoFollower, Contact, Customer
from server.extensions import db
from server.followups import tracking
from server.followups.models import CustomerTracking, FollowUp, FollowUpKind, InvalidReason
from server.notifications.service import notify
from server.org.models import User
from server.settings.service import get_settings

REMINDER_KIND = "follow_up_due"
# A missed daily run (host down) still reminds for next contacts up to this many days back.
REMINDER_CATCH_UP_DAYS = 3
SNIPPET_CHARS = 60


def _dropped(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch.isspace() or category[0] in "PS" or category == "Cf"


def normalize_content(text: str) -> str:
    """NFKC, case-folded, without white space, punctuation, symbols and invisible characters."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in text if not _dropped(ch))


def invalid_reasons(content: str, contact_id: Any, settings=None) -> list[str]:
    """The R-A1 reasons, in a stable order; an empty list means the follow-up is valid."""
    rules = (settings or get_settings())["follow_up"]
    core = normalize_content(content)
    reasons = []
    if len(core) < int(rules["min_chars"]):
        reasons.append(InvalidReason.too_short.value)
    phrases = {normalize_content(p) for p in rules.get("empty_phrases") or []}
    phrases.discard("")
    if core in phrases:
        reasons.append(InvalidReason.empty_phrase.value)
    if contact_id is None:
        reasons.append(InvalidReason.no_contact.value)
    return reasons


def _client_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo is not None else None


def create_follow_up(args: dict, actor: User, client_time: str | None = None) -> FollowUp:
    """R-A1 by the owner or a write co-follower (R-O2). A valid one is progress (R-P5)."""
    customer = db.session.get(Customer, args["customer_id"])
    if customer is None or customer.voided_at is not None or not access.can_see(actor, customer.id):
        raise NotFound("Customer not found", details={"customer_id": str(args["customer_id"])})
    access.require_write(actor, customer)
    contact_id = args.get("contact_id")
    if contact_id is not None:
        contact = db.session.get(Contact, contact_id)
        if contact is None or contact.customer_id != customer.id or contact.voided_at is not None:
            raise ValidationFailed("The contact is not one of this customer's contacts",
                                   details={"fields": {"contact_id": ["not a contact of this customer"]}})
    follow_up_id = customers._entity_id(args.get("id"), FollowUp)
    reasons = invalid_reasons(args["content"], contact_id)
    now = utcnow()
    follow_up = FollowUp(id=follow_up_id, customer_id=customer.id, author_id=actor.id,
                         kind=FollowUpKind(args["kind"]), contact_id=contact_id, content=args["content"],
                         next_contact_at=args.get("next_contact_at"), valid=not reasons,
                         invalid_reasons=reasons, created_at=now, client_time=_client_time(client_time))
    db.session.add(follow_up)
    if not reasons:
        from server.pools.service import touch_progress

        touch_progress(customer, now)
    db.session.flush()
    audit.record("follow_up.create", "follow_up", follow_up.id,
                 audit.diff({}, {"customer_id": customer.id, "kind": follow_up.kind, "contact_id": contact_id,
                                 "content": follow_up.content, "next_contact_at": follow_up.next_contact_at,
                                 "valid": follow_up.valid, "invalid_reasons": reasons}),
                 actor_id=actor.id)
    return follow_up


def present(follow_up: FollowUp) -> dict[str, Any]:
    return {
        "id": str(follow_up.id), "customer_id": str(follow_up.customer_id),
        "author_id": str(follow_up.author_id), "kind": follow_up.kind.value,
        "contact_id": str(follow_up.contact_id) if follow_up.contact_id else None,
        "content": follow_up.content,
        "next_contact_at": follow_up.next_contact_at.isoformat() if follow_up.next_contact_at else None,
        "valid": follow_up.valid, "invalid_reasons": list(follow_up.invalid_reasons or []),
        "created_at": follow_up.created_at.isoformat(),
        "client_time": follow_up.client_time.isoformat() if follow_up.client_time else None,
        "version": follow_up.version,
    }


# ---- reminders (R-A1 "reminder on that day", R-A3) ----------------------------------------------

def _org_day_bounds(as_of: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the organisation's day containing `as_of`."""
    zone = ZoneInfo(get_settings().timezone)
    day = as_of.astimezone(zone).date()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def remind_due_follow_ups(as_of: datetime | None = None) -> list[dict]:
    """Notify each author (kind `follow_up_due`) of next contacts due on the organisation's day
    of `as_of` (and a few missed days before it). Once per follow-up (dedupe key), only while the
    author still works the customer, and not when the author has followed it up again since."""
    as_of = as_of or utcnow()
    day_start, day_end = _org_day_bounds(as_of)
    later = aliased(FollowUp)
    query = (
        select(FollowUp, Customer)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(FollowUp.next_contact_at >= day_start - timedelta(days=REMINDER_CATCH_UP_DAYS),
               FollowUp.next_contact_at < day_end,
               Customer.voided_at.is_(None), Customer.owner_id.is_not(None),
               (Customer.owner_id == FollowUp.author_id) | exists().where(
                   CoFollower.customer_id == Customer.id, CoFollower.user_id == FollowUp.author_id),
               ~exists().where(later.customer_id == FollowUp.customer_id, later.author_id == FollowUp.author_id,
                               later.created_at > FollowUp.created_at))
        .order_by(FollowUp.next_contact_at, FollowUp.id))
    sent = []
    for follow_up, customer in db.session.execute(query).all():
        data = {"follow_up_id": str(follow_up.id), "code": customer.code, "name": customer.name,
                "kind": follow_up.kind.value, "next_contact_at": follow_up.next_contact_at.isoformat(),
                "contact_id": str(follow_up.contact_id) if follow_up.contact_id else None,
                "content": follow_up.content[:SNIPPET_CHARS]}
        if notify(follow_up.author_id, REMINDER_KIND, data, customer_id=customer.id,
                  dedupe_key=f"follow_up:{follow_up.id}") is not None:
            sent.append({"user_id": str(follow_up.author_id), **data})
    db.session.flush()
    return sent


def reminder_job(as_of: datetime | None = None) -> list[dict]:
    """One reminder run in its own transaction, for the daily jobs (like `reclaim_job`)."""
    from server.common import context

    context.channel.set("job")
    context.write_intent.set(True)
    try:
        sent = remind_due_follow_ups(as_of)
        db.session.commit()
        return sent
    except Exception:
        db.session.rollback()
        raise


def daily_reminders() -> None:
    """The daily-jobs step: today's next-contact reminders; logs (never raises) on failure."""
    import logging

    try:
        sent = reminder_job()
        logging.getLogger("fieldcrm.jobs").info("follow-up reminders: %d sent", len(sent))
    except Exception:  # noqa: BLE001 — tomorrow's run tries again (and catches up)
        logging.getLogger("fieldcrm.jobs").exception("follow-up reminders failed")


# ---- invalid tracking (R-P8) --------------------------------------------------------------------

FLAG_REASONS = ("too_many_invalid_follow_ups", "no_valid_follow_up", "no_key_contact")


def flag_query(viewer: User, now: datetime | None = None):
    """The R-P8 flag as one SQL query (also used by the invalid-tracking report, which adds its
    filters and pages it): (query of (Customer, invalid_count, last_valid, has_key_contact), the
    rules in force as (max_invalid, valid_cutoff, contact_cutoff))."""
    now = now or utcnow()
    rules = get_settings().invalid_tracking
    max_invalid = int(rules["max_invalid_follow_ups"])
    valid_cutoff = now - timedelta(days=int(rules["no_valid_follow_up_days"]))
    contact_cutoff = now - timedelta(days=int(rules["no_key_contact_days"]))
    since = func.coalesce(Customer.assigned_at, Customer.created_at)
    visible = and_(access.visible_customers(viewer), Customer.owner_id.is_not(None))
    # one summary row per customer, kept on write (server/followups/tracking.py); this
    # transaction's own writes are summed up first
    tracking.refresh_pending(db.session)
    invalid_count = func.coalesce(CustomerTracking.invalid_count, 0)
    last_valid = CustomerTracking.last_valid_at
    has_key_contact = func.coalesce(CustomerTracking.has_key_contact, False)
    query = (select(Customer, invalid_count.label("invalid_count"), last_valid.label("last_valid"),
                    has_key_contact.label("has_key_contact"))
             .outerjoin(CustomerTracking, CustomerTracking.customer_id == Customer.id)
             .where(visible,
                    or_(invalid_count >= max_invalid,
                        func.coalesce(last_valid, since) <= valid_cutoff,
                        and_(~has_key_contact, Customer.created_at <= contact_cutoff))))
    return query, (max_invalid, valid_cutoff, contact_cutoff)


def flag_reasons(customer: Customer, n_invalid: int, last: datetime | None, key_contact: bool, now: datetime,
                 rules: tuple) -> list[dict]:
    """The reasons of one flagged customer (see `flag_query`)."""
    max_invalid, valid_cutoff, contact_cutoff = rules
    reasons = []
    if n_invalid >= max_invalid:
        reasons.append({"code": "too_many_invalid_follow_ups", "count": n_invalid, "limit": max_invalid})
    start = customer.assigned_at or customer.created_at
    quiet_since = max(last, start) if last is not None else start
    if quiet_since <= valid_cutoff:
        reasons.append({"code": "no_valid_follow_up", "since": quiet_since.isoformat(),
                        "last_valid_at": last.isoformat() if last else None,
                        "days": (now - quiet_since).days})
    if not key_contact and customer.created_at <= contact_cutoff:
        reasons.append({"code": "no_key_contact", "created_at": customer.created_at.isoformat(),
                        "days": (now - customer.created_at).days})
    return reasons


def flagged_customers(viewer: User, now: datetime | None = None,
                      customer_ids: list[uuid.UUID] | None = None) -> list[dict]:
    """R-P8, within the access rule: owned customers the viewer may see that have
    - at least `max_invalid_follow_ups` invalid follow-ups since the current owner got them,
    - no valid follow-up for `no_valid_follow_up_days` (counted from when the current owner got
      them when there is none), or
    - no key contact `no_key_contact_days` after they were created;
    each with its reasons, most reasons first."""
    now = now or utcnow()
    query, rules = flag_query(viewer, now)
    query = query.order_by(Customer.code, Customer.id)
    if customer_ids is not None:
        query = query.where(Customer.id.in_(customer_ids))
    items = []
    for customer, n_invalid, last, key_contact in db.session.execute(query).all():
        reasons = flag_reasons(customer, n_invalid, last, key_contact, now, rules)
        if reasons:
            items.append({"customer": customer, "reasons": reasons})
    items.sort(key=lambda item: -len(item["reasons"]))  # stable: by code within a count
    return items


def present_flagged(item: dict) -> dict[str, Any]:
    customer = item["customer"]
    return {"customer": {
        "id": customer.id, "code": customer.code, "name": customer.name, "status": customer.status.value,
        "business_line": customer.business_line.value,
        "owner": {"id": customer.owner.id, "display_name": customer.owner.display_name} if customer.owner else None,
        "created_at": customer.created_at, "assigned_at": customer.assigned_at,
        "last_progress_at": customer.last_progress_at}, "reasons": item["reasons"]}


def return_flagged(actor: User, customer_ids: list[uuid.UUID], reason: str) -> list[dict]:
    """R-P8 "return to the pool in one action": every listed customer must be flagged now, be
    owned by someone the actor manages, and have no receivables outstanding; all or nothing."""
    from server.pools import service as pools

    wanted = list(dict.fromkeys(customer_ids))
    flagged = {item["customer"].id: item["reasons"] for item in flagged_customers(actor, customer_ids=wanted)}
    returned = []
    for customer_id in wanted:
        customer = db.session.scalar(select(Customer).where(Customer.id == customer_id)
                                     .with_for_update(of=Customer))
        if customer is None or customer.voided_at is not None or not access.can_see(actor, customer_id):
            raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
        if not access.manages(actor, customer.owner):
            raise NotAuthorized("Only a manager of the owner may return this customer",
                                details={"customer_id": str(customer_id)})
        if customer_id not in flagged:
            raise ValidationFailed("This customer is not flagged for invalid tracking", code="not_flagged",
                                   details={"customer_id": str(customer_id)})
        if customer.receivables > 0:
            raise pools.ReceivablesOutstanding("Customers with receivables outstanding stay with their owner",
                                               details={"customer_id": str(customer_id),
                                                        "receivables": customer.receivables})
        former = customer.owner_id
        pool = pools.return_to_pool(customer, "invalid", reason, actor)
        notify(former, "customer_returned", {"code": customer.code, "name": customer.name, "pool": pool.value,
                                             "reason": reason,
                                             "flags": [r["code"] for r in flagged[customer_id]]},
               customer_id=customer.id, dedupe_key=f"returned:{customer.id}:{utcnow().isoformat()}")
        returned.append({"customer_id": str(customer.id), "code": customer.code, "pool": pool.value,
                         "former_owner_id": str(former)})
    return returned
