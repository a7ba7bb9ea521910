"""The sync engine's ``Store`` on SQLAlchemy: SQLite and PostgreSQL behind one implementation.

The store owns its sessions (one per thread), apart from Flask-SQLAlchemy's request session, so
an operation's transaction is exactly the engine's: effect, ledger row and ack commit together.
Writers serialise on the ``changes`` counter row (PostgreSQL) or take the write lock at BEGIN
(SQLite), so seq order is commit order and a pull never skips a late commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
import uuid
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager

from sqlalchemy import JSON
from sqlalchemy import String
from sqlalchemy import any_
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm import defer
from sqlalchemy.sql import Select

from server.forms import registry as form_registry
from server.models import Blob
from server.models import BucketChange
from server.models import BucketHorizon
from server.models import Counter
from server.models import DeviceSync
from server.models import QuarantinedSubmission
from server.models import Respondent
from server.models import ServerState
from server.models import Submission
from server.models import SubmissionConflict
from server.models import SubmissionRevision
from server.models import SyncOp
from server.models import next_seq
from server.models.forms import Form as FormRow
from server.models.forms import FormVersion as FormVersionRow
from server.models.submissions import BUMP_COUNTER
from server.models.submissions import insert_missing
from server.reports import data as analysis_data
from server.sync import buckets
from server.sync import bulk
from server.sync import direct
from server.sync.write_turns import WriteTurns
from server.sync.write_turns import checkpoint_after
from sync.errors import AlreadyResolved
from sync.errors import NotFound
from sync.errors import StoreUnavailable
from sync.errors import WriteConflict
from sync.store import AnalysisRow
from sync.store import Change
from sync.store import Conflict
from sync.store import DeviceState
from sync.store import FormVersion
from sync.store import OpRecord
from sync.store import QuarantineItem
from sync.store import Revision
from sync.store import SubmissionHead
from sync.store import WriteBatch

_PAGE_ROWS = 200

# The look-ups every push makes, built once with bound parameters: building a statement is most of a small
# look-up's cost (a select by key, SQLite, in-process: 73 µs built on each call, 26 µs built once).
_OPS = SyncOp.__table__
_HEADS = Submission.__table__
_REVISIONS = SubmissionRevision.__table__
_DEVICE_SYNC = DeviceSync.__table__


def _by_keys(*columns, key) -> dict[str, Select]:
    """A select of rows by a list of keys (bound as ``ids``), by dialect name.

    Each gets the list as one parameter, so the statement's text is the same on every call: an expanded ``IN``
    of a push's 100 keys was rendered again by SQLAlchemy on each call and, on PostgreSQL, converted again by
    psycopg (a statement too long for its cache). PostgreSQL binds an array
    (``key = ANY(%(ids)s::VARCHAR[])``, 0.60 → 0.25 ms of CPU a look-up of 100 keys), SQLite a JSON list
    (``key IN (SELECT value FROM json_each(?))``, which still searches the key's index: 0.114 → 0.054 ms). No
    VARCHAR length in the array's cast, which would cut a longer key to match a stored one.
    """
    return {dialect: select(*columns).where(clause) for dialect, clause in _keys_in(key, "ids").items()}


def _keys_in(key, name: str) -> dict:
    """``key`` among a list bound as ``name``, by dialect name, as ``_by_keys`` binds it."""
    return {"postgresql": key == any_(bindparam(name, type_=postgresql.ARRAY(String()))),
            "sqlite": key.in_(select(literal_column("value")).select_from(
                func.json_each(bindparam(name, type_=JSON))))}


# _FIND_OPS and _FIND_DEVICE_STATE select whole tables, whose columns are their records' fields in order
# (OpRecord, DeviceState: tests/server/test_direct_statements.py): a record is made from a row by position
_FIND_OPS = _by_keys(_OPS, key=_OPS.c.op_id)
_FIND_HEADS = _by_keys(_HEADS, key=_HEADS.c.id)
# A revision is found by its submission: nothing indexes the revisions' op ids (migration 0019), which only
# pick among a submission's few revisions
_FIND_REVISION_OWNERS = {
    dialect: select(_REVISIONS.c.op_id, _REVISIONS.c.submission_id).where(
        _keys_in(_REVISIONS.c.submission_id, "subs")[dialect], _keys_in(_REVISIONS.c.op_id, "ids")[dialect])
    for dialect in ("postgresql", "sqlite")}
_FIND_DEVICE_STATE = select(_DEVICE_SYNC).where(_DEVICE_SYNC.c.device_id == bindparam("device_id"))
_FIND_EPOCH = select(ServerState.epoch).where(ServerState.id == 1)
_FIND_FORM_VERSION = (
    select(FormVersionRow.id, FormVersionRow.state, FormVersionRow.content_hash).join(FormRow)
    .where(FormRow.form_id == bindparam("form_id"), FormVersionRow.version == bindparam("version")))


# The columns a push batch's rows are staged with counted from 1 and sent moved by the batch's seq offset
_OFFSET = ("seq",)


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def _shallow(record) -> dict:
    """A dataclass record's fields as a dict of the same values (the device row and changed heads of a push).

    Not ``dataclasses.asdict``, which deep-copies every answer document (a third of the batch's time when the
    batch write was introduced, 7980a06); and the field names are looked up once per class
    (``dataclasses.fields`` on each call: 3.9 against 2.2 µs a record).
    """
    return {name: getattr(record, name) for name in _field_names(type(record))}


def _upsert_device_statement(dialect_insert):
    # sets what a DeviceState carries (all it inserts), never a column it would leave out
    statement = dialect_insert(_DEVICE_SYNC)
    fields = [name for name in _field_names(DeviceState) if name != "device_id"]
    return statement.on_conflict_do_update(index_elements=["device_id"],
                                           set_={name: statement.excluded[name] for name in fields})


# A push's device row, inserted or updated, by dialect.
_UPSERT_DEVICE = {"sqlite": _upsert_device_statement(sqlite_insert),
                  "postgresql": _upsert_device_statement(postgresql_insert)}


@dataclasses.dataclass(frozen=True)
class StoredFormVersion:
    """A stored form version as the engine sees it: its state and its compiled validator."""

    state: str
    form: object

    def validate(self, answers: dict):
        """Return the problems of ``answers`` under this version."""
        return self.form.validate(answers)

    def analysis_values(self, answers: dict) -> dict | None:
        """Return the ``respondents`` values of valid answers (None: not a scored form, or unplaceable)."""
        return analysis_data.analysis_values(self.form, answers)


def _unique_violation(exc: IntegrityError) -> bool:
    # 23P01: on PostgreSQL the ledger's op ids and the heads' ids are kept unique by
    # exclusion constraints (server/models/submissions.py), which refuse a duplicate with their own code
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("23505", "23P01") or "UNIQUE constraint failed" in str(exc.orig)


class SqlStore:
    """A ``sync.store.Store`` over a SQLAlchemy engine; safe to share between threads."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._writer = engine.execution_options(ferry_write=True)
        # PostgreSQL: one snapshot for a whole pull, which never waits for writers.
        self._reader = (engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                        if engine.dialect.name == "postgresql" else engine.execution_options(ferry_read=True))
        self._local = threading.local()
        # SQLite: writers take turns handed over at once, not after the busy handler's sleeps
        self._turns = WriteTurns.for_engine(engine)
        # the push's statements built per dialect (_by_keys, _UPSERT_DEVICE) are picked by this name
        self._dialect = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
        # SQLite's writers take their turn as the transaction begins; PostgreSQL's, at the counter step
        self.locks_at_begin = self._dialect == "sqlite"

    # -- sessions ----------------------------------------------------------------------------
    @property
    def _session(self) -> Session:
        session = getattr(self._local, "session", None)
        if session is None:
            raise RuntimeError("this store method runs inside store.transaction() or store.snapshot()")
        return session

    def _writing(self) -> Session:
        if getattr(self._local, "readonly", False):
            raise RuntimeError("this store method needs store.transaction()")
        return self._session

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Open one write transaction: commit on clean exit, roll back on any exception."""
        if getattr(self._local, "session", None) is not None:
            raise RuntimeError("transactions do not nest")
        session = Session(self._writer, expire_on_commit=False, autoflush=True)
        self._local.session, self._local.readonly, self._local.connection = session, False, None
        try:
            with self._turns.turn(), session.begin():
                yield
        except IntegrityError as exc:
            if _unique_violation(exc):
                raise WriteConflict("a concurrent request wrote the same row") from exc
            raise
        except OperationalError as exc:
            raise StoreUnavailable(f"the database failed transiently: {exc.orig}") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable("the database connection was lost") from exc
            raise
        finally:
            session.close()
            self._local.session = self._local.connection = None
        if self._turns.checkpoint_due():
            checkpoint_after(self.engine)  # committed, turn given back: the copy blocks no other writer

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Open a consistent read-only view; inside a transaction, read the transaction's own writes."""
        if getattr(self._local, "session", None) is not None:
            yield
            return
        session = Session(self._reader, expire_on_commit=False)
        self._local.session, self._local.readonly, self._local.connection = session, True, None
        try:
            with session.begin():
                yield
        except OperationalError as exc:
            raise StoreUnavailable(f"the database failed transiently: {exc.orig}") from exc
        finally:
            session.close()
            self._local.session, self._local.readonly, self._local.connection = None, False, None

    def _connection(self) -> Connection:
        """The transaction's connection, asked of the session once: ``Session.connection()`` goes through the
        ORM's transaction-state checks on every call, and a push asks for it a dozen times. Within one
        transaction the session's answer never changes (a savepoint is on the same connection). Counted with
        callgrind (in-process, PostgreSQL): a push of 5 submissions, 12.0 → 11.8 million instructions of the
        worker's; a push of 100, 87.2 → 86.9."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._session.connection()
        return connection

    def _direct(self, statement, values: dict | None = None) -> list[tuple]:
        """The rows of one of a push's fixed statements, sent straight to the driver (``direct``)."""
        return direct.rows(self._connection(), statement, values)

    def _flush(self) -> None:
        try:
            self._session.flush()
        except IntegrityError as exc:
            if _unique_violation(exc):
                raise WriteConflict("a concurrent request wrote the same row") from exc
            raise

    # -- the server's identity -----------------------------------------------------------------
    def epoch(self) -> str:
        """Return the server epoch, minting one on a database that has none."""
        found = self._direct(_FIND_EPOCH)
        if found:
            return found[0][0]
        # Minted in a transaction of its own where one can run beside this one: a write transaction that
        # rolls back (a push batch sent one by one) would take the epoch with it after the push had used it.
        # SQLite's writer holds the lock from BEGIN, so a second writer would wait on it: minted here.
        if getattr(self._local, "readonly", False) or not self.locks_at_begin:
            with self._aside() as session:
                return self._ensure_epoch(session)
        return self._ensure_epoch(self._session)

    @contextmanager
    def _aside(self) -> Iterator[Session]:
        session = Session(self._writer)
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @staticmethod
    def _ensure_epoch(session: Session) -> str:
        insert_missing(session, ServerState, id=1, epoch=uuid.uuid4().hex)
        return session.scalar(select(ServerState.epoch).where(ServerState.id == 1))

    def start_new_epoch(self) -> str:
        """Mint and store a new epoch (after a restore)."""
        session = self._writing()
        row = session.get(ServerState, 1)
        epoch = uuid.uuid4().hex
        if row is None:
            session.add(ServerState(id=1, epoch=epoch))
        else:
            row.epoch = epoch
        self._flush()
        return epoch

    def next_seq(self) -> int:
        """Return the next commit-ordered seq; the counter row stays locked until commit."""
        return next_seq(self._writing())

    def reserve_seqs(self, count: int) -> range:
        """Return the next ``count`` seqs in one counter step (locked until commit, as ``next_seq``)."""
        session = self._writing()
        stepped = self._direct(BUMP_COUNTER, {"counter": "changes", "step": count})
        # none: the counter's first use on this database, whose row next_seq creates
        last = stepped[0][0] if stepped else next_seq(session, count=count)
        return range(last - count + 1, last + 1)

    def current_seq(self) -> int:
        """Return the highest seq visible here."""
        return self._session.scalar(select(Counter.value).where(Counter.name == "changes")) or 0

    # -- devices -------------------------------------------------------------------------------
    def device_state(self, device_id: str) -> DeviceState | None:
        """Return a device's sync state."""
        # straight to the driver, no ORM object: every push reads it (twice)
        found = self._direct(_FIND_DEVICE_STATE, {"device_id": str(device_id)})
        return DeviceState(*found[0]) if found else None

    def save_device_state(self, state: DeviceState) -> None:
        """Insert or replace a device's sync state."""
        self._writing().merge(DeviceSync(**_shallow(state)))
        self._flush()

    # -- the op ledger -------------------------------------------------------------------------
    def find_op(self, op_id: str) -> OpRecord | None:
        """Return the ledger row of an op."""
        row = self._session.get(SyncOp, op_id)
        if row is None:
            return None
        return OpRecord(op_id=row.op_id, device_id=row.device_id, payload_hash=row.payload_hash,
                        result=row.result, seq=row.seq, received_at=row.received_at)

    def insert_op(self, record: OpRecord) -> None:
        """Insert a ledger row; its op id's uniqueness (a key; on PostgreSQL an exclusion constraint) makes a
        second insert a ``WriteConflict``."""
        self._writing().add(SyncOp(**dataclasses.asdict(record)))
        self._flush()

    def find_ops(self, op_ids: Sequence[str]) -> dict[str, OpRecord]:
        """Return the ledger rows of the recorded ones of ``op_ids`` (one query)."""
        if not op_ids:
            return {}
        rows = self._direct(_FIND_OPS[self._dialect], {"ids": list(op_ids)})
        return {row[0]: OpRecord(*row) for row in rows}

    # -- submissions ---------------------------------------------------------------------------
    def submission(self, submission_id: str) -> SubmissionHead | None:
        """Return a submission's head."""
        row = self._session.get(Submission, submission_id)
        if row is None:
            return None
        return SubmissionHead(id=row.id, form_id=row.form_id, form_version=row.form_version,
                              device_id=row.device_id, head=row.head, revisions=row.revisions,
                              deleted=row.deleted, seq=row.seq)

    def save_submission(self, head: SubmissionHead) -> None:
        """Insert or update a submission's head."""
        session = self._writing()
        row = session.get(Submission, head.id)
        if row is None:
            session.add(Submission(**dataclasses.asdict(head)))
        else:
            for name, value in dataclasses.asdict(head).items():
                setattr(row, name, value)
        self._flush()

    def insert_revision(self, revision: Revision) -> None:
        """Insert an immutable revision."""
        values = dataclasses.asdict(revision)
        values["blobs"] = list(values["blobs"])
        self._writing().add(SubmissionRevision(**values))
        self._flush()

    def revisions(self, submission_id: str) -> list[Revision]:
        """Return a submission's revisions in receipt (seq) order."""
        rows = self._session.scalars(select(SubmissionRevision).where(
            SubmissionRevision.submission_id == submission_id).order_by(SubmissionRevision.seq))
        return [_revision(row) for row in rows]

    def submissions(self, submission_ids: Sequence[str]) -> dict[str, SubmissionHead]:
        """Return the stored heads of ``submission_ids`` (one query)."""
        if not submission_ids:
            return {}
        rows = self._session.execute(_FIND_HEADS[self._dialect], {"ids": list(submission_ids)})
        return {row.id: SubmissionHead(**row._mapping) for row in rows}

    def revision_owners(self, op_ids: Sequence[str], submission_ids: Sequence[str]) -> dict[str, str]:
        """Return the submission of each stored revision among ``op_ids`` that is of ``submission_ids`` (one
        query, by the submissions' index)."""
        if not op_ids or not submission_ids:
            return {}
        rows = self._session.execute(_FIND_REVISION_OWNERS[self._dialect],
                                     {"ids": list(op_ids), "subs": list(submission_ids)})
        return {op_id: submission_id for op_id, submission_id in rows}

    def stage_batch(self, batch: WriteBatch) -> None:
        """Make the batch's inserts into the driver's parameters now, before its transaction: the answers'
        JSON text and the other bind processing then run outside the write lock."""
        batch.staged = self._staged(batch)

    def _staged(self, batch: WriteBatch) -> dict[str, bulk.Staged | None]:
        dialect = self.engine.dialect

        def rows(model, records: list) -> bulk.Staged | None:
            # the records' fields are the table's columns (a tuple of blobs, issues or revisions is written as
            # the same JSON array a list is)
            return bulk.stage(dialect, model.__table__, records, fields=_field_names(type(records[0])),
                              moved=_OFFSET) if records else None

        analysis_rows = [analysis_data.row_values(r) for r in batch.analysis.values() if r is not None]
        return {"ops": rows(SyncOp, batch.ops), "revisions": rows(SubmissionRevision, batch.revisions),
                "new_heads": rows(Submission, batch.new_heads),
                "analysis": bulk.stage(dialect, Respondent.__table__, analysis_rows, moved=_OFFSET),
                "quarantine": rows(QuarantinedSubmission, batch.quarantine),
                "conflicts": rows(SubmissionConflict, batch.conflicts)}

    def write_batch(self, batch: WriteBatch) -> None:
        """Write a push batch with one multi-row insert per table (Core, no ORM units of work), each record's
        seq moved by the batch's ``seq_offset``; its inserts as ``stage_batch`` made them, when it did."""
        session = self._writing()
        staged = batch.staged if batch.staged is not None else self._staged(batch)
        moved = dict.fromkeys(_OFFSET, batch.seq_offset) if batch.seq_offset else None

        def insert(name: str) -> None:
            if staged[name] is not None:
                bulk.send(self._connection(), staged[name], moved)

        try:
            insert("ops")
            insert("revisions")
            insert("new_heads")
            created = {h.id for h in batch.new_heads}
            replaced = [sub for sub in batch.analysis if sub not in created]
            if replaced:
                # before the heads move on: a row is found by its head's seq (server/models/respondents.py)
                session.execute(analysis_data.DELETE_ROWS_OF, {"ids": replaced})
            if batch.changed_heads:
                table = Submission.__table__
                changed = ("form_id", "form_version", "head", "revisions", "deleted", "seq")
                session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
                    {c: bindparam(f"b_{c}") for c in changed}),
                    [{f"b_{k}": v for k, v in _shallow(h).items()} | {"b_seq": h.seq + batch.seq_offset}
                     for h in batch.changed_heads])
            insert("analysis")
            insert("quarantine")
            insert("conflicts")
            if batch.device is not None:
                self._upsert_device(batch.device)
        except IntegrityError as exc:
            if _unique_violation(exc):
                raise WriteConflict("a concurrent request wrote the same row") from exc
            raise

    def _upsert_device(self, state: DeviceState) -> None:
        self._direct(_UPSERT_DEVICE[self._dialect], _shallow(state))

    # -- analysis rows -------------------------------------------------------------------------
    def save_analysis_row(self, submission_id: str, row: AnalysisRow | None) -> None:
        """Insert, replace or remove the ``respondents`` row of a submission."""
        analysis_data.save_row(self._writing(), submission_id, row)
        self._flush()

    def analysis_row(self, submission_id: str) -> AnalysisRow | None:
        """Return the ``respondents`` row of a submission."""
        return analysis_data.load_row(self._session, submission_id)

    # -- quarantine and conflicts --------------------------------------------------------------
    def quarantine(self, item: QuarantineItem) -> bool:
        """Insert an item unless its key is stored already."""
        session = self._writing()
        if session.get(QuarantinedSubmission, item.key) is not None:
            return False
        values = dataclasses.asdict(item)
        values["issues"] = list(values["issues"])
        session.add(QuarantinedSubmission(**values))
        self._flush()
        return True

    def quarantined(self, *, include_resolved: bool = False) -> list[QuarantineItem]:
        """Return quarantined items in seq order."""
        query = select(QuarantinedSubmission).order_by(QuarantinedSubmission.seq)
        if not include_resolved:
            query = query.where(QuarantinedSubmission.resolved_at.is_(None))
        return [_quarantine_item(row) for row in self._session.scalars(query)]

    def resolve_quarantined(self, key: str, resolution: str, at: dt.datetime) -> None:
        """Mark an unresolved item resolved; ``AlreadyResolved`` when it is resolved already."""
        self._resolve(QuarantinedSubmission, key, "quarantined item", resolved_at=at, resolution=resolution)

    def _resolve(self, model, key: str, what: str, **values) -> None:
        """One statement, conditional on the row being unresolved: of two coordinators resolving one item
        at once, the second waits on the row and then finds it resolved, so its transaction (an
        acceptance's or a decision's revision with it) rolls back rather than resolving it again."""
        table = model.__table__
        resolved = self._writing().execute(
            update(table).where(table.c.key == key, table.c.resolved_at.is_(None)).values(**values)).rowcount
        if resolved:
            return
        if self._session.get(model, key) is None:
            raise NotFound(f"No {what} {key!r}.")
        raise AlreadyResolved(f"The {what} {key!r} was resolved already.")

    def add_conflict(self, conflict: Conflict) -> None:
        """Insert a conflict flag."""
        values = dataclasses.asdict(conflict)
        values["revisions"] = list(values["revisions"])
        self._writing().add(SubmissionConflict(**values))
        self._flush()

    def conflicts(self, *, include_resolved: bool = False) -> list[Conflict]:
        """Return conflicts in seq order."""
        query = select(SubmissionConflict).order_by(SubmissionConflict.seq)
        if not include_resolved:
            query = query.where(SubmissionConflict.resolved_at.is_(None))
        return [Conflict(key=r.key, submission_id=r.submission_id, kind=r.kind, revisions=tuple(r.revisions),
                         seq=r.seq, created_at=r.created_at, resolved_at=r.resolved_at)
                for r in self._session.scalars(query)]

    def resolve_conflict(self, key: str, at: dt.datetime) -> None:
        """Mark an unresolved conflict resolved; ``AlreadyResolved`` when it is resolved already."""
        self._resolve(SubmissionConflict, key, "conflict", resolved_at=at)

    # -- what submissions are checked against ----------------------------------------------------
    def form_version(self, form_id: str, version: str) -> FormVersion | None:
        """Return a stored form version (any state) with its compiled validator, or None."""
        # The definition is big and needed only when the compiled form is not cached: a push reads
        # the state and content hash (twice: before and under the write lock), no ORM object.
        found = self._direct(_FIND_FORM_VERSION, {"form_id": form_id, "version": version})
        if not found:
            return None
        (row_id, state, content_hash), = found
        form = form_registry.compiled_form(content_hash)
        if form is None:
            row = self._session.get(FormVersionRow, row_id, options=[defer(FormVersionRow.source)])
            form = form_registry.load_form(row)
        return StoredFormVersion(state=state, form=form)

    def missing_blobs(self, hashes: Sequence[str]) -> list[str]:
        """Return those of ``hashes`` not completely uploaded, in the given order."""
        if not hashes:
            return []
        complete = set(self._session.scalars(select(Blob.sha256).where(
            Blob.sha256.in_(list(hashes)), Blob.complete.is_(True))))
        return [h for h in hashes if h not in complete]

    # -- buckets ---------------------------------------------------------------------------------
    def record_change(self, bucket: str, key: str, data: dict | None) -> int | None:
        """Upsert the latest change of ``key`` with a new seq (the feeds' one write path)."""
        try:
            return buckets.put(self._writing(), bucket, key, data)
        except IntegrityError as exc:
            if _unique_violation(exc):
                raise WriteConflict("a concurrent request wrote the same row") from exc
            raise

    def changes_after(self, bucket: str, after: int, max_bytes: int) -> tuple[list[Change], bool]:
        """Return the bucket's changes after ``after`` in seq order, within ``max_bytes``."""
        page: list[Change] = []
        used = 0
        last = after
        while True:
            rows = self._session.scalars(
                select(BucketChange).where(BucketChange.bucket == bucket, BucketChange.seq > last)
                .order_by(BucketChange.seq).limit(_PAGE_ROWS)).all()
            for row in rows:
                if page and used + row.size > max_bytes:
                    return page, True
                page.append(Change(bucket=row.bucket, key=row.key, seq=row.seq, data=row.data, size=row.size))
                used += row.size
                last = row.seq
            if len(rows) < _PAGE_ROWS:
                return page, False

    def horizon(self, bucket: str) -> int:
        """Return the highest seq of a purged tombstone of ``bucket``."""
        return self._session.scalar(select(BucketHorizon.horizon).where(BucketHorizon.bucket == bucket)) or 0

    def purge_tombstones(self, upto: int) -> int:
        """Delete tombstones with seq <= ``upto`` and raise their buckets' horizons."""
        session = self._writing()
        highest = session.execute(
            select(BucketChange.bucket, func.max(BucketChange.seq))
            .where(BucketChange.data.is_(None), BucketChange.seq <= upto).group_by(BucketChange.bucket)).all()
        for bucket, seq in highest:
            row = session.get(BucketHorizon, bucket)
            if row is None:
                session.add(BucketHorizon(bucket=bucket, horizon=seq))
            else:
                row.horizon = max(row.horizon, seq)
        doomed = delete(BucketChange).where(BucketChange.data.is_(None), BucketChange.seq <= upto)
        result = session.execute(doomed)
        self._flush()
        return result.rowcount


def _revision(row: SubmissionRevision) -> Revision:
    return Revision(op_id=row.op_id, submission_id=row.submission_id, number=row.number,
                    device_id=row.device_id, kind=row.kind, base=row.base, form_id=row.form_id,
                    form_version=row.form_version, answers=row.answers, received_at=row.received_at,
                    seq=row.seq, device_time=row.device_time, skew_s=row.skew_s, blobs=tuple(row.blobs),
                    note=row.note)


def _quarantine_item(row: QuarantinedSubmission) -> QuarantineItem:
    return QuarantineItem(key=row.key, op_id=row.op_id, device_id=row.device_id, reason=row.reason,
                          issues=tuple(row.issues), payload=row.payload, received_at=row.received_at,
                          seq=row.seq, submission_id=row.submission_id, form_id=row.form_id,
                          form_version=row.form_version, resolved_at=row.resolved_at,
                          resolution=row.resolution)
