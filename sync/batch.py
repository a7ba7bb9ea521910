"""A push batch in one transaction: decide each operation first, then write them all at once.

Applying operations one transaction each cost a commit, a dozen statements and the write lock per
operation (issue 13). Here a batch goes in three steps:

1. ``prepare``, before any write lock, in a read snapshot: each operation is checked against its form
   version (state and answers, ``submissions.form_issues``) and a valid one gets its analysis values. This
   is most of the CPU, and it runs while other workers write.
2. ``decide``, in the same snapshot: one look-up of the known operation ids and of the heads and base
   revisions that corrections and deletions name; then every operation is decided in the device's order, in
   memory, with the same functions the one-by-one path uses (``submissions.structural_issues``,
   ``plan_write``, ``quarantine_item``), into a ``WriteBatch`` whose seqs count from 1. The decision depends
   on nothing but those reads (its ``Reads``), the operations and the time of receipt.
3. ``apply``, one transaction: the known operation ids read again, one block of seqs (one counter step,
   which takes the write lock), the other reads again under the lock. Where a read differs from step 2's,
   the batch is decided again from what is read now, so the decision is always the one the lock's reads
   give; then the batch is written set-based (``Store.write_batch``, its seqs moved to the block) with one
   device update.

Step 2 ran inside the write lock until 2026-12-05. In-process on SQLite (``tests/bench/profile_sync_push.py``,
300,000 stored) it took 19–20 µs of wall time a submission, of a transaction of 133–148, during which no
other worker could write. Since then ``Store.stage_batch`` also makes the batch's inserts into the driver's
parameters (the answers' JSON text among them) before the lock: the batch's write inside the lock went from
60 to 42–44 µs a submission. On PostgreSQL psycopg still dumped those parameters (and wrote the JSON text)
as each insert was sent, inside the lock, until the SQL store moved that to staging too (2026-12-06).

Where the write lock is the counter step, not BEGIN (``Store.locks_at_begin`` false: PostgreSQL),
``decide_and_apply`` runs the three steps in the write transaction itself: steps 1 and 2 still run before
the lock, and the snapshot's transaction and its second look-up of the ledger are saved (a push of 100 made
3 transactions and 14 statements; now 2 and 13, the request's token look-up included).

The batch commits whole or not at all, so each operation's effect, ledger row, analysis row and ack
still commit together. Whatever is out of the ordinary returns None, and the engine applies the
operations one at a time, each in its own transaction (the reference semantics, where one failing
operation never blocks or rolls back another): an op id reused for another payload, a form version
whose state changed since step 1, a write refused by a concurrent twin (``WriteConflict``) or a
transient failure (``StoreUnavailable``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from sync import submissions
from sync.errors import StoreUnavailable
from sync.errors import WriteConflict
from sync.protocol import CHANGING_KINDS
from sync.protocol import CREATED
from sync.protocol import DUPLICATE
from sync.protocol import QUARANTINED
from sync.protocol import REJECTED
from sync.protocol import Operation
from sync.protocol import OpResult
from sync.store import DeviceRef
from sync.store import DeviceState
from sync.store import OpRecord
from sync.store import Store
from sync.store import SubmissionHead
from sync.store import WriteBatch


class _OneByOne(Exception):
    """This batch needs the one-by-one path (raised inside the transaction, which rolls back)."""


@dataclass  # not frozen: made once per operation (see sync.protocol.Operation)
class Prepared:
    """An operation decided before the write lock: its form issues and analysis values."""

    op: Operation
    form_issues: tuple[dict, ...] = ()
    values: dict | None = None


def acked(state: DeviceState, op: Operation | None, *, now: dt.datetime, skew_s: int | None,
          epoch: str) -> DeviceState:
    """Return a device's state once ``op`` (None: only a visit) is applied and acknowledged."""
    changes: dict = {"epoch": epoch, "last_seen_at": now}
    if skew_s is not None:
        changes["clock_skew_s"] = skew_s
    # A late duplicate of an old op must not move the ack backwards.
    if op is not None and (op.n is None or state.last_n is None or op.n >= state.last_n):
        changes.update(last_op=op.id, last_n=op.n)
    return dataclasses.replace(state, **changes)


