"""Demo visits (SPEC R-A2, §7) with real photos: `load_demo_visits(rng, customers)`.

Each visit's photo is a crop of a real camera photo from shared/fixtures/photos (a different
crop per visit, so that genuine visits are not `photo_similar` to each other), with that
camera's own EXIF rewritten by piexif for the visit: GPS at the customer, GPS time and
DateTimeOriginal at the visit. The photos go through `store_photo` and the visits through
`create_visit`, so EXIF facts, perceptual hashes and verification are the real thing. Most
visits are genuine; a few are not: taken kilometres away, a photo reused from another visit,
a GIMP-edited photo, one without any position, one whose photo never arrived (pending), and
Android photos with redacted GPS (verified by the phone's fix).

Visit times lie before each customer's last progress, so the demo's reclaim timeline stays as
the loader planned it. ~200 visits take a few seconds.
"""
from __future__ import annotations

import hashlib
import io
import logging
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from server.common.db import utcnow, uuid7
from server.customers.models import Customer

log = logging.getLogger("fieldcrm.demo")

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "photos"
# (file, share of the crops): real phones and cameras whose pixels and EXIF the photos reuse
SOURCES = ("mobile_HMD_Nokia_8.3_5G.jpg", "hdr_iphone_hdr_YES.jpg", "mobile_jolla.jpg", "tests_36-memory_error.jpg",
           "tests_87_OSError.jpg", "gps_DSCN0010.jpg", "gps_DSCN0021.jpg")
PHOTO_SIZE = (640, 480)
QUALITY = 85
# genuine photos stay this many phash bits apart (photo_similar flags 6 or fewer)
MIN_DISTANCE = 14
RECENT_SHARE = 0.4  # visits within 60 days of the customer's last progress; the rest over a year
SHANGHAI = timezone(timedelta(hours=8))

# kind -> share of the visits (the rest are genuine)
KINDS = {"redacted_gps": 0.06, "far_away": 0.04, "reused_photo": 0.03, "edited": 0.03, "no_position": 0.03,
         "photo_missing": 0.02}
PURPOSES = ["季度回访", "需求调研", "方案演示", "报价沟通", "合同条款确认", "售后回访", "新品介绍", "关系维护"]
RESULTS = ["客户认可方案，等待内部评审", "确认了采购预算和时间表", "约定下周技术交流", "对价格仍有顾虑",
           "关键人出差，与对接人沟通了进展", "客户提出新的需求，需要评估"]
NEXT_STEPS = ["周五前发送报价单", "安排技术团队演示", "准备合同草稿", "两周后再次拜访", "邀请客户参观展厅", None]


@dataclass
class _Crop:
    source: str
    image: Any  # PIL image, 640x480 RGB
    phash: Any  # imagehash value


