"""Forms and their versions: list, read (Ferry JSON, XForm, source .xlsx, attachments), upload, publish."""

from __future__ import annotations

import json

from flask import Blueprint
from flask import Response
from flask import request

from server.api.access import AUTHENTICATED
from server.api.access import access
from server.api.access import current_principal
from server.api.body import attachment
from server.api.body import json_body
from server.api.schemas import FormStateSchema
from server.api.schemas import FormVersionSchema
from server.extensions import db
from server.forms import registry as form_registry
from server.problems import ApiError
from sync.transport import deflate

bp = Blueprint("forms", __name__, url_prefix="/api/v1/forms")
_GZIP_FROM = 512

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VERSION_URL = "/<form_id>/versions/<version>"


def _audience() -> str:
    principal = current_principal()
    return "device" if principal.device is not None else principal.user.role


def _readable(form_id: str, version: str):
    row = form_registry.get_version(db.session, form_id, version)
    if not form_registry.can_see(_audience(), row):
        # Not 403: a draft's existence is not the caller's business.
        raise ApiError("not-found", f"No version {version!r} of form {form_id!r}.")
    return row


def _cached(body, content_hash: str, mimetype: str, **headers) -> Response:
    """Answer with an ETag from the content hash; versions never change, so 304 saves 2G bytes.

    Gzipped when the client accepts it (a form's JSON shrinks about sixfold): a new phone's first
    sync over 2G is mostly these downloads.
    """
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    response = Response(mimetype=mimetype, headers=headers)
    if len(data) >= _GZIP_FROM and "gzip" in request.headers.get("Accept-Encoding", ""):
        data = deflate(data)
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.set_data(data)
    response.set_etag(content_hash)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response.make_conditional(request)


@bp.get("")
@access(AUTHENTICATED)
def list_forms():
    """List the form versions the caller may see, newest first within each form."""
    versions = form_registry.visible_versions(db.session, _audience())
    return {"versions": FormVersionSchema(many=True).dump(versions)}


@bp.post("")
@access("admin", "coordinator")
def upload_form():
    """Upload an XLSForm (multipart field ``file``; choice CSVs in ``attachments``) as a draft.

    Different content for an existing draft of the same form and version is ``409 conflict`` unless
    the field ``replace`` is ``true``: an upload never replaces another form silently.
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError("validation-failed", "Send the XLSForm as the multipart field 'file'.",
                       errors=[{"pointer": "/file", "detail": "missing"}])
    attachments = {f.filename: f.read() for f in request.files.getlist("attachments") if f.filename}
    version, created = form_registry.import_xlsform(
        db.session, upload.read(), upload.filename, attachments, actor=current_principal().user,
        replace=request.form.get("replace", "").lower() in ("1", "true", "yes"))
    db.session.commit()
    return FormVersionSchema().dump(version), 201 if created else 200


@bp.get(VERSION_URL)
@access(AUTHENTICATED)
def get_version(form_id: str, version: str):
    """Return a version as Ferry JSON (the form model devices and the web form use)."""
    row = _readable(form_id, version)
    body = json.dumps(row.definition, ensure_ascii=False, separators=(",", ":"))
    return _cached(body, row.content_hash, "application/json")


@bp.get(VERSION_URL + "/xform")
@access(AUTHENTICATED)
def get_xform(form_id: str, version: str):
    """Return a version as XForm XML, for ODK Collect and Enketo."""
    row = _readable(form_id, version)
    return _cached(row.definition["xform"], row.content_hash, "application/xml")


@bp.get(VERSION_URL + "/source")
@access(AUTHENTICATED)
def get_source(form_id: str, version: str):
    """Return the XLSForm file the version was made from."""
    row = _readable(form_id, version)
    mimetype = XLSX if row.source_filename.lower().endswith(".xlsx") else "application/octet-stream"
    return _cached(row.source, row.content_hash, mimetype,
                   **{"Content-Disposition": attachment(row.source_filename)})


@bp.get(VERSION_URL + "/attachments/<filename>")
@access(AUTHENTICATED)
def get_attachment(form_id: str, version: str, filename: str):
    """Return a file the version reads (for example the commune list)."""
    row = _readable(form_id, version)
    for file in row.attachments:
        if file.filename == filename:
            mimetype = "text/csv" if filename.endswith(".csv") else "application/octet-stream"
            return _cached(file.content, file.sha256, mimetype)
    raise ApiError("not-found", f"Form {form_id!r} version {version!r} has no file {filename!r}.")


@bp.post(VERSION_URL + "/publish")
@access("admin", "coordinator")
def publish(form_id: str, version: str):
    """Open a draft version: devices receive it from now on."""
    row = form_registry.publish(db.session, form_id, version, actor=current_principal().user)
    db.session.commit()
    return FormVersionSchema().dump(row)


@bp.put(VERSION_URL + "/state")
@access("admin", "coordinator")
def change_state(form_id: str, version: str):
    """Move a version to another state (open → closing → closed)."""
    args = FormStateSchema().load(json_body())
    row = form_registry.set_state(db.session, form_id, version, args["state"],
                                  actor=current_principal().user)
    db.session.commit()
    return FormVersionSchema().dump(row)
