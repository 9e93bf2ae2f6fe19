"""Photo answers and query arguments."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.common.schemas import StrictSchema
from server.photos.models import MIMES


class PhotoSchema(Schema):
    sha256 = fields.String(metadata={"description": "SHA-256 of the bytes, 64 lowercase hex digits"})
    size = fields.Integer(metadata={"description": "bytes"})
    mime = fields.String(validate=validate.OneOf(MIMES))
    width = fields.Integer(metadata={"description": "pixels, as shown (EXIF orientation applied)"})
    height = fields.Integer(metadata={"description": "pixels, as shown (EXIF orientation applied)"})


class PhotoGetArgs(StrictSchema):
    size = fields.String(load_default="full", validate=validate.OneOf(["thumb", "full"]),
                         metadata={"description": "`thumb`: a JPEG at most 320 px; `full`: the bytes as uploaded"})
