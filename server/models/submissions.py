"""Submissions as the sync engine stores them: heads, immutable revisions, quarantine, conflicts.

Ids are the strings devices send (client-generated UUIDs, op ids up to 64 characters). Device ids
are kept as text without a foreign key: the engine only ever sees devices the server authenticated,
and the ledger must outlive a deleted device.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import column
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from server.extensions import db
from server.models.types import JsonDocument
from server.models.types import NullableJson
from server.models.types import NullableWrittenJson
from server.models.types import UTCDateTime
from server.models.types import WrittenJson

ID = String(64)


def _unique_by_hash(table: str, key: str) -> tuple:
    """A table's random ids, unique: a key on SQLite; on PostgreSQL an exclusion constraint over a hash
    index, with no primary key. Random ids land on random leaves of a B-tree that PostgreSQL's buffers could
    not hold beside the other tables' at a million rows; nothing reads these ids but by equality, and a hash
    index of them is under half a B-tree's size (the ledger's op ids: migration 0016, the revisions' until
    0019; the heads' ids: 0017). The ORM still knows a row by this id.
    """
    return (PrimaryKeyConstraint(key, name=f"pk_{table}").ddl_if(dialect="sqlite"),
            ExcludeConstraint((column(key), "="), using="hash",
                              name=f"ex_{table}_{key}").ddl_if(dialect="postgresql"))


class Counter(db.Model):
    """A named, serialised counter: the row lock makes commit order equal sequence order."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def next_seq(session: Session, name: str = "changes", count: int = 1) -> int:
    """Return the next value of counter ``name`` inside the caller's transaction (``count``: advance
    it by that many at once and return the last of them).

    A database sequence would hand out numbers in start order, not commit order, so a reader
    could move its cursor past a write that commits later; the row lock here prevents that.
    """
    values = {"counter": name, "step": count}
    result = session.execute(BUMP_COUNTER, values).scalar_one_or_none()
    if result is None:
        # First use on this database: two writers may both get here, so create the row in a way
        # that lets the second wait for the first instead of failing on the primary key.
        insert_missing(session, Counter, name=name, value=0)
        result = session.execute(BUMP_COUNTER, values).scalar_one()
    return result


# Every push steps the counter: the statement is built once, and the sync store sends it straight to the
# driver (server/sync/direct.py)
_COUNTERS = Counter.__table__
BUMP_COUNTER = (update(_COUNTERS).where(_COUNTERS.c.name == bindparam("counter"))
                .values(value=_COUNTERS.c.value + bindparam("step")).returning(_COUNTERS.c.value))


def insert_missing(session: Session, model, **values) -> None:
    """Insert a row unless its key exists, waiting for (not failing on) a concurrent insert."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


class ServerState(db.Model):
    """The server's identity: its epoch changes whenever the database is restored or replaced."""

    __tablename__ = "server_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[str] = mapped_column(String(64))


class DeviceSync(db.Model):
    """What the server knows of a device's sync: last acknowledged op, epoch, clock skew."""

    __tablename__ = "device_sync"

    device_id: Mapped[str] = mapped_column(ID, primary_key=True)
    epoch: Mapped[str | None] = mapped_column(String(64))
    last_op: Mapped[str | None] = mapped_column(ID)
    last_n: Mapped[int | None] = mapped_column(BigInteger)
    clock_skew_s: Mapped[int | None] = mapped_column(BigInteger)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SyncOp(db.Model):
    """The ledger: one row per operation ever applied, with the result it was given.

    Read only by op id (a push's look-up of its operations), so that is its one index. Its device and seq are
    kept for people reading the ledger, not indexed (migration 0018): every push wrote both indexes and no
    query used them. The seq is unique all the same: the counter hands each out once, and each ledger row's
    seq is also its revision's or its quarantined item's, which are unique where they are stored.
    """

    __tablename__ = "sync_ops"
    __table_args__ = _unique_by_hash("sync_ops", "op_id")

    op_id: Mapped[str] = mapped_column(ID, nullable=False)
    device_id: Mapped[str] = mapped_column(ID)
    payload_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict] = mapped_column(WrittenJson)
    seq: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Submission(db.Model):
    """A submission's head: which revision wins (by server receipt order) and whether deleted."""

    __tablename__ = "submissions"
    __table_args__ = _unique_by_hash("submissions", "id")

    id: Mapped[str] = mapped_column(ID, nullable=False)
    form_id: Mapped[str] = mapped_column(String(100), index=True)
    form_version: Mapped[str] = mapped_column(String(100))
    device_id: Mapped[str] = mapped_column(ID, index=True)
    head: Mapped[str] = mapped_column(ID)
    revisions: Mapped[int]
    deleted: Mapped[bool]
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)


