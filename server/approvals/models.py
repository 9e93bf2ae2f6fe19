"""Approvals (SPEC R-T3): one record per request, decided in stages by the right people."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, Versioned, utcnow, uuid7


class Approval(Versioned, Base):
    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_status_kind", "status", "kind"),
                      Index("ix_approvals_kind_created", "kind", "created_at"))  # the change-requests report

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    # pool_claim | change_request | transfer | subsidiary_line | dispute
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected|cancelled
    requester_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Who decides, stage by stage: ["ops"], ["manager"], ["manager", "ops"] (R-T2: industry and
    # parent changes need a manager and then business support).
    stages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    stage: Mapped[int] = mapped_column(Integer, default=0)
    # For manager stages: managers of this department or above it decide.
    decider_department_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("departments.id"))
    decisions: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{by, decision, comment, at, stage}]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
