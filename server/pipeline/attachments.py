"""The attachment channel: contract documents and proof images, content-addressed (SPEC R-S3).

`PUT /api/v1/pipeline/attachments/{sha256}` takes a PDF (magic `%PDF-`; nothing in it is
parsed) or a JPEG, PNG or HEIC image (checked exactly as photos are: magic bytes, Pillow
verify and a draft decode, decompression bombs refused), at most 20 MB. 201 new, 200 already
there; 422 `hash_mismatch`; 413 over 20 MB; 415 anything else; 422 `invalid_image` for a broken
image. Nothing is stored for a refused upload.

Reading (`HEAD`/`GET`) is for the users who sent the bytes and for whoever may see a customer
whose opportunity, deal or payment refers to them (`AttachmentLink`); everyone else gets the
same 404 as for a hash nobody uploaded. The files live under `PHOTO_DIR/attachments/` (the
photo volume, shared between hosts at scale).
"""
from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.common.audit import record
from server.common.db import content_lock, transaction_version
from server.common.errors import NotFound
from server.customers.access import visible_customers
from server.customers.models import Customer
from server.extensions import db
from server.org.models import User
from server.photos import service as photos
from server.photos import storage
from server.photos.models import PhotoLink
from server.pipeline.models import Attachment, AttachmentLink, AttachmentUpload

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MIME_PDF = "application/pdf"
PDF_MAGIC = b"%PDF-"
ACCEPTED = (MIME_PDF, "image/jpeg", "image/png", "image/heic")


def not_found() -> NotFound:
    return NotFound("Attachment not found")


# ---- files --------------------------------------------------------------------------------------

def root() -> Path:
    return Path(current_app.config["PHOTO_DIR"]) / "attachments"


def path_of(sha256: str) -> Path:
    if not storage.SHA256_RE.fullmatch(sha256 or ""):
        raise ValueError("not a lowercase hex SHA-256")
    return root() / sha256[:2] / sha256[2:4] / sha256


def has_file(sha256: str, size: int | None = None) -> bool:
    try:
        stat = path_of(sha256).stat()
    except FileNotFoundError:
        return False
    return size is None or stat.st_size == size


def _save(sha256: str, data: bytes) -> None:
    if not has_file(sha256, len(data)):
        storage.write_atomic(path_of(sha256), data)


# ---- checking and storing -----------------------------------------------------------------------

def sniff_mime(data: bytes) -> str:
    """The type of the bytes: a PDF by its magic, else an image as the photo channel checks it."""
    if data.startswith(PDF_MAGIC):
        return MIME_PDF
    try:
        return photos.inspect_image(data).mime
    except photos.UnsupportedMediaType:
        raise photos.UnsupportedMediaType("Only PDF documents and JPEG, PNG or HEIC images are accepted",
                                          details={"accepted": list(ACCEPTED)}) from None


def _insert(model):
    return pg_insert(model) if db.session.connection().dialect.name == "postgresql" else sqlite_insert(model)


def _add_uploader(sha256: str, user: User) -> bool:
    return db.session.execute(
        _insert(AttachmentUpload).values(sha256=sha256, user_id=user.id).on_conflict_do_nothing()
        .returning(AttachmentUpload.user_id)).first() is not None


