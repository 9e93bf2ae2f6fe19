"""What the import endpoints take and answer (contract "Import" in notes/contracts.md)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.common.schemas import StrictSchema
from server.imports.service import MODES


class TemplateArgs(StrictSchema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))


class ImportForm(StrictSchema):
    mode = fields.String(load_default="dry_run", validate=validate.OneOf(MODES))


class ProblemSchema(Schema):
    field = fields.String(allow_none=True)
    code = fields.String()
    message = fields.String()


class ImportRowSchema(Schema):
    row = fields.Integer(metadata={"description": "the row number as the spreadsheet shows it (header = 1)"})
    status = fields.String(metadata={"description": "ok | error | imported"})
    problems = fields.List(fields.Nested(ProblemSchema))
    customer_id = fields.UUID()


class ImportReportSchema(Schema):
    mode = fields.String()
    total = fields.Integer()
    valid = fields.Integer()
    invalid = fields.Integer()
    imported = fields.Integer()
    rows = fields.List(fields.Nested(ImportRowSchema))
