"""Phones pull opportunities, deals and payments with their customer (scoped feeds)."""
from __future__ import annotations

import server.customers.feeds  # noqa: F401 — customers and contacts come first in a pull
from server.pipeline import service
from server.pipeline.models import Deal, Opportunity, Payment
from server.pipeline.schemas import DealOut, OpportunityOut, PaymentOut
from server.sync_api.feeds import ScopedFeed, register_scoped
from sync.pull import Plan

_opportunity = OpportunityOut()
_deal = DealOut()
_payment = PaymentOut()


def present_opportunity(opportunity: Opportunity, plan: Plan) -> dict:
    return _opportunity.dump(service.present_opportunity(opportunity))


def present_deal(deal: Deal, plan: Plan) -> dict:
    return _deal.dump(service.present_deal(deal))


def present_payment(payment: Payment, plan: Plan) -> dict:
    return _payment.dump(service.present_payment(payment))


register_scoped(ScopedFeed("opportunity", Opportunity, Opportunity.customer_id, present_opportunity))
register_scoped(ScopedFeed("deal", Deal, Deal.customer_id, present_deal, voided=lambda row: False))
register_scoped(ScopedFeed("payment", Payment, Payment.customer_id, present_payment, voided=lambda row: False))
