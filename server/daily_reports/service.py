"""Daily reports (销售日报, SPEC R-K2).

One report per user and date (org time zone): the rep writes the summary and tomorrow's plan,
offline too; saving again for the same date updates that report, whatever id the phone sent.
The day's numbers are never typed: `auto` is computed from the day's records of the report's
user — customers they created, visits they made (with verification status; visits a manager
marked false are left out), deals credited to them signed that day and payments received that
day on those deals (the same attribution as the targets' actuals).

Counts cover all of the user's records; the lists name only customers the viewer may see (R-O4,
`visible_customers`): a manager reading a rep's report is not told the name of a customer the
rep co-follows under another department.

Who sees reports: their author; a manager their department subtree's; admins and business
support everyone's (`customers.access.visible_users`).
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from server.common import audit
from server.common.db import transaction_version, utcnow
from server.common.errors import NotFound, ValidationFailed
from server.customers import access
from server.customers.models import Customer
from server.daily_reports.models import DailyReport
from server.extensions import db
from server.org.models import Department, Role, User
from server.pipeline.models import Deal, DealStatus, Payment
from server.approvals.service import IdConflict
from server.targets import periods
from server.customers.access import subtree_users, visible_users
from server.targets.service import counted_visit, deal_user
from server.visits.models import Visit

FIELDS = ("user_id", "report_date", "summary", "plan", "submitted_at")


def visible_reports(viewer: User):
    return DailyReport.user_id.in_(select(User.id).where(visible_users(viewer)))


# ---- saving -----------------------------------------------------------------------------------------

def save_report(args: dict[str, Any], actor: User) -> DailyReport:
    """R-K2: the actor's report of `args["date"]`; created, or updated when one exists."""
    day: date = args["date"]
    if day > periods.today():
        raise ValidationFailed("A daily report is written for today or an earlier day",
                               details={"fields": {"date": ["later than today"]}})
    transaction_version(db.session)  # lock order: the version counter before any row
    # Two phones of one user saving the same day at once: the second waits, then updates.
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    report = db.session.scalar(select(DailyReport).where(DailyReport.user_id == actor.id,
                                                         DailyReport.report_date == day)
                               .execution_options(populate_existing=True))
    now = utcnow()
    summary, plan = args["summary"].strip(), (args.get("plan") or "").strip()
    if report is None:
        report_id = args.get("id") or uuid.uuid4()
        if db.session.get(DailyReport, report_id) is not None:
            # the phone's id names a report of another day (or another user's)
            raise IdConflict("This id is already used by another record", details={"id": str(report_id)})
        report = DailyReport(id=report_id, user_id=actor.id, report_date=day, summary=summary, plan=plan,
                             submitted_at=now, created_at=now, updated_at=now)
        db.session.add(report)
        db.session.flush()
        audit.record("daily_report.create", "daily_report", report.id,
                     audit.diff({}, {k: getattr(report, k) for k in FIELDS}), actor_id=actor.id)
        return report
    before = {k: getattr(report, k) for k in FIELDS}
    report.summary, report.plan, report.submitted_at, report.updated_at = summary, plan, now, now
    db.session.flush()
    changes = audit.diff(before, {k: getattr(report, k) for k in FIELDS})
    if args.get("id") and args["id"] != report.id:
        changes["sent_id"] = [None, str(args["id"])]
    audit.record("daily_report.update", "daily_report", report.id, changes, actor_id=actor.id)
    return report


# ---- the day's records --------------------------------------------------------------------------------

def _empty_auto() -> dict[str, Any]:
    return {"new_customers": [], "visits": [], "deals": [], "payments": [],
            "counts": {"new_customers": 0, "visits": 0, "deals": 0, "deal_amount": 0, "payments": 0,
                       "payment_amount": 0}}


