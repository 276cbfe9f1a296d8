"""Where attachment bytes live: a small blob-store interface and its local-disk implementation.

Blobs are content-addressed: the key is the SHA-256 of the bytes, so the same file uploaded
twice is stored once, and nothing a client sends (its file name above all) ever becomes part
of a path. `put` streams the source to a temporary file in chunks while hashing and counting,
stops at the size limit, lets the caller inspect the received bytes (the type check) and only
then moves the file into place; a refused or oversized upload leaves nothing behind.

A blob written for a request whose transaction then fails stays as an unreferenced file: it is
harmless (content-addressed, reused by the next upload of the same bytes) and is never deleted
on a failure, because a concurrent request may have just linked the same blob.

These calls do blocking file I/O: async callers run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar

CHUNK = 64 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
T = TypeVar("T")


class BlobTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    created: bool  # False: the same bytes were already stored


class BlobStore(Protocol):
    def put(self, source: BinaryIO, *, max_bytes: int, inspect: Callable[[BinaryIO], T]) -> tuple[StoredBlob, T]:
        """Store `source` (at most `max_bytes`, else BlobTooLarge); `inspect` reads the received bytes
        before they are kept and may raise to refuse them (nothing is kept then)."""
        ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...


def iter_chunks(stream: BinaryIO, chunk: int = CHUNK) -> Iterator[bytes]:
    """Read a blob in chunks and close it at the end (a download's body)."""
    with stream:
        while data := stream.read(chunk):
            yield data


class LocalBlobStore:
    """Blobs under `root/ab/cd/abcd…` (SHA-256 hex); uploads in flight under `root/tmp/`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, source: BinaryIO, *, max_bytes: int, inspect: Callable[[BinaryIO], T]) -> tuple[StoredBlob, T]:
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{uuid.uuid4().hex}.part"
        digest, size = hashlib.sha256(), 0
        try:
            with open(tmp, "xb") as out:
                while data := source.read(CHUNK):
                    size += len(data)
                    if size > max_bytes:
                        raise BlobTooLarge(max_bytes)
                    digest.update(data)
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            with open(tmp, "rb") as received:
                verdict = inspect(received)
            sha256 = digest.hexdigest()
            final = self._path(sha256)
            if final.exists():
                return StoredBlob(sha256, size, created=False), verdict
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)  # atomic: a reader sees the whole blob or none
            return StoredBlob(sha256, size, created=True), verdict
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def open(self, sha256: str) -> BinaryIO:
        return open(self._path(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(sha256).unlink()
