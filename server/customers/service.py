"""Customer rules: creation, uniqueness, codes, contacts, presentation with masking.

Used by the HTTP views and by the sync mutation handlers alike; nothing here commits.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from server.common import audit
from server.common.db import next_value, utcnow
from server.common.errors import AppError, Conflict, NotFound, ValidationFailed
from server.customers import access
from server.customers.identity import (normalize_name, normalize_tax_id, pinyin_initials,
                                       tax_id_problem)
from server.customers.models import (Confidentiality, Contact, Customer, CustomerStatus, CustomerType,
                                     Pool)
from server.extensions import db
from server.org.models import BusinessLine, Role, User
from server.settings.service import get_settings, industry

CONTACT_FIELDS = ("name", "title", "department", "mobile", "phone", "email", "wechat", "birthday",
                  "notes", "key_person", "attitude")
CUSTOMER_FIELDS = ("name", "short_name", "tax_id", "type", "industry", "region", "address", "source",
                   "website", "scale", "postcode", "introduction", "door_photo", "parent_id", "status",
                   "confidentiality", "legal_dispute", "notes")


class DuplicateCustomer(AppError):
    status, code = 409, "duplicate_customer"


class InvalidTaxId(AppError):
    status, code = 422, "invalid_tax_id"


class QuotaExceeded(AppError):
    status, code = 409, "quota_exceeded"


class IdConflict(AppError):
    status, code = 409, "id_conflict"


def industry_pool(line: BusinessLine) -> Pool:
    """The pool of a business line (R-P1): SMB customers use the public pool."""
    return Pool.public if line == BusinessLine.SMB else Pool(line.value)


def line_of_industry(code: str) -> BusinessLine:
    entry = industry(code)
    if entry is None:
        raise ValidationFailed("Unknown industry", details={"fields": {"industry": [f"unknown code {code!r}"]}})
    return BusinessLine(entry["business_line"])


def clean_tax_id(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    code = normalize_tax_id(raw)
    problem = tax_id_problem(code)
    if problem:
        raise InvalidTaxId("The unified social credit code is not valid",
                           details={"tax_id": raw, "problem": problem})
    return code


def duplicate_details(existing: Customer) -> dict[str, Any]:
    """Only what R-C2 allows: id, code, name and the owner's name or the pool."""
    return {
        "id": str(existing.id),
        "code": existing.code,
        "name": existing.name,
        "owner_display_name": existing.owner.display_name if existing.owner else None,
        "pool": existing.pool.value if existing.pool else None,
    }


