"""`fieldcrm demo` (SPEC §14): a realistic organisation and customers, loaded once."""
from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from click.testing import CliRunner
from conftest import _database, make_app
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from server.accounts.models import Account, AccountStatus
from server.cli import cli
from server.common.audit import AuditEntry
from server.common.db import utcnow
from server.customers.identity import is_valid_tax_id
from server.customers.models import CoFollower, Contact, Customer, Pool, Share
from server.customers.service import industry_pool, line_of_industry
from server.demo.loader import DEMO_PASSWORD
from server.extensions import db
from server.followups.models import FollowUp
from server.followups.service import flagged_customers, invalid_reasons
from server.org.models import BusinessLine, Department, Role, User
from server.settings.service import get_settings

LINE_DEPARTMENTS = {
    "KA大客户部": BusinessLine.KA,
    "泛互联网部": BusinessLine.INTERNET,
    "消费零售部": BusinessLine.RETAIL,
    "公共业务部": BusinessLine.PUBLIC,
    "SMB渠道部": BusinessLine.SMB,
}


def run_demo(app, *args: str):
    result = CliRunner().invoke(cli, ["demo", *args], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Customer, Contact, User, Department, AuditEntry, CoFollower, Share, Account,
                              FollowUp)}


@pytest.fixture(autouse=True)
def _own_databases(fresh_app):
    """The demo commits, so these tests use databases of their own: asking for `fresh_app`
    turns off the per-test rollback of the shared test database."""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One 200-customer load shared by the checks below (like `fresh_app`, its own database)."""
    tmp = tmp_path_factory.mktemp("demo")
    with _database(tmp, "demo") as url:
        app = make_app(url, tmp / "instance")
        output = run_demo(app, "--customers", "200")
        yield app, output
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def demo_db(demo_run):
    app, _ = demo_run
    with app.app_context():
        yield db.session
        db.session.rollback()


def test_prints_logins_with_the_password(demo_run):
    _, output = demo_run
    assert "demo data loaded" in output
    assert DEMO_PASSWORD in output
    for username in ("admin", "ops", "mgr_ka", "mgr_internet", "mgr_retail", "mgr_public", "mgr_smb",
                     "rep01", "rep20"):
        assert re.search(rf"^\s+{username}\s", output, re.M), username


def test_demo_users_log_in_with_the_demo_password(demo_run):
    app, _ = demo_run
    client = app.test_client()
    for username in ("admin", "mgr_ka", "rep07"):
        response = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.json


def test_line_departments_with_managers_and_reps(demo_db):
    session = demo_db
    root = session.scalar(select(Department).where(Department.name == "销售中心", Department.parent_id.is_(None)))
    assert root is not None
    for name, line in LINE_DEPARTMENTS.items():
        department = session.scalar(select(Department).where(Department.name == name))
        assert department is not None, name
        assert department.parent_id == root.id
        assert department.business_line == line
        managers = session.scalars(select(User).where(User.department_id == department.id,
                                                      User.role == Role.manager)).all()
        assert len(managers) == 1, name
        reps = session.scalars(select(User).join(Department, User.department_id == Department.id).where(
            Department.path.startswith(department.path), User.role == Role.rep)).all()
        assert reps, f"no reps in {name}"
        assert all(r.business_line == line for r in reps)
    teams = session.scalars(select(Department).where(Department.name.in_(["华东KA一组", "华东KA二组"]))).all()
    assert len(teams) == 2 and all(t.business_line == BusinessLine.KA for t in teams)
    reps = session.scalars(select(User).where(User.role == Role.rep)).all()
    assert sorted(r.username for r in reps) == [f"rep{n:02d}" for n in range(1, 21)]
    assert len({r.display_name for r in reps}) == 20
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", r.display_name) for r in reps)
    assert session.scalar(select(User).where(User.username == "ops")).role == Role.ops
    assert session.scalar(select(User).where(User.username == "admin")).role == Role.admin


def test_customers_are_realistic(demo_db):
    session = demo_db
    customers = session.scalars(select(Customer)).all()
    assert len(customers) == 200
    codes = [c.code for c in customers]
    assert all(re.fullmatch(r"C\d{10}", code) for code in codes)
    assert len(set(codes)) == 200
    with_tax = [c for c in customers if c.tax_id]
    assert 0.6 * 200 <= len(with_tax) <= 0.95 * 200
    assert all(is_valid_tax_id(c.tax_id) for c in with_tax)
    assert all(c.tax_id[2:6] == "3101" for c in with_tax)  # Shanghai divisions
    for c in customers:
        assert 30.6 <= c.lat <= 31.9 and 120.8 <= c.lng <= 122.1, (c.name, c.lat, c.lng)
        assert c.region.startswith("上海市") and c.address.startswith(c.region)
        assert c.business_line == line_of_industry(c.industry)
        # `signed` only ever comes from a signed deal (R-C6)
        assert c.status.value in ("potential", "intent", "lost") or (c.status.value == "signed" and c.deal_total > 0)
        assert c.introduction and len(c.introduction) <= 200
        assert c.created_at.tzinfo is not None and c.created_at <= utcnow()
        assert c.last_progress_at is not None and c.created_at <= c.last_progress_at <= utcnow()
    statuses = Counter(c.status.value for c in customers)
    assert statuses["potential"] > statuses["lost"] > 0 and statuses["intent"] > 0
    assert any(c.confidentiality.value == "confidential" for c in customers)
    # Created over the last ~18 months.
    oldest = min(c.created_at for c in customers)
    assert utcnow() - oldest > timedelta(days=300)
    assert utcnow() - oldest < timedelta(days=560)
    # Codes follow creation time.
    by_code = sorted(customers, key=lambda c: c.code)
    assert [c.created_at for c in by_code] == sorted(c.created_at for c in customers)


def test_owners_match_lines_and_quotas(demo_db):
    session = demo_db
    quotas = get_settings().quotas
    owned = session.scalars(select(Customer).where(Customer.owner_id.is_not(None))).all()
    assert len(owned) > 100
    per_owner: Counter = Counter()
    for c in owned:
        owner = session.get(User, c.owner_id)
        assert owner.role == Role.rep
        assert c.business_line == owner.business_line, (c.name, c.industry, owner.username)
        assert c.pool is None and c.created_by_id == owner.id
        assert c.assigned_at == c.created_at
        # Progress recent enough that the reclaim job leaves it with its owner.
        assert utcnow() - c.last_progress_at < timedelta(days=90)
        per_owner[(owner.id, c.business_line)] += 1
        contacts = session.scalars(select(Contact).where(Contact.customer_id == c.id)).all()
        assert 1 <= len(contacts) <= 3
        assert all(re.fullmatch(r"1\d{10}", k.mobile) for k in contacts)
    for (_, line), count in per_owner.items():
        limit = quotas.get(line.value)
        assert limit is None or count <= limit
    # SMB reps own SMB (`other`) customers.
    smb_owned = [c for c in owned if session.get(User, c.owner_id).business_line == BusinessLine.SMB]
    assert smb_owned and all(c.industry == "other" for c in smb_owned)
    assert session.scalar(select(func.count()).select_from(Contact).where(Contact.key_person.is_(True))) > 0


def test_some_customers_are_in_pools(demo_db):
    session = demo_db
    pooled = session.scalars(select(Customer).where(Customer.owner_id.is_(None))).all()
    assert pooled
    for c in pooled:
        assert c.pool is not None and c.origin_pool == c.pool
        assert c.pool in (industry_pool(c.business_line), Pool.public)
        assert c.released_at is not None and c.created_at <= c.released_at < utcnow()
        assert c.last_progress_at <= c.released_at


def test_approvals_wait_in_the_inboxes(demo_db):
    from server.approvals.models import Approval

    pending = demo_db.scalars(select(Approval).where(Approval.status == "pending")).all()
    kinds = sorted(a.kind for a in pending)
    assert kinds.count("pool_claim") >= 1 and "change_request" in kinds
    for approval in pending:
        if approval.kind == "pool_claim":  # an SMB rep asked for an industry-pool customer
            assert approval.stages == ["ops"]
            assert demo_db.get(Customer, approval.customer_id).pool not in (None, Pool.public)


def test_co_followers_and_shares_on_owned_customers(demo_db):
    session = demo_db
    followers = session.scalars(select(CoFollower)).all()
    assert {f.permission for f in followers} == {"read", "write"}
    for f in followers:
        customer = session.get(Customer, f.customer_id)
        assert customer.owner_id is not None and f.user_id != customer.owner_id
        assert f.added_by_id == customer.owner_id
        assert session.get(User, f.user_id).business_line == customer.business_line
    shares = session.scalars(select(Share)).all()
    assert shares and any(s.user_id for s in shares) and any(s.department_id for s in shares)
    for s in shares:
        customer = session.get(Customer, s.customer_id)
        assert customer.owner_id is not None and s.shared_by_id == customer.owner_id
        assert s.user_id != customer.owner_id


def test_accounts_follow_their_customers_owner(demo_db):
    session = demo_db
    accounts = session.scalars(select(Account)).all()
    assert len(accounts) > 20
    assert len({a.account for a in accounts}) == len(accounts)
    statuses = Counter(a.status for a in accounts)
    assert all(statuses[s] > 0 for s in AccountStatus), statuses
    for a in accounts:
        customer = session.get(Customer, a.customer_id)
        assert a.owner_id == customer.owner_id  # None for pool customers
        assert (a.real_name is None) == (a.verified_at is None) == (a.status == AccountStatus.unverified)
        if a.status == AccountStatus.filed:
            assert a.verified_at <= a.filed_at <= utcnow()
        else:
            assert a.filed_at is None
        assert customer.created_at <= a.created_at <= utcnow()
    assert any(a.owner_id is None for a in accounts) and any(a.owner_id for a in accounts)


def test_follow_ups_over_the_last_months(demo_db):
    session = demo_db
    settings = get_settings()
    rows = session.scalars(select(FollowUp)).all()
    assert len(rows) > 200
    valid = [f for f in rows if f.valid]
    assert 0.7 * len(rows) < len(valid) < len(rows)
    assert utcnow() - min(f.created_at for f in rows) > timedelta(days=120)
    reasons = Counter(r for f in rows for r in f.invalid_reasons)
    assert reasons["empty_phrase"] > 0 and reasons["too_short"] > 0 and reasons["no_contact"] > 0
    assert {f.kind.value for f in rows} == {"visit", "phone", "email", "wechat", "other"}
    assert any(f.next_contact_at and f.next_contact_at > utcnow() for f in rows)
    for f in rows:
        customer = session.get(Customer, f.customer_id)
        # the stored reasons are exactly what the rules say
        assert f.invalid_reasons == invalid_reasons(f.content, f.contact_id, settings)
        assert f.valid == (not f.invalid_reasons)
        if f.contact_id:
            assert session.get(Contact, f.contact_id).customer_id == customer.id
        assert customer.created_at <= f.created_at <= utcnow()
        if f.valid:  # valid follow-ups are progress: none after the customer's last progress
            assert f.created_at <= customer.last_progress_at
        if customer.owner_id is not None:
            writers = {c.user_id for c in session.scalars(select(CoFollower).where(
                CoFollower.customer_id == customer.id, CoFollower.permission == "write"))}
            assert f.author_id in {customer.owner_id} | writers


def test_a_few_customers_are_flagged_by_invalid_tracking(demo_db):
    session = demo_db
    admin = session.scalar(select(User).where(User.username == "admin"))
    flagged = flagged_customers(admin)
    owned = session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id.is_not(None)))
    assert 0 < len(flagged) < 0.3 * owned
    codes = {r["code"] for item in flagged for r in item["reasons"]}
    assert "no_valid_follow_up" in codes and "no_key_contact" in codes


def test_second_run_changes_nothing(demo_run):
    app, _ = demo_run
    before = counts(app)
    output = run_demo(app, "--customers", "200")
    assert "demo data already present" in output
    assert DEMO_PASSWORD in output and "mgr_ka" in output
    assert counts(app) == before


def test_deterministic_for_a_seed(fresh_app):
    def names(seed):
        app = fresh_app()
        run_demo(app, "--customers", "40", "--seed", str(seed))
        with app.app_context():
            customers = db.session.execute(
                select(Customer.name, Customer.industry, Customer.tax_id, Customer.lat, User.username)
                .outerjoin(User, User.id == Customer.owner_id).order_by(Customer.code)).all()
            users = db.session.execute(select(User.username, User.display_name).order_by(User.username)).all()
            activity = sorted(db.session.execute(select(FollowUp.content, FollowUp.valid, Customer.name)
                                                 .join(Customer, Customer.id == FollowUp.customer_id)).all())
            accounts = sorted(db.session.execute(select(Account.account, Account.status)).all())
        return ([tuple(r) for r in customers], [tuple(r) for r in users], [tuple(r) for r in activity],
                [tuple(r) for r in accounts])

    first = names(7)
    assert names(7) == first
    assert names(8) != first


# ---- a year of activity, targets and daily reports (issue 8) ---------------------------------------

def _months(values) -> set[tuple[int, int]]:
    return {(v.year, v.month) for v in values}


def _last_twelve_months(today) -> set[tuple[int, int]]:
    months, year, month = set(), today.year, today.month
    for _ in range(12):
        months.add((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def test_a_year_of_activity_spread_over_the_months(demo_db):
    from zoneinfo import ZoneInfo

    from server.pipeline.models import Deal, DealStatus, Payment
    from server.visits.models import Visit

    session = demo_db
    zone = ZoneInfo(get_settings().timezone)
    today = utcnow().astimezone(zone).date()
    year = _last_twelve_months(today)
    created = [c.created_at.astimezone(zone) for c in session.scalars(select(Customer))]
    this_month = {(today.year, today.month)}
    assert year - this_month <= _months(created), "new customers in every one of the last 12 months"
    assert len([c for c in created if c.date() >= today - timedelta(days=7)]) >= 3, "and this week"
    visits = [v.visited_at.astimezone(zone) for v in session.scalars(select(Visit))]
    assert len(visits) >= 80
    assert len(_months(visits) & year) >= 8, sorted(_months(visits))
    assert max(visits) - min(visits) > timedelta(days=240)
    assert len({v.date() for v in visits}) > 40, "not all on a few days"
    signed = [d.signed_date for d in session.scalars(select(Deal).where(Deal.status == DealStatus.signed))]
    assert len(_months(signed) & year) >= 10, sorted(_months(signed))
    received = [p.received_date for p in session.scalars(select(Payment))]
    assert len(_months(received) & year) >= 10, sorted(_months(received))
    follow_ups = [f.created_at.astimezone(zone) for f in session.scalars(select(FollowUp))]
    assert len(_months(follow_ups) & year) >= 11
    assert all(at.date() <= today for at in created + visits + follow_ups)
    assert max(signed + received) <= today


def test_every_rep_has_targets_set_by_a_manager_some_met(demo_db):
    from server.approvals.models import Approval
    from server.targets import service as targets
    from server.targets.models import Target

    session = demo_db
    reps = session.scalars(select(User).where(User.role == Role.rep, User.active.is_(True))).all()
    rows = session.scalars(select(Target)).all()
    by_user: dict = {}
    for t in rows:
        by_user.setdefault(t.user_id, []).append(t)
    today = utcnow().astimezone(__import__("zoneinfo").ZoneInfo(get_settings().timezone)).date()
    met = missed = 0
    for rep in reps:
        mine = sorted(by_user.get(rep.id, []), key=lambda t: t.start_date)
        active = [t for t in mine if t.status == "active"]
        assert len(active) >= 5, rep.username
        quarterly = rep.department.business_line == BusinessLine.KA
        for t in active:
            setter = session.get(User, t.set_by_id)
            assert setter.role == Role.manager and rep.department.path.startswith(setter.department.path)
            assert t.approved_by_id == setter.id
            span = (t.end_date - t.start_date).days + 1
            assert (89 <= span <= 92) if quarterly else (28 <= span <= 31)
        # consecutive periods, none overlapping, the last one is current
        for a, b in zip(active, active[1:]):
            assert b.start_date == a.end_date + timedelta(days=1)
        assert active[-1].start_date <= today <= active[-1].end_date
        assert active[0].start_date <= today - timedelta(days=330)
        for t in active[:-1]:
            numbers = targets.actuals([rep.id], t.start_date, t.end_date)[rep.id]
            if all(numbers[k] >= getattr(t, k) for k in targets.MEASURES):
                met += 1
            else:
                missed += 1
    assert met >= 3 and missed >= 3, (met, missed)
    (draft,) = [t for t in rows if t.status == "pending"]
    assert draft.start_date > today and draft.set_by_id == draft.user_id
    approval = session.get(Approval, draft.approval_id)
    assert approval.kind == "target" and approval.status == "pending"
    assert approval.requester_id == draft.user_id


def test_daily_reports_for_the_recent_working_days_with_a_few_missing(demo_db):
    from server.daily_reports import service as daily_reports
    from server.daily_reports.models import DailyReport

    session = demo_db
    reps = session.scalars(select(User).where(User.role == Role.rep, User.active.is_(True))).all()
    rows = session.scalars(select(DailyReport)).all()
    days = sorted({r.report_date for r in rows})
    assert len(days) >= 8 and all(d.weekday() < 5 for d in days)
    assert {r.user_id for r in rows} == {r.id for r in reps}
    possible = len(days) * len(reps)
    assert 0.6 * possible < len(rows) < possible, "most reps report, a few days are missing"
    assert all(r.summary and r.plan and r.submitted_at <= utcnow() for r in rows)
    # the managers see who is missing on some day
    manager = session.scalar(select(User).where(User.username == "mgr_internet"))
    assert any(daily_reports.day_overview(manager, d, None)["missing"] for d in days)
    filled = [r for r in rows if "拜访" in r.summary]
    assert filled, "summaries are written from the day's records"
