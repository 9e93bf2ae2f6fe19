"""Claim cooldowns (SPEC R-P4)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, utcnow


class ClaimCooldown(Base):
    """A rep whose customer was released or reclaimed may not claim it again until `until`."""

    __tablename__ = "claim_cooldowns"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    until: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(String(16))  # release | reclaim | handover | invalid
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
