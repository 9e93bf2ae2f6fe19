"""The access rule, R-O4, written once.

`visible_customers(user)` is the SQL filter every list, report, sync feed and photo check
uses; `can_see(user, customer_id)` is the same filter applied to one row, so the object check
can never disagree with the lists. Pool customers are not "visible" in this sense: their basic
fields are browsed through the pools endpoints by users who may claim from them.
"""
from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, exists, false, literal, or_, select, true

from server.common.errors import NotAuthorized, NotFound
from server.customers.models import CoFollower, Customer, Share
from server.extensions import db
from server.org.models import Department, Role, User

SEES_ALL = (Role.ops, Role.admin)


def subtree_users(department_path: str):
    """Ids of users whose primary department is `department_path` or below it."""
    return select(User.id).join(Department, User.department_id == Department.id).where(
        Department.path.startswith(department_path))


def visible_users(viewer: User) -> ColumnElement[bool]:
    """R-O4's reach applied to people (their targets, daily reports, activity): a filter on
    `User` rows — oneself; a manager's department subtree; everyone for ops and admins."""
    if not viewer.active:
        return false()
    if viewer.role in SEES_ALL:
        return true()
    if viewer.role == Role.manager:
        return User.id.in_(subtree_users(viewer.department.path))
    return User.id == viewer.id


def visible_customers(user: User, include_voided: bool = False) -> ColumnElement[bool]:
    base = Customer.owner_id.is_not(None)
    if not include_voided:
        base = and_(base, Customer.voided_at.is_(None))
    if not user.active:
        return false()
    if user.role in SEES_ALL:
        return base
    department_path = user.department.path
    shared = exists().where(
        Share.customer_id == Customer.id,
        or_(
            Share.user_id == user.id,
            # shared with a department reaches its whole subtree
            Share.department_id.in_(
                select(Department.id).where(literal(department_path).startswith(Department.path))),
        ),
    )
    clauses = [
        Customer.owner_id == user.id,
        exists().where(CoFollower.customer_id == Customer.id, CoFollower.user_id == user.id),
        shared,
    ]
    if user.role == Role.manager:
        clauses.append(Customer.owner_id.in_(subtree_users(department_path)))
    return and_(base, or_(*clauses))


def can_see(user: User, customer_id: uuid.UUID, include_voided: bool = False) -> bool:
    return db.session.scalar(
        select(Customer.id).where(Customer.id == customer_id, visible_customers(user, include_voided))
    ) is not None


def get_visible_customer(user: User, customer_id: uuid.UUID, include_voided: bool = False) -> Customer:
    """The customer if the user may see it; otherwise 404, never revealing that it exists."""
    customer = db.session.scalar(
        select(Customer).where(Customer.id == customer_id, visible_customers(user, include_voided)))
    if customer is None:
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    return customer


def co_follow_permission(user: User, customer: Customer) -> str | None:
    return db.session.scalar(select(CoFollower.permission).where(
        CoFollower.customer_id == customer.id, CoFollower.user_id == user.id))


def can_write(user: User, customer: Customer) -> bool:
    """Owner, write co-follower or admin may add records under the customer and edit its
    ordinary fields (R-O2, R-T2)."""
    if not user.active or customer.voided_at is not None or customer.owner_id is None:
        return False
    if user.role == Role.admin or customer.owner_id == user.id:
        return True
    return co_follow_permission(user, customer) == "write"


def require_write(user: User, customer: Customer) -> None:
    if not can_write(user, customer):
        raise NotAuthorized("Only the owner or a write co-follower may change this customer",
                            details={"customer_id": str(customer.id)})


def manages(user: User, owner: User | None) -> bool:
    """A manager of the owner's department or an ancestor of it (or an admin)."""
    if user.role == Role.admin:
        return True
    return (user.role == Role.manager and owner is not None
            and owner.department.path.startswith(user.department.path))


def sees_unmasked(user: User, customer: Customer) -> bool:
    """R-C10: confidential contact numbers are plain only for the owner, co-followers, admins."""
    return db.session.scalar(
        select(Customer.id).where(Customer.id == customer.id, unmasked_customers(user))) is not None


def unmasked_customers(user: User) -> ColumnElement[bool]:
    """SQL twin of `sees_unmasked`, for feeds that present many customers at once."""
    if user.role == Role.admin:
        return true()
    return or_(
        Customer.confidentiality != "confidential",
        Customer.owner_id == user.id,
        exists().where(CoFollower.customer_id == Customer.id, CoFollower.user_id == user.id),
    )
