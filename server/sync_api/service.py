"""The database side of the sync engine: the push and pull ports on SQLAlchemy."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from server.common import context
from server.common.db import SYNC_VERSION, current_value, utcnow, written_version
from server.common.errors import AppError
from server.customers import access
from server.extensions import db
from server.org.models import User
from server.sync_api import feeds
from server.sync_api.models import SyncClient, SyncCreatedId, SyncRejection, SyncResult, SyncSnapshot
from server.sync_api.registry import MutationContext, load_handlers, registry
from sync import pull as pull_engine
from sync import push as push_engine
from sync.errors import ProtocolError, Rejection
from sync.protocol import Mutation, PullRequest, PushRequest
from sync.registry import Registered

SNAPSHOTS_KEPT = 3


def claim_client(client_id: str, user: User) -> SyncClient:
    """The client row, created for this user on first contact; another user's is refused."""
    client = db.session.get(SyncClient, client_id)
    if client is None:
        try:
            with db.session.begin_nested():
                client = SyncClient(client_id=client_id, user_id=user.id)
                db.session.add(client)
        except IntegrityError:
            client = db.session.get(SyncClient, client_id)
        db.session.commit()
    if client.user_id != user.id:
        raise ProtocolError(409, "client_user_mismatch",
                            "This app install belongs to another user; sign in as that user or reinstall",
                            {"client_id": client_id})
    return client


def rejection_from(exc: Exception) -> Rejection | None:
    if isinstance(exc, AppError) and exc.status < 500:
        return Rejection(exc.code, exc.message, exc.details)
    if isinstance(exc, ValidationError):
        return Rejection("validation_failed", "Some fields are not valid", {"fields": exc.messages})
    return None


class SqlPushPort:
    def __init__(self, user: User):
        self.user = user

    def claim_client(self, client_id: str, user_id: str) -> None:
        claim_client(client_id, self.user)

    @contextmanager
    def mutation_transaction(self):
        # Each mutation sees the database as it is now, not objects cached by earlier ones.
        db.session.expire_all()
        try:
            yield
        except BaseException:
            db.session.rollback()
            raise
        else:
            db.session.commit()

    @contextmanager
    def savepoint(self):
        with db.session.begin_nested():
            yield

    def lock_client(self, client_id: str) -> int:
        client = db.session.scalar(select(SyncClient).where(SyncClient.client_id == client_id)
                                 .with_for_update().execution_options(populate_existing=True))
        client.last_push_at = utcnow()
        return client.last_mutation_id

    def stored_result(self, client_id: str, mutation_id: int) -> dict | None:
        row = db.session.get(SyncResult, (client_id, mutation_id))
        return dict(row.result) if row else None

    def dependency_root(self, client_id: str, ids: set[str]) -> int | None:
        if not ids:
            return None
        return db.session.scalar(
            select(SyncRejection.root_mutation_id).join(SyncCreatedId, SyncCreatedId.rejection_id == SyncRejection.id)
            .where(SyncCreatedId.client_id == client_id, SyncCreatedId.entity_id.in_(sorted(ids)),
                   (SyncRejection.resolution.is_(None)) | (SyncRejection.resolution == "discarded"))
            .order_by(SyncRejection.root_mutation_id).limit(1))

    def apply(self, registered: Registered, mutation: Mutation, client_id: str) -> dict:
        token = context.client_mutation.set((client_id, mutation.id))
        channel = context.channel.set("sync")
        try:
            extra = registered.handler(mutation.args, MutationContext(self.user, client_id, mutation)) or {}
            db.session.flush()
            return {"version": None, **extra}  # filled in by `finish`
        finally:
            context.client_mutation.reset(token)
            context.channel.reset(channel)

    def as_rejection(self, exc: Exception) -> Rejection | None:
        return rejection_from(exc)

    def record_rejection(self, client_id: str, mutation: Mutation, error: dict, created: list[str],
                         root_mutation_id: int) -> None:
        rejection = SyncRejection(client_id=client_id, user_id=self.user.id, mutation_id=mutation.id,
                                  name=mutation.name, args=mutation.args, error=error, created_ids=created,
                                  root_mutation_id=root_mutation_id, client_time=mutation.client_time)
        db.session.add(rejection)
        db.session.flush()
        for entity_id in dict.fromkeys(created):
            db.session.merge(SyncCreatedId(client_id=client_id, entity_id=entity_id, rejection_id=rejection.id))

    def finish(self, client_id: str, mutation_id: int, result: dict) -> dict:
        client = db.session.get(SyncClient, client_id)
        client.last_mutation_id = mutation_id
        if result.get("status") == "applied":
            # The version is taken as late as possible: on PostgreSQL the counter row stays
            # locked from here to COMMIT, and every other phone's mutation waits for it — so
            # after it come only the stored result's INSERT and the COMMIT.
            result["server"]["version"] = written_version(db.session)
        db.session.add(SyncResult(client_id=client_id, mutation_id=mutation_id, result=result))
        db.session.flush()
        return result

    def server_time(self) -> str:
        return utcnow().isoformat()


