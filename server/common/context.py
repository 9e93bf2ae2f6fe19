"""Per-request (or per-job) context the services read: channel, actor, mutation id."""
from __future__ import annotations

from contextvars import ContextVar

# Whether the current unit of work writes: SQLite then begins IMMEDIATE.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)
# api, sync, job or cli (SPEC R-I2)
channel: ContextVar[str] = ContextVar("channel", default="cli")
client_mutation: ContextVar[tuple[str, int] | None] = ContextVar("client_mutation", default=None)
