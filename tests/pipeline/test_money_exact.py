"""Money stays exact integer fen from the phone to the database and back (SPEC: never floats)."""
from __future__ import annotations

import json
import uuid

import pytest
from pipeline_fixtures import customer, phones, team  # noqa: F401 — fixtures
from pipeline_helpers import SUMMARY, deal_args, opportunity_args, ops_of, payment_args, signed_deal

from server.customers.models import Customer
from server.pipeline.models import Deal, Opportunity

BIG = 99_999_999_999  # 999,999,999.99 CNY: above 2**31, exact in JSON and in BigInteger


@pytest.mark.parametrize("amount", [1.5, 1.0, "1", "1.50", True, -1, 10 ** 15 + 1])
def test_opportunity_amounts_refuse_anything_but_integer_fen(customer, phones, db_ctx, amount):
    args = opportunity_args(customer, amount=amount)
    error = phones("owner").rejected("opportunity.create", args, "validation_failed")
    assert "amount" in error["details"]["fields"]
    with db_ctx() as session:
        assert session.get(Opportunity, uuid.UUID(args["id"])) is None


@pytest.mark.parametrize("field,value", [
    ("unit_price", 12.5), ("unit_price", "100"), ("quantity", 1.5), ("quantity", 0),
])
def test_product_lines_take_integer_quantities_and_prices(customer, phones, field, value):
    line = {"product": "CDN 流量包", "quantity": 2, "unit_price": 100, field: value}
    error = phones("owner").rejected("opportunity.create", opportunity_args(customer, products=[line]),
                                     "validation_failed")
    assert "products" in error["details"]["fields"]


@pytest.mark.parametrize("field", ["contract_forecast", "payment_forecast", "revenue_forecast"])
def test_forecasts_are_fen_too(customer, phones, db_ctx, field):
    owner = phones("owner")
    owner.rejected("opportunity.create", opportunity_args(customer, **{field: 0.5}), "validation_failed")
    args = opportunity_args(customer, **{field: BIG, f"{field}_date": "2027-03-31"})
    owner.applied("opportunity.create", args)
    data = ops_of(owner.pull(), "opportunity")[args["id"]]["data"]
    assert data[field] == BIG and isinstance(data[field], int) and data[f"{field}_date"] == "2027-03-31"


def test_one_fen_and_large_amounts_survive_create_pull_and_summary(customer, phones, db_ctx, client):
    owner = phones("owner")
    tiny = opportunity_args(customer, amount=1, name="一分钱")
    huge = opportunity_args(customer, amount=BIG, name="大单",
                            products=[{"product": "整体解决方案", "quantity": 1, "unit_price": BIG}])
    odd = opportunity_args(customer, amount=7, name="七分", products=[{"product": "x", "quantity": 1}])
    owner.applied("opportunity.create", tiny)
    owner.applied("opportunity.create", huge)
    owner.applied("opportunity.create", odd)
    owner.applied("opportunity.set_stage", {"id": huge["id"], "stage": "negotiation"})
    owner.applied("opportunity.set_stage", {"id": odd["id"], "stage": "solution"})
    with db_ctx() as session:
        assert session.get(Opportunity, uuid.UUID(tiny["id"])).amount == 1
        assert session.get(Opportunity, uuid.UUID(huge["id"])).amount == BIG

    pulled = ops_of(owner.pull(), "opportunity")
    assert pulled[tiny["id"]]["data"]["amount"] == 1
    assert pulled[tiny["id"]]["data"]["weighted_amount"] == 0  # 0.2 fen
    assert pulled[huge["id"]]["data"]["amount"] == BIG
    assert pulled[huge["id"]]["data"]["weighted_amount"] == 59_999_999_999  # × 60 % = …999.4
    assert pulled[huge["id"]]["data"]["products"][0]["line_total"] == BIG
    assert pulled[odd["id"]]["data"]["weighted_amount"] == 3  # 7 × 40 % = 2.8

    summary = owner.summary()
    assert summary["currency"] == "CNY" and summary["unit"] == "fen"
    stages = {s["stage"]: s for s in summary["stages"]}
    assert [s["stage"] for s in summary["stages"]] == ["qualify", "solution", "negotiation", "contracting",
                                                       "won", "lost"]
    assert stages["qualify"] == {"stage": "qualify", "win_rate": 20, "count": 1, "amount": 1, "weighted_amount": 0}
    assert stages["solution"] == {"stage": "solution", "win_rate": 40, "count": 1, "amount": 7, "weighted_amount": 3}
    assert stages["negotiation"] == {"stage": "negotiation", "win_rate": 60, "count": 1, "amount": BIG,
                                     "weighted_amount": 59_999_999_999}
    assert summary["open"] == {"count": 3, "amount": BIG + 8, "weighted_amount": 59_999_999_999 + 3}
    assert summary["total"] == summary["open"]
    # the summary of one customer; the raw JSON has integers only (no 1.0, no exponent)
    raw = client.get(SUMMARY, query_string={"customer_id": str(customer.id)}, headers=owner.headers)
    parsed = json.loads(raw.get_data(as_text=True), parse_float=_no_float)
    assert parsed["open"]["amount"] == BIG + 8 and parsed["stages"] == summary["stages"]


def _no_float(text: str):
    raise AssertionError(f"a float in the answer: {text}")


def test_contract_and_payment_amounts_are_exact_through_sync(customer, phones, db_ctx):
    owner = phones("owner")
    deal_id = signed_deal(owner, customer, BIG)
    owner.applied("payment.create", payment_args(deal_id, 1))
    owner.applied("payment.create", payment_args(deal_id, BIG - 2))
    error = owner.rejected("payment.create", payment_args(deal_id, 2), "overpayment")
    assert error["details"] == {**error["details"], "contract_amount": BIG, "paid": BIG - 1, "remaining": 1}
    with db_ctx() as session:
        row = session.get(Customer, customer.id)
        assert (row.deal_total, row.payment_total, row.receivables) == (BIG, BIG - 1, 1)
        assert session.get(Deal, uuid.UUID(deal_id)).paid_total == BIG - 1
    ops = owner.pull()
    customer_data = ops_of(ops, "customer")[str(customer.id)]["data"]
    assert (customer_data["deal_total"], customer_data["payment_total"], customer_data["receivables"]) == \
        (BIG, BIG - 1, 1)
    assert ops_of(ops, "deal")[deal_id]["data"]["outstanding"] == 1
    assert sorted(p["data"]["amount"] for p in ops_of(ops, "payment").values()) == [1, BIG - 2]


def test_deal_totals_beyond_32_bits_add_up(customer, phones, db_ctx):
    owner = phones("owner")
    for _ in range(3):
        signed_deal(owner, customer, BIG)
    with db_ctx() as session:
        assert session.get(Customer, customer.id).deal_total == 3 * BIG
    assert ops_of(owner.pull(), "customer")[str(customer.id)]["data"]["receivables"] == 3 * BIG


def test_a_float_in_a_deal_or_payment_is_refused_not_rounded(customer, phones, db_ctx):
    owner = phones("owner")
    owner.rejected("deal.create", deal_args(customer, "HT-F-1", 100.0), "validation_failed")
    deal_id = signed_deal(owner, customer, 100)
    owner.rejected("payment.create", payment_args(deal_id, 99.99), "validation_failed")
    with db_ctx() as session:
        assert session.get(Customer, customer.id).payment_total == 0
