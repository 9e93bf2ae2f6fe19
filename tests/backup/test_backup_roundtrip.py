"""`fieldcrm backup` while a phone keeps pushing, then `fieldcrm restore` (SPEC R-I3): customers,
contacts, visits with their verification, photos and attachments (the same bytes, served by
GET), audit entries — all back, the snapshot consistent, the database sound."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from backup_helpers import (PDF, Writer, run_cli, seed, sha, sqlite_integrity, store_files, table_counts)
from sqlalchemy import select

from conftest import TEST_PASSWORD, make_app
from helpers import Phone, ok


def _snapshot_while_writing(app, tmp_path: Path, monkeypatch):
    """Seed, start the writer, back up while it pushes; the backup's path, the world, the writer."""
    from server.backup import service

    world = seed(app)
    writer = Writer(app, world)
    writer.start()
    writer.wait_for(4)
    copied = service.copy_hashed
    marks: dict[str, int] = {}

    def copy_while_writing(source, dest):
        # The first blob copy (right after the database snapshot) waits until the phone has
        # committed more mutations and uploaded more photos: files and rows newer than the
        # snapshot exist while the blobs are copied, as on a busy server.
        if "snapshot" not in marks:
            marks["snapshot"] = writer.count()
            writer.wait_for(marks["snapshot"] + 4)
        return copied(source, dest)

    monkeypatch.setattr(service, "copy_hashed", copy_while_writing)
    started = writer.count()
    backup = tmp_path / "backup-2026-12-01"
    result = run_cli(app, "backup", str(backup))
    assert result.exit_code == 0, result.output
    assert "backup written to" in result.output
    monkeypatch.setattr(service, "copy_hashed", copied)
    writer.wait_for(writer.count() + 2)  # and more after the backup: the restore must drop them
    writer.finish()
    assert marks["snapshot"] >= started
    return backup, world, writer


def _lose_files(app, world) -> None:
    """The disk loses a photo and its thumbnail after the backup: the restore brings them back."""
    root = Path(app.config["PHOTO_DIR"])
    lost = [p for p in root.rglob(f"*{sha(next(iter(world.photos.values())))}*") if p.is_file()]
    assert len(lost) == 2  # the original and its thumbnail
    for path in lost:
        path.unlink()


def _check_restored(app, backup: Path, world, writer: Writer) -> None:
    from server.common.audit import AuditEntry
    from server.customers.models import Contact, Customer
    from server.extensions import db
    from server.photos.models import Photo
    from server.pipeline.models import Attachment, Deal
    from server.sync_api.models import SyncClient
    from server.visits.models import Visit, VisitPhoto

    manifest = json.loads((backup / "manifest.json").read_text())
    # Every table holds exactly the rows of the snapshot.
    counts = table_counts(app)
    assert counts == {t: n for t, n in manifest["tables"].items() if t != "alembic_version"}

    with app.app_context():
        session = db.session
        # The seeded organisation is all there.
        customer = session.get(Customer, uuid.UUID(world.customer_id))
        assert customer is not None and customer.owner_id == world.rep.id
        assert all(session.get(Contact, uuid.UUID(c)) is not None for c in world.contact_ids)
        deal = session.get(Deal, uuid.UUID(world.deal_id))
        assert deal is not None and deal.amount == 128_000_00
        assert session.get(Attachment, sha(PDF)) is not None
        assert world.audit_ids <= set(session.scalars(select(AuditEntry.id)))

        # The snapshot is one instant of the writer's stream: mutations 1..N all applied, none after.
        last = session.scalar(select(SyncClient.last_mutation_id).where(
            SyncClient.client_id == writer.phone.client_id))
        assert last is not None and 4 <= last < writer.applied[-1][0]
        for mutation_id, name, entity_id in writer.applied:
            model = Customer if name == "customer.create" else Visit
            present = session.get(model, uuid.UUID(entity_id)) is not None
            assert present == (mutation_id <= last), (mutation_id, name, last)

        # Every photo a restored row names has its bytes on disk, unchanged.
        named = set(session.scalars(select(Photo.sha256))) | set(session.scalars(select(VisitPhoto.sha256)))
        named |= set(session.scalars(select(Attachment.sha256)))
    root = Path(app.config["PHOTO_DIR"])
    for digest in named:
        original = root / digest[:2] / digest[2:4] / digest
        attachment = root / "attachments" / digest[:2] / digest[2:4] / digest
        path = original if original.exists() else attachment
        assert path.is_file() and sha(path.read_bytes()) == digest, digest
    # The photos of the writer's last visits in the snapshot are there too.
    assert any(writer.photos.get(mid) in named for mid, *_ in writer.applied if mid <= last)

    # What the API serves after the restore: the visit with its verification, identical photos.
    phone = Phone(app.test_client(), world.factory, world.rep)
    assert ok(phone.client.get(f"/api/v1/visits/{world.visit_id}", headers=phone.headers)) == world.visit
    for digest, data in world.photos.items():
        got = phone.client.get(f"/api/v1/photos/{digest}?size=full", headers=phone.headers)
        assert got.status_code == 200 and got.data == data
        assert phone.client.get(f"/api/v1/photos/{digest}?size=thumb", headers=phone.headers).status_code == 200
    got = phone.client.get(f"/api/v1/pipeline/attachments/{sha(PDF)}", headers=phone.headers)
    assert got.status_code == 200 and got.data == PDF
    phone.pull()
    assert phone.has("customer", world.customer_id) and phone.has("visit", world.visit_id)
    assert phone.data("visit", world.visit_id)["verification_status"] == world.visit["verification_status"]
    # And the restored server takes new work.
    from backup_helpers import customer_args

    phone.applied("customer.create", customer_args(world.factory))


