"""Customer accounts (SPEC R-C12) and what a write co-follower may and may not do (R-O2)."""
from __future__ import annotations

import uuid

import pytest
from account_helpers import Phone, new_id, ops_of
from sqlalchemy import select

from server.accounts.models import Account, AccountStatus
from server.common.audit import AuditEntry


@pytest.fixture
def team(factory):
    department = factory.department("华东KA一组", line="KA")
    return {
        "owner": factory.user("rep", department=department, display_name="负责人"),
        "writer": factory.user("rep", department=department, display_name="写协同"),
        "reader": factory.user("rep", department=department, display_name="读协同"),
        "other": factory.user("rep", department=department, display_name="同组他人"),
        "manager": factory.user("manager", department=department, display_name="经理"),
    }


@pytest.fixture
def customer(factory, team):
    customer = factory.customer(team["owner"], name="上海春意空调有限公司")
    owner = Phone(factory.app.test_client(), factory, team["owner"])
    owner.applied("cofollower.add", {"customer_id": str(customer.id), "user_id": str(team["writer"].id),
                                     "permission": "write"})
    owner.applied("cofollower.add", {"customer_id": str(customer.id), "user_id": str(team["reader"].id),
                                     "permission": "read"})
    return customer


def _account_args(customer, **overrides):
    args = {"id": new_id(), "customer_id": str(customer.id), "account": "chunyi-aircon-01"}
    args.update(overrides)
    return args


def test_owner_creates_an_account_owned_by_them_and_pulls_it(client, factory, team, customer, db_ctx):
    phone = Phone(client, factory, team["owner"])
    args = _account_args(customer, account="  chunyi aircon 01 ")
    result = phone.applied("account.create", args)
    assert result["server"]["status"] == "unverified"
    with db_ctx() as session:
        account = session.get(Account, uuid.UUID(args["id"]))
        assert account.owner_id == team["owner"].id and account.customer_id == customer.id
        assert account.account == "chunyiaircon01"  # pasted white space removed
        assert account.status == AccountStatus.unverified and account.real_name is None
        assert session.scalar(select(AuditEntry).where(AuditEntry.entity == "account",
                                                       AuditEntry.entity_id == args["id"])).action == "account.create"
    put = ops_of(phone.pull(), "account")[args["id"]]
    assert put["data"]["owner_id"] == str(team["owner"].id)
    assert put["data"]["status"] == "unverified" and put["data"]["account"] == "chunyiaircon01"


def test_one_customer_may_hold_several_accounts(client, factory, team, customer):
    phone = Phone(client, factory, team["owner"])
    first, second = _account_args(customer, account="acct-a"), _account_args(customer, account="acct-b")
    phone.applied("account.create", first)
    phone.applied("account.create", second)
    assert {first["id"], second["id"]} <= set(ops_of(phone.pull(), "account"))


def test_an_account_created_with_its_real_name_kind_is_verified(client, factory, team, customer, db_ctx):
    phone = Phone(client, factory, team["owner"])
    args = _account_args(customer, real_name="enterprise")
    assert phone.applied("account.create", args)["server"]["status"] == "verified"
    with db_ctx() as session:
        account = session.get(Account, uuid.UUID(args["id"]))
        assert account.real_name.value == "enterprise" and account.verified_at is not None


def test_write_cofollower_can_add_contacts_and_follow_ups_but_not_accounts(client, factory, team, customer,
                                                                              db_ctx):
    writer = Phone(client, factory, team["writer"])
    contact_id = new_id()
    writer.applied("contact.create", {"id": contact_id, "customer_id": str(customer.id), "name": "张宏",
                                      "mobile": "13800001234"})
    writer.applied("follow_up.create", {"id": new_id(), "customer_id": str(customer.id), "kind": "phone",
                                        "contact_id": contact_id, "content": "电话沟通了新风系统改造的预算和时间"})
    args = _account_args(customer)
    writer.rejected("account.create", args, "not_authorized")
    with db_ctx() as session:
        assert session.get(Account, uuid.UUID(args["id"])) is None


def test_write_cofollower_cannot_transfer_or_release(client, factory, team, customer, db_ctx):
    from server.customers.models import Customer

    writer = Phone(client, factory, team["writer"])
    writer.rejected("customer.transfer", {"customer_ids": [str(customer.id)], "to_user_id": str(team["writer"].id),
                                          "reason": "我来跟进"}, "not_authorized")
    writer.rejected("customer.release", {"customer_id": str(customer.id), "reason": "不想跟了"}, "not_authorized")
    with db_ctx() as session:
        assert session.get(Customer, customer.id).owner_id == team["owner"].id


