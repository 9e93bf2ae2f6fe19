"""Reports online (SPEC §10, §13): the list, one report (rows, total, chart with drill-downs)
and its export. Every report answers only what the caller may see (R-O4)."""
from __future__ import annotations

from flask import Response, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from server.common import context
from server.common.auth import login_required, me
from server.common.transaction import writes_on_read
from server.reports import service
from server.reports.schemas import ExportArgs, ReportArgs, ReportInfoSchema, ReportSchema

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports and statistics")


def language() -> str:
    """Titles follow the browser (Accept-Language); Simplified Chinese by default."""
    return request.accept_languages.best_match(["zh", "en"]) or "zh"


def _filters(args: dict) -> dict:
    args = dict(args)
    args["from"] = args.pop("from_", None)
    return args


@blp.route("")
class Reports(MethodView):
    @login_required()
    @blp.response(200, ReportInfoSchema(many=True))
    def get(self):
        """Every report: key, localized title, kind (query | statistics), chart type, filters it takes."""
        return service.list_reports(language())


@blp.route("/<string:key>")
class ReportByKey(MethodView):
    @login_required()
    @blp.arguments(ReportArgs, location="query", unknown=RAISE)
    @blp.response(200, ReportSchema)
    def get(self, args, key: str):
        """One report: columns, one page of rows with the total, and its chart (segments carry the
        query report and filters that list their rows). 404 for an unknown key; 422 for a filter
        the report does not take, a bad value, or a sort key that is not one of its columns."""
        return service.run_report(me(), key, _filters(args), language())


@blp.route("/<string:key>/export")
class ReportExport(MethodView):
    @login_required()
    @blp.arguments(ExportArgs, location="query", unknown=RAISE)
    @blp.alt_response(200, description="the XLSX or CSV file of every row (same filters and order)")
    def get(self, args, key: str):
        """The whole report as XLSX or CSV, streamed; managers, ops and admins (reps: 403
        `not_authorized`). Every export is logged (export log and audit: who, report, filters,
        format, row count)."""
        fmt = args.pop("format")
        body, filename, mimetype = service.start_export(me(), key, _filters(args), language(), fmt)

        def rows():
            # streamed after the request committed the log: plain reads again
            context.write_intent.set(False)
            yield from body

        return Response(stream_with_context(rows()), mimetype=mimetype,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                 "Cache-Control": "no-store"})


writes_on_read("reports.ReportExport")  # the export log (see server/common/transaction.py)
