"""The console's boundaries page (admins): load a GeoJSON file for the report maps, or remove it."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from flask import current_app
from flask import request

from analysis.errors import AnalysisError
from server.api.access import page_access
from server.extensions import db
from server.models.errors import ServerError
from server.problems import status_of
from server.reports import boundaries as boundary_sets
from server.web.console import bp
from server.web.console.pages import _render
from server.web.console.pages import _user


@dataclass
class Outcome:
    """What a load or removal did: a message key, or a problem code with its detail and errors."""

    done: str | None = None
    code: str | None = None
    detail: str = ""
    errors: list[dict] = field(default_factory=list)


def _page(outcome: Outcome | None = None, status: int = 200):
    return _render("boundaries.html", "boundaries", status, loaded=boundary_sets.current_set(db.session),
                   outcome=outcome, max_mb=current_app.config["BOUNDARY_MAX_BYTES"] // (1024 * 1024))


@bp.get("/boundaries")
@page_access("admin")
def boundaries():
    """The boundaries in use (source, attribution, places not covered) and the form to load others."""
    return _page()


@bp.post("/boundaries")
@page_access("admin")
def load_boundaries():
    """Load the uploaded GeoJSON as the current boundaries, or show why it was refused."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(Outcome(code="validation-failed", detail="Choose a GeoJSON file."), 422)
    cap = current_app.config["BOUNDARY_MAX_BYTES"]
    # read one byte past the cap: enough to know it is too large without holding more
    data = upload.read(cap + 1)
    upload.close()
    try:
        boundary_sets.load(db.session, data, source_name=upload.filename, max_bytes=cap,
                           attribution=request.form.get("attribution", ""),
                           max_positions=current_app.config["BOUNDARY_MAX_POSITIONS"], user_id=_user().id)
    except (AnalysisError, ServerError) as exc:
        db.session.rollback()
        return _page(Outcome(code=exc.code, detail=exc.detail or "", errors=exc.errors), status_of(exc))
    db.session.commit()
    return _page(Outcome(done="c_b_loaded"))


@bp.post("/boundaries/clear")
@page_access("admin")
def clear_boundaries():
    """Remove the loaded boundaries: the report maps go back to tile maps."""
    boundary_sets.clear(db.session, user_id=_user().id)
    db.session.commit()
    return _page(Outcome(done="c_b_cleared"))
