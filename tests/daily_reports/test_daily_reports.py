"""Daily reports (SPEC R-K2): one per user and date, the day's numbers filled in from the records,
the team's reports and who is missing, sync visibility, retries."""
from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "targets"))

from target_helpers import (NOKIA, REPORTS, ZONE, Phone, audit_entries, error_of, local_noon,  # noqa: E402
                            make_team, new_id, ok, org_today, session_of, set_fields, visit_time)

from server.customers.models import Customer  # noqa: E402


@pytest.fixture
def team(factory):
    return make_team(factory)


def reports_of(app, user) -> list:
    from sqlalchemy import select

    from server.daily_reports.models import DailyReport

    with session_of(app) as session:
        rows = list(session.scalars(select(DailyReport).where(DailyReport.user_id == user.id)))
        for row in rows:
            session.expunge(row)
        return rows


def save(phone: Phone, day, summary="今天拜访了三家客户", plan="明天跟进报价", report_id=None) -> dict:
    return phone.applied("daily_report.save", {"id": report_id or new_id(), "date": day.isoformat(),
                                               "summary": summary, "plan": plan})


def test_saving_twice_for_one_date_updates_the_one_report(app, factory, team):
    rep = Phone(factory, team.rep)
    today = org_today()
    first_id = new_id()
    first = save(rep, today, "上午拜访", report_id=first_id)
    assert first["server"]["id"] == first_id
    # another phone (or a lost answer) sends another id for the same date: the same report
    second = save(rep, today, "上午拜访，下午写方案", "周五交方案")
    assert second["server"]["id"] == first_id
    (row,) = reports_of(app, team.rep)
    assert (str(row.id), row.summary, row.plan, row.report_date) == (first_id, "上午拜访，下午写方案", "周五交方案", today)
    actions = [a[0] for a in audit_entries(app, "daily_report", first_id)]
    assert actions == ["daily_report.create", "daily_report.update"]
    # another date is another report
    save(rep, today - timedelta(days=1))
    assert len(reports_of(app, team.rep)) == 2
    rep.pull()
    assert {d["data"]["summary"] for k, d in rep.state.items() if k[0] == "daily_report"} >= {"上午拜访，下午写方案"}


def test_rules_of_saving(app, factory, team):
    rep = Phone(factory, team.rep)
    today = org_today()
    rep.rejected("daily_report.save", {"id": new_id(), "date": (today + timedelta(days=1)).isoformat(),
                                       "summary": "明天的"}, "validation_failed")
    rep.rejected("daily_report.save", {"id": new_id(), "date": "2026-13-01", "summary": "x"}, "validation_failed")
    rep.rejected("daily_report.save", {"id": new_id(), "date": today.isoformat(), "summary": "x",
                                       "auto": {"visits": 99}}, "validation_failed")
    assert reports_of(app, team.rep) == []
    # the id of one report cannot name another day's
    report_id = save(rep, today)["server"]["id"]
    rep.rejected("daily_report.save", {"id": report_id, "date": (today - timedelta(days=2)).isoformat(),
                                       "summary": "y"}, "id_conflict")
    # nor another user's report
    Phone(factory, team.rep2).rejected("daily_report.save", {"id": report_id, "date": today.isoformat(),
                                                             "summary": "z"}, "id_conflict")
    assert len(reports_of(app, team.rep)) == 1 and reports_of(app, team.rep2) == []


def test_retrying_the_same_mutation_does_not_duplicate(app, factory, team):
    from helpers import push

    rep = Phone(factory, team.rep)
    batch = [{"id": 1, "name": "daily_report.save", "client_time": rep.client_time(),
              "args": {"id": new_id(), "date": org_today().isoformat(), "summary": "拜访两家"}}]
    assert ok(push(rep.client, rep.headers, rep.client_id, batch))["results"][0]["status"] == "applied"
    assert ok(push(rep.client, rep.headers, rep.client_id, batch))["results"][0]["status"] == "replayed"
    assert len(reports_of(app, team.rep)) == 1
    assert [a[0] for a in audit_entries(app, "daily_report", batch[0]["args"]["id"])] == ["daily_report.create"]


