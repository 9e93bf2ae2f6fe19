"""Helpers of the account tests (imported as `account_helpers`): a phone that pushes and pulls."""
from __future__ import annotations

import uuid

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


def new_id() -> str:
    from server.common.db import uuid7

    return str(uuid7())


class Phone:
    """One install of the app for one user: its client id, its outbox numbering, its cookie."""

    def __init__(self, client, factory, user):
        self.client, self.user = client, user
        self.headers = factory.headers(user)
        self.client_id = str(uuid.uuid4())
        self.next_id = 1
        self.cookie = None

    def push(self, name: str, args: dict, client_time: str = "2026-11-23T09:15:00+08:00") -> dict:
        """Push one mutation; its result (status, server or error)."""
        r = self.client.post(PUSH, json={"client_id": self.client_id, "schema_version": 1, "mutations": [
            {"id": self.next_id, "name": name, "args": args, "client_time": client_time}]}, headers=self.headers)
        assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[:800])
        self.next_id += 1
        (result,) = r.json["results"]
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
        """Everything until has_more is false; the patch ops."""
        ops = []
        while True:
            r = self.client.post(PULL, json={"client_id": self.client_id, "schema_version": 1,
                                             "cookie": self.cookie, "limit": 2000}, headers=self.headers)
            assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[:800])
            self.cookie = r.json["cookie"]
            ops.extend(r.json["patch"])
            if not r.json["has_more"]:
                return ops


def ops_of(ops: list[dict], entity: str, op: str = "put") -> dict[str, dict]:
    return {o["id"]: o for o in ops if o["entity"] == entity and o["op"] == op}
