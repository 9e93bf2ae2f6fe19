"""Sync mutation handlers for customers, contacts, shares, co-followers and transfers.

Each handler validates its args with a schema, then calls the same services as the HTTP API.
"""
from __future__ import annotations

import uuid
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import select

from server.common import audit
from server.common.db import transaction_version, utcnow
from server.common.errors import NotAuthorized, NotFound, ValidationFailed
from server.common.history import apply_changes
from server.common.schemas import StrictSchema
from server.customers import access, service
from server.customers.models import CoFollower, Contact, Customer, Share
from server.customers.schemas import ContactUpdateSchema, CustomerCreateSchema, CustomerFields
from server.extensions import db
from server.org.models import Department, Role, User
from server.sync_api.registry import MutationContext, registry

# R-T2: these need an approved change request, not a direct edit.
NEEDS_APPROVAL = {"name", "tax_id", "industry", "parent_id"}


class SyncCustomerCreate(CustomerCreateSchema):
    id = fields.UUID(required=True)  # ids of creatable entities come from the phone (UUIDv7)


class UpdateArgs(StrictSchema):
    id = fields.UUID(required=True)
    base_version = fields.Integer(required=True, validate=validate.Range(min=0))
    changes = fields.Dict(required=True)


class ContactCreateArgs(ContactUpdateSchema):
    id = fields.UUID(required=True)
    customer_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))


class ShareArgs(StrictSchema):
    customer_id = fields.UUID(required=True)
    user_id = fields.UUID(load_default=None)
    department_id = fields.UUID(load_default=None)


class CoFollowerArgs(StrictSchema):
    customer_id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    permission = fields.String(load_default="read", validate=validate.OneOf(["read", "write"]))


class CoFollowerRemoveArgs(StrictSchema):
    customer_id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)


class TransferArgs(StrictSchema):
    customer_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=500))
    to_user_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=300))


def _customer(customer_id: uuid.UUID) -> Customer:
    """The customer, row-locked for this mutation: a write racing a transfer or reclaim is
    judged against the owner as it is after the other commits. The version counter is taken
    first, the lock order every writer follows (so they cannot deadlock)."""
    transaction_version(db.session)
    customer = db.session.scalar(select(Customer).where(Customer.id == customer_id)
                                 .with_for_update(of=Customer).execution_options(populate_existing=True))
    if customer is None or customer.voided_at is not None:
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    return customer


def _touch(customer: Customer) -> None:
    """Bump the customer's version so phones re-pull it (its shares or co-followers changed)."""
    customer.updated_at = utcnow()


