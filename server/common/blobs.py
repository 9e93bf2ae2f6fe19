"""Content-addressed uploads (photos, pipeline attachments): the raw-body reader, the SHA-256
check of the URL and the cache headers of HEAD and GET answers.

The bytes under a hash never change, so a GET answer is cached for a year ("immutable"); a HEAD
("is it there for me?") must be asked again each time.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from flask import Response, request, send_file

from server.common.errors import AppError

READ_CHUNK = 1 << 20
CACHE_FOREVER = "private, max-age=31536000, immutable"
SHA256_RE = re.compile(r"[0-9a-f]{64}")


def read_body(limit: int, too_large: type[AppError], message: str) -> bytes:
    """The request body, refusing (`too_large`, with `message`) anything over `limit` without ever
    holding more than limit + 1 bytes, whether or not the client sent a Content-Length."""
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(message, details={"limit": limit, "size": length})
    stream = request.stream
    body = bytearray()
    while len(body) <= limit:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) > limit:
        raise too_large(message, details={"limit": limit})
    return bytes(body)


def valid_sha(sha256: str, not_found: Callable[[], Exception]) -> str:
    """`sha256` when it is a SHA-256 in lowercase hex; else the caller's not-found error (a
    malformed hash must answer like an unknown one)."""
    if not SHA256_RE.fullmatch(sha256):
        raise not_found()
    return sha256


def head_response(mime: str, sha256: str) -> Response:
    """The answer to HEAD: 200 with the type and the hash as ETag, not to be cached."""
    response = Response(status=200, mimetype=mime)
    response.set_etag(sha256)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def cache_forever(response: Response) -> Response:
    """The bytes under a hash never change: private, cached for a year, no Expires."""
    response.headers["Cache-Control"] = CACHE_FOREVER
    response.headers.pop("Expires", None)
    return response


def send_stored(path: str | Path, mime: str, sha256: str, created_at: datetime) -> Response:
    """The stored file as uploaded, conditional on its hash (ETag) and upload time, cached forever."""
    return cache_forever(send_file(path, mimetype=mime, conditional=True, etag=sha256, last_modified=created_at))
