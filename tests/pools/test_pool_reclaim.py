"""The reclaim job (SPEC R-P5, R-P7, R-P4): `fieldcrm pools reclaim [--as-of] [--dry-run]`.

Customers whose last progress is older than their status's period go back to their origin pool;
owners are warned 7 days before; the job is idempotent and safe to run on several hosts at once.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from conftest import Factory
from pool_helpers import (Device, age, browse, get_customer, now, ok, ops, pool_customer, set_fields,
                          set_settings)


def reclaim(app, *args):
    from server.cli import cli

    result = CliRunner().invoke(cli, ["pools", "reclaim", *args], obj=ScriptInfo(create_app=lambda: app),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _owned(factory, owner=None, line="KA", **kw):
    owner = owner or factory.user("rep", line=line)
    from pool_helpers import INDUSTRY

    kw.setdefault("industry", INDUSTRY[line])
    return owner, factory.customer(owner, **kw)


def _notifications(app, user_id, kind):
    from server.extensions import db
    from server.notifications.models import Notification

    with app.app_context():
        rows = list(db.session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                                  Notification.kind == kind)))
        db.session.expunge_all()
        return rows


def test_customer_without_progress_for_91_days_is_due_89_days_is_not(factory):
    from server.extensions import db
    from server.pools.service import run_reclaim

    owner, due = _owned(factory, name="九十一天金融有限公司")
    _, fresh = _owned(factory, owner, name="八十九天金融有限公司")
    age(factory.app, due.id, 91, "potential")
    age(factory.app, fresh.id, 89, "potential")
    with factory.app.app_context():
        report = run_reclaim(dry_run=True)
        db.session.rollback()
    assert {e["customer_id"] for e in report.reclaimed} == {str(due.id)}
    assert str(fresh.id) in {e["customer_id"] for e in report.warned}


def test_per_status_reclaim_periods_are_honoured(factory):
    set_settings(factory.app, {"reclaim": {"by_status": {"potential": 30, "intent": 15}}})
    owner = factory.user("rep", line="KA")
    cases = {  # name: (status, days without progress, due?)
        "潜在三十一天": ("potential", 31, True),
        "潜在二十天": ("potential", 20, False),
        "意向十六天": ("intent", 16, True),
        "意向十天": ("intent", 10, False),
        "成交三十一天": ("signed", 31, False),  # not named: the default 90 days
        "成交九十一天": ("signed", 91, True),
    }
    made = {}
    for label, (status, days, _) in cases.items():
        _, customer = _owned(factory, owner, name=f"{label}分状态金融有限公司")
        age(factory.app, customer.id, days, status)
        made[label] = customer
    reclaim(factory.app)
    for label, (_, _, due) in cases.items():
        row = get_customer(factory.app, made[label].id)
        assert (row.owner_id is None) is due, label
        assert (row.pool is not None) is due, label


def test_dry_run_lists_the_due_customers_and_changes_nothing(factory, db_ctx):
    from server.common.audit import AuditEntry
    from server.notifications.models import Notification

    owner, customer = _owned(factory, name="演练回收金融有限公司")
    age(factory.app, customer.id, 91)
    with db_ctx() as session:
        audits = session.scalar(select(func.count()).select_from(AuditEntry))
        notes = session.scalar(select(func.count()).select_from(Notification))
    output = reclaim(factory.app, "--dry-run")
    assert "would reclaim" in output
    assert customer.code in output and "演练回收金融有限公司" in output and "-> KA" in output
    row = get_customer(factory.app, customer.id)
    assert row.owner_id == owner.id and row.pool is None and row.times_reclaimed == 0
    with db_ctx() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits
        assert session.scalar(select(func.count()).select_from(Notification)) == notes


def test_reclaim_moves_exactly_the_customers_without_progress_to_their_origin_pools(factory, db_ctx):
    from server.customers.models import CoFollower, Customer, Share
    from server.pools.models import ClaimCooldown

    owner = factory.user("rep", line="KA")
    smb_owner = factory.user("rep", line="SMB")
    # created by its owner: back to the line's industry pool
    _, created = _owned(factory, owner, name="自建回收金融有限公司")
    # created in SMB: back to the public pool
    _, smb = _owned(factory, smb_owner, line="SMB", name="自建回收小微商贸有限公司")
    # claimed from the public pool: back to where it came from
    from_public = pool_customer(factory, "public", line="KA", name="公海领回收金融有限公司")
    assert Device(factory, owner).claim(from_public.id)["status"] == "applied"
    # not due, receivables, legal dispute: stay
    _, active = _owned(factory, owner, name="有进展不回收金融有限公司")
    _, owing = _owned(factory, owner, name="有应收不回收金融有限公司")
    _, disputed = _owned(factory, owner, name="有纠纷不回收金融有限公司")
    follower = factory.user("rep", line="KA")
    device = Device(factory, owner)
    assert device.send("cofollower.add", {"customer_id": str(created.id), "user_id": str(follower.id)})["status"] \
        == "applied"
    assert device.send("share.add", {"customer_id": str(created.id), "user_id": str(follower.id)})["status"] \
        == "applied"
    for c in (created, smb, from_public, owing, disputed):
        age(factory.app, c.id, 91)
    age(factory.app, active.id, 30)
    set_fields(factory.app, Customer, owing.id, deal_total=500_000, payment_total=100_000)
    set_fields(factory.app, Customer, disputed.id, legal_dispute=True)

    output = reclaim(factory.app)
    assert output.startswith("reclaimed ")
    expected = {created.id: "KA", smb.id: "public", from_public.id: "public"}
    for customer_id, pool in expected.items():
        row = get_customer(factory.app, customer_id)
        assert row.owner_id is None and row.pool.value == pool, pool
        assert row.times_reclaimed == 1 and row.released_at is not None
    for kept in (active, owing, disputed):
        row = get_customer(factory.app, kept.id)
        assert row.owner_id == owner.id and row.pool is None and row.times_reclaimed == 0

    with db_ctx() as session:
        assert session.scalar(select(func.count()).select_from(CoFollower)
                              .where(CoFollower.customer_id == created.id)) == 0
        assert session.scalar(select(func.count()).select_from(Share).where(Share.customer_id == created.id)) == 0
        cooldown = session.get(ClaimCooldown, (created.id, owner.id))
        assert cooldown is not None and cooldown.reason == "reclaim" and cooldown.until > now()
    reclaimed_notes = _notifications(factory.app, owner.id, "customer_reclaimed")
    assert {n.customer_id for n in reclaimed_notes} == {created.id, from_public.id}
    assert {n.data["pool"] for n in reclaimed_notes} == {"KA", "public"}
    assert {n.customer_id for n in _notifications(factory.app, smb_owner.id, "customer_reclaimed")} == {smb.id}

    # idempotent: nothing more to do, nothing counted twice
    second = reclaim(factory.app)
    assert second.startswith("reclaimed 0 customer(s)")
    for customer_id in expected:
        assert get_customer(factory.app, customer_id).times_reclaimed == 1
    assert len(_notifications(factory.app, owner.id, "customer_reclaimed")) == 2


def test_reclaim_is_audited_once_per_customer(factory, db_ctx):
    from server.common.audit import AuditEntry

    owner, customer = _owned(factory, name="回收审计金融有限公司")
    age(factory.app, customer.id, 91)
    reclaim(factory.app)
    reclaim(factory.app)
    with db_ctx() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.reclaim",
                                                                AuditEntry.entity_id == str(customer.id))))
        assert len(entries) == 1
        assert entries[0].actor_id is None and entries[0].channel == "job"


def test_reclaimed_customer_can_be_claimed_again_with_a_count_of_times_reclaimed(client, factory):
    owner, customer = _owned(factory, name="再次申领金融有限公司")
    age(factory.app, customer.id, 91)
    reclaim(factory.app)
    # the former owner is in cooldown; another KA rep takes it
    assert Device(factory, owner).claim(customer.id)["error"]["code"] == "cooldown_active"
    other = factory.user("rep", line="KA")
    h = factory.headers(other)
    [item] = ok(browse(client, h, "KA", q="再次申领"))["items"]
    assert item["times_reclaimed"] == 1
    assert Device(factory, other).claim(customer.id)["status"] == "applied"


def test_as_of_in_the_future_makes_more_customers_due(factory):
    owner = factory.user("rep", line="KA")
    _, sixty = _owned(factory, owner, name="六十天未来金融有限公司")
    _, ten = _owned(factory, owner, name="十天未来金融有限公司")
    age(factory.app, sixty.id, 60)
    age(factory.app, ten.id, 10)
    output = reclaim(factory.app, "--dry-run")
    assert sixty.code not in output and ten.code not in output
    as_of = (now() + timedelta(days=31)).isoformat()
    output = reclaim(factory.app, "--dry-run", "--as-of", as_of)
    assert sixty.code in output and ten.code not in output
    reclaim(factory.app, "--as-of", as_of)
    assert get_customer(factory.app, sixty.id).pool.value == "KA"
    assert get_customer(factory.app, ten.id).owner_id == owner.id


def test_bad_as_of_is_a_usage_error(factory):
    from server.cli import cli

    result = CliRunner().invoke(cli, ["pools", "reclaim", "--as-of", "yesterday"],
                                obj=ScriptInfo(create_app=lambda: factory.app))
    assert result.exit_code == 2 and "ISO 8601" in result.output


def test_former_owners_phone_loses_reclaimed_customers_while_the_pool_shows_them(client, factory):
    owner, customer = _owned(factory, name="手机删除金融有限公司")
    contacts = [factory.contact(customer, by=owner) for _ in range(2)]
    device = Device(factory, owner)
    device.patch()
    assert device.has("customer", customer.id) and all(device.has("contact", c.id) for c in contacts)

    age(factory.app, customer.id, 91)
    reclaim(factory.app)
    patch = device.patch()
    assert str(customer.id) in ops(patch, "customer", "del")
    assert {str(c.id) for c in contacts} <= ops(patch, "contact", "del")
    assert not device.has("customer", customer.id)
    assert not any(device.has("contact", c.id) for c in contacts)
    notes = [o for o in patch if o["entity"] == "notification" and o["op"] == "put"]
    assert any(n["data"]["kind"] == "customer_reclaimed" and n["data"]["customer_id"] == str(customer.id)
               for n in notes), notes

    h = factory.headers(factory.user("rep", line="KA"))
    [item] = ok(browse(client, h, "KA", q="手机删除"))["items"]
    assert item["id"] == str(customer.id) and item["times_reclaimed"] == 1


def test_owner_is_warned_once_seven_days_before_reclaim(factory):
    owner = factory.user("rep", line="KA")
    _, soon = _owned(factory, owner, name="预警八十五天金融有限公司")
    _, later = _owned(factory, owner, name="预警八十二天金融有限公司")
    age(factory.app, soon.id, 85)
    age(factory.app, later.id, 82)  # 8 days left: not yet
    device = Device(factory, owner)
    device.patch()

    reclaim(factory.app)
    reclaim(factory.app)  # a second run (another host, a restart) warns nobody twice
    warnings = _notifications(factory.app, owner.id, "reclaim_warning")
    assert [w.customer_id for w in warnings] == [soon.id]
    assert warnings[0].data["days_left"] == 5 and warnings[0].data["code"] == soon.code
    assert get_customer(factory.app, soon.id).owner_id == owner.id  # warned, not reclaimed

    patch = device.patch()
    puts = [o for o in patch if o["entity"] == "notification" and o["op"] == "put"]
    assert [(p["data"]["kind"], p["data"]["customer_id"]) for p in puts] == [("reclaim_warning", str(soon.id))]


def test_days_to_reclaim_on_the_synced_customer_equals_the_days_left(factory):
    owner = factory.user("rep", line="KA")
    _, soon = _owned(factory, owner, name="剩余天数五天金融有限公司")
    _, fresh = _owned(factory, owner, name="剩余天数新建金融有限公司")
    _, owing = _owned(factory, owner, name="剩余天数应收金融有限公司")
    from server.customers.models import Customer

    age(factory.app, soon.id, 85)
    age(factory.app, owing.id, 85, deal_total=100, payment_total=0)
    device = Device(factory, owner)
    device.patch()
    assert device.data("customer", soon.id)["days_to_reclaim"] == 5
    assert device.data("customer", fresh.id)["days_to_reclaim"] == 90
    assert device.data("customer", owing.id)["days_to_reclaim"] is None  # exempt
    set_settings(factory.app, {"reclaim": {"by_status": {"potential": 30}}})
    age(factory.app, fresh.id, 10)
    set_fields(factory.app, Customer, fresh.id, notes="touch")
    device.patch()
    assert device.data("customer", fresh.id)["days_to_reclaim"] == 20


def test_progress_moves_the_clock_forward_never_back(factory):
    from server.extensions import db
    from server.customers.models import Customer
    from server.pools.service import touch_progress

    owner, customer = _owned(factory, name="进展时钟金融有限公司")
    age(factory.app, customer.id, 91)
    with factory.app.app_context():
        row = db.session.get(Customer, customer.id)
        touch_progress(row, now() - timedelta(days=100))  # an old event does not set it back
        assert row.last_progress_at < now() - timedelta(days=90)
        touch_progress(row)
        db.session.commit()
    reclaim(factory.app)
    assert get_customer(factory.app, customer.id).owner_id == owner.id


@pytest.mark.postgres_only
def test_two_concurrent_reclaim_runs_reclaim_each_customer_exactly_once(fresh_app):
    from server.common.audit import AuditEntry
    from server.customers.models import Customer
    from server.extensions import db
    from server.jobs import reclaim_job
    from server.notifications.models import Notification

    app = fresh_app()
    factory = Factory(app)
    owner = factory.user("rep", line="KA")
    due = [factory.customer(owner, name=f"并发回收{i}号金融有限公司") for i in range(12)]
    for c in due:
        age(app, c.id, 91)

    for attempt in range(3):
        if attempt:
            # put them back with their owner, due again, for another round (audit entries are
            # append-only, so they are counted per round)
            for c in due:
                set_fields(app, Customer, c.id, owner_id=owner.id, pool=None, times_reclaimed=0,
                           last_progress_at=now() - timedelta(days=91))
        barrier = threading.Barrier(2)
        reports, errors = [], []

        def run():
            try:
                with app.app_context():
                    barrier.wait(timeout=60)
                    reports.append(reclaim_job())
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert len(reports) == 2
        reclaimed = [e["customer_id"] for r in reports for e in r.reclaimed]
        assert sorted(reclaimed) == sorted(str(c.id) for c in due)  # between them, each exactly once
        with app.app_context():
            for c in due:
                row = db.session.get(Customer, c.id)
                assert row.owner_id is None and row.pool.value == "KA" and row.times_reclaimed == 1
                assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action == "customer.reclaim", AuditEntry.entity_id == str(c.id))) == attempt + 1
                # one notice per customer and day, however many rounds and hosts
                assert db.session.scalar(select(func.count()).select_from(Notification).where(
                    Notification.kind == "customer_reclaimed", Notification.customer_id == c.id)) == 1
            db.session.rollback()


def _wait_until_blocked(app, timeout=10.0) -> bool:
    """True once some session of this database waits for a lock."""
    import time

    from sqlalchemy import text

    from server.extensions import db

    deadline = time.monotonic() + timeout
    with app.app_context():
        with db.engine.connect() as conn:
            while time.monotonic() < deadline:
                waiting = conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar()
                if waiting:
                    return True
                conn.rollback()
                time.sleep(0.05)
    return False


@pytest.mark.postgres_only
@pytest.mark.parametrize("progress", [True, False], ids=["with_progress", "plain_edit"])
def test_a_phone_writing_a_due_customer_during_the_reclaim_run_neither_deadlocks_nor_is_lost(fresh_app, progress):
    """A phone's write holds the customer's row lock while the job runs; on PostgreSQL every
    writer takes the global version counter last, just before COMMIT (server/common/db.py), so
    the job waiting on that row and the writer finishing with the counter cannot deadlock — and
    the job sees the row as the phone committed it (progress keeps the customer)."""
    from sqlalchemy.orm import Session

    from server.customers.models import Customer
    from server.extensions import db
    from server.jobs import reclaim_job

    app = fresh_app()
    factory = Factory(app)
    owner, customer = _owned(factory, name="回收期间写入金融有限公司")
    _, other = _owned(factory, owner, name="回收期间旁观金融有限公司")
    age(app, customer.id, 91)
    age(app, other.id, 91)

    with app.app_context():
        writer = Session(db.engine)
        # the phone's write has begun: its change is flushed, so it holds the customer's row
        row = writer.get(Customer, customer.id)
        row.notes = "拜访后补充备注"
        if progress:
            row.last_progress_at = now()
        writer.flush()
        outcome: dict = {}

        def run_job():
            try:
                with app.app_context():
                    outcome["report"] = reclaim_job()
            except BaseException as exc:  # noqa: BLE001
                outcome["error"] = exc

        job = threading.Thread(target=run_job)
        job.start()
        try:
            assert _wait_until_blocked(app), "the job never waited for the writer"
            writer.commit()  # takes the version counter now, while the job waits on the row
        finally:
            writer.close()
            job.join(60)
    assert not job.is_alive()
    assert "error" not in outcome, outcome.get("error")
    reclaimed = {e["customer_id"] for e in outcome["report"].reclaimed}
    assert str(other.id) in reclaimed
    row = get_customer(app, customer.id)
    assert row.notes == "拜访后补充备注"  # the phone's write is kept either way
    if progress:
        assert str(customer.id) not in reclaimed and row.owner_id == owner.id
    else:
        assert str(customer.id) in reclaimed and row.owner_id is None and row.pool.value == "KA"
