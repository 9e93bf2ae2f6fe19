"""A damaged, incomplete, edited or too-new backup is refused before anything is touched; a
backup never overwrites an existing folder nor leaves half a backup behind."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from backup_helpers import PDF, PHOTO, customer_args, data_view, run_cli, seed, sha

from server.backup.service import manifest_checksum


def _photo(backup: Path) -> Path:
    digest = sha(PHOTO)
    return backup / "photos" / digest[:2] / digest[2:4] / digest


def _attachment(backup: Path) -> Path:
    digest = sha(PDF)
    return backup / "photos" / "attachments" / digest[:2] / digest[2:4] / digest


def _flip_a_byte_in_a_photo(backup: Path) -> None:
    path = _photo(backup)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate_a_photo(backup: Path) -> None:
    path = _photo(backup)
    path.write_bytes(path.read_bytes()[:-100])


def _remove_the_attachment(backup: Path) -> None:
    _attachment(backup).unlink()


def _remove_the_database(backup: Path) -> None:
    next((backup / "database").iterdir()).unlink()


def _edit_a_count_in_the_manifest(backup: Path) -> None:
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["tables"]["customers"] += 1
    (backup / "manifest.json").write_text(json.dumps(manifest))


def _drop_a_file_from_the_manifest(backup: Path) -> None:
    """Someone removes a damaged photo's line from the manifest (and fixes its checksum): the file
    is still there, unlisted; and the row naming it would point at nothing after a restore."""
    manifest = json.loads((backup / "manifest.json").read_text())
    rel = str(_photo(backup).relative_to(backup))
    manifest["files"] = [f for f in manifest["files"] if f["path"] != rel]
    manifest["checksum"] = manifest_checksum(manifest)
    (backup / "manifest.json").write_text(json.dumps(manifest))


def _truncate_the_manifest(backup: Path) -> None:
    path = backup / "manifest.json"
    path.write_text(path.read_text()[:200])


def _delete_the_manifest(backup: Path) -> None:
    (backup / "manifest.json").unlink()


def _add_a_stray_file(backup: Path) -> None:
    (backup / "photos" / "ab").mkdir(exist_ok=True)
    (backup / "photos" / "ab" / "stray.jpg").write_bytes(b"not from the backup")


def _newer_schema(backup: Path) -> None:
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["alembic_revision"] = "0099_from_the_future"
    manifest["checksum"] = manifest_checksum(manifest)
    (backup / "manifest.json").write_text(json.dumps(manifest))


def _other_database_kind(backup: Path) -> None:
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["database"] = "postgresql" if manifest["database"] == "sqlite" else "sqlite"
    manifest["checksum"] = manifest_checksum(manifest)
    (backup / "manifest.json").write_text(json.dumps(manifest))


DAMAGE = [
    (_flip_a_byte_in_a_photo, "checksum mismatch: photos/"),
    (_truncate_a_photo, "wrong size: photos/"),
    (_remove_the_attachment, "missing: photos/attachments/"),
    (_remove_the_database, "missing: database/"),
    (_edit_a_count_in_the_manifest, "manifest.json has been edited or damaged"),
    (_drop_a_file_from_the_manifest, "not in the manifest: photos/"),
    (_truncate_the_manifest, "manifest.json is damaged"),
    (_delete_the_manifest, "has no manifest.json"),
    (_add_a_stray_file, "not in the manifest: photos/ab/stray.jpg"),
    (_newer_schema, "newer than this code"),
    (_other_database_kind, "backup but the configured database is"),
]


@pytest.fixture
def backed_up(fresh_app, tmp_path):
    """An app with data, its backup, and then more work done after the backup."""
    app = fresh_app()
    world = seed(app)
    backup = tmp_path / "backup"
    result = run_cli(app, "backup", str(backup))
    assert result.exit_code == 0, result.output
    world.phone.applied("customer.create", customer_args(world.factory))  # newer than the backup
    return app, backup


@pytest.mark.parametrize("damage, message", DAMAGE, ids=[d.__name__.strip("_") for d, _ in DAMAGE])
def test_a_damaged_backup_is_refused_and_nothing_is_touched(backed_up, damage, message):
    app, backup = backed_up
    damage(backup)
    before = data_view(app)
    result = run_cli(app, "restore", str(backup))
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert "restored" not in result.output.replace("nothing was restored", "")
    assert data_view(app) == before  # the newer customer is still there; no file changed


def test_the_undamaged_backup_restores(backed_up):
    """The control of the refusals above: the same backup, undamaged, is accepted, and the
    customer created after it is gone."""
    app, backup = backed_up
    before = data_view(app)
    result = run_cli(app, "restore", str(backup))
    assert result.exit_code == 0, result.output
    after = data_view(app)
    assert after["counts"]["customers"] == before["counts"]["customers"] - 1
    assert after["files"] == before["files"]


def test_a_missing_backup_folder_is_refused(backed_up, tmp_path):
    app, _backup = backed_up
    result = run_cli(app, "restore", str(tmp_path / "nowhere"))
    assert result.exit_code != 0 and "is not a backup folder" in result.output


def test_backup_never_writes_into_an_existing_folder(backed_up, tmp_path):
    app, backup = backed_up
    manifest = (backup / "manifest.json").read_bytes()
    result = run_cli(app, "backup", str(backup))
    assert result.exit_code != 0 and "already exists" in result.output
    assert (backup / "manifest.json").read_bytes() == manifest
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli(app, "backup", str(empty)).exit_code == 0  # an empty folder is fine
    assert (empty / "manifest.json").is_file()


def test_a_failed_backup_leaves_nothing_that_looks_like_a_backup(backed_up, tmp_path, monkeypatch):
    from server.backup import service

    app, _backup = backed_up

    def disk_full(source, dest):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(service, "copy_hashed", disk_full)
    with pytest.raises(OSError):
        run_cli(app, "backup", str(tmp_path / "full"))
    assert not (tmp_path / "full").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_a_backup_copy_elsewhere_restores_the_same(backed_up, tmp_path):
    """A backup folder copied to another disk (as operators do) is still a valid backup."""
    app, backup = backed_up
    copy = tmp_path / "offsite" / "backup"
    shutil.copytree(backup, copy)
    result = run_cli(app, "restore", str(copy))
    assert result.exit_code == 0, result.output


def test_a_backup_restores_over_a_database_with_newer_tables(backed_up):
    """After an upgrade that added a table referring to customers, the backup made before it
    still restores (the drill after a failed upgrade): the newer table goes with the rest."""
    from sqlalchemy import inspect, text

    from server.extensions import db

    app, backup = backed_up
    with app.app_context():
        uuid_type = "UUID" if db.engine.dialect.name == "postgresql" else "CHAR(32)"
        db.session.execute(text(f"CREATE TABLE future_visit_notes (id INTEGER PRIMARY KEY, "
                                f"customer_id {uuid_type} REFERENCES customers (id), note TEXT)"))
        db.session.execute(text("INSERT INTO future_visit_notes (id, customer_id, note) "
                                "SELECT 1, id, 'newer' FROM customers LIMIT 1"))
        db.session.commit()
    result = run_cli(app, "restore", str(backup))
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "future_visit_notes" not in inspect(db.engine).get_table_names()
    assert data_view(app)["counts"]["customers"] == json.loads((backup / "manifest.json").read_text())["tables"][
        "customers"]


def _serve(app, tmp_path):
    """A real `fieldcrm run` (gunicorn) on the app's own instance folder and database."""
    import os

    from tests.e2e.conftest import start_fieldcrm

    env = {**os.environ, "FIELDCRM_INSTANCE": app.config["INSTANCE_PATH"],
           "FIELDCRM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "FIELDCRM_SECRET_KEY": app.config["SECRET_KEY"], "FIELDCRM_RATELIMIT_STORAGE": "memory://"}
    return start_fieldcrm(Path(app.config["INSTANCE_PATH"]), env, tmp_path / "server.log", ("--no-jobs",))


def test_restore_is_refused_while_a_server_serves_the_database(backed_up, tmp_path):
    """A restore under a running server would mix the server's next writes into the restored data
    (or lose them): it is refused, nothing changes, and once the server has stopped it restores."""
    from tests.e2e.conftest import stop_fieldcrm

    app, backup = backed_up
    before = data_view(app)
    proc, _base, log = _serve(app, tmp_path)
    try:
        result = run_cli(app, "restore", str(backup))
        assert result.exit_code != 0
        assert "still in use" in result.output and "a fieldcrm server on this machine" in result.output, result.output
        assert "Traceback" not in result.output
        assert data_view(app) == before  # the customer made after the backup is still there
    finally:
        stop_fieldcrm(proc, log)
    result = run_cli(app, "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert data_view(app)["counts"]["customers"] == before["counts"]["customers"] - 1


@pytest.mark.postgres_only
def test_postgresql_restore_names_other_connections_and_force_restores_past_them(backed_up):
    """On PostgreSQL every other connection to the database counts (the app servers of other
    hosts, the daily jobs, someone's psql): the refusal names them; --force restores anyway."""
    import psycopg
    from sqlalchemy.engine import make_url

    from server.backup.service import libpq

    app, backup = backed_up
    before = data_view(app)
    conninfo, _env = libpq(make_url(app.config["SQLALCHEMY_DATABASE_URI"]))
    with psycopg.connect(conninfo, autocommit=True, application_name="someones-psql"):
        result = run_cli(app, "restore", str(backup))
        assert result.exit_code != 0
        assert "1 other connection(s)" in result.output and "someones-psql" in result.output, result.output
        assert data_view(app) == before
        forced = run_cli(app, "restore", "--force", str(backup))
        assert forced.exit_code == 0, forced.output
        assert "restoring although the database is in use (--force)" in forced.output
    assert data_view(app)["counts"]["customers"] == before["counts"]["customers"] - 1
