"""An in-memory Store for unit tests: copy-on-write transactions, one writer at a time.

A transaction works on a private copy of the tables and swaps it in on commit, so an exception
leaves nothing behind; readers use the last committed tables and never wait for a writer. The
writer lock is held from the start of a transaction to its commit, which (like the SQL store's
counter row lock) makes seq order equal commit order.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager

from sync.errors import AlreadyResolved
from sync.errors import NotFound
from sync.errors import WriteConflict
from sync.protocol import change_size
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

_TABLES = ("ops", "submissions", "revisions", "analysis", "quarantine", "conflicts", "changes", "devices",
           "horizons", "meta")


class MemoryStore:
    """A ``Store`` kept in dictionaries; thread-safe; ``backup``/``restore`` emulate a database restore."""

    locks_at_begin = True  # a transaction holds the writer lock from its start

    def __init__(self, *, forms: Callable[[str, str], FormVersion | None] | None = None,
                 blobs: set[str] | None = None):
        self._forms = forms or (lambda form_id, version: None)
        self.blobs = blobs if blobs is not None else set()
        self._write = threading.RLock()
        self._local = threading.local()
        self._committed = {name: {} for name in _TABLES}
        self._committed["meta"] = {"epoch": uuid.uuid4().hex, "seq": 0}

    # -- transactions ------------------------------------------------------------------
    def _tables(self) -> dict:
        return getattr(self._local, "tables", None) or self._committed

    def _writing(self) -> dict:
        tables = getattr(self._local, "tables", None)
        if tables is None or getattr(self._local, "readonly", False):
            raise RuntimeError("this store method needs store.transaction()")
        return tables

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Open a write transaction: commit on clean exit, discard on exception."""
        if getattr(self._local, "tables", None) is not None:
            raise RuntimeError("transactions do not nest")
        with self._write:
            self._local.tables = {name: dict(table) for name, table in self._committed.items()}
            self._local.readonly = False
            try:
                yield
                self._committed = self._local.tables
            finally:
                self._local.tables = None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Open a read-only view of the last committed state."""
        if getattr(self._local, "tables", None) is not None:
            yield  # inside a transaction, reads see the transaction's own writes
            return
        self._local.tables, self._local.readonly = self._committed, True
        try:
            yield
        finally:
            self._local.tables, self._local.readonly = None, False

    # -- server ------------------------------------------------------------------------
    def epoch(self) -> str:
        """Return the server epoch."""
        return self._tables()["meta"]["epoch"]

    def start_new_epoch(self) -> str:
        """Mint a new epoch."""
        epoch = uuid.uuid4().hex
        self._writing()["meta"]["epoch"] = epoch
        return epoch

    def next_seq(self) -> int:
        """Return the next seq (the writer lock serialises transactions)."""
        meta = self._writing()["meta"]
        meta["seq"] += 1
        return meta["seq"]

    def reserve_seqs(self, count: int) -> range:
        """Return the next ``count`` seqs."""
        meta = self._writing()["meta"]
        first = meta["seq"] + 1
        meta["seq"] += count
        return range(first, first + count)

    def current_seq(self) -> int:
        """Return the highest visible seq."""
        return self._tables()["meta"]["seq"]

    def backup(self) -> dict:
        """Return a copy of the committed state, as a nightly database backup would."""
        return copy.deepcopy(self._committed)

    def restore(self, backup: dict) -> str:
        """Replace the state with ``backup`` under a new epoch, as the restore runbook does."""
        with self._write:
            self._committed = copy.deepcopy(backup)
            with self.transaction():
                return self.start_new_epoch()

    # -- devices -----------------------------------------------------------------------
    def device_state(self, device_id: str) -> DeviceState | None:
        """Return a device's sync state."""
        return self._tables()["devices"].get(device_id)

    def save_device_state(self, state: DeviceState) -> None:
        """Store a device's sync state."""
        self._writing()["devices"][state.device_id] = state

    # -- ledger --------------------------------------------------------------------------
    def find_op(self, op_id: str) -> OpRecord | None:
        """Return the ledger row of an op."""
        return self._tables()["ops"].get(op_id)

    def insert_op(self, record: OpRecord) -> None:
        """Insert a ledger row; the op id is unique."""
        ops = self._writing()["ops"]
        if record.op_id in ops:
            raise WriteConflict(f"op {record.op_id} is recorded already")
        ops[record.op_id] = record

    def find_ops(self, op_ids: Sequence[str]) -> dict[str, OpRecord]:
        """Return the ledger rows of the recorded ones of ``op_ids``."""
        ops = self._tables()["ops"]
        return {op_id: ops[op_id] for op_id in op_ids if op_id in ops}

    # -- submissions ---------------------------------------------------------------------
    def submission(self, submission_id: str) -> SubmissionHead | None:
        """Return a submission's head."""
        return self._tables()["submissions"].get(submission_id)

    def save_submission(self, head: SubmissionHead) -> None:
        """Insert or update a submission's head."""
        self._writing()["submissions"][head.id] = head

    def insert_revision(self, revision: Revision) -> None:
        """Insert a revision (keyed by its op id)."""
        revisions = self._writing()["revisions"]
        if revision.op_id in revisions:
            raise WriteConflict(f"revision {revision.op_id} exists")
        revisions[revision.op_id] = revision

    def revisions(self, submission_id: str) -> list[Revision]:
        """Return a submission's revisions in seq order."""
        found = [r for r in self._tables()["revisions"].values() if r.submission_id == submission_id]
        return sorted(found, key=lambda r: r.seq)

    def submissions(self, submission_ids: Sequence[str]) -> dict[str, SubmissionHead]:
        """Return the stored heads of ``submission_ids``."""
        heads = self._tables()["submissions"]
        return {sub: heads[sub] for sub in submission_ids if sub in heads}

    def revision_owners(self, op_ids: Sequence[str], submission_ids: Sequence[str]) -> dict[str, str]:
        """Return the submission of each stored revision among ``op_ids`` that is of ``submission_ids``."""
        revisions, among = self._tables()["revisions"], set(submission_ids)
        return {op_id: revisions[op_id].submission_id for op_id in op_ids
                if op_id in revisions and revisions[op_id].submission_id in among}

    def stage_batch(self, batch: WriteBatch) -> None:
        """Nothing to prepare: the memory store writes the batch's records as they are."""

    def write_batch(self, batch: WriteBatch) -> None:
        """Write a push batch (the transaction's copy is discarded whole if anything fails)."""
        if batch.seq_offset:
            batch = _moved(batch, batch.seq_offset)
        for record in batch.ops:
            self.insert_op(record)
        for revision in batch.revisions:
            self.insert_revision(revision)
        for head in batch.new_heads:
            if head.id in self._writing()["submissions"]:
                raise WriteConflict(f"submission {head.id} exists")
            self.save_submission(head)
        for head in batch.changed_heads:
            self.save_submission(head)
        for submission_id, row in batch.analysis.items():
            self.save_analysis_row(submission_id, row)
        for item in batch.quarantine:
            self.quarantine(item)
        for conflict in batch.conflicts:
            self.add_conflict(conflict)
        if batch.device is not None:
            self.save_device_state(batch.device)

    # -- analysis rows ----------------------------------------------------------------------
    def save_analysis_row(self, submission_id: str, row: AnalysisRow | None) -> None:
        """Insert or replace a submission's analysis row; None removes it."""
        table = self._writing()["analysis"]
        if row is None:
            table.pop(submission_id, None)
        else:
            table[submission_id] = dataclasses.replace(row, values=copy.deepcopy(row.values))

    def analysis_row(self, submission_id: str) -> AnalysisRow | None:
        """Return a submission's analysis row."""
        return self._tables()["analysis"].get(submission_id)

    # -- quarantine and conflicts -----------------------------------------------------------
    def quarantine(self, item: QuarantineItem) -> bool:
        """Insert a quarantined item unless its key exists."""
        table = self._writing()["quarantine"]
        if item.key in table:
            return False
        table[item.key] = item
        return True

    def quarantined(self, *, include_resolved: bool = False) -> list[QuarantineItem]:
        """Return quarantined items in seq order."""
        items = [q for q in self._tables()["quarantine"].values()
                 if include_resolved or q.resolved_at is None]
        return sorted(items, key=lambda q: q.seq)

    def resolve_quarantined(self, key: str, resolution: str, at: dt.datetime) -> None:
        """Mark a quarantined item resolved."""
        table = self._writing()["quarantine"]
        if key not in table:
            raise NotFound(f"No quarantined item {key!r}.")
        if table[key].resolved_at is not None:
            raise AlreadyResolved(f"The quarantined item {key!r} was resolved already.")
        table[key] = dataclasses.replace(table[key], resolved_at=at, resolution=resolution)

    def add_conflict(self, conflict: Conflict) -> None:
        """Insert a conflict."""
        self._writing()["conflicts"][conflict.key] = conflict

    def conflicts(self, *, include_resolved: bool = False) -> list[Conflict]:
        """Return conflicts in seq order."""
        items = [c for c in self._tables()["conflicts"].values() if include_resolved or c.resolved_at is None]
        return sorted(items, key=lambda c: c.seq)

    def resolve_conflict(self, key: str, at: dt.datetime) -> None:
        """Mark a conflict resolved."""
        table = self._writing()["conflicts"]
        if key not in table:
            raise NotFound(f"No conflict {key!r}.")
        if table[key].resolved_at is not None:
            raise AlreadyResolved(f"The conflict {key!r} was resolved already.")
        table[key] = dataclasses.replace(table[key], resolved_at=at)

    # -- forms and blobs -------------------------------------------------------------------
    def form_version(self, form_id: str, version: str) -> FormVersion | None:
        """Return a form version from the injected catalogue."""
        return self._forms(form_id, version)

    def missing_blobs(self, hashes: Sequence[str]) -> list[str]:
        """Return the hashes not among the stored blobs."""
        return [h for h in hashes if h not in self.blobs]

    # -- buckets ---------------------------------------------------------------------------
    def record_change(self, bucket: str, key: str, data: dict | None) -> int | None:
        """Upsert the latest change of a key with a new seq; None when the key holds that value already."""
        data = None if data is None else json.loads(json.dumps(data))
        current = self._writing()["changes"].get((bucket, key))
        if (current.data if current is not None else None) == data:
            return None
        seq = self.next_seq()
        self._writing()["changes"][(bucket, key)] = Change(bucket, key, seq, data, change_size(key, data))
        return seq

    def changes_after(self, bucket: str, after: int, max_bytes: int) -> tuple[list[Change], bool]:
        """Return a byte-bounded run of a bucket's changes after a seq."""
        pending = sorted((c for (b, _), c in self._tables()["changes"].items()
                          if b == bucket and c.seq > after), key=lambda c: c.seq)
        page, used = [], 0
        for change in pending:
            if page and used + change.size > max_bytes:
                return page, True
            page.append(change)
            used += change.size
        return page, False

    def horizon(self, bucket: str) -> int:
        """Return the tombstone horizon of a bucket."""
        return self._tables()["horizons"].get(bucket, 0)

    def purge_tombstones(self, upto: int) -> int:
        """Delete tombstones up to a seq and raise every horizon."""
        tables = self._writing()
        doomed = [c for c in tables["changes"].values() if c.data is None and c.seq <= upto]
        for change in doomed:
            del tables["changes"][(change.bucket, change.key)]
            horizon = tables["horizons"].get(change.bucket, 0)
            tables["horizons"][change.bucket] = max(horizon, change.seq)
        return len(doomed)


def _moved(batch: WriteBatch, offset: int) -> WriteBatch:
    """``batch`` with ``offset`` added to each record's seq (as the SQL store adds it to the seq columns)."""
    def move(records):
        return [dataclasses.replace(r, seq=r.seq + offset) for r in records]

    return dataclasses.replace(
        batch, ops=move(batch.ops), revisions=move(batch.revisions), new_heads=move(batch.new_heads),
        changed_heads=move(batch.changed_heads), quarantine=move(batch.quarantine),
        conflicts=move(batch.conflicts), seq_offset=0,
        analysis={sub: None if row is None else dataclasses.replace(row, seq=row.seq + offset)
                  for sub, row in batch.analysis.items()})
