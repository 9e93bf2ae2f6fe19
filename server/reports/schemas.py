"""Arguments and answers of the reports API (SPEC §13 "Reports")."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.common.schemas import StrictSchema


class ReportArgs(StrictSchema):
    """Every filter any report takes; a report refuses (422) the ones it does not list."""

    from_ = fields.Date(data_key="from", load_default=None, metadata={"description": "first day (org time zone)"})
    to = fields.Date(load_default=None, metadata={"description": "last day, inclusive (org time zone)"})
    department_id = fields.UUID(load_default=None, metadata={"description": "the department and its subtree"})
    user_id = fields.UUID(load_default=None)
    region = fields.String(load_default=None, validate=validate.Length(max=100))
    type = fields.String(load_default=None, validate=validate.Length(max=32))
    status = fields.String(load_default=None, validate=validate.Length(max=32))
    source = fields.String(load_default=None, validate=validate.Length(max=50))
    no_source = fields.Boolean(load_default=None, metadata={"description": "only customers without a source"})
    stage = fields.String(load_default=None, validate=validate.Length(max=32),
                          metadata={"description": "customers with an opportunity at this stage"})
    review = fields.String(load_default=None, validate=validate.Length(max=16))
    days = fields.Integer(load_default=None, metadata={"description": "reclaim_forecast: 7 or 30"})
    sort = fields.String(load_default=None, validate=validate.Length(max=64),
                         metadata={"description": "a column key of the report"})
    order = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ExportArgs(ReportArgs):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))


class ReportInfoSchema(Schema):
    key = fields.String()
    title = fields.String()
    kind = fields.String()
    chart = fields.String(allow_none=True)
    filters = fields.List(fields.String())


class ColumnSchema(Schema):
    key = fields.String()
    title = fields.String()
    type = fields.String()


class ReportSchema(Schema):
    key = fields.String()
    title = fields.String()
    columns = fields.List(fields.Nested(ColumnSchema))
    rows = fields.List(fields.Dict(), metadata={"description": "{column key: value}; money in integer fen"})
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    chart = fields.Dict(allow_none=True, metadata={
        "description": "{type, x, series: [{name, data}], segments: [{label, series, value, drill: {report, params}}]}"})
    period = fields.Dict(metadata={"description": "the period applied: {from, to} (a default one when none given)"})
