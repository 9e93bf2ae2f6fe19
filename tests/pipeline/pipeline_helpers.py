"""Helpers of the pipeline tests (imported as `pipeline_helpers`): a phone that pushes and pulls,
and argument builders for opportunities, deals and payments."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
SUMMARY = "/api/v1/pipeline/summary"


def new_id() -> str:
    from server.common.db import uuid7

    return str(uuid7())


class Phone:
    """One install of the app for one user."""

    def __init__(self, factory, user, client=None):
        self.factory, self.user = factory, user
        self.client = client or factory.app.test_client()
        self.headers = factory.headers(user)
        self.client_id = str(uuid.uuid4())
        self.next_id = 1
        self.cookie = None
        self.state: dict[tuple[str, str], dict] = {}

    def push_many(self, mutations: list[tuple[str, dict]]) -> list[dict]:
        batch = []
        for name, args in mutations:
            batch.append({"id": self.next_id, "name": name, "args": args,
                          "client_time": "2026-11-23T09:15:00+08:00"})
            self.next_id += 1
        r = self.client.post(PUSH, json={"client_id": self.client_id, "schema_version": 1, "mutations": batch},
                             headers=self.headers)
        assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[:800])
        return r.json["results"]

    def push(self, name: str, args: dict) -> dict:
        (result,) = self.push_many([(name, args)])
        return result

    def applied(self, name: str, args: dict) -> dict:
        result = self.push(name, args)
        assert result["status"] == "applied", result
        return result

    def rejected(self, name: str, args: dict, code: str) -> dict:
        result = self.push(name, args)
        assert result["status"] == "rejected", result
        assert result["error"]["code"] == code, result
        return result["error"]

    def pull(self) -> list[dict]:
        ops = []
        while True:
            r = self.client.post(PULL, json={"client_id": self.client_id, "schema_version": 1,
                                             "cookie": self.cookie, "limit": 2000}, headers=self.headers)
            assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[:800])
            if r.json["reset"]:
                self.state = {}
            for op in r.json["patch"]:
                key = (op["entity"], op["id"])
                if op["op"] == "put":
                    self.state[key] = op["data"]
                else:
                    self.state.pop(key, None)
            self.cookie = r.json["cookie"]
            ops.extend(r.json["patch"])
            if not r.json["has_more"]:
                return ops

    def data(self, entity: str, entity_id) -> dict:
        return self.state[(entity, str(entity_id))]

    def has(self, entity: str, entity_id) -> bool:
        return (entity, str(entity_id)) in self.state

    def summary(self, **query) -> dict:
        r = self.client.get(SUMMARY, query_string=query, headers=self.headers)
        assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[:800])
        return r.json


def ops_of(ops: list[dict], entity: str, op: str = "put") -> dict[str, dict]:
    return {o["id"]: o for o in ops if o["entity"] == entity and o["op"] == op}


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
