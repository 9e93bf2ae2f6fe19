"""Targets' actuals (SPEC R-K1) are computed from the records of the period, exactly, and reach the
phones on the next pull after a record changes them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from target_helpers import NIKON, NOKIA, Phone, local_noon, make_team, ok, org_today, set_fields

from server.customers.models import Customer


@pytest.fixture
def team(factory):
    return make_team(factory)


def target_data(phone: Phone, target_id: str) -> dict:
    phone.pull()
    return phone.data("target", target_id)


def test_actuals_match_the_records_of_the_period(app, factory, team):
    today = org_today()
    start, end = today - timedelta(days=10), today + timedelta(days=5)
    rep, rep2, manager = Phone(factory, team.rep), Phone(factory, team.rep2), Phone(factory, team.manager)
    args = manager.target(user_id=str(team.rep.id), start_date=start.isoformat(), end_date=end.isoformat())
    manager.applied("target.save", args)

    # customers: three created by the rep in the period, one before it, one voided, one by rep2
    shop = factory.customer(team.rep)
    second = factory.customer(team.rep)
    factory.customer(team.rep)
    old = factory.customer(team.rep)
    set_fields(app, Customer, old.id, created_at=local_noon(start - timedelta(days=1)))
    voided = factory.customer(team.rep)
    set_fields(app, Customer, voided.id, voided_at=local_noon(today))
    factory.customer(team.rep2)
    # the period's first day counts from local midnight (org time zone), its last day to local midnight
    edge = factory.customer(team.rep)
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    set_fields(app, Customer, edge.id, created_at=datetime.combine(start, time(0, 0, 30), tzinfo=shanghai))
    after_end = factory.customer(team.rep)
    set_fields(app, Customer, after_end.id,
               created_at=datetime.combine(end + timedelta(days=1), time(0, 0, 30), tzinfo=shanghai))

    # visits: two verified, one whose photo never came (pending), one outside the period, one by rep2
    rep.verified_visit(shop.id, NOKIA)
    rep.verified_visit(second.id, NIKON)
    rep.pending_visit(shop.id)
    rep.pending_visit(shop.id, visited_at=local_noon(start - timedelta(days=3)).isoformat())
    rep2_customer = factory.customer(team.rep2)
    rep2.pending_visit(rep2_customer.id)

    # deals: two signed in the period, one before it, one draft, one of rep2
    in_one = rep.signed_deal(shop, 123_456_78)
    rep.signed_deal(second, 1_00, signed_date=start)
    early = rep.signed_deal(shop, 900_000_00, signed_date=start - timedelta(days=1))
    rep.applied("deal.create", {"id": __import__("helpers").new_id(), "customer_id": str(shop.id),
                                "contract_no": "HT-DRAFT-1", "amount": 777_00})
    rep2.signed_deal(rep2_customer, 50_000_00)

    # payments received in the period on the rep's deals (also on the deal signed before it), one
    # before the period, one of rep2's deal
    rep.payment(in_one, 10_000_01, today)
    rep.payment(early, 5_000_00, start)
    rep.payment(early, 7_000_00, start - timedelta(days=1))

    data = target_data(rep, args["id"])
    assert data["actuals"] == {"new_customers": 4, "visits": 3, "verified_visits": 2,
                               "deal_amount": 123_456_78 + 1_00, "payment_amount": 10_000_01 + 5_000_00}
    # the same numbers from the service others call, for several users at once
    from server.targets.service import actuals

    with app.app_context():
        numbers = actuals([team.rep.id, team.rep2.id, team.rep3.id], start, end)
    assert numbers[team.rep.id] == data["actuals"]
    assert numbers[team.rep2.id] == {"new_customers": 2, "visits": 1, "verified_visits": 0,
                                     "deal_amount": 50_000_00, "payment_amount": 0}
    assert numbers[team.rep3.id] == {"new_customers": 0, "visits": 0, "verified_visits": 0, "deal_amount": 0,
                                     "payment_amount": 0}
    # and online, for the manager
    (item,) = [i for i in ok(manager.get("/api/v1/targets"))["items"] if i["id"] == args["id"]]
    assert item["actuals"] == data["actuals"]


def test_actuals_reach_the_phone_on_the_next_pull(app, factory, team):
    today = org_today()
    rep, manager = Phone(factory, team.rep), Phone(factory, team.manager)
    args = manager.target(user_id=str(team.rep.id))
    manager.applied("target.save", args)
    shop = factory.customer(team.rep)
    rep.pull()
    manager.pull()
    before = rep.data("target", args["id"])
    assert before["actuals"]["new_customers"] == 1

    # nothing changed: nothing is sent
    assert [o for o in rep.pull() if o["entity"] == "target"] == []

    # a visit, a signed deal and a payment, each shows on the next pull of the rep and the manager
    rep.pending_visit(shop.id)
    (op,) = [o for o in rep.pull() if o["entity"] == "target"]
    assert op["data"]["actuals"]["visits"] == 1 and op["version"] > rep.state[("target", args["id"])]["version"] - 1
    deal = rep.signed_deal(shop, 300_00)
    assert [o["data"]["actuals"]["deal_amount"] for o in rep.pull() if o["entity"] == "target"] == [300_00]
    rep.payment(deal, 120_00, today)
    assert [o["data"]["actuals"]["payment_amount"] for o in rep.pull() if o["entity"] == "target"] == [120_00]
    ops = [o for o in manager.pull() if o["entity"] == "target"]
    assert [o["data"]["actuals"] for o in ops] == [{"new_customers": 1, "visits": 1, "verified_visits": 0,
                                                    "deal_amount": 300_00, "payment_amount": 120_00}]

    # a record outside the period moves nothing
    rep.pending_visit(shop.id, visited_at=local_noon(today - timedelta(days=60)).isoformat())
    assert [o for o in rep.pull() if o["entity"] == "target"] == []

    # voiding a customer takes it out of the count
    set_fields(app, Customer, shop.id, voided_at=local_noon(today))
    assert [o["data"]["actuals"]["new_customers"] for o in rep.pull() if o["entity"] == "target"] == [0]


def test_a_visit_verified_later_moves_into_the_verified_count(app, factory, team):
    from target_helpers import shop_photo

    rep, manager = Phone(factory, team.rep), Phone(factory, team.manager)
    args = manager.target(user_id=str(team.rep.id))
    manager.applied("target.save", args)
    shop = factory.customer(team.rep)
    photo = shop_photo(NOKIA)
    visit_id, status = rep.visit(shop.id, [photo])  # pushed before its photo is uploaded
    assert status == "pending"
    assert target_data(rep, args["id"])["actuals"]["verified_visits"] == 0
    rep.upload(photo)  # the photo arrives; verification runs again
    ops = [o for o in rep.pull() if o["entity"] == "target"]
    assert [o["data"]["actuals"]["verified_visits"] for o in ops] == [1]
    assert visit_id
