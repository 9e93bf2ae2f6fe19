"""Concurrent saves (real threads and commits, `fresh_app`): two managers' overlapping targets for
one rep, and two phones of one rep saving the same day's report, never both win."""
from __future__ import annotations

import threading
import uuid

from conftest import Factory
from sqlalchemy import func, select

TIMEOUT = 120


def _push_together(app, pushes: list[tuple[dict, dict]]) -> list[dict]:
    barrier = threading.Barrier(len(pushes))
    answers: list = [None] * len(pushes)

    def run(index, headers, mutation):
        barrier.wait(TIMEOUT)
        answers[index] = app.test_client().post("/api/v1/sync/push", headers=headers, json={
            "client_id": str(uuid.uuid4()), "schema_version": 1, "mutations": [{"id": 1, **mutation}]}).get_json()

    threads = [threading.Thread(target=run, args=(i, h, m)) for i, (h, m) in enumerate(pushes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "hung"
    return [a["results"][0] for a in answers]


def test_two_overlapping_targets_saved_at_once_one_wins(fresh_app):
    from server.extensions import db
    from server.targets.models import Target

    app = fresh_app()
    factory = Factory(app)
    top = factory.department("销售部", line="KA")
    group = factory.department("一组", parent=top)
    rep = factory.user("rep", department=group)
    managers = [factory.user("manager", department=group), factory.user("manager", department=top)]
    pushes = []
    for n, manager in enumerate(managers):
        pushes.append((factory.headers(manager), {"name": "target.save", "args": {
            "id": str(uuid.uuid4()), "user_id": str(rep.id), "name": f"指标{n}", "start_date": "2026-12-01",
            "end_date": "2026-12-31", "new_customers": 3, "visits": 10, "deal_amount": 100_00,
            "payment_amount": 100_00}}))
    results = _push_together(app, pushes)
    assert sorted(r["status"] for r in results) == ["applied", "rejected"], results
    (rejected,) = [r for r in results if r["status"] == "rejected"]
    assert rejected["error"]["code"] == "target_period_overlap"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Target).where(Target.user_id == rep.id)) == 1


def test_two_phones_saving_one_day_make_one_report(fresh_app):
    from server.daily_reports.models import DailyReport
    from server.extensions import db
    from server.targets import periods

    app = fresh_app()
    factory = Factory(app)
    rep = factory.user("rep")
    with app.app_context():
        today = periods.today().isoformat()
    headers = factory.headers(rep)
    results = _push_together(app, [(headers, {"name": "daily_report.save", "args": {
        "id": str(uuid.uuid4()), "date": today, "summary": f"手机{n}写的日报"}}) for n in range(2)])
    assert [r["status"] for r in results] == ["applied", "applied"], results
    assert results[0]["server"]["id"] == results[1]["server"]["id"]
    with app.app_context():
        rows = db.session.scalars(select(DailyReport).where(DailyReport.user_id == rep.id)).all()
        assert len(rows) == 1 and rows[0].summary in ("手机0写的日报", "手机1写的日报")
