"""What clients send for daily reports and what they get back (money in integer fen)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.common.schemas import StrictSchema

TEXT = validate.Length(max=5000)


class DailyReportSaveArgs(StrictSchema):
    """`daily_report.save`: one report per user and date; saving again updates it."""

    id = fields.UUID(required=True)
    date = fields.Date(required=True)
    summary = fields.String(required=True, validate=TEXT)
    plan = fields.String(load_default="", validate=TEXT, metadata={"description": "tomorrow's plan"})


class DayArgs(StrictSchema):
    date = fields.Date(load_default=None, allow_none=True, metadata={"description": "default: today (org time zone)"})
    department_id = fields.UUID(load_default=None, allow_none=True)


class NamedOut(Schema):
    id = fields.String()
    name = fields.String()


class AutoVisitOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    customer_name = fields.String()
    verification_status = fields.String()


class AutoDealOut(Schema):
    id = fields.String()
    customer_name = fields.String()
    amount = fields.Integer(metadata={"description": "fen"})
    contract_no = fields.String()


class AutoPaymentOut(Schema):
    id = fields.String()
    customer_name = fields.String()
    amount = fields.Integer(metadata={"description": "fen"})


class CountsOut(Schema):
    new_customers = fields.Integer()
    visits = fields.Integer()
    deals = fields.Integer()
    deal_amount = fields.Integer(metadata={"description": "fen"})
    payments = fields.Integer()
    payment_amount = fields.Integer(metadata={"description": "fen"})


class AutoOut(Schema):
    new_customers = fields.List(fields.Nested(NamedOut))
    visits = fields.List(fields.Nested(AutoVisitOut))
    deals = fields.List(fields.Nested(AutoDealOut))
    payments = fields.List(fields.Nested(AutoPaymentOut))
    counts = fields.Nested(CountsOut)


class DailyReportOut(Schema):
    id = fields.String()
    user_id = fields.String()
    user_name = fields.String(allow_none=True)
    date = fields.String()
    summary = fields.String()
    plan = fields.String()
    submitted_at = fields.String()
    auto = fields.Nested(AutoOut)


class MissingOut(Schema):
    user_id = fields.String()
    display_name = fields.String()
    department = fields.String(allow_none=True)
    department_id = fields.String()


class DayOut(Schema):
    date = fields.String()
    reports = fields.List(fields.Nested(DailyReportOut))
    missing = fields.List(fields.Nested(MissingOut))
