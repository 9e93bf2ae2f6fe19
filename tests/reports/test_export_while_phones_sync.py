"""An export is a GET that writes (its log). On SQLite a read transaction cannot be turned into a
write once another writer committed after it began — it fails at once with "database is
locked". A manager exporting while a phone's sync commits must still get the file."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from conftest import BACKEND, Factory

from server.reports import service


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's snapshot upgrade; PostgreSQL has no such limit")
def test_an_export_made_while_a_phone_commits_is_served_and_logged(fresh_app, monkeypatch):
    from server.extensions import db

    app = fresh_app()
    factory = Factory(app)
    department = factory.department()
    manager = factory.user("manager", department=department)
    rep = factory.user("rep", department=department)
    factory.customer(rep)
    headers = factory.headers(manager)
    original = service.start_export

    def a_phone_commits_first(*args, **kwargs):
        # another connection (a phone's push) commits while this request is under way
        from sqlalchemy import update

        from server.customers.models import Customer

        with db.engine.begin() as other:
            other.execute(update(Customer).where(Customer.owner_id == rep.id).values(notes="phone wrote this"))
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "start_export", a_phone_commits_first)
    answer = app.test_client().get("/api/v1/reports/customer_info/export", query_string={"format": "csv"},
                                   headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert "上海测试" in answer.get_data(as_text=True)
    with app.app_context():
        logged = db.session.execute(text("SELECT report_key, row_count FROM export_log")).all()
    assert [tuple(r) for r in logged] == [("customer_info", 1)]
