"""Issue 3: how fast is a sync push (and an initial pull), and how does it compare with PouchDB?

Measured, alternating the systems round by round in one run:

(a) one push of 500 `customer.create` mutations (realistic Chinese company names, unique per
    round; valid tax ids; industry, region, address, location; one nested contact each) by a
    rep whose quotas are large enough, through the real endpoint `POST /api/v1/sync/push` —
    every rule is checked (schema, duplicates by name and tax id, quota, code counter, version
    counter, audit, one transaction per mutation). Two transports:
      * in-process: Flask's test client, no socket (what the server code costs);
      * HTTP: a `fieldcrm run --workers 1` gunicorn (gthread) on a free port, over a keep-alive
        connection from this process (what a phone sees, minus the network).
    Each on SQLite (file database, WAL) and on PostgreSQL (a fresh database, dropped after).
(b) an initial pull (`cookie: null`, `limit: 2000`, pages until `has_more` is false) of a rep
    owning 300 customers with 2 contacts each, on the same four set-ups.
(c) the same 500 documents (the customer.create args, `_id` = the customer id) stored by a
    PouchDB server (express-pouchdb on the memory adapter, Node) with one `POST /{db}/_bulk_docs`
    into a fresh database each round, from this process over a keep-alive connection.

The timed part of every HTTP operation is request + response + JSON parse of the answer; the
request body is encoded before the clock starts and the connection is opened just before it.
"""
from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from bench.harness import (REPO, WORK, Http, Samples, cpu_seconds, fmt_ms, free_port, log, machine_summary,
                           pg_available, pg_backend_pids, pg_database, pg_version, process_tree, run_checked, stop,
                           venv_bin, wait_for_port)

PUSH_SIZE = 500
PULL_CUSTOMERS = 300
PULL_CONTACTS_EACH = 2
PULL_LIMIT = 2000
PASSWORD = "bench-password-2026"
SECRET = "fieldcrm-bench-secret-key-long-enough-for-hs256-signing"
BIG_QUOTAS = {"KA": 1_000_000, "INTERNET": 1_000_000, "RETAIL": 1_000_000}
TOKEN_MAX_AGE_S = 600  # access tokens live 15 min: log in again well before

# The PouchDB reference, npm-installed into bench/.work/pouchdb (pinned).
POUCH_DIR = WORK / "pouchdb"
POUCH_PACKAGES = {
    "express": "4.22.3",  # express-pouchdb 4.2.0 is an Express 4 app
    "express-pouchdb": "4.2.0",
    "pouchdb-adapter-memory": "9.0.0",
    "pouchdb-core": "9.0.0",
    "pouchdb-mapreduce": "9.0.0",
    "pouchdb-replication": "9.0.0",
}
POUCH_SERVER_JS = REPO / "bench" / "pouchdb_server.js"


# ---- realistic data -------------------------------------------------------------------------------

CITIES = [  # (city in the name, region, centre lat, lng)
    ("上海", ["上海市黄浦区", "上海市徐汇区", "上海市浦东新区", "上海市静安区", "上海市闵行区"], 31.2304, 121.4737),
    ("杭州", ["浙江省杭州市西湖区", "浙江省杭州市滨江区", "浙江省杭州市余杭区"], 30.2741, 120.1551),
    ("苏州", ["江苏省苏州市工业园区", "江苏省苏州市姑苏区", "江苏省苏州市吴中区"], 31.2990, 120.5853),
    ("南京", ["江苏省南京市鼓楼区", "江苏省南京市江宁区", "江苏省南京市建邺区"], 32.0603, 118.7969),
    ("宁波", ["浙江省宁波市鄞州区", "浙江省宁波市北仑区"], 29.8683, 121.5440),
    ("无锡", ["江苏省无锡市梁溪区", "江苏省无锡市新吴区"], 31.4912, 120.3119),
    ("合肥", ["安徽省合肥市蜀山区", "安徽省合肥市包河区"], 31.8206, 117.2272),
    ("嘉兴", ["浙江省嘉兴市南湖区", "浙江省嘉兴市秀洲区"], 30.7461, 120.7555),
]
BRAND_CHARS = ("春意宏达华信恒远瑞丰博安鼎盛锦程天合金泰鑫源隆昌润泽卓越永新中联佳和德鸿兴汇"
               "通嘉禾盈海蓝图伟业明辉腾飞凯旋瑞祥正大方圆宇航星辰东方世纪创维立新")