def push(request: PushRequest, user: User) -> dict[str, Any]:
    load_handlers()
    return push_engine.run_push(request, str(user.id), SqlPushPort(user), registry)


class SqlPullPort:
    def __init__(self, user: User):
        self.user = user

    def claim_client(self, client_id: str, user_id: str) -> None:
        claim_client(client_id, self.user).last_pull_at = utcnow()

    def current_version(self) -> int:
        return current_value(db.session, SYNC_VERSION)

    def scope(self, viewer: User) -> pull_engine.Scope:
        from server.customers.models import Customer

        rows = db.session.execute(select(Customer.id, access.unmasked_customers(viewer))
                                  .where(access.visible_customers(viewer))).all()
        people = db.session.scalars(select(User.id).where(access.visible_users(viewer)))
        return {"customers": frozenset(str(r[0]) for r in rows),
                "unmasked": frozenset(str(r[0]) for r in rows if r[1]),
                "people": frozenset(str(i) for i in people)}

    def save_snapshot(self, client_id: str, scope: pull_engine.Scope) -> str:
        snapshot = SyncSnapshot(client_id=client_id, scope={k: sorted(v) for k, v in scope.items()})
        db.session.add(snapshot)
        db.session.flush()
        # Keep the last few: a client whose answer was lost may come back with the one before.
        keep = select(SyncSnapshot.id).where(SyncSnapshot.client_id == client_id) \
            .order_by(SyncSnapshot.created_at.desc()).limit(SNAPSHOTS_KEPT)
        db.session.execute(delete(SyncSnapshot).where(SyncSnapshot.client_id == client_id,
                                                      SyncSnapshot.id.not_in(keep)))
        return str(snapshot.id)

    def load_snapshot(self, client_id: str, snapshot_id: str) -> pull_engine.Scope | None:
        try:
            row = db.session.get(SyncSnapshot, uuid.UUID(snapshot_id))
        except ValueError:
            return None
        if row is None or row.client_id != client_id:
            return None
        return {k: frozenset(v) for k, v in row.scope.items()}

    def phases(self):
        load_handlers()
        return feeds.phases()

    def last_mutation_id(self, client_id: str) -> int:
        return db.session.get(SyncClient, client_id).last_mutation_id

    def rejections(self, viewer: User) -> list[dict]:
        return [present_rejection(r) for r in open_rejections(viewer)]


def open_rejections(user: User) -> list[SyncRejection]:
    return list(db.session.scalars(select(SyncRejection).where(
        SyncRejection.user_id == user.id, SyncRejection.resolved_at.is_(None)).order_by(SyncRejection.created_at)))


def present_rejection(r: SyncRejection) -> dict:
    return {"client_id": r.client_id, "mutation_id": r.mutation_id, "name": r.name, "args": r.args,
            "error": r.error, "client_time": r.client_time, "rejected_at": r.created_at.isoformat()}


def pull(request: PullRequest, user: User) -> dict[str, Any]:
    key = current_app.config["SECRET_KEY"].encode()
    return pull_engine.run_pull(request, user, str(user.id), SqlPullPort(user), key)


def resolve_rejection(user: User, client_id: str, mutation_id: int, action: str,
                      replacement: dict | None) -> dict:
    """Discard a rejected mutation, or retry it with a replacement (e.g. edited args).

    A retry runs the replacement now, through the same handlers, as the same user; if it is
    rejected again the rejection stays open with the new error.
    """
    from server.common.errors import NotFound

    rejection = db.session.scalar(select(SyncRejection).where(
        SyncRejection.client_id == client_id, SyncRejection.mutation_id == mutation_id,
        SyncRejection.user_id == user.id).with_for_update())
    if rejection is None:
        raise NotFound("No such rejection", details={"client_id": client_id, "mutation_id": mutation_id})
    if rejection.resolved_at is not None:
        return {"status": rejection.resolution}
    if action == "discard":
        rejection.resolved_at, rejection.resolution = utcnow(), "discarded"
        return {"status": "discarded"}
    load_handlers()
    mutation = Mutation(rejection.mutation_id, replacement["name"], replacement["args"], rejection.client_time)
    port = SqlPushPort(user)
    try:
        registered = registry.get(mutation.name)
        with db.session.begin_nested():
            server = port.apply(registered, mutation, client_id)
    except Exception as exc:  # noqa: BLE001 — business errors become the new error, others propagate
        found = exc if isinstance(exc, Rejection) else rejection_from(exc)
        if found is None:
            raise
        rejection.error, rejection.name, rejection.args = found.to_dict(), mutation.name, mutation.args
        return {"status": "rejected", "error": found.to_dict()}
    rejection.resolved_at, rejection.resolution = utcnow(), "retried"
    return {"status": "applied", "server": server}
