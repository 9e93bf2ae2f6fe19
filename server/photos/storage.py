"""Photo files on disk, content-addressed under `app.config["PHOTO_DIR"]`.

    PHOTO_DIR/ab/cd/<sha256>               the original bytes, exactly as uploaded
    PHOTO_DIR/thumbs/ab/cd/<sha256>.jpg    the thumbnail, made on first request and kept

Every file is written atomically: a temporary file in the same folder, fsync, `os.replace`,
then fsync of the folder. A crash leaves either no file or the whole file under the final
name, never half of one (at worst a stray `.*.tmp` file beside it). The file is written before
the database row commits; a row whose commit fails leaves an orphan file, which is harmless
(the same bytes uploaded again reuse it) and can be swept.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import current_app

from server.common.blobs import SHA256_RE


def _check(sha256: str) -> str:
    if not SHA256_RE.fullmatch(sha256 or ""):
        raise ValueError("not a lowercase hex SHA-256")
    return sha256


def root() -> Path:
    return Path(current_app.config["PHOTO_DIR"])


def original_path(sha256: str) -> Path:
    _check(sha256)
    return root() / sha256[:2] / sha256[2:4] / sha256


def thumb_path(sha256: str) -> Path:
    _check(sha256)
    return root() / "thumbs" / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(path: Path) -> None:
    """mkdir -p, making each new folder's entry durable in its parent."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        _fsync_dir(folder.parent)


def write_atomic(path: Path, data: bytes) -> None:
    _make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def has_original(sha256: str, size: int | None = None) -> bool:
    try:
        stat = original_path(sha256).stat()
    except FileNotFoundError:
        return False
    return size is None or stat.st_size == size


def save_original(sha256: str, data: bytes) -> Path:
    """Store the bytes unless a complete copy is already there."""
    path = original_path(sha256)
    if not has_original(sha256, len(data)):
        write_atomic(path, data)
    return path


def read_original(sha256: str) -> bytes:
    return original_path(sha256).read_bytes()


def read_thumb(sha256: str) -> bytes | None:
    try:
        return thumb_path(sha256).read_bytes()
    except FileNotFoundError:
        return None


def save_thumb(sha256: str, data: bytes) -> None:
    write_atomic(thumb_path(sha256), data)
