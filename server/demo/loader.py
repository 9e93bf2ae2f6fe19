"""`fieldcrm demo`: load a realistic Shanghai sales organisation once (SPEC §14).

One transaction, committed at the end: the organisation (a 销售中心 with a department per
business line, managers, ~20 reps, business support, an admin), ~2,000 customers with contacts
owned by reps of the matching line within their quotas, and the rest in the pools. Owned
customers and their contacts go through `create_customer` / `create_contact`, so uniqueness,
codes, quotas and the audit log apply exactly as for a rep; pool customers (which no rep owns
any more) are built directly with a code from `assign_code` and a `customer.create` audit entry.

Everything is drawn from one `random.Random(seed)`, so a seed always yields the same
organisation and customers (times are relative to the moment of loading).

On top of the customers, from a second generator (so the organisation and the customers do
not depend on it): co-followers (read and write) and shares on owned customers, accounts
(some real-name verified, some filed; pool customers keep theirs without an owner), and
follow-ups over the customers' lives, mostly valid, some invalid (empty phrases, too short,
no contact), with next contact times, so that reminders, reclaim warnings and the invalid
tracking list (R-P8) all have something to show. Those rows are built directly, with their
audit entries, like the pool customers: the services would check and flush each one.

Customers are created over ~18 months up to this week, visits (most in the last two months, the
rest over the year), deals, payments and follow-ups over the last year, so that every monthly
report and chart has a year of data; last come the reps' targets and daily reports
(`server/demo/targets.py`), measured against all of it.
"""
from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, g
from sqlalchemy import select

from server.accounts.models import Account, AccountStatus, RealName
from server.common import audit
from server.common.db import utcnow, uuid7
from server.common.passwords import hash_password
from server.customers import service as customers
from server.customers.identity import generate_tax_id, normalize_name, pinyin_initials
from server.customers.models import (CoFollower, Confidentiality, Contact, Customer, CustomerStatus,
                                     CustomerType, Pool, Share)
from server.demo import data
from server.demo.pipeline import load_demo_pipeline
from server.demo.targets import load_demo_targets
from server.demo.visits import load_demo_visits
from server.extensions import db
from server.followups.models import FollowUp, FollowUpKind
from server.followups.service import invalid_reasons
from server.org import service as org
from server.org.models import BusinessLine, Department, Role, User
from server.settings.service import get_settings

__all__ = ["DEMO_PASSWORD", "ROOT_NAME", "demo_logins", "load_demo"]

DEMO_PASSWORD = "fieldcrm-demo"
ROOT_NAME = "销售中心"
# Created only by the demo, so its presence means "already loaded". (The demo's `admin` is
# created in the same transaction; `mgr_ka` is used because an operator may well have made an
# `admin` of their own with `fieldcrm users create` before trying the demo.)
MARKER_USERNAME = "mgr_ka"
ROLE_ORDER = {Role.admin: 0, Role.ops: 1, Role.manager: 2, Role.rep: 3}

# (department, business line or None to inherit, parent key, manager username, reps)
_LINE_DEPARTMENTS = (
    ("ka", "KA大客户部", BusinessLine.KA, "mgr_ka", 0),
    ("ka1", "华东KA一组", None, None, 4),
    ("ka2", "华东KA二组", None, None, 4),
    ("internet", "泛互联网部", BusinessLine.INTERNET, "mgr_internet", 4),
    ("retail", "消费零售部", BusinessLine.RETAIL, "mgr_retail", 4),
    ("public", "公共业务部", BusinessLine.PUBLIC, "mgr_public", 2),
    ("smb", "SMB渠道部", BusinessLine.SMB, "mgr_smb", 2),
)
_PARENTS = {"ka1": "ka", "ka2": "ka"}
SUPPORT_NAME = "商务与综合支持组"
ADMIN_NAME = "系统管理组"

POOL_SHARE = 0.12  # customers released or reclaimed even when their owner had room
HISTORY_DAYS = 540  # ~18 months of customer history
RECENT_SHARE = 0.04  # customers created in the last week
TAX_ID_SHARE = 0.8
CONTACT_DEPARTMENTS = ("信息技术部", "采购部", "总经办", "财务部", "运营部", "市场部", "行政部")
ATTITUDES = ("supportive", "neutral", "neutral", "opposed", None, None)
LOST_NOTES = ("预算冻结，项目暂停", "已选择竞品", "需求取消", "联系人离职，暂无对接人")


