"""The server's mutation registry. Each domain registers its handlers in its `mutations.py`."""
from __future__ import annotations

from dataclasses import dataclass

from sync.protocol import Mutation
from sync.registry import MutationRegistry

from server.org.models import User

registry = MutationRegistry()


@dataclass(frozen=True)
class MutationContext:
    user: User
    client_id: str
    mutation: Mutation


def load_handlers() -> None:
    """Import the domains' mutation modules so their handlers are registered."""
    import server.accounts.feeds  # noqa: F401
    import server.accounts.mutations  # noqa: F401
    import server.approvals.feeds  # noqa: F401
    import server.approvals.mutations  # noqa: F401
    import server.customers.feeds  # noqa: F401
    import server.customers.mutations  # noqa: F401
    import server.daily_reports.feeds  # noqa: F401
    import server.daily_reports.mutations  # noqa: F401
    import server.followups.feeds  # noqa: F401
    import server.followups.mutations  # noqa: F401
    import server.notifications.feeds  # noqa: F401
    import server.notifications.mutations  # noqa: F401
    import server.org.feeds  # noqa: F401
    import server.pipeline.feeds  # noqa: F401
    import server.pipeline.mutations  # noqa: F401
    import server.pools.mutations  # noqa: F401
    import server.targets.feeds  # noqa: F401
    import server.targets.mutations  # noqa: F401
    import server.visits.feeds  # noqa: F401
    import server.visits.mutations  # noqa: F401
