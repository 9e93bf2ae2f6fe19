"""The invalid-tracking summary (R-P8) kept up to date on write: one `customer_tracking` row per
customer with its invalid follow-ups and last valid follow-up since its current owner got it,
and whether it has a key contact.

Why a summary: the flagged list and its report must rank every flagged customer (an admin's
first page sorts ~95,000 of 100,000 customers by their invalid count), and grouping 350,000
follow-ups by customer on every request cost ~600 ms. Reading one row per customer costs a
scan of the customers.

How it stays right: it is never adjusted by deltas. Any flush that inserts or changes a
follow-up, a contact, or a customer's `assigned_at`/`created_at` notes the customer; before the
transaction takes its sync version (and before COMMIT) the noted customers' rows are
recomputed from the follow-ups and contacts themselves. The rows are locked first, in id order,
and recomputed by a later statement, so on PostgreSQL two transactions writing follow-ups of
one customer recompute one after the other and the second sees the first's (READ COMMITTED
gives each statement a fresh snapshot). `rebuild_all` (the daily jobs, the migration, the
benchmark's bulk-loaded data) recomputes every row.
"""
from __future__ import annotations

import uuid
from typing import Iterable

from sqlalchemy import and_, case, delete, event, exists, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy import inspect

from server.common.db import before_version
from server.customers.models import Contact, Customer
from server.followups.models import CustomerTracking, FollowUp

_PENDING_KEY = "fieldcrm.tracking.pending"
_CUSTOMER_FIELDS = ("assigned_at", "created_at")
_CONTACT_FIELDS = ("customer_id", "key_person", "voided_at")
_FOLLOW_UP_FIELDS = ("customer_id", "valid", "created_at")


def _since(customer_id):
    # (correlate_except: the enclosing UPDATE's table is two levels up, which SQLAlchemy's
    # automatic correlation does not reach — it would join it in again)
    return (select(func.coalesce(Customer.assigned_at, Customer.created_at))
            .where(Customer.id == customer_id).correlate_except(Customer).scalar_subquery())


def _measures(customer_id) -> dict:
    """The summary of the customer whose id is `customer_id` (a column or a value), from the
    source rows: the same rule as `flag_reasons` reads."""
    since = _since(customer_id)
    own = and_(FollowUp.customer_id == customer_id, FollowUp.created_at >= since)
    return {
        "invalid_count": (select(func.count()).where(own, FollowUp.valid.is_(False))
                          .correlate_except(FollowUp).scalar_subquery()),
        "last_valid_at": (select(func.max(FollowUp.created_at)).where(own, FollowUp.valid.is_(True))
                          .correlate_except(FollowUp).scalar_subquery()),
        "has_key_contact": exists().where(Contact.customer_id == customer_id, Contact.key_person.is_(True),
                                          Contact.voided_at.is_(None)),
    }


def refresh(session: Session, customer_ids: Iterable[uuid.UUID]) -> None:
    """Recompute the summary rows of these customers (creating missing ones)."""
    ids = sorted({i for i in customer_ids if i is not None}, key=str)
    if not ids:
        return
    conn = session.connection()
    existing = select(Customer.id).where(Customer.id.in_(ids))
    ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(ins(CustomerTracking).from_select(["customer_id"], existing).on_conflict_do_nothing())
    # lock the rows in a fixed order, then recompute in a statement of its own (see above)
    conn.execute(select(CustomerTracking.customer_id).where(CustomerTracking.customer_id.in_(ids))
                 .order_by(CustomerTracking.customer_id).with_for_update())
    conn.execute(update(CustomerTracking).where(CustomerTracking.customer_id.in_(ids))
                 .values(**_measures(CustomerTracking.customer_id)))


def rebuild_all(session: Session) -> int:
    """Recompute every customer's row (idempotent); returns the number of rows."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # writers refresh rows while this runs: let them wait rather than be overwritten
        conn.exec_driver_sql("LOCK TABLE customer_tracking IN SHARE ROW EXCLUSIVE MODE")
    since = func.coalesce(Customer.assigned_at, Customer.created_at)
    per_customer = (select(FollowUp.customer_id.label("customer_id"),
                           func.count(case((FollowUp.valid.is_(False), 1))).label("invalid_count"),
                           func.max(case((FollowUp.valid.is_(True), FollowUp.created_at))).label("last_valid_at"))
                    .join(Customer, Customer.id == FollowUp.customer_id)
                    .where(FollowUp.created_at >= since)
                    .group_by(FollowUp.customer_id).subquery())
    key_contacts = (select(Contact.customer_id.label("customer_id"))
                    .where(Contact.key_person.is_(True), Contact.voided_at.is_(None))
                    .group_by(Contact.customer_id).subquery())
    rows = (select(Customer.id, func.coalesce(per_customer.c.invalid_count, 0), per_customer.c.last_valid_at,
                   case((key_contacts.c.customer_id.is_not(None), literal(True)), else_=literal(False)))
            .outerjoin(per_customer, per_customer.c.customer_id == Customer.id)
            .outerjoin(key_contacts, key_contacts.c.customer_id == Customer.id))
    conn.execute(delete(CustomerTracking))
    conn.execute(insert(CustomerTracking).from_select(
        ["customer_id", "invalid_count", "last_valid_at", "has_key_contact"], rows))
    return session.scalar(select(func.count()).select_from(CustomerTracking))


def rebuild_job() -> int | None:
    """The daily full recomputation (a safety net: the rows are kept on write), committed."""
    import logging

    from server.common import context
    from server.extensions import db

    context.channel.set("job")
    context.write_intent.set(True)
    try:
        count = rebuild_all(db.session)
        db.session.commit()
        logging.getLogger("fieldcrm.jobs").info("invalid-tracking summary rebuilt: %d customers", count)
        return count
    except Exception:  # noqa: BLE001 — logged; tomorrow's run tries again
        db.session.rollback()
        logging.getLogger("fieldcrm.jobs").exception("invalid-tracking summary rebuild failed")
        return None


def refresh_pending(session: Session) -> None:
    """Recompute the customers this transaction's flushes noted (also before a read of the
    summary in the same transaction, so a writer reads its own writes)."""
    session.flush()
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        refresh(session, pending)


def _changed(obj, fields: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "after_flush")
def _note(session: Session, flush_context) -> None:
    # after_flush: ids are assigned, and new/dirty and attribute history still show the flush
    noted: set = session.info.setdefault(_PENDING_KEY, set())
    for obj in session.new:
        if isinstance(obj, (FollowUp, Contact)):
            noted.add(obj.customer_id)
        elif isinstance(obj, Customer):
            noted.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Customer):
            if _changed(obj, _CUSTOMER_FIELDS):
                noted.add(obj.id)
        elif isinstance(obj, (FollowUp, Contact)):
            if _changed(obj, _FOLLOW_UP_FIELDS if isinstance(obj, FollowUp) else _CONTACT_FIELDS):
                noted.add(obj.customer_id)
                noted.update(inspect(obj).attrs.customer_id.history.deleted)  # moved from
    noted.discard(None)
    if not noted:
        session.info.pop(_PENDING_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    # the whole transaction is over (committed: already refreshed; rolled back: nothing to do).
    # A rolled-back savepoint keeps what was noted: recomputing a customer too many is harmless.
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


before_version(refresh_pending, last=True)  # after the hooks that may still write follow-ups or contacts
