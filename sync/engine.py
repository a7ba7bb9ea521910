"""The sync engine: push, pull and the coordinator's actions, over any ``Store``.

Ordering never depends on device clocks: operations are applied in the order received, revisions
win by server receipt, cursors follow the store's commit-ordered seq. Device times are data.
"""

from __future__ import annotations

import datetime as dt
import json

from sync import batch
from sync import submissions
from sync.buckets import buckets_for
from sync.errors import DeviceMismatch
from sync.errors import DeviceRevoked
from sync.errors import EpochChanged
from sync.errors import PayloadTooLarge
from sync.errors import StoreUnavailable
from sync.errors import WriteConflict
from sync.instances import read_instance
from sync.protocol import CREATED
from sync.protocol import DUPLICATE
from sync.protocol import NOT_PROCESSED
from sync.protocol import OP_ID_REUSED
from sync.protocol import QUARANTINED
from sync.protocol import REJECTED
from sync.protocol import RETRY
from sync.protocol import BucketChanges
from sync.protocol import Cursor
from sync.protocol import Limits
from sync.protocol import Operation
from sync.protocol import OpResult
from sync.protocol import PullPage
from sync.protocol import PullRequest
from sync.protocol import PushRequest
from sync.protocol import PushResponse
from sync.protocol import change_item
from sync.protocol import format_time
from sync.protocol import parse_time
from sync.store import Conflict
from sync.store import DeviceRef
from sync.store import DeviceState
from sync.store import OpRecord
from sync.store import QuarantineItem
from sync.store import Store

DEFAULT_LIMITS = Limits()
RETRY_AFTER_S = 5
_RACE_ATTEMPTS = 3


def _check_device(device: DeviceRef, claimed: str) -> None:
    if device.revoked:
        raise DeviceRevoked("This device has been revoked; keep its unsent data and call a coordinator.")
    if str(device.id) != claimed:
        raise DeviceMismatch("The request names another device than the token's.",
                             errors=[{"pointer": "/device_id", "detail": "not this token's device"}])


def clock_skew(sent_at: str | None, now: dt.datetime) -> int | None:
    """Return the device clock minus the server clock in whole seconds, or None if unreadable."""
    device_time = parse_time(sent_at)
    return None if device_time is None else round((device_time - now).total_seconds())


def _apply(store: Store, device: DeviceRef, op: Operation, *, now: dt.datetime, skew_s: int | None,
           epoch: str, checked: list[dict] | None = None) -> OpResult:
    """Apply one operation inside the caller's transaction."""
    record = store.find_op(op.id)
    if record is not None:
        if record.payload_hash == op.payload_hash:
            return OpResult(op.id, DUPLICATE, {"original": record.result})
        # The original stays untouched; the new payload is kept for a coordinator, once.
        submissions.quarantine(
            store, str(device.id), op, "op-id-reused",
            [submissions.issue("op-id-reused", "/id", "This op id was used for a different payload.")],
            now=now, seq=store.next_seq(), key=f"{op.id}~{op.payload_hash[:16]}")
        return OpResult(op.id, OP_ID_REUSED, {"code": "op-id-reused"})
    seq = store.next_seq()
    if op.problems:
        errors = list(op.problems)
        submissions.quarantine(store, str(device.id), op, "op-invalid",
                               [submissions.issue("op-invalid", e["pointer"], e["detail"]) for e in errors],
                               now=now, seq=seq)
        result = OpResult(op.id, REJECTED, {"code": "op-invalid", "errors": errors})
    elif (trespass := submissions.foreign(store, op, device)) is not None:
        submissions.quarantine(store, str(device.id), op, "not-owner",
                               [submissions.issue("not-owner", trespass["pointer"], trespass["detail"])],
                               now=now, seq=seq)
        result = OpResult(op.id, REJECTED, {"code": "not-owner", "errors": [trespass]})
    else:
        issues = submissions.check(store, op, checked)
        if issues:
            submissions.quarantine(store, str(device.id), op, submissions.reason_of(issues), issues,
                                   now=now, seq=seq)
            result = OpResult(op.id, QUARANTINED, {"sub": op.submission_id, "reasons": issues})
        else:
            details = submissions.write(store, str(device.id), op, now=now, seq=seq, skew_s=skew_s)
            result = OpResult(op.id, CREATED, details)
    store.insert_op(OpRecord(op_id=op.id, device_id=str(device.id), payload_hash=op.payload_hash,
                             result=result.to_wire(), seq=seq, received_at=now))
    _note_ack(store, device, op, now=now, skew_s=skew_s, epoch=epoch)
    return result


