"""What phones pull of customers and contacts (masking per viewer, R-C10)."""
from __future__ import annotations

from sqlalchemy import select

from server.customers import service
from server.customers.models import CoFollower, Contact, Customer, Share
from server.customers.schemas import ContactSchema, CustomerSchema
from server.extensions import db
from server.sync_api.feeds import ScopedFeed, register_scoped
from sync.pull import Plan

_customer_schema = CustomerSchema()
_contact_schema = ContactSchema()


def present_customer(customer: Customer, plan: Plan) -> dict:
    from server.pipeline.grades import missing_profile_fields
    from server.pools.service import days_to_reclaim

    data = _customer_schema.dump(service.present_customer(customer, plan.viewer))
    data["days_to_reclaim"] = days_to_reclaim(customer)
    data["missing_profile_fields"] = missing_profile_fields(customer)  # R-C8, with `customer_class`
    data["co_followers"] = [
        {"user_id": str(user_id), "permission": permission}
        for user_id, permission in db.session.execute(
            select(CoFollower.user_id, CoFollower.permission).where(CoFollower.customer_id == customer.id)
            .order_by(CoFollower.created_at))]
    if customer.owner_id == plan.viewer.id:
        data["shares"] = [
            {"user_id": str(u) if u else None, "department_id": str(d) if d else None}
            for u, d in db.session.execute(select(Share.user_id, Share.department_id)
                                           .where(Share.customer_id == customer.id))]
    return data


def present_contact(contact: Contact, plan: Plan) -> dict:
    unmasked = str(contact.customer_id) in plan.now.get("unmasked", frozenset())
    return _contact_schema.dump(service.present_contact(contact, unmasked))


register_scoped(ScopedFeed("customer", Customer, Customer.id, present_customer))
register_scoped(ScopedFeed("contact", Contact, Contact.customer_id, present_contact))
