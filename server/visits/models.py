"""Visits (拜访, SPEC R-A2) and the photos they name, with their verification (SPEC §7).

A visit is never rejected or deleted for failing a check: it is kept with its verification
(`verification`: the SPEC's block; `verification_status`: its status, indexed for the review
queue and reports) and a manager may review it (confirm, or mark it false).

`VisitPhoto` repeats, per photo of a visit, what verification of LATER visits looks up: the
hash (photo_reused), and the visit's times (photo_similar looks back 180 days; "earlier" is by
receive order). The photo's perceptual hash is read from `photos`, which it may not have yet.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, Versioned, utcnow, uuid7

STAGES = ("potential", "intent", "lost")
REVIEW_STATUSES = ("none", "confirmed", "false")
REVIEW_DECISIONS = {"confirm": "confirmed", "false": "false"}


class Visit(Versioned, Base):
    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_customer_visited", "customer_id", "visited_at"),
        Index("ix_visits_review_queue", "verification_status", "review_status", "received_at"),
        # reports: visits of a period, and one author's visits of a period
        Index("ix_visits_visited_at", "visited_at"),
        Index("ix_visits_author_visited", "author_id", "visited_at"),
        # reports (0012): visits per customer of a period from this index alone, in customer order
        Index("ix_visits_customer_visited_status", "customer_id", "visited_at", "verification_status"),
        # the suspect-visit review queue (PostgreSQL, where it is large): its page read newest first
        # straight off this small partial index — DESC NULLS LAST is the report's ORDER BY, which a
        # plain index scanned backwards (NULLS FIRST) cannot give — and its count by an index-only
        # scan. SQLite cannot declare NULLS LAST in an index; it has no such queue sizes either.
        Index("ix_visits_suspect_queue", text("visited_at DESC NULLS LAST"), "customer_id", "review_status",
              "author_id", postgresql_where=text("verification_status IN ('suspect', 'unverified')"))
        .ddl_if(dialect="postgresql"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"))  # indexed above
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("contacts.id"))
    purpose: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    # the customer's status after the visit (potential | intent | lost), when the rep gave one
    stage: Mapped[str | None] = mapped_column(String(16))
    visited_at: Mapped[datetime] = mapped_column()
    # the phone's clock when it saved the visit, and the server's when the visit arrived
    client_time: Mapped[datetime | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    photo_hashes: Mapped[list[Any]] = mapped_column(default=list)
    # the phone's fix: {lat, lng, accuracy_m, fixed_at}
    position: Mapped[dict[str, Any] | None] = mapped_column()
    verification: Mapped[dict[str, Any]] = mapped_column(default=dict)
    verification_status: Mapped[str] = mapped_column(String(16), index=True)
    verified_at: Mapped[datetime | None] = mapped_column()
    review_status: Mapped[str] = mapped_column(String(16), default="none")
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column()
    # R-P5: when this visit counted as the customer's progress, and the customer's last progress
    # before it (to take it back if the visit is marked false or turns out suspect)
    progress_at: Mapped[datetime | None] = mapped_column()
    progress_before: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VisitPhoto(Base):
    __tablename__ = "visit_photos"
    __table_args__ = (Index("ix_visit_photos_received", "received_at", "visit_id"),)

    visit_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("visits.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    visited_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column()