def auto_for(keys: list[tuple[uuid.UUID, date]], viewer: User) -> dict[tuple[uuid.UUID, date], dict[str, Any]]:
    """(user id, date) → the auto block, for many reports with one query per kind of record."""
    result = {key: _empty_auto() for key in keys}
    if not keys:
        return result
    tz = periods.zone()
    users = sorted({u for u, _ in keys})
    low_day, high_day = min(d for _, d in keys), max(d for _, d in keys)
    low, high = periods.utc_bounds(low_day, high_day, tz)
    seen = access.visible_customers(viewer)

    def bucket(user_id, day):
        return result.get((user_id, day))

    for cid, name, user_id, created_at, visible in db.session.execute(
            select(Customer.id, Customer.name, Customer.created_by_id, Customer.created_at, seen)
            .where(Customer.created_by_id.in_(users), Customer.created_at >= low, Customer.created_at < high,
                   Customer.voided_at.is_(None))
            .order_by(Customer.created_at, Customer.id)):
        auto = bucket(user_id, periods.local_date(created_at, tz))
        if auto is not None:
            auto["counts"]["new_customers"] += 1
            if visible:
                auto["new_customers"].append({"id": str(cid), "name": name})
    for vid, customer_id, name, user_id, visited_at, status, visible in db.session.execute(
            select(Visit.id, Visit.customer_id, Customer.name, Visit.author_id, Visit.visited_at,
                   Visit.verification_status, seen)
            .join(Customer, Customer.id == Visit.customer_id)
            .where(Visit.author_id.in_(users), Visit.visited_at >= low, Visit.visited_at < high, counted_visit())
            .order_by(Visit.visited_at, Visit.id)):
        auto = bucket(user_id, periods.local_date(visited_at, tz))
        if auto is not None:
            auto["counts"]["visits"] += 1
            if visible:
                auto["visits"].append({"id": str(vid), "customer_id": str(customer_id), "customer_name": name,
                                       "verification_status": status})
    credited = deal_user()
    for did, name, user_id, signed, amount, contract_no, visible in db.session.execute(
            select(Deal.id, Customer.name, credited, Deal.signed_date, Deal.amount, Deal.contract_no, seen)
            .join(Customer, Customer.id == Deal.customer_id)
            .where(credited.in_(users), Deal.status == DealStatus.signed, Deal.signed_date >= low_day,
                   Deal.signed_date <= high_day)
            .order_by(Deal.signed_date, Deal.id)):
        auto = bucket(user_id, signed)
        if auto is not None:
            auto["counts"]["deals"] += 1
            auto["counts"]["deal_amount"] += int(amount)
            if visible:
                auto["deals"].append({"id": str(did), "customer_name": name, "amount": int(amount),
                                      "contract_no": contract_no})
    for pid, name, user_id, received, amount, visible in db.session.execute(
            select(Payment.id, Customer.name, credited, Payment.received_date, Payment.amount, seen)
            .join(Deal, Deal.id == Payment.deal_id).join(Customer, Customer.id == Payment.customer_id)
            .where(credited.in_(users), Payment.received_date >= low_day, Payment.received_date <= high_day)
            .order_by(Payment.received_date, Payment.id)):
        auto = bucket(user_id, received)
        if auto is not None:
            auto["counts"]["payments"] += 1
            auto["counts"]["payment_amount"] += int(amount)
            if visible:
                auto["payments"].append({"id": str(pid), "customer_name": name, "amount": int(amount)})
    return result


def present_many(reports: list[DailyReport], viewer: User) -> list[dict[str, Any]]:
    autos = auto_for([(r.user_id, r.report_date) for r in reports], viewer)
    names = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_(list({r.user_id for r in reports})))).all()) if reports else {}
    return [{"id": str(r.id), "user_id": str(r.user_id), "user_name": names.get(r.user_id),
             "date": r.report_date.isoformat(), "summary": r.summary, "plan": r.plan,
             "submitted_at": r.submitted_at.isoformat(), "auto": autos[(r.user_id, r.report_date)]}
            for r in reports]


def present(report: DailyReport, viewer: User) -> dict[str, Any]:
    return present_many([report], viewer)[0]


# ---- the day's reports of a team ---------------------------------------------------------------------------

def day_overview(viewer: User, day: date | None, department_id: uuid.UUID | None) -> dict[str, Any]:
    """The reports of `day` the viewer may see, and the active reps in scope who wrote none."""
    day = day or periods.today()
    people = select(User).where(visible_users(viewer), User.active.is_(True))
    if department_id is not None:
        department = db.session.get(Department, department_id)
        if department is None:
            raise NotFound("Department not found", details={"department_id": str(department_id)})
        people = people.where(User.id.in_(subtree_users(department.path)))
    users = list(db.session.scalars(people.order_by(User.display_name, User.id)))
    ids = [u.id for u in users]
    reports = list(db.session.scalars(select(DailyReport).where(
        DailyReport.report_date == day, DailyReport.user_id.in_(ids)).order_by(DailyReport.submitted_at))) if ids else []
    wrote = {r.user_id for r in reports}
    departments = dict(db.session.execute(select(Department.id, Department.name).where(
        Department.id.in_(list({u.department_id for u in users})))).all()) if users else {}
    missing = [{"user_id": str(u.id), "display_name": u.display_name,
                "department": departments.get(u.department_id), "department_id": str(u.department_id)}
               for u in users if u.role == Role.rep and u.id not in wrote]
    return {"date": day.isoformat(), "reports": present_many(reports, viewer), "missing": missing}


FEED_DAYS = 62


def feed_window_start() -> date:
    """Phones keep the last two months' reports; older ones are read online (`GET /daily-reports`)."""
    return periods.today() - timedelta(days=FEED_DAYS)