def store(sha256: str, data: bytes, uploader: User) -> tuple[Attachment, bool]:
    """(attachment, True) when new; (attachment, False) when these bytes were there already."""
    if not storage.SHA256_RE.fullmatch(sha256 or ""):
        raise not_found()
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise photos.PayloadTooLarge("An attachment may be at most 20 MB",
                                     details={"limit": MAX_ATTACHMENT_BYTES, "size": len(data)})
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise photos.HashMismatch("The bytes do not have the SHA-256 of the address",
                                  details={"expected": sha256, "actual": actual})
    attachment = db.session.get(Attachment, sha256)
    if attachment is None:
        mime = sniff_mime(data)
        content_lock(db.session, sha256)  # before any row lock: see service._lock_content
        _save(sha256, data)
        inserted = db.session.execute(_insert(Attachment).values(
            sha256=sha256, uploader_id=uploader.id, size=len(data), mime=mime,
        ).on_conflict_do_nothing().returning(Attachment.sha256)).first() is not None
        attachment = db.session.get(Attachment, sha256)
        if inserted:
            _add_uploader(sha256, uploader)
            record("attachment.upload", "attachment", sha256, {"size": len(data), "mime": mime},
                   actor_id=uploader.id)
            _announce(sha256)
            return attachment, True
    else:
        _save(sha256, data)  # put the file back if the disk lost it
    if _add_uploader(sha256, uploader):
        record("attachment.uploader_added", "attachment", sha256, {"user_id": uploader.id}, actor_id=uploader.id)
    return attachment, False


def _announce(sha256: str) -> None:
    """The bytes arrived: records that name them get a new version, so phones pull their
    `*_uploaded: true`. The upload holds the content lock, so a record naming these bytes that is
    still in flight is either committed and found here or finds the bytes itself."""
    from server.pipeline.models import Deal, Opportunity, Payment

    links = db.session.execute(select(AttachmentLink.entity, AttachmentLink.entity_id).where(
        AttachmentLink.sha256 == sha256)).all()
    if not links:
        return
    version = transaction_version(db.session)
    models = {"opportunity": Opportunity, "deal": Deal, "payment": Payment}
    for entity, entity_id in links:
        model = models.get(entity)
        row = db.session.get(model, uuid.UUID(entity_id)) if model is not None else None
        if row is not None:
            row.version = version
    db.session.flush()


# ---- links and access ---------------------------------------------------------------------------

def link(sha256: str | None, entity: str, entity_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    """Record that `entity` refers to the attachment, under `customer_id`. An image may also have
    come through the photo channel: it gets a photo link too, so either channel serves it."""
    if not sha256:
        return
    for model, values in ((AttachmentLink, {"sha256": sha256}), (PhotoLink, {"photo_sha256": sha256})):
        db.session.execute(_insert(model).values(
            id=uuid.uuid4(), entity=entity, entity_id=str(entity_id), customer_id=customer_id, **values,
        ).on_conflict_do_nothing())


def uploaded(sha256: str | None) -> bool:
    """Whether the bytes have arrived, through this channel or the photo channel."""
    if not sha256:
        return False
    from server.photos.models import Photo

    return (db.session.get(Attachment, sha256) is not None) or (db.session.get(Photo, sha256) is not None)


def mime_of(sha256: str) -> str | None:
    from server.photos.models import Photo

    row = db.session.get(Attachment, sha256) or db.session.get(Photo, sha256)
    return row.mime if row is not None else None


def can_view(user: User, attachment: Attachment) -> bool:
    if not user.active:
        return False
    if attachment.uploader_id == user.id or db.session.scalar(select(exists().where(
            AttachmentUpload.sha256 == attachment.sha256, AttachmentUpload.user_id == user.id))):
        return True
    linked = select(AttachmentLink.customer_id).where(AttachmentLink.sha256 == attachment.sha256)
    return db.session.scalar(select(Customer.id).where(Customer.id.in_(linked), visible_customers(user))
                             .limit(1)) is not None


def get_visible(user: User, sha256: str) -> Attachment:
    if not storage.SHA256_RE.fullmatch(sha256 or ""):
        raise not_found()
    attachment = db.session.get(Attachment, sha256)
    if attachment is None or not can_view(user, attachment):
        raise not_found()
    return attachment


def require_file(attachment: Attachment) -> None:
    if not has_file(attachment.sha256, attachment.size):
        raise NotFound("The attachment's file is missing; upload it again", code="attachment_file_missing")


def present(attachment: Attachment) -> dict:
    return {"sha256": attachment.sha256, "size": attachment.size, "mime": attachment.mime}