def test_auto_numbers_come_from_the_days_records(app, factory, team):
    today = org_today()
    yesterday = today - timedelta(days=1)
    rep, rep2 = Phone(factory, team.rep), Phone(factory, team.rep2)
    shop = factory.customer(team.rep, name="上海春意空调有限公司")
    second = factory.customer(team.rep, name="上海秋实贸易有限公司")
    old = factory.customer(team.rep, name="上海旧客户有限公司")
    set_fields(app, Customer, shop.id, created_at=local_noon(today))
    set_fields(app, Customer, second.id, created_at=local_noon(today))
    set_fields(app, Customer, old.id, created_at=local_noon(yesterday))
    factory.customer(team.rep2)  # someone else's
    v1 = rep.verified_visit(shop.id, NOKIA)  # an hour ago (today, unless just after midnight)
    v2 = rep.pending_visit(second.id, visited_at=local_noon(today).isoformat())
    rep.pending_visit(shop.id, visited_at=local_noon(yesterday).isoformat())
    deal = rep.signed_deal(shop, 88_888_88, signed_date=today)
    rep.signed_deal(second, 1_00, signed_date=yesterday)
    p1 = rep.payment(deal, 10_000_00, today)
    rep.payment(deal, 1_00, yesterday)
    rep2.pending_visit(factory.customer(team.rep2).id)

    report_id = save(rep, today)["server"]["id"]
    rep.pull()
    auto = rep.data("daily_report", report_id)["auto"]
    verified_day = visit_time().astimezone(ZONE).date()
    expected_visits = 2 if verified_day == today else 1
    assert auto["counts"] == {"new_customers": 2, "visits": expected_visits, "deals": 1, "deal_amount": 88_888_88,
                              "payments": 1, "payment_amount": 10_000_00}
    assert {c["name"] for c in auto["new_customers"]} == {"上海春意空调有限公司", "上海秋实贸易有限公司"}
    visits = {v["id"]: v for v in auto["visits"]}
    assert visits[v2] == {"id": v2, "customer_id": str(second.id), "customer_name": "上海秋实贸易有限公司",
                          "verification_status": "pending"}
    if expected_visits == 2:
        assert visits[v1]["verification_status"] == "verified"
    (d,) = auto["deals"]
    assert (d["id"], d["customer_name"], d["amount"]) == (deal, "上海春意空调有限公司", 88_888_88)
    assert auto["payments"] == [{"id": p1, "customer_name": "上海春意空调有限公司", "amount": 10_000_00}]

    # yesterday's report has yesterday's records
    y_id = save(rep, yesterday)["server"]["id"]
    rep.pull()
    counts = rep.data("daily_report", y_id)["auto"]["counts"]
    assert (counts["new_customers"], counts["deals"], counts["deal_amount"], counts["payment_amount"]) == \
        (1, 1, 1_00, 1_00)

    # a new record of the day reaches the phone on the next pull
    rep.payment(deal, 2_00, today)
    ops = [o for o in rep.pull() if o["entity"] == "daily_report"]
    assert [o["data"]["auto"]["counts"]["payment_amount"] for o in ops] == [10_000_00 + 2_00]


def test_lists_name_only_customers_the_viewer_may_see(app, factory, team):
    """rep co-follows (write) a customer of the retail rep: the visit counts in rep's report, but
    rep's manager, who may not see that customer, is not told its name."""
    outside = factory.customer(team.other_rep, name="上海外部门客户有限公司", industry="brand")
    Phone(factory, team.other_rep).applied("cofollower.add", {"customer_id": str(outside.id),
                                                              "user_id": str(team.rep.id), "permission": "write"})
    rep, manager = Phone(factory, team.rep), Phone(factory, team.manager)
    rep.pending_visit(outside.id)
    day = visit_time().astimezone(ZONE).date()
    report_id = save(rep, day)["server"]["id"]
    rep.pull()
    mine = rep.data("daily_report", report_id)["auto"]
    assert [v["customer_name"] for v in mine["visits"]] == ["上海外部门客户有限公司"]
    manager.pull()
    theirs = manager.data("daily_report", report_id)["auto"]
    assert theirs["counts"]["visits"] == 1 and theirs["visits"] == []
    body = ok(manager.get(REPORTS, date=day.isoformat()))
    (report,) = [r for r in body["reports"] if r["id"] == report_id]
    assert report["auto"]["visits"] == [] and "上海外部门客户有限公司" not in str(body)


