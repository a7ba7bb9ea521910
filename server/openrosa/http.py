"""The OpenRosa endpoints ODK Collect, KoboCollect and Enketo call, under an app user's server URL.

``/v1/key/<token>/projects/1`` + ``/formList``, ``/forms/<id>/form.xml?version=<v>``, ``…/manifest``,
``…/attachments/<file>`` (the version goes in the query: XLSForms may leave it empty), and
``/submission`` (HEAD 204, POST 201). Every answer carries the OpenRosa headers; every failure is an
OpenRosaResponse whose message Collect shows, with the HTTP status it acts on (403 for a bad token,
never 401, so Collect does not ask for a password).
"""

from __future__ import annotations

import io
import logging

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.http import http_date
from werkzeug.http import parse_options_header

from forms.errors import FormError
from server.api.access import PUBLIC
from server.api.access import access
from server.api.sync_edge import admitted
from server.extensions import db
from server.models import utcnow
from server.models.errors import ServerError
from server.openrosa import documents
from server.openrosa import service
from server.openrosa.service import OpenRosaError
from server.problems import ApiError
from server.problems import status_of
from server.sync.runtime import store
from sync.errors import SyncError
from sync.transport import deflate

log = logging.getLogger(__name__)

bp = Blueprint("openrosa", __name__, url_prefix="/v1/key/<token>/projects/<project_id>")
XML = "text/xml; charset=utf-8"
FORM = "/forms/<form_id>"


def _headers(response: Response) -> Response:
    response.headers["X-OpenRosa-Version"] = "1.0"
    response.headers["X-OpenRosa-Accept-Content-Length"] = str(service.ACCEPT_CONTENT_LENGTH)
    response.headers["Date"] = http_date(utcnow())
    return response


def _xml(body: bytes, status: int = 200, **headers) -> Response:
    return _headers(_maybe_gzip(Response(body, status=status, content_type=XML, headers=headers)))


def _maybe_gzip(response: Response) -> Response:
    """Gzip a download when the client accepts it (Collect's OkHttp does): XForms shrink about sixfold."""
    data = response.get_data()
    if len(data) >= 512 and "gzip" in request.headers.get("Accept-Encoding", ""):
        response.set_data(deflate(data))
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    return response


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    return _xml(documents.response(message, nature="error"), status, **(headers or {}))


@bp.errorhandler(OpenRosaError)
def _on_openrosa_error(exc: OpenRosaError):
    return _error(exc.status, exc.message, exc.headers)


@bp.errorhandler(ApiError)
def _on_api_error(exc: ApiError):
    db.session.rollback()
    return _error(exc.status, exc.detail, exc.headers)


@bp.errorhandler(FormError)
@bp.errorhandler(SyncError)
def _on_package_error(exc):
    db.session.rollback()
    return _error(status_of(exc), exc.detail)


@bp.errorhandler(HTTPException)
def _on_http_error(exc: HTTPException):
    db.session.rollback()
    if exc.code == 413:
        return _error(413, f"The upload is too large: send at most {service.ACCEPT_CONTENT_LENGTH} bytes "
                           "per request.")
    return _error(exc.code or 500, exc.description or exc.name)


@bp.errorhandler(Exception)
def _on_unexpected(exc: Exception):
    db.session.rollback()
    log.exception("OpenRosa request failed")
    return _error(500, "The server failed; nothing from this request was lost on the phone. Try again later.")


def _caller(token: str, project_id: str) -> service.Caller:
    return service.authenticate(db.session, token, project_id, now=utcnow())


def _url(endpoint: str, **values) -> str:
    return url_for(f"openrosa.{endpoint}", _external=True, **values)


@bp.get("/formList")
@access(PUBLIC)
def form_list(token: str, project_id: str):
    """The forms this phone may fill in: newest open version of each (``formID``, ``verbose`` honoured)."""
    caller = _caller(token, project_id)
    entries = []
    for version in service.listed_versions(db.session, caller, request.args.get("formID") or None):
        ids = {"token": token, "project_id": project_id, "form_id": version.form.form_id,
               "version": version.version}
        entries.append(documents.FormListEntry(
            form_id=version.form.form_id, name=version.title,
            version=version.version, md5=service.md5(service.xform_bytes(version)),
            download_url=_url("xform", **ids),
            manifest_url=_url("manifest", **ids) if version.attachments else None))
    verbose = request.args.get("verbose", "").lower() in ("true", "1", "yes")
    db.session.commit()
    return _xml(documents.form_list(entries, verbose=verbose))


