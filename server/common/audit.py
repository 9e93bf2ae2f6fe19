"""The append-only audit log (SPEC R-I2).

Every service that changes data calls `record`. Rows are never updated or deleted: the ORM
refuses it here and database triggers (see the migration) refuse it for everyone else.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Uuid, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.common import context
from server.common.db import Base, utcnow
from server.extensions import db


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity", "entity_id"),
                      # the claims and transfers reports: one action over a period
                      Index("ix_audit_entries_action_at", "action", "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    channel: Mapped[str] = mapped_column(String(8))
    client_id: Mapped[str | None] = mapped_column(String(64))
    client_mutation_id: Mapped[int | None] = mapped_column(BigInteger)


def jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        key: [jsonable(before.get(key)), jsonable(after.get(key))]
        for key in after
        if jsonable(before.get(key)) != jsonable(after.get(key))
    }


def record(action: str, entity: str, entity_id: Any, changes: dict[str, Any] | None = None,
           actor_id: uuid.UUID | None = None) -> AuditEntry:
    mutation = context.client_mutation.get()
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        changes=jsonable(changes or {}),
        channel=context.channel.get(),
        client_id=mutation[0] if mutation else None,
        client_mutation_id=mutation[1] if mutation else None,
    )
    db.session.add(entry)
    return entry


@event.listens_for(Session, "before_flush")
def _refuse_audit_rewrites(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("audit entries are append-only")
