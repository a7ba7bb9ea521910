"""Attachments addressed by sha256, uploaded in resumable chunks (tus-style; docs/protocol.md step 9).

Each chunk is committed with the upload's new offset in its own short write transaction before the
device hears back, so a connection cut on 2G never costs more than the chunk in flight. Each device
uploads into its own ``BlobUpload`` (its declared size, its bytes), so one device cannot block or spoil
another's upload of the same file. An upload becomes the blob only after its whole sha256 has been
checked: there is never a corrupt complete blob, and once one device's copy is in, every device is done.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server.models import Blob
from server.models import BlobChunk
from server.models import BlobUpload
from server.models import BlobUploadChunk
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


@dataclass(frozen=True)
class UploadState:
    """Where an attachment's upload stands, as its device (or a reader) sees it."""

    sha256: str
    size: int
    content_type: str
    received: int
    complete: bool


def _state_of(row: Blob | BlobUpload) -> UploadState:
    complete = isinstance(row, Blob) and row.complete
    return UploadState(row.sha256, row.size, row.content_type, row.size if complete else row.received,
                       complete)


def _complete_blob(session: Session, sha256: str) -> Blob | None:
    return session.scalar(select(Blob).where(Blob.sha256 == sha256, Blob.complete.is_(True)))


def _upload(session: Session, sha256: str, device_id, *, lock: bool = False) -> BlobUpload | None:
    query = select(BlobUpload).where(BlobUpload.sha256 == sha256, BlobUpload.device_id == device_id)
    return session.scalar(query.with_for_update() if lock else query)


def start_upload(engine: Engine, sha256: str, size: int, content_type: str, *, device_id, max_bytes: int,
                 allowed_types: Iterable[str]) -> UploadState:
    """Declare a blob for ``device_id``'s upload; complete if the server has it, else the device's offset."""
    allowed_types = list(allowed_types)
    if not type_allowed(content_type, allowed_types):
        raise ServerError("blob-type-not-allowed", f"Attachments of type {content_type!r} are not accepted.",
                       errors=[{"pointer": "/content_type", "detail": "one of " + ", ".join(allowed_types)}],
                       allowed=allowed_types)
    if size > max_bytes:
        raise ServerError("blob-too-large", f"Attachments are at most {max_bytes} bytes.",
                       errors=[{"pointer": "/size", "detail": f"at most {max_bytes}"}], max_bytes=max_bytes)
    with _writing(engine) as session:
        blob = _complete_blob(session, sha256)
        if blob is not None:
            return _state_of(blob)
        # A phone declaring the same photo twice at once: the second waits, then reuses the row.
        insert_missing(session, BlobUpload, sha256=sha256, device_id=device_id, size=size,
                       content_type=media_type(content_type), received=0, created_at=utcnow())
        upload = _upload(session, sha256, device_id, lock=True)
        if upload.size != size:
            # The device changed its mind about its own file: its bytes so far are for another size.
            session.execute(delete(BlobUploadChunk).where(BlobUploadChunk.upload_id == upload.id))
            upload.size, upload.received = size, 0
        upload.content_type = media_type(content_type)
        return _state_of(upload)


def upload_state(session: Session, sha256: str, *, device_id=None) -> UploadState:
    """The complete blob, else ``device_id``'s upload of it, else ``not-found``."""
    blob = _complete_blob(session, sha256)
    if blob is not None:
        return _state_of(blob)
    upload = _upload(session, sha256, device_id) if device_id is not None else None
    if upload is None:
        raise ServerError("not-found", f"No blob {sha256}; declare it with POST /api/v1/blobs first.")
    return _state_of(upload)


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


