"""Customer accounts (PIN, 客户账号, SPEC R-C12): the customer's identifiers on our platform.

An account's owner is always its customer's owner: it is set when the account is created and
follows every owner change of the customer (see `server.accounts.service`). It is filed
(报备) only after it is marked real-name verified (个人/企业实名).
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.common.db import Base, Versioned, utcnow, uuid7
from server.org.models import _enum


class RealName(str, enum.Enum):
    personal = "personal"  # 个人实名
    enterprise = "enterprise"  # 企业实名


class AccountStatus(str, enum.Enum):
    unverified = "unverified"
    verified = "verified"
    filed = "filed"  # 已报备


class Account(Versioned, Base):
    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    # The customer's owner, moved with it; None while the customer is in a pool.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    # The platform account identifier; one account belongs to one customer.
    account: Mapped[str] = mapped_column(String(100), unique=True)
    real_name: Mapped[RealName | None] = mapped_column(_enum(RealName, "real_name"))
    verified_at: Mapped[datetime | None] = mapped_column()
    filed_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[AccountStatus] = mapped_column(_enum(AccountStatus, "account_status"),
                                                  default=AccountStatus.unverified)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column()
