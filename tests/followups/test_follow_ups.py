"""Follow-ups (SPEC R-A1): validity, reasons, progress (R-P5), sync."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from followup_helpers import Phone, new_id, ops_of

from server.common.db import utcnow
from server.customers.models import Customer
from server.followups.models import FollowUp

GOOD = "上门拜访张总，确认了二期新风系统的预算和排期"


@pytest.fixture
def world(factory):
    department = factory.department("华东KA一组", line="KA")
    owner = factory.user("rep", department=department, display_name="负责人")
    customer = factory.customer(owner, name="上海春意空调有限公司")
    contact = factory.contact(customer, owner, name="张总")
    return owner, customer, contact


def _args(customer, contact=None, content=GOOD, **extra):
    args = {"id": new_id(), "customer_id": str(customer.id), "kind": "visit", "content": content}
    if contact is not None:
        args["contact_id"] = str(contact.id)
    args.update(extra)
    return args


def _push(client, factory, owner, args):
    return Phone(client, factory, owner).applied("follow_up.create", args)["server"]


def test_a_follow_up_with_contact_and_content_is_valid(client, factory, world, db_ctx):
    owner, customer, contact = world
    args = _args(customer, contact, next_contact_at="2026-12-01T10:00:00+08:00")
    assert _push(client, factory, owner, args) | {"version": 0} == {"version": 0, "valid": True,
                                                                      "invalid_reasons": []}
    with db_ctx() as session:
        row = session.get(FollowUp, uuid.UUID(args["id"]))
        assert row.valid is True and row.invalid_reasons == [] and row.author_id == owner.id
        assert row.next_contact_at.isoformat() == "2026-12-01T02:00:00+00:00"
        assert row.client_time.isoformat() == "2026-11-23T01:15:00+00:00"


@pytest.mark.parametrize("content, reasons", [
    ("好的", ["too_short"]),
    ("  谈 了 。。。！！", ["too_short"]),  # 3 characters once spaces and punctuation go
    ("没找到人", ["too_short", "empty_phrase"]),
    ("没 找 到 人 ！！！", ["too_short", "empty_phrase"]),  # the whole content, normalized
    ("在忙。", ["too_short", "empty_phrase"]),
    ("👍👍👍👍👍👍👍👍👍👍", ["too_short"]),  # symbols (S*) do not count
    ("——……~~~###$$$%%%", ["too_short"]),
    ("客户在忙，约了下周二上午再去拜访", []),  # contains a phrase but is not one
])
def test_invalid_reasons_of_the_content(client, factory, world, content, reasons):
    owner, customer, contact = world
    assert _push(client, factory, owner, _args(customer, contact, content))["invalid_reasons"] == reasons


def test_eight_characters_after_stripping_are_enough_and_seven_are_not(client, factory, world):
    owner, customer, contact = world
    assert _push(client, factory, owner, _args(customer, contact, "沟通，需求 明确。。预算!"))["valid"] is True
    assert _push(client, factory, owner, _args(customer, contact, "沟通 需求,明确。预"))["invalid_reasons"] == \
        ["too_short"]


def test_no_contact_is_a_reason(client, factory, world):
    owner, customer, _contact = world
    result = _push(client, factory, owner, _args(customer, None))
    assert result == {**result, "valid": False, "invalid_reasons": ["no_contact"]}
    assert _push(client, factory, owner, _args(customer, None, "外出"))["invalid_reasons"] == \
        ["too_short", "empty_phrase", "no_contact"]


def test_a_custom_empty_phrase_from_the_settings(client, factory, world, db_ctx):
    from server.settings.service import get_settings, update_settings

    owner, customer, contact = world
    phrase = "客户暂时没有任何新的需求"
    assert _push(client, factory, owner, _args(customer, contact, phrase))["valid"] is True
    with db_ctx() as session:
        current = list(get_settings().follow_up["empty_phrases"])
        update_settings({"follow_up": {"empty_phrases": current + ["客户暂时没有 任何新的需求！"]}})
        session.commit()
    assert _push(client, factory, owner, _args(customer, contact, f"  {phrase}。 "))["invalid_reasons"] == \
        ["empty_phrase"]


def test_min_chars_from_the_settings(client, factory, world, db_ctx):
    from server.settings.service import update_settings

    owner, customer, contact = world
    with db_ctx() as session:
        update_settings({"follow_up": {"min_chars": 30}})
        session.commit()
    assert _push(client, factory, owner, _args(customer, contact))["invalid_reasons"] == ["too_short"]


def test_a_valid_follow_up_is_progress_and_an_invalid_one_is_not(client, factory, world, db_ctx):
    owner, customer, contact = world
    long_ago = utcnow() - timedelta(days=40)
    with db_ctx() as session:
        session.get(Customer, customer.id).last_progress_at = long_ago
        session.commit()
    _push(client, factory, owner, _args(customer, contact, "没找到人"))
    _push(client, factory, owner, _args(customer, None))
    with db_ctx() as session:
        assert session.get(Customer, customer.id).last_progress_at == long_ago
    before = utcnow()
    _push(client, factory, owner, _args(customer, contact))
    with db_ctx() as session:
        assert session.get(Customer, customer.id).last_progress_at >= before


def test_the_contact_must_belong_to_the_customer(client, factory, world):
    owner, customer, _contact = world
    other = factory.customer(owner, name="上海春意制冷设备有限公司")
    foreign = factory.contact(other, owner)
    error = Phone(client, factory, owner).rejected("follow_up.create", _args(customer, foreign), "validation_failed")
    assert "contact_id" in error["details"]["fields"]


@pytest.mark.parametrize("bad", [
    {"kind": "telepathy"},
    {"next_contact_at": "2026-12-01T10:00:00"},  # no offset
    {"content": None},
    {"valid": True},  # server-owned
])
def test_bad_args_are_validation_failed(client, factory, world, bad):
    owner, customer, contact = world
    Phone(client, factory, owner).rejected("follow_up.create", {**_args(customer, contact), **bad},
                                           "validation_failed")


def test_a_stranger_gets_not_found(client, factory, world):
    _owner, customer, contact = world
    stranger = factory.user("rep", line="RETAIL")
    Phone(client, factory, stranger).rejected("follow_up.create", _args(customer, contact), "not_found")


def test_phones_pull_follow_ups_with_their_reasons(client, factory, world):
    owner, customer, contact = world
    phone = Phone(client, factory, owner)
    valid, invalid = _args(customer, contact), _args(customer, None, "未接通")
    phone.applied("follow_up.create", valid)
    phone.applied("follow_up.create", invalid)
    got = ops_of(phone.pull(), "follow_up")
    assert got[valid["id"]]["data"]["valid"] is True
    assert got[valid["id"]]["data"]["contact_id"] == str(contact.id)
    assert got[invalid["id"]]["data"]["invalid_reasons"] == ["too_short", "empty_phrase", "no_contact"]
    assert got[invalid["id"]]["data"]["author_id"] == str(owner.id)
    # a later follow-up reaches the phone incrementally
    third = _args(customer, contact, kind="wechat")
    phone.applied("follow_up.create", third)
    assert set(ops_of(phone.pull(), "follow_up")) == {third["id"]}


def test_invalid_reasons_function():
    from server.followups.service import invalid_reasons, normalize_content

    settings = {"follow_up": {"min_chars": 8, "empty_phrases": ["打电话", "Called!"]}}
    assert normalize_content("Ｃａｌｌｅｄ ！") == "called"  # full-width folds to half-width, case-folded
    assert invalid_reasons("called.", uuid.uuid4(), settings) == ["too_short", "empty_phrase"]
    assert invalid_reasons("打 电 话", uuid.uuid4(), settings) == ["too_short", "empty_phrase"]
    assert invalid_reasons("打电话给王经理确认了合同条款", uuid.uuid4(), settings) == []
    assert invalid_reasons("打电话给王经理确认了合同条款", None, settings) == ["no_contact"]
