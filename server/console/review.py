"""The review queue in the console: quarantined submissions with their reasons next to the answers they
concern, and conflicts; a coordinator revalidates, accepts or rejects with a note, or corrects the
answers (a new revision, the original payload kept). Every action is audited.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.console.places import find_value
from server.console.scope import Scope
from server.console.scope import visible_enumerators
from server.models import Device
from server.models import User
from server.models import audit
from server.models.errors import ServerError
from sync import engine
from sync import submissions
from sync.errors import AlreadyResolved
from sync.protocol import Operation
from sync.store import Store

ACTIONS = ("revalidate", "accept", "reject", "correct")
#: Reasons whose payload is a whole, well-formed submission that may be stored as it is.
ACCEPTABLE_REASONS = frozenset({"answers-invalid", "form-closed"})
_NOTE_MAX = 180


@dataclass
class Item:
    """A quarantined payload as the console shows it."""

    key: str
    device_id: str
    enumerator: str | None
    reason: str
    issues: list[dict]
    received_at: dt.datetime
    form_id: str | None
    form_version: str | None
    submission_id: str | None
    payload: dict
    district: str | None
    resolved_at: dt.datetime | None
    resolution: str | None

    @property
    def answers(self) -> dict | None:
        answers = self.payload.get("ans")
        return answers if isinstance(answers, dict) else None


def _payload(raw: bytes) -> dict:
    try:
        value = json.loads(raw)
    except ValueError:
        return {"undecodable": raw[:2000].decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"value": value}


def _owners(session: Session) -> dict[str, User]:
    return {str(d.id): d.user for d in session.query(Device).all()}


def items(session: Session, store: Store, scope: Scope, *, include_resolved: bool = False) -> list[Item]:
    """Quarantined payloads the scope may see: those naming one of its districts, or (naming none)
    sent by a device of one of its enumerators."""
    owners = _owners(session)
    managed = {u.id for u in visible_enumerators(session, scope)}
    found = []
    for item in engine.quarantined(store, include_resolved=include_resolved):
        payload = _payload(item.payload)
        district = find_value(payload.get("ans"), "district")
        district = None if district is None else str(district)
        owner = owners.get(item.device_id)
        if district is not None:
            if not scope.sees_district(district):
                continue
        elif not scope.is_admin and (owner is None or owner.id not in managed):
            continue
        found.append(Item(item.key, item.device_id, owner.username if owner else None, item.reason,
                          list(item.issues), item.received_at, item.form_id, item.form_version,
                          item.submission_id, payload, district, item.resolved_at, item.resolution))
    return found


def item(session: Session, store: Store, scope: Scope, key: str) -> Item:
    """One quarantined payload the scope may see, resolved or not; else ``not-found``."""
    for candidate in items(session, store, scope, include_resolved=True):
        if candidate.key == key:
            return candidate
    raise ServerError("not-found", f"No quarantined submission {key!r} in your districts.")


def in_language(message, language: str) -> str:
    """A reason's words in ``language``: validation messages are ``{"English (en)": ..., ...}``."""
    if not isinstance(message, dict):
        return str(message)
    for name, words in message.items():
        if name == language or name.endswith(f"({language})"):
            return str(words)
    return str(next(iter(message.values()), ""))


def answer_lines(answers, issues: list[dict], prefix: str = "", *, language: str = "vi") -> list[dict]:
    """The answers as rows ``{pointer, value, reasons}``, each issue beside the answer it points at
    (issues pointing at no answer come first, with pointer ``/``)."""
    by_pointer: dict[str, list[str]] = {}
    for issue in issues:
        reason = in_language(issue.get("message") or issue.get("code"), language)
        by_pointer.setdefault(issue.get("pointer") or "/", []).append(reason)
    lines: list[dict] = []

    def walk(value, pointer):
        if isinstance(value, dict):
            for name, child in value.items():
                walk(child, f"{pointer}/{name}")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, child in enumerate(value):
                walk(child, f"{pointer}/{index}")
        else:
            lines.append({"pointer": pointer, "value": value, "reasons": by_pointer.pop(pointer, [])})

    walk(answers if isinstance(answers, dict) else {}, prefix)
    loose = [{"pointer": p, "value": None, "reasons": r} for p, r in by_pointer.items()]
    return loose + lines