def find_duplicate(name_key: str, tax_id: str | None, exclude_id: uuid.UUID | None = None) -> Customer | None:
    conditions = [Customer.name_key == name_key]
    if tax_id:
        conditions.append(Customer.tax_id == tax_id)
    query = select(Customer).where(or_(*conditions))
    if exclude_id:
        query = query.where(Customer.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()


def raise_if_duplicate(name_key: str, tax_id: str | None, exclude_id: uuid.UUID | None = None) -> None:
    existing = find_duplicate(name_key, tax_id, exclude_id)
    if existing is not None:
        raise DuplicateCustomer("A customer with this name or tax id already exists",
                                details=duplicate_details(existing))


def org_today_year() -> int:
    return datetime.now(ZoneInfo(get_settings().timezone)).year


def assign_code(customer: Customer) -> None:
    """R-C3: C + year + 6-digit sequence, from a per-year counter locked in this transaction."""
    year = org_today_year()
    customer.code = f"C{year}{next_value(db.session, f'customer_code:{year}'):06d}"


def owned_count(user: User, line: BusinessLine) -> int:
    """Customers counting toward the quota of a line: owned, not voided, not subsidiaries."""
    return db.session.scalar(select(func.count()).select_from(Customer).where(
        Customer.owner_id == user.id, Customer.business_line == line,
        Customer.voided_at.is_(None), Customer.parent_id.is_(None))) or 0


def check_quota(user: User, line: BusinessLine, adding: int = 1) -> None:
    """R-P3. The caller holds the write lock (SQLite immediate transaction) or the user's row
    lock (PostgreSQL, `lock_user`) so that racing claims count one after the other."""
    limit = get_settings().quotas.get(line.value)
    if limit is None:
        return
    count = owned_count(user, line)
    if count + adding > limit:
        raise QuotaExceeded("This would exceed the customer quota of the business line",
                            details={"count": count, "limit": limit, "business_line": line.value,
                                     "fits": max(0, limit - count)})


def lock_user(user: User) -> None:
    """Serialize quota decisions for one user on PostgreSQL (a no-op cost on SQLite)."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())


def _entity_id(given: uuid.UUID | None, model) -> uuid.UUID:
    if given is None:
        return uuid.uuid4()
    if db.session.get(model, given) is not None:
        raise IdConflict("This id is already used by another record", details={"id": str(given)})
    return given


def create_customer(args: dict, actor: User) -> Customer:
    """R-C1–R-C5, R-O1, R-P3: validate, check uniqueness and quota, assign the code, own it."""
    if actor.role == Role.ops:
        raise access.NotAuthorized("Business-support reviewers do not create customers")
    name = args["name"].strip()
    name_key = normalize_name(name)
    if len(name_key) < 2:
        raise ValidationFailed("The name is too short", details={"fields": {"name": ["at least 2 characters"]}})
    tax_id = clean_tax_id(args.get("tax_id"))
    line = line_of_industry(args["industry"])
    parent_id = args.get("parent_id")
    if parent_id is not None:
        parent = access.get_visible_customer(actor, parent_id)
        if parent.business_line != line:
            # A different line needs an ops approval (R-C9) — that path comes with approvals.
            raise ValidationFailed("A subsidiary must be in its parent's business line",
                                   code="parent_line_mismatch",
                                   details={"parent_line": parent.business_line.value, "line": line.value})
    raise_if_duplicate(name_key, tax_id)
    customer_id = _entity_id(args.get("id"), Customer)
    lock_user(actor)
    if parent_id is None:
        check_quota(actor, line)
    location = args.get("location") or {}
    now = utcnow()
    customer = Customer(
        id=customer_id, name=name, name_key=name_key, name_initials=pinyin_initials(name), tax_id=tax_id,
        type=CustomerType(args["type"]), industry=args["industry"], business_line=line,
        region=args["region"].strip(), address=args["address"].strip(),
        lat=location.get("lat"), lng=location.get("lng"),
        status=CustomerStatus(args.get("status") or "potential"),
        confidentiality=Confidentiality(args.get("confidentiality") or "normal"),
        owner_id=actor.id, pool=None, origin_pool=industry_pool(line), created_by_id=actor.id,
        created_at=now, assigned_at=now, last_progress_at=now,
        **{k: args.get(k) for k in ("short_name", "source", "website", "scale", "postcode", "introduction",
                                    "door_photo", "parent_id", "notes")},
        legal_dispute=bool(args.get("legal_dispute", False)),
    )
    assign_code(customer)
    _flush_unique(name_key, tax_id, add=customer)
    audit.record("customer.create", "customer", customer.id,
                 audit.diff({}, customer_snapshot(customer)), actor_id=actor.id)
    for contact_args in args.get("contacts") or []:
        create_contact(customer, contact_args, actor)
    return customer


def _flush_unique(name_key: str, tax_id: str | None, exclude_id: uuid.UUID | None = None,
                  add: Customer | None = None) -> None:
    """Flush; a concurrent insert of the same name or tax id becomes `duplicate_customer`.

    `add` is added inside the savepoint: `begin_nested()` flushes whatever is already pending
    before it starts, outside the savepoint's protection."""
    try:
        with db.session.begin_nested():
            if add is not None:
                db.session.add(add)
            db.session.flush()
    except IntegrityError:
        raise_if_duplicate(name_key, tax_id, exclude_id)
        raise


def customer_snapshot(customer: Customer) -> dict[str, Any]:
    data = {k: getattr(customer, k) for k in CUSTOMER_FIELDS}
    data.update(code=customer.code, owner_id=customer.owner_id, pool=customer.pool,
                lat=customer.lat, lng=customer.lng, business_line=customer.business_line)
    return data


def create_contact(customer: Customer, args: dict, actor: User) -> Contact:
    access.require_write(actor, customer)
    contact = Contact(id=_entity_id(args.get("id"), Contact), customer_id=customer.id,
                      created_by_id=actor.id,
                      **{k: args[k] for k in CONTACT_FIELDS if k in args})
    contact.key_person = bool(args.get("key_person", False))
    db.session.add(contact)
    db.session.flush()
    audit.record("contact.create", "contact", contact.id,
                 audit.diff({}, {k: getattr(contact, k) for k in CONTACT_FIELDS} | {"customer_id": customer.id}),
                 actor_id=actor.id)
    return contact


def get_contact(actor: User, contact_id: uuid.UUID) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.voided_at is not None or not access.can_see(actor, contact.customer_id):
        raise NotFound("Contact not found", details={"contact_id": str(contact_id)})
    return contact


# ---- presentation ------------------------------------------------------------------------------

def mask_phone(number: str | None) -> str | None:
    """138****5678: keep the first 3 and last 4 digits (R-C10)."""
    if not number:
        return number
    digits = [c for c in number if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(digits)
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def present_contact(contact: Contact, unmasked: bool) -> dict[str, Any]:
    data = {k: getattr(contact, k) for k in ContactPresentFields}
    data["masked"] = not unmasked
    if not unmasked:
        data["mobile"] = mask_phone(contact.mobile)
        data["phone"] = mask_phone(contact.phone)
    return data


ContactPresentFields = ("id", "customer_id", *CONTACT_FIELDS, "created_by_id", "created_at", "updated_at",
                        "version")


def present_customer(customer: Customer, viewer: User, with_contacts: bool = False) -> dict[str, Any]:
    data = {c: getattr(customer, c) for c in (
        "id", "code", "name", "short_name", "tax_id", "type", "industry", "business_line", "region", "address",
        "source", "website", "scale", "postcode", "introduction", "door_photo", "parent_id", "status", "grade",
        "customer_class", "confidentiality", "legal_dispute", "notes", "pool", "created_at", "updated_at",
        "assigned_at", "last_progress_at", "visit_count", "last_visit_at", "deal_total", "payment_total",
        "receivables", "voided_at", "version")}
    for key in ("type", "business_line", "status", "grade", "customer_class", "confidentiality", "pool"):
        if data[key] is not None:
            data[key] = data[key].value
    data["location"] = ({"lat": customer.lat, "lng": customer.lng}
                        if customer.lat is not None and customer.lng is not None else None)
    data["owner"] = ({"id": customer.owner.id, "display_name": customer.owner.display_name}
                     if customer.owner else None)
    if with_contacts:
        unmasked = access.sees_unmasked(viewer, customer)
        data["contacts"] = [present_contact(c, unmasked) for c in customer.contacts if c.voided_at is None]
    return data


# ---- search -------------------------------------------------------------------------------------

def search_visible(viewer: User, q: str | None, scope: str, limit: int,
                   after: tuple[str, str] | None) -> tuple[list[Customer], tuple[str, str] | None]:
    """The customers the viewer may see, newest first, filtered by list (R-O3) and text."""
    from server.customers.models import CoFollower, Share

    query = select(Customer).where(access.visible_customers(viewer))
    if scope == "owned":
        query = query.where(Customer.owner_id == viewer.id)
    elif scope == "co_followed":
        query = query.where(Customer.id.in_(select(CoFollower.customer_id).where(CoFollower.user_id == viewer.id)))
    elif scope == "shared_with_me":
        query = query.where(Customer.owner_id != viewer.id,
                            Customer.id.in_(select(Share.customer_id).where(Share.user_id == viewer.id)))
    elif scope == "shared_by_me":
        query = query.where(Customer.owner_id == viewer.id, Customer.id.in_(select(Share.customer_id)))
    if q:
        key = normalize_name(q)
        query = query.where(or_(Customer.name_key.contains(key, autoescape=True),
                                Customer.name_initials.startswith(key.lower(), autoescape=True),
                                Customer.code == q.strip().upper()))
    if after:
        query = query.where((Customer.created_at < datetime.fromisoformat(after[0])) | (
            (Customer.created_at == datetime.fromisoformat(after[0])) & (Customer.id < uuid.UUID(after[1]))))
    rows = list(db.session.scalars(query.order_by(Customer.created_at.desc(), Customer.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = (rows[-1].created_at.isoformat(), str(rows[-1].id)) if more and rows else None
    return rows, cursor


def duplicate_matches(viewer: User, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """R-C2 look-up over every customer (voided ones too), showing only id, code, name, owner
    or pool: enough for "already protected" without revealing anything else."""
    key = normalize_name(q)
    if len(key) < 2:
        return []
    rows = db.session.scalars(
        select(Customer).where(or_(Customer.name_key.contains(key, autoescape=True),
                                   Customer.name_initials.startswith(key.lower(), autoescape=True)))
        .order_by(func.length(Customer.name_key)).limit(limit)).all()
    visible = {cid for cid in db.session.scalars(
        select(Customer.id).where(Customer.id.in_([r.id for r in rows]), access.visible_customers(viewer)))}
    return [
        {**duplicate_details(r), "id": r.id, "visible": r.id in visible,
         "match": "name" if key in r.name_key else "initials"}
        for r in rows
    ]


# ---- co-followers and transfers ----------------------------------------------------------------

def remove_cofollower(customer: Customer, row, actor: User) -> None:
    """R-O2: the co-follower loses access; what they created stays under the customer."""
    db.session.delete(row)
    customer.updated_at = utcnow()
    audit.record("cofollower.remove", "customer", customer.id,
                 {"co_follower": [{"user_id": row.user_id, "permission": row.permission}, None]},
                 actor_id=actor.id)


def transfer_customers(customers: list[Customer], receiver: User, reason: str, actor: User) -> None:
    """R-T1 (core): the owner, a manager above the owner, or an admin hands customers to an
    active rep or manager within the receiver's quota; the receiver's co-follow row, if any,
    becomes ownership."""
    from server.customers.models import CoFollower

    if receiver.role not in (Role.rep, Role.manager):
        raise ValidationFailed("Customers can only be transferred to reps or managers",
                               details={"fields": {"to_user_id": ["not a rep or manager"]}})
    for customer in customers:
        if customer.owner_id is None:
            raise ValidationFailed("A pool customer is claimed, not transferred", code="not_owned",
                                   details={"customer_id": str(customer.id)})
        if not (customer.owner_id == actor.id or access.manages(actor, customer.owner)):
            raise access.NotAuthorized("Only the owner or their manager may transfer this customer",
                                       details={"customer_id": str(customer.id)})
    lock_user(receiver)
    by_line: dict[BusinessLine, int] = {}
    for customer in customers:
        if customer.owner_id != receiver.id and customer.parent_id is None:
            by_line[customer.business_line] = by_line.get(customer.business_line, 0) + 1
    for line, adding in by_line.items():
        check_quota(receiver, line, adding)
    now = utcnow()
    for customer in customers:
        if customer.owner_id == receiver.id:
            continue
        before = customer.owner_id
        customer.owner_id, customer.assigned_at, customer.last_progress_at = receiver.id, now, now
        customer.owner = receiver
        stale = db.session.scalar(select(CoFollower).where(CoFollower.customer_id == customer.id,
                                                           CoFollower.user_id == receiver.id))
        if stale is not None:
            db.session.delete(stale)
        audit.record("customer.transfer", "customer", customer.id,
                     {"owner_id": [before, receiver.id], "reason": [None, reason]}, actor_id=actor.id)
    db.session.flush()
