"""The demo's targets and daily reports (SPEC R-K1, R-K2), made after every other record so their
numbers have a year of customers, visits, deals and payments to be measured against:

- every rep has a target per period over the last twelve months and the current period — KA reps
  quarterly, the other lines monthly — set by the manager above them through the real service
  (`save_target`: active, audited). Each past target is its period's actual numbers scaled by a
  factor around 1, so some are met and some are not; the current one is a stretch on last
  period's. One rep has also drafted next period's own target: it waits in the manager's inbox.
- most reps wrote a daily report on each of the last working days (Monday to Friday, today
  included when it is one); a few days are missing, so the managers' "not reported" list shows
  someone. The summaries are written from that day's records, as a rep would.

Called by the loader with its own generator; nothing here commits.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable

from server.daily_reports import service as daily_reports
from server.daily_reports.models import DailyReport
from server.extensions import db
from server.org.models import Department, Role, User
from server.targets import periods
from server.targets import service as targets
from server.targets.models import Target

__all__ = ["load_demo_targets", "TargetDemoReport", "month_periods", "quarter_periods"]

REPORT_DAYS = 10  # working days with daily reports
REPORT_SHARE = 0.85  # chance a rep reported on a given working day
MET_SHARE = 0.45  # past targets set so that the period's numbers meet them
PLANS = ("跟进报价，约技术交流", "拜访两家意向客户，确认预算", "整理合同条款，推动签约", "回访老客户，了解续费计划",
         "准备方案演示材料", "电话跟进上周拜访的客户", "陪同经理拜访重点客户", "催收本月回款")
QUIET = ("今天在办公室整理客户资料，电话沟通了几家客户。", "内部培训半天，下午电话跟进客户需求。",
         "整理本周拜访记录，准备明天的方案。")


@dataclass
class TargetDemoReport:
    targets: int = 0
    met: int = 0
    pending: int = 0
    daily_reports: int = 0
    missing: int = 0
    periods: dict[str, int] = field(default_factory=dict)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_periods(today: date, back: int = 12) -> list[tuple[date, date]]:
    """The current month and the `back` months before it, oldest first."""
    starts = [_month_start(today)]
    for _ in range(back):
        starts.insert(0, _month_start(starts[0] - timedelta(days=1)))
    return [(s, _next_month(s) - timedelta(days=1)) for s in starts]


def quarter_periods(today: date, back: int = 4) -> list[tuple[date, date]]:
    """The current quarter and the `back` quarters before it, oldest first."""
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    starts = [start]
    for _ in range(back):
        previous = starts[0] - timedelta(days=1)
        starts.insert(0, date(previous.year, 3 * ((previous.month - 1) // 3) + 1, 1))
    ends = [s2 - timedelta(days=1) for s2 in starts[1:]]
    last = starts[-1]
    ends.append(date(last.year + (last.month + 2) // 12, (last.month + 2) % 12 + 1, 1) - timedelta(days=1))
    return list(zip(starts, ends))


def _manager_of(rep: User, managers: list[User]) -> User | None:
    """The nearest manager above the rep's department (the deepest department path)."""
    above = [m for m in managers if rep.department.path.startswith(m.department.path) and m.id != rep.id]
    return max(above, key=lambda m: len(m.department.path)) if above else None


FLOORS = {"new_customers": (1, 2), "visits": (1, 4), "deal_amount": (1_000_00, 50_000_00),
          "payment_amount": (1_000_00, 30_000_00)}  # measure: (step, least goal)