def test_read_cofollower_cannot_add_follow_ups_or_accounts(client, factory, team, customer):
    reader = Phone(client, factory, team["reader"])
    reader.rejected("follow_up.create", {"id": new_id(), "customer_id": str(customer.id), "kind": "visit",
                                         "content": "上门拜访，介绍了新一代节能空调方案"}, "not_authorized")
    reader.rejected("account.create", _account_args(customer), "not_authorized")


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_only_the_owner_creates_accounts_not_a_manager_or_admin(client, factory, team, customer, who):
    user = team["manager"] if who == "manager" else factory.user("admin", line="SMB")
    Phone(client, factory, user).rejected("account.create", _account_args(customer), "not_authorized")


def test_a_stranger_cannot_tell_the_customer_exists(client, factory, customer):
    stranger = factory.user("rep", line="RETAIL")
    error = Phone(client, factory, stranger).rejected("account.create", _account_args(customer), "not_found")
    assert error["details"] == {"customer_id": str(customer.id)}


def test_an_account_identifier_belongs_to_one_customer(client, factory, team, customer):
    phone = Phone(client, factory, team["owner"])
    phone.applied("account.create", _account_args(customer, account="shared-pin"))
    other_customer = factory.customer(team["owner"], name="上海春意制冷设备有限公司")
    error = phone.rejected("account.create", _account_args(other_customer, account="shared-pin"), "account_exists")
    assert error["details"]["customer"]["id"] == str(customer.id)
    assert set(error["details"]["customer"]) == {"id", "code", "name", "owner_display_name", "pool"}


def test_an_account_id_used_twice_is_an_id_conflict(client, factory, team, customer):
    phone = Phone(client, factory, team["owner"])
    args = _account_args(customer)
    phone.applied("account.create", args)
    phone.rejected("account.create", {**args, "account": "another-pin"}, "id_conflict")


def test_filing_before_verification_is_refused(client, factory, team, customer, db_ctx):
    phone = Phone(client, factory, team["owner"])
    args = _account_args(customer)
    phone.applied("account.create", args)
    error = phone.rejected("account.file", {"id": args["id"]}, "account_not_verified")
    assert error["details"] == {"account_id": args["id"], "status": "unverified"}
    with db_ctx() as session:
        assert session.get(Account, uuid.UUID(args["id"])).filed_at is None


def test_verify_then_file(client, factory, team, customer, db_ctx):
    phone = Phone(client, factory, team["owner"])
    args = _account_args(customer)
    phone.applied("account.create", args)
    assert phone.applied("account.verify", {"id": args["id"], "real_name": "personal"})["server"]["status"] == "verified"
    assert phone.applied("account.file", {"id": args["id"]})["server"]["status"] == "filed"
    assert phone.applied("account.file", {"id": args["id"]})["server"]["status"] == "filed"  # idempotent
    with db_ctx() as session:
        account = session.get(Account, uuid.UUID(args["id"]))
        assert account.real_name.value == "personal" and account.verified_at and account.filed_at
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == args["id"])
                                  .order_by(AuditEntry.id)).all()
        assert actions == ["account.create", "account.verify", "account.file"]
    data = ops_of(phone.pull(), "account")[args["id"]]["data"]
    assert data["status"] == "filed" and data["real_name"] == "personal" and data["filed_at"]


def test_verification_needs_a_real_name_kind(client, factory, team, customer):
    phone = Phone(client, factory, team["owner"])
    args = _account_args(customer)
    phone.applied("account.create", args)
    phone.rejected("account.verify", {"id": args["id"], "real_name": "celebrity"}, "validation_failed")
    phone.rejected("account.verify", {"id": args["id"]}, "validation_failed")


def test_write_cofollower_cannot_verify_or_file(client, factory, team, customer):
    args = _account_args(customer, real_name="enterprise")
    Phone(client, factory, team["owner"]).applied("account.create", args)
    writer = Phone(client, factory, team["writer"])
    writer.rejected("account.verify", {"id": args["id"], "real_name": "personal"}, "not_authorized")
    writer.rejected("account.file", {"id": args["id"]}, "not_authorized")


def test_co_followers_pull_the_accounts_too(client, factory, team, customer):
    args = _account_args(customer)
    Phone(client, factory, team["owner"]).applied("account.create", args)
    assert args["id"] in ops_of(Phone(client, factory, team["reader"]).pull(), "account")
    assert args["id"] not in ops_of(Phone(client, factory, team["other"]).pull(), "account")
