"""The fieldcrm sync engine (SPEC §12): protocol, push, pull, cookies, the mutation registry.

Framework-free: it knows nothing of Flask or of the server's models. The server plugs in a
`PushPort` and a `PullPort` (its database adapter) and registers its mutation handlers.
"""
from sync.errors import ProtocolError, Rejection
from sync.registry import MutationRegistry

__all__ = ["MutationRegistry", "ProtocolError", "Rejection"]
