"""What clients send for targets and what they get back (money in integer fen)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.common.schemas import Money, StrictSchema
from server.pipeline.schemas import MAX_FEN

COUNT = validate.Range(min=0, max=1_000_000)


class TargetSaveArgs(StrictSchema):
    """`target.save` (and the online save): the same id again changes the target."""

    id = fields.UUID(required=True)
    user_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "default: the author"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    new_customers = fields.Integer(strict=True, required=True, validate=COUNT)
    visits = fields.Integer(strict=True, required=True, validate=COUNT)
    deal_amount = Money(required=True, validate=validate.Range(min=0, max=MAX_FEN))
    payment_amount = Money(required=True, validate=validate.Range(min=0, max=MAX_FEN))


class TargetListArgs(StrictSchema):
    user_id = fields.UUID(load_default=None, allow_none=True)
    department_id = fields.UUID(load_default=None, allow_none=True)
    from_ = fields.Date(data_key="from", load_default=None, allow_none=True,
                        metadata={"description": "periods ending on or after this date"})
    to = fields.Date(load_default=None, allow_none=True, metadata={"description": "periods starting on or before"})


class ActualsOut(Schema):
    new_customers = fields.Integer()
    visits = fields.Integer()
    verified_visits = fields.Integer()
    deal_amount = fields.Integer(metadata={"description": "fen"})
    payment_amount = fields.Integer(metadata={"description": "fen"})


class TargetOut(Schema):
    id = fields.String()
    user_id = fields.String()
    user_name = fields.String(allow_none=True)
    name = fields.String()
    start_date = fields.String()
    end_date = fields.String()
    new_customers = fields.Integer()
    visits = fields.Integer()
    deal_amount = fields.Integer(metadata={"description": "fen"})
    payment_amount = fields.Integer(metadata={"description": "fen"})
    status = fields.String(metadata={"description": "active | pending | rejected"})
    set_by_id = fields.String(allow_none=True)
    approved_by_id = fields.String(allow_none=True)
    approval_id = fields.String(allow_none=True)
    actuals = fields.Nested(ActualsOut)
    updated_at = fields.String()


class TargetListOut(Schema):
    items = fields.List(fields.Nested(TargetOut))