TRADES = {  # industry code -> business words that fit it
    "finance": ["投资管理", "金融信息服务", "融资租赁", "资产管理"],
    "transport_logistics": ["物流", "供应链管理", "国际货运代理", "冷链物流"],
    "energy": ["新能源科技", "电力工程", "能源发展", "光伏科技"],
    "media": ["文化传媒", "广告", "影视制作"],
    "tech_services": ["信息技术", "软件", "网络科技", "数据服务"],
    "automotive": ["汽车零部件", "汽车销售服务", "汽车电子"],
    "manufacturing_b2b": ["精密机械", "电子设备制造", "新材料", "自动化设备"],
    "robotics_iot": ["智能机器人", "物联网科技"],
    "games": ["网络游戏", "互动娱乐"],
    "ecommerce_platform": ["电子商务"],
    "online_education": ["教育科技"],
    "manufacturing_b2c": ["空调", "家电制造", "日用品制造"],
    "retailer": ["商贸", "百货", "超市连锁"],
    "consumer": ["食品", "饮料", "服饰"],
    "home_furnishing": ["家居", "家具制造"],
    "pharmacy_chain": ["大药房连锁"],
    "other": ["商务咨询", "餐饮管理"],
}
SUFFIXES = ["有限公司"] * 6 + ["股份有限公司", "集团有限公司"]
ROADS = ["南京东路", "淮海中路", "文三路", "干将西路", "中山北路", "人民路", "解放路", "长江路", "天目山路",
         "金鸡湖大道", "世纪大道", "延安西路"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗"
GIVEN = ["宏", "伟", "芳", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "建华",
         "志强", "海燕", "晓东", "丽华", "国强"]
TITLES = ["总经理", "采购经理", "财务总监", "行政主管", "IT主管", "主任", "副总经理", "运营总监"]


class CustomerMaker:
    """customer.create args as a phone would send them; names and tax ids never repeat."""

    def __init__(self, seed: int = 2026):
        from server.customers.identity import generate_tax_id, normalize_name
        from server.common.db import uuid7

        self.rng = random.Random(seed)
        self._tax_id, self._normalize, self._uuid7 = generate_tax_id, normalize_name, uuid7
        self._names: set[str] = set()
        self._tax_ids: set[str] = set()

    def _name(self, city: str, trade: str) -> str:
        while True:
            brand = "".join(self.rng.sample(BRAND_CHARS, 2))
            name = f"{city}{brand}{trade}{self.rng.choice(SUFFIXES)}"
            if self._normalize(name) not in self._names:
                self._names.add(self._normalize(name))
                return name

    def _tax(self) -> str:
        while True:
            code = self._tax_id(self.rng)
            if code not in self._tax_ids:
                self._tax_ids.add(code)
                return code

    def _mobile(self) -> str:
        return self.rng.choice(["138", "139", "135", "186", "189", "177"]) + f"{self.rng.randrange(10**8):08d}"

    def contact(self) -> dict:
        return {"id": str(self._uuid7()), "name": self.rng.choice(SURNAMES) + self.rng.choice(GIVEN),
                "title": self.rng.choice(TITLES), "mobile": self._mobile(), "key_person": self.rng.random() < 0.3}

    def customer(self, contacts: int = 1) -> dict:
        city, regions, lat, lng = self.rng.choice(CITIES)
        industry = self.rng.choice(list(TRADES))
        return {
            "id": str(self._uuid7()),
            "name": self._name(city, self.rng.choice(TRADES[industry])),
            "type": "distributor" if self.rng.random() < 0.15 else "direct",
            "industry": industry,
            "region": self.rng.choice(regions),
            "address": f"{self.rng.choice(ROADS)}{self.rng.randrange(1, 2000)}号{self.rng.randrange(2, 30)}楼",
            "location": {"lat": round(lat + self.rng.uniform(-0.08, 0.08), 6),
                         "lng": round(lng + self.rng.uniform(-0.08, 0.08), 6)},
            "tax_id": self._tax(),
            "parent_id": None,
            "contacts": [self.contact() for _ in range(contacts)],
        }

    def batch(self, count: int, contacts: int) -> tuple[str, list[dict], bytes]:
        """A fresh client id, the args, and the encoded push body (mutation ids 1..count)."""
        client_id = str(uuid.uuid4())
        args = [self.customer(contacts) for _ in range(count)]
        start = datetime.now(timezone(timedelta(hours=8))) - timedelta(hours=6)
        mutations = [{"id": i + 1, "name": "customer.create", "args": a,
                      "client_time": (start + timedelta(seconds=40 * i)).isoformat(timespec="seconds")}
                     for i, a in enumerate(args)]
        body = {"client_id": client_id, "schema_version": 1, "mutations": mutations}
        return client_id, args, json.dumps(body, ensure_ascii=False).encode()


def pouch_body(args: list[dict]) -> bytes:
    return json.dumps({"docs": [{"_id": a["id"], **a} for a in args]}, ensure_ascii=False).encode()


# ---- our server: one set-up = one database + one transport ---------------------------------------

class TestClientTransport:
    """Flask's test client: the whole request through WSGI, no socket."""

    def __init__(self, app):
        self.client = app.test_client()

    def prepare(self) -> None:
        pass

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, Any]:
        response = self.client.post(path, data=body, content_type="application/json", headers=headers)
        return response.status_code, response.get_json(silent=True)


class HttpTransport:
    def __init__(self, port: int):
        self.http = Http(port)

    def prepare(self) -> None:
        self.http.connect()  # a fresh keep-alive connection, opened outside the timed part

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, Any]:
        return self.http.request("POST", path, body, headers)


