"""Online backups and verified restores (SPEC R-I3).

A backup is a folder (not an archive: every file can be checked, copied with rsync and read with
ordinary tools; `tar cf backup.tar PATH` it to ship it):

    PATH/manifest.json                fieldcrm version, schema revision, database kind, time,
                                      row count of every table, every file with size + SHA-256,
                                      and the SHA-256 of the manifest itself
    PATH/database/fieldcrm.sqlite3    SQLite: a copy made with SQLite's backup API
    PATH/database/fieldcrm.pgdump     PostgreSQL: `pg_dump --format=custom`
    PATH/photos/…                     the photo volume (PHOTO_DIR) as it is on disk: originals
                                      `ab/cd/<sha256>`, `thumbs/…`, and the attachment store
                                      `attachments/ab/cd/<sha256>` (server/pipeline/attachments.py)

Consistency while the server writes: the database is copied first, as one snapshot (SQLite:
one backup step under one read transaction — WAL lets writers go on; PostgreSQL: pg_dump runs
in a snapshot exported by a REPEATABLE READ transaction, and the revision and row counts are read
in that same snapshot). The blobs are copied after it. They are content-addressed and never
change, and every upload writes its file before its row commits, so every file a row of the
snapshot names is already on disk when the copy starts; files uploaded later come along
harmlessly (no row names them). The folder is written under a temporary name beside PATH and
renamed to PATH last, so a folder called PATH is always a finished backup.

Restore checks everything before it touches anything: the manifest's own checksum, every file's
size and SHA-256, no file missing or extra, the database kind, and that the schema revision is one
this code knows (a backup from newer code is refused). Then the blobs (first: a crash half-way
leaves extra files, never rows without their files), then the database — SQLite through the
backup API into the live file (one write transaction: readers see the old or the new database,
never a mix; no -wal file left to replay over it), PostgreSQL with `pg_restore --clean
--if-exists --single-transaction`. Stop the server (`fieldcrm run`) before restoring.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Callable

from flask import current_app
from sqlalchemy.engine import URL, make_url

from server.photos import storage

FORMAT = "fieldcrm-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database/fieldcrm.sqlite3"
PG_FILE = "database/fieldcrm.pgdump"
PHOTOS = "photos"
CHUNK = 1 << 20

Echo = Callable[[str], None]


class BackupError(Exception):
    """A backup that cannot be made or a backup that must not be restored; the message says why."""


def _quiet(_message: str) -> None:
    pass


# ---- small helpers ------------------------------------------------------------------------------

def fieldcrm_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fieldcrm")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def database_kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def configured_url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"cannot back up the SQLite database {url.database!r}: not a plain file")
    return Path(url.database)


def libpq(url: URL) -> tuple[str, dict]:
    """The SQLAlchemy URL as a libpq connection URL (no driver suffix) and the environment that
    carries its password (PGPASSWORD: a password on a command line is visible to `ps`)."""
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def copy_hashed(source: Path, dest: Path) -> tuple[int, str]:
    """Copy `source` to `dest` (made durable); the size and SHA-256 of the bytes written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as src, open(dest, "wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


def manifest_checksum(manifest: dict) -> str:
    """SHA-256 of the manifest without its `checksum` key, in one canonical JSON spelling: an
    edited or damaged manifest no longer matches."""
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          .encode()).hexdigest()


def _blob_files(root: Path) -> list[Path]:
    """Every file of the photo volume except atomic-write leftovers (`.name.xxx.tmp`)."""
    if not root.is_dir():
        return []
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(Path(folder) / f for f in sorted(files) if not f.startswith("."))
    return out