def append_chunk(engine: Engine, sha256: str, offset: int, chunk: bytes, *, device_id,
                 checksum: str | None = None, max_chunk: int) -> UploadState:
    """Commit ``chunk`` at ``offset`` of ``device_id``'s upload; when it is the last, check the whole
    sha256 and make the upload the blob. Return where the upload stands."""
    check_chunk(chunk, checksum, max_chunk=max_chunk)
    with _writing(engine) as session:
        upload = _upload(session, sha256, device_id, lock=True)  # waits for a twin chunk in flight
        blob = _complete_blob(session, sha256)
        if blob is not None:  # this or another device's copy is in: nothing more to send
            raise _offset_problem("upload-offset-mismatch", "The server has this whole blob.", blob.size)
        if upload is None:
            raise ServerError("not-found", f"No blob {sha256}; declare it with POST /api/v1/blobs first.")
        if offset != upload.received:
            raise _offset_problem("upload-offset-mismatch", f"The server has {upload.received} bytes of this "
                                  "blob; resume from there.", upload.received)
        if offset + len(chunk) > upload.size:
            raise ServerError("chunk-too-large",
                              f"The chunk runs past the declared size ({upload.size} bytes).",
                              max_chunk_bytes=max_chunk)
        if not chunk:
            return _state_of(upload)
        session.add(BlobUploadChunk(upload_id=upload.id, offset=offset, data=chunk))
        upload.received = offset + len(chunk)
        if upload.received < upload.size:
            return _state_of(upload)
        if _digest(session, upload) != sha256:
            # Start again from zero rather than keep bytes that are wrong somewhere.
            session.execute(delete(BlobUploadChunk).where(BlobUploadChunk.upload_id == upload.id))
            upload.received = 0
            corrupt = True
        else:
            blob = _adopt(session, upload)
            corrupt = False
    if corrupt:
        raise _offset_problem("blob-hash-mismatch", "The uploaded bytes do not have the declared sha256; "
                              "the upload was reset, send it again from offset 0.", 0)
    return _state_of(blob)


def _adopt(session: Session, upload: BlobUpload) -> Blob:
    """Make a checked upload the blob (replacing an unfinished blob a server before 0010 left)."""
    insert_missing(session, Blob, sha256=upload.sha256, size=upload.size, content_type=upload.content_type,
                   received=0, complete=False, created_at=utcnow())
    blob = session.scalar(select(Blob).where(Blob.sha256 == upload.sha256).with_for_update())
    if not blob.complete:
        session.execute(delete(BlobChunk).where(BlobChunk.sha256 == upload.sha256))
        session.execute(insert(BlobChunk).from_select(
            ["sha256", "offset", "data"],
            select(literal(upload.sha256), BlobUploadChunk.offset, BlobUploadChunk.data)
            .where(BlobUploadChunk.upload_id == upload.id)))
        blob.size, blob.content_type, blob.received, blob.complete = (upload.size, upload.content_type,
                                                                     upload.size, True)
    session.execute(delete(BlobUploadChunk).where(BlobUploadChunk.upload_id == upload.id))
    session.delete(upload)
    return blob


def _digest(session: Session, upload: BlobUpload) -> str:
    session.flush()
    digest = hashlib.sha256()
    for data in session.scalars(select(BlobUploadChunk.data).where(BlobUploadChunk.upload_id == upload.id)
                                .order_by(BlobUploadChunk.offset)):
        digest.update(data)
    return digest.hexdigest()


def read_blob(session: Session, sha256: str) -> tuple[Blob, bytes]:
    """Return a complete blob and its bytes; one still being uploaded is ``blob-incomplete``."""
    blob = _complete_blob(session, sha256)
    if blob is None:
        uploading = session.scalar(select(BlobUpload.sha256).where(BlobUpload.sha256 == sha256).limit(1))
        if uploading is None and session.get(Blob, sha256) is None:
            raise ServerError("not-found", f"No blob {sha256}; declare it with POST /api/v1/blobs first.")
        raise _offset_problem("blob-incomplete", "The attachment has not been completely uploaded yet.", 0)
    data = b"".join(session.scalars(select(BlobChunk.data).where(BlobChunk.sha256 == sha256)
                                    .order_by(BlobChunk.offset)))
    return blob, data