def prepare(store: Store, ops: list[Operation]) -> tuple[list[Prepared], dict]:
    """Check each operation's answers and compute its analysis values, outside the write lock.

    Returns the prepared operations and the state of each form version they name (None: unknown),
    which the write step checks again under the lock. Inside a snapshot already open, it reads in that.
    """
    versions: dict = {}
    prepared = []
    with store.snapshot():
        for op in ops:
            op.payload_hash  # noqa: B018 - computed (and cached) here, not under the write lock
            if op.problems or op.kind not in ("create", "correct"):
                prepared.append(Prepared(op))
                continue
            key = (op.form_id, op.form_version)
            if key not in versions:
                versions[key] = store.form_version(*key)
            version = versions[key]
            issues = submissions.form_issues(version, op)
            values = None if issues else version.analysis_values(op.answers)
            prepared.append(Prepared(op, tuple(issues), values))
    return prepared, {key: None if v is None else v.state for key, v in versions.items()}


def acked_all(state: DeviceState, ops: list[Operation], *, now: dt.datetime, skew_s: int | None,
              epoch: str) -> DeviceState:
    """Return ``acked`` applied for each of ``ops`` in turn (none: ``state``): two copies, not one an op."""
    if not ops:
        return state
    last_op, last_n = state.last_op, state.last_n
    for op in ops:
        if op.n is None or last_n is None or op.n >= last_n:  # as acked(): never backwards
            last_op, last_n = op.id, op.n
    return dataclasses.replace(acked(state, None, now=now, skew_s=skew_s, epoch=epoch),
                               last_op=last_op, last_n=last_n)


@dataclass(frozen=True)
class Applied:
    """A batch's results, and the device's state as its transaction committed it (None: none written)."""

    results: list[OpResult]
    device: DeviceState | None


@dataclass(frozen=True)
class Reads:
    """What deciding a batch reads from the store; compared, field by field, before and under the lock."""

    known: dict[str, OpRecord]  # the ledger rows of the batch's operation ids
    heads: dict[str, SubmissionHead]  # the heads that corrections and deletions name
    owners: dict[str, str]  # the submission of each base revision they name
    missing: frozenset[str]  # the attachments they list that are not uploaded whole


def _reads(store: Store, prepared: list[Prepared], known: dict[str, OpRecord]) -> Reads:
    live = [item.op for item in prepared if not item.op.problems]
    # Only the heads that corrections and deletions name: a create's submission is almost always new, and when
    # it is not, inserting its head fails on the key and the batch goes one by one (which quarantines it).
    heads = store.submissions(sorted({op.submission_id for op in live if op.kind != "create"}))
    changing = [op for op in live if op.kind in CHANGING_KINDS]
    owners = store.revision_owners(sorted({op.base for op in changing}),
                                   sorted({op.submission_id for op in changing}))
    hashes = sorted({h for op in live for h in op.blobs})
    return Reads(known, heads, owners, frozenset(store.missing_blobs(hashes) if hashes else ()))


@dataclass
class Decision:
    """A batch decided from ``reads``: what it writes (seqs counted from 1) and each operation's result."""

    prepared: list[Prepared]
    reads: Reads
    batch: WriteBatch
    results: list[OpResult]
    acknowledged: list[Operation]  # the operations whose ack the device state takes, in order

    @property
    def fresh(self) -> int:
        """The seqs the batch takes: one for each ledger row it writes."""
        return len(self.batch.ops)


def decide(store: Store, device: DeviceRef, prepared: list[Prepared], *, now: dt.datetime,
           skew_s: int | None) -> Decision | None:
    """Decide ``prepare()``d operations from what the store holds now (inside the caller's snapshot, before
    any write lock); None: the batch goes one by one."""
    try:
        known = store.find_ops([item.op.id for item in prepared])
        decision = _decided(device, prepared, _reads(store, prepared, known), now=now, skew_s=skew_s)
    except _OneByOne:
        return None
    store.stage_batch(decision.batch)  # and what writing it takes that needs no database: no lock held
    return decision


