"""Phones pull visits, with their verification, under their customer (scoped feed "visit")."""
from __future__ import annotations

import server.customers.feeds  # noqa: F401 — customers and contacts come first in a pull
from server.sync_api.feeds import ScopedFeed, register_scoped
from server.visits import service
from server.visits.models import Visit
from sync.pull import Plan


def present(visit: Visit, plan: Plan) -> dict:
    return service.present(visit)


register_scoped(ScopedFeed("visit", Visit, Visit.customer_id, present, voided=lambda row: False))