def _active_user(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise ValidationFailed("That user is not an active user", code="user_inactive",
                               details={"user_id": str(user_id)})
    return user


@registry.register("customer.create",
                   creates=lambda a: [a["id"], *[c.get("id") for c in a.get("contacts") or []]])
def customer_create(args: dict, ctx: MutationContext) -> dict:
    data = SyncCustomerCreate().load(args)
    for contact in data["contacts"]:
        if contact.get("id") is None:
            raise ValidationFailed("Contacts created offline need their id",
                                   details={"fields": {"contacts": ["id required"]}})
    customer = service.create_customer(data, ctx.user)
    pending = getattr(customer, "pending_approval", None)  # R-C9: parent in another line
    if pending is not None:
        return {"code": customer.code, "_notice": service.approval_notice(
            pending, "Created; the parent is attached once business support approves the line mismatch")}
    return {"code": customer.code}


@registry.register("customer.update")
def customer_update(args: dict, ctx: MutationContext) -> dict:
    data = UpdateArgs().load(args)
    changes = CustomerFields(partial=True).load(data["changes"])
    needing = sorted(NEEDS_APPROVAL & changes.keys())
    if needing:
        raise ValidationFailed("These fields change through a change request (customer.request_change)",
                               details={"fields": {f: ["needs approval"] for f in needing}})
    customer = _customer(data["id"])
    access.require_write(ctx.user, customer)
    if "location" in changes:
        location = changes.pop("location") or {}
        changes["lat"], changes["lng"] = location.get("lat"), location.get("lng")
    before = service.customer_snapshot(customer)
    overwrote = apply_changes(customer, "customer", changes, data["base_version"], ctx.user.id, customer.id)
    db.session.flush()
    audit.record("customer.update", "customer", customer.id,
                 audit.diff(before, service.customer_snapshot(customer)), actor_id=ctx.user.id)
    return {"overwrote": overwrote} if overwrote else {}


@registry.register("contact.create", creates=lambda a: [a["id"]])
def contact_create(args: dict, ctx: MutationContext) -> dict:
    data = ContactCreateArgs().load(args)
    customer = _customer(data.pop("customer_id"))
    service.create_contact(customer, data, ctx.user)
    return {}


@registry.register("contact.update")
def contact_update(args: dict, ctx: MutationContext) -> dict:
    data = UpdateArgs().load(args)
    changes = ContactUpdateSchema(partial=True).load(data["changes"])
    contact = db.session.get(Contact, data["id"])
    if contact is None or contact.voided_at is not None:
        raise NotFound("Contact not found", details={"contact_id": str(data["id"])})
    customer = _customer(contact.customer_id)
    access.require_write(ctx.user, customer)
    before = {k: getattr(contact, k) for k in changes}
    overwrote = apply_changes(contact, "contact", changes, data["base_version"], ctx.user.id, customer.id)
    db.session.flush()
    audit.record("contact.update", "contact", contact.id, audit.diff(before, {k: getattr(contact, k) for k in changes}),
                 actor_id=ctx.user.id)
    return {"overwrote": overwrote} if overwrote else {}


def _require_owner(user: User, customer: Customer, what: str) -> None:
    if not (customer.owner_id == user.id or user.role == Role.admin):
        raise NotAuthorized(f"Only the owner may {what}", details={"customer_id": str(customer.id)})


def _share_target(data: dict) -> dict[str, Any]:
    if (data["user_id"] is None) == (data["department_id"] is None):
        raise ValidationFailed("Share with exactly one user or one department",
                               details={"fields": {"user_id": ["one of user_id, department_id"]}})
    if data["user_id"] is not None:
        _active_user(data["user_id"])
        return {"user_id": data["user_id"], "department_id": None}
    if db.session.get(Department, data["department_id"]) is None:
        raise NotFound("Department not found", details={"department_id": str(data["department_id"])})
    return {"user_id": None, "department_id": data["department_id"]}


@registry.register("share.add")
def share_add(args: dict, ctx: MutationContext) -> dict:
    data = ShareArgs().load(args)
    customer = _customer(data["customer_id"])
    _require_owner(ctx.user, customer, "share this customer")
    target = _share_target(data)
    existing = db.session.scalar(select(Share).where(Share.customer_id == customer.id, *[
        (getattr(Share, k) == v) if v is not None else getattr(Share, k).is_(None) for k, v in target.items()]))
    if existing is None:
        db.session.add(Share(customer_id=customer.id, shared_by_id=ctx.user.id, **target))
        _touch(customer)
        audit.record("share.add", "customer", customer.id, {"share": [None, target]}, actor_id=ctx.user.id)
    return {}


@registry.register("share.remove")
def share_remove(args: dict, ctx: MutationContext) -> dict:
    data = ShareArgs().load(args)
    customer = _customer(data["customer_id"])
    _require_owner(ctx.user, customer, "change this customer's shares")
    target = _share_target(data)
    existing = db.session.scalar(select(Share).where(Share.customer_id == customer.id, *[
        (getattr(Share, k) == v) if v is not None else getattr(Share, k).is_(None) for k, v in target.items()]))
    if existing is not None:
        db.session.delete(existing)
        _touch(customer)
        audit.record("share.remove", "customer", customer.id, {"share": [target, None]}, actor_id=ctx.user.id)
    return {}


def _require_cofollower_admin(user: User, customer: Customer) -> None:
    """R-O2: the owner or a manager above the owner changes the co-follower list."""
    if customer.owner_id == user.id or access.manages(user, customer.owner):
        return
    raise NotAuthorized("Only the owner or their manager may change co-followers",
                        details={"customer_id": str(customer.id)})


@registry.register("cofollower.add")
def cofollower_add(args: dict, ctx: MutationContext) -> dict:
    data = CoFollowerArgs().load(args)
    customer = _customer(data["customer_id"])
    _require_cofollower_admin(ctx.user, customer)
    follower = _active_user(data["user_id"])
    if follower.id == customer.owner_id:
        raise ValidationFailed("The owner cannot co-follow their own customer", code="validation_failed",
                               details={"fields": {"user_id": ["is the owner"]}})
    row = db.session.scalar(select(CoFollower).where(CoFollower.customer_id == customer.id,
                                                     CoFollower.user_id == follower.id))
    before = row.permission if row else None
    if row is None:
        db.session.add(CoFollower(customer_id=customer.id, user_id=follower.id, permission=data["permission"],
                                  added_by_id=ctx.user.id))
    else:
        row.permission = data["permission"]
    if before != data["permission"]:
        _touch(customer)
        audit.record("cofollower.add", "customer", customer.id,
                     {"co_follower": [None if before is None else {"user_id": follower.id, "permission": before},
                                      {"user_id": follower.id, "permission": data["permission"]}]},
                     actor_id=ctx.user.id)
    return {}


@registry.register("cofollower.remove")
def cofollower_remove(args: dict, ctx: MutationContext) -> dict:
    data = CoFollowerRemoveArgs().load(args)
    customer = _customer(data["customer_id"])
    _require_cofollower_admin(ctx.user, customer)
    row = db.session.scalar(select(CoFollower).where(CoFollower.customer_id == customer.id,
                                                     CoFollower.user_id == data["user_id"]))
    if row is not None:
        service.remove_cofollower(customer, row, ctx.user)
    return {}


@registry.register("customer.transfer")
def customer_transfer(args: dict, ctx: MutationContext) -> dict:
    """R-T1: one or many customers to another rep or manager. Customers that need the
    department head's approval become pending approvals (`approval_required` notice); the rest
    move now. Any other refusal refuses the whole batch."""
    data = TransferArgs().load(args)
    receiver = _active_user(data["to_user_id"])
    customers = [_locked_customer(cid) for cid in dict.fromkeys(data["customer_ids"])]
    outcome = service.transfer_customers(customers, receiver, data["reason"], ctx.user)
    result: dict[str, Any] = {"transferred": len(outcome.transferred),
                              "customer_ids": [str(c.id) for c in outcome.transferred]}
    notice = outcome.notice()
    if notice:
        result["pending_approval_ids"] = notice["details"]["approval_ids"]
        result["_notice"] = notice
    return result


def _locked_customer(customer_id: uuid.UUID) -> Customer:
    customer = service.lock_customer(customer_id)
    if customer.voided_at is not None:
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    return customer


class RequestChangeArgs(StrictSchema):
    id = fields.UUID(required=True)  # the approval's id, made on the phone
    customer_id = fields.UUID(required=True)
    changes = fields.Dict(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class ChangeRequestFields(StrictSchema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    tax_id = fields.String(allow_none=True, validate=validate.Length(max=30))
    industry = fields.String(validate=validate.Length(min=1, max=40))
    parent_id = fields.UUID(allow_none=True)


@registry.register("customer.request_change", creates=lambda a: [a["id"]])
def customer_request_change(args: dict, ctx: MutationContext) -> dict:
    """R-T2: name, tax id, industry or parent change through an approval (manager; industry
    and parent also ops). Applied as a pending approval: `approval_required` names it."""
    data = RequestChangeArgs().load(args)
    changes = ChangeRequestFields().load(data["changes"])
    if not changes:
        raise ValidationFailed("Name at least one of name, tax_id, industry, parent_id",
                               details={"fields": {"changes": ["empty"]}})
    customer = _customer(data["customer_id"])
    approval = service.request_change(customer, changes, data["reason"], ctx.user, approval_id=data["id"])
    return {"approval_id": str(approval.id),
            "_notice": service.approval_notice(approval, "The change waits for approval")}
