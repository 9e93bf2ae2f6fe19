"""The append-only audit log (SPEC R-I2)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError


@pytest.fixture
def entry_id(client, factory, db_ctx):
    """An audit entry written by a real API call: an admin renaming a user."""
    from server.common.audit import AuditEntry

    admin = factory.user("admin")
    rep = factory.user("rep", display_name="旧名")
    r = client.patch(f"/api/v1/admin/users/{rep.id}", json={"display_name": "新名"}, headers=factory.headers(admin))
    assert r.status_code == 200
    with db_ctx() as session:
        return session.scalar(select(AuditEntry.id).where(AuditEntry.action == "user.update",
                                                          AuditEntry.entity_id == str(rep.id)))


def test_entries_carry_actor_action_entity_id_changes_time_and_channel(client, factory, db_ctx):
    from server.common.audit import AuditEntry

    admin = factory.user("admin")
    rep = factory.user("rep", display_name="旧名")
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    r = client.patch(f"/api/v1/admin/users/{rep.id}", json={"display_name": "新名", "role": "manager"},
                     headers=factory.headers(admin))
    assert r.status_code == 200
    with db_ctx() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update",
                                                         AuditEntry.entity_id == str(rep.id))).one()
    assert entry.actor_id == admin.id
    assert entry.entity == "user"
    assert entry.changes == {"display_name": ["旧名", "新名"], "role": ["rep", "manager"]}
    assert entry.channel == "api"
    assert before <= entry.at <= datetime.now(timezone.utc)
    assert entry.at.tzinfo is not None


def test_unchanged_fields_are_not_in_the_entry(client, factory, db_ctx):
    from server.common.audit import AuditEntry

    admin = factory.user("admin")
    rep = factory.user("rep", display_name="同名")
    client.patch(f"/api/v1/admin/users/{rep.id}", json={"display_name": "同名", "mobile": "13600001111"},
                 headers=factory.headers(admin))
    with db_ctx() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update",
                                                         AuditEntry.entity_id == str(rep.id))).one()
    assert entry.changes == {"mobile": [None, "13600001111"]}


def test_password_changes_are_audited_without_the_password(client, factory, db_ctx):
    from server.common.audit import AuditEntry

    admin = factory.user("admin")
    rep = factory.user("rep")
    client.patch(f"/api/v1/admin/users/{rep.id}", json={"password": "another-secret-pw"},
                 headers=factory.headers(admin))
    with db_ctx() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update",
                                                         AuditEntry.entity_id == str(rep.id))).one()
    assert "password" in entry.changes
    assert "another-secret-pw" not in repr(entry.changes)
    assert "$argon2" not in repr(entry.changes)


def test_a_failed_request_leaves_no_audit_entry(client, factory, db_ctx):
    from sqlalchemy import func

    from server.common.audit import AuditEntry

    rep = factory.user("rep")
    h = factory.headers(rep)
    body = factory.customer_args(tax_id="91350100M000100Y44")  # invalid check character
    assert client.post("/api/v1/customers", json=body, headers=h).status_code == 422
    with db_ctx() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.entity == "customer")) == 0


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET action = 'forged' WHERE id = :id",
    "UPDATE audit_entries SET changes = '{}' WHERE id = :id",
    "DELETE FROM audit_entries WHERE id = :id",
], ids=["update-action", "update-changes", "delete"])
def test_the_database_refuses_to_change_audit_entries(db_ctx, entry_id, statement):
    from server.common.audit import AuditEntry

    with db_ctx() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(text(statement), {"id": entry_id})
        assert session.get(AuditEntry, entry_id).action == "user.update"


def test_the_database_refuses_bulk_core_updates_too(db_ctx, entry_id):
    from server.common.audit import AuditEntry

    with db_ctx() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(update(AuditEntry).values(channel="job"))
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(delete(AuditEntry))


def test_the_orm_refuses_to_change_an_entry(db_ctx, entry_id):
    from server.common.audit import AuditEntry

    with db_ctx() as session:
        entry = session.get(AuditEntry, entry_id)
        entry.action = "forged"
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()
        session.rollback()


def test_the_orm_refuses_to_delete_an_entry(db_ctx, entry_id):
    from server.common.audit import AuditEntry

    with db_ctx() as session:
        session.delete(session.get(AuditEntry, entry_id))
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()
        session.rollback()
        assert session.get(AuditEntry, entry_id) is not None
