"""What one operation does to the submissions: checks, revisions, conflicts, quarantine.

Every function here runs inside the caller's store transaction, except ``validate_answers``, which
the engine runs before taking the write lock (forms are written by people: a slow one must not hold
every other device's writes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from forms.errors import ValidationBudgetExceeded
from forms.expressions import time_budget
from sync.protocol import CHANGING_KINDS
from sync.protocol import Operation
from sync.store import AnalysisRow
from sync.store import Conflict
from sync.store import FormVersion
from sync.store import QuarantineItem
from sync.store import Revision
from sync.store import Store
from sync.store import SubmissionHead

# Reasons a coordinator can cure (publish the form version, fix the create) and then re-validate.
FIXABLE_REASONS = frozenset({
    "form-unknown", "form-draft", "form-closed", "answers-invalid", "submission-unknown", "base-unknown",
    "validation-timeout",
})
ACCEPTING_STATES = ("open", "closing")
#: Seconds one submission's answers may take to validate; past it the submission is quarantined.
VALIDATION_BUDGET_S = 2.0


def issue(code: str, pointer: str, message: str) -> dict:
    """Return one reason as sent to the device and kept with the quarantined payload."""
    return {"code": code, "pointer": pointer, "message": message}


def validate_answers(version, answers, budget_s: float = VALIDATION_BUDGET_S) -> list[dict]:
    """Return the issues of ``answers`` against a form version, within ``budget_s`` seconds."""
    try:
        with time_budget(budget_s):
            found = version.validate(answers)
    except ValidationBudgetExceeded as exc:
        return [issue("validation-timeout", "/ans", f"{exc.detail} The submission is kept for a coordinator; "
                      "the form's constraints need fixing.")]
    # Issue pointers point into the answers, as documented for answer validation.
    return [issue(i.code, i.pointer, i.message) for i in found]


def answers_checked(store: Store, op: Operation) -> list[dict] | None:
    """Validate ``op``'s answers in a read snapshot, before any write lock; None when not applicable."""
    if op.problems or op.kind not in ("create", "correct"):
        return None
    with store.snapshot():
        if store.find_op(op.id) is not None:
            return None  # a retry: the ledger answers it, nothing to validate
        version = store.form_version(op.form_id, op.form_version)
    return None if version is None else validate_answers(version, op.answers)


def form_issues(version: FormVersion | None, op: Operation, checked: list[dict] | None = None) -> list[dict]:
    """Return why ``op``'s answers cannot be accepted under ``version`` (its form version, or None);
    ``checked``: its answers' issues, found already outside the write lock."""
    if version is None:
        return [issue("form-unknown", "/ver", f"Form {op.form_id!r} has no version {op.form_version!r}.")]
    if version.state == "draft":
        return [issue("form-draft", "/ver", f"Version {op.form_version!r} is a draft, not yet published.")]
    if version.state not in ACCEPTING_STATES:
        return [issue("form-closed", "/ver", f"Version {op.form_version!r} no longer accepts data.")]
    # A version's content never changes once stored, so answers checked outside the lock still hold.
    return checked if checked is not None else validate_answers(version, op.answers)


def structural_issues(op: Operation, head: SubmissionHead | None, base_known: bool) -> list[dict]:
    """Return why ``op`` does not fit the stored submission (``head``; ``base_known``: its base is one of
    the submission's revisions); empty when it fits."""
    if op.kind == "create" and head is not None:
        # A second create of one id (a cloned phone, a client bug) must never overwrite the first.
        return [issue("submission-exists", "/sub", "A submission with this id is stored already.")]
    if op.kind in CHANGING_KINDS:
        if head is None:
            return [issue("submission-unknown", "/sub", "No submission with this id is stored.")]
        if not base_known:
            return [issue("base-unknown", "/base", "The base revision is not a revision of this submission.")]
    return []


def check(store: Store, op: Operation, checked: list[dict] | None = None) -> list[dict]:
    """Return why ``op`` cannot be applied now; empty when it can (``checked``: its answers' issues)."""
    head = store.submission(op.submission_id)
    base_known = head is not None and op.base in {r.op_id for r in store.revisions(head.id)}
    issues = structural_issues(op, head, base_known)
    if issues or op.kind not in ("create", "correct"):
        return issues
    return form_issues(store.form_version(op.form_id, op.form_version), op, checked)


def foreign(store: Store, op: Operation, device) -> dict | None:
    """A problem when ``op`` corrects or deletes a submission made on another enumerator's device, else None.

    A submission belongs to the device that created it and to the enumerator's other devices
    (``device.peers``); knowing its id is not enough to change it. Coordinators act through the API.
    """
    if op.kind not in CHANGING_KINDS:
        return None
    return trespass(store.submission(op.submission_id), device)


def trespass(head: SubmissionHead | None, device) -> dict | None:
    """The problem of changing ``head`` (a stored submission, or None) from ``device``, else None."""
    if head is None or head.device_id == str(device.id) or head.device_id in device.peers:
        return None
    return {"pointer": "/sub", "detail": "this submission was made on another enumerator's device"}


