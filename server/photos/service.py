"""The photo channel (SPEC §12 "Photos"): take, check, keep and show content-addressed photos.

Only JPEG, PNG and HEIC/HEIF photos are taken, checked twice: by their magic bytes and by
Pillow, which must open them as that same format and decode them without error (a JPEG as a
1/8-scale grey draft: libjpeg still reads every byte of the scan, so truncation shows, and the
same decode gives the perceptual hash; a PNG also passes `verify()`, its chunk CRCs). Pillow's
decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`, kept at its default) is an error here, not a
warning. Anything refused leaves nothing behind: no row, no file.

A new photo's EXIF facts for visit verification (`server.verification.exif`) are read while
the pixels decode and the SHA-256 is computed, each in its own thread; once its row is in,
every visit that names the photo is verified again (`server.visits.service.photo_arrived`).
"""
from __future__ import annotations

import hashlib
import io
import logging
import math
import threading
import warnings
from dataclasses import dataclass

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.common.audit import record
from server.common.db import content_lock
from server.common.errors import AppError, NotFound
from server.customers.access import visible_customers
from server.customers.models import Customer
from server.extensions import db
from server.org.models import User
from server.photos import storage
from server.photos.models import MIME_HEIC, MIME_JPEG, MIME_PNG, Photo, PhotoLink, PhotoUpload
from server.verification import exif

log = logging.getLogger("fieldcrm.photos")

MAX_PHOTO_BYTES = 15 * 1024 * 1024
THUMB_SIZE = 320
THUMB_QUALITY = 80
# A JPEG decodes at 1/8 scale (DCT scaling), but not below this many pixels a side (phash).
DRAFT_MIN_SIDE = 128

# Pillow's format id for each kind the magic bytes tell.
PILLOW_FORMAT = {MIME_JPEG: "JPEG", MIME_PNG: "PNG", MIME_HEIC: "HEIF"}
# What Pillow may call a file of that kind once opened (a JPEG with an MP index opens as MPO).
PILLOW_NAMES = {MIME_JPEG: {"JPEG", "MPO"}, MIME_PNG: {"PNG"}, MIME_HEIC: {"HEIF"}}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# ISO-BMFF brands of HEVC-coded HEIF stills (not AVIF, which shares the container).
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class HashMismatch(AppError):
    status, code = 422, "hash_mismatch"


class UnsupportedMediaType(AppError):
    status, code = 415, "unsupported_media_type"


class InvalidImage(AppError):
    status, code = 422, "invalid_image"


def photo_not_found() -> NotFound:
    """The one answer for unknown, malformed and not-yours: it must not tell them apart."""
    return NotFound("Photo not found")


_heif_lock = threading.Lock()
_heif_registered = False


def ensure_heif_opener() -> None:
    """Teach Pillow HEIF (pillow-heif), once per process."""
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_registered = True


# ---------------------------------------------------------------------------------- checking

def sniff(data: bytes) -> str | None:
    """The MIME type the magic bytes announce, if it is one we take."""
    if data[:3] == b"\xff\xd8\xff":
        return MIME_JPEG
    if data[:8] == PNG_MAGIC:
        return MIME_PNG
    if len(data) >= 16 and data[4:8] == b"ftyp":
        box_size = int.from_bytes(data[:4], "big")
        major = data[8:12]
        if major in HEIC_BRANDS:
            return MIME_HEIC
        if major in GENERIC_HEIF_BRANDS and 16 <= box_size <= min(len(data), 4096):
            compatible = {data[i:i + 4] for i in range(16, box_size - 3, 4)}
            if compatible & HEIC_BRANDS and b"avif" not in compatible and b"avis" not in compatible:
                return MIME_HEIC
    return None


@dataclass(frozen=True)
class ImageFacts:
    mime: str
    width: int
    height: int
    phash: str


def _check_pixels(image: Image.Image) -> None:
    # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS; the warning filter below makes that
    # an error, and this makes it one even if another thread's `catch_warnings` got in between.
    width, height = image.size
    if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
        raise Image.DecompressionBombError(f"{width}x{height} pixels is more than the limit")


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112) or 1)
    except Exception:  # a broken EXIF block is not our business here
        return 1


