"""Every report, for every role: a rep sees only rows of customers they may see (and "my_*"
reports only their own activity), a manager their department subtree and never a sibling
department, ops and admin everything (SPEC R-O4, §10)."""
from __future__ import annotations

import json

import pytest
from report_helpers import ALLOWED, MARKERS, REPORTS, build_world, report

from helpers import ok

KEYS = ["new_customers", "claims", "visits", "customer_locations", "payments", "deals", "transfers", "daily_reports",
        "customer_info", "change_requests", "visits_this_year", "my_visits_this_year", "visits_by_region_month",
        "new_customers_by_region_month", "my_new_customers_by_type_month", "activity_by_user_month",
        "my_activity_month", "deal_amount_by_user_month", "deals_this_month_by_user", "deals_by_region_user_year",
        "deal_amount_by_region_year", "my_customers_by_status", "customers_by_stage", "customers_by_type",
        "customers_by_status", "customers_by_source", "target_completion", "invalid_tracking", "suspect_visits",
        "reclaim_forecast"]
# reports whose rows name no person or customer (aggregates by region, month, status…): their
# scope is checked through their totals instead
ANONYMOUS = {"customers_by_stage", "customers_by_type", "customers_by_status", "customers_by_source",
             "my_customers_by_status", "my_activity_month", "my_new_customers_by_type_month"}


@pytest.fixture
def world(factory, app):
    return build_world(factory, app)


def markers_in(rows) -> set[str]:
    blob = json.dumps(rows, ensure_ascii=False)
    return {m for m in MARKERS if m in blob}


def test_the_listing_names_every_report_of_the_contract(client, world):
    listing = ok(client.get(REPORTS, headers=world.headers["rep_a1"]))
    assert [r["key"] for r in listing] == KEYS
    by_key = {r["key"]: r for r in listing}
    assert by_key["deal_amount_by_user_month"]["chart"] == "line"
    assert by_key["deals_by_region_user_year"]["chart"] == "bar"
    assert by_key["deal_amount_by_region_year"]["chart"] == "pie"
    assert by_key["customers_by_type"]["chart"] == "pie"
    assert {r["kind"] for r in listing if r["key"] in KEYS[:10]} == {"query"}
    assert {r["kind"] for r in listing if r["key"] in KEYS[10:]} == {"statistics"}
    assert by_key["visits"]["title"] == "拜访记录"
    english = ok(client.get(REPORTS, headers={**world.headers["rep_a1"], "Accept-Language": "en-US,en;q=0.9"}))
    assert english[2]["title"] == "Visits"
    assert "days" in by_key["reclaim_forecast"]["filters"] and "from" in by_key["visits"]["filters"]


@pytest.mark.parametrize("key", KEYS)
def test_every_report_keeps_to_the_access_rule(client, world, key):
    totals = {}
    for who, allowed in ALLOWED.items():
        answer = report(client, world, who, key)
        assert answer["key"] == key and answer["total"] == len(answer["rows"]) or answer["total"] > 500
        assert [c["key"] for c in answer["columns"]] == list(answer["rows"][0]) if answer["rows"] else True
        seen = markers_in(answer["rows"]) | markers_in(answer["chart"] or {})
        assert seen <= allowed, (who, key, seen - allowed)
        if key.startswith("my_") and who in ("ops", "admin", "mgr_a", "mgr_b"):
            continue  # their own activity: none in this world
        assert answer["rows"], (who, key)
        if key not in ANONYMOUS and who.startswith("rep"):
            assert seen & allowed, (who, key)  # their own rows are there
        totals[who] = answer["total"]
    if key not in ANONYMOUS and not key.startswith("my_"):
        involved = {"claims": {"A1", "B1"}, "transfers": {"A1", "A3", "B1", "B2"}}.get(key, set(MARKERS))
        assert markers_in(report(client, world, "admin", key)["rows"]) == involved, key
        assert markers_in(report(client, world, "ops", key)["rows"]) == involved, key
        assert markers_in(report(client, world, "mgr_a", key)["rows"]) == involved & ALLOWED["mgr_a"], key
        assert markers_in(report(client, world, "mgr_root", key)["rows"]) == involved, key
