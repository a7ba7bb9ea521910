"""The review page's conflicts: both sides in words, and the decision (keep theirs, keep ours, merge)."""

from __future__ import annotations

import json

from flask import request

from server.api.access import page_access
from server.console import conflicts as console_conflicts
from server.console import exports
from server.console.scope import CONSOLE_ROLES
from server.extensions import db
from server.models import utcnow
from server.models.errors import ServerError
from server.sync.runtime import store
from server.web.console import bp
from server.web.console import current_scope
from server.web.console.pages import _form_of
from server.web.console.pages import _render
from server.web.i18n import current_language


def _labelled(form, differences: list[dict]) -> list[dict]:
    """Each differing answer with its question's label in the page's language, when the form has one."""
    language = current_language()
    for line in differences:
        name = next((part for part in reversed(line["pointer"].split("/")) if not part.isdigit()), "")
        try:
            line["label"] = exports.label_of(form.question(name), form, language) if form else ""
        except KeyError:
            line["label"] = ""
    return differences


def _page(key: str, status: int = 200, **context):
    found = console_conflicts.view(db.session, store(), current_scope(), key)
    kept = found.theirs.revision if not found.theirs.deleted else found.ours.revision
    form = _form_of(kept.form_id, kept.form_version)
    context.setdefault("merged", json.dumps(kept.answers or {}, ensure_ascii=False, indent=1))
    return _render("conflict.html", "review", status, view=found,
                   differences=_labelled(form, found.differences), **context)


@bp.get("/conflicts/<key>")
@page_access(*CONSOLE_ROLES)
def conflict(key: str):
    """One conflict: what each side says, where they differ, and the decision to make."""
    return _page(key)


@bp.post("/conflicts/<key>")
@page_access(*CONSOLE_ROLES)
def decide(key: str):
    """Keep theirs, keep ours, or merge by correcting the answers; with a note, audited."""
    action = request.form.get("action", "")
    answers = None
    if action == "merge":
        try:
            answers = json.loads(request.form.get("answers", ""))
        except ValueError:
            answers = None
    scope = current_scope()
    try:
        head = console_conflicts.resolve(db.session, store(), scope, key, action, actor=scope.user,
                                         now=utcnow(), note=request.form.get("note", ""), answers=answers)
    except ServerError as exc:
        db.session.rollback()
        if exc.code not in ("validation-failed", "conflict"):
            raise
        return _page(key, 422 if exc.code == "validation-failed" else 409, error=exc,
                     merged=request.form.get("answers") or None)
    db.session.commit()
    return _page(key, decided={"action": action, "head": head})
