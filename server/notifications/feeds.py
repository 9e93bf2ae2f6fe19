"""Each user pulls their own notifications."""
from __future__ import annotations

from server.notifications.models import Notification
from server.sync_api.feeds import PersonalFeed, register_feed


def _present(n: Notification, plan) -> dict:
    return {"id": str(n.id), "kind": n.kind, "customer_id": str(n.customer_id) if n.customer_id else None,
            "data": n.data, "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None}


register_feed(PersonalFeed("notification", Notification, lambda plan: Notification.user_id == plan.viewer.id,
                           _present, voided=lambda n: False))
