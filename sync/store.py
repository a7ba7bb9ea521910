"""The Store interface the sync engine runs on, and the records it reads and writes.

Transaction contract (every implementation, memory or SQL):

- ``transaction()`` is one database transaction: everything written inside commits together on a
  clean exit and is rolled back on any exception. The engine writes a push batch in one
  (``write_batch``), or, falling back, each operation in its own, so an operation's effect, its
  ledger row, its analysis row and the device's ack commit together or not at all.
- ``snapshot()`` is a read-only, consistent view (PostgreSQL: REPEATABLE READ; SQLite: one read
  transaction). It must not wait for open writers: a pull runs while pushes are in flight.
- ``next_seq()`` is serialised (the SQL store's ``Counter`` row lock, held to commit), so seq order
  is commit order: a reader that has seen seq ``s`` committed has seen every seq below ``s``.
- A unique violation caused by a concurrent transaction (same ``op_id``, same submission id) is
  raised as ``WriteConflict`` (from the write or from the transaction's exit); the engine retries.
  A transient failure (lock timeout, lost connection, serialisation failure) is raised as
  ``StoreUnavailable``; the engine answers ``retry``. Anything else is a bug and propagates.
- Records are immutable values; a store returns copies, never live objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from dataclasses import field
from typing import Protocol
from typing import runtime_checkable


@dataclass(frozen=True)
class DeviceRef:
    """The authenticated device a request comes from (the server resolves it from the bearer token)."""

    id: str
    user_id: str | int | None = None
    revoked: bool = False
    #: The other devices of the same enumerator: a correction or delete may come from any of them.
    peers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DeviceState:
    """What the server knows of a device's sync: last acknowledged op, epoch, clock skew."""

    device_id: str
    epoch: str | None = None
    last_op: str | None = None
    last_n: int | None = None
    clock_skew_s: int | None = None
    last_seen_at: dt.datetime | None = None


@dataclass(frozen=True)
class OpRecord:
    """The ledger row of an applied operation: its payload hash and the result it was given."""

    op_id: str
    device_id: str
    payload_hash: str
    result: dict
    seq: int
    received_at: dt.datetime


@dataclass(frozen=True)
class Revision:
    """One immutable revision of a submission; ``answers`` is None for a tombstone (delete)."""

    op_id: str
    submission_id: str
    number: int
    device_id: str
    kind: str
    base: str | None
    form_id: str
    form_version: str
    answers: dict | None
    received_at: dt.datetime
    seq: int
    device_time: str | None = None
    skew_s: int | None = None
    blobs: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class SubmissionHead:
    """A submission's current state: which revision wins (by server receipt order) and whether deleted."""

    id: str
    form_id: str
    form_version: str
    device_id: str
    head: str
    revisions: int
    deleted: bool
    seq: int


@dataclass(frozen=True)
class AnalysisRow:
    """What the analysis reads of a submission's head revision, kept with the head in its transaction.

    ``values`` come from the form version (``FormVersion.analysis_values``); ``seq`` is the head's.
    """

    submission_id: str
    form_id: str
    form_version: str
    seq: int
    values: dict


@dataclass(frozen=True)
class QuarantineItem:
    """A payload that reached the server but was not accepted, kept whole with its reasons."""

    key: str
    op_id: str
    device_id: str
    reason: str
    issues: tuple[dict, ...]
    payload: bytes
    received_at: dt.datetime
    seq: int
    submission_id: str | None = None
    form_id: str | None = None
    form_version: str | None = None
    resolved_at: dt.datetime | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class Conflict:
    """Two revisions of one submission made without seeing each other; a coordinator decides."""

    key: str
    submission_id: str
    kind: str
    revisions: tuple[str, ...]
    seq: int
    created_at: dt.datetime
    resolved_at: dt.datetime | None = None


