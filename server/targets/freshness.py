"""Keep computed numbers reaching the phones: targets' actuals and daily reports' auto blocks.

A pull sends only rows whose version moved since the client's cookie (SPEC §12), but a target's
actuals and a daily report's auto-filled lists are computed from OTHER rows (customers, visits,
deals, payments). We chose to move the version of the targets and daily reports whose numbers a
write changes, in the writing transaction, rather than resending every open target on every pull:
- it is exact for any period, also for closed ones (a rep back from three days offline syncs
  visits into last month's target, a payment is entered with last week's received date);
- pulls stay empty when nothing changed, and a manager's phone is not sent the whole team's
  targets every few minutes;
- it happens in the same transaction and with the same global version as the record, so a
  pull that sees the record also sees the new numbers (no window where they disagree).

How: a `before_flush` hook looks at the rows being written — new customers and voided/restored
ones (counted by creator and creation date), new visits and visits whose verification or review
changed (author, visit date), deals becoming signed or changing signed date/amount, new payments
(the deal's credited user, received date) — and stamps the transaction's version on the targets
of those users whose period contains those dates, and on their daily reports of those dates. It
runs whichever service or channel writes (sync, API, jobs, CLI, demo), because every writer goes
through the ORM session. (Renaming a customer does not refresh the names listed in old daily
reports; they refresh with the report's next change.)
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from flask import has_app_context
from sqlalchemy import event, update
from sqlalchemy.orm import Session, attributes


def _changed(obj, *names: str) -> bool:
    return any(attributes.get_history(obj, name).has_changes() for name in names)


def _touched_days(session: Session) -> dict[uuid.UUID, set[date]]:
    from server.customers.models import Customer
    from server.pipeline.models import Deal, DealStatus, Payment
    from server.targets import periods
    from server.visits.models import Visit

    days: dict[uuid.UUID, set[date]] = defaultdict(set)
    tz = None

    def moment(user_id, at) -> None:
        nonlocal tz
        if user_id is None or at is None:
            return
        tz = tz or periods.zone()
        days[user_id].add(periods.local_date(at, tz))

    def day(user_id, value) -> None:
        if user_id is not None and value is not None:
            days[user_id].add(value)

    for obj in session.new:
        if isinstance(obj, Customer):
            moment(obj.created_by_id, obj.created_at)
        elif isinstance(obj, Visit):
            moment(obj.author_id, obj.visited_at)
        elif isinstance(obj, Deal) and obj.status == DealStatus.signed:
            day(obj.signed_by_id or obj.created_by_id, obj.signed_date)
        elif isinstance(obj, Payment):
            deal = session.get(Deal, obj.deal_id)
            if deal is not None:
                day(deal.signed_by_id or deal.created_by_id, obj.received_date)
    for obj in session.dirty:
        if isinstance(obj, Customer) and _changed(obj, "voided_at"):
            moment(obj.created_by_id, obj.created_at)
        elif isinstance(obj, Visit) and _changed(obj, "verification_status", "review_status", "visited_at"):
            moment(obj.author_id, obj.visited_at)
            for old in attributes.get_history(obj, "visited_at").deleted or ():
                moment(obj.author_id, old)
        elif isinstance(obj, Deal) and _changed(obj, "status", "signed_date", "amount", "signed_by_id"):
            day(obj.signed_by_id or obj.created_by_id, obj.signed_date)
            for old in attributes.get_history(obj, "signed_date").deleted or ():
                day(obj.signed_by_id or obj.created_by_id, old)
    return days


@event.listens_for(Session, "before_flush")
def _refresh_computed(session: Session, flush_context, instances) -> None:
    if not has_app_context() or not (session.new or session.dirty):
        return
    from server.common.db import transaction_version
    from server.daily_reports.models import DailyReport
    from server.targets.models import Target

    with session.no_autoflush:
        days = _touched_days(session)
        if not days:
            return
        version = None
        bumped: set[uuid.UUID] = set()
        for user_id, dates in days.items():
            low, high = min(dates), max(dates)
            # Over-approximate a user's several dates by their span: a spare bump only resends a row.
            # Skip the counter when nothing would change (e.g. the demo, before any target exists).
            target_ids = session.execute(
                Target.__table__.select().with_only_columns(Target.__table__.c.id).where(
                    Target.__table__.c.user_id == user_id, Target.__table__.c.start_date <= high,
                    Target.__table__.c.end_date >= low)).scalars().all()
            report_ids = session.execute(
                DailyReport.__table__.select().with_only_columns(DailyReport.__table__.c.id).where(
                    DailyReport.__table__.c.user_id == user_id,
                    DailyReport.__table__.c.report_date.in_(sorted(dates)))).scalars().all()
            if not target_ids and not report_ids:
                continue
            version = version or transaction_version(session)
            bumped.update(target_ids, report_ids)
            if target_ids:
                session.execute(update(Target.__table__).where(Target.__table__.c.id.in_(target_ids))
                                .values(version=version))
            if report_ids:
                session.execute(update(DailyReport.__table__).where(DailyReport.__table__.c.id.in_(report_ids))
                                .values(version=version))
        if version is not None:
            # Rows of these tables already loaded in this session must not write back an older version.
            for obj in list(session.identity_map.values()):
                if isinstance(obj, (Target, DailyReport)) and obj.id in bumped:
                    attributes.set_committed_value(obj, "version", version)