def _base_images(fixtures: Path) -> list[tuple[str, Any, dict]]:
    """(name, picture decoded at a reduced scale, its EXIF as piexif reads it) per source."""
    import piexif
    from PIL import Image

    bases = []
    for name in SOURCES:
        path = fixtures / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (max(PHOTO_SIZE[0], image.width // 2), max(PHOTO_SIZE[1], image.height // 2)))
            picture = image.convert("RGB")
        try:
            exif = piexif.load(data)
        except Exception:  # a fixture piexif cannot read: its pixels only
            exif = {"0th": {}, "Exif": {}, "GPS": {}}
        bases.append((name, picture, exif))
    return bases


def _crops(rng: random.Random, bases, wanted: int) -> list[_Crop]:
    """`wanted` 640x480 crops (various places, zooms, mirrored or not), no two within
    MIN_DISTANCE bits of phash."""
    import imagehash
    from PIL import Image, ImageOps

    chosen: list[_Crop] = []
    attempts = 0
    while len(chosen) < wanted and attempts < wanted * 30:
        attempts += 1
        name, picture, _ = bases[attempts % len(bases)]
        zoom = rng.uniform(0.35, 1.0)
        width = min(picture.width, max(PHOTO_SIZE[0] // 2, int(picture.width * zoom)))
        height = min(picture.height, int(width * PHOTO_SIZE[1] / PHOTO_SIZE[0]))
        width = int(height * PHOTO_SIZE[0] / PHOTO_SIZE[1])
        left, top = rng.randint(0, picture.width - width), rng.randint(0, picture.height - height)
        crop = picture.crop((left, top, left + width, top + height)).resize(
            PHOTO_SIZE, Image.Resampling.BILINEAR, reducing_gap=2.0)
        if rng.random() < 0.5:
            crop = ImageOps.mirror(crop)
        phash = imagehash.phash(crop)
        if all(phash - other.phash >= MIN_DISTANCE for other in chosen):
            chosen.append(_Crop(name, crop, phash))
    log.info("demo photos: %d distinct crops in %d attempts", len(chosen), attempts)
    return chosen


def _dms(value: float) -> tuple:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 10000)
    return ((degrees, 1), (minutes, 1), (seconds, 10000))


def _photo_bytes(crop: _Crop, exif_base: dict, *, at: datetime, position: tuple[float, float] | None,
                 redacted: bool = False, software: str | None = None) -> bytes:
    """The crop as a JPEG with its camera's EXIF set for this visit."""
    import piexif

    zeroth = {k: v for k, v in (exif_base.get("0th") or {}).items()
              if k in (piexif.ImageIFD.Make, piexif.ImageIFD.Model, piexif.ImageIFD.Software)}
    local = at.astimezone(SHANGHAI).strftime("%Y:%m:%d %H:%M:%S").encode()
    zeroth[piexif.ImageIFD.DateTime] = local
    zeroth[piexif.ImageIFD.Orientation] = 1
    if software:
        zeroth[piexif.ImageIFD.Software] = software.encode()
    exif_ifd = {piexif.ExifIFD.DateTimeOriginal: local, piexif.ExifIFD.OffsetTimeOriginal: b"+08:00"}
    utc = at.astimezone(timezone.utc)
    gps: dict = {piexif.GPSIFD.GPSVersionID: (2, 2, 0, 0),
                 piexif.GPSIFD.GPSDateStamp: utc.strftime("%Y:%m:%d").encode(),
                 piexif.GPSIFD.GPSTimeStamp: ((utc.hour, 1), (utc.minute, 1), (utc.second, 1))}
    if redacted:
        zero = ((0, 1), (0, 1), (0, 1))
        gps.update({piexif.GPSIFD.GPSLatitudeRef: b"", piexif.GPSIFD.GPSLatitude: zero,
                    piexif.GPSIFD.GPSLongitudeRef: b"", piexif.GPSIFD.GPSLongitude: zero})
    elif position is not None:
        lat, lng = position
        gps.update({piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S", piexif.GPSIFD.GPSLatitude: _dms(lat),
                    piexif.GPSIFD.GPSLongitudeRef: b"E" if lng >= 0 else b"W", piexif.GPSIFD.GPSLongitude: _dms(lng)})
    else:
        gps = {}
    exif = piexif.dump({"0th": zeroth, "Exif": exif_ifd, "GPS": gps, "1st": {}, "thumbnail": None})
    out = io.BytesIO()
    crop.image.save(out, "JPEG", quality=QUALITY, exif=exif)
    return out.getvalue()


def _moved(lat: float, lng: float, metres: float, bearing: float) -> tuple[float, float]:
    dlat = metres * math.cos(bearing) / 111_195.0
    dlng = metres * math.sin(bearing) / (111_195.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 7), round(lng + dlng, 7)


def _visit_time(rng: random.Random, customer: Customer, now: datetime) -> datetime:
    """A working hour (Shanghai) before the customer's last progress: most within 60 days of it
    (today's lists, the review queue, daily reports), the rest over the year before (monthly
    charts and targets have a year of visits)."""
    latest = min(customer.last_progress_at or now, now) - timedelta(hours=1)
    window = timedelta(days=60 if rng.random() < RECENT_SHARE else 365)
    earliest = max(customer.created_at or latest - window, latest - window)
    span = max(0.0, (latest - earliest).total_seconds())
    day = (earliest + timedelta(seconds=rng.uniform(0, span))).astimezone(SHANGHAI)
    at = day.replace(hour=rng.randint(9, 17), minute=rng.randint(0, 59), second=rng.randint(0, 59), microsecond=0)
    if at > latest:
        at -= timedelta(days=1)
    return at.astimezone(timezone.utc)


def load_demo_visits(rng: random.Random, customers: Iterable[Customer], fixtures_dir: Path | str | None = None,
                     count: int = 320, now: datetime | None = None) -> dict[str, int]:
    """Add about `count` visits (with real photos) to owned customers that have a location.

    `fixtures_dir`: where the source photos are (default ../shared/fixtures/photos); the demo's
    photos are stored through `store_photo` in the app's PHOTO_DIR. Call inside the demo's
    transaction and app/request context (nothing here commits). Returns how many visits of each
    verification status were made ({} when the fixture photos are not there)."""
    from server.photos.service import store_photo
    from server.visits.service import create_visit

    fixtures = Path(fixtures_dir) if fixtures_dir else FIXTURES
    now = now or utcnow()
    candidates = [c for c in customers if c.owner_id is not None and c.voided_at is None and c.lat is not None
                  and c.lng is not None and c.owner is not None and c.owner.active]
    if not candidates or not fixtures.is_dir():
        log.info("demo visits skipped: %s", "no fixture photos" if candidates else "no customers")
        return {}
    bases = _base_images(fixtures)
    if not bases:
        return {}
    exif_of = {name: exif for name, _, exif in bases}
    chosen = rng.sample(candidates, min(count, len(candidates)))
    crops = _crops(rng, bases, len(chosen))
    made: dict[str, int] = {}
    stored: list[tuple[str, datetime]] = []  # (sha256, received) of the photos stored so far
    # made in the order they reach the server, as on a real one ("earlier" is by receive time)
    planned = []
    for customer in chosen[:len(crops)]:
        visited_at = _visit_time(rng, customer, now)
        planned.append((visited_at + timedelta(minutes=rng.choice((1, 2, 5, 10, 30, 90, 240))), visited_at,
                        customer))
    planned.sort(key=lambda p: p[0])
    for index, (received_at, visited_at, customer) in enumerate(planned):
        roll, kind, edge = rng.random(), "genuine", 0.0
        for name, share in KINDS.items():
            edge += share
            if roll < edge:
                kind = name
                break
        if kind == "reused_photo" and not stored:
            kind = "genuine"
        owner = customer.owner
        taken_at = visited_at + timedelta(seconds=rng.randint(5, 240))
        crop = crops[index]
        spot = _moved(customer.lat, customer.lng, rng.uniform(0, 60), rng.uniform(0, 2 * math.pi))
        fix: dict | None = {"lat": spot[0], "lng": spot[1], "accuracy_m": rng.choice((8, 12, 20, 35, 65)),
                            "fixed_at": (taken_at - timedelta(seconds=rng.randint(2, 30))).isoformat()}
        photo_position: tuple[float, float] | None = spot
        software = None
        if kind == "far_away":
            photo_position = _moved(customer.lat, customer.lng, rng.uniform(3000, 9000), rng.uniform(0, 2 * math.pi))
            fix.update(lat=photo_position[0], lng=photo_position[1])
        elif kind == "edited":
            software = rng.choice(("GIMP 2.10.34", "Adobe Photoshop 25.0 (Windows)", "美图秀秀"))
        elif kind == "no_position":
            photo_position, fix = None, None
        if kind == "reused_photo":
            sha256 = rng.choice(stored)[0]
        else:
            data = _photo_bytes(crop, exif_of.get(crop.source) or {}, at=taken_at, position=photo_position,
                                redacted=kind == "redacted_gps", software=software)
            sha256 = hashlib.sha256(data).hexdigest()
            if kind != "photo_missing":
                store_photo(sha256, data, owner)
                stored.append((sha256, received_at))
        contacts = [c for c in customer.contacts if c.voided_at is None]
        args = {"id": uuid7(), "customer_id": customer.id,
                "contact_id": rng.choice(contacts).id if contacts else None,
                "purpose": rng.choice(PURPOSES), "result": rng.choice(RESULTS), "next_step": rng.choice(NEXT_STEPS),
                "stage": None, "visited_at": visited_at, "photo_hashes": [sha256], "position": fix}
        if fix is not None:
            fix["fixed_at"] = datetime.fromisoformat(fix["fixed_at"])
        visit = create_visit(args, owner, client_time=(visited_at + timedelta(minutes=3)).astimezone(SHANGHAI)
                             .isoformat(), now=received_at)
        visit.created_at = received_at
        made[visit.verification_status] = made.get(visit.verification_status, 0) + 1
    log.info("demo visits: %s", made)
    return made
