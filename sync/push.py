"""Push: apply a client's batch of mutations in order, exactly once each (SPEC §12).

Per mutation, in one transaction of its own: lock the client row, skip what was already
processed (answering its stored result as `replayed`), stop at a gap, apply the handler inside
a savepoint, and commit the effects together with `last_mutation_id` and the stored result.
A business rejection rolls back the savepoint only: the rejection record and the advanced
`last_mutation_id` still commit, so a rejected mutation never blocks the queue. Anything else
rolls the whole mutation back and stops the batch; the caller answers 503 and the client
retries, getting `replayed` for everything committed before.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from sync.errors import Rejection
from sync.protocol import Mutation, PushRequest
from sync.registry import MutationRegistry, Registered, referenced_ids


class PushPort(Protocol):
    def claim_client(self, client_id: str, user_id: str) -> None:
        """Create the client row for this user or check it is theirs (409 otherwise)."""

    def mutation_transaction(self) -> AbstractContextManager[None]:
        """Commit on a normal exit, roll back on an exception."""

    def savepoint(self) -> AbstractContextManager[None]:
        """Roll back to here on an exception (and re-raise)."""

    def lock_client(self, client_id: str) -> int:
        """Lock the client row for this transaction; return its last_mutation_id."""

    def stored_result(self, client_id: str, mutation_id: int) -> dict[str, Any] | None: ...

    def dependency_root(self, client_id: str, ids: set[str]) -> int | None:
        """The root mutation id if any of `ids` was to be created by a rejected mutation."""

    def apply(self, registered: Registered, mutation: Mutation, client_id: str) -> dict[str, Any]:
        """Run the handler as the pushing user; return the `server` part of the result."""

    def as_rejection(self, exc: Exception) -> Rejection | None:
        """A business rejection for a domain error, or None for an unexpected one."""

    def record_rejection(self, client_id: str, mutation: Mutation, error: dict, created: list[str],
                         root_mutation_id: int) -> None: ...

    def finish(self, client_id: str, mutation_id: int, result: dict[str, Any]) -> dict[str, Any]:
        """Set last_mutation_id and store the result for replays; return it as stored (a port
        may complete it here, e.g. with the version its effects committed under, known only
        at the end of the transaction)."""

    def server_time(self) -> str: ...


class BatchStopped(Exception):
    """An unexpected error stopped the batch; `results` holds what was committed before."""

    def __init__(self, cause: Exception, last_mutation_id: int | None, results: list[dict]):
        super().__init__(str(cause))
        self.cause, self.last_mutation_id, self.results = cause, last_mutation_id, results


def run_push(request: PushRequest, user_id: str, port: PushPort, registry: MutationRegistry) -> dict[str, Any]:
    client_id = request.client_id
    port.claim_client(client_id, user_id)
    results: list[dict[str, Any]] = []
    last: int | None = None
    for mutation in request.mutations:
        try:
            with port.mutation_transaction():
                last = port.lock_client(client_id)
                if mutation.id <= last:
                    stored = port.stored_result(client_id, mutation.id) or {}
                    results.append({**stored, "id": mutation.id, "status": "replayed"})
                    continue
                if mutation.id > last + 1:
                    break  # a gap: the client resends from last + 1
                result = _process(mutation, client_id, port, registry)
                result = port.finish(client_id, mutation.id, result)
                last = mutation.id
            results.append(result)
        except Exception as exc:  # noqa: BLE001 — the transaction is rolled back; tell the client to retry
            raise BatchStopped(exc, last, results) from exc
    if last is None:  # an empty batch: still answer where the client stands
        with port.mutation_transaction():
            last = port.lock_client(client_id)
    return {"last_mutation_id": last, "server_time": port.server_time(),
            "results": results}


def _creates(registered: Registered | None, args: dict) -> list[str]:
    if registered is None:
        return []
    try:
        return [str(i).lower() for i in registered.creates(args) if i]
    except (KeyError, TypeError, AttributeError):
        return []


def _process(mutation: Mutation, client_id: str, port: PushPort, registry: MutationRegistry) -> dict[str, Any]:
    registered: Registered | None = None
    root = mutation.id
    try:
        registered = registry.get(mutation.name)
        created = _creates(registered, mutation.args)
        dependency = port.dependency_root(client_id, referenced_ids(mutation.args) - set(created))
        if dependency is not None:
            root = dependency
            raise Rejection("dependency_rejected",
                            "This refers to something whose creation was rejected",
                            {"root_mutation_id": dependency})
        with port.savepoint():
            server = port.apply(registered, mutation, client_id)
        result: dict[str, Any] = {"id": mutation.id, "status": "applied", "server": server}
        notice = server.pop("_notice", None) if isinstance(server, dict) else None
        if notice:
            # e.g. approval_required: applied as a pending approval, the client is told why
            result["error"] = notice
        return result
    except Rejection as rejection:
        error = rejection.to_dict()
    except Exception as exc:
        rejection = port.as_rejection(exc)
        if rejection is None:
            raise
        error = rejection.to_dict()
    port.record_rejection(client_id, mutation, error, _creates(registered, mutation.args), root)
    return {"id": mutation.id, "status": "rejected", "error": error}