def cpu_probe(server_pid: int | None, pg_url: str | None) -> Callable[[], Callable[[], float]]:
    """Untimed set-up of a CPU-time reader for the serving side of one operation: this process
    (in-process) or the gunicorn master + worker, plus the PostgreSQL backends of the database."""
    pg_db = urlsplit(pg_url).path.lstrip("/") if pg_url and pg_url.startswith("postgresql") else None

    def probe() -> Callable[[], float]:
        pids = process_tree(server_pid) if server_pid else []
        if pg_db:
            pids += pg_backend_pids(pg_db)
        if server_pid:
            return lambda: cpu_seconds(pids)
        return lambda: time.process_time() + cpu_seconds(pids)

    return probe


@dataclass
class Rep:
    username: str
    token: str = ""
    logged_in_at: float = 0.0


@dataclass
class Setup:
    """fieldcrm on one database behind one transport, with a pushing and a pulling rep."""

    database: str  # "SQLite" | "PostgreSQL"
    transport_name: str  # "in-process" | "HTTP"
    transport: Any
    pusher: Rep
    puller: Rep
    app: Any = None  # the Flask app of an in-process set-up (for profiling)
    probe: Callable[[], Callable[[], float]] | None = None
    push_samples: Samples = field(default=None)
    pull_samples: Samples = field(default=None)
    pull_ops: int = 0
    pull_pages: int = 0

    def __post_init__(self):
        self.push_samples = Samples(f"push {self.database} {self.transport_name}")
        self.pull_samples = Samples(f"pull {self.database} {self.transport_name}")

    @property
    def label(self) -> str:
        return f"{self.database}/{self.transport_name}"

    def headers(self, rep: Rep) -> dict:
        if time.monotonic() - rep.logged_in_at > TOKEN_MAX_AGE_S:
            self.transport.prepare()
            status, data = self.transport.post(
                "/api/v1/auth/login", json.dumps({"username": rep.username, "password": PASSWORD}).encode(), {})
            if status != 200:
                raise RuntimeError(f"{self.label}: login of {rep.username} answered {status}: {data}")
            rep.token, rep.logged_in_at = data["access_token"], time.monotonic()
        return {"Authorization": f"Bearer {rep.token}"}

    def push(self, body: bytes, count: int, rep: Rep | None = None) -> tuple[float, float | None]:
        """One timed push (wall seconds, serving-side CPU seconds); checks every mutation was applied."""
        headers = self.headers(rep or self.pusher)
        self.transport.prepare()
        cpu = self.probe() if self.probe else None
        cpu_before = cpu() if cpu else 0.0
        started = time.perf_counter()
        status, data = self.transport.post("/api/v1/sync/push", body, headers)
        elapsed = time.perf_counter() - started
        cpu_used = cpu() - cpu_before if cpu else None
        if status != 200:
            raise RuntimeError(f"{self.label}: push answered {status}: {str(data)[:2000]}")
        results = data["results"]
        bad = [r for r in results if r.get("status") != "applied"]
        if len(results) != count or bad or data["last_mutation_id"] != count:
            raise RuntimeError(f"{self.label}: {len(results)} results, {len(bad)} not applied: {bad[:3]}")
        return elapsed, cpu_used

    def pull(self) -> tuple[float, float | None, int, dict[str, int]]:
        """One timed initial pull with a fresh client id, all pages: (wall s, CPU s, pages, ops by entity)."""
        headers = self.headers(self.puller)
        client_id, cookie, pages = str(uuid.uuid4()), None, 0
        counts: dict[str, int] = {}
        self.transport.prepare()
        cpu = self.probe() if self.probe else None
        cpu_before = cpu() if cpu else 0.0
        started = time.perf_counter()
        while True:
            body = json.dumps({"client_id": client_id, "schema_version": 1, "cookie": cookie,
                               "limit": PULL_LIMIT}).encode()
            status, data = self.transport.post("/api/v1/sync/pull", body, headers)
            if status != 200:
                raise RuntimeError(f"{self.label}: pull answered {status}: {str(data)[:2000]}")
            pages += 1
            for op in data["patch"]:
                counts[op["entity"]] = counts.get(op["entity"], 0) + 1
            cookie = data["cookie"]
            if not data["has_more"]:
                break
        elapsed = time.perf_counter() - started
        cpu_used = cpu() - cpu_before if cpu else None
        if counts.get("customer") != PULL_CUSTOMERS or counts.get("contact") != PULL_CUSTOMERS * PULL_CONTACTS_EACH:
            raise RuntimeError(f"{self.label}: the initial pull brought {counts}")
        return elapsed, cpu_used, pages, counts


def make_app(database_url: str, instance: Path):
    """Like tests/conftest.py's make_app, with production password hashing and no TESTING flag."""
    from flask_migrate import upgrade

    from server import create_app

    app = create_app({
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": SECRET,
        "JWT_SECRET_KEY": SECRET,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PHOTO_DIR": str(instance / "photos"),
    })
    with app.app_context():
        upgrade()
    return app


