"""The faster paths of large statistics reports give exactly the rows of the plain query.

A report with a `Ranking` pages by a narrow ranking of its leading sort column, then runs its full
query for the page's candidates only: every page (any size, either direction, past the end), its
total and its order must equal those of the plain query (the report without the ranking), for
viewers who see everything and for those the access rule narrows — ties included (the test world
has customers with equal visit counts; two of them lose their codes, so that equal visits and
codes fall through to the later sort keys).
"""
from __future__ import annotations

import pytest
from report_helpers import REPORTS, build_world

from helpers import ok, session_of

VIEWERS = ("rep_a1", "mgr_a", "mgr_root", "admin")


@pytest.fixture
def world(factory, app):
    built = build_world(factory, app)
    from server.customers.models import Customer

    with session_of(app) as session:
        for marker in ("A1", "A2"):
            session.get(Customer, built.customers[marker][1]).code = None
        session.flush()
    return built


def _pages(client, world, who, key, per_page, **params):
    rows, totals, page = [], set(), 1
    while True:
        answer = ok(client.get(f"{REPORTS}/{key}", query_string={"page": page, "per_page": per_page, **params},
                               headers=world.headers[who]))
        totals.add(answer["total"])
        if not answer["rows"]:
            return rows, totals
        rows.append(answer["rows"])
        page += 1


@pytest.mark.parametrize("key", ["visits_this_year", "my_visits_this_year"])
def test_ranked_pages_equal_the_plain_query(client, world, key, monkeypatch):
    from server.reports.core import get_report

    report = get_report(key)
    assert report.ranking is not None
    cases = [(who, per_page, params) for who in VIEWERS for per_page in (1, 2, 3, 500)
             for params in ({}, {"sort": "visits", "order": "desc"}, {"sort": "visits", "order": "asc"},
                            {"status": "verified"}, {"region": "上海市黄浦区A1片"})]
    ranked = {i: _pages(client, world, who, key, per_page, **params) for i, (who, per_page, params) in enumerate(cases)}
    monkeypatch.setattr(report, "ranking", None)
    for i, (who, per_page, params) in enumerate(cases):
        assert ranked[i] == _pages(client, world, who, key, per_page, **params), (who, per_page, params)
    # the world has rows, and ties on visits among them
    visits = [r["visits"] for page in _pages(client, world, "admin", "visits_this_year", 500)[0] for r in page]
    assert len(visits) > len(set(visits)) > 1


def _deals_by_region_user_named_per_deal(ctx):
    """deals_by_region_user_year as it was: every deal joined to its user's names, grouped by all."""
    from server.customers.models import Customer
    from server.reports.definitions import Subject, SubjectDept, deal_sales, signed_deals, with_subject

    uid = deal_sales()
    query, conditions = signed_deals(ctx, Customer.region, uid.label("_pivot_id"), Subject.display_name.label("user"),
                                     SubjectDept.name.label("department"))
    return with_subject(query, uid).where(*conditions).group_by(Customer.region, uid, Subject.display_name,
                                                                SubjectDept.name)


@pytest.mark.parametrize("key, plain", [("deals_by_region_user_year", _deals_by_region_user_named_per_deal)])
def test_grouped_by_ids_then_named_equals_grouped_by_names(client, world, key, plain, monkeypatch):
    from server.reports.core import get_report

    def answer(who):
        got = ok(client.get(f"{REPORTS}/{key}", query_string={"per_page": 500}, headers=world.headers[who]))
        return got["rows"], got["total"], got["chart"]

    now = {who: answer(who) for who in VIEWERS}
    monkeypatch.setattr(get_report(key), "query", plain)
    for who in VIEWERS:
        assert now[who] == answer(who), who
    assert now["admin"][1] > 1


