"""Field change history (变更记录, SPEC R-T2) and the base for field-level merges (§12)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Uuid, select
from sqlalchemy.orm import Mapped, mapped_column

from server.common import context
from server.common.audit import jsonable
from server.common.db import Base, transaction_version, utcnow
from server.extensions import db


class FieldChange(Base):
    __tablename__ = "field_changes"
    __table_args__ = (Index("ix_field_changes_entity", "entity", "entity_id", "field", "version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    field: Mapped[str] = mapped_column(String(64))
    before: Mapped[Any] = mapped_column(JSON)
    after: Mapped[Any] = mapped_column(JSON)
    # indexed: PostgreSQL stamps a transaction's real version here just before COMMIT
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # set when this change overwrote a value someone else wrote after the writer's base
    overwrote_version: Mapped[int | None] = mapped_column(BigInteger)
    client_id: Mapped[str | None] = mapped_column(String(36))
    client_mutation_id: Mapped[int | None] = mapped_column(BigInteger)


def apply_changes(obj: Any, entity: str, changes: dict[str, Any], base_version: int | None, actor_id: uuid.UUID,
                  customer_id: uuid.UUID | None) -> list[dict[str, Any]]:
    """Set the changed fields on `obj`, keep before/after of each, and report overwrites.

    Arrival order wins (SPEC §12): every field applies. A field someone else changed after
    `base_version` is still overwritten, and that value is kept here and named in `overwrote`.
    """
    version = transaction_version(db.session)
    mutation = context.client_mutation.get()
    overwrote = []
    for field, value in changes.items():
        before = getattr(obj, field)
        if jsonable(before) == jsonable(value):
            continue
        theirs = None
        if base_version is not None:
            theirs = db.session.scalars(
                select(FieldChange).where(FieldChange.entity == entity, FieldChange.entity_id == obj.id,
                                          FieldChange.field == field, FieldChange.version > base_version,
                                          FieldChange.actor_id != actor_id)
                .order_by(FieldChange.version.desc()).limit(1)).first()
        if theirs is not None:
            overwrote.append({"field": field, "value": jsonable(before), "version": theirs.version,
                              "by": str(theirs.actor_id) if theirs.actor_id else None})
        db.session.add(FieldChange(entity=entity, entity_id=obj.id, customer_id=customer_id, field=field,
                                   before=jsonable(before), after=jsonable(value), version=version,
                                   actor_id=actor_id, overwrote_version=theirs.version if theirs else None,
                                   client_id=mutation[0] if mutation else None,
                                   client_mutation_id=mutation[1] if mutation else None))
        setattr(obj, field, value)
    return overwrote


def history(entity: str, entity_id: uuid.UUID) -> list[FieldChange]:
    return list(db.session.scalars(select(FieldChange).where(
        FieldChange.entity == entity, FieldChange.entity_id == entity_id).order_by(FieldChange.id)))


def customer_history(customer_id: uuid.UUID) -> list[FieldChange]:
    return list(db.session.scalars(select(FieldChange).where(
        FieldChange.customer_id == customer_id).order_by(FieldChange.id)))
