"""Fill a fresh PostgreSQL database with a large organisation for the reports benchmark:
100,000 customers and 1,000,000 activity records (visits, follow-ups, deals, payments).

    .venv/bin/python bench/gen_reports_data.py [--db fieldcrm_bench_reports] [--customers 100000]
                                               [--activities 1000000] [--seed 8]

The database is dropped and created anew, migrated with the real migrations, then loaded with
COPY (one stream per table, rows generated on the fly, never through the ORM), and finally the
customers' denormalized counters (deal and payment totals, visit count, last visit) are set
from the loaded records in one UPDATE each and the tables are ANALYZEd.

The organisation: 5 business lines, each a line department with 4 groups of 10 reps, a manager
per group and a director per line (so a director's subtree holds a fifth of everything), one ops
user and one admin. Activities are spread over the last 365 days (org time zone): 45 % visits
(80 % verified, 8 % unverified, 7 % suspect, 5 % pending), 35 % follow-ups (15 % invalid),
12 % deals (85 % signed) and 8 % payments on signed deals; besides, about 60,000 opportunities.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import harness  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
LINES = ("KA", "INTERNET", "RETAIL", "PUBLIC", "SMB")
INDUSTRY = {"KA": "finance", "INTERNET": "video", "RETAIL": "brand", "PUBLIC": "government", "SMB": "other"}
REGIONS = ("上海市黄浦区", "上海市浦东新区", "上海市徐汇区", "上海市静安区", "上海市闵行区", "杭州市西湖区",
           "杭州市滨江区", "苏州市工业园区", "南京市鼓楼区", "宁波市鄞州区", "无锡市新吴区", "合肥市蜀山区")
SOURCES = ("展会", "转介绍", "官网", "电话营销", "老客户", None)
STATUSES = ("potential", "potential", "potential", "intent", "intent", "signed", "lost")
VERIFICATION = (("verified", 80), ("unverified", 8), ("suspect", 7), ("pending", 5))
PASSWORD_HASH = "$argon2id$v=19$m=1024,t=1,p=1$YmVuY2hzYWx0$0000000000000000000000"  # nobody logs in


def pg_url(db_name: str) -> str:
    base = harness.PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{db_name}"


def recreate(db_name: str) -> None:
    import psycopg

    with psycopg.connect(harness.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')


def migrate(db_name: str) -> None:
    from flask_migrate import upgrade

    from server import create_app

    url = pg_url(db_name).replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(harness.WORK / "reports-instance"),
                      "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-hs256"})
    with app.app_context():
        upgrade()
        from server.extensions import db

        db.engine.dispose()


def _copy(conn, table: str, columns: list[str], rows) -> int:
    """COPY the rows (tuples in `columns` order) into `table`; checks that every NOT NULL column
    without a server default is given, so a schema change fails here, loudly."""
    required = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO' "
        "AND column_default IS NULL", (table,))}
    missing = required - set(columns)
    if missing:
        raise SystemExit(f"{table}: the generator gives no value for NOT NULL columns {sorted(missing)}")
    n = 0
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def generate(db_name: str, n_customers: int, n_activities: int, seed: int) -> dict:
    import psycopg

    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    today = now.astimezone(ZONE).date()
    started = time.perf_counter()
    counts: dict[str, int] = {}

    def moment(days_back_max: int = 365) -> datetime:
        return now - timedelta(seconds=rng.randrange(days_back_max * 86400))

    with psycopg.connect(pg_url(db_name)) as conn:
        # -- org: 5 lines x 4 groups x 10 reps, managers, directors, ops, admin
        departments, users, reps = [], [], []
        t = now - timedelta(days=400)

        def dept(name, parent, line, path_prefix):
            dept_id = uuid.uuid4()
            path = f"{path_prefix}{dept_id}/"
            departments.append((dept_id, name, parent, line if parent is None else None, line, path, t, 1))
            return dept_id, path

        def user(username, name, role, dept_id, line):
            user_id = uuid.uuid4()
            users.append((user_id, username, name, role, dept_id, PASSWORD_HASH, True, 0, 0, t, t, 1))
            return user_id

        directors = {}
        for line in LINES:
            line_id, line_path = dept(f"{line}事业部", None, line, "/")
            directors[line] = user(f"director_{line.lower()}", f"{line}总监", "manager", line_id, line)
            for g in range(4):
                group_id, _ = dept(f"{line}{g + 1}组", line_id, line, line_path)
                user(f"mgr_{line.lower()}_{g}", f"{line}{g + 1}组经理", "manager", group_id, line)
                for r in range(10):
                    rep_id = user(f"rep_{line.lower()}_{g}_{r}", f"{line}{g + 1}组业务{r + 1}", "rep", group_id, line)
                    reps.append((rep_id, line))
        support, _ = dept("商务与综合支持组", None, "SMB", "/")
        system, _ = dept("系统管理", None, "SMB", "/")
        user("ops", "商务支持", "ops", support, "SMB")
        admin_id = user("admin", "管理员", "admin", system, "SMB")
        counts["departments"] = _copy(conn, "departments", ["id", "name", "parent_id", "own_business_line",
                                                            "business_line", "path", "created_at", "version"],
                                      departments)
        counts["users"] = _copy(conn, "users", ["id", "username", "display_name", "role", "department_id",
                                                "password_hash", "active", "token_generation", "failed_logins",
                                                "created_at", "updated_at", "version"], users)

        # -- customers: evenly over the reps, created over the last 400 days
        customers = []  # (id, owner, status)

        def customer_rows():
            for i in range(n_customers):
                owner, line = reps[i % len(reps)]
                cid = uuid.uuid4()
                created = now - timedelta(seconds=rng.randrange(400 * 86400))
                status = rng.choice(STATUSES)
                customers.append((cid, owner))
                progress = now - timedelta(seconds=rng.randrange(120 * 86400))
                yield (cid, f"C{2026 + i // 1_000_000}{i % 1_000_000:06d}", f"基准测试客户{i}有限公司", f"bench{i}", "jzcskh",
                       rng.choice(("direct", "direct", "direct", "distributor")), INDUSTRY[line], line,
                       rng.choice(REGIONS), f"测试路{i}号", 31.2 + rng.random() * 0.2, 121.4 + rng.random() * 0.2,
                       rng.choice(SOURCES), status, "potential", "ordinary", "normal", False, owner, owner,
                       created, created, created, 0, progress, 0, 0, 0, 1, None)

        counts["customers"] = _copy(conn, "customers", [
            "id", "code", "name", "name_key", "name_initials", "type", "industry", "business_line", "region",
            "address", "lat", "lng", "source", "status", "grade", "customer_class", "confidentiality",
            "legal_dispute", "owner_id", "created_by_id", "created_at", "updated_at", "assigned_at",
            "times_reclaimed", "last_progress_at", "visit_count", "deal_total", "payment_total", "version",
            "origin_pool"], customer_rows())

        n_visits = n_activities * 45 // 100
        n_follow = n_activities * 35 // 100
        n_deals = n_activities * 12 // 100
        n_payments = n_activities - n_visits - n_follow - n_deals
        statuses = [s for s, weight in VERIFICATION for _ in range(weight)]
        empty_json = json.dumps([])

        def visit_rows():
            for _ in range(n_visits):
                cid, owner = customers[rng.randrange(len(customers))]
                at = moment()
                status = statuses[rng.randrange(100)]
                verification = json.dumps({"status": status, "checks": [
                    {"code": "far_from_customer", "passed": status != "suspect", "value": 35, "threshold": 200}]})
                yield (uuid.uuid4(), cid, owner, "拜访沟通需求", "客户有意向", at, at, at, empty_json, verification,
                       status, "none", at, 1)

        counts["visits"] = _copy(conn, "visits", [
            "id", "customer_id", "author_id", "purpose", "result", "visited_at", "client_time", "received_at",
            "photo_hashes", "verification", "verification_status", "review_status", "created_at", "version"],
            visit_rows())

        def follow_rows():
            for _ in range(n_follow):
                cid, owner = customers[rng.randrange(len(customers))]
                valid = rng.random() >= 0.15
                at = moment()
                yield (uuid.uuid4(), cid, owner, "phone", "与采购负责人沟通了预算和上线计划" if valid else "在忙", valid,
                       empty_json if valid else json.dumps(["empty_phrase", "no_contact"]), at, 1)

        counts["follow_ups"] = _copy(conn, "follow_ups", [
            "id", "customer_id", "author_id", "kind", "content", "valid", "invalid_reasons", "created_at", "version"],
            follow_rows())

        signed = []  # (deal id, customer id, amount, signed date)

        def deal_rows():
            for i in range(n_deals):
                cid, owner = customers[rng.randrange(len(customers))]
                amount = rng.randrange(1_000_00, 5_000_000_00) + rng.randrange(100)  # odd fen
                created = moment()
                is_signed = rng.random() < 0.85
                signed_date = created.astimezone(ZONE).date() if is_signed else None
                paid = 0
                did = uuid.uuid4()
                if is_signed and len(signed) < n_payments:
                    paid = amount // 2 + 1
                    signed.append((did, cid, paid, signed_date, owner))
                yield (did, cid, f"HT-B-{i:07d}", f"ht-b-{i:07d}", amount, signed_date,
                       "signed" if is_signed else "draft", created if is_signed else None, owner if is_signed else None,
                       paid, owner, created, created, 1)

        counts["deals"] = _copy(conn, "deals", [
            "id", "customer_id", "contract_no", "contract_no_key", "amount", "signed_date", "status", "signed_at",
            "signed_by_id", "paid_total", "created_by_id", "created_at", "updated_at", "version"], deal_rows())

        def payment_rows():
            for did, cid, amount, signed_date, owner in signed[:n_payments]:
                received = min(today, signed_date + timedelta(days=rng.randrange(60)))
                at = datetime.combine(received, datetime.min.time(), ZONE).astimezone(timezone.utc)
                yield (uuid.uuid4(), did, cid, amount, received, owner, at, 1)

        counts["payments"] = _copy(conn, "payments", [
            "id", "deal_id", "customer_id", "amount", "received_date", "created_by_id", "created_at", "version"],
            payment_rows())
        harness.log(f"copied in {time.perf_counter() - started:.0f} s: {counts}")

        # the customers' denormalized counters, from the records, one UPDATE each
        conn.execute("""UPDATE customers c SET deal_total = d.total FROM
                        (SELECT customer_id, sum(amount) AS total FROM deals WHERE status = 'signed'
                         GROUP BY customer_id) d WHERE d.customer_id = c.id""")
        conn.execute("""UPDATE customers c SET payment_total = p.total FROM
                        (SELECT customer_id, sum(amount) AS total FROM payments GROUP BY customer_id) p
                        WHERE p.customer_id = c.id""")
        conn.execute("""UPDATE customers c SET visit_count = v.n, last_visit_at = v.last FROM
                        (SELECT customer_id, count(*) AS n, max(visited_at) AS last FROM visits GROUP BY customer_id) v
                        WHERE v.customer_id = c.id""")
        add_opportunities(conn)
        conn.execute("INSERT INTO sequences (name, value) VALUES ('sync_version', 1) ON CONFLICT DO NOTHING")
        conn.commit()
    with psycopg.connect(pg_url(db_name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["activities"] = counts["visits"] + counts["follow_ups"] + counts["deals"] + counts["payments"]
    return counts


OPPORTUNITIES_SQL = """
    INSERT INTO opportunities (id, customer_id, owner_id, name, amount, products, stage, created_at, updated_at, version)
    SELECT gen_random_uuid(), id, owner_id, '基准商机', (random() * 100000000)::bigint + 1, '[]',
           (ARRAY['qualify','solution','negotiation','contracting','won','lost'])[1 + floor(random() * 6)::int],
           created_at, created_at, 1
    FROM customers WHERE random() < 0.6"""


def add_opportunities(conn) -> None:
    """About 60,000 opportunities (0.6 per customer, stages evenly), by one INSERT … SELECT —
    outside the 1,000,000 activities."""
    conn.execute(OPPORTUNITIES_SQL)


def build(db_name: str = "fieldcrm_bench_reports", customers: int = 100_000, activities: int = 1_000_000,
          seed: int = 8) -> dict:
    harness.WORK.mkdir(parents=True, exist_ok=True)
    recreate(db_name)
    migrate(db_name)
    return generate(db_name, customers, activities, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="fieldcrm_bench_reports")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    counts = build(args.db, args.customers, args.activities, args.seed)
    print(json.dumps(counts, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
