"""The pull cookie: opaque to clients, a small signed JSON document to the server.

The signature only guards against accidents and meddling; a forged cookie could never reveal
more than the user may see, because every page is computed from the access rule anew.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CookieState:
    since: int  # every change with a version <= since has been delivered
    snapshot: str | None  # the scope the client was last brought up to date with
    # while paging through one pull run:
    upto: int | None = None
    previous: str | None = None
    phase: int = 0
    after: str | None = None
    reset: bool = False
    # the client's last mutation id read when `upto` was fixed (see pull.run_pull)
    last_mutation_id: int | None = None

    @property
    def paging(self) -> bool:
        return self.upto is not None


def encode(state: CookieState, key: bytes) -> str:
    payload = json.dumps(asdict(state), separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")


def decode(cookie: str | None, key: bytes) -> CookieState | None:
    """The state, or None for a missing, damaged or foreign cookie (the client then resets)."""
    if not cookie:
        return None
    try:
        raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
        mac, payload = raw[:12], raw[12:]
        if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()[:12]):
            return None
        return CookieState(**json.loads(payload))
    except (ValueError, TypeError, json.JSONDecodeError):
        return None
