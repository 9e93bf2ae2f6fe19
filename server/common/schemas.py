"""Shared marshmallow pieces."""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields


class StrictSchema(Schema):
    """Unknown fields are errors: a client may not slip in server-owned fields (SPEC §12)."""

    class Meta:
        unknown = RAISE


class Money(fields.Integer):
    """Integer fen (1/100 CNY). Floats and strings with decimals are refused, never rounded."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("money is an integer number of fen")
        return super()._deserialize(value, attr, data, **kwargs)
