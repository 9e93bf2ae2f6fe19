"""Helpers of the visit tests (imported as `visit_helpers`): a phone that uploads photos, pushes
visits and pulls; a small organisation; real photos "taken at the shop" (see
tests/verification/exif_photos.py, put on sys.path here)."""
from __future__ import annotations

import hashlib
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "verification"))

from exif_photos import (CANON_GIMP, HEIF, IPHONE, JOLLA, NIKON, NOKIA, ODD_FILES, fixture_bytes,  # noqa: E402,F401
                         resized_copy, rewrite, taken)

from helpers import PULL, PUSH, new_id, ops_of  # noqa: E402,F401
from helpers import Phone as SyncPhone  # noqa: E402

PHOTOS = "/api/v1/photos/"
VISITS = "/api/v1/visits"
SHOP = {"lat": 31.2304, "lng": 121.4737}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def now() -> datetime:
    return datetime.now(timezone.utc)


def shop_photo(name: str = NOKIA, at: datetime | None = None, lat: float = SHOP["lat"], lng: float = SHOP["lng"],
               **more) -> bytes:
    """A real phone photo taken at (lat, lng) at `at` (default: 40 s after an hour ago)."""
    return taken(name, lat, lng, at or visit_time() + timedelta(seconds=40), **more)


_VISIT_TIME: list[datetime] = []


def visit_time() -> datetime:
    """The visits' time in a test run: an hour ago, to the second."""
    if not _VISIT_TIME:
        _VISIT_TIME.append((now() - timedelta(hours=1)).replace(microsecond=0))
    return _VISIT_TIME[0]


def fix(lat: float = SHOP["lat"] + 0.0002, lng: float = SHOP["lng"], accuracy_m: float = 25) -> dict:
    return {"lat": lat, "lng": lng, "accuracy_m": accuracy_m,
            "fixed_at": (visit_time() - timedelta(seconds=15)).isoformat()}


def visit_args(customer_id, photos: list[bytes] | list[str], **overrides) -> dict:
    hashes = [p if isinstance(p, str) else sha(p) for p in photos]
    args = {"id": new_id(), "customer_id": str(customer_id), "contact_id": None, "purpose": "季度回访，了解空调采购计划",
            "result": "客户确认下月招标", "next_step": "周五前发报价", "stage": None,
            "visited_at": visit_time().astimezone(timezone(timedelta(hours=8))).isoformat(),
            "photo_hashes": hashes, "position": fix()}
    args.update(overrides)
    return args


class Phone(SyncPhone):
    """One install of the app for one user; it pushes two minutes after the visit."""

    def client_time(self) -> str:
        return (visit_time() + timedelta(minutes=2)).astimezone(timezone(timedelta(hours=8))).isoformat()

    def upload(self, data: bytes, expect: int | None = 201):
        r = self.client.put(PHOTOS + sha(data), data=data, headers=self.headers,
                            content_type="application/octet-stream")
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.get_data(as_text=True)[:500])
        return r

    def visit(self, customer_id, photos, **overrides) -> tuple[str, str]:
        """Push a visit.create; (visit id, verification status)."""
        args = visit_args(customer_id, photos, **overrides)
        result = self.applied("visit.create", args)
        return args["id"], result["server"]["verification_status"]


@dataclass
class Org:
    """上级部 > 一部: a rep who owns the shop, a colleague, their manager, the manager above,
    a manager of another department, an admin."""
    top: object
    dept: object
    rep: object
    colleague: object
    manager: object
    head: object
    other_manager: object
    admin: object
    customer: object


def make_org(factory, **customer_overrides) -> Org:
    top = factory.department(line="KA")
    dept = factory.department(parent=top)
    rep = factory.user("rep", department=dept)
    customer_overrides.setdefault("location", dict(SHOP))
    return Org(top=top, dept=dept, rep=rep, colleague=factory.user("rep", department=dept),
               manager=factory.user("manager", department=dept), head=factory.user("manager", department=top),
               other_manager=factory.user("manager"), admin=factory.user("admin"),
               customer=factory.customer(rep, **customer_overrides))


def get_visit(db_ctx, visit_id):
    from server.visits.models import Visit

    with db_ctx() as session:
        return session.get(Visit, uuid.UUID(str(visit_id)))


def get_customer(db_ctx, customer_id):
    from server.customers.models import Customer

    with db_ctx() as session:
        session.expire_all()
        return session.get(Customer, customer_id)


def set_last_progress(db_ctx, customer_id, at: datetime) -> None:
    from server.customers.models import Customer

    with db_ctx() as session:
        session.get(Customer, customer_id).last_progress_at = at
        session.commit()


def notifications(db_ctx, user, kind: str) -> list:
    from sqlalchemy import select

    from server.notifications.models import Notification

    with db_ctx() as session:
        return list(session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                               Notification.kind == kind)))


def check(verification: dict, code: str) -> dict:
    return next(c for c in verification["checks"] if c["code"] == code)