def _goals(actual: dict[str, int], factor: float, met: bool) -> dict[str, int]:
    """Goals from a period's numbers. To be met: every goal at or under its actual (rounded down to
    the step). To be missed (or a stretch): at least the floor and above the actual (rounded up)."""
    goals = {}
    for key, (step, least) in FLOORS.items():
        value = actual[key] * factor
        if met:
            goals[key] = int(value // step) * step
        else:
            goals[key] = max(least, -int(-value // step) * step)
    return goals


def load_demo_targets(rng: random.Random, reps: Iterable[Any], now: datetime | None = None) -> TargetDemoReport:
    report = TargetDemoReport()
    users = [getattr(r, "user", r) for r in reps]
    users = [u for u in users if u.role == Role.rep and u.active]
    root_paths = {"/" + u.department.path.strip("/").split("/")[0] + "/" for u in users}
    managers = [m for m in db.session.query(User).join(Department, User.department_id == Department.id)
                .filter(User.role == Role.manager, User.active.is_(True)).all()
                if any(m.department.path.startswith(p) for p in root_paths)]
    today = periods.today(now)
    drafted = False
    for user in sorted(users, key=lambda u: u.username):
        manager = _manager_of(user, managers)
        if manager is None:
            continue
        quarterly = user.business_line.value == "KA"
        spans = quarter_periods(today) if quarterly else month_periods(today)
        kind = "季度" if quarterly else "月度"
        numbers = {span: targets.actuals([user.id], *span)[user.id] for span in spans}
        previous = None
        for start, end in spans:
            actual = numbers[(start, end)]
            if start <= today <= end:  # the current period: a stretch on the last one
                goals = _goals(previous or actual, rng.uniform(1.1, 1.4), met=False)
            else:
                met = rng.random() < MET_SHARE and any(actual.values())
                goals = _goals(actual, rng.uniform(0.6, 1.0) if met else rng.uniform(1.05, 1.5), met)
                report.met += met
            label = f"{start.year}年Q{(start.month - 1) // 3 + 1}" if quarterly else f"{start.year}年{start.month}月"
            targets.save_target({"user_id": user.id, "name": f"{label}{kind}指标", "start_date": start,
                                 "end_date": end, **goals}, manager)
            report.targets += 1
            report.periods[kind] = report.periods.get(kind, 0) + 1
            previous = actual
        if not drafted and not quarterly:
            # next month's target, drafted by the rep: waits for the manager's approval
            start = _next_month(today)
            end = _next_month(start) - timedelta(days=1)
            targets.save_target({"user_id": user.id, "name": f"{start.year}年{start.month}月月度指标（自拟）",
                                 "start_date": start, "end_date": end,
                                 **_goals(numbers[spans[-2]], 1.1, met=False)}, user)
            report.pending += 1
            drafted = True
    _daily_reports(rng, users, today, now, report)
    db.session.flush()
    return report


def _working_days(today: date, count: int) -> list[date]:
    days, day = [], today
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


def _summary(rng: random.Random, auto: dict) -> str:
    counts = auto["counts"]
    parts = []
    if counts["visits"]:
        names = "、".join(v["customer_name"] for v in auto["visits"][:2])
        parts.append(f"拜访{counts['visits']}家客户（{names}{'等' if counts['visits'] > 2 else ''}）")
    if counts["new_customers"]:
        parts.append(f"新增客户{counts['new_customers']}个")
    if counts["deals"]:
        parts.append(f"签约{counts['deals']}单，合计{counts['deal_amount'] // 100:,}元")
    if counts["payments"]:
        parts.append(f"回款{counts['payment_amount'] // 100:,}元")
    if not parts:
        return rng.choice(QUIET)
    return "今天" + "，".join(parts) + "。" + rng.choice(("客户反馈积极。", "需要跟进报价细节。", "整体进展顺利。", ""))


def _daily_reports(rng: random.Random, users: list[User], today: date, now: datetime | None,
                   report: TargetDemoReport) -> None:
    from server.common.db import utcnow

    now = now or utcnow()
    tz = periods.zone()
    days = _working_days(today, REPORT_DAYS)
    # a rep or two never reports on some days; one rep has not reported today yet
    for user in sorted(users, key=lambda u: u.username):
        autos = daily_reports.auto_for([(user.id, d) for d in days], user)
        for day in days:
            if rng.random() > REPORT_SHARE:
                report.missing += 1
                continue
            submitted = datetime.combine(day, time(rng.randint(17, 21), rng.randint(0, 59)), tzinfo=tz)
            if submitted > now:
                if rng.random() < 0.5:  # today's report not written yet
                    report.missing += 1
                    continue
                submitted = now - timedelta(minutes=rng.randint(1, 30))
            saved = daily_reports.save_report({"id": None, "date": day, "summary": _summary(rng, autos[(user.id, day)]),
                                               "plan": rng.choice(PLANS)}, user)
            saved.submitted_at = saved.created_at = saved.updated_at = submitted
            report.daily_reports += 1


def demo_counts() -> dict[str, int]:
    from sqlalchemy import func, select

    return {"targets": db.session.scalar(select(func.count()).select_from(Target)) or 0,
            "daily_reports": db.session.scalar(select(func.count()).select_from(DailyReport)) or 0}
