"""The push and pull envelopes: parsing and limits (SPEC §12)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sync.errors import ProtocolError

SCHEMA_VERSION = 1
# The server accepts the current and the previous schema version.
ACCEPTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION, SCHEMA_VERSION - 1})
MAX_MUTATIONS = 500
MAX_PUSH_BYTES = 5 * 1024 * 1024
DEFAULT_PULL_LIMIT = 2000
MAX_PULL_LIMIT = 5000


@dataclass(frozen=True)
class Mutation:
    id: int
    name: str
    args: dict[str, Any]
    client_time: str | None = None


@dataclass(frozen=True)
class PushRequest:
    client_id: str
    schema_version: int
    mutations: list[Mutation] = field(default_factory=list)


@dataclass(frozen=True)
class PullRequest:
    client_id: str
    schema_version: int
    cookie: str | None
    limit: int


def _malformed(message: str, **details) -> ProtocolError:
    return ProtocolError(400, "malformed_request", message, details)


def _client_id(body: dict) -> str:
    raw = body.get("client_id")
    try:
        return str(uuid.UUID(str(raw)))
    except (ValueError, TypeError) as exc:
        raise _malformed("client_id must be a UUID") from exc


def _schema_version(body: dict) -> int:
    version = body.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _malformed("schema_version must be an integer")
    if version < min(ACCEPTED_SCHEMA_VERSIONS):
        raise ProtocolError(426, "upgrade_required", "This app is too old for the server; update it",
                            {"schema_version": version, "accepted": sorted(ACCEPTED_SCHEMA_VERSIONS)})
    if version > SCHEMA_VERSION:
        raise ProtocolError(400, "unsupported_schema_version", "The server does not know this schema version",
                            {"schema_version": version, "accepted": sorted(ACCEPTED_SCHEMA_VERSIONS)})
    return version


def parse_push(body: Any, size: int | None = None) -> PushRequest:
    if size is not None and size > MAX_PUSH_BYTES:
        raise ProtocolError(413, "payload_too_large", "A push may carry at most 5 MB",
                            {"limit_bytes": MAX_PUSH_BYTES})
    if not isinstance(body, dict):
        raise _malformed("The body must be a JSON object")
    client_id = _client_id(body)
    version = _schema_version(body)
    raw = body.get("mutations")
    if not isinstance(raw, list):
        raise _malformed("mutations must be a list")
    if len(raw) > MAX_MUTATIONS:
        raise ProtocolError(413, "payload_too_large", "A push may carry at most 500 mutations",
                            {"limit_mutations": MAX_MUTATIONS, "count": len(raw)})
    mutations = []
    previous = None
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _malformed("Each mutation must be an object", index=index)
        mid, name, args = item.get("id"), item.get("name"), item.get("args", {})
        if not isinstance(mid, int) or isinstance(mid, bool) or mid < 1:
            raise _malformed("A mutation id is a positive integer", index=index)
        if previous is not None and mid != previous + 1:
            raise _malformed("Mutation ids in a batch must be consecutive", index=index)
        if not isinstance(name, str) or not name or len(name) > 64:
            raise _malformed("A mutation needs a name", index=index)
        if not isinstance(args, dict):
            raise _malformed("Mutation args must be an object", index=index)
        client_time = item.get("client_time")
        if client_time is not None and not isinstance(client_time, str):
            raise _malformed("client_time must be an ISO 8601 string", index=index)
        mutations.append(Mutation(mid, name, args, client_time))
        previous = mid
    return PushRequest(client_id, version, mutations)


def parse_pull(body: Any) -> PullRequest:
    if not isinstance(body, dict):
        raise _malformed("The body must be a JSON object")
    cookie = body.get("cookie")
    if cookie is not None and not isinstance(cookie, str):
        raise _malformed("cookie must be a string or null")
    limit = body.get("limit", DEFAULT_PULL_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise _malformed("limit must be a positive integer")
    return PullRequest(_client_id(body), _schema_version(body), cookie, min(limit, MAX_PULL_LIMIT))