class SubmissionRevision(db.Model):
    """One immutable revision of a submission; ``answers`` is null for a tombstone."""

    __tablename__ = "submission_revisions"
    # Read only by equality (a submission's history, the first receipt of some): on PostgreSQL a hash index,
    # less than half a B-tree's size for these random ids (32 against 73 MB at 1,000,000), so that fewer of
    # its pages fall out of the buffers a push's inserts need (migration 0015)
    # Nothing indexes its op ids (migration 0019): a revision is found by its submission (``HEAD_REVISION``),
    # and every op id a push writes is a ledger row's first, kept unique there. With both indexed, a pushed
    # revision landed on a random page of each. The ORM still knows a row by its op id.
    __table_args__ = (
        Index("ix_submission_revisions_submission_id", "submission_id", postgresql_using="hash"),
    )

    op_id: Mapped[str] = mapped_column(ID, nullable=False)
    submission_id: Mapped[str] = mapped_column(ID)
    number: Mapped[int]
    device_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(10))
    base: Mapped[str | None] = mapped_column(ID)
    form_id: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[str] = mapped_column(String(100))
    answers: Mapped[dict | None] = mapped_column(NullableWrittenJson)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    # The device's clock is data, never an ordering key: phones in the field have wrong clocks.
    device_time: Mapped[str | None] = mapped_column(String(40))
    skew_s: Mapped[int | None] = mapped_column(BigInteger)
    blobs: Mapped[list] = mapped_column(WrittenJson)
    note: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"primary_key": [op_id]}


# A head's revision, joined by its submission's index, then its op id among that submission's revisions
HEAD_REVISION = and_(SubmissionRevision.submission_id == Submission.id,
                     SubmissionRevision.op_id == Submission.head)


class QuarantinedSubmission(db.Model):
    """A payload that reached the server but was not accepted, kept whole with its reasons."""

    __tablename__ = "quarantined_submissions"

    key: Mapped[str] = mapped_column(ID, primary_key=True)
    op_id: Mapped[str] = mapped_column(ID)
    device_id: Mapped[str] = mapped_column(ID, index=True)
    reason: Mapped[str] = mapped_column(String(60))
    issues: Mapped[list] = mapped_column(JsonDocument)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    submission_id: Mapped[str | None] = mapped_column(ID, index=True)
    form_id: Mapped[str | None] = mapped_column(String(100))
    form_version: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(String(200))


class SubmissionConflict(db.Model):
    """Two revisions of one submission made without seeing each other; a coordinator reviews it."""

    __tablename__ = "submission_conflicts"

    key: Mapped[str] = mapped_column(ID, primary_key=True)
    submission_id: Mapped[str] = mapped_column(ID, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    revisions: Mapped[list] = mapped_column(JsonDocument)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class BucketChange(db.Model):
    """The latest change of one key of a pull bucket; ``data`` null is a tombstone."""

    __tablename__ = "bucket_changes"
    __table_args__ = (Index("ix_bucket_changes_bucket_seq", "bucket", "seq"),)

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    data: Mapped[dict | None] = mapped_column(NullableJson)
    size: Mapped[int]


class BucketHorizon(db.Model):
    """The highest seq of a purged tombstone of a bucket: older cursors must reset."""

    __tablename__ = "bucket_horizons"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    horizon: Mapped[int] = mapped_column(BigInteger)


class Blob(db.Model):
    """An attachment addressed by its sha256, once its bytes have been checked against it.

    Uploads in progress are each device's own (:class:`BlobUpload`); rows with ``complete`` false are
    left only by servers before migration 0010 and are replaced by the first upload that completes.
    """

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    # Bytes committed so far: a client asks for this offset and resumes from it.
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    complete: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class BlobChunk(db.Model):
    """One chunk of a complete blob; chunks are joined when the blob is read."""

    __tablename__ = "blob_chunks"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class BlobUpload(db.Model):
    """One device's unfinished upload of an attachment, with its own declared size and bytes.

    Per device, so that no device can block or spoil another's upload of the same file by declaring a
    wrong size or sending wrong bytes first: only an upload whose bytes match the sha256 becomes the blob.
    """

    __tablename__ = "blob_uploads"
    __table_args__ = (UniqueConstraint("sha256", "device_id", name="uq_blob_uploads_sha256_device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    # Bytes committed so far: the device asks for this offset and resumes from it.
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class BlobUploadChunk(db.Model):
    """One committed chunk of an upload in progress."""

    __tablename__ = "blob_upload_chunks"

    upload_id: Mapped[int] = mapped_column(ForeignKey("blob_uploads.id", ondelete="CASCADE"),
                                           primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
