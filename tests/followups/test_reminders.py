"""Next-contact reminders (SPEC R-A1 "reminder on that day", R-A3)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from followup_helpers import Phone, new_id, ops_of
from sqlalchemy import select

from server.followups.service import remind_due_follow_ups
from server.notifications.models import Notification

SH = ZoneInfo("Asia/Shanghai")
GOOD = "电话联系王经理，约好下次上门演示新系统"


@pytest.fixture
def world(client, factory):
    department = factory.department("华东KA一组", line="KA")
    owner = factory.user("rep", department=department, display_name="负责人")
    writer = factory.user("rep", department=department, display_name="写协同")
    customer = factory.customer(owner, name="上海春意空调有限公司")
    contact = factory.contact(customer, owner, name="王经理")
    phone = Phone(client, factory, owner)
    phone.applied("cofollower.add", {"customer_id": str(customer.id), "user_id": str(writer.id),
                                     "permission": "write"})
    return owner, writer, customer, contact, phone


def _follow_up(phone, customer, contact, next_contact_at: str | None, content=GOOD) -> str:
    fid = new_id()
    args = {"id": fid, "customer_id": str(customer.id), "kind": "phone", "contact_id": str(contact.id),
            "content": content}
    if next_contact_at:
        args["next_contact_at"] = next_contact_at
    phone.applied("follow_up.create", args)
    return fid


def _run(db_ctx, as_of: datetime) -> list[dict]:
    with db_ctx() as session:
        sent = remind_due_follow_ups(as_of)
        session.commit()
        return sent


def _reminders(db_ctx, user) -> list[Notification]:
    with db_ctx() as session:
        return list(session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                               Notification.kind == "follow_up_due")))


def test_the_author_is_reminded_on_the_day_once(client, factory, world, db_ctx):
    owner, _writer, customer, contact, phone = world
    fid = _follow_up(phone, customer, contact, "2030-03-10T15:00:00+08:00")
    assert _run(db_ctx, datetime(2030, 3, 9, 23, 0, tzinfo=SH)) == []
    sent = _run(db_ctx, datetime(2030, 3, 10, 2, 0, tzinfo=SH))
    assert [s["follow_up_id"] for s in sent] == [fid]
    assert _run(db_ctx, datetime(2030, 3, 10, 9, 0, tzinfo=SH)) == []  # the job ran twice
    assert _run(db_ctx, datetime(2030, 3, 11, 2, 0, tzinfo=SH)) == []
    (reminder,) = _reminders(db_ctx, owner)
    assert reminder.customer_id == customer.id
    assert reminder.data["follow_up_id"] == fid and reminder.data["code"] == customer.code
    assert reminder.data["next_contact_at"] == "2030-03-10T07:00:00+00:00"
    got = ops_of(phone.pull(), "notification")
    assert got[str(reminder.id)]["data"]["kind"] == "follow_up_due"


def test_the_day_is_the_organisations_day(client, factory, world, db_ctx):
    _owner, writer, customer, contact, phone = world
    late = _follow_up(phone, customer, contact, "2030-03-10T23:30:00+08:00")
    after_midnight = _follow_up(Phone(client, factory, writer), customer, contact, "2030-03-11T00:30:00+08:00")
    # both are on 2030-03-10 in UTC; in Shanghai only the first is
    assert [s["follow_up_id"] for s in _run(db_ctx, datetime(2030, 3, 10, 2, 0, tzinfo=SH))] == [late]
    assert [s["follow_up_id"] for s in _run(db_ctx, datetime(2030, 3, 11, 2, 0, tzinfo=SH))] == [after_midnight]


def test_each_due_follow_up_of_different_authors(client, factory, world, db_ctx):
    owner, writer, customer, contact, phone = world
    mine = _follow_up(phone, customer, contact, "2030-03-10T15:00:00+08:00")
    theirs = _follow_up(Phone(client, factory, writer), customer, contact, "2030-03-10T16:00:00+08:00")
    sent = _run(db_ctx, datetime(2030, 3, 10, 2, 0, tzinfo=SH))
    assert {(s["user_id"], s["follow_up_id"]) for s in sent} == {(str(owner.id), mine), (str(writer.id), theirs)}


def test_a_missed_run_catches_up_for_a_few_days(client, factory, world, db_ctx):
    _owner, _writer, customer, contact, phone = world
    _follow_up(phone, customer, contact, "2030-03-10T15:00:00+08:00")
    assert _run(db_ctx, datetime(2030, 3, 20, 2, 0, tzinfo=SH)) == []  # too late to be useful
    assert len(_run(db_ctx, datetime(2030, 3, 12, 2, 0, tzinfo=SH))) == 1


def test_a_later_follow_up_by_the_author_supersedes_the_reminder(client, factory, world, db_ctx):
    _owner, _writer, customer, contact, phone = world
    _follow_up(phone, customer, contact, "2030-03-10T15:00:00+08:00")
    _follow_up(phone, customer, contact, None, content="提前上门拜访了王经理，演示效果很好，下周报价")
    assert _run(db_ctx, datetime(2030, 3, 10, 2, 0, tzinfo=SH)) == []


def test_no_reminder_once_the_customer_left_the_author(client, factory, world, db_ctx):
    _owner, writer, customer, contact, phone = world
    _follow_up(Phone(client, factory, writer), customer, contact, "2030-03-10T15:00:00+08:00")
    phone.applied("cofollower.remove", {"customer_id": str(customer.id), "user_id": str(writer.id)})
    assert _run(db_ctx, datetime(2030, 3, 10, 2, 0, tzinfo=SH)) == []
    _follow_up(phone, customer, contact, "2030-04-10T15:00:00+08:00")
    phone.applied("customer.release", {"customer_id": str(customer.id), "reason": "客户已搬迁外地"})
    assert _run(db_ctx, datetime(2030, 4, 10, 2, 0, tzinfo=SH)) == []


def test_the_reminder_job_commits_its_own_transaction(client, factory, world, db_ctx):
    from server.followups.service import reminder_job

    owner, _writer, customer, contact, phone = world
    _follow_up(phone, customer, contact, "2030-03-10T15:00:00+08:00")
    with db_ctx():
        assert len(reminder_job(datetime(2030, 3, 10, 2, 0, tzinfo=SH) + timedelta(hours=1))) == 1
    assert len(_reminders(db_ctx, owner)) == 1


def test_the_daily_jobs_step_sends_todays_reminders(client, factory, world, db_ctx):
    from server.common.db import utcnow
    from server.followups.service import daily_reminders

    owner, _writer, customer, contact, phone = world
    fid = _follow_up(phone, customer, contact, utcnow().isoformat())  # due today, whatever the hour
    with db_ctx():
        daily_reminders()
    assert [n.data["follow_up_id"] for n in _reminders(db_ctx, owner)] == [fid]
