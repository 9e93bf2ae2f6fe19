"""The report framework: definitions, the caller's context (filters, period, zone), and the
runner that sorts, pages and charts a definition's SQL query.

A definition's `query(ctx)` returns one SELECT whose result columns are labelled with the
report's column keys (plus hidden `_…` keys the chart's drill-down needs). Everything is
computed by the database: filters, GROUP BY aggregates, the total (a `count(*) OVER ()` beside
the page), the ORDER BY (only on whitelisted column keys) and LIMIT/OFFSET. Only the rows of
one page (or the few aggregate rows behind a chart) ever reach Python.
"""
from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, select

from server.common.db import utcnow
from server.common.errors import NotFound, ValidationFailed
from server.extensions import db
from server.org.models import Department, User
from server.reports import sql
from server.settings.service import get_settings

COLUMN_TYPES = ("text", "int", "money", "date", "datetime", "percent")
# Filters every report may accept; a report lists the ones it does (`filters` in the listing).
COMMON_FILTERS = ("from", "to", "department_id", "user_id", "region", "type", "status")


@dataclass(frozen=True)
class Col:
    key: str
    zh: str
    en: str
    type: str = "text"
    sortable: bool = True
    # enum codes -> (zh, en) labels, shown instead of the code in rows, charts and exports
    labels: dict[str, tuple[str, str]] | None = None

    def title(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Series:
    """One series of a chart: a value column, its name, and the drill filters it adds."""
    value: str
    zh: str
    en: str
    params: dict[str, Any] = field(default_factory=dict)
    report: str | None = None  # drills into another report than the chart's
    sum_column: str | None = None


@dataclass(frozen=True)
class Chart:
    """How a statistics report's aggregate rows become a chart.

    `x` is the column whose values are the x labels (categories or months). Either `series` lists
    fixed value columns, or `pivot` names a column whose values split one `value` column into one
    series each (a line per user, a bar per region). `drill(ctx, row)` gives the filters that pick
    the query-report rows behind the row's x (and pivot); `sum_column` is the drilled report's
    column whose sum equals a segment's value (None: its row count does)."""
    type: str
    x: str
    drill_report: str
    drill: Callable[[Any, dict], dict]
    series: tuple[Series, ...] = ()
    pivot: str | None = None
    value: str | None = None
    sum_column: str | None = None
    x_order: str = "label"  # label (months, in order) | rows (the query's order) | value (largest first)


@dataclass
class Report:
    key: str
    zh: str
    en: str
    kind: str  # query | statistics
    columns: list[Col]
    query: Callable[[Any], Select]
    filters: tuple[str, ...] = COMMON_FILTERS
    sort: tuple[tuple[str, str], ...] = ()  # default ORDER BY: (column key, asc|desc), ties broken by all
    chart: Chart | None = None
    period: str | None = None  # default period when no from/to: None | month | year
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # allowed values per filter
    present: Callable[[Any, list[dict]], None] | None = None  # fills page rows (names, reasons…)
    rows_in_python: Callable[[Any], list[dict]] | None = None  # reports built from a service's answer
    # records rather than groups: count them apart (a narrow COUNT) so that the page query can
    # stop after its LIMIT instead of carrying every wide row through `count(*) OVER ()`
    lists_records: bool | None = None

    def __post_init__(self):
        if self.lists_records is None:
            self.lists_records = self.kind == "query"

    def title(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def column(self, key: str) -> Col | None:
        return next((c for c in self.columns if c.key == key), None)


REGISTRY: dict[str, Report] = {}


def register(report: Report) -> Report:
    assert report.key not in REGISTRY, report.key
    assert report.kind in ("query", "statistics")
    assert all(c.type in COLUMN_TYPES for c in report.columns), report.key
    REGISTRY[report.key] = report
    return report


def get_report(key: str) -> Report:
    from server.reports import definitions  # noqa: F401 — fills REGISTRY

    report = REGISTRY.get(key)
    if report is None:
        raise NotFound("No such report", details={"report": key})
    return report


def all_reports() -> list[Report]:
    from server.reports import definitions  # noqa: F401

    return list(REGISTRY.values())


# ---- the caller's context -------------------------------------------------------------------------

@dataclass
class Ctx:
    user: User
    report: Report
    filters: dict[str, Any]  # the given filters (parsed), only those the report accepts
    lang: str
    zone_name: str
    zone: ZoneInfo
    now: datetime
    dialect: str
    start: date | None = None  # the effective period (given, else the report's default), local dates
    end: date | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def f(self, name: str, default: Any = None) -> Any:
        return self.filters.get(name, default)

    # -- periods --
    def utc_bounds(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) of the period in UTC, for timestamp columns."""
        start = datetime.combine(self.start, time.min, self.zone).astimezone(timezone.utc) if self.start else None
        end = (datetime.combine(self.end + timedelta(days=1), time.min, self.zone).astimezone(timezone.utc)
               if self.end else None)
        return start, end

    def in_period_ts(self, col) -> list[ColumnElement[bool]]:
        start, end = self.utc_bounds()
        return ([col >= start] if start else []) + ([col < end] if end else [])

    def in_period_date(self, col) -> list[ColumnElement[bool]]:
        return ([col >= self.start] if self.start else []) + ([col <= self.end] if self.end else [])

    def period_params(self) -> dict[str, str]:
        params = {}
        if self.start:
            params["from"] = self.start.isoformat()
        if self.end:
            params["to"] = self.end.isoformat()
        return params

    def month_params(self, month: str) -> dict[str, str]:
        """from/to of one 'YYYY-MM' month, clipped to the period."""
        year, mon = int(month[:4]), int(month[5:7])
        first, last = date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])
        if self.start and self.start > first:
            first = self.start
        if self.end and self.end < last:
            last = self.end
        return {"from": first.isoformat(), "to": last.isoformat()}

    def day_params(self, day: str) -> dict[str, str]:
        return {"from": day, "to": day}

    # -- subject users (the owner, author, creator… a report is "about") --
    def subject_filters(self, subject) -> list[ColumnElement[bool]]:
        """user_id and department_id (its whole subtree) applied to the report's subject user."""
        conditions = []
        if self.f("user_id") is not None:
            conditions.append(subject == self.f("user_id"))
        if self.f("department_id") is not None:
            conditions.append(subject.in_(users_in_subtree(self.f("department_id"))))
        return conditions

    def passthrough(self, *names: str) -> dict[str, Any]:
        """The given filters named here, as drill parameters (strings, as in a query string)."""
        out = {}
        for name in names:
            value = self.f(name)
            if value is not None:
                out[name] = _param(value)
        return out


def _param(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, date)):
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def users_in_subtree(department_id: uuid.UUID) -> Select:
    path = db.session.scalar(select(Department.path).where(Department.id == department_id))
    if path is None:
        raise ValidationFailed("No such department", details={"fields": {"department_id": ["unknown department"]}})
    return select(User.id).join(Department, User.department_id == Department.id).where(
        Department.path.startswith(path))


def _period(report: Report, given_from: date | None, given_to: date | None, today: date):
    if given_from and given_to and given_from > given_to:
        raise ValidationFailed("The period ends before it starts",
                               details={"fields": {"to": ["before from"]}})
    if given_from or given_to or report.period is None:
        return given_from, given_to
    if report.period == "year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])


def make_ctx(user: User, report: Report, args: dict, lang: str, now: datetime | None = None) -> Ctx:
    given = {k: v for k, v in args.items() if k in ALL_FILTERS and v is not None}
    unknown = sorted(k for k in given if k not in report.filters)
    if unknown:
        raise ValidationFailed("This report does not take these filters",
                               details={"fields": {k: ["not a filter of this report"] for k in unknown},
                                        "filters": list(report.filters)})
    for name, allowed in report.choices.items():
        if name in given and given[name] not in allowed:
            raise ValidationFailed("Not a value this filter takes",
                                   details={"fields": {name: [f"one of {', '.join(map(str, allowed))}"]}})
    zone_name = get_settings().timezone
    zone = ZoneInfo(zone_name)
    now = now or utcnow()
    sql.prepare_connection()
    ctx = Ctx(user=user, report=report, filters=given, lang=lang, zone_name=zone_name, zone=zone, now=now,
              dialect=sql.dialect())
    ctx.start, ctx.end = _period(report, given.get("from"), given.get("to"), ctx.today)
    return ctx


ALL_FILTERS = (*COMMON_FILTERS, "source", "no_source", "stage", "review", "days")


# ---- running ------------------------------------------------------------------------------------

def _order_by(ctx: Ctx, sub, sort: str | None, order: str | None) -> list:
    report = ctx.report
    keys: list[tuple[str, str]] = []
    check_sort(report, sort)
    if sort is not None:
        keys.append((sort, order or "asc"))
    keys += [k for k in report.sort if k[0] != sort]
    # ties broken by every remaining column, so pages never overlap or skip rows
    keys += [(c.key, "asc") for c in report.columns if c.key not in {k for k, _ in keys}
             and c.key in sub.c and c.sortable]
    clauses = []
    for key, direction in keys:
        col = sub.c[key]
        clauses.append(col.desc().nulls_last() if direction == "desc" else col.asc().nulls_last())
    if "_id" in sub.c:
        clauses.append(sub.c["_id"].asc())
    return clauses


def check_sort(report: Report, sort: str | None) -> None:
    if sort is None:
        return
    column = report.column(sort)
    if column is None or not column.sortable:
        raise ValidationFailed("Not a column this report sorts by",
                               details={"fields": {"sort": [f"one of {', '.join(sortable_keys(report))}"]}})


def sortable_keys(report: Report) -> list[str]:
    return [c.key for c in report.columns if c.sortable]


def ordered_query(ctx: Ctx, sort: str | None, order: str | None):
    sub = ctx.report.query(ctx).subquery("r")
    return sub, select(sub).order_by(*_order_by(ctx, sub, sort, order))


def fetch_page(ctx: Ctx, sort: str | None, order: str | None, page: int, per_page: int) -> tuple[list[dict], int]:
    if ctx.report.rows_in_python is not None:
        rows = sort_rows(ctx, ctx.report.rows_in_python(ctx), sort, order)
        return rows[(page - 1) * per_page: page * per_page], len(rows)
    sub, query = ordered_query(ctx, sort, order)
    if ctx.report.lists_records:
        rows = [dict(r._mapping) for r in db.session.execute(query.offset((page - 1) * per_page).limit(per_page))]
        return rows, db.session.scalar(select(func.count()).select_from(sub))
    # groups: the aggregate runs once, its total counted beside the page
    paged = query.add_columns(func.count().over().label("_total")).offset((page - 1) * per_page).limit(per_page)
    rows = [dict(r._mapping) for r in db.session.execute(paged)]
    if rows:
        total = rows[0]["_total"]
    else:
        total = db.session.scalar(select(func.count()).select_from(sub))
    for row in rows:
        row.pop("_total", None)
    return rows, total


def fetch_all(ctx: Ctx, sort: str | None = None, order: str | None = None) -> list[dict]:
    """Every row (aggregate reports with charts: a handful of groups)."""
    if ctx.report.rows_in_python is not None:
        return sort_rows(ctx, ctx.report.rows_in_python(ctx), sort, order)
    _, query = ordered_query(ctx, sort, order)
    return [dict(r._mapping) for r in db.session.execute(query)]


def stream_all(ctx: Ctx, sort: str | None, order: str | None, chunk: int = 1000) -> Iterator[list[dict]]:
    """Every row in pages of `chunk` from one server-side cursor (exports of any size)."""
    if ctx.report.rows_in_python is not None:
        rows = sort_rows(ctx, ctx.report.rows_in_python(ctx), sort, order)
        for i in range(0, len(rows), chunk):
            yield rows[i:i + chunk]
        return
    _, query = ordered_query(ctx, sort, order)
    result = db.session.execute(query.execution_options(yield_per=chunk))
    for part in result.partitions(chunk):
        yield [dict(r._mapping) for r in part]


def count_all(ctx: Ctx) -> int:
    if ctx.report.rows_in_python is not None:
        return len(ctx.report.rows_in_python(ctx))
    sub = ctx.report.query(ctx).subquery("r")
    return db.session.scalar(select(func.count()).select_from(sub))


def sort_rows(ctx: Ctx, rows: list[dict], sort: str | None, order: str | None) -> list[dict]:
    """For reports whose rows come from a service (already aggregated there): the same whitelist."""
    report = ctx.report
    check_sort(report, sort)
    keys = ([(sort, order or "asc")] if sort else []) + [k for k in report.sort if k[0] != sort]
    for key, direction in reversed(keys):
        present = [r for r in rows if r.get(key) is not None]
        missing = [r for r in rows if r.get(key) is None]
        present.sort(key=lambda r: _sort_key(r[key]), reverse=direction == "desc")
        rows = present + missing
    return rows


def _sort_key(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


# ---- presenting -----------------------------------------------------------------------------------

def cell(ctx: Ctx, column: Col, value: Any) -> Any:
    """A value as JSON shows it: codes as their localized labels, dates ISO, times ISO with the
    organisation's offset, ids as strings, money as integer fen."""
    if value is None:
        return None
    if isinstance(value, Enum):
        value = value.value
    if column.labels is not None:
        label = column.labels.get(str(value))
        return (label[1] if ctx.lang == "en" else label[0]) if label else value
    if column.type == "datetime" and isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(ctx.zone).isoformat()
    if column.type == "datetime" and isinstance(value, str):
        return value
    if column.type == "date" and isinstance(value, date):
        return value.isoformat()
    if column.type in ("int", "money"):
        return int(value)
    if column.type == "percent":
        return round(float(value), 1)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def present_rows(ctx: Ctx, rows: list[dict]) -> list[dict]:
    if ctx.report.present is not None:
        ctx.report.present(ctx, rows)
    return [{c.key: cell(ctx, c, row.get(c.key)) for c in ctx.report.columns} for row in rows]


def percent(actual: int, target: int) -> float | None:
    return None if not target else round(actual * 100.0 / target, 1)


def build_chart(ctx: Ctx, rows: list[dict]) -> dict | None:
    """The chart of a statistics report from all its aggregate rows, with drill-downs."""
    chart = ctx.report.chart
    if chart is None:
        return None

    def label(column_key: str, value: Any) -> str:
        column = ctx.report.column(column_key)
        shown = cell(ctx, column, value) if column else value
        return str(shown) if shown is not None else ("(none)" if ctx.lang == "en" else "（未填写）")

    # x identity: a hidden `_x_id` (a user id) when labels may repeat, else the x value itself
    xs: list[Any] = []
    x_label: dict[Any, str] = {}
    for row in rows:
        xid = row.get("_x_id", row[chart.x])
        if xid not in x_label:
            xs.append(xid)
            x_label[xid] = label(chart.x, row[chart.x])
    if chart.x_order == "label":
        xs.sort(key=lambda v: (v is None, str(_sort_key(v)) if v is not None else ""))
    series_out: list[dict] = []
    segments: list[dict] = []
    if chart.pivot is None:
        by_x = {row.get("_x_id", row[chart.x]): row for row in rows}
        if chart.x_order == "value" and chart.series:
            xs.sort(key=lambda v: -int(by_x[v].get(chart.series[0].value) or 0))
        for s in chart.series:
            name = s.en if ctx.lang == "en" else s.zh
            data = [int(by_x[x].get(s.value) or 0) for x in xs]
            series_out.append({"name": name, "data": data})
            for x, value in zip(xs, data):
                if value:
                    segments.append({"label": x_label[x], "series": name, "value": value,
                                     "drill": {"report": s.report or chart.drill_report,
                                               "params": {**chart.drill(ctx, by_x[x]), **s.params}}})
    else:
        keys: list[Any] = []
        names: dict[Any, str] = {}
        cells: dict[tuple[Any, Any], dict] = {}
        for row in rows:
            key = row.get("_pivot_id", row[chart.pivot])
            if key not in keys:
                keys.append(key)
                names[key] = label(chart.pivot, row[chart.pivot])
            cells[(row.get("_x_id", row[chart.x]), key)] = row
        for key in keys:
            data = [int((cells.get((x, key)) or {}).get(chart.value) or 0) for x in xs]
            series_out.append({"name": names[key], "data": data})
            for x, value in zip(xs, data):
                if value:
                    segments.append({"label": x_label[x], "series": names[key], "value": value,
                                     "drill": {"report": chart.drill_report,
                                               "params": chart.drill(ctx, cells[(x, key)])}})
    return {"type": chart.type, "x": [x_label[x] for x in xs], "series": series_out, "segments": segments}


def run(user: User, key: str, args: dict, lang: str) -> dict:
    report = get_report(key)
    ctx = make_ctx(user, report, args, lang)
    sort, order, page, per_page = args.get("sort"), args.get("order"), args.get("page", 1), args.get("per_page", 50)
    chart = None
    if report.chart is not None:
        # the aggregate is small (groups, not records): one query feeds both chart and page
        everything = fetch_all(ctx, sort, order)
        total = len(everything)
        rows = everything[(page - 1) * per_page: page * per_page]
        chart = build_chart(ctx, everything)
    else:
        rows, total = fetch_page(ctx, sort, order, page, per_page)
    return {"key": report.key, "title": report.title(lang),
            "columns": [{"key": c.key, "title": c.title(lang), "type": c.type} for c in report.columns],
            "rows": present_rows(ctx, rows), "total": total, "page": page, "per_page": per_page,
            "chart": chart, "period": {"from": ctx.start.isoformat() if ctx.start else None,
                                       "to": ctx.end.isoformat() if ctx.end else None}}


def listing(lang: str) -> list[dict]:
    return [{"key": r.key, "title": r.title(lang), "kind": r.kind,
             "chart": r.chart.type if r.chart else None, "filters": list(r.filters)} for r in all_reports()]


def and_all(conditions: list) -> ColumnElement[bool]:
    return and_(*conditions) if conditions else and_(True)