def _transposed(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        return image


def _jpeg_cut_short(image: Image.Image, full_size: tuple[int, int], layers) -> bool:
    """Whether the entropy-coded data ran out before the last block.

    libjpeg does not fail on "premature end of data segment" (a scan cut short, then an EOI,
    as in a camera file that was not finished): it warns, which Pillow does not pass on, and
    fills the missing blocks with all-zero coefficients, i.e. exactly (128, 128, 128). Camera
    photos never end in a run of such blocks (sensor noise), so a last pixel row ending in at
    least half an MCU (and at least 2 pixels) of exact mid-grey is taken as a cut-off scan.
    A scan cut inside its very last MCU may pass; one cut anywhere earlier does not.
    """
    if image.mode not in ("RGB", "L"):
        return False
    width, height = image.size
    scale = max(1, round(full_size[0] / width)) if width else 1
    h_max = max((layer[1] for layer in layers or ()), default=1)
    run = max(2, math.ceil(8 * h_max / scale) // 2)
    if width < run:
        return False
    tail = image.crop((width - run, height - 1, width, height))
    return all(extreme == (128, 128) for extreme in (tail.getextrema() if image.mode == "RGB"
                                                     else [tail.getextrema()]))


def inspect_image(data: bytes) -> ImageFacts:
    """Check the bytes are a JPEG, PNG or HEIC photo we can decode, and describe it.

    415 when the bytes are not one of those types at all, 422 when they claim to be one but
    are broken, truncated or a decompression bomb.
    """
    mime = sniff(data)
    if mime is None:
        raise UnsupportedMediaType("Only JPEG, PNG and HEIC photos are accepted",
                                   details={"accepted": list(PILLOW_FORMAT)})
    if mime == MIME_HEIC:
        ensure_heif_opener()
    formats = [PILLOW_FORMAT[mime]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if mime == MIME_PNG:  # (JPEG and HEIF have no verify(): theirs does nothing)
                with Image.open(io.BytesIO(data), formats=formats) as image:
                    _check_pixels(image)
                    image.verify()
            with Image.open(io.BytesIO(data), formats=formats) as image:
                if image.format not in PILLOW_NAMES[mime]:
                    raise InvalidImage("The photo is not what its first bytes say",
                                       details={"reason": "format_mismatch"})
                _check_pixels(image)
                full_size = image.size
                layers = getattr(image, "layer", None)
                orientation = _orientation(image)
                if mime == MIME_JPEG:  # grey is all phash reads (and it skips the colour work)
                    image.draft("L", tuple(min(side, max(side // 8, DRAFT_MIN_SIDE)) for side in full_size))
                image.load()  # a full decode (of the draft): truncated data fails here
                if mime == MIME_JPEG and _jpeg_cut_short(image, full_size, layers):
                    raise InvalidImage("The photo is truncated", details={"reason": "truncated"})
                phash = str(imagehash.phash(_transposed(image)))
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        log.info("photo refused as a decompression bomb: %s", exc)
        raise InvalidImage("The image is too large to decode", details={"reason": "decompression_bomb"}) from None
    except UnidentifiedImageError:
        raise InvalidImage("The photo cannot be read", details={"reason": "undecodable"}) from None
    except Exception as exc:  # any decoder failure on hostile bytes is the file's fault
        log.info("photo refused as broken: %s: %s", type(exc).__name__, exc)
        raise InvalidImage("The photo is broken or truncated", details={"reason": "undecodable"}) from None
    width, height = full_size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return ImageFacts(mime=mime, width=width, height=height, phash=phash)


# ---------------------------------------------------------------------------------- storing

def _insert(model):
    return pg_insert(model) if db.session.connection().dialect.name == "postgresql" else sqlite_insert(model)


def _add_uploader(sha256: str, user: User) -> bool:
    # RETURNING, not rowcount: drivers differ on rowcount after ON CONFLICT DO NOTHING.
    return db.session.execute(
        _insert(PhotoUpload).values(photo_sha256=sha256, user_id=user.id).on_conflict_do_nothing()
        .returning(PhotoUpload.user_id)).first() is not None


class _Background:
    """`fn()` in a thread of its own; `result()` waits for it (and re-raises what it raised)."""

    def __init__(self, fn):
        self._fn, self._value, self._error = fn, None, None
        self._thread = threading.Thread(target=self._run, name="photo-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # handed to the caller
            self._error = exc

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _check_hash(sha256: str, actual: str) -> None:
    if actual != sha256:
        raise HashMismatch("The bytes do not have the SHA-256 of the address",
                           details={"expected": sha256, "actual": actual})


def store_photo(sha256: str, data: bytes, uploader: User) -> tuple[Photo, bool]:
    """Take the bytes of photo `sha256` from `uploader`: (photo, True) when new, (photo, False)
    when these bytes were already there (idempotent; the uploader may then read it too)."""
    if not storage.SHA256_RE.fullmatch(sha256 or ""):
        raise photo_not_found()
    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge("A photo may be at most 15 MB",
                              details={"limit": MAX_PHOTO_BYTES, "size": len(data)})
    hashing = _Background(lambda: hashlib.sha256(data).hexdigest())  # the GIL is let go meanwhile

    photo = db.session.get(Photo, sha256)
    if photo is None:
        reading = exif.start(data)
        try:
            facts, refused = inspect_image(data), None
        except AppError as exc:
            facts, refused = None, exc
        _check_hash(sha256, hashing.result())  # a wrong address is the first thing to say
        if refused is not None:
            raise refused
        exif_facts = reading.result()
        content_lock(db.session, sha256)  # before any row lock: see visits.service.photo_arrived
        storage.save_original(sha256, data)
        inserted = db.session.execute(_insert(Photo).values(
            sha256=sha256, uploader_id=uploader.id, size=len(data), mime=facts.mime,
            width=facts.width, height=facts.height, phash=facts.phash, exif=exif_facts,
        ).on_conflict_do_nothing().returning(Photo.sha256)).first() is not None
        photo = db.session.get(Photo, sha256)
        if inserted:
            _add_uploader(sha256, uploader)
            record("photo.upload", "photo", sha256,
                   {"size": photo.size, "mime": photo.mime, "width": photo.width, "height": photo.height},
                   actor_id=uploader.id)
            from server.visits.service import photo_arrived

            photo_arrived(sha256)  # visits that named it before its bytes came
            return photo, True
        log.info("photo %s: a concurrent upload stored it first", sha256)
    else:
        _check_hash(sha256, hashing.result())
        # Known bytes: put the file back if the disk lost it.
        storage.save_original(sha256, data)
    if _add_uploader(sha256, uploader):
        record("photo.uploader_added", "photo", sha256, {"user_id": uploader.id}, actor_id=uploader.id)
    return photo, False


# ---------------------------------------------------------------------------------- reading

def can_view(user: User, photo: Photo) -> bool:
    """The uploaders, and whoever may see the customer of any entity that refers to the photo."""
    if not user.active:
        return False
    if photo.uploader_id == user.id:
        return True
    if db.session.scalar(select(exists().where(PhotoUpload.photo_sha256 == photo.sha256,
                                               PhotoUpload.user_id == user.id))):
        return True
    linked = select(PhotoLink.customer_id).where(PhotoLink.photo_sha256 == photo.sha256)
    return db.session.scalar(
        select(Customer.id).where(Customer.id.in_(linked), visible_customers(user)).limit(1)) is not None


def get_visible_photo(user: User, sha256: str) -> Photo:
    """The photo if `user` may see it; otherwise the same 404 as for a hash nobody uploaded."""
    if not storage.SHA256_RE.fullmatch(sha256 or ""):
        raise photo_not_found()
    photo = db.session.get(Photo, sha256)
    if photo is None or not can_view(user, photo):
        raise photo_not_found()
    return photo


def require_file(photo: Photo) -> None:
    """A row whose file the disk lost answers 404 `photo_file_missing`: HEAD then tells the
    app to upload again, and that upload puts the file back."""
    if not storage.has_original(photo.sha256, photo.size):
        log.error("photo %s has a row but no file", photo.sha256)
        raise NotFound("The photo's file is missing; upload it again", code="photo_file_missing")


def render_thumbnail(data: bytes, mime: str) -> bytes:
    """A JPEG at most THUMB_SIZE px on its longer side, turned upright, without metadata."""
    if mime == MIME_HEIC:
        ensure_heif_opener()
    with Image.open(io.BytesIO(data), formats=[PILLOW_FORMAT[mime]]) as image:
        if mime == MIME_JPEG:  # the smallest DCT scale still at least as big as the thumbnail
            factor = THUMB_SIZE / max(image.size)
            image.draft("RGB", tuple(max(1, math.ceil(side * factor)) for side in image.size))
        image.load()
        upright = _transposed(image)
        upright.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
        if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
            rgba = upright.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            upright = flat
        elif upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        out = io.BytesIO()
        # No exif=/icc_profile= given: the thumbnail carries no metadata at all.
        upright.save(out, "JPEG", quality=THUMB_QUALITY, optimize=True)
        return out.getvalue()


def thumbnail(photo: Photo) -> bytes:
    """The cached thumbnail, made (and kept) on first request."""
    cached = storage.read_thumb(photo.sha256)
    if cached is not None:
        return cached
    thumb = render_thumbnail(storage.read_original(photo.sha256), photo.mime)
    storage.save_thumb(photo.sha256, thumb)
    return thumb


def present(photo: Photo) -> dict:
    return {"sha256": photo.sha256, "size": photo.size, "mime": photo.mime,
            "width": photo.width, "height": photo.height}
