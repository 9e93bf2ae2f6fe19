"""Departments and users (SPEC R-U1)."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.common.db import Base, Versioned, utcnow, uuid7


class BusinessLine(str, enum.Enum):
    KA = "KA"
    INTERNET = "INTERNET"
    RETAIL = "RETAIL"
    PUBLIC = "PUBLIC"
    SMB = "SMB"


class Role(str, enum.Enum):
    rep = "rep"
    manager = "manager"
    ops = "ops"
    admin = "admin"


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, validate_strings=True, length=16)


class Department(Versioned, Base):
    __tablename__ = "departments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("departments.id"), index=True)
    # The line set on this department; None means "inherit the parent's".
    own_business_line: Mapped[BusinessLine | None] = mapped_column(_enum(BusinessLine, "business_line"))
    # The effective line (own or inherited), kept so queries need no tree walk.
    business_line: Mapped[BusinessLine] = mapped_column(_enum(BusinessLine, "business_line"))
    # Materialized path of ids, "/<root>/<child>/.../<self>/": a subtree is a prefix match.
    path: Mapped[str] = mapped_column(String(1000), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Department | None] = relationship(remote_side=[id])


class User(Versioned, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    department_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("departments.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column()
    # Bumped to revoke every token of the user at once (deactivation, password change).
    token_generation: Mapped[int] = mapped_column(Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship(lazy="joined")

    @property
    def business_line(self) -> BusinessLine:
        return self.department.business_line
