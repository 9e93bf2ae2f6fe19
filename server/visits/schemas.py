"""Arguments and answers of visits (SPEC R-A2, §7, §12 `visit.create`)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.common.schemas import StrictSchema
from server.visits.models import REVIEW_DECISIONS, STAGES

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="a SHA-256 as 64 lowercase hex digits")
MAX_PHOTOS = 9
TEXT = validate.Length(max=2000)


class PositionSchema(StrictSchema):
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-90, max=90))
    lng = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(load_default=None, allow_none=True, allow_nan=False,
                              validate=validate.Range(min=0, max=100_000),
                              metadata={"description": "the fix's accuracy radius in metres"})
    fixed_at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={"description": "time of the fix"})


class VisitCreateArgs(StrictSchema):
    id = fields.UUID(required=True)
    customer_id = fields.UUID(required=True)
    contact_id = fields.UUID(load_default=None, allow_none=True)
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    result = fields.String(load_default=None, allow_none=True, validate=TEXT)
    next_step = fields.String(load_default=None, allow_none=True, validate=TEXT)
    stage = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STAGES),
                          metadata={"description": "the customer's status after the visit"})
    visited_at = fields.AwareDateTime(required=True)
    photo_hashes = fields.List(fields.String(validate=SHA256), required=True,
                               validate=validate.Length(min=1, max=MAX_PHOTOS))
    position = fields.Nested(PositionSchema, load_default=None, allow_none=True)

    @validates_schema
    def _text_not_blank(self, data, **kwargs):
        if not (data.get("purpose") or "").strip():
            raise ValidationError("the purpose is empty", field_name="purpose")


class ReviewArgs(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(list(REVIEW_DECISIONS)),
                             metadata={"description": "`confirm` (it happened) or `false` (it did not)"})
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class VisitReviewArgs(ReviewArgs):
    visit_id = fields.UUID(required=True)


class ReviewQueueArgs(StrictSchema):
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["suspect", "unverified"]),
                           metadata={"description": "only this verification status (default: both)"})
    review = fields.String(load_default="open", validate=validate.OneOf(["open", "reviewed", "all"]),
                           metadata={"description": "`open`: not reviewed yet (the queue)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, allow_none=True)


class VisitListArgs(StrictSchema):
    customer_id = fields.UUID(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(["pending", "verified", "unverified", "suspect"]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, allow_none=True)


class VisitCheckSchema(Schema):
    code = fields.String()
    passed = fields.Boolean(allow_none=True)
    value = fields.Raw(allow_none=True)
    threshold = fields.Raw(allow_none=True)
    detail = fields.Dict()


class VisitVerificationSchema(Schema):
    status = fields.String()
    capture_time = fields.String(allow_none=True)
    time_source = fields.String(allow_none=True)
    location_source = fields.String(allow_none=True)
    distance_m = fields.Integer(allow_none=True)
    checks = fields.List(fields.Nested(VisitCheckSchema))


class VisitRefSchema(Schema):
    id = fields.String()
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)


class VisitSchema(Schema):
    id = fields.String()
    customer_id = fields.String()
    author_id = fields.String()
    contact_id = fields.String(allow_none=True)
    purpose = fields.String()
    result = fields.String(allow_none=True)
    next_step = fields.String(allow_none=True)
    stage = fields.String(allow_none=True)
    visited_at = fields.String()
    client_time = fields.String(allow_none=True)
    received_at = fields.String()
    photo_hashes = fields.List(fields.String())
    position = fields.Dict(allow_none=True)
    verification = fields.Nested(VisitVerificationSchema)
    verification_status = fields.String()
    review_status = fields.String()
    reviewed_by_id = fields.String(allow_none=True)
    review_comment = fields.String(allow_none=True)
    reviewed_at = fields.String(allow_none=True)
    created_at = fields.String()
    version = fields.Integer()
    customer = fields.Nested(VisitRefSchema)
    author = fields.Nested(VisitRefSchema)
    failed = fields.List(fields.String())
    can_review = fields.Boolean()


class VisitListSchema(Schema):
    items = fields.List(fields.Nested(VisitSchema))
    next_cursor = fields.String(allow_none=True)
