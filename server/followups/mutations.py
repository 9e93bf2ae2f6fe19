"""follow_up.create (SPEC R-A1, §12)."""
from __future__ import annotations

from marshmallow import fields, validate

from server.common.schemas import StrictSchema
from server.followups import service
from server.followups.models import FollowUpKind
from server.sync_api.registry import MutationContext, registry


class FollowUpCreateArgs(StrictSchema):
    id = fields.UUID(required=True)
    customer_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in FollowUpKind]))
    contact_id = fields.UUID(load_default=None, allow_none=True)
    content = fields.String(required=True, validate=validate.Length(max=5000))
    next_contact_at = fields.AwareDateTime(load_default=None, allow_none=True)


@registry.register("follow_up.create", creates=lambda a: [a["id"]])
def follow_up_create(args: dict, ctx: MutationContext) -> dict:
    follow_up = service.create_follow_up(FollowUpCreateArgs().load(args), ctx.user, ctx.mutation.client_time)
    return {"valid": follow_up.valid, "invalid_reasons": list(follow_up.invalid_reasons)}
