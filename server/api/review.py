"""The coordinator's queue: quarantined submissions and conflicting corrections."""

from __future__ import annotations

import json

from flask import Blueprint
from flask import request
from marshmallow import Schema
from marshmallow import fields

from server.api.access import access
from server.api.access import current_principal
from server.api.body import json_body
from server.console import conflicts as console_conflicts
from server.console import review as console_review
from server.console.scope import scope_of
from server.extensions import db
from server.models import audit_read
from server.models import utcnow
from server.models.database import reading
from server.sync.runtime import store
from sync import engine

bp = Blueprint("review", __name__, url_prefix="/api/v1/sync")
STAFF = ("admin", "coordinator")


class RevalidateSchema(Schema):
    keys = fields.List(fields.String(), load_default=None)


def _payload(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return {"undecodable": raw[:2000].decode("utf-8", "replace")}


def _quarantined_item(item) -> dict:
    return {"key": item.key, "op_id": item.op_id, "device_id": item.device_id, "reason": item.reason,
            "issues": list(item.issues), "submission_id": item.submission_id, "form_id": item.form_id,
            "form_version": item.form_version, "received_at": item.received_at.isoformat(),
            "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
            "resolution": item.resolution, "payload": _payload(item.payload)}


def _record(action: str, target: str, **details) -> None:
    user_id = current_principal().user.id
    audit_read(db.session, action, "sync", target, user_id=user_id, **details)
    db.session.commit()


def _scope():
    return scope_of(db.session, current_principal().user)


def _looked_up(find):
    """``find()`` on the request's session, begun as a read and ended before the store writes on its own
    connection: on SQLite a writing request's transaction would hold the write lock the store waits for."""
    with reading():
        found = find()
        db.session.commit()
    return found


@bp.get("/quarantine")
@access(*STAFF)
def quarantine():
    """List quarantined submissions with their reasons and raw payloads (``?all=1`` adds resolved)."""
    items = engine.quarantined(store(), include_resolved=request.args.get("all") == "1")
    scope = _scope()
    visible = {item.key for item in console_review.items(db.session, store(), scope, include_resolved=True)}
    shown = [item for item in items if item.key in visible]
    _record("quarantine.read", "quarantine", items=len(shown))  # raw payloads: who read them is kept
    return {"items": [_quarantined_item(item) for item in shown]}


@bp.post("/quarantine/revalidate")
@access(*STAFF)
def revalidate():
    """Check quarantined submissions again (after a fix such as a corrected form); accept valid ones."""
    keys = RevalidateSchema().load(json_body())["keys"]
    # only the items this coordinator may see (all of them, or those named)
    visible = _looked_up(lambda: [item.key for item in console_review.items(db.session, store(), _scope())])
    keys = visible if keys is None else sorted(set(keys) & set(visible))
    outcomes = engine.revalidate_quarantined(store(), now=utcnow(), keys=keys)
    _record("quarantine.revalidate", "quarantine", outcomes=outcomes)
    return {"outcomes": outcomes}


@bp.post("/quarantine/<key>/dismiss")
@access(*STAFF)
def dismiss(key: str):
    """Mark a quarantined submission as dealt with without accepting it; it stays stored."""
    # not-found outside the coordinator's districts, as the listing
    _looked_up(lambda: console_review.item(db.session, store(), _scope(), key))
    engine.dismiss_quarantined(store(), key, now=utcnow())
    _record("quarantine.dismiss", key)
    return "", 204


@bp.get("/conflicts")
@access(*STAFF)
def conflicts():
    """List conflicting corrections (``?all=1`` adds resolved ones)."""
    items = console_conflicts.visible_conflicts(db.session, store(), _scope(),
                                                include_resolved=request.args.get("all") == "1")
    return {"conflicts": [{"key": c.key, "submission_id": c.submission_id, "kind": c.kind,
                           "revisions": list(c.revisions), "created_at": c.created_at.isoformat(),
                           "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None}
                          for c in items]}


@bp.post("/conflicts/<key>/resolve")
@access(*STAFF)
def resolve(key: str):
    """Mark a conflict as reviewed; the head stays the revision received last."""
    # not-found outside the coordinator's districts, as the listing
    _looked_up(lambda: console_conflicts.visible_conflict(db.session, store(), _scope(), key))
    engine.resolve_conflict(store(), key, now=utcnow())
    _record("conflict.resolve", key)
    return "", 204
