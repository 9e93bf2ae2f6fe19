"""Helpers of the backup tests (imported as `backup_helpers`): an organisation with everything a
backup must keep (customers, contacts, a visit verified against a real photo, an attachment on a
deal, audit entries), a phone that keeps writing while a backup runs, and views of the data to
compare before and after."""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, text

from conftest import FIXTURES, Factory
from helpers import Phone, new_id, ok, set_settings

PHOTO = (FIXTURES / "mobile_HMD_Nokia_8.3_5G.jpg").read_bytes()
PHOTO_2 = (FIXTURES / "gps_DSCN0010.jpg").read_bytes()
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n% fieldcrm backup test\n"
SHOP = {"lat": 31.2304, "lng": 121.4737}
CST = timezone(timedelta(hours=8))
BIG_QUOTAS = {"KA": 100_000, "INTERNET": 100_000, "RETAIL": 100_000}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def variant(data: bytes, n: int) -> bytes:
    """The same JPEG with bytes after its end: another SHA-256, the same picture."""
    return data + b"fieldcrm-backup-" + n.to_bytes(8, "big")


def run_cli(app, *args):
    from server.cli import cli

    return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)


def visit_args(customer_id: str, contact_id: str | None, photos: list[bytes]) -> dict:
    at = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    return {"id": new_id(), "customer_id": customer_id, "contact_id": contact_id,
            "purpose": "季度回访，了解空调采购计划", "result": "客户确认下月招标", "next_step": "周五前发报价",
            "stage": None, "visited_at": at.astimezone(CST).isoformat(), "photo_hashes": [sha(p) for p in photos],
            "position": {**SHOP, "accuracy_m": 25, "fixed_at": (at - timedelta(seconds=15)).isoformat()}}


def customer_args(factory: Factory, contacts: int = 1) -> dict:
    args = factory.customer_args(location=dict(SHOP))
    args["id"] = new_id()
    args["contacts"] = [{"id": new_id(), "name": f"联系人{i}", "title": "经理", "mobile": "13800001234"}
                        for i in range(contacts)]
    return args


def upload(phone: Phone, data: bytes, url: str = "/api/v1/photos/") -> None:
    r = phone.client.put(url + sha(data), data=data, headers=phone.headers, content_type="application/octet-stream")
    assert r.status_code in (200, 201), (r.status_code, r.get_data(as_text=True)[:400])


@dataclass
class World:
    """What the seeded organisation holds, as the API showed it before the backup."""
    factory: Factory
    rep: object
    writer_user: object
    phone: Phone
    customer_id: str
    contact_ids: list[str]
    visit_id: str
    visit: dict  # GET /api/v1/visits/{id} before the backup
    photos: dict[str, bytes]  # sha -> bytes
    attachment: bytes
    deal_id: str
    audit_ids: set[int] = field(default_factory=set)


def seed(app) -> World:
    """Through the real API: a rep creates a customer with contacts, uploads photos, checks in
    with a visit (verified against the photo), uploads a contract PDF and files a deal with it."""
    factory = Factory(app)
    set_settings(app, {"quotas": BIG_QUOTAS})
    department = factory.department("华东KA一组", line="KA")
    rep = factory.user("rep", department=department, display_name="王宏")
    writer_user = factory.user("rep", department=department, display_name="李静")
    phone = Phone(app.test_client(), factory, rep)
    args = customer_args(factory, contacts=2)
    phone.applied("customer.create", args)
    for photo in (PHOTO, PHOTO_2):
        upload(phone, photo)
    visit = visit_args(args["id"], args["contacts"][0]["id"], [PHOTO, PHOTO_2])
    phone.applied("visit.create", visit)
    upload(phone, PDF, "/api/v1/pipeline/attachments/")
    deal_id = new_id()
    phone.applied("deal.create", {"id": deal_id, "customer_id": args["id"], "contract_no": "HT-2026-0042",
                                  "amount": 128_000_00, "attachment": sha(PDF)})
    shown = ok(phone.client.get(f"/api/v1/visits/{visit['id']}", headers=phone.headers))
    # The full photo is served (and its thumbnail made and kept on disk: that file is backed up too).
    assert phone.client.get(f"/api/v1/photos/{sha(PHOTO)}?size=thumb", headers=phone.headers).status_code == 200
    world = World(factory, rep, writer_user, phone, args["id"], [c["id"] for c in args["contacts"]], visit["id"],
                  shown, {sha(PHOTO): PHOTO, sha(PHOTO_2): PHOTO_2}, PDF, deal_id)
    from server.common.audit import AuditEntry
    from server.extensions import db

    with app.app_context():
        world.audit_ids = set(db.session.scalars(select(AuditEntry.id)))
    assert len(world.audit_ids) >= 8
    return world