def apply(store: Store, device: DeviceRef, decision: Decision, states: dict, *, now: dt.datetime,
          skew_s: int | None, epoch: str) -> Applied | None:
    """Write a ``decide()``d batch in one transaction; return its results, or None (one by one)."""
    if not decision.fresh:  # every operation is in the ledger, which keeps what it holds: nothing to write
        return Applied(decision.results, None)
    try:
        with store.transaction():
            return _write(store, device, decision, states, now=now, skew_s=skew_s, epoch=epoch)
    except (_OneByOne, WriteConflict, StoreUnavailable):
        return None


def decide_and_apply(store: Store, device: DeviceRef, ops: list[Operation],
                     epoch_checked: Callable[[], str], *, now: dt.datetime,
                     skew_s: int | None) -> tuple[str, Applied | None]:
    """Prepare, decide and write a batch in one write transaction, for a store whose write lock is taken at
    the counter step (``locks_at_begin`` false: PostgreSQL's counter row), not as the transaction begins.

    Returns the server's epoch (``epoch_checked``, which raises when the push was made against another) and
    the batch's results, or None (one by one). All of it but the write runs before the lock, as in a read
    snapshot. Against ``decide`` then ``apply``, it saves the snapshot's BEGIN and COMMIT and a second
    look-up of the ledger; the form versions and the device's state are read before the lock and again
    under it, as there.
    """
    epoch = None
    try:
        with store.transaction():
            epoch = epoch_checked()
            prepared, states = prepare(store, ops)
            decision = decide(store, device, prepared, now=now, skew_s=skew_s)
            if decision is None:
                return epoch, None
            if not decision.fresh:  # every operation is in the ledger: nothing to write
                return epoch, Applied(decision.results, None)
            return epoch, _locked(store, device, decision, states, now=now, skew_s=skew_s, epoch=epoch)
    except (_OneByOne, WriteConflict, StoreUnavailable):
        if epoch is None:  # not even the epoch was read: the store is failing, not the batch
            raise
        return epoch, None


def _write(store: Store, device: DeviceRef, decision: Decision, states: dict, *, now: dt.datetime,
           skew_s: int | None, epoch: str) -> Applied:
    prepared, reads = decision.prepared, decision.reads
    known = store.find_ops([item.op.id for item in prepared])
    if known != reads.known:  # a twin of the batch committed since: decided again, before the counter step
        # with the other reads as they were: the count of seqs hangs on the ledger alone, and those reads are
        # made again under the lock below
        decision = _decided(device, prepared, dataclasses.replace(reads, known=known), now=now, skew_s=skew_s)
        if not decision.fresh:
            return Applied(decision.results, None)
    return _locked(store, device, decision, states, now=now, skew_s=skew_s, epoch=epoch)


def _locked(store: Store, device: DeviceRef, decision: Decision, states: dict, *, now: dt.datetime,
            skew_s: int | None, epoch: str) -> Applied:
    """Take the batch's seqs (the write lock), check what the decision read (deciding again where it moved)
    and write the batch."""
    prepared = decision.prepared
    seqs = store.reserve_seqs(decision.fresh)  # the write lock, held to commit, from here
    for (form_id, version), state in states.items():
        now_version = store.form_version(form_id, version)
        if (None if now_version is None else now_version.state) != state:
            raise _OneByOne  # published, closed or replaced since prepare(): decide each op afresh
    now_reads = _reads(store, prepared, decision.reads.known)
    if now_reads != decision.reads:  # a head or an attachment changed: decided again from what the lock sees
        decision = _decided(device, prepared, now_reads, now=now, skew_s=skew_s)
    device_id = str(device.id)
    state = store.device_state(device_id) or DeviceState(device_id=device_id)
    batch = decision.batch
    batch.device = acked_all(state, decision.acknowledged, now=now, skew_s=skew_s, epoch=epoch)
    batch.seq_offset = seqs.start - 1
    store.write_batch(batch)
    return Applied(decision.results, batch.device)


