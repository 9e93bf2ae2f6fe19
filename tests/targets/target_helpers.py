"""Helpers of the target and daily-report tests (imported as `target_helpers`; tests/daily_reports
puts tests/targets on sys.path): a team, phones that visit with real photos, record builders."""
from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "visits"))

from visit_helpers import JOLLA, NIKON, NOKIA, SHOP, shop_photo, visit_time  # noqa: E402,F401
from visit_helpers import Phone as VisitPhone  # noqa: E402

from helpers import error_of, new_id, ok, ops_of, session_of, set_fields  # noqa: E402,F401

ZONE = ZoneInfo("Asia/Shanghai")
TARGETS = "/api/v1/targets"
REPORTS = "/api/v1/daily-reports"


def org_today() -> date:
    return datetime.now(ZONE).date()


def local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=ZONE).astimezone(timezone.utc)


class Phone(VisitPhone):
    """A phone that can also record photo-verified visits, deals and payments."""

    def __init__(self, factory, user, client=None):
        super().__init__(client, factory, user)

    def verified_visit(self, customer_id, photo_name: str = NOKIA, **overrides) -> str:
        """A visit with a real photo taken at the shop. Within one test each visit needs another
        fixture photo (NOKIA, NIKON, JOLLA): the same picture twice is `photo_similar`."""
        photo = shop_photo(photo_name)
        self.upload(photo, expect=None)
        visit_id, status = self.visit(customer_id, [photo], **overrides)
        assert status == "verified", status
        return visit_id

    def pending_visit(self, customer_id, **overrides) -> str:
        """A visit whose photo never arrived: verification `pending`, a visit all the same."""
        visit_id, status = self.visit(customer_id, [uuid.uuid4().hex * 2], **overrides)
        assert status == "pending", status
        return visit_id

    def signed_deal(self, customer, amount: int, signed_date: date | None = None) -> str:
        deal_id = new_id()
        self.applied("deal.create", {"id": deal_id, "customer_id": str(customer.id),
                                     "contract_no": f"HT-{uuid.uuid4().hex[:10]}", "amount": amount})
        sign = {"id": deal_id}
        if signed_date:
            sign["signed_date"] = signed_date.isoformat()
        self.applied("deal.sign", sign)
        return deal_id

    def payment(self, deal_id: str, amount: int, received: date) -> str:
        payment_id = new_id()
        self.applied("payment.create", {"id": payment_id, "deal_id": deal_id, "amount": amount,
                                        "received_date": received.isoformat()})
        return payment_id

    def target(self, **overrides) -> dict:
        today = org_today()
        args = {"id": new_id(), "name": "本月指标", "start_date": (today - timedelta(days=10)).isoformat(),
                "end_date": (today + timedelta(days=10)).isoformat(), "new_customers": 5, "visits": 20,
                "deal_amount": 500_000_00, "payment_amount": 200_000_00}
        args.update(overrides)
        return args

    def get(self, path: str, **query):
        return self.client.get(path, query_string=query, headers=self.headers)


@dataclass
class Team:
    """销售部 > 一组 (manager, rep, rep2) and 二组 (rep3); another department's manager; an admin."""
    top: object
    group: object
    group2: object
    head: object
    manager: object
    rep: object
    rep2: object
    rep3: object
    manager2: object
    other_manager: object
    other_rep: object
    admin: object


def make_team(factory) -> Team:
    top = factory.department("销售部", line="KA")
    group = factory.department("一组", parent=top)
    group2 = factory.department("二组", parent=top)
    other = factory.department("零售部", line="RETAIL")
    return Team(top=top, group=group, group2=group2,
                head=factory.user("manager", department=top, display_name="总监"),
                manager=factory.user("manager", department=group, display_name="一组经理"),
                rep=factory.user("rep", department=group, display_name="业务员甲"),
                rep2=factory.user("rep", department=group, display_name="业务员乙"),
                rep3=factory.user("rep", department=group2, display_name="二组业务员"),
                manager2=factory.user("manager", department=group2, display_name="二组经理"),
                other_manager=factory.user("manager", department=other, display_name="零售经理"),
                other_rep=factory.user("rep", department=other, display_name="零售业务员"),
                admin=factory.user("admin", display_name="管理员"))


def audit_entries(app, entity: str, entity_id) -> list:
    from sqlalchemy import select

    from server.common.audit import AuditEntry

    with session_of(app) as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.entity == entity,
                                                             AuditEntry.entity_id == str(entity_id))
                                    .order_by(AuditEntry.id)))
        return [(r.action, r.channel, r.changes, r.client_mutation_id) for r in rows]