def code_revisions() -> tuple[set[str], tuple[str, ...]]:
    """Every migration revision this code has, and its head(s)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from server import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    script = ScriptDirectory.from_config(config)
    return {rev.revision for rev in script.walk_revisions()}, tuple(script.get_heads())


# ---- reading a database snapshot ------------------------------------------------------------------

def _sqlite_facts(conn: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    revision = None
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return revision, counts


def _pg_facts(conn) -> tuple[str | None, dict[str, int]]:
    tables = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
    counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    revision = None
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return revision, counts


def _sqlite_integrity(conn: sqlite3.Connection, what: str) -> None:
    problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    if problems != ["ok"]:
        raise BackupError(f"{what} fails SQLite's integrity check: {'; '.join(problems[:5])}")
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise BackupError(f"{what} has {len(broken)} broken foreign key(s), e.g. {broken[0]}")


# ---- backup -------------------------------------------------------------------------------------

@dataclass
class BackupReport:
    path: Path
    manifest: dict
    blobs: int = 0
    blob_bytes: int = 0
    damaged_in_store: list[str] = field(default_factory=list)


def _snapshot_sqlite(url: URL, staging: Path) -> tuple[str | None, dict[str, int], str]:
    live = sqlite_path(url)
    if not live.is_file():
        raise BackupError(f"the SQLite database {live} does not exist")
    dest = staging / SQLITE_FILE
    dest.parent.mkdir(parents=True)
    source = sqlite3.connect(live, timeout=60)
    target = sqlite3.connect(dest)
    try:
        source.execute("PRAGMA busy_timeout=60000")
        # pages=-1: the whole database in one step, under one read transaction of the source —
        # one consistent snapshot. In WAL mode the server's writers carry on meanwhile.
        source.backup(target, pages=-1)
        # The copy is one self-contained file (no -wal beside it).
        target.execute("PRAGMA journal_mode=DELETE")
        _sqlite_integrity(target, "the copied database")
        revision, counts = _sqlite_facts(target)
    finally:
        target.close()
        source.close()
    return revision, counts, SQLITE_FILE


def _snapshot_postgresql(url: URL, staging: Path) -> tuple[str | None, dict[str, int], str]:
    import psycopg

    pg_dump = _tool("pg_dump")
    conninfo, env = libpq(url)
    dest = staging / PG_FILE
    dest.parent.mkdir(parents=True)
    with psycopg.connect(conninfo, autocommit=True, password=env.get("PGPASSWORD")) as conn:
        # One snapshot for pg_dump and for the facts in the manifest: pg_dump attaches to the
        # snapshot this transaction exports, so its dump, the revision and the row counts
        # describe the same instant even while phones keep pushing.
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        revision, counts = _pg_facts(conn)
        done = subprocess.run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dest}",
                               "--dbname", conninfo], env=env, capture_output=True, text=True)
        conn.execute("COMMIT")
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()}")
    return revision, counts, PG_FILE


def create_backup(path: str | Path, echo: Echo = _quiet) -> BackupReport:
    """Write a backup of the configured database and the photo volume into the folder `path`
    (which must not exist yet, or be an empty folder)."""
    target = Path(path).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not an empty folder; choose a new path")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    url = configured_url()
    kind = database_kind(url)
    photo_root = Path(current_app.config["PHOTO_DIR"])
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        created_at = datetime.now(timezone.utc)
        snapshot = _snapshot_sqlite if kind == "sqlite" else _snapshot_postgresql
        revision, counts, db_file = snapshot(url, staging)
        files = []
        size, digest = sha256_file(staging / db_file)
        files.append({"path": db_file, "size": size, "sha256": digest})
        echo(f"database ({kind}, revision {revision}) copied: {size:,} bytes")
        report = BackupReport(target, {})
        # After the snapshot: every blob a row of it names is already on disk (see the module doc).
        for source in _blob_files(photo_root):
            rel = PurePosixPath(PHOTOS, *source.relative_to(photo_root).parts)
            try:
                size, digest = copy_hashed(source, staging / rel)
            except FileNotFoundError:  # swept away between listing and copying
                continue
            if storage.SHA256_RE.fullmatch(source.name) and digest != source.name:
                report.damaged_in_store.append(str(rel))
            files.append({"path": str(rel), "size": size, "sha256": digest})
            report.blobs += 1
            report.blob_bytes += size
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "fieldcrm_version": fieldcrm_version(),
            "alembic_revision": revision,
            "database": kind,
            "database_file": db_file,
            "created_at": created_at.isoformat(),
            "tables": counts,
            "files": files,
        }
        manifest["checksum"] = manifest_checksum(manifest)
        with open(staging / MANIFEST, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        for folder in {staging / PurePosixPath(f["path"]).parent for f in files} | {staging}:
            _fsync_dir(folder)
        if target.exists():
            target.rmdir()  # the empty folder we were given
        os.rename(staging, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report.manifest = manifest
    echo(f"{report.blobs} photo/attachment file(s) copied: {report.blob_bytes:,} bytes")
    for rel in report.damaged_in_store:
        echo(f"warning: {rel} in the photo store does not match its name (damaged on disk); copied as it is")
    echo(f"backup written to {target} ({len(files)} files, manifest with SHA-256 of each)")
    return report


# ---- verification ---------------------------------------------------------------------------------

def _safe_rel(raw) -> PurePosixPath | None:
    if not isinstance(raw, str) or not raw or "\\" in raw:
        return None
    rel = PurePosixPath(raw)
    if rel.is_absolute() or any(part in ("", ".", "..") for part in rel.parts):
        return None
    if rel.parts[0] not in ("database", PHOTOS) or len(rel.parts) < 2:
        return None
    return rel


def verify_backup(path: str | Path) -> dict:
    """The manifest of a complete, undamaged backup; BackupError listing every problem otherwise."""
    folder = Path(path)
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a backup folder")
    manifest_file = folder / MANIFEST
    if not manifest_file.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: not a fieldcrm backup, or an incomplete one")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{MANIFEST} is damaged (not valid JSON: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} does not describe a fieldcrm backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"backup format {manifest.get('format_version')!r} is not supported "
                          f"(this fieldcrm reads format {FORMAT_VERSION})")
    if manifest.get("checksum") != manifest_checksum(manifest):
        raise BackupError(f"{MANIFEST} has been edited or damaged: its checksum does not match its content")
    entries = manifest.get("files")
    if not isinstance(entries, list) or manifest.get("database") not in ("sqlite", "postgresql"):
        raise BackupError(f"{MANIFEST} is incomplete")

    problems: list[str] = []
    listed: set[PurePosixPath] = set()
    for entry in entries:
        rel = _safe_rel(entry.get("path") if isinstance(entry, dict) else None)
        if rel is None or not isinstance(entry.get("size"), int) or not isinstance(entry.get("sha256"), str):
            problems.append(f"bad manifest entry: {entry!r}")
            continue
        if rel in listed:
            problems.append(f"listed twice: {rel}")
            continue
        listed.add(rel)
        file = folder / rel
        if not file.is_file() or file.is_symlink():
            problems.append(f"missing: {rel}")
            continue
        size, digest = sha256_file(file)
        if size != entry["size"]:
            problems.append(f"wrong size: {rel} ({size:,} bytes, the manifest says {entry['size']:,})")
        elif digest != entry["sha256"]:
            problems.append(f"checksum mismatch: {rel}")
    db_file = _safe_rel(manifest.get("database_file"))
    if db_file is None or db_file not in listed:
        problems.append("the database file is not in the manifest")
    for file in folder.rglob("*"):
        rel = PurePosixPath(*file.relative_to(folder).parts)
        if file.is_file() and rel != PurePosixPath(MANIFEST) and rel not in listed:
            problems.append(f"not in the manifest: {rel}")
    if problems:
        shown = problems[:20] + ([f"… and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise BackupError(f"the backup in {folder} is damaged or incomplete; nothing was restored:\n  "
                          + "\n  ".join(shown))
    return manifest


def check_restorable(manifest: dict, url: URL) -> None:
    kind = database_kind(url)
    if manifest["database"] != kind:
        raise BackupError(f"this is a {manifest['database']} backup but the configured database is {kind}; "
                          "restore it into a server configured like the one it came from")
    revision = manifest.get("alembic_revision")
    known, heads = code_revisions()
    if not revision:
        raise BackupError("the backup's database has no schema revision (it was never migrated); nothing to restore")
    if revision not in known:
        raise BackupError(f"the backup's schema revision {revision} is newer than this code (head "
                          f"{', '.join(heads)}): install the fieldcrm version that made it "
                          f"({manifest.get('fieldcrm_version')}) or newer, then restore")


# ---- a running server -----------------------------------------------------------------------------

SERVER_LOCK = "fieldcrm-server.lock"


def hold_server_lock(instance: Path) -> int:
    """Called by `fieldcrm run` before it starts serving: a shared lock on a file of the instance
    folder, held by the server and its workers (they inherit it) for as long as they run, so a
    restore on this machine can tell that a server still uses the database. The descriptor is
    kept open on purpose; the lock goes with the processes."""
    instance.mkdir(parents=True, exist_ok=True)
    fd = os.open(instance / SERVER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def users_of_database(url: URL, instance: Path) -> list[str]:
    """What still uses the database a restore would replace: a fieldcrm server of this instance
    folder (its lock), and on PostgreSQL any other connection to the database — the app servers
    of other hosts, the daily jobs, a psql session."""
    found = []
    lock = instance / SERVER_LOCK
    if lock.exists():
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            found.append(f"a fieldcrm server on this machine is serving the instance {instance}")
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    if database_kind(url) == "postgresql":
        import psycopg

        conninfo, env = libpq(url)
        with psycopg.connect(conninfo, autocommit=True, password=env.get("PGPASSWORD")) as conn:
            rows = conn.execute(
                "SELECT coalesce(nullif(application_name, ''), '?'), coalesce(host(client_addr), 'local'), state "
                "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend' ORDER BY backend_start").fetchall()
        if rows:
            shown = ", ".join(f"{app} from {addr} ({state})" for app, addr, state in rows[:5])
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            found.append(f"{len(rows)} other connection(s) to the database {url.database}: {shown}{more}")
    return found


# ---- restore ------------------------------------------------------------------------------------

@dataclass
class RestoreReport:
    manifest: dict
    blobs_written: int = 0
    blobs_present: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    upgrade_needed: bool = False


def _restore_blobs(folder: Path, manifest: dict, photo_root: Path, report: RestoreReport) -> None:
    for entry in manifest["files"]:
        rel = PurePosixPath(entry["path"])
        if rel.parts[0] != PHOTOS:
            continue
        dest = photo_root.joinpath(*rel.parts[1:])
        if dest.is_file() and sha256_file(dest) == (entry["size"], entry["sha256"]):
            report.blobs_present += 1
            continue
        # The same atomic write as an upload: the live store never holds half a file.
        storage.write_atomic(dest, (folder / rel).read_bytes())
        report.blobs_written += 1


def _restore_sqlite(folder: Path, manifest: dict, url: URL) -> dict[str, int]:
    live = sqlite_path(url)
    live.parent.mkdir(parents=True, exist_ok=True)
    source_file = (folder / manifest["database_file"]).absolute()
    # immutable=1: the backup file is only read (no lock files, no journal beside it).
    source = sqlite3.connect(f"{source_file.as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        _sqlite_integrity(source, "the backup's database")
        target = sqlite3.connect(live, timeout=60)
        try:
            target.execute("PRAGMA busy_timeout=60000")
            # The backup API writes every page into the live file in one write transaction
            # (journaled through its WAL): all or nothing, and nothing stale left to replay.
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=WAL")
            _sqlite_integrity(target, "the restored database")
            _revision, counts = _sqlite_facts(target)
            target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            target.close()
    finally:
        source.close()
    return counts


def _restore_postgresql(folder: Path, manifest: dict, url: URL) -> dict[str, int]:
    import psycopg

    pg_restore = _tool("pg_restore")
    conninfo, env = libpq(url)
    dump = str(folder / manifest["database_file"])
    options = ["--clean", "--if-exists", "--no-owner", "--no-privileges"]
    with psycopg.connect(conninfo, autocommit=True, password=env.get("PGPASSWORD")) as conn:
        _revision, current = _pg_facts(conn)
    extra = sorted(set(current) - _dump_tables(pg_restore, dump, env))
    if not extra:
        done = subprocess.run([pg_restore, *options, "--single-transaction", "--exit-on-error", "--dbname", conninfo,
                               dump], env=env, capture_output=True, text=True)
    else:
        # The database has tables the backup lacks (made by migrations newer than the backup):
        # --clean would leave them, and their foreign keys would stop it dropping the tables
        # they refer to. They go first, in the same one transaction as the restore: pg_restore
        # writes the restore as SQL and psql runs the drops and it with --single-transaction.
        script = subprocess.run([pg_restore, *options, "--file=-", dump], env=env, capture_output=True)
        if script.returncode != 0:
            raise BackupError(f"pg_restore could not read the dump: {script.stderr.decode(errors='replace')}")
        drops = "".join(f'DROP TABLE IF EXISTS public."{t}" CASCADE;\n' for t in extra).encode()
        done = subprocess.run([_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction", "-v",
                               "ON_ERROR_STOP=1", "--dbname", conninfo], input=drops + script.stdout, env=env,
                              capture_output=True)
        done.stderr = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed ({done.returncode}); the database was left as it was "
                          f"(one transaction):\n{done.stderr.strip()}")
    with psycopg.connect(conninfo, autocommit=True, password=env.get("PGPASSWORD")) as conn:
        _revision, counts = _pg_facts(conn)
    return counts


def _dump_tables(pg_restore: str, dump: str, env: dict) -> set[str]:
    """The tables of the public schema in a custom-format dump (`pg_restore --list`)."""
    done = subprocess.run([pg_restore, "--list", dump], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore could not read the dump: {done.stderr.strip()}")
    tables = set()
    for line in done.stdout.splitlines():
        # "215; 1259 16390 TABLE public customers postgres"
        parts = line.split()
        if not line.startswith(";") and len(parts) >= 6 and parts[3] == "TABLE" and parts[4] == "public":
            tables.add(parts[5])
    return tables


def restore_backup(path: str | Path, echo: Echo = _quiet, force: bool = False) -> RestoreReport:
    """Verify the backup in `path` completely, check that no server still uses the database
    (unless `force`), then restore the blobs and the database."""
    from server.extensions import db

    folder = Path(path)
    manifest = verify_backup(folder)
    url = configured_url()
    check_restorable(manifest, url)
    report = RestoreReport(manifest)
    echo(f"verified {len(manifest['files'])} files of the {manifest['database']} backup made "
         f"{manifest['created_at']} by fieldcrm {manifest['fieldcrm_version']} (schema {manifest['alembic_revision']})")

    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours counts as a user, or holds the old database
    users = users_of_database(url, Path(current_app.config["INSTANCE_PATH"]))
    if users and not force:
        # A server writing on would mix its writes into the restored data, or lose them, and a
        # PostgreSQL restore would wait on its locks: stop everything that uses it first.
        raise BackupError("the database is still in use; stop the server(s) and the daily jobs, then restore "
                          "(nothing was restored):\n  " + "\n  ".join(users)
                          + "\n(--force restores anyway, e.g. past a monitoring connection you know of)")
    for user in users:
        echo(f"restoring although the database is in use (--force): {user}")

    photo_root = Path(current_app.config["PHOTO_DIR"])
    _restore_blobs(folder, manifest, photo_root, report)
    echo(f"photo store {photo_root}: {report.blobs_written} file(s) restored, "
         f"{report.blobs_present} already present")

    if manifest["database"] == "sqlite":
        report.tables = _restore_sqlite(folder, manifest, url)
        echo(f"SQLite database {sqlite_path(url)} replaced with the backup's copy")
    else:
        report.tables = _restore_postgresql(folder, manifest, url)
        echo(f"PostgreSQL database {url.database} restored with pg_restore (one transaction)")
    expected = manifest.get("tables") or {}
    differ = {t: (n, report.tables.get(t)) for t, n in expected.items() if report.tables.get(t) != n}
    if differ:
        raise BackupError(f"the restored database does not hold the rows the manifest lists: {differ}")
    shown = ", ".join(f"{expected.get(t, 0)} {t}" for t in ("customers", "contacts", "visits", "photos",
                                                           "attachments", "audit_entries") if t in expected)
    echo(f"restored {sum(expected.values()):,} rows in {len(expected)} tables ({shown})")
    _known, heads = code_revisions()
    if manifest["alembic_revision"] not in heads:
        report.upgrade_needed = True
        echo(f"the backup's schema {manifest['alembic_revision']} is older than this code's "
             f"({', '.join(heads)}): run `fieldcrm db upgrade` before starting the server")
    return report
