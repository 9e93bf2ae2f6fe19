"""Helpers shared by the approval tests (imported as `approval_helpers`).

The organisation (`world` fixture):

    总公司 (KA, root)            top — a manager of every line below
    ├── KA一部                    ka_manager, ka_rep, ka_rep2
    ├── KA二部                    ka2_rep
    ├── 互联网一部 (INTERNET)     internet_manager, internet_rep
    └── SMB渠道部 (SMB)           smb_rep
    商务与综合支持组 (SMB, root)  ops
    系统管理 (SMB, root)          admin
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

import helpers
from helpers import (INDUSTRY, PULL, PUSH, error_of, move_to_pool, new_id, session_of, set_fields,  # noqa: F401
                     set_settings)
from helpers import Phone as SyncPhone


def ok(response) -> Any:
    return helpers.ok(response, (200, 201))


def customer_row(app, customer_id):
    """A detached snapshot of the customer row as the database has it now."""
    from server.customers.models import Customer

    with session_of(app) as session:
        session.expire_all()
        row = session.get(Customer, uuid.UUID(str(customer_id)))
        session.expunge(row)
        return row


def approval_row(app, approval_id):
    from server.approvals.models import Approval

    with session_of(app) as session:
        session.expire_all()
        row = session.get(Approval, uuid.UUID(str(approval_id)))
        session.expunge(row)
        return row


def notifications(app, user, kind: str | None = None) -> list:
    from sqlalchemy import select

    from server.notifications.models import Notification

    with session_of(app) as session:
        query = select(Notification).where(Notification.user_id == user.id)
        if kind:
            query = query.where(Notification.kind == kind)
        rows = list(session.scalars(query.order_by(Notification.created_at)))
        for row in rows:
            session.expunge(row)
        return rows


class Device(SyncPhone):
    """One install of the app for one user: its client id, outbox numbering, cookie and state."""

    def pull(self) -> dict:
        """Pull until has_more is false; the last page."""
        while True:
            page = self.pull_page()
            if not page["has_more"]:
                return page

    def get(self, entity: str, entity_id) -> dict | None:
        op = self.state.get((entity, str(entity_id)))
        return op["data"] if op is not None else None


def applied_with_approval(result: dict) -> str:
    """The result is `applied` with the `approval_required` notice; the approval id."""
    assert result["status"] == "applied", result
    assert result["error"]["code"] == "approval_required", result
    return result["error"]["details"]["approval_id"]


def rejected(result: dict, code: str) -> dict:
    assert result["status"] == "rejected", result
    assert result["error"]["code"] == code, result["error"]
    return result["error"]


@dataclass
class World:
    app: Any
    factory: Any
    client: Any
    departments: dict
    users: dict

    def __getattr__(self, name):
        users = self.__dict__.get("users") or {}
        if name in users:
            return users[name]
        raise AttributeError(name)

    def headers(self, name: str) -> dict:
        cache = self.__dict__.setdefault("_headers", {})
        if name not in cache:
            cache[name] = self.factory.headers(self.users[name])
        return cache[name]

    def device(self, name: str) -> Device:
        return Device(self.client, self.factory, self.users[name])

    def customer(self, owner: str, line: str = "KA", **overrides):
        overrides.setdefault("industry", INDUSTRY[line])
        return self.factory.customer(self.users[owner], **overrides)

    def get(self, who: str, path: str, **kw):
        return self.client.get(path, headers=self.headers(who), **kw)

    def post(self, who: str, path: str, json: dict | None = None):
        return self.client.post(path, json=json or {}, headers=self.headers(who))

    def decide(self, who: str, approval_id, decision="approve", comment=None, outcome=None):
        body = {"decision": decision, "comment": comment}
        if outcome:
            body["outcome"] = outcome
        return self.post(who, f"/api/v1/approvals/{approval_id}/decide", body)

    def approvals(self, who: str, **query) -> list[dict]:
        return ok(self.get(who, "/api/v1/approvals", query_string=query))["items"]


@pytest.fixture
def world(app, factory, client) -> World:
    root = factory.department("总公司", line="KA")
    ka1 = factory.department("KA一部", parent=root)
    ka2 = factory.department("KA二部", parent=root)
    internet = factory.department("互联网一部", line="INTERNET", parent=root)
    smb = factory.department("SMB渠道部", line="SMB", parent=root)
    ops_dept = factory.department("商务与综合支持组", line="SMB")
    admin_dept = factory.department("系统管理", line="SMB")
    users = {
        "top": factory.user("manager", department=root, display_name="销售总监"),
        "ka_manager": factory.user("manager", department=ka1, display_name="KA一部经理"),
        "ka_rep": factory.user("rep", department=ka1, display_name="KA业务员甲"),
        "ka_rep2": factory.user("rep", department=ka1, display_name="KA业务员乙"),
        "ka2_rep": factory.user("rep", department=ka2, display_name="KA二部业务员"),
        "internet_manager": factory.user("manager", department=internet, display_name="互联网经理"),
        "internet_rep": factory.user("rep", department=internet, display_name="互联网业务员"),
        "smb_rep": factory.user("rep", department=smb, display_name="SMB业务员"),
        "ops": factory.user("ops", department=ops_dept, display_name="商务审核"),
        "admin": factory.user("admin", department=admin_dept, display_name="管理员"),
    }
    return World(app, factory, client, {"root": root, "ka1": ka1, "ka2": ka2, "internet": internet, "smb": smb},
                 users)


def as_dt(value: str) -> datetime:
    return datetime.fromisoformat(value)
