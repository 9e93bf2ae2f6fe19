"""Customer and contact schemas: what clients may send, and what they get back."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.common.schemas import Money, StrictSchema

CLIENT_STATUSES = ["potential", "intent", "lost"]  # `signed` comes from a signed deal (R-C6)
MOBILE = validate.Regexp(r"^\+?[0-9][0-9 \-]{5,19}$", error="not a phone number")
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="not a SHA-256 hex digest")


class LocationSchema(StrictSchema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lng = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class ContactFields(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=50))
    title = fields.String(allow_none=True, validate=validate.Length(max=50))
    department = fields.String(allow_none=True, validate=validate.Length(max=50))
    mobile = fields.String(allow_none=True, validate=MOBILE)
    phone = fields.String(allow_none=True, validate=MOBILE)
    email = fields.Email(allow_none=True)
    wechat = fields.String(allow_none=True, validate=validate.Length(max=64))
    birthday = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    key_person = fields.Boolean()
    attitude = fields.String(allow_none=True, validate=validate.OneOf(["supportive", "neutral", "opposed"]))


class ContactCreateSchema(ContactFields):
    id = fields.UUID(load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))


class ContactUpdateSchema(ContactFields):
    """The changed fields only."""


class CustomerFields(StrictSchema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    short_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    tax_id = fields.String(allow_none=True, validate=validate.Length(max=30))
    type = fields.String(validate=validate.OneOf(["direct", "distributor"]))
    industry = fields.String(validate=validate.Length(min=1, max=40))
    region = fields.String(validate=validate.Length(min=1, max=100))
    address = fields.String(validate=validate.Length(min=1, max=300))
    location = fields.Nested(LocationSchema, allow_none=True)
    source = fields.String(allow_none=True, validate=validate.Length(max=50))
    website = fields.String(allow_none=True, validate=validate.Length(max=200))
    scale = fields.String(allow_none=True, validate=validate.Length(max=50))
    postcode = fields.String(allow_none=True, validate=validate.Regexp(r"^[0-9]{6}$"))
    introduction = fields.String(allow_none=True, validate=validate.Length(max=200))
    door_photo = fields.String(allow_none=True, validate=SHA256)
    parent_id = fields.UUID(allow_none=True)
    status = fields.String(validate=validate.OneOf(CLIENT_STATUSES))
    confidentiality = fields.String(validate=validate.OneOf(["normal", "confidential"]))
    legal_dispute = fields.Boolean()
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))


class CustomerCreateSchema(CustomerFields):
    id = fields.UUID(load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    type = fields.String(required=True, validate=validate.OneOf(["direct", "distributor"]))
    industry = fields.String(required=True, validate=validate.Length(min=1, max=40))
    region = fields.String(required=True, validate=validate.Length(min=1, max=100))
    address = fields.String(required=True, validate=validate.Length(min=1, max=300))
    contacts = fields.List(fields.Nested(ContactCreateSchema), load_default=list,
                           validate=validate.Length(max=50))


class UserRefSchema(Schema):
    id = fields.UUID()
    display_name = fields.String()


class ContactSchema(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    name = fields.String()
    title = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    wechat = fields.String(allow_none=True)
    birthday = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True)
    key_person = fields.Boolean()
    attitude = fields.String(allow_none=True)
    masked = fields.Boolean()
    created_by_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


class CustomerSchema(Schema):
    id = fields.UUID()
    code = fields.String(allow_none=True)
    name = fields.String()
    short_name = fields.String(allow_none=True)
    tax_id = fields.String(allow_none=True)
    type = fields.String()
    industry = fields.String()
    business_line = fields.String()
    region = fields.String()
    address = fields.String()
    location = fields.Nested(LocationSchema, allow_none=True)
    source = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    scale = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    introduction = fields.String(allow_none=True)
    door_photo = fields.String(allow_none=True)
    parent_id = fields.UUID(allow_none=True)
    status = fields.String()
    grade = fields.String()
    customer_class = fields.String()
    confidentiality = fields.String()
    legal_dispute = fields.Boolean()
    notes = fields.String(allow_none=True)
    owner = fields.Nested(UserRefSchema, allow_none=True)
    pool = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    assigned_at = fields.DateTime(allow_none=True)
    last_progress_at = fields.DateTime(allow_none=True)
    visit_count = fields.Integer()
    last_visit_at = fields.DateTime(allow_none=True)
    deal_total = Money()
    payment_total = Money()
    receivables = Money()
    voided_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class CustomerDetailSchema(CustomerSchema):
    contacts = fields.List(fields.Nested(ContactSchema))


class CustomerSearchArgs(StrictSchema):
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    scope = fields.String(load_default="all",
                          validate=validate.OneOf(["all", "owned", "co_followed", "shared_with_me",
                                                   "shared_by_me"]))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)


class DuplicateMatchSchema(Schema):
    id = fields.UUID()
    code = fields.String(allow_none=True)
    name = fields.String()
    owner_display_name = fields.String(allow_none=True)
    pool = fields.String(allow_none=True)
    visible = fields.Boolean()
    match = fields.String()  # name | initials | fuzzy
    voided = fields.Boolean()


class CustomerSearchResultSchema(Schema):
    items = fields.List(fields.Nested(CustomerSchema))
    matches = fields.List(fields.Nested(DuplicateMatchSchema))
    next_cursor = fields.String(allow_none=True)


class IndustryOutSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    business_line = fields.String()
    also_lines = fields.List(fields.String())
