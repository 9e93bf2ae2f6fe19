"""Phones pull a customer's accounts with the customer (scoped feed "account")."""
from __future__ import annotations

import server.customers.feeds  # noqa: F401 — customers and contacts come first in a pull
from server.accounts.models import Account
from server.sync_api.feeds import ScopedFeed, register_scoped
from sync.pull import Plan


def present(account: Account, plan: Plan) -> dict:
    return {
        "id": str(account.id), "customer_id": str(account.customer_id),
        "owner_id": str(account.owner_id) if account.owner_id else None,
        "account": account.account, "real_name": account.real_name.value if account.real_name else None,
        "status": account.status.value,
        "verified_at": account.verified_at.isoformat() if account.verified_at else None,
        "filed_at": account.filed_at.isoformat() if account.filed_at else None,
        "created_by_id": str(account.created_by_id) if account.created_by_id else None,
        "created_at": account.created_at.isoformat(), "updated_at": account.updated_at.isoformat(),
        "version": account.version,
    }


register_scoped(ScopedFeed("account", Account, Account.customer_id, present))
