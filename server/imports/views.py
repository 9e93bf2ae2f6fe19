"""`/api/v1/imports/customers`: the template, and the upload (dry run or import), R-I1.

Managers (into the reps of their department subtree) and administrators only.
"""
from __future__ import annotations

import io
from functools import wraps
from urllib.parse import quote

from flask import request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from server.common.auth import login_required, me
from server.common.errors import ValidationFailed
from server.imports import service, spreadsheet
from server.imports.schemas import ImportForm, ImportReportSchema, TemplateArgs
from server.org.models import Role

blp = Blueprint("imports", __name__, url_prefix="/api/v1/imports", description="Imports")

IMPORTERS = (Role.manager, Role.admin)
_UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "the filled-in template, .xlsx or .csv"},
                   "mode": {"type": "string", "enum": list(service.MODES)}}}}}}}


def _multipart_only(fn):
    """415 before anything is parsed when the body is not a multipart form."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        if request.mimetype != "multipart/form-data":
            raise spreadsheet.UnsupportedFile("Send the file as multipart/form-data (field `file`)",
                                              details={"content_type": request.mimetype or None})
        if request.content_length is not None and request.content_length > service.MAX_FILE_BYTES + 64 * 1024:
            raise spreadsheet.FileTooLarge("An import file may be at most 5 MB",
                                  details={"limit": service.MAX_FILE_BYTES, "size": request.content_length})
        return fn(*args, **kwargs)

    return wrapper


def _uploaded() -> tuple[bytes, str | None]:
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed("Choose a file to upload", details={"fields": {"file": ["required"]}})
    data = upload.stream.read(service.MAX_FILE_BYTES + 1)
    if len(data) > service.MAX_FILE_BYTES:
        raise spreadsheet.FileTooLarge("An import file may be at most 5 MB", details={"limit": service.MAX_FILE_BYTES})
    return data, upload.filename


@blp.route("/customers/template")
class CustomerTemplate(MethodView):
    @login_required(*IMPORTERS)
    @blp.arguments(TemplateArgs, location="query")
    @blp.response(200, description="The template (xlsx, or csv in UTF-8 with a BOM)")
    def get(self, args):
        """The customer import template: Chinese headers (required ones marked *), with notes and
        the industry list in the xlsx."""
        data, mime, ext = service.template(args["format"])
        response = send_file(io.BytesIO(data), mimetype=mime, as_attachment=True,
                             download_name=f"customer_import_template.{ext}")
        # RFC 6266: the ASCII name for old clients, the Chinese one for the rest.
        response.headers["Content-Disposition"] = (
            f"attachment; filename=customer_import_template.{ext}; filename*=UTF-8''{quote(f'客户导入模板.{ext}')}")
        response.headers["Cache-Control"] = "private, no-cache"
        return response


@blp.route("/customers")
class CustomerImport(MethodView):
    @login_required(*IMPORTERS)
    @_multipart_only
    @blp.arguments(ImportForm, location="form", content_type="multipart/form-data")
    @blp.doc(**_UPLOAD)
    @blp.response(200, ImportReportSchema, description="The dry run's report, or nothing was valid to import")
    @blp.alt_response(201, schema=ImportReportSchema, description="Rows were imported")
    @blp.alt_response(422, description="`import_rejected` (all_or_nothing with problems; details = the report), "
                                       "`invalid_template`, `invalid_file`, `too_many_rows`")
    @blp.alt_response(415, description="Not an xlsx or csv file, or not a multipart form")
    def post(self, args):
        """Check (`mode=dry_run`) or import (`all_or_nothing`, `valid_only`) a filled-in template.
        Every row is reported with the row number the spreadsheet shows and all its problems."""
        data, filename = _uploaded()
        result = service.run(data, filename, args["mode"], me())
        return result, 201 if result["imported"] else 200
