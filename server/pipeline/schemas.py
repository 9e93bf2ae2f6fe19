"""What clients may send for opportunities, deals and payments, and what they get back.

Money fields are `Money`: integer fen, strictly (1.5, "150", true are refused, never rounded),
at most MAX_FEN so that every amount and every sum a phone reads stays an exact JSON number.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.common.schemas import Money, StrictSchema
from server.pipeline.models import Stage

MAX_FEN = 10 ** 15  # 10 trillion CNY: far above any contract, far below 2**53
MAX_QUANTITY = 10 ** 9
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="not a SHA-256 hex digest (64 lowercase hex digits)")
TEXT = validate.Length(max=2000)
STAGES = [s.value for s in Stage]


def money(**kwargs) -> Money:
    minimum = kwargs.pop("minimum", 0)
    return Money(validate=validate.Range(min=minimum, max=MAX_FEN), **kwargs)


class ProductLineSchema(StrictSchema):
    product = fields.String(required=True, validate=validate.Length(min=1, max=200))
    quantity = fields.Integer(strict=True, allow_none=True, load_default=None,
                              validate=validate.Range(min=1, max=MAX_QUANTITY))
    unit_price = money(allow_none=True, load_default=None)


class OpportunityFields(StrictSchema):
    """The fields a client edits (`opportunity.update` changes; all optional)."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    owner_id = fields.UUID()
    amount = money()
    expected_close_date = fields.Date(allow_none=True)
    products = fields.List(fields.Nested(ProductLineSchema), validate=validate.Length(max=200))
    budget = fields.String(allow_none=True, validate=TEXT)
    authority = fields.String(allow_none=True, validate=TEXT)
    need = fields.String(allow_none=True, validate=TEXT)
    timeline = fields.String(allow_none=True, validate=TEXT)
    competition = fields.String(allow_none=True, validate=TEXT)
    champion = fields.String(allow_none=True, validate=TEXT)
    contract_forecast = money(allow_none=True)
    contract_forecast_date = fields.Date(allow_none=True)
    payment_forecast = money(allow_none=True)
    payment_forecast_date = fields.Date(allow_none=True)
    revenue_forecast = money(allow_none=True)
    revenue_forecast_date = fields.Date(allow_none=True)
    contract_draft = fields.String(allow_none=True, validate=SHA256)
    loss_reason = fields.String(allow_none=True, validate=validate.Length(max=500))


class OpportunityCreateSchema(OpportunityFields):
    id = fields.UUID(load_default=None)
    customer_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    # The stage it starts in (default qualify); its gate applies as for any stage entered.
    stage = fields.String(load_default="qualify", validate=validate.OneOf(STAGES))


class OpportunityUpdateSchema(StrictSchema):
    base_version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    changes = fields.Dict(required=True)


class SetStageSchema(StrictSchema):
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    loss_reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class DealCreateSchema(StrictSchema):
    id = fields.UUID(load_default=None)
    customer_id = fields.UUID(required=True)
    opportunity_id = fields.UUID(load_default=None, allow_none=True)
    contract_no = fields.String(required=True, validate=validate.Length(min=1, max=64))
    amount = money(required=True, minimum=1)
    signed_date = fields.Date(load_default=None, allow_none=True)
    attachment = fields.String(load_default=None, allow_none=True, validate=SHA256)


class DealSignSchema(StrictSchema):
    signed_date = fields.Date(load_default=None, allow_none=True)
    attachment = fields.String(load_default=None, allow_none=True, validate=SHA256)


class PaymentCreateSchema(StrictSchema):
    id = fields.UUID(load_default=None)
    deal_id = fields.UUID(required=True)
    amount = money(required=True, minimum=1)
    received_date = fields.Date(required=True)
    proof = fields.String(load_default=None, allow_none=True, validate=SHA256)


