"""Chart segments drill down to the rows behind them: opening `drill.report` with
`drill.params` lists exactly the records the segment counts (or whose amounts it sums)."""
from __future__ import annotations

import pytest
from report_helpers import build_world, report

from server.reports.core import all_reports, get_report

CHARTED = [r.key for r in all_reports() if r.chart is not None]


@pytest.fixture
def world(factory, app):
    return build_world(factory, app)


def _sum_column(key: str, series_name: str) -> str | None:
    chart = get_report(key).chart
    for s in chart.series:
        if series_name in (s.zh, s.en):
            return s.sum_column or chart.sum_column
    return chart.sum_column


def test_the_charted_reports_include_the_contract_charts():
    assert {"deal_amount_by_user_month", "deals_by_region_user_year", "deal_amount_by_region_year",
            "customers_by_type"} <= set(CHARTED)


@pytest.mark.parametrize("key", CHARTED)
@pytest.mark.parametrize("who", ["mgr_root", "rep_a1"])
def test_every_segment_adds_up_to_its_drill_rows(client, world, key, who):
    answer = report(client, world, who, key)
    chart = answer["chart"]
    assert chart is not None and chart["type"] == get_report(key).chart.type
    if key.startswith("my_") and who.startswith("mgr"):
        assert chart["segments"] == []
        return
    assert chart["segments"], key
    # the series data and the segments agree
    values = {(s["name"], x): v for s in chart["series"] for x, v in zip(chart["x"], s["data"])}
    for segment in chart["segments"]:
        assert values[(segment["series"], segment["label"])] == segment["value"]
        drill = segment["drill"]
        target = get_report(drill["report"])
        assert target.kind == "query", drill
        rows = report(client, world, who, drill["report"], **drill["params"])
        column = _sum_column(key, segment["series"])
        got = sum(r[column] for r in rows["rows"]) if column else rows["total"]
        assert got == segment["value"], (key, segment, rows["total"])


def test_a_segment_of_visits_by_status_drills_to_visits_of_that_status(client, world):
    answer = report(client, world, "mgr_a", "visits_by_region_month")
    suspect = [s for s in answer["chart"]["segments"] if s["series"] == "可疑"]
    assert len(suspect) == 3  # one region per rep of department A
    rows = report(client, world, "mgr_a", "visits", **suspect[0]["drill"]["params"])["rows"]
    assert {r["verification_status"] for r in rows} == {"可疑"}
    assert {r["region"] for r in rows} == {suspect[0]["label"]}


def test_deal_amounts_drill_with_the_exact_fen(client, world):
    from report_helpers import ODD

    answer = report(client, world, "mgr_root", "deal_amount_by_region_year")
    assert sorted(s["value"] for s in answer["chart"]["segments"]) == [ODD] * 5
    assert {r["amount"] for r in answer["rows"]} == {ODD}
