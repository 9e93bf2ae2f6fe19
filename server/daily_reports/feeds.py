"""Phones pull daily reports (entity `daily_report`): a rep their own, a manager also their
department subtree's, of the last FEED_DAYS days; auto blocks computed for a page at once.

Their versions move when the day's records change (see `server/targets/freshness.py`).
"""
from __future__ import annotations

import uuid

from sqlalchemy import select

from server.daily_reports import service
from server.daily_reports.models import DailyReport
from server.extensions import db
from server.sync_api.feeds import PersonRows, changed_or_new_person, register_feed, register_person_rows
from sync.pull import Plan


class DailyReportFeed:
    entity = "daily_report"

    def phase(self):
        def run(plan: Plan, after: str | None, limit: int):
            query = (select(DailyReport).where(service.visible_reports(plan.viewer),
                                               DailyReport.report_date >= service.feed_window_start())
                     .order_by(DailyReport.id).limit(limit))
            if not plan.reset:
                query = query.where(changed_or_new_person(plan, DailyReport, DailyReport.user_id))
            if after:
                query = query.where(DailyReport.id > uuid.UUID(after))
            rows = db.session.scalars(query).all()
            ops = [{"op": "put", "entity": self.entity, "id": d["id"], "version": row.version, "data": d}
                   for row, d in zip(rows, service.present_many(rows, plan.viewer))]
            return ops, (str(rows[-1].id) if len(rows) == limit else None)

        return run


register_feed(DailyReportFeed())
register_person_rows(PersonRows("daily_report", DailyReport, DailyReport.user_id,
                                lambda: DailyReport.report_date >= service.feed_window_start()))
