"""Conflicts in the console: two revisions of one submission made without seeing each other.

The sync engine flags them (``submission_conflicts``) with the two revisions' op ids: first the one
the server held when the second arrived (**ours**), then the one that arrived (**theirs**). For a
``concurrent-edit`` theirs became the head (the later receipt wins); for an ``edit-after-delete`` the
deletion (ours) stays the head. A coordinator reads both sides in words and decides, with a note:
keep theirs, keep ours, or merge by correcting the answers; when the side kept is not the head, a new
revision is written on top (the others stay in the history). Every decision is audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.console.records import enumerators_by_device
from server.console.records import revisions_of
from server.console.records import visible_ids
from server.console.review import decision_note
from server.console.scope import Scope
from server.models import SubmissionRevision
from server.models import User
from server.models import audit
from server.models.errors import ServerError
from sync import engine
from sync import submissions
from sync.protocol import Operation
from sync.store import Conflict
from sync.store import Store

ACTIONS = ("keep_theirs", "keep_ours", "merge")


@dataclass
class Side:
    """One side of a conflict: a revision and who sent it."""

    revision: SubmissionRevision
    enumerator: str | None

    @property
    def deleted(self) -> bool:
        return self.revision.kind == "delete"


@dataclass
class ConflictView:
    conflict: Conflict
    ours: Side
    theirs: Side
    head: str
    #: Answers that differ: ``{pointer, ours, theirs}``.
    differences: list[dict]


def _leaves(answers, prefix: str = "") -> dict:
    out = {}
    if isinstance(answers, dict):
        for name, value in answers.items():
            out.update(_leaves(value, f"{prefix}/{name}"))
    elif isinstance(answers, list) and answers and all(isinstance(v, dict) for v in answers):
        for index, value in enumerate(answers):
            out.update(_leaves(value, f"{prefix}/{index}"))
    else:
        out[prefix] = answers
    return out


def differences(ours: dict | None, theirs: dict | None) -> list[dict]:
    """The answers that differ between two revisions, by JSON pointer (a missing answer is None)."""
    left, right = _leaves(ours or {}), _leaves(theirs or {})
    return [{"pointer": p, "ours": left.get(p), "theirs": right.get(p)}
            for p in sorted(set(left) | set(right)) if left.get(p) != right.get(p)]


def visible_conflicts(session: Session, store: Store, scope: Scope, *,
                      include_resolved: bool = False) -> list[Conflict]:
    """Conflicts (unresolved only unless asked) of submissions the scope may see."""
    found = engine.conflicts(store, include_resolved=include_resolved)
    visible = visible_ids(session, scope, [c.submission_id for c in found])
    return [c for c in found if c.submission_id in visible]


def visible_conflict(session: Session, store: Store, scope: Scope, key: str) -> Conflict:
    """One conflict the scope may see, resolved or not; else ``not-found``."""
    found = next((c for c in engine.conflicts(store, include_resolved=True) if c.key == key), None)
    if found is None or not visible_ids(session, scope, [found.submission_id]):
        raise ServerError("not-found", f"No conflict {key!r} in your districts.")
    return found


def view(session: Session, store: Store, scope: Scope, key: str) -> ConflictView:
    """One conflict the scope may see (resolved or not), with both sides; else ``not-found``."""
    found = visible_conflict(session, store, scope, key)
    history = {r.op_id: r for r in revisions_of(session, found.submission_id)}
    owners = enumerators_by_device(session)
    ours, theirs = (history[op] for op in found.revisions)
    head = store_head(store, found.submission_id)
    return ConflictView(found, Side(ours, owners.get(ours.device_id)),
                        Side(theirs, owners.get(theirs.device_id)), head,
                        differences(ours.answers, theirs.answers))


def store_head(store: Store, submission_id: str) -> str:
    with store.snapshot():
        return store.submission(submission_id).head


def resolve(session: Session, store: Store, scope: Scope, key: str, action: str, *, actor: User,
            now: dt.datetime, note: str = "", answers: dict | None = None) -> str:
    """Decide a conflict; return the op id of the revision that is the head afterwards. The caller
    commits the audit entry."""
    if action not in ACTIONS:
        raise ServerError("validation-failed", f"action must be one of {', '.join(ACTIONS)}.",
                          errors=[{"pointer": "/action", "detail": "unknown action"}])
    current = view(session, store, scope, key)
    text = decision_note(note)
    if current.conflict.resolved_at is not None:
        raise ServerError("conflict", f"Conflict {key!r} was already decided.")
    # End this session's transaction: the store writes on its own connection (see review.act).
    session.commit()
    if action == "merge":
        if not isinstance(answers, dict):
            raise ServerError("validation-failed", "The merged answers must be a JSON object.",
                              errors=[{"pointer": "/answers", "detail": "must be an object"}])
        kept = current.theirs.revision if not current.theirs.deleted else current.ours.revision
        head = _write(store, current, kept, answers, f"Merged in the console by {actor.username}: {text}",
                      now)
    else:
        side = current.theirs if action == "keep_theirs" else current.ours
        if side.revision.op_id == current.head:
            engine.resolve_conflict(store, key, now=now)
            head = current.head
        elif side.deleted:
            raise ServerError("conflict", "The deletion is not the head any more; delete the submission "
                              "again from the device if it must go.")
        else:
            head = _write(store, current, side.revision, side.revision.answers,
                          f"Kept in the console by {actor.username}: {text}", now)
    audit(session, f"conflict.{action}", "submission", current.conflict.submission_id, user_id=actor.id,
          conflict=key, kind=current.conflict.kind, note=text, head=head)
    return head


def _write(store: Store, current: ConflictView, kept: SubmissionRevision, answers: dict, note: str,
           now: dt.datetime) -> str:
    """Write ``answers`` as a new revision on top of the head, then mark the conflict decided."""
    wire = {"id": f"console-{uuid.uuid4().hex}", "kind": "correct", "sub": current.conflict.submission_id,
            "base": current.head, "form": kept.form_id, "ver": kept.form_version, "ans": answers,
            "blobs": list(kept.blobs or []), "note": note[:1000]}
    op = Operation.from_wire(wire)
    with store.transaction():
        # The write lock first: a decision another coordinator committed meanwhile is seen below (and
        # resolving the conflict again fails, rolling this revision back).
        seq = store.next_seq()
        head = store.submission(op.submission_id)
        if head.head != current.head:
            raise ServerError("conflict", "The submission changed meanwhile; look at it again.")
        issues = submissions.check(store, op)
        if issues:
            raise ServerError("validation-failed", "These answers are not valid; see errors.",
                              errors=[{"pointer": i.get("pointer", "/"),
                                       "detail": str(i.get("message") or i.get("detail") or i.get("code"))}
                                      for i in issues])
        submissions.write(store, head.device_id, op, now=now, seq=seq, skew_s=None)
        store.resolve_conflict(current.conflict.key, now)
    return op.id
