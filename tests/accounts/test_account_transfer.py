"""Accounts move with their customer (SPEC R-C12, R-T1): transfer, release, reclaim, claim."""
from __future__ import annotations

import uuid
from datetime import timedelta

from account_helpers import Phone, new_id, ops_of

from server.accounts.models import Account
from server.customers.models import Customer


def _setup(client, factory):
    department = factory.department("华东KA二组", line="KA")
    owner = factory.user("rep", department=department, display_name="原负责人")
    receiver = factory.user("rep", department=department, display_name="接收人")
    manager = factory.user("manager", department=department, display_name="经理")
    customer = factory.customer(owner, name="上海春意空调有限公司")
    owner_phone = Phone(client, factory, owner)
    accounts = [new_id(), new_id()]
    owner_phone.applied("account.create", {"id": accounts[0], "customer_id": str(customer.id),
                                           "account": "chunyi-01", "real_name": "enterprise"})
    owner_phone.applied("account.create", {"id": accounts[1], "customer_id": str(customer.id),
                                           "account": "chunyi-02"})
    return owner, receiver, manager, customer, owner_phone, accounts


def test_the_owner_change_hook_is_registered():
    from server.accounts.service import follow_customer_owner
    from server.customers import service

    assert follow_customer_owner in service.OWNER_CHANGE_HOOKS


def test_accounts_move_with_a_transfer_by_the_manager(client, factory, db_ctx):
    owner, receiver, manager, customer, owner_phone, accounts = _setup(client, factory)
    assert set(accounts) <= set(ops_of(owner_phone.pull(), "account"))
    receiver_phone = Phone(client, factory, receiver)
    assert not ops_of(receiver_phone.pull(), "account")

    Phone(client, factory, manager).applied("customer.transfer", {
        "customer_ids": [str(customer.id)], "to_user_id": str(receiver.id), "reason": "区域调整"})

    with db_ctx() as session:
        rows = session.query(Account).filter(Account.customer_id == customer.id).all()
        assert {r.owner_id for r in rows} == {receiver.id}
    got = ops_of(receiver_phone.pull(), "account")
    assert set(accounts) <= set(got)
    assert all(got[a]["data"]["owner_id"] == str(receiver.id) for a in accounts)
    # the former owner's phone loses the customer and everything under it
    gone = ops_of(owner_phone.pull(), "account", op="del")
    assert set(accounts) <= set(gone)
    # and the new owner, not the old one, manages the accounts now
    owner_phone.rejected("account.file", {"id": accounts[0]}, "not_found")
    receiver_phone.applied("account.file", {"id": accounts[0]})


def test_accounts_lose_their_owner_when_the_customer_goes_to_a_pool_and_follow_the_claimer(client, factory,
                                                                                         db_ctx):
    owner, receiver, manager, customer, owner_phone, accounts = _setup(client, factory)
    owner_phone.applied("customer.release", {"customer_id": str(customer.id), "reason": "客户已搬迁外地"})
    with db_ctx() as session:
        assert {a.owner_id for a in session.query(Account).filter(Account.customer_id == customer.id)} == {None}
        # the releasing owner's cooldown does not bind another rep
    Phone(client, factory, receiver).applied("customer.claim", {"customer_id": str(customer.id)})
    with db_ctx() as session:
        assert {a.owner_id for a in session.query(Account).filter(Account.customer_id == customer.id)} == {receiver.id}


def test_accounts_follow_a_reclaim(client, factory, db_ctx):
    from server.common.db import utcnow
    from server.pools.service import run_reclaim

    owner, receiver, manager, customer, owner_phone, accounts = _setup(client, factory)
    with db_ctx() as session:
        session.get(Customer, customer.id).last_progress_at = utcnow() - timedelta(days=200)
        session.commit()
    with db_ctx() as session:
        report = run_reclaim()
        assert str(customer.id) in {r["customer_id"] for r in report.reclaimed}
        session.commit()
    with db_ctx() as session:
        rows = session.query(Account).filter(Account.customer_id == customer.id).all()
        assert rows and {r.owner_id for r in rows} == {None}
        assert all(r.version > 0 for r in rows)


def test_the_hook_moves_the_accounts_to_the_new_owner(factory, db_ctx):
    from server.accounts.service import follow_customer_owner

    owner, receiver, _manager, customer, _phone, accounts = _setup(factory.app.test_client(), factory)
    with db_ctx() as session:
        follow_customer_owner(session.get(Customer, customer.id), owner.id, receiver.id)
        session.flush()
        assert {session.get(Account, uuid.UUID(a)).owner_id for a in accounts} == {receiver.id}
        follow_customer_owner(session.get(Customer, customer.id), receiver.id, None)
        session.flush()
        assert {session.get(Account, uuid.UUID(a)).owner_id for a in accounts} == {None}
        session.rollback()
