"""Customers, contacts, co-followers and shares (SPEC §2, §3)."""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint, Uuid, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.common.db import Base, Versioned, utcnow, uuid7
from server.org.models import BusinessLine, _enum


class CustomerType(str, enum.Enum):
    direct = "direct"
    distributor = "distributor"


class CustomerStatus(str, enum.Enum):
    potential = "potential"
    intent = "intent"
    signed = "signed"
    lost = "lost"


class Grade(str, enum.Enum):
    important = "important"
    stable = "stable"
    general = "general"
    potential = "potential"


class CustomerClass(str, enum.Enum):
    core = "core"
    high_growth = "high_growth"
    ordinary = "ordinary"


class Confidentiality(str, enum.Enum):
    normal = "normal"
    confidential = "confidential"


class Pool(str, enum.Enum):
    public = "public"
    KA = "KA"
    INTERNET = "INTERNET"
    RETAIL = "RETAIL"
    PUBLIC = "PUBLIC"


class Customer(Versioned, Base):
    __tablename__ = "customers"
    __table_args__ = (
        # An unowned customer is in exactly one pool (R-P1); an owned one in none.
        CheckConstraint("(owner_id IS NULL) <> (pool IS NULL)", name="owner_xor_pool"),
        Index("ix_customers_owner_line", "owner_id", "business_line"),
        # reports: customers a user created in a period
        Index("ix_customers_created_by_created", "created_by_id", "created_at"),
        # reports (0014): the owned, live customers in id order with what a report row names
        # (code, name, region, owner; INCLUDE is PostgreSQL's, SQLite keeps a plain partial
        # index) — per-customer aggregates come out of their covering indexes in customer order
        # and merge-join this by an index-only scan instead of hashing the customers table
        # (visits_this_year, admin: ~500 -> ~390 ms).
        Index("ix_customers_owned_names", "id", postgresql_include=["code", "name", "region", "owner_id"],
              postgresql_where=text("owner_id IS NOT NULL AND voided_at IS NULL"),
              sqlite_where=text("owner_id IS NOT NULL AND voided_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    code: Mapped[str | None] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # R-C1: unique across the whole system, voided customers included.
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    name_initials: Mapped[str] = mapped_column(String(200), default="", index=True)
    short_name: Mapped[str | None] = mapped_column(String(100))
    tax_id: Mapped[str | None] = mapped_column(String(18), unique=True)
    type: Mapped[CustomerType] = mapped_column(_enum(CustomerType, "customer_type"))
    industry: Mapped[str] = mapped_column(String(40), index=True)
    business_line: Mapped[BusinessLine] = mapped_column(_enum(BusinessLine, "business_line"), index=True)
    region: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(50))
    website: Mapped[str | None] = mapped_column(String(200))
    scale: Mapped[str | None] = mapped_column(String(50))
    postcode: Mapped[str | None] = mapped_column(String(10))
    introduction: Mapped[str | None] = mapped_column(String(200))
    door_photo: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    status: Mapped[CustomerStatus] = mapped_column(_enum(CustomerStatus, "customer_status"),
                                                   default=CustomerStatus.potential, index=True)
    grade: Mapped[Grade] = mapped_column(_enum(Grade, "grade"), default=Grade.potential)
    customer_class: Mapped[CustomerClass] = mapped_column(_enum(CustomerClass, "customer_class"),
                                                          default=CustomerClass.ordinary)
    confidentiality: Mapped[Confidentiality] = mapped_column(_enum(Confidentiality, "confidentiality"),
                                                             default=Confidentiality.normal)
    legal_dispute: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)

    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    pool: Mapped[Pool | None] = mapped_column(_enum(Pool, "pool"), index=True)
    # Where a release or reclaim sends it back (R-P5): the pool it was claimed from, else the
    # industry pool of its line.
    origin_pool: Mapped[Pool | None] = mapped_column(_enum(Pool, "pool"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()
    times_reclaimed: Mapped[int] = mapped_column(Integer, default=0)
    last_progress_at: Mapped[datetime | None] = mapped_column(index=True)
    visit_count: Mapped[int] = mapped_column(Integer, default=0)
    last_visit_at: Mapped[datetime | None] = mapped_column()
    deal_total: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_total: Mapped[int] = mapped_column(BigInteger, default=0)
    voided_at: Mapped[datetime | None] = mapped_column()
    void_reason: Mapped[str | None] = mapped_column(String(300))

    owner = relationship("User", foreign_keys=[owner_id], lazy="joined")
    contacts: Mapped[list[Contact]] = relationship(back_populates="customer", order_by="Contact.created_at")

    @property
    def receivables(self) -> int:
        return self.deal_total - self.payment_total


class Contact(Versioned, Base):
    __tablename__ = "contacts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(50))
    department: Mapped[str | None] = mapped_column(String(50))
    mobile: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    wechat: Mapped[str | None] = mapped_column(String(64))
    birthday: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    key_person: Mapped[bool] = mapped_column(Boolean, default=False)
    attitude: Mapped[str | None] = mapped_column(String(20))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column()

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class CoFollower(Versioned, Base):
    """联合跟进人 (R-O2): read or write permission on one customer."""

    __tablename__ = "co_followers"
    __table_args__ = (UniqueConstraint("customer_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    permission: Mapped[str] = mapped_column(String(8))  # read | write
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Share(Versioned, Base):
    """共享 (R-O3): read-only with one user or one department (and its subtree)."""

    __tablename__ = "shares"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (department_id IS NULL)", name="one_target"),
        UniqueConstraint("customer_id", "user_id", "department_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    department_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("departments.id"), index=True)
    shared_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
