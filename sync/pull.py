"""Pull: bring a client from its cookie to now, in pages (SPEC §12).

A pull run fixes `upto`, the global version at its start; every change numbered <= upto is
committed by then (the counter row is locked until commit), so "version in (since, upto]"
misses nothing. Visibility is a set of scope ids (e.g. the customers the user may see)
snapshotted at the start of each run and compared with the client's previous snapshot:
scopes that appeared are sent whole whatever their versions, scopes that disappeared are
deleted with everything under them, kept scopes send only what changed.

The server supplies the phases (entity feeds) in a fixed order; each pages by a stable key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from sync import cookie as cookies
from sync.protocol import PullRequest

Scope = dict[str, frozenset[str]]


@dataclass(frozen=True)
class Plan:
    viewer: Any
    since: int
    upto: int
    reset: bool
    now: Scope
    previous: Scope

    def added(self, name: str) -> frozenset[str]:
        return self.now.get(name, frozenset()) - self.previous.get(name, frozenset())

    def removed(self, name: str) -> frozenset[str]:
        return self.previous.get(name, frozenset()) - self.now.get(name, frozenset())

    def kept(self, name: str) -> frozenset[str]:
        return self.now.get(name, frozenset()) & self.previous.get(name, frozenset())


# phase(plan, after_key, limit) -> (ops, next_after_key or None when the phase is done)
Phase = Callable[[Plan, str | None, int], tuple[list[dict[str, Any]], str | None]]


class PullPort(Protocol):
    def claim_client(self, client_id: str, user_id: str) -> None: ...
    def current_version(self) -> int: ...
    def scope(self, viewer: Any) -> Scope: ...
    def save_snapshot(self, client_id: str, scope: Scope) -> str: ...
    def load_snapshot(self, client_id: str, snapshot_id: str) -> Scope | None: ...
    def phases(self) -> list[Phase]: ...
    def last_mutation_id(self, client_id: str) -> int: ...
    def rejections(self, viewer: Any) -> list[dict[str, Any]]: ...


def run_pull(request: PullRequest, viewer: Any, user_id: str, port: PullPort, key: bytes) -> dict[str, Any]:
    port.claim_client(request.client_id, user_id)
    state = cookies.decode(request.cookie, key)
    plan: Plan | None = None
    if state is not None and state.paging:
        # The next page of a run: same upto, same two snapshots, resume where we stopped.
        previous = port.load_snapshot(request.client_id, state.previous) if state.previous else {}
        now = port.load_snapshot(request.client_id, state.snapshot or "")
        if previous is not None and now is not None:
            plan = Plan(viewer, state.since, state.upto, state.reset, now, previous)
            previous_id, snapshot = state.previous, state.snapshot
            last_mutation_id = state.last_mutation_id
            phase, after, first_page = state.phase, state.after, False
        else:
            state = None  # the snapshots expired mid-run: start over from scratch
    if plan is None:
        previous = port.load_snapshot(request.client_id, state.snapshot) if state and state.snapshot else None
        reset = previous is None
        # The client's last mutation id is read BEFORE `upto`: every mutation up to it has
        # committed by then, so its effects are numbered <= upto and are in this run. The client
        # drops those mutations from its outbox when the run ends; read after `upto`, a push
        # landing in between would be dropped without its effects having been pulled.
        last_mutation_id = port.last_mutation_id(request.client_id)
        upto = port.current_version()
        now = port.scope(viewer)
        previous_id = None if reset else state.snapshot
        snapshot = port.save_snapshot(request.client_id, now)
        plan = Plan(viewer, 0 if reset else state.since, upto, reset, now, previous or {})
        phase, after, first_page = 0, None, True

    patch: list[dict[str, Any]] = []
    phases = port.phases()
    while phase < len(phases) and len(patch) < request.limit:
        ops, after = phases[phase](plan, after, request.limit - len(patch))
        patch.extend(ops)
        if after is None:
            phase += 1
    has_more = phase < len(phases)
    if has_more:
        next_state = cookies.CookieState(since=plan.since, snapshot=snapshot, upto=plan.upto, previous=previous_id,
                                         phase=phase, after=after, reset=plan.reset,
                                         last_mutation_id=last_mutation_id)
    else:
        next_state = cookies.CookieState(since=plan.upto, snapshot=snapshot)
    return {
        "cookie": cookies.encode(next_state, key),
        "last_mutation_id": (last_mutation_id if last_mutation_id is not None
                             else port.last_mutation_id(request.client_id)),
        "reset": plan.reset and first_page,
        "has_more": has_more,
        "patch": patch,
        "rejections": port.rejections(viewer),
    }
