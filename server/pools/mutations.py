"""customer.claim and customer.release"""
from __future__ import annotations

from marshmallow import fields, validate

from server.common.schemas import StrictSchema
from server.pools import service
from server.sync_api.registry import MutationContext, registry


class ClaimArgs(StrictSchema):
    customer_id = fields.UUID(required=True)


class ReleaseArgs(StrictSchema):
    customer_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=300))


@registry.register("customer.claim")
def customer_claim(args: dict, ctx: MutationContext) -> dict:
    return service.claim(ClaimArgs().load(args)["customer_id"], ctx.user)


@registry.register("customer.release")
def customer_release(args: dict, ctx: MutationContext) -> dict:
    data = ReleaseArgs().load(args)
    return service.release(data["customer_id"], ctx.user, data["reason"])