@dataclass(frozen=True)
class Change:
    """The latest change of one key of a bucket; ``data`` None is a tombstone."""

    bucket: str
    key: str
    seq: int
    data: dict | None
    size: int


@dataclass
class WriteBatch:
    """Everything a push batch writes, in the device's order, for one set-based ``Store.write_batch``."""

    ops: list[OpRecord] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)
    new_heads: list[SubmissionHead] = field(default_factory=list)
    changed_heads: list[SubmissionHead] = field(default_factory=list)
    analysis: dict[str, AnalysisRow | None] = field(default_factory=dict)
    quarantine: list[QuarantineItem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    device: DeviceState | None = None
    # Added to every seq of the batch's records as they are written: a batch is decided before the write
    # lock, with seqs counted from 1, and its block of seqs is reserved under the lock.
    seq_offset: int = 0
    # What ``Store.stage_batch`` made of the batch, in the store's own form (None: not staged)
    staged: object = None


class Issue(Protocol):
    """One answer-validation problem (``forms`` provides these)."""

    code: str
    pointer: str
    message: str


class FormVersion(Protocol):
    """A published form version as the engine sees it (``forms.Form`` provides this)."""

    state: str  # draft, open, closing or closed

    def validate(self, answers: dict) -> Sequence[Issue]:
        """Return the problems of ``answers`` under this version (empty when valid)."""

    def analysis_values(self, answers: dict) -> dict | None:
        """Return the analysis values of valid ``answers``, or None when this version is not analysed."""


@runtime_checkable
class Store(Protocol):
    """Everything the engine needs from storage; see the module docstring for the contract."""

    #: True when a write transaction excludes other writers from its start (SQLite, the memory store); False
    #: when only from its first ``next_seq``/``reserve_seqs`` (PostgreSQL's counter row), so that reads and
    #: work before that step run while others write. A push then decides its batch inside its write
    #: transaction rather than in a read snapshot before it.
    locks_at_begin: bool

    # transactions and the server's identity
    def transaction(self) -> AbstractContextManager[None]:
        """Open one write transaction: commit on clean exit, roll back on exception."""

    def snapshot(self) -> AbstractContextManager[None]:
        """Open a consistent read-only view that does not wait for writers."""

    def epoch(self) -> str:
        """Return the server epoch: new whenever the database is restored or replaced."""

    def start_new_epoch(self) -> str:
        """Mint and store a new epoch (run after a restore); return it. In a transaction."""

    def next_seq(self) -> int:
        """Return the next commit-ordered sequence number. In a transaction; serialises writers."""

    def reserve_seqs(self, count: int) -> range:
        """Return the next ``count`` seqs at once (one counter step), as ``next_seq`` would one by one."""

    def current_seq(self) -> int:
        """Return the highest seq committed and visible in this snapshot or transaction."""

    # devices
    def device_state(self, device_id: str) -> DeviceState | None:
        """Return the sync state of a device, or None before its first sync."""

    def save_device_state(self, state: DeviceState) -> None:
        """Insert or replace the sync state of a device. In a transaction."""

    # the op ledger
    def find_op(self, op_id: str) -> OpRecord | None:
        """Return the ledger row of ``op_id``, or None."""

    def insert_op(self, record: OpRecord) -> None:
        """Insert a ledger row; ``WriteConflict`` if the op_id is taken (unique constraint)."""

    def find_ops(self, op_ids: Sequence[str]) -> dict[str, OpRecord]:
        """Return the ledger rows of those of ``op_ids`` that are recorded, by op id (one look-up)."""

    # submissions
    def submission(self, submission_id: str) -> SubmissionHead | None:
        """Return a submission's head, or None."""

    def save_submission(self, head: SubmissionHead) -> None:
        """Insert (``WriteConflict`` if the id is taken by a concurrent insert) or update a head."""

    def insert_revision(self, revision: Revision) -> None:
        """Insert a revision; revisions are never updated or deleted."""

    def revisions(self, submission_id: str) -> list[Revision]:
        """Return a submission's revisions in receipt (seq) order."""

    def submissions(self, submission_ids: Sequence[str]) -> dict[str, SubmissionHead]:
        """Return the heads of those of ``submission_ids`` that are stored, by id (one look-up)."""

    def revision_owners(self, op_ids: Sequence[str], submission_ids: Sequence[str]) -> dict[str, str]:
        """Return the submission id of each of ``op_ids`` that is a stored revision of one of
        ``submission_ids`` (one look-up: a store may find revisions by their submission only)."""

    def stage_batch(self, batch: WriteBatch) -> None:
        """Prepare what writing ``batch`` takes that needs no database (into ``batch.staged``), before its
        transaction, so that less of it runs inside the write lock. ``write_batch`` works without it."""

    def write_batch(self, batch: WriteBatch) -> None:
        """Write a push batch: ledger rows, revisions, heads, analysis rows, quarantine, conflicts and
        the device's state, set-based, each seq moved by ``batch.seq_offset``. In a transaction;
        ``WriteConflict`` on a unique violation."""

    # the analysis rows (what reports read, one per analysed submission head)
    def save_analysis_row(self, submission_id: str, row: AnalysisRow | None) -> None:
        """Insert or replace the analysis row of a submission; None removes it. In a transaction."""

    def analysis_row(self, submission_id: str) -> AnalysisRow | None:
        """Return the analysis row of a submission, or None."""

    # quarantine and conflicts (the coordinator's queue)
    def quarantine(self, item: QuarantineItem) -> bool:
        """Insert an item unless its key is stored already; return True when inserted."""

    def quarantined(self, *, include_resolved: bool = False) -> list[QuarantineItem]:
        """Return quarantined items in seq order, unresolved only unless asked."""

    def resolve_quarantined(self, key: str, resolution: str, at: dt.datetime) -> None:
        """Mark an unresolved item resolved (``NotFound`` if absent, ``AlreadyResolved`` if resolved already:
        two coordinators' acceptances of one item must not both stand). In a transaction."""

    def add_conflict(self, conflict: Conflict) -> None:
        """Insert a conflict flag."""

    def conflicts(self, *, include_resolved: bool = False) -> list[Conflict]:
        """Return conflicts in seq order, unresolved only unless asked."""

    def resolve_conflict(self, key: str, at: dt.datetime) -> None:
        """Mark an unresolved conflict resolved (``NotFound`` if absent, ``AlreadyResolved`` if resolved
        already: of two coordinators' decisions, the second must fail rather than silently win). In a
        transaction."""

    # what the engine checks submissions against
    def form_version(self, form_id: str, version: str) -> FormVersion | None:
        """Return a form version (any state), or None when unknown."""

    def missing_blobs(self, hashes: Sequence[str]) -> list[str]:
        """Return those of ``hashes`` whose blob is not completely uploaded, in the given order."""

    # buckets (what devices pull)
    def record_change(self, bucket: str, key: str, data: dict | None) -> int | None:
        """Upsert the latest change of ``key`` with a new ``next_seq()``; None deletes. Return the seq.

        Writing the value the key holds already (compared as JSON; a tombstone of an absent key
        included) changes nothing and returns None: feeds may republish freely.
        """

    def changes_after(self, bucket: str, after: int, max_bytes: int) -> tuple[list[Change], bool]:
        """Return the bucket's changes with seq > ``after`` in seq order, within ``max_bytes``.

        The sizes of the returned changes sum to at most ``max_bytes``, except that the first change
        is always returned (a page must make progress); the flag says whether more remain.
        """

    def horizon(self, bucket: str) -> int:
        """Return the highest seq of a purged tombstone of ``bucket`` (0 when none was purged)."""

    def purge_tombstones(self, upto: int) -> int:
        """Delete tombstones with seq <= ``upto``, raising their buckets' horizons; return the count."""
