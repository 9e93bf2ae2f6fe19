"""An export is a GET that writes (its log). On SQLite a read transaction cannot be turned into a
write once another writer committed after it began — it fails at once with "database is
locked". A manager exporting while a phone's sync commits must still get the file."""
from __future__ import annotations

import threading

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

    phone_done = threading.Event()

    def phone_writes():
        from sqlalchemy import update

        from server.customers.models import Customer

        with app.app_context(), db.engine.begin() as other:
            other.execute(update(Customer).where(Customer.owner_id == rep.id).values(notes="phone wrote this"))
        phone_done.set()

    def a_phone_writes_meanwhile(*args, **kwargs):
        # a phone's push writes while this request is under way: given the chance, it commits
        # between the request's first read and the export log's write
        phone = threading.Thread(target=phone_writes)
        phone.start()
        phone.join(2)
        threads.append(phone)
        return original(*args, **kwargs)

    threads: list[threading.Thread] = []
    monkeypatch.setattr(service, "start_export", a_phone_writes_meanwhile)
    answer = app.test_client().get("/api/v1/reports/customer_info/export", query_string={"format": "csv"},
                                   headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert "上海测试" in answer.get_data(as_text=True)
    for thread in threads:
        thread.join(60)
    assert phone_done.is_set()  # the phone's write went through too, after the export's
    with app.app_context():
        logged = db.session.execute(text("SELECT report_key, row_count FROM export_log")).all()
    assert [tuple(r) for r in logged] == [("customer_info", 1)]
