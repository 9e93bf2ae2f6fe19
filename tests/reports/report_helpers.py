"""The reports tests' world (imported as `report_helpers`): two sibling departments under one
line department, two reps with data in the first, one rep in the second, their managers, ops and
admin; customers, visits of every verification status, follow-ups, deals, payments, claims,
transfers, change requests, daily reports, targets, flagged and soon-reclaimed customers.

Every name carries its person's marker (A1, A2, A3, B1, B2) so that a test can assert that no row
of a report ever shows another person's data: a row's JSON must not contain a foreign marker.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from helpers import new_id, now, ok, session_of

REPORTS = "/api/v1/reports"
MARKERS = ("A1", "A2", "A3", "B1", "B2")
# what each viewer may see: rep A1 sees its own (and A3's, transferred to it); manager A the
# department A subtree; manager of the root and ops/admin everything
ALLOWED = {"rep_a1": {"A1", "A3"}, "rep_b1": {"B1", "B2"}, "mgr_a": {"A1", "A2", "A3"},
           "mgr_b": {"B1", "B2"}, "ops": set(MARKERS), "admin": set(MARKERS)}
ODD = 123_456_789  # fen: 1,234,567.89 CNY


@dataclass
class World:
    users: dict
    departments: dict
    customers: dict = field(default_factory=dict)  # marker -> [customer ids]
    deals: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


def _visit(session, customer_id, author_id, status, at, review="none"):
    from server.visits.models import Visit

    checks = [{"code": "far_from_customer", "passed": status != "suspect", "value": 4810 if status == "suspect" else 20,
               "threshold": 200}]
    visit = Visit(id=uuid.UUID(new_id()), customer_id=customer_id, author_id=author_id, purpose="产品介绍与需求沟通",
                  result="客户有兴趣", visited_at=at, received_at=at, photo_hashes=["0" * 64],
                  verification={"status": status, "checks": checks}, verification_status=status,
                  review_status=review, created_at=at)
    session.add(visit)
    return visit


def build_world(factory, app) -> World:
    from server.customers import service as customers
    from server.customers.models import Customer, Pool
    from server.daily_reports.models import DailyReport
    from server.followups.service import create_follow_up
    from server.org.models import User
    from server.pipeline import service as pipeline
    from server.pools.service import claim
    from server.targets.models import Target

    root = factory.department("华东KA部", line="KA")
    dept_a = factory.department("一组", parent=root)
    dept_b = factory.department("二组", parent=root)
    users = {
        "rep_a1": factory.user("rep", dept_a, display_name="代表A1"),
        "rep_a2": factory.user("rep", dept_a, display_name="代表A2"),
        "rep_a3": factory.user("rep", dept_a, display_name="代表A3"),
        "rep_b1": factory.user("rep", dept_b, display_name="代表B1"),
        "rep_b2": factory.user("rep", dept_b, display_name="代表B2"),
        "mgr_a": factory.user("manager", dept_a, display_name="经理甲"),
        "mgr_b": factory.user("manager", dept_b, display_name="经理乙"),
        "mgr_root": factory.user("manager", root, display_name="总监"),
        "ops": factory.user("ops", factory.department("商务支持组", line="SMB"), display_name="商务"),
        "admin": factory.user("admin", factory.department("系统管理", line="SMB"), display_name="管理员"),
    }
    world = World(users=users, departments={"root": root, "a": dept_a, "b": dept_b})
    # regions carry the markers too, so per-region statistics can be checked for foreign rows
    regions = {"A1": "上海市黄浦区A1片", "A2": "上海市浦东新区A2片", "A3": "上海市徐汇区A3片", "B1": "杭州市西湖区B1片",
               "B2": "杭州市滨江区B2片"}
    owners = {"A1": "rep_a1", "A2": "rep_a2", "A3": "rep_a3", "B1": "rep_b1", "B2": "rep_b2"}
    t0 = now()
    for marker, key in owners.items():
        ids = []
        for n in range(3):
            kind = "direct" if n < 2 else "distributor"
            source = ["展会", "转介绍", None][n]
            c = factory.customer(users[key], name=f"客户{marker}第{n}号有限公司", region=regions[marker], type=kind,
                                 source=source)
            ids.append(c.id)
        world.customers[marker] = ids

    with session_of(app) as session:
        u = {k: session.get(User, v.id) for k, v in users.items()}
        for marker, key in owners.items():
            first, second, third = world.customers[marker]
            # visits: one of every status on the first customer, one verified on the second
            for i, status in enumerate(("verified", "suspect", "unverified", "pending")):
                _visit(session, first, u[key].id, status, t0 - timedelta(minutes=10 + i))
            _visit(session, second, u[key].id, "verified", t0 - timedelta(minutes=30))
            contact = customers.create_contact(session.get(Customer, first), {"name": f"联系人{marker}", "key_person": True},
                                               u[key])
            session.flush()
            create_follow_up({"customer_id": first, "kind": "phone", "contact_id": contact.id,
                              "content": f"与{marker}客户采购负责人详细沟通了年度预算与上线计划"}, u[key])
            create_follow_up({"customer_id": second, "kind": "phone", "contact_id": None, "content": "在忙"}, u[key])
            # deals and payments in odd fen amounts
            deal = pipeline.create_deal({"customer_id": first, "contract_no": f"HT-{marker}-{uuid.uuid4().hex[:6]}",
                                         "amount": ODD}, u[key])
            session.flush()
            pipeline.sign_deal(deal.id, u[key])
            session.flush()
            pipeline.create_payment({"deal_id": deal.id, "amount": 1_000_001, "received_date": pipeline.org_today()}, u[key])
            draft = pipeline.create_deal({"customer_id": second, "contract_no": f"HT-{marker}-D{uuid.uuid4().hex[:6]}",
                                          "amount": 777}, u[key])
            world.deals[marker] = (deal.id, draft.id)
            # an opportunity on the second customer
            pipeline.create_opportunity({"customer_id": second, "name": f"商机{marker}", "amount": 50_001,
                                         "need": "上云", "budget": "100万", "timeline": "Q3"}, u[key])
            # a change request of the first customer's name
            customers.request_change(session.get(Customer, first), {"name": f"客户{marker}更名有限公司"}, "工商变更",
                                     u[key])
            # a daily report and a target of this month
            session.add(DailyReport(id=uuid.UUID(new_id()), user_id=u[key].id, report_date=pipeline.org_today(),
                                    summary=f"{marker}今日拜访两家客户", plan="明日跟进合同"))
            today = pipeline.org_today()
            session.add(Target(id=uuid.UUID(new_id()), user_id=u[key].id, name=f"{marker}本月指标",
                               start_date=today.replace(day=1), end_date=today.replace(day=1) + timedelta(days=27),
                               new_customers=4, visits=10, deal_amount=ODD * 2, payment_amount=3_000_000,
                               status="active", set_by_id=u["admin"].id))
            # the third customer: quiet for long (flagged R-P8) and due for reclaim within 7 days
            third_row = session.get(Customer, third)
            third_row.created_at = t0 - timedelta(days=40)
            third_row.assigned_at = t0 - timedelta(days=40)
            from server.pools.service import reclaim_days
            third_row.last_progress_at = t0 - timedelta(days=reclaim_days(third_row.status) - 3)
        session.flush()
        # claims: a public pool customer each for A1 and B1
        for marker, key in (("A1", "rep_a1"), ("B1", "rep_b1")):
            pooled = customers.create_customer(factory.customer_args(name=f"公海客户{marker}", region=regions[marker]),
                                               u[key])
            session.flush()
            pooled.owner_id, pooled.owner, pooled.pool, pooled.origin_pool = None, None, Pool.public, Pool.public
            pooled.released_at = t0
            session.flush()
            claim(pooled.id, u[key])
            world.customers[marker].append(pooled.id)
        # transfers: A3 hands its customer to A1; B2 its own to B1
        customers.transfer_customers([session.get(Customer, world.customers["A3"][1])], u["rep_a1"], "A3调岗", u["rep_a3"])
        customers.transfer_customers([session.get(Customer, world.customers["B2"][1])], u["rep_b1"], "B2调岗", u["rep_b2"])
        session.flush()
    for key, user in users.items():
        world.headers[key] = factory.headers(user)
    return world


def report(client, world, who, key, **params):
    response = client.get(f"{REPORTS}/{key}", query_string={"per_page": 500, **params}, headers=world.headers[who])
    return ok(response)
