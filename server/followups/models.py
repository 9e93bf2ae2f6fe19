"""Follow-ups (跟进记录, SPEC R-A1).

Every follow-up is kept, valid or not; an invalid one carries the reasons (`too_short`,
`empty_phrase`, `no_contact`) and is not progress (R-P5). Its next contact time is the
reminder a daily job sends on that day (R-A3).
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, Versioned, utcnow, uuid7
from server.org.models import _enum


class FollowUpKind(str, enum.Enum):
    visit = "visit"
    phone = "phone"
    email = "email"
    wechat = "wechat"
    other = "other"


class InvalidReason(str, enum.Enum):
    too_short = "too_short"
    empty_phrase = "empty_phrase"
    no_contact = "no_contact"


class FollowUp(Versioned, Base):
    __tablename__ = "follow_ups"
    __table_args__ = (
        # invalid tracking (R-P8): per customer, valid or not, by time
        Index("ix_follow_ups_customer_valid", "customer_id", "valid", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"))  # indexed above
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    kind: Mapped[FollowUpKind] = mapped_column(_enum(FollowUpKind, "follow_up_kind"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("contacts.id"))
    content: Mapped[str] = mapped_column(Text)
    next_contact_at: Mapped[datetime | None] = mapped_column(index=True)
    valid: Mapped[bool] = mapped_column(Boolean)
    invalid_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # the phone's clock when the rep saved it (offline follow-ups arrive later)
    client_time: Mapped[datetime | None] = mapped_column()


class CustomerTracking(Base):
    """What the invalid-tracking flag (R-P8) needs of one customer's follow-ups and contacts,
    kept up to date on write (see `server/followups/tracking.py`) so that the flagged list and
    its report read one row per customer instead of grouping every follow-up of the period.

    Counted since the current owner got the customer (`assigned_at`, else `created_at`). The
    time-dependent part of the rule (15 days, a month) is applied when the list is read.
    Server-only: it is derived data, never synced."""

    __tablename__ = "customer_tracking"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id", ondelete="CASCADE"),
                                                   primary_key=True)
    invalid_count: Mapped[int] = mapped_column(Integer, default=0)
    last_valid_at: Mapped[datetime | None] = mapped_column()
    has_key_contact: Mapped[bool] = mapped_column(Boolean, default=False)
