"""Schemas of the invalid-tracking endpoints (R-P8)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.common.schemas import StrictSchema
from server.customers.schemas import UserRefSchema


class FlaggedCustomerSchema(Schema):
    id = fields.UUID()
    code = fields.String(allow_none=True)
    name = fields.String()
    status = fields.String()
    business_line = fields.String()
    owner = fields.Nested(UserRefSchema, allow_none=True)
    created_at = fields.DateTime()
    assigned_at = fields.DateTime(allow_none=True)
    last_progress_at = fields.DateTime(allow_none=True)


class FlaggedItemSchema(Schema):
    customer = fields.Nested(FlaggedCustomerSchema)
    # {"code": "too_many_invalid_follow_ups", "count", "limit"} | {"code": "no_valid_follow_up",
    # "since", "last_valid_at", "days"} | {"code": "no_key_contact", "created_at", "days"}
    reasons = fields.List(fields.Dict())


class FlaggedListSchema(Schema):
    items = fields.List(fields.Nested(FlaggedItemSchema))
    total = fields.Integer()


class FlaggedReturnArgs(StrictSchema):
    customer_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=500))
    reason = fields.String(required=True, validate=validate.Length(min=2, max=300))


class ReturnedSchema(Schema):
    customer_id = fields.UUID()
    code = fields.String(allow_none=True)
    pool = fields.String()
    former_owner_id = fields.UUID()


class FlaggedReturnResultSchema(Schema):
    returned = fields.List(fields.Nested(ReturnedSchema))
