"""Content-addressed file storage under STORAGE_DIR (a directory today, an object
store later): a file is stored under the SHA-256 of its bytes, so storing the same
bytes twice is one file and a download always returns exactly what was stored."""
from __future__ import annotations

import hashlib
import os
import tempfile

from flask import current_app


def _path(digest: str) -> str:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a SHA-256 digest")
    return os.path.join(current_app.config["STORAGE_DIR"], digest[:2], digest)


def put(data: bytes) -> str:
    """Store `data` (atomically) and return its SHA-256 hex digest."""
    digest = hashlib.sha256(data).hexdigest()
    target = _path(digest)
    if os.path.exists(target):
        return digest
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return digest


def get(digest: str) -> bytes:
    with open(_path(digest), "rb") as handle:
        return handle.read()


def delete(digest: str) -> None:
    """Remove the file stored under `digest` (nothing happens if there is none). The
    caller makes sure nothing else still needs the same bytes."""
    try:
        os.unlink(_path(digest))
    except FileNotFoundError:
        return


def exists(digest: str) -> bool:
    try:
        return os.path.exists(_path(digest))
    except ValueError:
        return False
