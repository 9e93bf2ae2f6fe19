"""`/api/v1/daily-reports`: a day's reports the caller may see and who has not reported; saving
one online (the same service as `daily_report.save`)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from server.common.auth import login_required, me
from server.daily_reports import service
from server.daily_reports.schemas import DailyReportOut, DailyReportSaveArgs, DayArgs, DayOut

blp = Blueprint("daily_reports", __name__, url_prefix="/api/v1/daily-reports",
                description="Daily reports: the day's numbers filled in from the records, summary and plan")


@blp.route("")
class DailyReports(MethodView):
    @login_required()
    @blp.arguments(DayArgs, location="query")
    @blp.response(200, DayOut)
    def get(self, args):
        """The reports of `date` (default today) the caller may see — their own; a manager's
        department subtree (narrowed by `department_id`) — and `missing`: the active reps in
        that scope who wrote none."""
        return service.day_overview(me(), args["date"], args["department_id"])

    @login_required()
    @blp.arguments(DailyReportSaveArgs)
    @blp.response(200, DailyReportOut)
    def post(self, args):
        """Write the caller's report of `date`; again for the same date updates it."""
        user = me()
        return service.present(service.save_report(args, user), user)
