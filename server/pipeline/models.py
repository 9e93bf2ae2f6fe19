"""Sales pipeline tables (SPEC §8): opportunities, deals (contracts), payments, attachments.

Money is integer fen everywhere (BigInteger columns, never floats). Dates that people type
(expected close, signed, received, forecasts) are calendar dates in the organisation's time
zone; moments are aware UTC datetimes.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, Uuid)
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, Versioned, utcnow, uuid7
from server.org.models import _enum


class Stage(str, enum.Enum):
    qualify = "qualify"  # 需求确认
    solution = "solution"  # 方案制定
    negotiation = "negotiation"  # 商务谈判
    contracting = "contracting"  # 签约
    won = "won"  # 赢单
    lost = "lost"  # 输单


# R-S1: the win rate of each stage, in percent.
WIN_RATES: dict[Stage, int] = {Stage.qualify: 20, Stage.solution: 40, Stage.negotiation: 60,
                               Stage.contracting: 80, Stage.won: 100, Stage.lost: 0}
OPEN_STAGES = (Stage.qualify, Stage.solution, Stage.negotiation, Stage.contracting)


class DealStatus(str, enum.Enum):
    draft = "draft"
    signed = "signed"


class Opportunity(Versioned, Base):
    """商机 (R-S1, R-S2, R-O5)."""

    __tablename__ = "opportunities"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_opportunities_customer_stage", "customer_id", "stage"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"))  # indexed above
    # Who works it; when not the customer's owner, may edit this opportunity only (R-O5).
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    # [{"product": str, "quantity": int | None, "unit_price": int fen | None}]
    products: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # BANTCC
    budget: Mapped[str | None] = mapped_column(Text)
    authority: Mapped[str | None] = mapped_column(Text)
    need: Mapped[str | None] = mapped_column(Text)
    timeline: Mapped[str | None] = mapped_column(Text)
    competition: Mapped[str | None] = mapped_column(Text)
    champion: Mapped[str | None] = mapped_column(Text)
    # forecasts: amount in fen and the date it is expected
    contract_forecast: Mapped[int | None] = mapped_column(BigInteger)
    contract_forecast_date: Mapped[date | None] = mapped_column(Date)
    payment_forecast: Mapped[int | None] = mapped_column(BigInteger)
    payment_forecast_date: Mapped[date | None] = mapped_column(Date)
    revenue_forecast: Mapped[int | None] = mapped_column(BigInteger)
    revenue_forecast_date: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[Stage] = mapped_column(_enum(Stage, "opportunity_stage"), default=Stage.qualify)
    stage_changed_at: Mapped[datetime | None] = mapped_column()
    contract_draft: Mapped[str | None] = mapped_column(String(64))  # attachment sha256
    loss_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column()

    @property
    def win_rate(self) -> int:
        return WIN_RATES[self.stage]


class Deal(Versioned, Base):
    """成交/合同 (R-S3). The contract number is unique in the whole system, compared after
    normalization (`contract_no_key`: NFKC, no white space, case-folded)."""

    __tablename__ = "deals"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("opportunities.id"), index=True)
    contract_no: Mapped[str] = mapped_column(String(64))
    contract_no_key: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # fen
    signed_date: Mapped[date | None] = mapped_column(Date, index=True)
    attachment: Mapped[str | None] = mapped_column(String(64))  # sha256 of the PDF or image
    status: Mapped[DealStatus] = mapped_column(_enum(DealStatus, "deal_status"), default=DealStatus.draft)
    signed_at: Mapped[datetime | None] = mapped_column()
    signed_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    paid_total: Mapped[int] = mapped_column(BigInteger, default=0)  # fen, sum of its payments
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Payment(Versioned, Base):
    """回款 (R-S4): never more in total than the contract amount."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      Index("ix_payments_received_date", "received_date"))  # reports: payments of a period

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    deal_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("deals.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # fen
    received_date: Mapped[date] = mapped_column(Date)
    proof: Mapped[str | None] = mapped_column(String(64))  # sha256 of the proof image
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    """A contract document or proof image, content-addressed like photos (PDF, JPEG, PNG, HEIC)."""

    __tablename__ = "attachments"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    uploader_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    size: Mapped[int] = mapped_column(Integer)  # bytes
    mime: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttachmentUpload(Base):
    """Every user who sent the bytes may read them back."""

    __tablename__ = "attachment_uploads"

    sha256: Mapped[str] = mapped_column(String(64), ForeignKey("attachments.sha256"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttachmentLink(Base):
    """A record that refers to an attachment, under a customer (what the access rule reads). No
    foreign key to `attachments`: a deal may name its document before the bytes arrive."""

    __tablename__ = "attachment_links"
    __table_args__ = (UniqueConstraint("sha256", "entity", "entity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(32))  # opportunity | deal | payment
    entity_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