def _note_ack(store: Store, device: DeviceRef, op: Operation | None, *, now: dt.datetime,
              skew_s: int | None, epoch: str) -> None:
    state = store.device_state(str(device.id)) or DeviceState(device_id=str(device.id))
    store.save_device_state(batch.acked(state, op, now=now, skew_s=skew_s, epoch=epoch))


def _run(store: Store, device: DeviceRef, op: Operation, **kwargs) -> OpResult:
    """Apply one operation in its own transaction, re-running it if a concurrent twin won a race."""
    # The answers are checked before the write lock: a slow form never holds other devices' writes.
    kwargs["checked"] = submissions.answers_checked(store, op)
    for _ in range(_RACE_ATTEMPTS):
        try:
            with store.transaction():
                return _apply(store, device, op, **kwargs)
        except WriteConflict:
            continue  # the twin committed; the next attempt finds it in the ledger
    raise StoreUnavailable("The operation kept colliding with concurrent writes.", retry_after=RETRY_AFTER_S)


def _one_by_one(store: Store, device: DeviceRef, ops, **kwargs) -> list[OpResult]:
    """Apply operations each in its own transaction, stopping (in order) at a transient failure."""
    results: list[OpResult] = []
    blocked = False
    for op in ops:
        if blocked:
            results.append(OpResult(op.id, NOT_PROCESSED))
            continue
        try:
            results.append(_run(store, device, op, **kwargs))
        except StoreUnavailable as exc:
            # Stop here to keep the device's order: later ops may depend on this one.
            retry_after = exc.fields.get("retry_after", RETRY_AFTER_S)
            results.append(OpResult(op.id, RETRY, {"retry_after": retry_after}))
            blocked = True
    return results


def push(store: Store, device: DeviceRef, request: PushRequest, *, now: dt.datetime,
         limits: Limits = DEFAULT_LIMITS) -> PushResponse:
    """Apply a batch of operations, each atomically and in order; return one result per operation.

    The batch is decided and written in one transaction (``sync.batch``); when that is not possible
    the operations are applied one by one, each in its own transaction, with the same results.
    """
    _check_device(device, request.device_id)
    if len(request.ops) > limits.max_push_ops:
        raise PayloadTooLarge(f"A push carries at most {limits.max_push_ops} operations; split the batch.",
                              **limits.to_wire())
    skew_s = clock_skew(request.sent_at, now)
    ops = list(request.ops)

    def epoch_checked() -> str:
        # A push without an epoch is checked against the epoch the device last synced with, as the server
        # remembers it: a restore is never skipped by leaving the field out. On a mismatch nothing is applied:
        # the device must first re-queue what the old database had acknowledged, so that a correction never
        # arrives before the create it is based on.
        epoch = store.epoch()
        state = store.device_state(str(device.id)) if request.epoch is None else None
        known = request.epoch if request.epoch is not None else (state.epoch if state else None)
        if known not in (None, epoch):
            raise EpochChanged("The server database was restored or replaced; re-push your sent archive.",
                               epoch=epoch)
        return epoch

    if store.locks_at_begin:
        with store.snapshot():
            epoch = epoch_checked()
            # Each operation's answers are checked, and the batch decided, in this same read snapshot (one
            # transaction less per push, and none of it inside the write lock).
            prepared, states = batch.prepare(store, ops)
            decision = batch.decide(store, device, prepared, now=now, skew_s=skew_s)
        applied = None if decision is None else batch.apply(store, device, decision, states, now=now,
                                                            skew_s=skew_s, epoch=epoch)
    else:  # the write lock waits for the counter step: the batch is decided in its write transaction
        epoch, applied = batch.decide_and_apply(store, device, ops, epoch_checked, now=now, skew_s=skew_s)
    results = applied.results if applied is not None else _one_by_one(store, device, request.ops, now=now,
                                                                      skew_s=skew_s, epoch=epoch)
    if not any(r.status in (CREATED, QUARANTINED, REJECTED) for r in results):
        try:
            with store.transaction():
                _note_ack(store, device, None, now=now, skew_s=skew_s, epoch=epoch)
        except (StoreUnavailable, WriteConflict):
            pass  # last-seen bookkeeping is advisory; the results above are what matters
    state = applied.device if applied is not None else None
    if state is None:  # the batch wrote no state (all duplicates, or one by one): read what is stored
        with store.snapshot():
            state = store.device_state(str(device.id))
    ack = {"op": state.last_op, "n": state.last_n} if state and state.last_op else None
    return PushResponse(epoch=epoch, server_time=format_time(now), results=tuple(results), skew_s=skew_s,
                        ack=ack)