def reason_of(issues: list[dict]) -> str:
    """Return the quarantine reason of a list of issues: the structural one, else answers-invalid."""
    structural = {"submission-exists", "submission-unknown", "base-unknown", "form-unknown", "form-draft",
                  "form-closed", "validation-timeout"}
    for item in issues:
        if item["code"] in structural:
            return item["code"]
    return "answers-invalid"


def quarantine_item(device_id: str, op: Operation, reason: str, issues: list[dict], *, now: dt.datetime,
                    seq: int, key: str | None = None) -> QuarantineItem:
    """Return ``op`` kept whole for a coordinator, with its reasons."""
    return QuarantineItem(
        key=key or op.id, op_id=op.id, device_id=device_id, reason=reason, issues=tuple(issues),
        payload=op.payload, received_at=now, seq=seq, submission_id=op.submission_id,
        form_id=op.form_id, form_version=op.form_version,
    )


def quarantine(store: Store, device_id: str, op: Operation, reason: str, issues: list[dict], *,
               now: dt.datetime, seq: int, key: str | None = None) -> bool:
    """Keep ``op`` whole in quarantine with its reasons; return False if it was there already."""
    return store.quarantine(quarantine_item(device_id, op, reason, issues, now=now, seq=seq, key=key))


def analysis_row(store: Store, head: SubmissionHead, answers: dict | None) -> AnalysisRow | None:
    """Return the analysis row of a head whose head revision holds ``answers`` (None: no row)."""
    if head.deleted or answers is None:
        return None
    version = store.form_version(head.form_id, head.form_version)
    return row_of(head, None if version is None else version.analysis_values(answers))


def row_of(head: SubmissionHead, values: dict | None) -> AnalysisRow | None:
    """Return the analysis row of ``head`` holding ``values`` (None: no row, as for a deleted head)."""
    if head.deleted or values is None:
        return None
    return AnalysisRow(submission_id=head.id, form_id=head.form_id, form_version=head.form_version,
                       seq=head.seq, values=values)


@dataclass  # not frozen: made once per operation (see sync.protocol.Operation)
class Written:
    """What storing an operation as a revision changes: the revision, the head, a conflict flag."""

    revision: Revision
    head: SubmissionHead
    new: bool  # the head is inserted, not updated
    wins: bool  # the revision is the head revision now
    conflict: Conflict | None
    details: dict


def plan_write(op: Operation, head: SubmissionHead | None, device_id: str, *, now: dt.datetime, seq: int,
               skew_s: int | None) -> Written:
    """Return what storing ``op`` (``check`` passed) over the stored ``head`` writes."""
    details: dict = {"sub": op.submission_id}
    if op.kind == "create":
        number, wins, conflict = 1, True, None
        form_id, version = op.form_id, op.form_version
    else:
        number = head.revisions + 1
        form_id = op.form_id or head.form_id
        version = op.form_version or head.form_version
        wins, conflict = True, None
        if op.base != head.head:
            if head.deleted:
                # Never resurrect silently: the edit is kept but the tombstone stays the head.
                wins = False
                conflict = "edit-after-delete" if op.kind == "correct" else None
            else:
                # Made without seeing the head: the later receipt wins, both are kept, a human looks.
                conflict = "concurrent-edit"
        details["head"] = wins
    revision = Revision(
        op_id=op.id, submission_id=op.submission_id, number=number, device_id=device_id, kind=op.kind,
        base=op.base if op.kind != "create" else None, form_id=form_id, form_version=version,
        answers=op.answers if op.kind != "delete" else None, received_at=now, seq=seq,
        device_time=op.device_time, skew_s=skew_s, blobs=op.blobs, note=op.note,
    )
    if head is None:
        new_head = SubmissionHead(id=op.submission_id, form_id=form_id, form_version=version,
                                  device_id=device_id, head=op.id, revisions=1, deleted=False, seq=seq)
    elif wins:
        new_head = SubmissionHead(id=head.id, form_id=form_id, form_version=version, device_id=head.device_id,
                                  head=op.id, revisions=number, deleted=op.kind == "delete", seq=seq)
    else:
        new_head = SubmissionHead(id=head.id, form_id=head.form_id, form_version=head.form_version,
                                  device_id=head.device_id, head=head.head, revisions=number,
                                  deleted=head.deleted, seq=seq)
    flag = None
    if conflict:
        flag = Conflict(key=op.id, submission_id=op.submission_id, kind=conflict,
                        revisions=(head.head, op.id), seq=seq, created_at=now)
        details["conflict"] = conflict
    details["rev"] = number
    return Written(revision, new_head, head is None, wins, flag, details)


def write(store: Store, device_id: str, op: Operation, *, now: dt.datetime, seq: int,
          skew_s: int | None) -> dict:
    """Store ``op`` as a new revision (``check`` passed) with its analysis row; return the result details."""
    written = plan_write(op, store.submission(op.submission_id), device_id, now=now, seq=seq, skew_s=skew_s)
    store.insert_revision(written.revision)
    store.save_submission(written.head)
    if written.wins:
        store.save_analysis_row(written.head.id, analysis_row(store, written.head, op.answers))
    if written.conflict:
        store.add_conflict(written.conflict)
    details = dict(written.details)
    missing = store.missing_blobs(list(op.blobs)) if op.blobs else []
    if missing:
        details["missing_blobs"] = missing
    return details
