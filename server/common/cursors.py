"""Opaque page cursors: the sort key of the last row sent, as a JSON list in URL-safe base64.

A cursor the server did not make is a 422 `validation_failed` on the `cursor` field, whatever is
wrong with it (not base64, not JSON, the wrong shape, a bad id or time).
"""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from server.common.errors import ValidationFailed

T = TypeVar("T")


def encode_cursor(value: Sequence[Any] | None) -> str | None:
    """The cursor of this sort key; None for no key (no next page)."""
    return base64.urlsafe_b64encode(json.dumps(list(value)).encode()).decode() if value else None


def key_and_id(value: Any) -> tuple[str, str]:
    """The usual key: [a sort value, an id], both as strings (the id checked to be a UUID)."""
    return str(value[0]), str(uuid.UUID(value[1]))


def decode_cursor(cursor: str | None, parse: Callable[[Any], T] = key_and_id) -> T | None:
    """The sort key in `cursor` (None when there is none), read by `parse` from the decoded JSON;
    anything that fails to decode or parse is a "Bad cursor" validation error."""
    if not cursor:
        return None
    try:
        return parse(json.loads(base64.urlsafe_b64decode(cursor.encode())))
    except (ValueError, TypeError, IndexError, json.JSONDecodeError) as exc:
        raise ValidationFailed("Bad cursor", details={"fields": {"cursor": ["not a cursor"]}}) from exc
