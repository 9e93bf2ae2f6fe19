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
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