@bp.get(FORM + "/form.xml")
@access(PUBLIC)
def xform(token: str, project_id: str, form_id: str):
    """The XForm, byte for byte what the form list's md5 was computed from."""
    row = service.downloadable(db.session, _caller(token, project_id), form_id, request.args.get("version"))
    body = service.xform_bytes(row)
    db.session.commit()
    response = _xml(body, ETag=f'"{service.md5(body)}"')
    return response.make_conditional(request)


@bp.get(FORM + "/manifest")
@access(PUBLIC)
def manifest(token: str, project_id: str, form_id: str):
    """The files the form reads (the place lists of ``select_one_from_file``), with their md5."""
    row = service.downloadable(db.session, _caller(token, project_id), form_id, request.args.get("version"))
    files = [documents.MediaFile(filename=a.filename, md5=service.md5(a.content),
                                 download_url=_url("media", token=token, project_id=project_id,
                                                   form_id=form_id, version=row.version, filename=a.filename))
             for a in row.attachments]
    db.session.commit()
    return _xml(documents.manifest(files))


@bp.get(FORM + "/attachments/<filename>")
@access(PUBLIC)
def media(token: str, project_id: str, form_id: str, filename: str):
    """One file of the manifest (ETag: its md5, so an unchanged file costs a 304)."""
    row = service.downloadable(db.session, _caller(token, project_id), form_id, request.args.get("version"))
    content, kind = service.media(row, filename)
    db.session.commit()
    response = _headers(_maybe_gzip(Response(content, content_type=kind,
                                              headers={"ETag": f'"{service.md5(content)}"'})))
    return response.make_conditional(request)


@bp.route("/submission", methods=["HEAD", "GET"])
@access(PUBLIC)
def submission_preflight(token: str, project_id: str):
    """204 with ``X-OpenRosa-Accept-Content-Length``: Collect checks this before each upload session."""
    _caller(token, project_id)
    return _headers(Response(status=204, content_type=XML))


def _multipart():
    """The form fields and files of the body, read whole and capped first (chunked bodies too).

    A body over ``MAX_CONTENT_LENGTH`` is refused with 413 before the multipart parser starts, so no
    half-parsed upload is left behind.
    """
    cap = current_app.config["MAX_CONTENT_LENGTH"]
    body = bytearray()
    while True:
        try:
            piece = request.stream.read(64 * 1024)
        except ServerError as exc:  # the request's own cap on a chunked body (server.problems.FerryRequest)
            if exc.code == "payload-too-large":
                raise RequestEntityTooLarge() from exc
            raise
        if not piece:
            break
        body.extend(piece)
        if len(body) > cap:
            raise RequestEntityTooLarge()
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if mimetype != "multipart/form-data":
        return MultiDict(), MultiDict()
    # Parts go to memory, not werkzeug's spooled temporary files: the whole body is in memory and capped
    # already, and a truncated body (which werkzeug's parser drops silently) would leave its half-written
    # temporary file open.
    parser = FormDataParser(max_content_length=cap, stream_factory=_in_memory)
    _, form, files = parser.parse(io.BytesIO(bytes(body)), mimetype, len(body), options)
    return form, files


def _in_memory(*_args, **_kwargs) -> io.BytesIO:
    return io.BytesIO()


@bp.post("/submission")
@access(PUBLIC)
def submission(token: str, project_id: str):
    """Receive an instance (``xml_submission_file``) and its files, possibly over several POSTs."""
    caller = _caller(token, project_id)
    with admitted():
        form, files = _multipart()
        try:
            part = files.get("xml_submission_file")
            if part is not None:
                xml = part.read()
            elif "xml_submission_file" in form:
                xml = form["xml_submission_file"].encode("utf-8")
            else:
                raise OpenRosaError(400, "The upload has no xml_submission_file part; nothing was stored.")
            uploads = [service.Upload(filename=(f.filename or name).rsplit("/", 1)[-1], data=f.read(),
                                      content_type=f.mimetype or "application/octet-stream")
                       for name, f in files.items(multi=True) if name != "xml_submission_file"]
        finally:
            # every part, not only the first of each name: parts sharing a name are each a spooled file
            for _, f in files.items(multi=True):
                f.close()
        receipt = service.submit(db.session, store(), caller, xml, uploads,
                                 collect_device_id=request.args.get("deviceID"),
                                 incomplete="*isIncomplete*" in form, now=utcnow())
    return _xml(documents.response(receipt.message), receipt.status_code,
                Location=request.base_url)