def _decided(device: DeviceRef, prepared: list[Prepared], reads: Reads, *, now: dt.datetime,
             skew_s: int | None) -> Decision:
    """Decide each operation in the device's order from ``reads`` alone (pure: no store, no lock)."""
    device_id = str(device.id)
    seqs = itertools.count(1)  # one for each operation the ledger does not hold yet
    heads, owners, missing = dict(reads.heads), dict(reads.owners), reads.missing
    acknowledged: list[Operation] = []
    batch = WriteBatch()
    new_heads: dict[str, SubmissionHead] = {}
    changed_heads: dict[str, SubmissionHead] = {}
    results = []
    recorded = dict(reads.known)  # and each op of this batch once written: a repeat is its duplicate
    for item in prepared:
        op = item.op
        record = recorded.get(op.id)
        if record is not None:
            if record.payload_hash != op.payload_hash:
                raise _OneByOne  # an op id reused for another payload: quarantined with its own key
            results.append(OpResult(op.id, DUPLICATE, {"original": record.result}))
            continue
        seq = next(seqs)
        if op.problems:
            errors = list(op.problems)
            reasons = [submissions.issue("op-invalid", e["pointer"], e["detail"]) for e in errors]
            batch.quarantine.append(submissions.quarantine_item(device_id, op, "op-invalid", reasons,
                                                                now=now, seq=seq))
            result = OpResult(op.id, REJECTED, {"code": "op-invalid", "errors": errors})
        elif op.kind in CHANGING_KINDS and (
                problem := submissions.trespass(heads.get(op.submission_id), device)) is not None:
            reasons = [submissions.issue("not-owner", problem["pointer"], problem["detail"])]
            batch.quarantine.append(submissions.quarantine_item(device_id, op, "not-owner", reasons,
                                                                now=now, seq=seq))
            result = OpResult(op.id, REJECTED, {"code": "not-owner", "errors": [problem]})
        else:
            head = heads.get(op.submission_id)
            base_known = head is not None and owners.get(op.base) == head.id
            issues = submissions.structural_issues(op, head, base_known) or list(item.form_issues)
            if issues:
                batch.quarantine.append(submissions.quarantine_item(
                    device_id, op, submissions.reason_of(issues), issues, now=now, seq=seq))
                result = OpResult(op.id, QUARANTINED, {"sub": op.submission_id, "reasons": issues})
            else:
                result = OpResult(op.id, CREATED, _plan(batch, item, head, device_id, now=now, seq=seq,
                                                        skew_s=skew_s, missing=missing,
                                                        new_heads=new_heads, changed_heads=changed_heads))
                heads[op.submission_id] = new_heads.get(op.submission_id) or changed_heads[op.submission_id]
                owners[op.id] = op.submission_id
        recorded[op.id] = OpRecord(op_id=op.id, device_id=device_id, payload_hash=op.payload_hash,
                                   result=result.to_wire(), seq=seq, received_at=now)
        batch.ops.append(recorded[op.id])
        acknowledged.append(op)
        results.append(result)
    batch.new_heads, batch.changed_heads = list(new_heads.values()), list(changed_heads.values())
    return Decision(prepared, reads, batch, results, acknowledged)


def _plan(batch: WriteBatch, item: Prepared, head: SubmissionHead | None, device_id: str, *,
          now: dt.datetime, seq: int, skew_s: int | None, missing: frozenset[str],
          new_heads: dict[str, SubmissionHead], changed_heads: dict[str, SubmissionHead]) -> dict:
    """Add what storing a checked operation writes to ``batch``; return its result details."""
    op = item.op
    written = submissions.plan_write(op, head, device_id, now=now, seq=seq, skew_s=skew_s)
    batch.revisions.append(written.revision)
    if written.new or op.submission_id in new_heads:
        new_heads[op.submission_id] = written.head  # created in this batch: inserted as it ends
    else:
        changed_heads[op.submission_id] = written.head
    if written.wins:
        batch.analysis[op.submission_id] = submissions.row_of(written.head, item.values)
    if written.conflict:
        batch.conflicts.append(written.conflict)
    details = dict(written.details)
    lacking = [h for h in op.blobs if h in missing]
    if lacking:
        details["missing_blobs"] = lacking
    return details
