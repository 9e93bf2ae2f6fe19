"""Phones pull follow-ups with their customer (scoped feed "follow_up")."""
from __future__ import annotations

import server.customers.feeds  # noqa: F401 — customers and contacts come first in a pull
from server.followups import service
from server.followups.models import FollowUp
from server.sync_api.feeds import ScopedFeed, register_scoped
from sync.pull import Plan


def present(follow_up: FollowUp, plan: Plan) -> dict:
    return service.present(follow_up)


register_scoped(ScopedFeed("follow_up", FollowUp, FollowUp.customer_id, present, voided=lambda row: False))