class ListArgs(StrictSchema):
    customer_id = fields.UUID(load_default=None)
    stage = fields.String(load_default=None, validate=validate.OneOf(STAGES))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class DealListArgs(StrictSchema):
    customer_id = fields.UUID(load_default=None)
    opportunity_id = fields.UUID(load_default=None)
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class PaymentListArgs(StrictSchema):
    customer_id = fields.UUID(load_default=None)
    deal_id = fields.UUID(load_default=None)
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class SummaryArgs(StrictSchema):
    customer_id = fields.UUID(load_default=None)
    owner_id = fields.UUID(load_default=None)


# ---- answers --------------------------------------------------------------------------------------

class ProductLineOut(Schema):
    product = fields.String()
    quantity = fields.Integer(allow_none=True)
    unit_price = fields.Integer(allow_none=True, metadata={"description": "fen"})
    line_total = fields.Integer(allow_none=True, metadata={"description": "fen: quantity × unit price"})


class OpportunityOut(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    owner_id = fields.UUID()
    name = fields.String()
    amount = fields.Integer(metadata={"description": "fen"})
    expected_close_date = fields.Date(allow_none=True)
    products = fields.List(fields.Nested(ProductLineOut))
    budget = fields.String(allow_none=True)
    authority = fields.String(allow_none=True)
    need = fields.String(allow_none=True)
    timeline = fields.String(allow_none=True)
    competition = fields.String(allow_none=True)
    champion = fields.String(allow_none=True)
    contract_forecast = fields.Integer(allow_none=True)
    contract_forecast_date = fields.Date(allow_none=True)
    payment_forecast = fields.Integer(allow_none=True)
    payment_forecast_date = fields.Date(allow_none=True)
    revenue_forecast = fields.Integer(allow_none=True)
    revenue_forecast_date = fields.Date(allow_none=True)
    stage = fields.String()
    win_rate = fields.Integer(metadata={"description": "percent, from the stage"})
    weighted_amount = fields.Integer(metadata={"description": "fen: amount × win rate, rounded to the fen"})
    gates = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                        metadata={"description": "for every stage, what is missing to enter it now"})
    contract_draft = fields.String(allow_none=True)
    contract_draft_uploaded = fields.Boolean()
    loss_reason = fields.String(allow_none=True)
    stage_changed_at = fields.DateTime(allow_none=True)
    created_by_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    voided_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class DealOut(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    opportunity_id = fields.UUID(allow_none=True)
    contract_no = fields.String()
    amount = fields.Integer(metadata={"description": "fen"})
    paid_total = fields.Integer(metadata={"description": "fen"})
    outstanding = fields.Integer(metadata={"description": "fen: amount − paid (signed deals)"})
    signed_date = fields.Date(allow_none=True)
    attachment = fields.String(allow_none=True)
    attachment_uploaded = fields.Boolean()
    status = fields.String()
    signed_at = fields.DateTime(allow_none=True)
    signed_by_id = fields.UUID(allow_none=True)
    created_by_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


class PaymentOut(Schema):
    id = fields.UUID()
    deal_id = fields.UUID()
    customer_id = fields.UUID()
    amount = fields.Integer(metadata={"description": "fen"})
    received_date = fields.Date()
    proof = fields.String(allow_none=True)
    proof_uploaded = fields.Boolean()
    created_by_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    version = fields.Integer()


class StageTotalOut(Schema):
    stage = fields.String()
    win_rate = fields.Integer()
    count = fields.Integer()
    amount = fields.Integer(metadata={"description": "fen"})
    weighted_amount = fields.Integer(metadata={"description": "fen"})


class TotalsOut(Schema):
    count = fields.Integer()
    amount = fields.Integer(metadata={"description": "fen"})
    weighted_amount = fields.Integer(metadata={"description": "fen"})


class SummaryOut(Schema):
    currency = fields.String(metadata={"description": "CNY"})
    unit = fields.String(metadata={"description": "fen: every amount is an integer number of fen"})
    stages = fields.List(fields.Nested(StageTotalOut), metadata={"description": "every stage, in order"})
    open = fields.Nested(TotalsOut, metadata={"description": "the open pipeline: qualify to contracting"})
    total = fields.Nested(TotalsOut, metadata={"description": "every stage"})


class AttachmentOut(Schema):
    sha256 = fields.String()
    size = fields.Integer()
    mime = fields.String()
