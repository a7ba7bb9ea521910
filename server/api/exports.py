"""Respondent-level exports of a scored form version (CSV or XLSX), de-identified by default."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import request
from flask import stream_with_context

from server.api.access import access
from server.api.access import current_principal
from server.api.body import attachment
from server.extensions import db
from server.forms import registry as form_registry
from server.models import audit_read
from server.problems import ApiError
from server.reports import exports
from server.reports.data import load_respondents

bp = Blueprint("exports", __name__, url_prefix="/api/v1/forms")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _table(form_id: str, version: str):
    row = form_registry.get_version(db.session, form_id, version)
    form = form_registry.load_form(row)
    if not form.scoring:
        raise ApiError("not-found", f"Form {form_id!r} has no scoring keys, so no respondent export.")
    identified = request.args.get("identified", "false").lower() in ("1", "true", "yes")
    frame = load_respondents(form_id, version)
    table = exports.labelled(frame, form, request.args.get("labels", "codes"), identified=identified)
    removed = exports.REMOVED_IDENTIFIED if identified else exports.REMOVED
    audit_read(db.session, "export.respondents", "form_version", f"{form_id}/{version}",
               user_id=current_principal().user.id, identified=identified, rows=len(table),
               format=request.path.rsplit(".", 1)[-1])
    db.session.commit()
    return table, {"Ferry-Removed": ", ".join(removed), "Ferry-Rows": str(len(table))}


def _disposition(form_id: str, version: str, suffix: str) -> str:
    return attachment(f"{form_id}-{version}-respondents.{suffix}")


@bp.get("/<form_id>/versions/<version>/export.csv")
@access("analyst", "coordinator", "admin")
def export_csv(form_id: str, version: str):
    """Stream one row per respondent as CSV (``?labels=codes|vi|en``, ``?identified=true``)."""
    table, headers = _table(form_id, version)
    headers["Content-Disposition"] = _disposition(form_id, version, "csv")
    return Response(stream_with_context(exports.csv_chunks(table)), mimetype="text/csv", headers=headers)


@bp.get("/<form_id>/versions/<version>/export.xlsx")
@access("analyst", "coordinator", "admin")
def export_xlsx(form_id: str, version: str):
    """Stream one row per respondent as an .xlsx workbook (same options as the CSV)."""
    table, headers = _table(form_id, version)
    path = exports.xlsx_file(table)
    headers["Content-Disposition"] = _disposition(form_id, version, "xlsx")
    return Response(exports.file_chunks(path), mimetype=XLSX, headers=headers)