@pytest.mark.no_rollback
def test_sqlite_round_trip_while_a_phone_writes(tmp_path, monkeypatch):
    from server.extensions import db

    app = make_app(f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "instance")
    try:
        backup, world, writer = _snapshot_while_writing(app, tmp_path, monkeypatch)
        manifest = json.loads((backup / "manifest.json").read_text())
        assert manifest["database"] == "sqlite" and manifest["alembic_revision"]
        assert manifest["fieldcrm_version"] and manifest["created_at"]
        listed = {f["path"] for f in manifest["files"]}
        assert "database/fieldcrm.sqlite3" in listed
        assert f"photos/attachments/{sha(PDF)[:2]}/{sha(PDF)[2:4]}/{sha(PDF)}" in listed
        assert sqlite_integrity(str(backup / "database" / "fieldcrm.sqlite3")) == ["ok"]
        before_restore = store_files(app)
        _lose_files(app, world)

        result = run_cli(app, "restore", str(backup))
        assert result.exit_code == 0, result.output
        assert "SQLite database" in result.output and "restored" in result.output

        assert sqlite_integrity(str(tmp_path / "live.db")) == ["ok"]
        # Files uploaded after the backup stay (no row names them); the lost ones are back.
        assert store_files(app).keys() >= before_restore.keys()
        import sqlite3

        with sqlite3.connect(tmp_path / "live.db") as conn:  # the append-only guard of audit entries
            assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                "AND tbl_name = 'audit_entries'").fetchone()[0] >= 2
        _check_restored(app, backup, world, writer)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.postgres_only
def test_postgresql_round_trip_while_a_phone_writes(fresh_app, tmp_path, monkeypatch):
    from server.extensions import db

    app = fresh_app()
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
    backup, world, writer = _snapshot_while_writing(app, tmp_path, monkeypatch)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"] == "postgresql"
    assert (backup / "database" / "fieldcrm.pgdump").read_bytes()[:5] == b"PGDMP"  # custom format
    _lose_files(app, world)

    result = run_cli(app, "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert "pg_restore" in result.output
    # The database is whole: every foreign key and check is in place and validated.
    with app.app_context():
        invalid = db.session.execute(db.text("SELECT count(*) FROM pg_constraint WHERE NOT convalidated")).scalar_one()
        constraints = db.session.execute(db.text(
            "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = 'public' AND c.contype = 'f'")).scalar_one()
        triggers = db.session.execute(db.text(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_entries'::regclass AND NOT tgisinternal")
        ).scalar_one()
    assert invalid == 0 and constraints > 20
    assert triggers >= 1  # the append-only guard on audit entries came back with the table
    _check_restored(app, backup, world, writer)


@pytest.mark.no_rollback
def test_restore_onto_a_new_machine(tmp_path):
    """Disaster recovery: a new instance folder with no database at all (never `db upgrade`d)
    gets the whole organisation back from the backup folder, and serves it."""
    from server import create_app
    from server.extensions import db

    old = make_app(f"sqlite:///{tmp_path / 'old.db'}", tmp_path / "old")
    new = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "new"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new' / 'fieldcrm.db'}",
                      "SECRET_KEY": "another-machine-secret-key-long-enough-for-hs256",
                      "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
                      "RATELIMIT_STORAGE_URI": "memory://", "PHOTO_DIR": str(tmp_path / "new" / "photos")})
    try:
        world = seed(old)
        assert run_cli(old, "backup", str(tmp_path / "backup")).exit_code == 0
        result = run_cli(new, "restore", str(tmp_path / "backup"))
        assert result.exit_code == 0, result.output
        assert table_counts(new) == table_counts(old)
        assert store_files(new) == store_files(old)
        client = new.test_client()
        login = client.post("/api/v1/auth/login", json={"username": world.rep.username, "password": TEST_PASSWORD})
        headers = {"Authorization": f"Bearer {ok(login)['access_token']}"}
        assert ok(client.get(f"/api/v1/visits/{world.visit_id}", headers=headers)) == world.visit
        for digest, data in world.photos.items():
            assert client.get(f"/api/v1/photos/{digest}?size=full", headers=headers).data == data
    finally:
        for app in (old, new):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
