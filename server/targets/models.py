"""Targets (SPEC R-K1). Money is integer fen; the period is two calendar dates in the org time zone."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, Versioned, utcnow, uuid7

STATUSES = ("active", "pending", "rejected")


class Target(Versioned, Base):
    __tablename__ = "targets"
    __table_args__ = (
        CheckConstraint("start_date <= end_date", name="period_ordered"),
        CheckConstraint("new_customers >= 0 AND visits >= 0 AND deal_amount >= 0 AND payment_amount >= 0",
                        name="amounts_not_negative"),
        Index("ix_targets_user_period", "user_id", "start_date", "end_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))  # indexed above
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    new_customers: Mapped[int] = mapped_column(Integer, default=0)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    deal_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    payment_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | pending | rejected
    set_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    # the approval a rep's own draft waits on (kind `target`), the latest one when redrafted
    approval_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("approvals.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column()


# The hook that moves targets' and daily reports' versions when the records behind their
# numbers change (see freshness.py); installed with the models so every writer has it.
from server.targets import freshness  # noqa: E402,F401
