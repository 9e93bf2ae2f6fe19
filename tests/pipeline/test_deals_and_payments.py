"""Deals (R-S3), payments (R-S4), receivables (R-S5) and what they change on the customer."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from pipeline_fixtures import customer, phones, team  # noqa: F401 — fixtures
from pipeline_helpers import Phone, deal_args, opportunity_args, ops_of, payment_args, signed_deal
from sqlalchemy import func, select

from server.common.audit import AuditEntry
from server.customers.models import Customer, CustomerStatus
from server.pipeline.models import Deal, DealStatus, Opportunity, Payment, Stage


def _customer(db_ctx, customer_id) -> Customer:
    with db_ctx() as session:
        row = session.get(Customer, customer_id)
        session.refresh(row)
        return row


# ---- contract numbers ------------------------------------------------------------------------------

def test_contract_numbers_are_unique_across_the_system(factory, customer, phones, db_ctx, team):
    owner = phones("owner")
    owner.applied("deal.create", deal_args(customer, "HT-2026-0001"))
    for same in ("HT-2026-0001", "ht-2026-0001", " HT-2026-0001 ", "ＨＴ－２０２６－０００１"):
        error = owner.rejected("deal.create", deal_args(customer, same), "contract_no_taken")
        assert error["details"]["contract_no"] == same.strip()
    # another rep's customer cannot reuse it either
    elsewhere = factory.customer(team["outsider"], name="杭州远山物流有限公司")
    phones("outsider").rejected("deal.create", deal_args(elsewhere, "HT-2026-0001"), "contract_no_taken")
    phones("outsider").applied("deal.create", deal_args(elsewhere, "HT-2026-0002"))
    with db_ctx() as session:
        assert session.scalar(select(func.count()).select_from(Deal)) == 2


def test_a_deal_is_created_as_a_draft_and_counts_nowhere_until_signed(customer, phones, db_ctx):
    owner = phones("owner")
    args = deal_args(customer, "HT-D-1", 50_000_00)
    result = owner.applied("deal.create", args)
    assert result["server"]["status"] == "draft"
    row = _customer(db_ctx, customer.id)
    assert (row.deal_total, row.payment_total, row.receivables, row.status) == (0, 0, 0, CustomerStatus.potential)
    owner.rejected("payment.create", payment_args(args["id"], 1_00), "deal_not_signed")


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None, 10 ** 16])
def test_deal_amounts_are_positive_integer_fen(customer, phones, amount):
    error = phones("owner").rejected("deal.create", deal_args(customer, f"HT-BAD-{amount}", amount),
                                     "validation_failed")
    assert "amount" in error["details"]["fields"]


def test_concurrent_deals_with_the_same_contract_number_one_applies_one_is_rejected(fresh_app, factory):
    app = fresh_app()
    factory = type(factory)(app)
    department = factory.department("合同并发组")
    owner, writer = factory.user("rep", department=department), factory.user("rep", department=department)
    customer = factory.customer(owner, name="苏州并发合同有限公司")
    first, second = Phone(factory, owner), Phone(factory, writer)
    first.applied("cofollower.add", {"customer_id": str(customer.id), "user_id": str(writer.id),
                                     "permission": "write"})
    other = factory.customer(owner, name="无锡并发合同有限公司")
    first.applied("cofollower.add", {"customer_id": str(other.id), "user_id": str(writer.id), "permission": "write"})
    for attempt in range(3):
        number = f"HT-RACE-{attempt}"
        args = [deal_args(customer, number, 10_000_00), deal_args(other if attempt % 2 else customer, number, 7_00)]
        barrier = threading.Barrier(2)

        def send(pair):
            phone, deal = pair
            barrier.wait(timeout=30)
            return phone.push("deal.create", deal)

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(send, [(first, args[0]), (second, args[1])]))
        statuses = sorted(r["status"] for r in results)
        assert statuses == ["applied", "rejected"], (attempt, results)
        rejected = next(r for r in results if r["status"] == "rejected")
        assert rejected["error"]["code"] == "contract_no_taken"
        with app.app_context():
            from server.extensions import db

            assert db.session.scalar(select(func.count()).select_from(Deal).where(
                Deal.contract_no == number)) == 1
            db.session.remove()


def test_concurrent_payments_never_exceed_the_contract(fresh_app, factory):
    """Two phones record payments on one contract at once, each within what is left, together
    beyond it: exactly one is applied, the other is `overpayment`; the totals stay exact."""
    app = fresh_app()
    factory = type(factory)(app)
    department = factory.department("回款并发组")
    owner, writer = factory.user("rep", department=department), factory.user("rep", department=department)
    customer = factory.customer(owner, name="南京并发回款有限公司")
    first, second = Phone(factory, owner), Phone(factory, writer)
    first.applied("cofollower.add", {"customer_id": str(customer.id), "user_id": str(writer.id),
                                     "permission": "write"})
    for attempt in range(3):
        deal_id = signed_deal(first, customer, 1_000_00)
        barrier = threading.Barrier(2)

        def send(phone):
            barrier.wait(timeout=30)
            return phone.push("payment.create", payment_args(deal_id, 600_00))

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(send, [first, second]))
        assert sorted(r["status"] for r in results) == ["applied", "rejected"], (attempt, results)
        rejected = next(r for r in results if r["status"] == "rejected")
        assert rejected["error"]["code"] == "overpayment"
        assert rejected["error"]["details"]["paid"] == 600_00 and rejected["error"]["details"]["remaining"] == 400_00
    with app.app_context():
        from server.extensions import db

        row = db.session.get(Customer, customer.id)
        assert (row.deal_total, row.payment_total, row.receivables) == (3_000_00, 1_800_00, 1_200_00)
        assert db.session.scalar(select(func.sum(Payment.amount)).where(Payment.customer_id == customer.id)) \
            == 1_800_00
        db.session.remove()


# ---- signing ------------------------------------------------------------------------------------------

def test_signing_makes_the_customer_signed_adds_the_deal_total_and_wins_the_opportunity(customer, phones, db_ctx):
    owner = phones("owner")
    opportunity = opportunity_args(customer, amount=120_000_00)
    owner.applied("opportunity.create", opportunity)
    args = deal_args(customer, "HT-SIGN-1", 100_000_00, opportunity_id=opportunity["id"])
    owner.applied("deal.create", args)
    with db_ctx() as session:
        row = session.get(Customer, customer.id)
        row.last_progress_at = row.last_progress_at - timedelta(days=60)
        before_progress = row.last_progress_at
        session.commit()
    result = owner.applied("deal.sign", {"id": args["id"], "signed_date": "2026-01-15"})
    assert result["server"]["status"] == "signed" and result["server"]["signed_date"] == "2026-01-15"
    row = _customer(db_ctx, customer.id)
    assert row.status == CustomerStatus.signed
    assert (row.deal_total, row.payment_total, row.receivables) == (100_000_00, 0, 100_000_00)
    assert row.last_progress_at > before_progress  # a deal is progress (R-P5)
    with db_ctx() as session:
        deal = session.get(Deal, uuid.UUID(args["id"]))
        assert deal.status == DealStatus.signed and deal.signed_date == date(2026, 1, 15)
        assert deal.signed_by_id == owner.user.id and deal.signed_at is not None
        assert session.get(Opportunity, uuid.UUID(opportunity["id"])).stage == Stage.won
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id.in_(
            [args["id"], opportunity["id"], str(customer.id)]))))
        assert {"deal.create", "deal.sign", "opportunity.set_stage", "customer.deal_signed"} <= actions
    # signing again (another phone, a retry with a new mutation id) does not count it twice
    phones("writer").applied("deal.sign", {"id": args["id"]})
    assert _customer(db_ctx, customer.id).deal_total == 100_000_00


def test_a_future_signed_date_is_refused(customer, phones):
    owner = phones("owner")
    args = deal_args(customer, "HT-FUT-1")
    owner.applied("deal.create", args)
    error = owner.rejected("deal.sign", {"id": args["id"], "signed_date": (date.today() + timedelta(days=3)).isoformat()},
                           "validation_failed")
    assert "signed_date" in error["details"]["fields"]


def test_a_deal_for_another_customers_opportunity_is_refused(factory, customer, phones, team):
    owner = phones("owner")
    second = factory.customer(team["owner"], name="上海第二客户有限公司")
    opportunity = opportunity_args(second)
    owner.applied("opportunity.create", opportunity)
    error = owner.rejected("deal.create", deal_args(customer, "HT-X-1", opportunity_id=opportunity["id"]),
                           "validation_failed")
    assert "opportunity_id" in error["details"]["fields"]


# ---- payments and receivables --------------------------------------------------------------------------

def test_receivables_after_partial_payments_and_overpayment_refused(customer, phones, db_ctx):
    owner, writer = phones("owner"), phones("writer")
    deal_id = signed_deal(owner, customer, 100_000_00)
    owner.applied("payment.create", payment_args(deal_id, 30_000_00))
    row = _customer(db_ctx, customer.id)
    assert (row.deal_total, row.payment_total, row.receivables) == (100_000_00, 30_000_00, 70_000_00)
    result = writer.applied("payment.create", payment_args(deal_id, 45_000_01))
    assert result["server"]["paid"] == 75_000_01 and result["server"]["remaining"] == 24_999_99
    assert _customer(db_ctx, customer.id).receivables == 24_999_99

    error = owner.rejected("payment.create", payment_args(deal_id, 25_000_00), "overpayment")
    assert error["details"]["contract_amount"] == 100_000_00
    assert error["details"]["paid"] == 75_000_01 and error["details"]["remaining"] == 24_999_99
    assert _customer(db_ctx, customer.id).receivables == 24_999_99  # nothing of the refused one

    owner.applied("payment.create", payment_args(deal_id, 24_999_99))
    row = _customer(db_ctx, customer.id)
    assert (row.payment_total, row.receivables) == (100_000_00, 0)
    error = owner.rejected("payment.create", payment_args(deal_id, 1), "overpayment")
    assert error["details"]["remaining"] == 0
    with db_ctx() as session:
        assert session.scalar(select(func.sum(Payment.amount)).where(Payment.deal_id == uuid.UUID(deal_id))) \
            == 100_000_00

    # the synced customer, deal and payments agree
    ops = owner.pull()
    data = ops_of(ops, "customer")[str(customer.id)]["data"]
    assert (data["deal_total"], data["payment_total"], data["receivables"]) == (100_000_00, 100_000_00, 0)
    deal = ops_of(ops, "deal")[deal_id]["data"]
    assert (deal["amount"], deal["paid_total"], deal["outstanding"], deal["status"]) == (100_000_00, 100_000_00, 0,
                                                                                       "signed")
    assert sorted(p["data"]["amount"] for p in ops_of(ops, "payment").values()) == [24_999_99, 30_000_00, 45_000_01]


def test_receivables_add_up_over_several_contracts(customer, phones, db_ctx):
    owner = phones("owner")
    first = signed_deal(owner, customer, 10_000_00)
    second = signed_deal(owner, customer, 5_000_00)
    owner.applied("payment.create", payment_args(first, 10_000_00))
    owner.applied("payment.create", payment_args(second, 1_000_00))
    # an overpayment on one contract is not saved by room on another
    owner.rejected("payment.create", payment_args(first, 1), "overpayment")
    assert _customer(db_ctx, customer.id).receivables == 4_000_00


def test_payment_amounts_and_dates_are_checked(customer, phones):
    owner = phones("owner")
    deal_id = signed_deal(owner, customer, 10_000_00)
    for amount in (0, -1, 1.5, "5", None):
        owner.rejected("payment.create", payment_args(deal_id, amount), "validation_failed")
    future = (date.today() + timedelta(days=5)).isoformat()
    owner.rejected("payment.create", payment_args(deal_id, 100, received_date=future), "validation_failed")
    owner.rejected("payment.create", payment_args(uuid.uuid4(), 100), "not_found")


def test_a_payment_is_progress(customer, phones, db_ctx):
    owner = phones("owner")
    deal_id = signed_deal(owner, customer, 10_000_00)
    with db_ctx() as session:
        row = session.get(Customer, customer.id)
        row.last_progress_at = old = row.last_progress_at - timedelta(days=50)
        session.commit()
    owner.applied("payment.create", payment_args(deal_id, 100))
    assert _customer(db_ctx, customer.id).last_progress_at > old


# ---- receivables exempt a customer from reclaim (R-P5) ---------------------------------------------------

def test_a_customer_with_receivables_survives_a_reclaim_run_200_days_later(factory, customer, phones, db_ctx, team):
    from server.common.db import utcnow
    from server.pools.service import run_reclaim

    owner = phones("owner")
    deal_id = signed_deal(owner, customer, 100_000_00)
    owner.applied("payment.create", payment_args(deal_id, 60_000_00))
    quiet = factory.customer(team["owner"], name="上海无应收客户有限公司")
    paid_up = factory.customer(team["owner"], name="上海已结清客户有限公司")
    paid_deal = signed_deal(owner, paid_up, 5_000_00)
    owner.applied("payment.create", payment_args(paid_deal, 5_000_00))

    with db_ctx() as session:
        report = run_reclaim(as_of=utcnow() + timedelta(days=200))
        session.commit()
    reclaimed = {entry["customer_id"] for entry in report.reclaimed}
    assert str(customer.id) not in reclaimed
    assert {str(quiet.id), str(paid_up.id)} <= reclaimed
    row = _customer(db_ctx, customer.id)
    assert row.owner_id == team["owner"].id and row.pool is None and row.receivables == 40_000_00
    assert _customer(db_ctx, paid_up.id).owner_id is None


def test_online_deal_and_payment_endpoints(client, factory, customer, team, db_ctx):
    headers = factory.headers(team["owner"])
    r = client.post("/api/v1/pipeline/deals", json={"customer_id": str(customer.id), "contract_no": "HT-API-1",
                                                    "amount": 2_000_00}, headers=headers)
    assert r.status_code == 201, r.json
    deal_id = r.json["id"]
    assert r.json["status"] == "draft"
    r = client.post("/api/v1/pipeline/deals", json={"customer_id": str(customer.id), "contract_no": "ht-api-1",
                                                    "amount": 2_000_00}, headers=headers)
    assert r.status_code == 409 and r.json["error"]["code"] == "contract_no_taken"
    r = client.post(f"/api/v1/pipeline/deals/{deal_id}/sign", json={}, headers=headers)
    assert r.status_code == 200 and r.json["status"] == "signed" and r.json["outstanding"] == 2_000_00
    r = client.post("/api/v1/pipeline/payments", json={"deal_id": deal_id, "amount": 2_000_01,
                                                       "received_date": date.today().isoformat()}, headers=headers)
    assert r.status_code == 409 and r.json["error"]["code"] == "overpayment"
    assert r.json["error"]["details"]["remaining"] == 2_000_00
    r = client.post("/api/v1/pipeline/payments", json={"deal_id": deal_id, "amount": 500,
                                                       "received_date": date.today().isoformat()}, headers=headers)
    assert r.status_code == 201 and r.json["amount"] == 500
    r = client.get("/api/v1/pipeline/payments", query_string={"deal_id": deal_id}, headers=headers)
    assert [p["amount"] for p in r.json] == [500]
    assert _customer(db_ctx, customer.id).receivables == 2_000_00 - 500
