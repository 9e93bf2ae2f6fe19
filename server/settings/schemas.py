"""Typed, validated settings (SPEC: every number of a rule is a setting)."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

LINES = ["KA", "INTERNET", "RETAIL", "PUBLIC", "SMB"]
STATUSES = ["potential", "intent", "signed", "lost"]
Positive = validate.Range(min=1)
NonNegative = validate.Range(min=0)


class QuotasSchema(Schema):
    # null = unlimited
    KA = fields.Integer(strict=True, allow_none=True, validate=NonNegative)
    INTERNET = fields.Integer(strict=True, allow_none=True, validate=NonNegative)
    RETAIL = fields.Integer(strict=True, allow_none=True, validate=NonNegative)
    PUBLIC = fields.Integer(strict=True, allow_none=True, validate=NonNegative)
    SMB = fields.Integer(strict=True, allow_none=True, validate=NonNegative)


class ReclaimSchema(Schema):
    default_days = fields.Integer(strict=True, validate=Positive)
    by_status = fields.Dict(keys=fields.String(validate=validate.OneOf(STATUSES)),
                            values=fields.Integer(strict=True, validate=Positive))
    warning_days = fields.Integer(strict=True, validate=NonNegative)


class InvalidTrackingSchema(Schema):
    max_invalid_follow_ups = fields.Integer(strict=True, validate=Positive)
    no_valid_follow_up_days = fields.Integer(strict=True, validate=Positive)
    no_key_contact_days = fields.Integer(strict=True, validate=Positive)


class FollowUpSchema(Schema):
    min_chars = fields.Integer(strict=True, validate=validate.Range(min=1, max=200))
    empty_phrases = fields.List(fields.String(validate=validate.Length(min=1, max=50)))


class VerificationSchema(Schema):
    time_mismatch_s = fields.Integer(strict=True, validate=Positive)
    future_capture_s = fields.Integer(strict=True, validate=NonNegative)
    far_from_customer_min_m = fields.Integer(strict=True, validate=Positive)
    far_from_customer_max_m = fields.Integer(strict=True, validate=Positive)
    location_inconsistent_m = fields.Integer(strict=True, validate=Positive)
    photo_similar_bits = fields.Integer(strict=True, validate=validate.Range(min=0, max=64))
    photo_similar_days = fields.Integer(strict=True, validate=Positive)
    edited_gap_s = fields.Integer(strict=True, validate=NonNegative)
    clock_disagreement_s = fields.Integer(strict=True, validate=Positive)
    editor_software = fields.List(fields.String(validate=validate.Length(min=2, max=50)))


class GradesSchema(Schema):
    important_amount_fen = fields.Integer(strict=True, validate=Positive)
    important_years = fields.Integer(strict=True, validate=Positive)
    stable_amount_fen = fields.Integer(strict=True, validate=Positive)
    stable_years = fields.Integer(strict=True, validate=Positive)


class LoginPolicySchema(Schema):
    max_failures = fields.Integer(strict=True, validate=validate.Range(min=1, max=100))
    lock_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=24 * 60))


class IndustrySchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$"))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=80))
    business_line = fields.String(required=True, validate=validate.OneOf(LINES))
    also_lines = fields.List(fields.String(validate=validate.OneOf(LINES)), load_default=list)


class SettingsSchema(Schema):
    timezone = fields.String()
    quotas = fields.Nested(QuotasSchema)
    cooldown_days = fields.Integer(strict=True, validate=NonNegative)
    reclaim = fields.Nested(ReclaimSchema)
    handover_grace_days = fields.Integer(strict=True, validate=NonNegative)
    invalid_tracking = fields.Nested(InvalidTrackingSchema)
    follow_up = fields.Nested(FollowUpSchema)
    verification = fields.Nested(VerificationSchema)
    grades = fields.Nested(GradesSchema)
    login = fields.Nested(LoginPolicySchema)
    industries = fields.List(fields.Nested(IndustrySchema), validate=validate.Length(min=1))

    @validates("timezone")
    def _timezone(self, value: str, **_kw) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("unknown time zone") from exc

    @validates("industries")
    def _industries(self, value: list, **_kw) -> None:
        # Items that failed their own validation arrive here without the failed keys.
        codes = [i["code"] for i in value if "code" in i]
        if len(codes) != len(set(codes)):
            raise ValidationError("industry codes must be unique")

    @validates_schema
    def _complete_industries(self, data: dict, **_kw) -> None:
        # Settings are loaded partial=True, which reaches into the nested industries too; an
        # industry must still be complete.
        required = ("code", "name_zh", "name_en", "business_line")
        missing = {index: {key: ["Missing data for required field."] for key in required if key not in item}
                   for index, item in enumerate(data.get("industries") or [])
                   if any(key not in item for key in required)}
        if missing:
            raise ValidationError({"industries": missing})

    @validates_schema
    def _verification_bounds(self, data: dict, **_kw) -> None:
        v = data.get("verification") or {}
        if "far_from_customer_min_m" in v and "far_from_customer_max_m" in v \
                and v["far_from_customer_min_m"] > v["far_from_customer_max_m"]:
            raise ValidationError({"verification": ["far_from_customer_min_m exceeds the max"]})