def pull(store: Store, device: DeviceRef, request: PullRequest, *, now: dt.datetime,
         limits: Limits = DEFAULT_LIMITS) -> PullPage:
    """Return the next page of the device's buckets after its cursor, bounded by bytes."""
    _check_device(device, request.device_id)
    budget = min(request.max_bytes or limits.max_page_bytes, limits.max_page_bytes)
    budget = max(budget, limits.min_page_bytes)
    names = buckets_for(device)
    with store.snapshot():
        epoch = store.epoch()
        high = store.current_seq()
        cursor = request.cursor
        epoch_changed = cursor is not None and cursor.epoch != epoch
        known = {} if cursor is None or epoch_changed else dict(cursor.positions)
        removed = tuple(sorted(b for b in known if b not in names))
        positions: dict[str, int] = {}
        buckets: dict[str, BucketChanges] = {}
        has_more = False
        for name in names:
            after = known.get(name)
            # Unknown bucket, a cursor older than the tombstone horizon, or one from the future
            # (a restore that kept its epoch): re-send the whole bucket after a clear.
            reset = after is None or after < store.horizon(name) or after > high
            start = 0 if reset else after
            if budget <= 0:
                has_more = True
                if not reset:
                    positions[name] = after
                continue
            changes, more = store.changes_after(name, start, budget)
            budget -= sum(c.size for c in changes)
            has_more = has_more or more
            positions[name] = changes[-1].seq if more else max(high, start)
            if changes or reset:
                items = tuple(change_item(c.key, c.seq, c.data) for c in changes)
                buckets[name] = BucketChanges(changes=items, reset=reset)
    return PullPage(epoch=epoch, cursor=Cursor(epoch, positions).encode(), has_more=has_more, buckets=buckets,
                    server_time=format_time(now), removed=removed, epoch_changed=epoch_changed,
                    skew_s=clock_skew(request.sent_at, now))


def quarantined(store: Store, *, include_resolved: bool = False) -> list[QuarantineItem]:
    """Return the quarantined payloads a coordinator should look at."""
    with store.snapshot():
        return store.quarantined(include_resolved=include_resolved)


def conflicts(store: Store, *, include_resolved: bool = False) -> list[Conflict]:
    """Return the flagged conflicts a coordinator should look at."""
    with store.snapshot():
        return store.conflicts(include_resolved=include_resolved)


def revalidate_quarantined(store: Store, *, now: dt.datetime,
                           keys: list[str] | None = None) -> dict[str, str]:
    """Re-check quarantined payloads in arrival order; accept those now valid. Return key -> outcome."""
    outcomes: dict[str, str] = {}
    wanted = None if keys is None else set(keys)
    for item in quarantined(store):
        if (wanted is not None and item.key not in wanted) or item.reason not in submissions.FIXABLE_REASONS:
            continue
        with store.transaction():
            current = next((q for q in store.quarantined() if q.key == item.key), None)
            if current is None:
                continue  # resolved meanwhile by another coordinator
            # An instance quarantined for an unknown version had no form to be read against: read it now.
            op = read_instance(Operation.from_wire(json.loads(current.payload)), store)
            if op.problems or submissions.check(store, op):
                outcomes[item.key] = "still-quarantined"
                continue
            # The write lock, held to commit. On PostgreSQL a transaction takes it only here, so another
            # coordinator's acceptance of the item may have committed since the look-up above: look again.
            seq = store.next_seq()
            if not any(q.key == item.key for q in store.quarantined()):
                continue
            submissions.write(store, current.device_id, op, now=current.received_at, seq=seq, skew_s=None)
            store.resolve_quarantined(item.key, "accepted", now)
            outcomes[item.key] = "accepted"
    return outcomes


def dismiss_quarantined(store: Store, key: str, *, now: dt.datetime) -> None:
    """Mark a quarantined payload as dealt with, without accepting it (it stays stored); ``NotFound`` or
    ``AlreadyResolved`` otherwise."""
    with store.transaction():
        store.resolve_quarantined(key, "dismissed", now)


def resolve_conflict(store: Store, key: str, *, now: dt.datetime) -> None:
    """Mark a conflict as resolved by a coordinator (``NotFound``, ``AlreadyResolved`` otherwise)."""
    with store.transaction():
        store.resolve_conflict(key, now)


def sync(store: Store, device: DeviceRef, push_request: PushRequest, pull_request: PullRequest, *,
         now: dt.datetime, limits: Limits = DEFAULT_LIMITS) -> tuple[PushResponse, PullPage]:
    """Push then pull in one round trip (``POST /api/v1/sync`` with ``{"push": …, "pull": …}``)."""
    return (push(store, device, push_request, now=now, limits=limits),
            pull(store, device, pull_request, now=now, limits=limits))