@dataclass
class _Rep:
    user: User
    line: BusinessLine
    capacity: int | None  # how many customers of its line the demo gives it (None: no quota)
    owned: int = 0

    def has_room(self) -> bool:
        return self.capacity is None or self.owned < self.capacity


@dataclass
class _Plan:
    """One customer to create, fully decided before touching the database."""

    name: str
    industry: str
    line: BusinessLine
    args: dict
    created_at: datetime
    owner: _Rep | None = None
    pool: Pool | None = None
    released_at: datetime | None = None
    last_progress_at: datetime | None = None
    times_reclaimed: int = 0
    creator: _Rep | None = None
    contacts: list[tuple[dict, datetime]] = field(default_factory=list)
    customer: Customer | None = None  # once created
    contact_rows: list[Contact] = field(default_factory=list)


# ---- public API ----------------------------------------------------------------------------------

def load_demo(seed: int = 2026, customer_count: int = 2000) -> bool:
    """Load the demo once. False (and nothing changed) if it is already there."""
    if _marker() is not None:
        return False
    rng = random.Random(seed)
    now = utcnow()
    # get_settings() caches the effective settings per request but re-reads and re-merges them
    # on every call outside one (~5 times a customer, a third of the load time). A request
    # context for the job lets the services use that cache; no request is dispatched, so no
    # request hooks run. The settings cannot change during this one transaction.
    with current_app.test_request_context("/cli/demo"):
        try:
            return _load(rng, random.Random(seed * 7919 + 17), now, customer_count)
        finally:
            g.pop("fieldcrm_settings", None)  # `g` lives on with the job's app context


