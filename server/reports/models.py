"""The export log (SPEC §10: "each export is logged"): who exported which report, with which
filters, in which format and how many rows. Kept beside the audit entry each export writes, so
exports can be listed without scanning the audit log."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, utcnow, uuid7


class ExportLog(Base):
    __tablename__ = "export_log"
    __table_args__ = (Index("ix_export_log_user_at", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))  # indexed above
    report_key: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(8))  # xlsx | csv
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    row_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
