"""`daily_report.save` (SPEC §12, R-K2)."""
from __future__ import annotations

from server.daily_reports import service
from server.daily_reports.schemas import DailyReportSaveArgs
from server.sync_api.registry import MutationContext, registry


@registry.register("daily_report.save", creates=lambda a: [a["id"]] if isinstance(a.get("id"), str) else [])
def daily_report_save(args: dict, ctx: MutationContext) -> dict:
    report = service.save_report(DailyReportSaveArgs().load(args), ctx.user)
    # the report's id: the phone's, or the one already kept for that date (the phone re-keys)
    return {"id": str(report.id), "date": report.report_date.isoformat()}
