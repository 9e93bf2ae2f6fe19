"""Seed a small, realistic organisation for the PWA end-to-end tests and screenshots.

Run inside the app context of `fieldcrm` (FIELDCRM_INSTANCE set):
    python tests/e2e/seed.py  -> prints JSON with the ids the tests need.
"""
from __future__ import annotations

import json
import random
import sys

PASSWORD = "field-pass-2026"

# Customers sit around People's Square, Shanghai.
BASE_LAT, BASE_LNG = 31.2304, 121.4737

NAMES = ["上海春意空调有限公司", "浦江物流股份有限公司", "申城能源科技有限公司", "黄浦汽车销售服务有限公司",
         "东方明珠传媒有限公司", "静安金融信息服务有限公司", "徐汇机器人科技有限公司", "虹口置业发展有限公司"]
POOL_NAMES = ["杨浦精密制造有限公司", "闵行新能源储运有限公司", "长宁数据技术服务有限公司"]


def main() -> None:
    from server import create_app
    from server.customers.identity import generate_tax_id
    from server.customers.service import create_contact, create_customer
    from server.extensions import db
    from server.org.models import BusinessLine, Role
    from server.org.service import create_department, create_user
    from server.pools.service import return_to_pool

    rng = random.Random(7)
    app = create_app()
    out: dict = {"password": PASSWORD}
    with app.app_context():
        dept = create_department("华东KA一部", None, BusinessLine.KA)
        manager = create_user("manager1", PASSWORD, "王经理", Role.manager, dept.id)
        alice = create_user("alice", PASSWORD, "李娜", Role.rep, dept.id)
        bob = create_user("bob", PASSWORD, "张伟", Role.rep, dept.id)
        db.session.commit()
        out["users"] = {u.username: str(u.id) for u in (manager, alice, bob)}

        def make(name, owner, industry="finance"):
            lat = BASE_LAT + rng.uniform(-0.02, 0.02)
            lng = BASE_LNG + rng.uniform(-0.02, 0.02)
            c = create_customer({"name": name, "type": "direct", "industry": industry, "region": "上海市黄浦区",
                                 "address": f"南京东路{rng.randint(1, 999)}号", "tax_id": generate_tax_id(rng),
                                 "location": {"lat": round(lat, 6), "lng": round(lng, 6)}, "contacts": []}, owner)
            create_contact(c, {"name": rng.choice(["陈静", "刘洋", "赵磊", "孙丽"]), "title": "采购经理",
                               "mobile": f"1380000{rng.randint(1000, 9999)}", "key_person": True}, owner)
            db.session.commit()
            return c

        industries = ["finance", "transport_logistics", "energy", "automotive", "media", "finance",
                      "robotics_iot", "real_estate"]
        owned = {"alice": [], "bob": []}
        for i, name in enumerate(NAMES):
            owner = alice if i % 2 == 0 else bob
            c = make(name, owner, industries[i])
            owned[owner.username].append({"id": str(c.id), "name": c.name, "lat": c.lat, "lng": c.lng})
        out["owned"] = owned
        pool = []
        for name in POOL_NAMES:
            c = make(name, manager, "manufacturing_b2b")
            return_to_pool(c, "release", "seed", None)
            db.session.commit()
            pool.append({"id": str(c.id), "name": c.name, "pool": c.pool.value})
        out["pool"] = pool
        out["pipeline"] = seed_pipeline_and_targets(owned["alice"][0]["id"], alice, owned["bob"][2]["id"], bob, manager)
    json.dump(out, sys.stdout, ensure_ascii=False)


def seed_pipeline_and_targets(customer_id: str, rep, target_customer_id: str, target_rep, manager) -> dict:
    """For the screenshots of the rep's pipeline and target screens: on alice's first customer an
    opportunity in `solution` whose next gate (an order: prices on every line) is half met, a
    signed contract with a payment (receivables outstanding); and bob's targets — this month's
    set by the manager (active, with actuals from a contract and a payment on one of his
    customers) and next month's drafted by bob (pending approval). Targets go to bob so that
    alice's months stay free for the manager desk's targets test."""
    import calendar
    import uuid
    from datetime import timedelta

    from server.extensions import db
    from server.pipeline import service as pipeline
    from server.targets.service import save_target

    cid = uuid.UUID(customer_id)
    opp = pipeline.create_opportunity({
        "customer_id": cid, "name": "春意二期中央空调节能改造", "amount": 36_000_000, "need": "两栋办公楼空调能耗过高",
        "budget": "年度预算约 40 万元", "timeline": "明年一季度完工",
        "products": [{"product": "磁悬浮冷水机组", "quantity": 2, "unit_price": 15_000_000},
                     {"product": "智能群控系统", "quantity": 1, "unit_price": None}]}, rep)
    db.session.commit()
    pipeline.set_stage(opp.id, "solution", None, rep)
    db.session.commit()
    today = pipeline.org_today()
    deal = pipeline.create_deal({"customer_id": cid, "opportunity_id": None, "contract_no": "HT-2026-0815",
                                 "amount": 12_000_000, "signed_date": today, "attachment": None}, rep)
    db.session.commit()
    pipeline.sign_deal(deal.id, rep, today)
    db.session.commit()
    pipeline.create_payment({"deal_id": deal.id, "amount": 5_000_000, "received_date": today, "proof": None}, rep)
    db.session.commit()
    bob_deal = pipeline.create_deal({"customer_id": uuid.UUID(target_customer_id), "opportunity_id": None,
                                     "contract_no": "HT-2026-0902", "amount": 9_000_000, "signed_date": today,
                                     "attachment": None}, target_rep)
    db.session.commit()
    pipeline.sign_deal(bob_deal.id, target_rep, today)
    db.session.commit()
    pipeline.create_payment({"deal_id": bob_deal.id, "amount": 3_000_000, "received_date": today, "proof": None},
                            target_rep)
    db.session.commit()
    first = today.replace(day=1)
    last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    active, _ = save_target({"user_id": target_rep.id, "name": f"{today.month}月指标", "start_date": first, "end_date": last,
                             "new_customers": 6, "visits": 30, "deal_amount": 30_000_000,
                             "payment_amount": 20_000_000}, manager)
    db.session.commit()
    nxt = last + timedelta(days=1)
    nxt_last = nxt.replace(day=calendar.monthrange(nxt.year, nxt.month)[1])
    draft, _ = save_target({"name": f"{nxt.month}月指标（草稿）", "start_date": nxt, "end_date": nxt_last,
                            "new_customers": 8, "visits": 40, "deal_amount": 50_000_000,
                            "payment_amount": 30_000_000}, target_rep)
    db.session.commit()
    return {"customer_id": customer_id, "opportunity_id": str(opp.id), "deal_id": str(deal.id),
            "targets_user": target_rep.username, "targets": [str(active.id), str(draft.id)]}


if __name__ == "__main__":
    main()