def decision_note(note: str) -> str:
    """A reviewer's note, required, on one line and bounded: the reason kept beside a decision."""
    note = " ".join((note or "").split())
    if not note:
        raise ServerError("validation-failed", "Write a note saying why.",
                          errors=[{"pointer": "/note", "detail": "required"}])
    return note[:_NOTE_MAX]


def act(session: Session, store: Store, scope: Scope, key: str, action: str, *, actor: User,
        now: dt.datetime, note: str = "", answers: dict | None = None) -> str:
    """Do ``action`` on a quarantined payload; return its outcome (``accepted``, ``still-quarantined``,
    ``rejected`` or ``corrected``). The caller commits the audit entry."""
    current = item(session, store, scope, key)
    # End this session's transaction: the store writes on its own connection, and on SQLite a
    # writing request's session holds the write lock from its first statement.
    session.commit()
    _refuse_resolved(current)
    if action == "revalidate":
        # no outcome: a reason no fix of the server's can cure (still held), or resolved meanwhile
        outcome = engine.revalidate_quarantined(store, now=now, keys=[key]).get(key)
    elif action == "reject":
        text = decision_note(note)
        outcome = "rejected" if _resolve(store, key, f"rejected: {text}", now) else None
    elif action == "accept":
        text = decision_note(note)
        if current.reason not in ACCEPTABLE_REASONS:
            raise ServerError("conflict", f"A payload held for {current.reason} cannot be stored as it is; "
                              "revalidate it after the fix, correct it, or reject it.")
        stored = _store_as(store, current, Operation.from_wire(current.payload), f"accepted: {text}", now)
        outcome = "accepted" if stored else None
    elif action == "correct":
        text = decision_note(note)
        outcome = _correct(store, current, answers, text, actor, now)
    else:
        raise ServerError("validation-failed", f"action must be one of {', '.join(ACTIONS)}.")
    if outcome is None:  # nothing written: refused if another coordinator resolved the item since
        _refuse_resolved(item(session, store, scope, key))
        outcome = "still-quarantined"
    audit(session, f"quarantine.{action}", "sync", key, user_id=actor.id, outcome=outcome,
          note=note or None, submission=current.submission_id)
    return outcome


def _refuse_resolved(found: Item) -> None:
    if found.resolved_at is not None:
        raise ServerError("conflict", f"{found.key!r} was already dealt with: {found.resolution}.")


def _resolve(store: Store, key: str, resolution: str, now: dt.datetime) -> bool:
    """Resolve the held item; False when another coordinator resolved it since."""
    try:
        with store.transaction():
            store.resolve_quarantined(key, resolution[:200], now)
    except AlreadyResolved:
        return False
    return True


def _store_as(store: Store, current: Item, op: Operation, resolution: str, now: dt.datetime) -> bool:
    """Store the held item as ``op`` and resolve it; False, writing nothing, when it was resolved since."""
    with store.transaction():
        # the write lock first: an acceptance another coordinator committed meanwhile is seen below
        seq = store.next_seq()
        if not any(q.key == current.key for q in store.quarantined()):
            return False
        submissions.write(store, current.device_id, op, now=current.received_at, seq=seq, skew_s=None)
        store.resolve_quarantined(current.key, resolution[:200], now)
    return True


def _correct(store: Store, current: Item, answers: dict | None, note: str, actor: User,
             now: dt.datetime) -> str | None:
    """Store the corrected answers; None when the item was resolved since (nothing written)."""
    if not isinstance(answers, dict):
        raise ServerError("validation-failed", "The corrected answers must be a JSON object.",
                          errors=[{"pointer": "/answers", "detail": "must be an object"}])
    if current.answers is None or current.payload.get("kind") not in ("create", "correct"):
        raise ServerError("conflict", "Only a held create or correction carries answers to correct.")
    wire = dict(current.payload)
    wire.update(id=f"console-{uuid.uuid4().hex}", ans=answers,
                note=f"Corrected in the console by {actor.username}: {note}"[:1000])
    op = Operation.from_wire(wire)
    with store.transaction():
        issues = submissions.check(store, op)
    if issues:
        raise ServerError("validation-failed", "The corrected answers are still not valid; see errors.",
                          errors=[{"pointer": i["pointer"], "detail": i["message"]} for i in issues])
    if not _store_as(store, current, op, f"corrected by {actor.username}: {note}", now):
        return None
    return "corrected"