def _activity_with_seen_cte(ctx, by_day: bool):
    """activity_union as it was: a CTE of the seen customers joined to each kind of record apart."""
    from sqlalchemy import BigInteger, String, case, func, literal, select, union_all

    from server.customers.models import Customer
    from server.followups.models import FollowUp
    from server.pipeline.models import Deal, DealStatus, Payment
    from server.reports import sql
    from server.reports.definitions import _part, customer_conditions, deal_sales
    from server.visits.models import Visit

    def day(ts=None, date_col=None):
        if not by_day:
            return literal("", String)
        if date_col is not None:
            return func.to_char(date_col, "YYYY-MM-DD") if ctx.dialect == "postgresql" else func.substr(date_col, 1, 10)
        return sql.local_date(ts, ctx.zone_name, ctx.dialect)

    cust = customer_conditions(ctx, status=False)
    seen = select(Customer.id.label("id")).where(*cust).cte("seen_customers")
    one = literal(1, BigInteger)
    parts = [
        select(*_part(Customer.created_by_id, day(Customer.created_at), {"new_customers": one}))
        .where(*cust, *ctx.in_period_ts(Customer.created_at)),
        select(*_part(FollowUp.author_id, day(FollowUp.created_at),
                      {"follow_ups": case((FollowUp.valid.is_(True), 1), else_=0),
                       "invalid_follow_ups": case((FollowUp.valid.is_(False), 1), else_=0)}))
        .join(seen, seen.c.id == FollowUp.customer_id).where(*ctx.in_period_ts(FollowUp.created_at)),
        select(*_part(Visit.author_id, day(Visit.visited_at),
                      {"visits": one, "verified_visits": case((Visit.verification_status == "verified", 1), else_=0),
                       "unverified_visits": case((Visit.verification_status == "unverified", 1), else_=0),
                       "suspect_visits": case((Visit.verification_status == "suspect", 1), else_=0)}))
        .join(seen, seen.c.id == Visit.customer_id).where(*ctx.in_period_ts(Visit.visited_at)),
        select(*_part(deal_sales(), day(date_col=Deal.signed_date), {"deals": one, "deal_amount": Deal.amount}))
        .join(seen, seen.c.id == Deal.customer_id)
        .where(Deal.status == DealStatus.signed, *ctx.in_period_date(Deal.signed_date)),
        select(*_part(deal_sales(), day(date_col=Payment.received_date), {"payment_amount": Payment.amount}))
        .select_from(Payment).join(Deal, Deal.id == Payment.deal_id).join(seen, seen.c.id == Payment.customer_id)
        .where(*ctx.in_period_date(Payment.received_date)),
    ]
    return union_all(*parts).subquery("activity")


def _activity_by_user_named_per_record(ctx):
    """activity_by_user_month as it was: every record joined to its user's names, grouped by all."""
    from sqlalchemy import select

    from server.reports.definitions import Subject, SubjectDept, _sums, with_subject

    activity = _activity_with_seen_cte(ctx, by_day=False)
    query = select(activity.c.uid.label("_x_id"), Subject.display_name.label("user"),
                   SubjectDept.name.label("department"), *_sums(activity))
    query = with_subject(query.select_from(activity), activity.c.uid)
    return query.where(*ctx.subject_filters(activity.c.uid)).group_by(
        activity.c.uid, Subject.display_name, SubjectDept.name)


def _my_activity_with_seen_cte(ctx):
    from sqlalchemy import select

    from server.reports.definitions import _sums

    activity = _activity_with_seen_cte(ctx, by_day=True)
    return select(activity.c.day.label("date"), *_sums(activity)).select_from(activity).where(
        activity.c.uid == ctx.user.id).group_by(activity.c.day)


@pytest.mark.parametrize("key, plain", [("activity_by_user_month", _activity_by_user_named_per_record),
                                        ("my_activity_month", _my_activity_with_seen_cte)])
def test_activity_in_one_join_equals_the_seen_customers_cte(client, world, key, plain, monkeypatch):
    from server.reports.core import get_report

    def answer(who, **params):
        got = ok(client.get(f"{REPORTS}/{key}", query_string={"per_page": 500, **params}, headers=world.headers[who]))
        return got["rows"], got["total"], got["chart"]

    cases = [(who, params) for who in VIEWERS for params in ({}, {"region": "上海市黄浦区A1片"}, {"type": "direct"})]
    now = [answer(who, **params) for who, params in cases]
    monkeypatch.setattr(get_report(key), "query", plain)
    for (who, params), got in zip(cases, now):
        assert got == answer(who, **params), (who, params)
    assert any(got[1] for got in now)
