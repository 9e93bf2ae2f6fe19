"""Creating and reading notifications. Kinds and their `data` are documented where they are sent."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from server.common.db import utcnow
from server.common.errors import NotFound
from server.extensions import db
from server.notifications.models import Notification


def notify(user_id: uuid.UUID, kind: str, data: dict[str, Any] | None = None,
           customer_id: uuid.UUID | None = None, dedupe_key: str | None = None) -> Notification | None:
    """Send once per (user, kind, dedupe_key); returns None when it was already sent."""
    key = dedupe_key or uuid.uuid4().hex
    existing = db.session.scalar(select(Notification.id).where(
        Notification.user_id == user_id, Notification.kind == kind, Notification.dedupe_key == key))
    if existing is not None:
        return None
    notification = Notification(user_id=user_id, kind=kind, data=data or {}, customer_id=customer_id,
                                dedupe_key=key)
    db.session.add(notification)
    db.session.flush()
    return notification


def mark_read(user, notification_id: uuid.UUID) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound("Notification not found", details={"notification_id": str(notification_id)})
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification
