"""Photo tables (SPEC §12 "Photos"): content-addressed originals and what refers to them.

A photo is known by the SHA-256 of its bytes. The bytes live on disk (see `storage`); the row
says who sent them and what they are. `PhotoLink` rows say which entity (a visit, a customer's
door photo, a deal) refers to a photo and under which customer, which is what the access rule
reads. `PhotoUpload` keeps every user who sent the bytes: the same photo uploaded by two users
is one photo, and both may read it back.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, utcnow, uuid7

MIME_JPEG = "image/jpeg"
MIME_PNG = "image/png"
MIME_HEIC = "image/heic"
MIMES = (MIME_JPEG, MIME_PNG, MIME_HEIC)


class Photo(Base):
    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The first user who sent these bytes; every uploader is in `photo_uploads`.
    uploader_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    size: Mapped[int] = mapped_column(Integer)  # bytes
    mime: Mapped[str] = mapped_column(String(32))
    # As the photo is shown: EXIF orientation 5-8 (a quarter turn) swaps the stored pixel size.
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # imagehash.phash (64 bits as 16 hex digits) of the orientation-corrected draft decode,
    # for the `photo_similar` check of visit verification.
    phash: Mapped[str | None] = mapped_column(String(16))
    # What visit verification reads from the EXIF (filled by the verification work).
    exif: Mapped[dict[str, Any] | None] = mapped_column()


class PhotoUpload(Base):
    """One row per (photo, user who sent its bytes): every uploader may read the photo."""

    __tablename__ = "photo_uploads"

    photo_sha256: Mapped[str] = mapped_column(String(64), ForeignKey("photos.sha256"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhotoLink(Base):
    """An entity that refers to a photo. No foreign key to `photos`: a visit may name a photo
    before its bytes arrive (verification `pending`)."""

    __tablename__ = "photo_links"
    __table_args__ = (UniqueConstraint("photo_sha256", "entity", "entity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    photo_sha256: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(32))  # visit | customer_door | deal | ...
    entity_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
