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
