"""Account rules (SPEC R-C12): only the customer's owner creates accounts, an account's owner is
always the customer's owner, and an account is filed (报备) only after real-name verification.

Nothing here commits.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, attributes

from server.accounts.models import Account, AccountStatus, RealName
from server.common import audit
from server.common.db import transaction_version, utcnow
from server.common.errors import AppError, NotAuthorized, NotFound, ValidationFailed
from server.customers import access
from server.customers import service as customers
from server.customers.models import Customer
from server.extensions import db
from server.org.models import User

ACCOUNT_FIELDS = ("customer_id", "owner_id", "account", "real_name", "verified_at", "filed_at", "status")


class AccountExists(AppError):
    status, code = 409, "account_exists"


def snapshot(account: Account) -> dict[str, Any]:
    return {k: getattr(account, k) for k in ACCOUNT_FIELDS}


def clean_account(raw: str) -> str:
    """The identifier as stored: trimmed, no inner white space (people paste them with spaces)."""
    return "".join(raw.split())


def require_owner(user: User, customer: Customer) -> None:
    """R-C12/R-O2: accounts are the owner's alone; write co-followers, managers and admins
    do not create or change them."""
    if customer.voided_at is not None or customer.owner_id is None or customer.owner_id != user.id \
            or not user.active:
        raise NotAuthorized("Only the customer's owner may manage its accounts",
                            details={"customer_id": str(customer.id)})


def _customer(customer_id: uuid.UUID) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.voided_at is not None:
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    return customer


def _raise_if_taken(identifier: str) -> None:
    existing = db.session.scalar(select(Account).where(Account.account == identifier))
    if existing is not None:
        holder = db.session.get(Customer, existing.customer_id)
        raise AccountExists("This account is already registered to a customer",
                            details={"account": identifier, "customer": customers.duplicate_details(holder)})


def create_account(args: dict, actor: User) -> Account:
    customer = _customer(args["customer_id"])
    if not _visible(actor, customer):
        raise NotFound("Customer not found", details={"customer_id": str(customer.id)})
    require_owner(actor, customer)
    identifier = clean_account(args["account"])
    if not identifier:
        raise ValidationFailed("The account identifier is empty",
                               details={"fields": {"account": ["must not be empty"]}})
    account_id = customers._entity_id(args.get("id"), Account)
    _raise_if_taken(identifier)
    now = utcnow()
    real_name = RealName(args["real_name"]) if args.get("real_name") else None
    account = Account(id=account_id, customer_id=customer.id, owner_id=customer.owner_id, account=identifier,
                      real_name=real_name, verified_at=now if real_name else None,
                      status=AccountStatus.verified if real_name else AccountStatus.unverified,
                      created_by_id=actor.id, created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(account)
            db.session.flush()
    except IntegrityError:
        _raise_if_taken(identifier)  # a concurrent insert of the same identifier
        raise
    audit.record("account.create", "account", account.id, audit.diff({}, snapshot(account)), actor_id=actor.id)
    return account


def _visible(user: User, customer: Customer) -> bool:
    return access.can_see(user, customer.id)


def get_account(actor: User, account_id: uuid.UUID) -> tuple[Account, Customer]:
    account = db.session.get(Account, account_id)
    if account is None or account.voided_at is not None:
        raise NotFound("Account not found", details={"account_id": str(account_id)})
    customer = _customer(account.customer_id)
    if not _visible(actor, customer):
        raise NotFound("Account not found", details={"account_id": str(account_id)})
    return account, customer


def verify_account(account_id: uuid.UUID, real_name: str, actor: User) -> Account:
    """Mark the account real-name verified (个人实名 / 企业实名)."""
    account, customer = get_account(actor, account_id)
    require_owner(actor, customer)
    before = snapshot(account)
    kind = RealName(real_name)
    if account.real_name != kind or account.verified_at is None:
        account.real_name, account.verified_at = kind, account.verified_at or utcnow()
        if account.status == AccountStatus.unverified:
            account.status = AccountStatus.verified
        account.updated_at = utcnow()
        db.session.flush()
        audit.record("account.verify", "account", account.id, audit.diff(before, snapshot(account)),
                     actor_id=actor.id)
    return account


class AccountNotVerified(ValidationFailed):
    code = "account_not_verified"


def file_account(account_id: uuid.UUID, actor: User) -> Account:
    """报备: only a real-name verified account may be filed (R-C12). Filing twice is a no-op."""
    account, customer = get_account(actor, account_id)
    require_owner(actor, customer)
    if account.real_name is None or account.verified_at is None:
        raise AccountNotVerified("The account must be real-name verified before it is filed",
                                 details={"account_id": str(account.id), "status": account.status.value})
    if account.filed_at is None:
        before = snapshot(account)
        account.filed_at = account.updated_at = utcnow()
        account.status = AccountStatus.filed
        db.session.flush()
        audit.record("account.file", "account", account.id, audit.diff(before, snapshot(account)),
                     actor_id=actor.id)
    return account


# ---- accounts move with the customer (R-C12, R-T1) ----------------------------------------------

_UNSET: Any = object()


def follow_customer_owner(customer: Customer, old_owner_id: uuid.UUID | None = None,
                          new_owner_id: uuid.UUID | None = _UNSET) -> None:
    """OWNER_CHANGE_HOOKS entry, `(customer, old_owner_id, new_owner_id)`: every account of the
    customer takes the new owner, or None while the customer is in a pool. Idempotent."""
    owner_id = customer.owner_id if new_owner_id is _UNSET else new_owner_id
    accounts = db.session.scalars(select(Account).where(Account.customer_id == customer.id,
                                                        Account.owner_id.is_distinct_from(owner_id)))
    for account in accounts:
        account.owner_id = owner_id
        account.updated_at = utcnow()


def _register_hook() -> None:
    hooks = getattr(customers, "OWNER_CHANGE_HOOKS", None)
    if hooks is None:
        hooks = customers.OWNER_CHANGE_HOOKS = []
    if follow_customer_owner not in hooks:
        hooks.append(follow_customer_owner)


_register_hook()


@event.listens_for(Session, "before_flush")
def _accounts_follow_owner_on_flush(session: Session, flush_context, instances) -> None:
    """Safety net for owner changes that do not go through OWNER_CHANGE_HOOKS (any ORM change of
    `Customer.owner_id`: claim, release, reclaim, transfer, hand-over, approvals). The stamping
    listener of `server.common.db` has already run for this flush, so versions are set here."""
    changed = [c for c in session.dirty if isinstance(c, Customer)
               and attributes.get_history(c, "owner_id").has_changes()]
    if not changed:
        return
    with session.no_autoflush:
        rows = session.scalars(select(Account).where(
            Account.customer_id.in_([c.id for c in changed]))).all()
        if not rows:
            return
        owners = {c.id: c.owner_id for c in changed}
        version = None
        for account in rows:
            if account.owner_id != owners[account.customer_id]:
                version = version or transaction_version(session)
                account.owner_id = owners[account.customer_id]
                account.updated_at = utcnow()
                account.version = version