@contextmanager
def in_process_setup(database: str, url: str, instance: Path) -> Iterator[Setup]:
    from server.extensions import db
    from server.org.models import BusinessLine, Role
    from server.org.service import create_department, create_user
    from server.settings.service import update_settings

    app = make_app(url, instance)
    try:
        with app.app_context():
            department = create_department("华东大客户一部", None, BusinessLine.KA)
            create_user("bench.push", PASSWORD, "王宏", Role.rep, department.id)
            create_user("bench.pull", PASSWORD, "李静", Role.rep, department.id)
            update_settings({"quotas": BIG_QUOTAS})
            db.session.commit()
        yield Setup(database, "in-process", TestClientTransport(app), Rep("bench.push"), Rep("bench.pull"), app=app,
                    probe=cpu_probe(None, url))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def gunicorn_setup(database: str, url: str, instance: Path) -> Iterator[Setup]:
    """`fieldcrm db upgrade`, `fieldcrm users create`, then `fieldcrm run --workers 1` on a free port."""
    instance.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FIELDCRM_INSTANCE": str(instance), "FIELDCRM_DATABASE_URL": url,
           "FIELDCRM_SECRET_KEY": SECRET}
    fieldcrm = venv_bin("fieldcrm")
    run_checked([fieldcrm, "db", "upgrade"], env=env)
    run_checked([fieldcrm, "users", "create", "--username", "bench.admin", "--password", PASSWORD,
                 "--role", "admin"], env=env)
    port = free_port()
    logs = WORK / "logs"  # kept after the run (the instance folder is not)
    logs.mkdir(parents=True, exist_ok=True)
    server_log = open(logs / f"gunicorn-{database.lower()}.log", "wb")
    proc = subprocess.Popen([fieldcrm, "run", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            env=env, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
        admin = Http(port)
        token = admin.json("POST", "/api/v1/auth/login", {"username": "bench.admin", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        department = admin.json("POST", "/api/v1/admin/departments",
                                {"name": "华东大客户一部", "parent_id": None, "business_line": "KA"}, auth)
        for username, display in (("bench.push", "王宏"), ("bench.pull", "李静")):
            run_checked([fieldcrm, "users", "create", "--username", username, "--password", PASSWORD,
                         "--role", "rep", "--department", department["id"], "--display-name", display], env=env)
        admin.json("PUT", "/api/v1/admin/settings", {"quotas": BIG_QUOTAS}, auth)
        admin.close()
        yield Setup(database, "HTTP", HttpTransport(port), Rep("bench.push"), Rep("bench.pull"),
                    probe=cpu_probe(proc.pid, url))
    finally:
        stop(proc)
        server_log.close()


# ---- the PouchDB reference --------------------------------------------------------------------------

def ensure_pouchdb_installed() -> None:
    package = {"name": "fieldcrm-bench-pouchdb", "private": True, "description": "PouchDB reference for bench/",
               "dependencies": POUCH_PACKAGES}
    package_json = POUCH_DIR / "package.json"
    wanted = json.dumps(package, indent=2) + "\n"
    stamp = POUCH_DIR / "node_modules" / ".fieldcrm-bench-installed"
    if package_json.exists() and package_json.read_text() == wanted and stamp.exists():
        return
    POUCH_DIR.mkdir(parents=True, exist_ok=True)
    package_json.write_text(wanted)
    log(f"npm install in {POUCH_DIR} ({', '.join(f'{k}@{v}' for k, v in POUCH_PACKAGES.items())})")
    run_checked(["npm", "install", "--no-audit", "--no-fund"], cwd=POUCH_DIR)
    stamp.write_text(wanted)


def pouch_versions() -> dict[str, str]:
    out = {}
    for name in ("express-pouchdb", "pouchdb-core", "pouchdb-adapter-memory", "express"):
        try:
            out[name] = json.loads((POUCH_DIR / "node_modules" / name / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            out[name] = "?"
    return out


class PouchServer:
    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.samples = Samples("push PouchDB HTTP")

    def __enter__(self) -> "PouchServer":
        ensure_pouchdb_installed()
        self.port = free_port()
        env = {**os.environ, "NODE_PATH": str(POUCH_DIR / "node_modules"), "NODE_ENV": "production",
               "POUCHDB_LOG": str(POUCH_DIR / "log.txt")}
        with open(POUCH_DIR / "server.err", "wb") as errors:
            self.proc = subprocess.Popen(["node", str(POUCH_SERVER_JS), str(self.port)], cwd=POUCH_DIR, env=env,
                                         stdout=subprocess.PIPE, stderr=errors)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the PouchDB server did not start; see {POUCH_DIR / 'server.err'}")
        self.port = json.loads(line)["port"]
        wait_for_port(self.port, self.proc)
        self.http = Http(self.port)
        return self

    def __exit__(self, *exc) -> None:
        if getattr(self, "http", None):
            self.http.close()
        stop(self.proc)

    def bulk_docs(self, body: bytes, count: int) -> tuple[float, float]:
        """Store the docs into a fresh database with one timed `_bulk_docs`: (wall s, Node CPU s)."""
        db_name = f"bench_{uuid.uuid4().hex[:12]}"
        self.http.json("PUT", f"/{db_name}", expect=(201,))
        self.http.connect()
        cpu_before = cpu_seconds([self.proc.pid])
        started = time.perf_counter()
        status, data = self.http.request("POST", f"/{db_name}/_bulk_docs", body)
        elapsed = time.perf_counter() - started
        cpu_used = cpu_seconds([self.proc.pid]) - cpu_before
        if status != 201 or len(data) != count or not all(r.get("ok") for r in data):
            raise RuntimeError(f"PouchDB _bulk_docs answered {status}: {str(data)[:1000]}")
        self.http.json("DELETE", f"/{db_name}")
        return elapsed, cpu_used


# ---- profile ------------------------------------------------------------------------------------------

# (key, label, [(file suffix, function name)]): cumulative time of the listed functions in one
# profiled push. Top-level parts of a mutation roughly add up; the indented ones are inside the
# handler and nest (a flush inside a savepoint inside create_customer), so they do not add up.
PROFILE_BUCKETS = [
    ("handler", "handler `customer.create` (args schema + create_customer)",
     [("server/customers/mutations.py", "customer_create")]),
    ("apply_flush", "flush after the handler (SqlPushPort.apply)", None),
    ("savepoint", "savepoint begin/release around the handler", [("server/sync_api/service.py", "savepoint")]),
    ("lock_client", "lock the client row (SELECT … FOR UPDATE)", [("server/sync_api/service.py", "lock_client")]),
    ("finish", "store result + last_mutation_id (finish)", [("server/sync_api/service.py", "finish")]),
    ("commit", "COMMIT of each mutation's transaction", [("sqlalchemy/orm/scoping.py", "commit")]),
    ("dependency", "dependency look-up (rejected creations)", [("server/sync_api/service.py", "dependency_root")]),
    ("create_customer", "  create_customer (rules, code, insert, audit, contact)",
     [("server/customers/service.py", "create_customer")]),
    ("schema", "  marshmallow load of the args", [("marshmallow/schema.py", "load")]),
    ("contact", "  nested contact (id check, insert + flush, audit)", [("server/customers/service.py", "create_contact")]),
    ("flush_unique", "  unique-flush savepoint (_flush_unique: customer INSERT)",
     [("server/customers/service.py", "_flush_unique")]),
    ("entity_id", "  id-conflict checks (session.get of customer and contact ids)",
     [("server/customers/service.py", "_entity_id")]),
    ("duplicate", "  duplicate check by name key / tax id", [("server/customers/service.py", "find_duplicate")]),
    ("code", "  customer code counter (assign_code)", [("server/customers/service.py", "assign_code")]),
    ("quota", "  quota count (check_quota)", [("server/customers/service.py", "check_quota")]),
    ("lock_user", "  rep row lock (lock_user)", [("server/customers/service.py", "lock_user")]),
    ("version", "  global version counter (transaction_version)", [("server/common/db.py", "transaction_version")]),
    ("audit", "  audit rows (audit.record + audit.diff)", [("server/common/audit.py", "record"),
                                                          ("server/common/audit.py", "diff")]),
    ("pinyin", "  pinyin initials (pypinyin)", [("server/customers/identity.py", "pinyin_initials")]),
    ("sql", "all statements at the DBAPI (cursor.execute)", [("sqlalchemy/engine/default.py", "do_execute"),
                                                            ("sqlalchemy/engine/default.py", "do_execute_no_params")]),
    ("dbapi_commit", "all COMMITs at the DBAPI", [("sqlalchemy/engine/default.py", "do_commit")]),
    ("orm_flush", "all ORM flushes (session.flush)", [("sqlalchemy/orm/session.py", "flush")]),
    ("orm_get", "all session.get (primary-key loads)", [("sqlalchemy/orm/session.py", "get")]),
]


def _cumulative(stats: pstats.Stats, file_suffix: str, func: str) -> tuple[float, int]:
    total, calls = 0.0, 0
    for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
        if name == func and filename.replace("\\", "/").endswith(file_suffix):
            total += ct
            calls += nc
    return total, calls


def profile_push(setup: Setup, maker: CustomerMaker) -> dict:
    """cProfile one in-process push of PUSH_SIZE; the time of the interesting parts."""
    _client_id, _args, body = maker.batch(PUSH_SIZE, 1)
    setup.headers(setup.pusher)
    profiler = cProfile.Profile()
    profiler.enable()
    setup.push(body, PUSH_SIZE)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    parts: dict[str, tuple[str, float, int]] = {}
    for key, label, candidates in PROFILE_BUCKETS:
        seconds, calls = 0.0, 0
        for suffix, func in candidates or []:
            ct, nc = _cumulative(stats, suffix, func)
            seconds, calls = seconds + ct, calls + nc
        parts[key] = (label, seconds, calls)
    apply_s, _ = _cumulative(stats, "server/sync_api/service.py", "apply")
    label, _s, _n = parts["apply_flush"]
    parts["apply_flush"] = (label, max(0.0, apply_s - parts["handler"][1]), PUSH_SIZE)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(80)
    WORK.mkdir(parents=True, exist_ok=True)
    raw = WORK / f"profile-push-{setup.database.lower()}.txt"
    raw.write_text(out.getvalue())
    return {"database": setup.database, "total_s": total, "parts": parts, "raw": str(raw.relative_to(REPO))}


def profile_summary(profiles: list[dict], per_doc_ms: dict[str, float], transport: str,
                    pouch_per_doc_ms: float, owned: int) -> list[str]:
    """Five lines on what dominates our push, from the measured shares."""
    def share(p: dict, key: str) -> float:
        return p["parts"][key][1] / p["total_s"] * 100

    def both(key: str) -> str:
        return " / ".join(f"{share(p, key):.0f}%" for p in profiles)

    names = " / ".join(p["database"] for p in profiles)
    first = profiles[0]
    statements = first["parts"]["sql"][2]
    commits = first["parts"]["dbapi_commit"][2]
    costs = ", ".join(f"{db} {ms:.1f} ms" for db, ms in per_doc_ms.items())
    database_side = []
    for p in profiles:
        dbapi = share(p, "sql") + share(p, "dbapi_commit")
        verdict = "mostly Python" if dbapi < 25 else "database round trips weigh in"
        database_side.append(f"{p['database']} {dbapi:.0f}% in the DBAPI ({verdict})")
    return [
        f"**Per-mutation cost, paid {PUSH_SIZE} times**: each `customer.create` is its own transaction with "
        f"~{statements / PUSH_SIZE:.0f} SQL statements ({statements:,} statements and {commits:,} COMMITs per push); "
        f"median cost per mutation ({transport}) {costs}, against {pouch_per_doc_ms:.2f} ms per document for "
        f"PouchDB's one `_bulk_docs` write. Shares below: of the profiled push, {names}.",
        f"**Where the time is spent**: {'; '.join(database_side)} — statements {both('sql')}, COMMITs "
        f"{both('dbapi_commit')}; SQLAlchemy's ORM around them: flushes (unit of work) {both('orm_flush')}, "
        f"primary-key `session.get` loads {both('orm_get')}, savepoint begin/release {both('savepoint')}.",
        f"**The handler** is {both('handler')}: `create_customer` {both('create_customer')} — nested contact "
        f"{both('contact')}, unique-flush savepoint for the customer INSERT {both('flush_unique')}, "
        f"id-conflict `session.get`s of the new ids {both('entity_id')}, duplicate check {both('duplicate')}, "
        f"code counter {both('code')}, quota count {both('quota')} (a COUNT over the rep's "
        f"~{owned:,} owned customers, growing with them), rep row lock {both('lock_user')}; args "
        f"schema {both('schema')}, pypinyin {both('pinyin')}.",
        f"**Sync protocol per mutation**: stored result + `last_mutation_id` {both('finish')}, client-row lock "
        f"{both('lock_client')}, COMMIT {both('commit')}, flush after the handler {both('apply_flush')}; "
        f"global version counter {both('version')}, audit rows {both('audit')}.",
        f"Full cumulative listings: {', '.join('`' + p['raw'] + '`' for p in profiles)} "
        f"(cProfile inflates Python-heavy code, so the DBAPI shares are understated).",
    ]


# ---- the run --------------------------------------------------------------------------------------------

@dataclass
class SyncResult:
    rounds: int
    warmup: int
    setups: list[Setup]
    pouch: PouchServer
    pouch_versions: dict[str, str]
    pg: str | None
    profiles: list[dict]
    started: datetime
    duration_s: float
    notes: list[str]

    def setup(self, database: str, transport: str) -> Setup | None:
        return next((s for s in self.setups if s.database == database and s.transport_name == transport), None)

    def ratios(self) -> list[tuple[str, float]]:
        """fieldcrm push / PouchDB _bulk_docs, medians of wall-clock time, per set-up."""
        out = []
        for s in self.setups:
            if s.push_samples and self.pouch.samples:
                out.append((s.label, s.push_samples.median_ms / self.pouch.samples.median_ms))
        return out

    def cpu_ratios(self) -> list[tuple[str, float]]:
        out = []
        pouch_cpu = self.pouch.samples.cpu_median_ms
        for s in self.setups:
            if s.push_samples.cpu_median_ms and pouch_cpu:
                out.append((s.label, s.push_samples.cpu_median_ms / pouch_cpu))
        return out

    def table(self) -> str:
        lines = ["| Operation | System | Database | Transport | Median ms | Min ms | Max ms | Median per item "
                 "| Server CPU ms (median) | n |",
                 "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]

        def row(op: str, system: str, database: str, transport: str, samples: Samples, items: int, unit: str):
            per = samples.median_ms / items
            cpu = fmt_ms(samples.cpu_median_ms) if samples.cpu_median_ms is not None else "–"
            lines.append(f"| {op} | {system} | {database} | {transport} | **{fmt_ms(samples.median_ms)}** | "
                         f"{fmt_ms(samples.min_ms)} | {fmt_ms(samples.max_ms)} | {per:.2f} ms/{unit} | {cpu} | "
                         f"{len(samples.values)} |")

        push_op = f"push {PUSH_SIZE} × customer.create (+1 contact)"
        transports = {"in-process": "in-process (Flask test client)", "HTTP": "HTTP, gunicorn 1 worker gthread"}
        for transport in ("in-process", "HTTP"):
            for s in self.setups:
                if s.transport_name == transport and s.push_samples:
                    row(push_op, "fieldcrm", s.database, transports[transport], s.push_samples, PUSH_SIZE, "doc")
        if self.pouch.samples:
            row(f"_bulk_docs of the same {PUSH_SIZE} docs", "PouchDB (express-pouchdb)", "memory adapter",
                "HTTP, Node/Express", self.pouch.samples, PUSH_SIZE, "doc")
        pull_op = (f"initial pull, {PULL_CUSTOMERS} customers + {PULL_CUSTOMERS * PULL_CONTACTS_EACH} contacts "
                   f"(limit {PULL_LIMIT})")
        for transport in ("in-process", "HTTP"):
            for s in self.setups:
                if s.transport_name == transport and s.pull_samples:
                    row(pull_op, "fieldcrm", s.database, transports[transport], s.pull_samples,
                        PULL_CUSTOMERS, "customer")
        return "\n".join(lines)

    def markdown(self, command: str) -> str:
        out = [
            "## Sync: push of 500 `customer.create`, initial pull, PouchDB `_bulk_docs` (issue 3)",
            "",
            f"- **Run**: `{command}` on {self.started.date().isoformat()}, {self.rounds} rounds after "
            f"{self.warmup} untimed warm-up round(s); the systems alternate within every round "
            f"(fieldcrm push, PouchDB `_bulk_docs` of the same docs, fieldcrm pull, next set-up…); "
            f"{self.duration_s:.0f} s in all.",
            f"- **Machine**: {machine_summary()}; Python {sys.version.split()[0]}, "
            f"{'PostgreSQL ' + self.pg if self.pg else 'no PostgreSQL'}, Node {node_version()}, "
            f"express-pouchdb {self.pouch_versions.get('express-pouchdb')} + pouchdb-core "
            f"{self.pouch_versions.get('pouchdb-core')} (memory adapter).",
            f"- **fieldcrm push**: the real `POST /api/v1/sync/push`, every rule checked, one transaction "
            f"per mutation; a rep with raised quotas; fresh names, tax ids and `client_id` every round. "
            f"SQLite is a file database in WAL mode (`synchronous=NORMAL`); PostgreSQL a fresh local "
            f"database (default `synchronous_commit=on`). HTTP = `fieldcrm run --workers 1` (gunicorn, "
            f"gthread), keep-alive connection from the benchmark process; timed: request, answer, JSON "
            f"parse.",
            f"- **PouchDB**: the same {PUSH_SIZE} JSON documents (`_id` = customer id) in one "
            f"`POST /{{db}}/_bulk_docs` into a fresh in-memory database, same client code and timing "
            f"(one PouchDB sample after every fieldcrm push, so it has more samples). It keeps nothing on "
            f"disk and checks no rule: the floor for storing these documents over HTTP, not a like-for-like "
            f"server.",
            "- **Server CPU ms**: user + system CPU time of the serving side during the timed request, "
            "from /proc (10 ms ticks): the gunicorn master + worker or the Node process; in-process, this "
            "Python process; plus the PostgreSQL backends connected to the benchmark database. Less "
            "sensitive than wall-clock time to other work on a shared machine.",
            "",
            self.table(),
            "",
        ]
        ratios = self.ratios()
        if ratios:
            http = [f"{label.split('/')[0]} **{ratio:.1f}×**" for label, ratio in ratios if label.endswith("HTTP")]
            inproc = [f"{label.split('/')[0]} {ratio:.1f}×" for label, ratio in ratios
                      if label.endswith("in-process")]
            cpu = [f"{label} {ratio:.0f}×" for label, ratio in self.cpu_ratios()]
            out.append(f"**Ratio fieldcrm / PouchDB** (median push of {PUSH_SIZE} over HTTP vs `_bulk_docs`): "
                       + ", ".join(http) + (f" (in-process: {', '.join(inproc)})" if inproc else "") + ". "
                       + (f"By serving-side CPU time: {', '.join(cpu)}." if cpu else ""))
            out.append("")
        for note in self.notes:
            out.append(f"- {note}")
        if self.notes:
            out.append("")
        if self.profiles:
            where = ", ".join(f"{p['database']} {p['total_s'] * 1000:,.0f} ms" for p in self.profiles)
            out.append(f"### What dominates our push (cProfile of one extra in-process push of {PUSH_SIZE}: {where})")
            out.append("")
            transport = "HTTP" if any(s.transport_name == "HTTP" and s.push_samples for s in self.setups) \
                else "in-process"
            per_doc = {s.database: s.push_samples.median_ms / PUSH_SIZE for s in self.setups
                       if s.transport_name == transport and s.push_samples}
            pouch = self.pouch.samples.median_ms / PUSH_SIZE if self.pouch.samples else float("nan")
            out.extend(f"{i}. {line}" for i, line in
                       enumerate(profile_summary(self.profiles, per_doc, transport, pouch,
                                                 PUSH_SIZE * (self.warmup + self.rounds)), 1))
            out.append("")
            out.append("<details><summary>Cumulative time of the parts (nested parts indented; "
                       "shares of the profiled push)</summary>")
            out.append("")
            out.append("| Part | " + " | ".join(f"{p['database']} ms | share" for p in self.profiles) + " |")
            out.append("|---|" + "---:|---:|" * len(self.profiles))
            for key, label, _c in PROFILE_BUCKETS:
                cells = []
                for p in self.profiles:
                    _l, seconds, _n = p["parts"][key]
                    cells.append(f"{seconds * 1000:,.0f} | {seconds / p['total_s'] * 100:.0f}%")
                shown = "↳ " + label.strip() if label.startswith("  ") else label
                out.append(f"| {shown} | " + " | ".join(cells) + " |")
            out.append("")
            out.append("</details>")
        return "\n".join(out).rstrip() + "\n"


def node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip().lstrip("v")
    except OSError:
        return "?"


def run(rounds: int = 7, warmup: int = 1, profile: str = "auto", only: str | None = None) -> SyncResult:
    """Run the sync benchmark; `profile` is "auto" (when a ratio is above 2×), "always" or "never"."""
    started_at, t0 = datetime.now(timezone.utc), time.monotonic()
    maker = CustomerMaker()
    notes: list[str] = []
    pg = pg_available()
    pg_ver = pg_version() if pg else None
    if not pg:
        notes.append("PostgreSQL was not reachable: its rows are missing.")
        log("PostgreSQL not reachable: SQLite only")
    loads = [os.getloadavg()[0]]
    scratch = WORK / f"sync-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, scratch, True)  # runs last: after the servers and databases
        pouch = stack.enter_context(PouchServer())
        setups: list[Setup] = []
        plan: list[tuple[str, str]] = [("SQLite", "in-process"), ("PostgreSQL", "in-process"),
                                       ("SQLite", "HTTP"), ("PostgreSQL", "HTTP")]
        for database, transport in plan:
            if database == "PostgreSQL" and not pg:
                continue
            if only and only.lower() not in f"{database}/{transport}".lower():
                continue
            folder = scratch / f"{database.lower()}-{transport.lower()}"
            if database == "SQLite":
                url = f"sqlite:///{folder / 'fieldcrm.db'}"
                folder.mkdir(parents=True, exist_ok=True)
            else:
                url = stack.enter_context(pg_database(transport.replace("-", "")))
            log(f"setting up fieldcrm on {database}, {transport}")
            factory = in_process_setup if transport == "in-process" else gunicorn_setup
            setup = stack.enter_context(factory(database, url, folder))
            # the pulling rep's 300 customers with 2 contacts each, pushed once (untimed)
            _cid, _args, seed_body = maker.batch(PULL_CUSTOMERS, PULL_CONTACTS_EACH)
            setup.push(seed_body, PULL_CUSTOMERS, rep=setup.puller)
            setups.append(setup)

        for r in range(warmup + rounds):
            timed = r >= warmup
            log(f"round {r + 1 - warmup}/{rounds}" if timed else f"warm-up round {r + 1}/{warmup}")
            for setup in setups:
                _client_id, args, body = maker.batch(PUSH_SIZE, 1)
                seconds, cpu = setup.push(body, PUSH_SIZE)
                pouch_seconds, pouch_cpu = pouch.bulk_docs(pouch_body(args), PUSH_SIZE)
                pull_seconds, pull_cpu, pages, counts = setup.pull()
                setup.pull_pages, setup.pull_ops = pages, sum(counts.values())
                log(f"  {setup.label:24} push {seconds * 1000:7.0f} ms (CPU {cpu * 1000:6.0f}) | "
                    f"pouch {pouch_seconds * 1000:5.0f} ms (CPU {pouch_cpu * 1000:4.0f}) | "
                    f"pull {pull_seconds * 1000:5.0f} ms (CPU {pull_cpu * 1000:5.0f}, {pages} page(s), "
                    f"{setup.pull_ops} ops) | load {os.getloadavg()[0]:.1f}")
                loads.append(os.getloadavg()[0])
                if timed:
                    setup.push_samples.add(seconds, cpu)
                    pouch.samples.add(pouch_seconds, pouch_cpu)
                    setup.pull_samples.add(pull_seconds, pull_cpu)

        result = SyncResult(rounds, warmup, setups, pouch, pouch_versions(), pg_ver, [], started_at, 0.0, notes)
        pulls = {s.pull_pages for s in setups}
        ops = {s.pull_ops for s in setups}
        notes.append(f"The initial pull answers {', '.join(map(str, sorted(ops)))} ops (customers, contacts, "
                     f"directory, settings) in {', '.join(map(str, sorted(pulls)))} page(s).")
        worst = max((ratio for _label, ratio in result.ratios()), default=0.0)
        if profile == "always" or (profile == "auto" and worst > 2.0):
            for target in (s for s in setups if s.transport_name == "in-process"):
                log(f"profiling one in-process push on {target.database}")
                result.profiles.append(profile_push(target, maker))
        loads.append(os.getloadavg()[0])
        notes.append(f"Load average (1 min) during the run: {min(loads):.1f} to {max(loads):.1f} "
                     f"(mean {statistics.mean(loads):.1f}) on {os.cpu_count()} cores — other work on the "
                     f"machine inflates wall-clock times and their spread; the CPU column is steadier.")
        result.duration_s = time.monotonic() - t0
    return result
