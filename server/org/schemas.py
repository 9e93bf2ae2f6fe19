from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.common.schemas import StrictSchema

LINES = ["KA", "INTERNET", "RETAIL", "PUBLIC", "SMB"]
ROLES = ["rep", "manager", "ops", "admin"]


class DepartmentCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    parent_id = fields.UUID(load_default=None)
    business_line = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LINES))


class DepartmentSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    parent_id = fields.UUID(allow_none=True)
    business_line = fields.Function(lambda d: d.business_line.value)
    own_business_line = fields.Function(lambda d: d.own_business_line.value if d.own_business_line else None)
    version = fields.Integer()


class UserCreateSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.\-]{2,64}$"))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=200))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    department_id = fields.UUID(required=True)
    email = fields.Email(load_default=None, allow_none=True)
    mobile = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class UserUpdateSchema(StrictSchema):
    display_name = fields.String(validate=validate.Length(min=1, max=100))
    role = fields.String(validate=validate.OneOf(ROLES))
    department_id = fields.UUID()
    active = fields.Boolean()
    password = fields.String(load_only=True, validate=validate.Length(min=8, max=200))
    email = fields.Email(allow_none=True)
    mobile = fields.String(allow_none=True, validate=validate.Length(max=32))


class UserSchema(Schema):
    id = fields.UUID()
    username = fields.String()
    display_name = fields.String()
    role = fields.Function(lambda u: u.role.value)
    department_id = fields.UUID()
    department_name = fields.Function(lambda u: u.department.name)
    business_line = fields.Function(lambda u: u.department.business_line.value)
    email = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    active = fields.Boolean()
    deactivated_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
