"""Attachments addressed by sha256, uploaded in resumable chunks (tus-style; docs/protocol.md step 9).

Each chunk is committed with the blob's new offset in its own short write transaction before the
device hears back, so a connection cut on 2G never costs more than the chunk in flight. A blob is
marked complete only after its whole sha256 has been checked: there is never a corrupt complete blob.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server.models import Blob
from server.models import BlobChunk
from server.models import utcnow
from server.models.errors import ServerError
from server.models.submissions import insert_missing


@contextmanager
def _writing(engine: Engine) -> Iterator[Session]:
    # A session of its own that takes the write lock at BEGIN (SQLite) like the SQL store's, so two
    # chunks never both read an offset and then collide; the request's session only authenticates.
    session = Session(engine.execution_options(ferry_write=True), expire_on_commit=False)
    try:
        with session.begin():
            yield session
    finally:
        session.close()


def media_type(content_type: str) -> str:
    """Return the bare, lower-case media type of a Content-Type value (parameters dropped)."""
    return content_type.split(";", 1)[0].strip().lower()


def type_allowed(content_type: str, allowed: Iterable[str]) -> bool:
    """Return whether a media type is in ``allowed``, where ``audio/*`` admits every audio type."""
    kind = media_type(content_type)
    return any(kind == a or (a.endswith("/*") and kind.startswith(a[:-1])) for a in allowed)


def _offset_problem(code: str, detail: str, offset: int, **extra) -> ServerError:
    # the HTTP layer sends ``offset`` back as tus's Upload-Offset header too
    return ServerError(code, detail, offset=offset, **extra)


def start_upload(engine: Engine, sha256: str, size: int, content_type: str, *, max_bytes: int,
                 allowed_types: Iterable[str]) -> Blob:
    """Declare a blob; return it, complete if the server has it already, else with its committed offset."""
    allowed_types = list(allowed_types)
    if not type_allowed(content_type, allowed_types):
        raise ServerError("blob-type-not-allowed", f"Attachments of type {content_type!r} are not accepted.",
                       errors=[{"pointer": "/content_type", "detail": "one of " + ", ".join(allowed_types)}],
                       allowed=allowed_types)
    if size > max_bytes:
        raise ServerError("blob-too-large", f"Attachments are at most {max_bytes} bytes.",
                       errors=[{"pointer": "/size", "detail": f"at most {max_bytes}"}], max_bytes=max_bytes)
    with _writing(engine) as session:
        # Two phones may declare the same photo at once: the second waits, then reuses the row.
        insert_missing(session, Blob, sha256=sha256, size=size, content_type=media_type(content_type),
                       received=0, complete=False, created_at=utcnow())
        blob = session.get(Blob, sha256, populate_existing=True)
        if not blob.complete and blob.size != size:
            if blob.received:
                raise ServerError("conflict", f"An upload of this hash with {blob.size} bytes is under way.",
                               errors=[{"pointer": "/size", "detail": f"under way with {blob.size}"}])
            blob.size, blob.content_type = size, media_type(content_type)
    return blob


def upload_state(session: Session, sha256: str) -> Blob:
    """Return a blob with its committed offset, or raise ``not-found``."""
    blob = session.get(Blob, sha256, populate_existing=True)
    if blob is None:
        raise ServerError("not-found", f"No blob {sha256}; declare it with POST /api/v1/blobs first.")
    return blob


def check_chunk(chunk: bytes, checksum: str | None, *, max_chunk: int) -> None:
    """Refuse a chunk over ``max_chunk`` bytes or one whose ``Upload-Checksum`` does not match."""
    if len(chunk) > max_chunk:
        raise ServerError("chunk-too-large", f"Send chunks of at most {max_chunk} bytes.",
                       max_chunk_bytes=max_chunk)
    if checksum is None:
        return
    algorithm, _, encoded = checksum.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise ServerError("bad-request", "Upload-Checksum must be 'sha256 <base64 of the chunk's digest>'.")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise ServerError("bad-request", "The Upload-Checksum digest is not base64.") from None
    if digest != hashlib.sha256(chunk).digest():
        raise ServerError("chunk-checksum-mismatch", "The chunk was damaged on the way; it was discarded, "
                       "send it again.")


def append_chunk(engine: Engine, sha256: str, offset: int, chunk: bytes, *, checksum: str | None = None,
                 max_chunk: int) -> Blob:
    """Commit ``chunk`` at ``offset``; verify the whole blob when it is the last one. Return the blob."""
    check_chunk(chunk, checksum, max_chunk=max_chunk)
    with _writing(engine) as session:
        blob = session.scalar(select(Blob).where(Blob.sha256 == sha256).with_for_update())
        if blob is None:
            raise ServerError("not-found", f"No blob {sha256}; declare it with POST /api/v1/blobs first.")
        if blob.complete or offset != blob.received:
            raise _offset_problem("upload-offset-mismatch", f"The server has {blob.received} bytes of this "
                                  "blob; resume from there.", blob.received)
        if offset + len(chunk) > blob.size:
            raise ServerError("chunk-too-large",
                              f"The chunk runs past the declared size ({blob.size} bytes).",
                              max_chunk_bytes=max_chunk)
        if not chunk:
            return blob
        session.add(BlobChunk(sha256=sha256, offset=offset, data=chunk))
        blob.received = offset + len(chunk)
        corrupt = False
        if blob.received == blob.size:
            corrupt = _digest(session, sha256) != sha256
            if corrupt:
                # Start again from zero rather than keep bytes that are wrong somewhere.
                session.execute(delete(BlobChunk).where(BlobChunk.sha256 == sha256))
                blob.received = 0
            else:
                blob.complete = True
    if corrupt:
        raise _offset_problem("blob-hash-mismatch", "The uploaded bytes do not have the declared sha256; "
                              "the upload was reset, send it again from offset 0.", 0)
    return blob


def _digest(session: Session, sha256: str) -> str:
    session.flush()
    digest = hashlib.sha256()
    for data in session.scalars(select(BlobChunk.data).where(BlobChunk.sha256 == sha256)
                                .order_by(BlobChunk.offset)):
        digest.update(data)
    return digest.hexdigest()


def read_blob(session: Session, sha256: str) -> tuple[Blob, bytes]:
    """Return a complete blob and its bytes; an unfinished upload is ``blob-incomplete``."""
    blob = upload_state(session, sha256)
    if not blob.complete:
        raise _offset_problem("blob-incomplete", f"Only {blob.received} of {blob.size} bytes have arrived.",
                              blob.received)
    data = b"".join(session.scalars(select(BlobChunk.data).where(BlobChunk.sha256 == sha256)
                                    .order_by(BlobChunk.offset)))
    return blob, data