def _load(rng: random.Random, activity_rng: random.Random, now: datetime, customer_count: int) -> bool:
    try:
        reps = _build_organisation(rng)
        plans = _plan_customers(rng, now, reps, customer_count)
        for plan in plans:
            if plan.owner is not None:
                _create_owned(plan)
            else:
                _create_pooled(plan)
        _add_activity(activity_rng, now, reps, plans)
        owned = [p.customer for p in plans if p.owner is not None]
        # Separate generators: adding these steps leaves the data above unchanged for a seed.
        load_demo_pipeline(random.Random(activity_rng.random() * 1e9 + 1), owned, reps, now=now)
        load_demo_visits(random.Random(activity_rng.random() * 1e9 + 2), owned, now=now)
        _add_pending_approvals(reps, plans)
        # last: targets and daily reports are measured against everything above
        load_demo_targets(random.Random(activity_rng.random() * 1e9 + 3), reps, now=now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return True


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(username, role, display name, department) of every demo user: admin, ops, managers, reps."""
    marker = _marker()
    if marker is None:
        return []
    root_path = "/" + marker.department.path.strip("/").split("/")[0] + "/"
    rows = db.session.execute(
        select(User, Department.name).join(Department, User.department_id == Department.id)
        .where(Department.path.startswith(root_path), User.active.is_(True))).all()
    rows.sort(key=lambda r: (ROLE_ORDER[r[0].role], r[0].username))
    return [(u.username, u.role.value, u.display_name, dept) for u, dept in rows]


# ---- organisation --------------------------------------------------------------------------------

def _marker() -> User | None:
    return db.session.scalar(select(User).where(User.username == MARKER_USERNAME))


@contextmanager
def _cheap_hashing():
    """create_user hashes every password; the demo stores one real hash for all its users
    instead (Argon2 at production cost takes ~0.1 s a hash), so make the throw-away ones cheap."""
    config = current_app.config
    saved = config.get("ARGON2_PARAMS")
    config["ARGON2_PARAMS"] = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
    try:
        yield
    finally:
        config["ARGON2_PARAMS"] = saved


def _build_organisation(rng: random.Random) -> list[_Rep]:
    password_hash = hash_password(DEMO_PASSWORD)  # once, at the configured cost
    quotas = get_settings().quotas
    used_names: set[str] = set()

    def display_name() -> str:
        while True:
            name = data.person_name(rng)
            if name not in used_names:
                used_names.add(name)
                return name

    def user(username: str, role: Role, department: Department) -> User:
        with _cheap_hashing():
            created = org.create_user(username, DEMO_PASSWORD, display_name(), role, department.id,
                                      mobile=data.mobile(rng))
        created.password_hash = password_hash
        return created

    root = org.create_department(ROOT_NAME, None, BusinessLine.SMB)
    departments: dict[str, Department] = {}
    for key, name, line, _manager, _reps in _LINE_DEPARTMENTS:
        parent = departments[_PARENTS[key]] if key in _PARENTS else root
        departments[key] = org.create_department(name, parent.id, line)
    support = org.create_department(SUPPORT_NAME, root.id, None)
    admin_department = org.create_department(ADMIN_NAME, root.id, None)

    if db.session.scalar(select(User.id).where(User.username == "admin")) is None:
        user("admin", Role.admin, admin_department)
    user("ops", Role.ops, support)
    user("director", Role.manager, root)  # 销售总监: manages every line
    reps: list[_Rep] = []
    number = 0
    for key, _name, _line, manager, rep_count in _LINE_DEPARTMENTS:
        department = departments[key]
        if manager:
            user(manager, Role.manager, department)
        for _ in range(rep_count):
            number += 1
            quota = quotas.get(department.business_line.value)
            # Leave everyone some room below the quota so claiming works in the demo.
            capacity = None if quota is None else max(0, quota - rng.randint(4, 18))
            reps.append(_Rep(user(f"rep{number:02d}", Role.rep, department), department.business_line, capacity))
    return reps


# ---- customers -----------------------------------------------------------------------------------

def _plan_customers(rng: random.Random, now: datetime, reps: list[_Rep], count: int) -> list[_Plan]:
    by_line: dict[BusinessLine, list[_Rep]] = {}
    for rep in reps:
        by_line.setdefault(rep.line, []).append(rep)
    districts = data.districts()
    tax_ids: set[str] = set()
    plans: list[_Plan] = []
    for name, industry in data.company_names(rng, count):
        line = customers.line_of_industry(industry)
        district = rng.choice(districts)
        region, address, lat, lng = data.address_and_position(rng, district.name)
        tax_id = None
        if rng.random() < TAX_ID_SHARE:
            tax_id = generate_tax_id(rng, district.code)
            while tax_id in tax_ids:
                tax_id = generate_tax_id(rng, district.code)
            tax_ids.add(tax_id)
        distributor = rng.random() < (0.45 if line == BusinessLine.SMB else 0.08)
        scale = data.scale(rng)
        status = rng.choices(("potential", "intent", "lost"), weights=(55, 35, 10))[0]
        confidential = (scale == "1000人以上" and rng.random() < 0.5) or rng.random() < 0.05
        website = data.website_for(rng, name) if rng.random() < 0.85 else None
        args = {
            "name": name, "type": (CustomerType.distributor if distributor else CustomerType.direct).value,
            "industry": industry, "region": region, "address": address, "tax_id": tax_id,
            "location": {"lat": lat, "lng": lng}, "source": data.source(rng), "scale": scale,
            "website": website, "introduction": data.introduction(rng, name, industry),
            "status": status, "confidentiality": "confidential" if confidential else "normal",
            "notes": rng.choice(LOST_NOTES) if status == "lost" else None,
        }
        # up to today: the last year's monthly charts and targets have new customers in every
        # month, and this week has some (the current month too, even on its first days)
        days = rng.uniform(0, 6) if rng.random() < RECENT_SHARE else rng.uniform(0, HISTORY_DAYS)
        age = timedelta(days=days, seconds=rng.randrange(86400))
        plan = _Plan(name, industry, line, args, now - age)

        candidates = [r for r in by_line.get(line, []) if r.has_room()]
        if candidates and rng.random() >= POOL_SHARE:
            plan.owner = rng.choice(candidates)
            plan.owner.owned += 1
            _owned_timeline(rng, now, plan)
            _plan_contacts(rng, now, plan, rng.choice((1, 2, 2, 3)))
        else:
            plan.creator = rng.choice(by_line[line]) if by_line.get(line) else None
            home = customers.industry_pool(line)
            # Some were claimed from the public pool once, and went back there.
            plan.pool = Pool.public if home != Pool.public and rng.random() < 0.1 else home
            if status == "intent" and rng.random() < 0.6:
                args["status"] = "potential"
            _pooled_timeline(rng, now, plan)
            _plan_contacts(rng, now, plan, rng.choice((0, 1, 1, 2)))
        plans.append(plan)
    # Created in time order, so codes grow with creation dates.
    plans.sort(key=lambda p: p.created_at)
    return plans


def _owned_timeline(rng: random.Random, now: datetime, plan: _Plan) -> None:
    """Recent enough progress that the owner still holds it (R-P5: 90 days by default); most
    were followed up within the last two weeks, a few have been quiet for longer (flagged by
    invalid tracking, R-P8), and a few are inside the 7-day warning window so the reclaim
    badges show."""
    roll = rng.random()
    days = rng.uniform(83, 89) if roll < 0.06 else rng.uniform(16, 75) if roll < 0.09 else rng.uniform(0, 14)
    plan.last_progress_at = max(plan.created_at, now - timedelta(days=days, seconds=rng.randrange(3600)))


def _pooled_timeline(rng: random.Random, now: datetime, plan: _Plan) -> None:
    age_days = (now - plan.created_at).total_seconds() / 86400
    if age_days > 95 and rng.random() < 0.55:
        # Reclaimed: 90 days without progress, then back to the pool.
        plan.times_reclaimed = rng.choice((1, 1, 1, 2))
        released = plan.created_at + timedelta(days=rng.uniform(91, age_days - 1))
        plan.last_progress_at = released - timedelta(days=90)
    else:
        # Released by the owner with a reason.
        released = plan.created_at + timedelta(days=rng.uniform(0, max(0.0, age_days - 0.5)))
        plan.last_progress_at = released
    plan.released_at = min(released, now - timedelta(hours=1))
    plan.last_progress_at = min(max(plan.last_progress_at, plan.created_at), plan.released_at)


def _plan_contacts(rng: random.Random, now: datetime, plan: _Plan, count: int) -> None:
    website = plan.args.get("website")
    for i in range(count):
        person = data.person_name(rng)
        contact = {
            "name": person, "title": data.job_title(rng), "department": rng.choice(CONTACT_DEPARTMENTS),
            "mobile": data.mobile(rng),
            "email": data.email_for(rng, person, website) if rng.random() < 0.6 else None,
            "phone": f"021-{rng.randrange(5000_0000, 6999_9999)}" if rng.random() < 0.3 else None,
            "key_person": i == 0 and rng.random() < 0.96,  # most have a key contact (R-P8)
            "attitude": rng.choice(ATTITUDES),
        }
        at = min(plan.created_at + timedelta(days=rng.uniform(0, 20) * i, minutes=rng.randrange(1, 240)),
                 now)
        plan.contacts.append((contact, at))


def _create_owned(plan: _Plan) -> None:
    owner = plan.owner.user
    customer = customers.create_customer(plan.args, owner)
    customer.created_at = customer.assigned_at = plan.created_at
    customer.last_progress_at = customer.updated_at = plan.last_progress_at
    plan.customer = customer
    for contact_args, at in plan.contacts:
        contact = customers.create_contact(customer, contact_args, owner)
        contact.created_at = contact.updated_at = at
        plan.contact_rows.append(contact)


def _create_pooled(plan: _Plan) -> None:
    """A customer that was released or reclaimed: no owner, in its pool, records kept."""
    args = plan.args
    location = args["location"]
    creator_id = plan.creator.user.id if plan.creator else None
    customer = Customer(
        id=uuid7(), name=plan.name, name_key=normalize_name(plan.name), name_initials=pinyin_initials(plan.name),
        tax_id=args["tax_id"], type=CustomerType(args["type"]), industry=plan.industry,
        business_line=plan.line, region=args["region"], address=args["address"],
        lat=location["lat"], lng=location["lng"], source=args["source"], scale=args["scale"],
        website=args["website"], introduction=args["introduction"], notes=args["notes"],
        status=CustomerStatus(args["status"]), confidentiality=Confidentiality(args["confidentiality"]),
        owner_id=None, pool=plan.pool, origin_pool=plan.pool, created_by_id=creator_id,
        created_at=plan.created_at, updated_at=plan.released_at, assigned_at=None,
        released_at=plan.released_at, times_reclaimed=plan.times_reclaimed,
        last_progress_at=plan.last_progress_at,
    )
    customers.assign_code(customer)
    db.session.add(customer)  # flushed with the next batch: ids are set here, nothing reads back
    plan.customer = customer
    audit.record("customer.create", "customer", customer.id,
                 audit.diff({}, customers.customer_snapshot(customer)), actor_id=None)
    for contact_args, at in plan.contacts:
        contact = Contact(id=uuid7(), customer_id=customer.id, created_by_id=creator_id, created_at=at, updated_at=at,
                          **contact_args)
        db.session.add(contact)
        plan.contact_rows.append(contact)
        audit.record("contact.create", "contact", contact.id,
                     audit.diff({}, {k: getattr(contact, k) for k in customers.CONTACT_FIELDS}
                                | {"customer_id": customer.id}), actor_id=None)


# ---- co-followers, shares, accounts, follow-ups ----------------------------------------------------

COFOLLOW_SHARE = 0.10
SHARE_SHARE = 0.06
ACCOUNT_SHARE = 0.35
POOL_ACCOUNT_SHARE = 0.10
TOO_MANY_INVALID_SHARE = 0.015
FOLLOW_UP_KINDS = (FollowUpKind.phone, FollowUpKind.phone, FollowUpKind.visit, FollowUpKind.visit,
                   FollowUpKind.wechat, FollowUpKind.wechat, FollowUpKind.email, FollowUpKind.other)
_TOPICS = ("上云迁移方案", "CDN加速报价", "数据中台建设", "对象存储扩容", "安全合规评估", "视频直播方案",
           "年度框架合同", "测试资源申请", "混合云架构", "容灾备份方案", "GPU算力需求", "短信与语音服务")
_RESULTS = ("对方认可方案方向，需要内部再评估", "确认了预算范围和采购流程", "约定下周安排技术交流",
            "对报价有疑问，需要重新核算", "已提交测试账号，等待反馈", "决策人出差，改约下次面谈",
            "同意先做小规模试点", "需要补充案例材料和资质证明")
_NEXT = ("下周回访", "发送正式报价", "安排技术专家上门", "整理会议纪要发给对方", "跟进测试结果", "约采购负责人面谈")
_SHORT = ("已联系", "聊了几句", "发了资料", "回头再说")
_PLATFORM_HOSTS = ("cloud", "yun", "pin", "acct")


def _activity_content(rng: random.Random, kind: FollowUpKind, contact: Contact | None) -> str:
    who = f"{contact.name}{rng.choice(('', '经理', '总'))}" if contact is not None else "对方"
    verb = {FollowUpKind.visit: "上门拜访", FollowUpKind.phone: "电话沟通", FollowUpKind.wechat: "微信沟通",
            FollowUpKind.email: "邮件往来", FollowUpKind.other: "会议交流"}[kind]
    return f"{verb}{who}，关于{rng.choice(_TOPICS)}：{rng.choice(_RESULTS)}，{rng.choice(_NEXT)}。"


def _invalid_content(rng: random.Random, phrases: list[str]) -> str:
    return rng.choice(phrases) if rng.random() < 0.7 else rng.choice(_SHORT)


def _add_activity(rng: random.Random, now: datetime, reps: list[_Rep], plans: list[_Plan]) -> None:
    made = {"cofollowers": 0, "shares": 0}
    settings = get_settings()
    phrases = list(settings.follow_up["empty_phrases"])
    by_line: dict[BusinessLine, list[User]] = {}
    for rep in reps:
        by_line.setdefault(rep.line, []).append(rep.user)
    departments = list(db.session.scalars(select(Department).where(Department.id.in_(
        sorted({rep.user.department_id for rep in reps}))).order_by(Department.name)))  # names: seed-stable
    used_accounts: set[str] = set()
    for plan in plans:
        if plan.owner is not None:
            owner = plan.owner.user
            writers = _add_cofollowers(rng, now, plan, owner, by_line, made)
            _add_shares(rng, now, plan, owner, reps, departments, made)
            if rng.random() < ACCOUNT_SHARE:
                _add_accounts(rng, now, plan, owner.id, used_accounts)
            _add_follow_ups(rng, now, plan, [owner, *writers], settings, phrases, until=plan.last_progress_at,
                            after=now)
        else:
            if plan.creator is not None and rng.random() < POOL_ACCOUNT_SHARE:
                _add_accounts(rng, now, plan, None, used_accounts)
            if plan.creator is not None:
                _add_follow_ups(rng, now, plan, [plan.creator.user], settings, phrases,
                                until=plan.last_progress_at, after=plan.released_at, history_only=True)


def _add_cofollowers(rng: random.Random, now: datetime, plan: _Plan, owner: User,
                     by_line: dict[BusinessLine, list[User]], made: dict[str, int]) -> list[User]:
    if rng.random() >= COFOLLOW_SHARE:
        return []
    colleagues = [u for u in by_line.get(plan.line, []) if u.id != owner.id]
    if not colleagues:
        return []
    follower = rng.choice(colleagues)
    made["cofollowers"] += 1
    permission = "read" if made["cofollowers"] % 3 == 2 else "write"  # both kinds in any demo
    at = min(plan.created_at + timedelta(days=rng.uniform(0, 30)), now)
    db.session.add(CoFollower(id=uuid7(), customer_id=plan.customer.id, user_id=follower.id, permission=permission,
                              added_by_id=owner.id, created_at=at))
    audit.record("cofollower.add", "customer", plan.customer.id,
                 {"co_follower": [None, {"user_id": follower.id, "permission": permission}]}, actor_id=owner.id)
    return [follower] if permission == "write" else []


def _add_shares(rng: random.Random, now: datetime, plan: _Plan, owner: User, reps: list[_Rep],
                departments: list[Department], made: dict[str, int]) -> None:
    if rng.random() >= SHARE_SHARE:
        return
    at = min(plan.created_at + timedelta(days=rng.uniform(0, 60)), now)
    made["shares"] += 1
    if made["shares"] % 3 != 1:  # a third are with a department, the first one included
        others = [r.user for r in reps if r.user.id != owner.id]
        target = {"user_id": rng.choice(others).id, "department_id": None}
    else:
        others = [d for d in departments if d.id != owner.department_id]
        target = {"user_id": None, "department_id": rng.choice(others).id}
    db.session.add(Share(id=uuid7(), customer_id=plan.customer.id, shared_by_id=owner.id, created_at=at, **target))
    audit.record("share.add", "customer", plan.customer.id, {"share": [None, target]}, actor_id=owner.id)


def _add_accounts(rng: random.Random, now: datetime, plan: _Plan, owner_id, used: set[str]) -> None:
    initials = plan.customer.name_initials[:8] or "acct"
    for _ in range(1 if rng.random() < 0.8 else 2):
        identifier = f"{initials}{rng.randrange(100, 100_000)}"
        while identifier in used:
            identifier = f"{rng.choice(_PLATFORM_HOSTS)}_{initials}{rng.randrange(100, 1_000_000)}"
        used.add(identifier)
        created = min(plan.created_at + timedelta(days=rng.uniform(0, 40), minutes=rng.randrange(600)), now)
        roll = rng.random()
        status = (AccountStatus.unverified if roll < 0.25 else AccountStatus.verified if roll < 0.6
                  else AccountStatus.filed)
        account = Account(id=uuid7(), customer_id=plan.customer.id, owner_id=owner_id, account=identifier,
                          status=status, created_by_id=plan.customer.created_by_id, created_at=created,
                          updated_at=created)
        if status != AccountStatus.unverified:
            account.real_name = RealName.enterprise if rng.random() < 0.85 else RealName.personal
            account.verified_at = min(created + timedelta(days=rng.uniform(0, 5)), now)
            account.updated_at = account.verified_at
        if status == AccountStatus.filed:
            account.filed_at = min(account.verified_at + timedelta(days=rng.uniform(0, 10)), now)
            account.updated_at = account.filed_at
        db.session.add(account)
        audit.record("account.create", "account", account.id,
                     audit.diff({}, {"customer_id": account.customer_id, "owner_id": owner_id,
                                     "account": identifier, "real_name": account.real_name,
                                     "status": status}), actor_id=plan.customer.created_by_id)


def _add_follow_ups(rng: random.Random, now: datetime, plan: _Plan, authors: list[User], settings,
                    phrases: list[str], until: datetime, after: datetime, history_only: bool = False) -> None:
    """Valid follow-ups up to the customer's last progress (the last one is that progress),
    and invalid ones at any time of the ownership (they are not progress)."""
    start = plan.created_at
    contacts = plan.contact_rows
    span = max((until - start).total_seconds(), 0.0)
    valid_times = [start + timedelta(seconds=rng.uniform(0, span)) for _ in range(rng.choice((0, 1, 1, 2, 3, 4)))]
    if span > 3600:
        valid_times.append(until)  # the follow-up that was the last progress
    if not contacts:
        valid_times = []  # nobody to talk to yet: no valid follow-up is possible
    invalid_count = 0
    if not history_only:
        if rng.random() < TOO_MANY_INVALID_SHARE:
            invalid_count = rng.randint(3, 4)
        elif rng.random() < 0.25:
            invalid_count = rng.randint(1, 2)
    end = min(after, now)
    invalid_times = [start + timedelta(seconds=rng.uniform(0, max((end - start).total_seconds(), 0.0)))
                     for _ in range(invalid_count)]
    rows = [(at, True) for at in valid_times] + [(at, False) for at in invalid_times]
    rows.sort(key=lambda r: r[0])
    for index, (at, valid) in enumerate(rows):
        kind = rng.choice(FOLLOW_UP_KINDS)
        known = [c for c in contacts if c.created_at <= at] or contacts[:1]
        contact = rng.choice(known) if known else None
        if valid:
            content = _activity_content(rng, kind, contact)
        else:
            content = _invalid_content(rng, phrases)
            if rng.random() < 0.3:
                contact = None
        # (a customer without contacts gets invalid ones only: no_contact)
        reasons = invalid_reasons(content, contact.id if contact is not None else None, settings)
        next_contact_at = None
        if index == len(rows) - 1 and not history_only and rng.random() < 0.45:
            # the last one names the next contact: mostly in the coming days, some today
            next_contact_at = now + timedelta(hours=rng.choice((1, 3, 5)) if rng.random() < 0.15
                                              else rng.uniform(24, 24 * 14))
        follow_up = FollowUp(id=uuid7(), customer_id=plan.customer.id, author_id=rng.choice(authors).id,
                             kind=kind, contact_id=contact.id if contact is not None else None, content=content,
                             next_contact_at=next_contact_at, valid=not reasons, invalid_reasons=reasons,
                             created_at=at, client_time=at - timedelta(seconds=rng.randrange(0, 900)))
        db.session.add(follow_up)
        audit.record("follow_up.create", "follow_up", follow_up.id,
                     audit.diff({}, {"customer_id": plan.customer.id, "kind": kind, "contact_id": follow_up.contact_id,
                                     "content": content, "next_contact_at": next_contact_at,
                                     "valid": follow_up.valid, "invalid_reasons": reasons}),
                     actor_id=follow_up.author_id)


def _add_pending_approvals(reps: list[_Rep], plans: list[_Plan]) -> None:
    """A few requests waiting in the inboxes, made through the real rules: SMB reps asking to
    claim from an industry pool (ops decide), and a rename waiting for a manager."""
    from server.customers.models import Pool
    from server.customers.service import request_change
    from server.pools.service import claim

    smb_reps = [r.user for r in reps if r.line == BusinessLine.SMB]
    industry_pooled = [p.customer for p in plans if p.owner is None and p.customer.pool not in (None, Pool.public)]
    for rep, customer in zip(smb_reps, industry_pooled[:2]):
        claim(customer.id, rep)
    owned = next((p for p in plans if p.owner is not None and p.owner.line == BusinessLine.KA), None)
    if owned is not None:
        request_change(owned.customer, {"name": owned.customer.name.replace("有限公司", "股份有限公司", 1)
                                        if "股份" not in owned.customer.name else owned.customer.name + "(集团)"},
                       "工商变更：公司改制", owned.owner.user)
