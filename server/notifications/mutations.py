"""notification.read"""
from __future__ import annotations

from marshmallow import fields

from server.common.schemas import StrictSchema
from server.notifications import service
from server.sync_api.registry import MutationContext, registry


class ReadArgs(StrictSchema):
    id = fields.UUID(required=True)


@registry.register("notification.read")
def notification_read(args: dict, ctx: MutationContext) -> dict:
    service.mark_read(ctx.user, ReadArgs().load(args)["id"])
    return {}