def test_team_reports_and_who_is_missing(app, factory, team):
    today = org_today()
    rep, rep3, manager = Phone(factory, team.rep), Phone(factory, team.rep3), Phone(factory, team.manager)
    save(rep, today, "甲的日报")
    save(rep3, today, "二组日报")
    save(Phone(factory, team.rep2), today - timedelta(days=1), "乙昨天的日报")

    body = ok(manager.get(REPORTS, date=today.isoformat()))
    assert body["date"] == today.isoformat()
    assert [r["summary"] for r in body["reports"]] == ["甲的日报"]
    assert [m["display_name"] for m in body["missing"]] == ["业务员乙"]
    assert body["missing"][0]["department"] == "一组"

    head = ok(Phone(factory, team.head).get(REPORTS, date=today.isoformat()))
    assert sorted(r["summary"] for r in head["reports"]) == ["二组日报", "甲的日报"]
    assert [m["display_name"] for m in head["missing"]] == ["业务员乙"]
    narrowed = ok(Phone(factory, team.head).get(REPORTS, date=today.isoformat(), department_id=str(team.group2.id)))
    assert [r["summary"] for r in narrowed["reports"]] == ["二组日报"] and narrowed["missing"] == []

    # a rep sees only their own, never a colleague's
    own = ok(rep.get(REPORTS, date=today.isoformat()))
    assert [r["summary"] for r in own["reports"]] == ["甲的日报"] and own["missing"] == []
    colleague = ok(Phone(factory, team.rep2).get(REPORTS, date=today.isoformat()))
    assert colleague["reports"] == [] and [m["display_name"] for m in colleague["missing"]] == ["业务员乙"]
    assert ok(Phone(factory, team.other_manager).get(REPORTS, date=today.isoformat()))["reports"] == []
    # yesterday: rep2 wrote, rep did not
    body = ok(manager.get(REPORTS, date=(today - timedelta(days=1)).isoformat()))
    assert [m["display_name"] for m in body["missing"]] == ["业务员甲"]
    # a deactivated rep is not missing
    from server.org.models import User

    set_fields(app, User, team.rep2.id, active=False)
    assert ok(manager.get(REPORTS, date=today.isoformat()))["missing"] == []
    error_of(manager.client.get(REPORTS, query_string={"date": "yesterday"}, headers=manager.headers), 422,
             "validation_failed")


def test_pull_visibility(factory, team):
    today = org_today()
    rep, rep2, rep3 = Phone(factory, team.rep), Phone(factory, team.rep2), Phone(factory, team.rep3)
    a = save(rep, today)["server"]["id"]
    b = save(rep2, today)["server"]["id"]
    c = save(rep3, today)["server"]["id"]
    rep.pull()
    assert {k[1] for k in rep.state if k[0] == "daily_report"} == {a}
    manager = Phone(factory, team.manager)
    manager.pull()
    assert {k[1] for k in manager.state if k[0] == "daily_report"} == {a, b}
    head = Phone(factory, team.head)
    head.pull()
    assert {k[1] for k in head.state if k[0] == "daily_report"} == {a, b, c}
    other = Phone(factory, team.other_manager)
    other.pull()
    assert not [k for k in other.state if k[0] == "daily_report"]
    rep2.pull()
    assert {k[1] for k in rep2.state if k[0] == "daily_report"} == {b}
    # an update travels to the author and the managers above, not to the colleague
    save(rep, today, "改过的日报")
    assert [o for o in rep2.pull() if o["entity"] == "daily_report"] == []
    assert [o["data"]["summary"] for o in rep.pull() if o["entity"] == "daily_report"] == ["改过的日报"]
    assert [o["data"]["summary"] for o in manager.pull() if o["entity"] == "daily_report"] == ["改过的日报"]


def test_a_rep_moved_to_another_group_leaves_the_old_managers_phone_and_reaches_the_new_ones(factory, team):
    """R-O4 for people: a manager's phone holds the targets and daily reports of their subtree
    only. After an admin moves a rep to the other group, the next ordinary (cookie) pull deletes
    the rep's records from the old manager's phone and brings them whole to the new manager's —
    records older than that manager's last pull included."""
    rep = Phone(factory, team.rep)
    today = org_today()
    save(rep, today, "拜访了两家客户，确认了报价")
    manager = Phone(factory, team.manager)
    target = manager.target(user_id=str(team.rep.id))
    manager.applied("target.save", target)
    old, new = Phone(factory, team.manager), Phone(factory, team.manager2)
    old.pull()
    new.pull()
    reports_old = {k[1] for k in old.state if k[0] == "daily_report"}
    assert old.has("target", target["id"]) and reports_old, "the rep's records are on the old manager's phone"
    assert not new.has("target", target["id"])
    assert not any(k[0] == "daily_report" for k in new.state)

    admin_headers = factory.headers(team.admin)
    ok(old.client.patch(f"/api/v1/admin/users/{team.rep.id}", json={"department_id": str(team.group2.id)},
                        headers=admin_headers))

    gone = old.pull()
    assert {("del", "target", target["id"])} | {("del", "daily_report", i) for i in reports_old} <= \
        {(op["op"], op["entity"], op["id"]) for op in gone}
    assert not old.has("target", target["id"])
    assert not any(k[0] == "daily_report" for k in old.state)
    came = new.pull()
    assert {("put", "target", target["id"])} | {("put", "daily_report", i) for i in reports_old} <= \
        {(op["op"], op["entity"], op["id"]) for op in came}
    assert new.data("target", target["id"])["user_id"] == str(team.rep.id)
    # the rep keeps their own, and the line director above both groups keeps seeing them
    assert rep.pull() is not None and rep.has("target", target["id"])
    head = Phone(factory, team.head)
    head.pull()
    assert head.has("target", target["id"]) and all(head.has("daily_report", i) for i in reports_old)
