"""Calendar dates of the organisation (SPEC: "days" and "dates" are in the org time zone).

Records stamped with a moment (customers' `created_at`, visits' `visited_at`) are compared with
a period of dates through the UTC bounds of that period, so the comparison stays an indexable
range on every database (no per-row time-zone conversion in SQL).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.common.db import utcnow
from server.settings.service import get_settings


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def today(at: datetime | None = None) -> date:
    return (at or utcnow()).astimezone(zone()).date()


def local_date(moment: datetime, tz: ZoneInfo | None = None) -> date:
    return moment.astimezone(tz or zone()).date()


def utc_bounds(start: date, end: date, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """[first moment of `start`, first moment after `end`) in the org time zone, as aware datetimes."""
    tz = tz or zone()
    return (datetime.combine(start, time.min, tzinfo=tz),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))
