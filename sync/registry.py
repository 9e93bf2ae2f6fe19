"""Mutation handlers by name. Domains of the server register theirs here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sync.errors import Rejection

# handler(args, context) -> extra result fields (e.g. {"code": "C2026000123"})
Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]
# which entity ids a mutation creates, for dependency_rejected
Creates = Callable[[dict[str, Any]], list[str]]


@dataclass(frozen=True)
class Registered:
    name: str
    handler: Handler
    creates: Creates


def _creates_nothing(_args: dict) -> list[str]:
    return []


class MutationRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Registered] = {}

    def register(self, name: str, creates: Creates | None = None):
        def decorator(fn: Handler) -> Handler:
            if name in self._handlers:
                raise ValueError(f"mutation {name} registered twice")
            self._handlers[name] = Registered(name, fn, creates or _creates_nothing)
            return fn

        return decorator

    def get(self, name: str) -> Registered:
        try:
            return self._handlers[name]
        except KeyError:
            raise Rejection("validation_failed", "Unknown mutation", {"name": name}) from None

    def names(self) -> list[str]:
        return sorted(self._handlers)


def referenced_ids(value: Any) -> set[str]:
    """Every string in the args that could be an entity id (dependency tracking)."""
    found: set[str] = set()
    if isinstance(value, str):
        if len(value) == 36 and value.count("-") == 4:
            found.add(value.lower())
    elif isinstance(value, dict):
        for item in value.values():
            found |= referenced_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    return found
