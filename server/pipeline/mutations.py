"""Sync mutations of the pipeline (SPEC §12): opportunity.create, opportunity.update,
opportunity.set_stage, deal.create, deal.sign, payment.create.

Each handler validates its args with a schema (unknown fields, floats for money and
server-owned fields are `validation_failed`) and calls the same services as the HTTP API.
"""
from __future__ import annotations

from marshmallow import fields, validate

from server.common.errors import ValidationFailed
from server.common.schemas import StrictSchema
from server.pipeline import service
from server.pipeline.models import WIN_RATES
from server.pipeline.schemas import (DealCreateSchema, DealSignSchema, OpportunityCreateSchema, OpportunityFields,
                                     PaymentCreateSchema, SetStageSchema)
from server.sync_api.registry import MutationContext, registry


class SyncOpportunityCreate(OpportunityCreateSchema):
    id = fields.UUID(required=True)  # made on the phone (UUIDv7)


class OpportunityUpdateArgs(StrictSchema):
    id = fields.UUID(required=True)
    base_version = fields.Integer(required=True, validate=validate.Range(min=0))
    changes = fields.Dict(required=True)


class SetStageArgs(SetStageSchema):
    id = fields.UUID(required=True)


class SyncDealCreate(DealCreateSchema):
    id = fields.UUID(required=True)


class DealSignArgs(DealSignSchema):
    id = fields.UUID(required=True)


class SyncPaymentCreate(PaymentCreateSchema):
    id = fields.UUID(required=True)


def load_changes(raw: dict) -> dict:
    """The changed fields of an opportunity; the stage moves only through set_stage."""
    if "stage" in raw:
        raise ValidationFailed("The stage changes through opportunity.set_stage (its gates apply)",
                               details={"fields": {"stage": ["use opportunity.set_stage"]}})
    return OpportunityFields().load(raw)  # every field optional; not `partial` (it would reach product lines)


def _opportunity_result(opportunity) -> dict:
    return {"stage": opportunity.stage.value, "win_rate": WIN_RATES[opportunity.stage],
            "weighted_amount": service.weighted(opportunity.amount, opportunity.stage)}


@registry.register("opportunity.create", creates=lambda a: [a["id"]])
def opportunity_create(args: dict, ctx: MutationContext) -> dict:
    opportunity = service.create_opportunity(SyncOpportunityCreate().load(args), ctx.user)
    return _opportunity_result(opportunity)


@registry.register("opportunity.update")
def opportunity_update(args: dict, ctx: MutationContext) -> dict:
    data = OpportunityUpdateArgs().load(args)
    changes = load_changes(data["changes"])
    _, overwrote = service.update_opportunity(data["id"], changes, data["base_version"], ctx.user)
    return {"overwrote": overwrote} if overwrote else {}


@registry.register("opportunity.set_stage")
def opportunity_set_stage(args: dict, ctx: MutationContext) -> dict:
    data = SetStageArgs().load(args)
    opportunity = service.set_stage(data["id"], data["stage"], data.get("loss_reason"), ctx.user)
    return _opportunity_result(opportunity)


@registry.register("deal.create", creates=lambda a: [a["id"]])
def deal_create(args: dict, ctx: MutationContext) -> dict:
    deal = service.create_deal(SyncDealCreate().load(args), ctx.user)
    return {"status": deal.status.value, "contract_no": deal.contract_no}


@registry.register("deal.sign")
def deal_sign(args: dict, ctx: MutationContext) -> dict:
    data = DealSignArgs().load(args)
    deal = service.sign_deal(data["id"], ctx.user, data.get("signed_date"), data.get("attachment"))
    return {"status": deal.status.value, "signed_date": deal.signed_date.isoformat()}


@registry.register("payment.create", creates=lambda a: [a["id"]])
def payment_create(args: dict, ctx: MutationContext) -> dict:
    payment = service.create_payment(SyncPaymentCreate().load(args), ctx.user)
    deal, _ = service.get_deal(ctx.user, payment.deal_id)
    return {"paid": deal.paid_total, "remaining": deal.amount - deal.paid_total}
