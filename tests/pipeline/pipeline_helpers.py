"""Helpers of the pipeline tests (imported as `pipeline_helpers`): a phone that pushes and pulls,
and argument builders for opportunities, deals and payments."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

from helpers import PULL, PUSH, new_id, ops_of  # noqa: F401
from helpers import Phone as SyncPhone

SUMMARY = "/api/v1/pipeline/summary"


class Phone(SyncPhone):
    """One install of the app for one user (its own test client unless given one)."""

    def __init__(self, factory, user, client=None):
        super().__init__(client, factory, user)

    def summary(self, **query) -> dict:
        r = self.client.get(SUMMARY, query_string=query, headers=self.headers)
        assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[:800])
        return r.json


BANT = {"need": "上云迁移，核心交易系统", "budget": "年度预算300万", "timeline": "Q3 完成选型"}


def opportunity_args(customer, **overrides) -> dict:
    args = {"id": new_id(), "customer_id": str(customer.id), "name": "混合云迁移项目", "amount": 120_000_00,
            "expected_close_date": (date.today() + timedelta(days=90)).isoformat(), **BANT}
    args.update(overrides)
    return {k: v for k, v in args.items() if v is not ...}


def deal_args(customer, contract_no="HT-2026-0001", amount=100_000_00, **overrides) -> dict:
    args = {"id": new_id(), "customer_id": str(customer.id), "contract_no": contract_no, "amount": amount}
    args.update(overrides)
    return args


def payment_args(deal_id, amount, received_date: str | None = None, **overrides) -> dict:
    args = {"id": new_id(), "deal_id": str(deal_id), "amount": amount,
            "received_date": received_date or date.today().isoformat()}
    args.update(overrides)
    return args


def signed_deal(phone: Phone, customer, amount: int, contract_no: str | None = None, signed_date: str | None = None,
                **overrides) -> str:
    """A deal created and signed through sync; its id."""
    args = deal_args(customer, contract_no or f"HT-{uuid.uuid4().hex[:10]}", amount, **overrides)
    phone.applied("deal.create", args)
    sign = {"id": args["id"]}
    if signed_date:
        sign["signed_date"] = signed_date
    phone.applied("deal.sign", sign)
    return args["id"]