class Writer(threading.Thread):
    """Another rep's phone pushing all the time: a customer.create, then a photo upload and a
    visit.create on that customer, and so on, one mutation per push, until stopped. `applied`
    lists (mutation id, name, entity id) in the order the server answered them."""

    def __init__(self, app, world: World):
        super().__init__(daemon=True)
        self.phone = Phone(app.test_client(), world.factory, world.writer_user)
        self.factory = world.factory
        self.stop = threading.Event()
        self.applied: list[tuple[int, str, str]] = []
        self.photos: dict[int, str] = {}  # mutation id of a visit -> its photo's sha
        self.progress = threading.Condition()
        self.error: BaseException | None = None

    def count(self) -> int:
        with self.progress:
            return len(self.applied)

    def wait_for(self, count: int, timeout: float = 60.0) -> None:
        with self.progress:
            if not self.progress.wait_for(lambda: len(self.applied) >= count or self.error, timeout):
                raise AssertionError(f"the writer made {len(self.applied)} of {count} mutations in {timeout}s")
        if self.error:
            raise self.error

    def _done(self, mutation_id: int, name: str, entity_id: str) -> None:
        with self.progress:
            self.applied.append((mutation_id, name, entity_id))
            self.progress.notify_all()

    def run(self) -> None:
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                args = customer_args(self.factory)
                mutation_id = self.phone.next_id
                self.phone.applied("customer.create", args)
                self._done(mutation_id, "customer.create", args["id"])
                photo = variant(PHOTO_2, n)
                upload(self.phone, photo)
                visit = visit_args(args["id"], args["contacts"][0]["id"], [photo])
                mutation_id = self.phone.next_id
                self.phone.applied("visit.create", visit)
                self.photos[mutation_id] = sha(photo)
                self._done(mutation_id, "visit.create", visit["id"])
        except BaseException as exc:  # noqa: BLE001 — reported to the test through wait_for/finish
            self.error = exc
            with self.progress:
                self.progress.notify_all()

    def finish(self) -> None:
        self.stop.set()
        self.join(60)
        assert not self.is_alive()
        if self.error:
            raise self.error


def table_counts(app) -> dict[str, int]:
    from server.extensions import db

    with app.app_context():
        names = [t.name for t in db.metadata.sorted_tables]
        return {name: db.session.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}


def store_files(app) -> dict[str, str]:
    """Every file of the photo volume (originals, thumbnails, attachments) -> its SHA-256."""
    root = Path(app.config["PHOTO_DIR"])
    return {str(p.relative_to(root)): sha(p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()}


def data_view(app) -> dict:
    """What a refused restore must leave exactly as it was: row counts, customer names, every
    audit entry id, every file of the photo store."""
    from server.common.audit import AuditEntry
    from server.customers.models import Customer
    from server.extensions import db

    with app.app_context():
        names = sorted(db.session.scalars(select(Customer.name)))
        audit = db.session.scalar(select(func.max(AuditEntry.id)))
    return {"counts": table_counts(app), "customers": names, "max_audit": audit, "files": store_files(app)}


def sqlite_integrity(path: str) -> list:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")] + list(conn.execute("PRAGMA foreign_key_check"))
    finally:
        conn.close()
